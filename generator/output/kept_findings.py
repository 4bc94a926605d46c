"""Each school's readiness findings, kept beside the packets under the inputs digest they were found for,
so that a rebuild does not check again the schools whose inputs are as they were.

A school's inputs digest (build_record.inputs_digests) covers its rows, the district-wide rows, the
settings (the day overdue is judged by among them), the templates and the code that reads, models and
checks a packet: findings kept under the digest a school has now are the findings checking it would give.
At 5,000 schools, checking every unchanged school again took 0.5 s of a one-school edit.

The store is output/.packets-cache/findings.sqlite, written like the workbooks' stores (inputs/cache.py):
whole, then moved into place, values MessagePack. It is only ever a cache: a school it does not hold
under its digest now, or a store that cannot be read, is checked again."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Collection, Mapping, Sequence

import msgpack

from generator.findings import Finding
from generator.inputs.cache import open_store, write_store

FINDINGS_STORE = "findings.sqlite"


def load(cache: Path, inputs: Mapping[str, str]) -> dict[str, tuple[Finding, ...]]:
    """Return the kept findings of each school whose inputs digest (`inputs`, by School ID) is the one they
    were kept under."""
    path = Path(cache) / FINDINGS_STORE
    if not inputs or not path.is_file():
        return {}
    found = {}
    try:
        with closing(open_store(path)) as db:
            for school, digest, body in db.execute("SELECT school, inputs, findings FROM findings"):
                if inputs.get(school) == digest:
                    found[school] = tuple(Finding(*f) for f in msgpack.unpackb(body))
    except Exception:       # a damaged or foreign store is no store: the schools are checked again
        return {}
    return found


def keep(cache: Path, findings: Mapping[str, tuple[str, Sequence[Finding]]], school_ids: Collection[str]) -> None:
    """Keep each school's findings (`findings`: School ID -> its inputs digest and findings), with what was
    kept before of the other schools on the roster (`school_ids`); a school no longer on it is dropped.
    A store that cannot be written is left out: the next build checks those schools again."""
    path = Path(cache) / FINDINGS_STORE
    earlier: list[tuple[str, str, bytes]] = []
    if path.is_file():
        try:
            with closing(open_store(path)) as db:
                earlier = db.execute("SELECT school, inputs, findings FROM findings").fetchall()
        except sqlite3.Error:
            earlier = []
    on_roster = set(school_ids)
    kept = {row[0]: row for row in earlier}
    # A school kept under the digest it has now keeps its row as it is: the digest says its findings are
    # the same, and packing every school's again took 0.25 s of a one-school edit at 5,000.
    rows = [kept[school] if school in kept and kept[school][1] == digest
            else (school, digest, msgpack.packb([dataclasses.astuple(f) for f in found]))
            for school, (digest, found) in findings.items()]
    rows += [row for row in earlier if row[0] in on_roster and row[0] not in findings]

    def fill(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE findings (school TEXT, inputs TEXT, findings BLOB)")
        db.executemany("INSERT INTO findings VALUES (?, ?, ?)", rows)
    try:
        write_store(path, fill)
    except (OSError, sqlite3.Error, TypeError, ValueError, OverflowError):
        pass
