"""Input update: the changes `packets collect --apply` accepted, written into the district's workbooks.

Each workbook is edited in place with openpyxl, so the staff's formatting, other sheets, extra columns and
notes stay; a dated copy of it is kept in the inputs folder's backups/ first; and it is written atomically
(the old file stays whole until the new one is on disk). A change to a school's own Tasks row changes that
row's cell. A change to a district-wide row (no School ID: it applies to every school) is never written
there: the school gets a row of its own, a copy of the district's row with its School ID, which overrides
the district's row for that school alone (as a school's own row always does).
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import openpyxl
from openpyxl.styles import Font
from openpyxl.utils import column_index_from_string, get_column_letter

from generator.findings import PacketsError
from generator.inputs.normalize import HEADER_SEARCH_ROWS, clean_text
from generator.inputs.read import WORKBOOK_SUFFIXES, sheet_csv
from generator.inputs.schema import GRID_PROGRESS, REVIEW_DECISIONS, TASKS, Sheet
from generator.model.collect import CHANGE, NEW_ROW_KEYS, Change
from generator.output.atomic import write_atomic
from generator.output.sheet_edit import SheetEditor, header_row

BACKUPS = "backups"
# The sheets a change may add a row to (a school with no row there yet), by name.
ADDED_SHEETS = {GRID_PROGRESS.name: GRID_PROGRESS, REVIEW_DECISIONS.name: REVIEW_DECISIONS}


@dataclass(frozen=True)
class Written:
    """One workbook the changes were written into."""

    path: Path
    backup: Path
    changed: int                   # cells changed in rows the schools already had
    added: int                     # rows added: a school's own copy of a district-wide row


def _load(path: Path):
    if (path.parent / f"~${path.name}").exists():
        raise PacketsError(f"{path} seems to be open in Excel (its lock file is there); nothing was written. "
                           f"Fix: save and close it, then run `packets collect --apply` again.")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise PacketsError(f"{path}: `packets collect --apply` writes .xlsx and .xlsm workbooks only; nothing was "
                           f"written. Fix: save it as .xlsx (Excel Workbook), or enter the changes listed by hand.")
    try:
        return openpyxl.load_workbook(io.BytesIO(path.read_bytes()), keep_vba=path.suffix.lower() == ".xlsm")
    except OSError as exc:
        raise PacketsError(f"{path}: cannot be read ({exc.strerror or exc}); nothing was written.") from None
    except Exception as exc:  # any reader failure is a problem with the file, reported as such
        raise PacketsError(f"{path}: cannot be read as a workbook ({type(exc).__name__}); nothing was "
                           f"written. Fix: open it in Excel and save it again as .xlsx.") from None


def _editor(ws, columns: dict[str, tuple[str, str]], spec: Sheet = TASKS) -> SheetEditor:
    """Return an editor of an input sheet (Tasks, Grid Progress) whose columns were found as the loader
    finds them (field -> column letter and header)."""
    headers = header_row(ws, *next(iter(columns.values())))
    filled = [c.row for row in ws.iter_rows(min_row=headers + 1) for c in row if c.value is not None]
    return SheetEditor(ws, spec, {k: column_index_from_string(col) for k, (col, _) in columns.items()},
                       headers, max(filled, default=headers) + 1)


def _header_columns(ws, spec: Sheet) -> dict[str, tuple[str, str]]:
    """Return a sheet's columns by field, from the first row naming its required columns."""
    for row in ws.iter_rows(max_row=HEADER_SEARCH_ROWS):
        found: dict[str, tuple[str, str]] = {}
        for cell in row:
            col = next((c for c in spec.columns if cell.value is not None and c.matches(cell.value)), None)
            if col is not None and col.key not in found:
                found[col.key] = (cell.column_letter, clean_text(cell.value))
        if all(c.key in found for c in spec.columns if c.required):
            return found
    return {}


def _data_sheet(wb, spec: Sheet) -> SheetEditor:
    """Return the workbook's sheet for `spec` (Grid Progress), added with its headers when it has none."""
    ws = next((w for w in wb.worksheets if w.title.casefold() == spec.name.casefold()), None)
    if ws is None:
        ws = wb.create_sheet(spec.name)
        for j, col in enumerate(spec.columns, start=1):
            ws.cell(row=1, column=j, value=col.name).font = Font(bold=True)
            ws.column_dimensions[get_column_letter(j)].width = 40 if col.key == "key_activity" else 16
    columns = _header_columns(ws, spec)
    if not columns:
        raise PacketsError(f"The {spec.name} sheet has no header row naming "
                           f"{', '.join(c.name for c in spec.columns if c.required)}; nothing was written. Fix: put "
                           f"the headers back, or rename the sheet.")
    return _editor(ws, columns, spec)


