"""One workbook's sheets (or their CSV files) loaded and normalized in one call: a call another process
can make (pipeline/district.py reads the largest workbook while a second process reads the others), so
this module imports only the readers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.collector import collector_paused
from generator.findings import Finding
from generator.inputs.normalize import Table, normalize_sheet
from generator.inputs.read import load_inputs
from generator.inputs.schema import Sheet


@dataclass(frozen=True)
class WorkbookRead:
    """A workbook's sheets as tables, with what loading them and normalizing them found, each in order."""

    tables: dict[str, Table]
    loading: list[Finding]
    normalizing: list[Finding]


@collector_paused()
def read_workbook_sheets(folder: Path, specs: tuple[Sheet, ...]) -> WorkbookRead:
    """Return the sheets of `specs` (one workbook's, in the schema's order) loaded from `folder` and
    normalized."""
    raw, loading = load_inputs(folder, specs)
    tables: dict[str, Table] = {}
    normalizing: list[Finding] = []
    for spec in specs:
        if spec.name in raw:
            # Each sheet as read is let go once normalized, not held while the rest are.
            tables[spec.name], found = normalize_sheet(raw.pop(spec.name), spec)
            normalizing += found
    return WorkbookRead(tables, loading, normalizing)
