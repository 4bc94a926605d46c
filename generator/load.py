"""Load: input files to raw DataFrames of text and values, one per schema sheet; nothing is interpreted yet."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from .findings import ERROR, NOTE, WARNING, Finding
from .schema import SHEETS, Sheet, header_key

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods")
CSV_ENCODINGS = ("utf-8-sig", "cp1252")


@dataclass(frozen=True)
class RawSheet:
    """A sheet as read: every cell as a Python value, no header chosen; frame row i is Excel row i + 1."""

    file: str
    sheet: str
    frame: pd.DataFrame


def _read_csv(path: Path) -> pd.DataFrame:
    last_error: Exception | None = None
    for encoding in CSV_ENCODINGS:
        try:
            return pd.read_csv(path, header=None, dtype=str, keep_default_na=False,
                               skip_blank_lines=False, encoding=encoding)
        except UnicodeDecodeError as exc:
            last_error = exc
    raise last_error  # type: ignore[misc]


def _unreadable(exc: Exception) -> str:
    """Return one plain sentence for why a file could not be opened."""
    if isinstance(exc, PermissionError):
        return "Cannot be opened: it is locked or you lack permission. Close it in Excel and try again."
    if isinstance(exc, pd.errors.EmptyDataError):
        return "The file is empty."
    if isinstance(exc, UnicodeDecodeError):
        return "The CSV file's text encoding is not UTF-8 or Windows-1252. Save it again as CSV UTF-8."
    return ("Not a readable workbook: it may be corrupt, password-protected, or another kind of file renamed. "
            "Open it in Excel and save it again as .xlsx without a password.")


def _workbook_path(folder: Path, stem: str) -> Path | None:
    for suffix in WORKBOOK_SUFFIXES:
        path = folder / f"{stem}{suffix}"
        if path.is_file() and not path.name.startswith("~$"):
            return path
    return None


@dataclass
class _Workbook:
    file: str = ""
    frames: dict[str, pd.DataFrame] | None = None   # None: missing or unreadable
    failed: bool = False


def _filled_frame(rows: list[list], merged: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    """Return rows of cell values as a DataFrame (row i is Excel row i + 1), merged cells filled.

    A cell merged down over several rows (a stage name spanning its tasks, a header spanning two
    header rows) counts for each of those rows, as a reader of the sheet sees it; a cell merged
    across columns counts once, in its first column, so it cannot leak into a neighbouring field.
    Merged ranges are (first row, first column, last row, last column), numbered from 1.
    """
    for min_row, min_col, max_row, _ in merged:
        value = rows[min_row - 1][min_col - 1] if min_row <= len(rows) else None
        for r in range(min_row, min(max_row, len(rows)) + 1):
            rows[r - 1][min_col - 1] = value
    # Trailing empty rows and columns are left out: readers differ on them (a formula with no value,
    # a formatted but empty cell), and they hold nothing.
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    width = 0
    for row in rows:                        # each row is read from its end, only as far as the widest so far
        for i in range(len(row) - 1, width - 1, -1):
            if row[i] is not None:
                width = i + 1
                break
    return pd.DataFrame([row if len(row) == width else row[:width] for row in rows], dtype=object)


def sheet_frame(ws) -> pd.DataFrame:
    """Return an openpyxl worksheet as a DataFrame of cell values, merged cells filled (_filled_frame)."""
    return _filled_frame([list(r) for r in ws.iter_rows(values_only=True)],
                         [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges])


def _hidden_notes(path: Path, ws) -> list[Finding]:
    notes = []
    if ws.sheet_state != "visible":
        notes.append(_hidden_sheet(path, ws.title))
    hidden = [r for r, dim in ws.row_dimensions.items() if dim.hidden and r <= ws.max_row]
    if hidden:
        shown = ", ".join(str(r) for r in hidden[:10]) + (", ..." if len(hidden) > 10 else "")
        notes.append(Finding(NOTE, f"Rows {shown} are hidden in Excel; they are read like the others.",
                             file=path.name, sheet=ws.title))
    return notes


def _hidden_sheet(path: Path, sheet: str) -> Finding:
    return Finding(NOTE, "This sheet is hidden in Excel; it is read like any other.", file=path.name, sheet=sheet)


# A row start tag marked hidden, in any sheet of the package (any namespace prefix, any attribute order).
_HIDDEN_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*\bhidden=\"(?:1|true)\"")


def _has_hidden_rows(path: Path) -> bool:
    with zipfile.ZipFile(path) as z:
        sheets = (z.read(name) for name in z.namelist() if name.startswith("xl/worksheets/") and name.endswith(".xml"))
        # The plain search first: most sheets hide nothing, and it is far quicker than the pattern.
        return any(b"hidden=" in xml and _HIDDEN_ROW.search(xml) for xml in sheets)


def _calamine_value(value):
    """Return a value as openpyxl reads it, so both readers give the same frames: empty cells None,
    whole numbers int, dates as datetimes."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if type(value) is dt.date:
        return dt.datetime.combine(value, dt.time())
    return value


