"""One workbook's sheets (or their CSV files) loaded and normalized in one call: a call another process
can make (pipeline/district.py reads the largest workbook while a second process reads the others), so
this module imports only the readers."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from generator.collector import collector_paused
from generator.findings import Finding
from generator.inputs import cache as stored
from generator.inputs.normalize import Table, normalize_sheet
from generator.inputs.read import load_inputs
from generator.inputs.schema import Sheet
from generator.inputs.validate import plan_checks


@dataclass(frozen=True)
class WorkbookRead:
    """A workbook's sheets as tables, with what loading them and normalizing them found, each in order."""

    tables: dict[str, Table]
    loading: list[Finding]
    normalizing: list[Finding]
    specs: tuple[Sheet, ...] = ()
    key: str | None = None          # read from its file, to be kept under this key (keep_workbooks)
    digests: stored.Digests | None = None      # taken from the cache: its rows' group_digests
    checked: list[Finding] | None = None       # its plan sheets' checks (validate.plan_checks), to keep or as kept
    # Taken from the cache without its rows (read_workbook_sheets' `apart`): a school's tables, read when asked.
    school_rows: stored.SchoolRows | None = None


@collector_paused()
def read_workbook_sheets(folder: Path, specs: tuple[Sheet, ...], cache: Path | None = None,
                         apart: bool = False) -> WorkbookRead:
    """Return the sheets of `specs` (one workbook's, in the schema's order) loaded from `folder` and
    normalized. With a cache folder, as kept there when the workbook has not changed since (inputs/cache.py);
    otherwise read, with the key keep_workbooks keeps it under for the next build. With `apart`, a kept
    workbook whose checks were kept with it is loaded without its rows: its tables are empty, and
    school_rows reads a school's."""
    key = stored.workbook_key(folder, specs) if cache is not None else None
    if cache is not None and key is not None:
        kept = stored.load(cache, specs, key, rows=not apart)
        if kept is not None and apart and kept.checked is not None:
            return _apart(kept, cache, specs, key)
        if apart and kept is not None:
            kept = stored.load(cache, specs, key)          # kept before its checks were: loaded whole
        if kept is not None:
            return WorkbookRead(kept.tables, kept.loading, kept.normalizing, specs, digests=kept.digests)
    return replace(_read(folder, specs), key=key)


@collector_paused()
def read_apart(folder: Path, specs: tuple[Sheet, ...], scratch: Path) -> WorkbookRead:
    """Return the plan sheets' workbook read from its file and kept in `scratch` for the run, without its
    rows, as read_workbook_sheets' `apart` loads it: a first build's other process reads it so, and the main
    process never holds the district's plans. Returned with its rows when it cannot be kept there (a sheet
    of it read from a CSV file of its own, the file saved again while it was read, a full disk)."""
    key = stored.workbook_key(folder, specs)
    read = replace(_read(folder, specs), key=key)
    read = replace(read, checked=plan_checks(read.tables, set()))
    if key is None or key != stored.workbook_key(folder, specs):
        return read
    stored.store(scratch, specs, key, read.tables, read.loading, read.normalizing, read.checked)
    kept = stored.load(scratch, specs, key, rows=False)
    return read if kept is None or kept.checked is None else _apart(kept, scratch, specs, key)


def _apart(kept: stored.Kept, cache: Path, specs: tuple[Sheet, ...], key: str) -> WorkbookRead:
    return WorkbookRead({}, kept.loading, kept.normalizing, specs, digests=kept.digests, checked=kept.checked,
                        school_rows=stored.SchoolRows(cache, specs, key, kept.tables))


@collector_paused()          # called with the district loaded: a full collection would walk all of it
def keep_workbooks(folder: Path, cache: Path, reads: Iterable[WorkbookRead]) -> stored.Digests | None:
    """Keep in the cache each workbook read from its file, for the next build, and return the group_digests
    of them all (None when some value cannot be told so). Called only once a build has found nothing that
    stops it, so a refused build writes nothing at all. A workbook saved again while it was being read is
    not kept: what was read may be neither version."""
    digests: stored.Digests | None = {}
    for read in reads:
        if read.key is not None and read.key == stored.workbook_key(folder, read.specs):
            found = stored.store(cache, read.specs, read.key, read.tables, read.loading, read.normalizing,
                                 read.checked)
        else:
            found = stored.group_digests(read.tables)
        digests = None if found is None or digests is None else {**digests, **found}
    return digests


def is_kept(folder: Path, specs: tuple[Sheet, ...], cache: Path | None) -> bool:
    """Return True when read_workbook_sheets would take the workbook from the cache, not read it."""
    if cache is None:
        return False
    key = stored.workbook_key(folder, specs)
    return key is not None and stored.holds(cache, specs, key)


def _read(folder: Path, specs: tuple[Sheet, ...]) -> WorkbookRead:
    raw, loading = load_inputs(folder, specs)
    tables: dict[str, Table] = {}
    normalizing: list[Finding] = []
    for spec in specs:
        if spec.name in raw:
            # Each sheet as read is let go once normalized, not held while the rest are.
            tables[spec.name], found = normalize_sheet(raw.pop(spec.name), spec)
            normalizing += found
    return WorkbookRead(tables, loading, normalizing, specs)
