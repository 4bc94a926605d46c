"""Load: input files to raw DataFrames of text and values, one per schema sheet; nothing is interpreted yet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd

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


def sheet_frame(ws) -> pd.DataFrame:
    """Return an openpyxl worksheet as a DataFrame of cell values (row i is Excel row i + 1).

    A cell merged down over several rows (a stage name spanning its tasks, a header spanning two
    header rows) counts for each of those rows, as a reader of the sheet sees it; a cell merged
    across columns counts once, in its first column, so it cannot leak into a neighbouring field.
    """
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    for rng in ws.merged_cells.ranges:
        value = rows[rng.min_row - 1][rng.min_col - 1] if rng.min_row <= len(rows) else None
        for r in range(rng.min_row, min(rng.max_row, len(rows)) + 1):
            rows[r - 1][rng.min_col - 1] = value
    return pd.DataFrame(rows, dtype=object)


def _hidden_notes(path: Path, ws) -> list[Finding]:
    notes = []
    if ws.sheet_state != "visible":
        notes.append(Finding(NOTE, "This sheet is hidden in Excel; it is read like any other.",
                             file=path.name, sheet=ws.title))
    hidden = [r for r, dim in ws.row_dimensions.items() if dim.hidden and r <= ws.max_row]
    if hidden:
        shown = ", ".join(str(r) for r in hidden[:10]) + (", ..." if len(hidden) > 10 else "")
        notes.append(Finding(NOTE, f"Rows {shown} are hidden in Excel; they are read like the others.",
                             file=path.name, sheet=ws.title))
    return notes


def read_workbook(path: Path) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Return every sheet of an .xlsx, .xlsm or .ods workbook as a DataFrame, and notes about it.

    Formulas count as the values Excel last calculated for them.
    """
    if path.suffix.lower() == ".ods":
        return pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="odf"), []
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