def _workbook_for(inputs: Path, spec: Sheet) -> str:
    """Return the file name of the workbook a sheet's new rows go into (its CSV file is refused)."""
    csv_path = sheet_csv(Path(inputs), spec)
    if csv_path is not None:
        raise PacketsError(f"{csv_path}: the {spec.name} sheet is kept as a CSV file, which "
                           f"`packets collect --apply` does not write; nothing was written. Fix: enter the changes "
                           f"listed by hand, or keep the sheet in {spec.workbook}.xlsx.")
    for suffix in WORKBOOK_SUFFIXES:
        if (Path(inputs) / f"{spec.workbook}{suffix}").is_file():
            return f"{spec.workbook}{suffix}"
    raise PacketsError(f"No {spec.workbook}.xlsx in {inputs}; nothing was written.")


def backup_path(path: Path, when: dt.datetime) -> Path:
    """Return where a workbook's copy is kept before `packets collect --apply` changes it:
    backups/timeline-2026-12-06-194916.xlsx beside it (a second one the same second gets -2, -3, ...)."""
    folder = path.parent / BACKUPS
    stem = f"{path.stem}-{when:%Y-%m-%d-%H%M%S}"
    candidate = folder / f"{stem}{path.suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{n}{path.suffix}"
        n += 1
    return candidate


def apply_changes(inputs: Path, changes: Iterable[Change], when: dt.datetime | None = None) -> list[Written]:
    """Write the changes (those of kind CHANGE) into the workbooks their Tasks rows are in; return what was
    written. Every workbook is read and checked before the first is written."""
    when = when or dt.datetime.now()
    accepted = [c for c in changes if c.kind == CHANGE and (c.source is not None or c.sheet in NEW_ROW_KEYS)]
    by_file: dict[str, list[Change]] = {}
    for c in accepted:
        by_file.setdefault(c.source.file if c.source else _workbook_for(inputs, ADDED_SHEETS[c.sheet]), []).append(c)
    staged = []
    for file, found in by_file.items():
        path = Path(inputs) / file
        if path.suffix.lower() == ".csv":
            raise PacketsError(f"{path}: the sheet is kept as a CSV file, which `packets collect --apply` does not "
                               f"write; nothing was written. Fix: enter the changes listed by hand, or keep the "
                               f"sheet in its workbook.")
        wb = _load(path)
        changed = added = 0
        sheets: dict[str, SheetEditor] = {}
        copies: dict[tuple, int] = {}
        for c in found:
            src = c.source
            if src is None:                 # a Grid Progress or Review Decisions row the school has none of yet
                sheet = sheets.setdefault(c.sheet, _data_sheet(wb, ADDED_SHEETS[c.sheet]))
                made: tuple = (c.sheet, c.school_id, *c.task)
                if made not in copies:
                    copies[made] = sheet.append({"school_id": c.school_id, **dict(zip(NEW_ROW_KEYS[c.sheet], c.task))})
                    added += 1
                sheet.set(copies[made], c.key, c.returned)
                continue
            assert src.row is not None
            if src.sheet not in wb.sheetnames:
                raise PacketsError(f"{path} has no sheet {src.sheet} any more; nothing was written. Fix: run "
                                   f"`packets collect` again.")
            spec = ADDED_SHEETS.get(c.sheet, TASKS)
            sheet = sheets.setdefault(src.sheet, _editor(wb[src.sheet], dict(src.columns), spec))
            row = src.row
            if c.district_wide:
                made = (src.sheet, src.row, c.school_id)
                if made not in copies:
                    copies[made] = sheet.copy_row(src.row, c.school_id)
                    added += 1
                row = copies[made]
            else:
                changed += 1
            sheet.set(row, c.key, c.returned)
        for sheet in sheets.values():
            sheet.finish()
        buffer = io.BytesIO()
        wb.save(buffer)
        staged.append((path, buffer.getvalue(), changed, added))
    written = []
    for path, data, changed, added in staged:
        backup = backup_path(path, when)
        backup.parent.mkdir(exist_ok=True)
        shutil.copy2(path, backup)
        write_atomic(path, data)
        written.append(Written(path, backup, changed, added))
    return written
