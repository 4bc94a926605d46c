"""Import a state school directory as a roster workbook (`roster.xlsx`: sheets Schools and People).

Two public directories are understood, recognised by their headers (never by the file name):

* the California Department of Education public schools directory ("pubschls"): one row per
  school, district and county office, keyed by the 14-digit CDSCode, with status, grades, address
  and up to three administrators;
* the Illinois State Board of Education RCDTS directory: one row per district, school and other
  entity, keyed by the 15-character RCDTS code (region, county, district, type, school).

Either may be an .xlsx workbook or a CSV (or tab-separated) text file. Plain data in, plain data
out: `read_directory` returns the rows and an `ImportReport`; `write_roster` writes the workbook.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from generator.findings import PacketsError
from generator.inputs.directory import ImportReport, read_directory
from generator.inputs.schema import PEOPLE, SCHOOLS
from generator.output.atomic import write_atomic

_MAX_WIDTH = 60
_FORMULA_STARTS = ("=", "+", "-", "@")


# ---------------------------------------------------------------------------------------------
# Writing the roster


def _cell_value(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _write_sheet(ws, spec, rows: list[dict]) -> None:
    columns = spec.columns
    ws.append([c.name for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [len(c.name) for c in columns]
    for row in rows:
        ws.append([_cell_value(row.get(c.name)) for c in columns])
        for j, c in enumerate(columns):
            value = row.get(c.name)
            if value is not None:
                widths[j] = max(widths[j], max(len(line) for line in str(value).split("\n")) if str(value) else 0)
    for j, c in enumerate(columns, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = min(widths[j - 1] + 2, _MAX_WIDTH)
        for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
            if c.kind == "id":
                cell.number_format = "@"          # ids stay text if someone retypes them in Excel
            elif c.kind == "date" and isinstance(cell.value, (dt.date, dt.datetime)):
                cell.number_format = "yyyy-mm-dd"
            if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_STARTS):
                cell.data_type = "s"              # a name starting with = stays text, never a formula
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def roster_bytes(schools: list[dict], people: list[dict]) -> bytes:
    """Return a roster workbook (sheets Schools and People, schema headers) as .xlsx bytes."""
    wb = openpyxl.Workbook()
    _write_sheet(wb.active, SCHOOLS, schools)
    wb.active.title = SCHOOLS.name
    _write_sheet(wb.create_sheet(PEOPLE.name), PEOPLE, people)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_roster(schools: list[dict], people: list[dict], path: Path) -> None:
    """Write the roster workbook to `path` atomically: readers see the old file or the whole new one."""
    write_atomic(Path(path), roster_bytes(schools, people))


def import_directory(directory_file: Path, target: Path, district: str | None = None,
                     overwrite: bool = False) -> ImportReport:
    """Write the roster workbook `target` from a state directory file (only `district`'s schools, when
    given) and return what the import found. An existing roster is replaced only with `overwrite`."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise PacketsError(f"{target} exists. Fix: choose another --output, or pass --force to replace it.")
    schools, people, report = read_directory(Path(directory_file), district)
    write_roster(schools, people, target)
    return report