def _read_calamine(path: Path) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Read with calamine (compiled, an order of magnitude faster than openpyxl on large rosters)."""
    book = CalamineWorkbook.from_path(str(path))
    frames, notes, texts = {}, [], {}
    for meta in book.sheets_metadata:
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue
        sheet = book.get_sheet_by_name(meta.name)
        # Most cells are text, kept as they are without a call each; a text met before is the same
        # object (roles, stages, task names repeat from school to school), held once for the whole run.
        rows = [[texts.setdefault(v, v) if v.__class__ is str and v else _calamine_value(v) for v in row]
                for row in sheet.to_python(skip_empty_area=False)]
        merged = [(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or ()]
        last = max((m[2] for m in merged), default=0)    # openpyxl's rows reach to the end of merged cells
        rows += [[None] * len(rows[0] if rows else [None]) for _ in range(last - len(rows))]
        frames[meta.name] = _filled_frame(rows, merged)
        if meta.visible != SheetVisibleEnum.Visible:
            notes.append(_hidden_sheet(path, meta.name))
    return frames, notes


def read_workbook(path: Path) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Return every sheet of an .xlsx, .xlsm or .ods workbook as a DataFrame, and notes about it.

    Formulas count as the values Excel last calculated for them. Workbooks with hidden rows are
    read with openpyxl, which can say which rows are hidden; the rest with calamine, which is faster.
    """
    if path.suffix.lower() == ".ods":
        return pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="odf"), []
    if not _has_hidden_rows(path):
        return _read_calamine(path)
    return read_workbook_openpyxl(path)


def read_workbook_openpyxl(path: Path) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    book = openpyxl.load_workbook(path, data_only=True)
    notes = [n for ws in book.worksheets for n in _hidden_notes(path, ws)]
    return {ws.title: sheet_frame(ws) for ws in book.worksheets}, notes


def _open_workbook(folder: Path, stem: str, findings: list[Finding]) -> _Workbook:
    path = _workbook_path(folder, stem)
    if path is None:
        return _Workbook()
    if (folder / f"~${path.name}").exists():
        findings.append(Finding(WARNING, "The workbook seems to be open in Excel (its lock file is present); "
                                         "changes not yet saved are not read.", file=path.name,
                                fix="Save the workbook (or close it) and run again."))
    try:
        frames, notes = read_workbook(path)
    except Exception as exc:  # any reader failure is a problem with the file, reported as such
        findings.append(Finding(ERROR, _unreadable(exc), file=path.name))
        return _Workbook(path.name, failed=True)
    findings.extend(notes)
    return _Workbook(path.name, frames)


def load_inputs(folder: Path, sheets: tuple[Sheet, ...] = SHEETS) -> tuple[dict[str, RawSheet], list[Finding]]:
    """Return every schema sheet found in `folder`, keyed by sheet name, and the problems met reading them.

    A sheet may live in its workbook (`roster.xlsx`, sheet `People`) or alone in a CSV file
    (`roster_people.csv`); the CSV file wins when both exist.
    """
    folder = Path(folder)
    found: dict[str, RawSheet] = {}
    findings: list[Finding] = []
    books: dict[str, _Workbook] = {}

    for spec in sheets:
        csv_path = folder / spec.csv_name
        if csv_path.is_file():
            try:
                found[spec.name] = RawSheet(csv_path.name, "", _read_csv(csv_path))
            except Exception as exc:  # any reader failure is a problem with the file, reported as such
                findings.append(Finding(ERROR, _unreadable(exc), file=csv_path.name))
            continue

        if spec.workbook not in books:
            books[spec.workbook] = _open_workbook(folder, spec.workbook, findings)
        book = books[spec.workbook]
        if book.failed:
            continue
        if book.frames is None:
            if spec.required:
                findings.append(Finding(
                    ERROR, f"No {spec.workbook}.xlsx (or {spec.csv_name}) in {folder}.",
                    file=f"{spec.workbook}.xlsx",
                    fix=f"Add the {spec.workbook} workbook with a sheet named {spec.name} "
                        f"(`packets init` writes a blank one)."))
            continue

        match = next((name for name in book.frames if header_key(name) == header_key(spec.name)), None)
        if match is None:
            if spec.required:
                findings.append(Finding(
                    ERROR, f"No sheet named {spec.name}.", file=book.file, sheet=spec.name,
                    fix=f"Rename the sheet that holds the {spec.name.lower()} to '{spec.name}' "
                        f"(sheets found: {', '.join(book.frames) or 'none'})."))
            else:
                findings.append(Finding(NOTE, f"No sheet named {spec.name}; that part of the packet stays empty.",
                                        file=book.file, sheet=spec.name))
            continue
        found[spec.name] = RawSheet(book.file, str(match), book.frames[match])
    return found, findings
