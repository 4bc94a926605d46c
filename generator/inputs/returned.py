"""Returned trackers: a schedule tracker as a school sends it back, read for `packets collect`.

A school edits its tracker in Excel, LibreOffice or Google Sheets: it may sort or filter the rows, add
columns, rename the file or save it as .ods. So nothing here goes by position. The tracker's hidden Packet
sheet says whose it is (School ID, form, version) and what each row was built with; on the visible sheet,
the header row is found by its headers, and each row by its Row ID. Only the cells a school may fill
(FILLABLE) are read; everything else on the sheet is the district's and is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from generator.findings import ERROR, WARNING, Finding
from generator.inputs.normalize import clean_text, is_blank, parse_date
from generator.inputs.read import WORKBOOK_SUFFIXES, Cells, read_workbook
from generator.inputs.schema import REVIEW_DECISIONS_CHOICES, header_key

PACKET_SHEET = "Packet"               # the hidden sheet naming the tracker's school, form and version
ROW_ID = "Row ID"
HEADER_ROWS = 30                      # the visible sheet's header row is looked for in its first rows


@dataclass(frozen=True)
class Fillable:
    """A column a school may fill: its header on the tracker, the field it is read as, its kind."""

    header: str
    key: str
    kind: str = "text"                # text | date


# The cells a school may fill, by form (the tracker's form key).
FILLABLE = {
    "schedule-tracker": (Fillable("Date of Completion", "completed", "date"), Fillable("Status", "status"),
                         Fillable("Notes", "notes")),
    "isbe-grid-tracker": (Fillable("Status", "status"), Fillable("Date Completed", "completed", "date"),
                          Fillable("Notes", "notes")),
}
# What else the Packet sheet records of each row, as built, by form: what the row is.
BUILT_ONLY = {
    "isbe-grid-tracker": (Fillable("Month", "month"), Fillable("Key Activity", "key_activity"),
                          Fillable("Role", "role")),
}


@dataclass(frozen=True)
class ReturnedRow:
    """One row of a returned tracker: its Row ID, its Excel row, and the fillable values as returned."""

    row_id: str
    row: int
    values: dict[str, Any]


@dataclass(frozen=True)
class ReturnedTracker:
    """A returned tracker, as read: whose it is, its rows by Row ID, the values they were built with."""

    path: Path
    school_id: str
    school: str
    form: str
    version: str
    sheet: str                                   # the visible sheet's name
    rows: dict[str, ReturnedRow]                 # by Row ID
    built: dict[str, dict[str, Any]]             # Row ID -> field -> the value the packet was built with
    columns: dict[str, str] = field(default_factory=dict)    # field -> the column letter on the visible sheet
    findings: tuple[Finding, ...] = ()           # rows not read, and why

    @property
    def name(self) -> str:
        return self.path.name


class NotATracker(Exception):
    """The file is not a tracker `packets collect` can read; carries the located finding."""

    def __init__(self, finding: Finding):
        super().__init__(finding.line())
        self.finding = finding


def _value(kind: str, raw: Any) -> Any:
    """Return a cell's value as its field holds it (a date, or text; None or '' when blank); raise
    ValueError for a date that is not one."""
    if kind == "date":
        return None if is_blank(raw) else parse_date(raw)
    return "" if is_blank(raw) else clean_text(raw)


def _cell(cells: Cells, row: int, col: int) -> Any:
    """Return the cell at a 0-based row and column of a sheet, None outside it or when empty."""
    if row >= len(cells) or col >= len(cells[row]):
        return None
    value = cells[row][col]
    return None if is_blank(value) else value


def _identity(file: str, cells: Cells) -> dict[str, str]:
    """Return the Packet sheet's School ID, School, Form and Version."""
    found: dict[str, str] = {}
    for r in range(min(len(cells), HEADER_ROWS)):
        label = header_key(_cell(cells, r, 0) or "")
        if label in ("schoolid", "school", "form", "version"):
            found.setdefault(label, clean_text(_cell(cells, r, 1) or ""))
    missing = [name for name in ("schoolid", "form", "version") if not found.get(name)]
    if missing:
        raise NotATracker(Finding(ERROR, "Its hidden Packet sheet has lost its School ID, Form or Version, so it "
                                         "cannot be matched to its school.", file=file, sheet=PACKET_SHEET,
                                  fix="Ask the school to fill in the tracker the latest build made, without "
                                      "editing its Packet sheet."))
    return found


def _header_row(cells: Cells) -> tuple[int, dict[str, int]] | None:
    """Return the 0-based row holding the Row ID header and each header's column (by header key)."""
    for r in range(min(len(cells), HEADER_ROWS)):
        headers = {header_key(_cell(cells, r, c)): c for c in range(len(cells[r]) - 1, -1, -1)
                   if _cell(cells, r, c) is not None}
        if header_key(ROW_ID) in headers:
            return r, headers
    return None


def _built(file: str, cells: Cells, fillable: tuple[Fillable, ...]) -> dict[str, dict[str, Any]]:
    """Return the Packet sheet's rows: each Row ID's values as the packet was built."""
    found = _header_row(cells)
    if found is None:
        raise NotATracker(Finding(ERROR, "Its hidden Packet sheet has lost its Row ID column.", file=file,
                                  sheet=PACKET_SHEET, fix="Ask the school for the tracker the latest build made."))
    start, headers = found
    id_col = headers[header_key(ROW_ID)]
    built: dict[str, dict[str, Any]] = {}
    for r in range(start + 1, len(cells)):
        row_id = clean_text(_cell(cells, r, id_col) or "")
        if not row_id:
            continue
        values = {}
        for f in fillable:
            col = headers.get(header_key(f.header))
            raw = _cell(cells, r, col) if col is not None else None
            try:
                values[f.key] = _value(f.kind, raw)
            except ValueError:
                values[f.key] = None
        built[row_id] = values
    return built


def read_returned(path: Path) -> ReturnedTracker:
    """Return a returned tracker as read. Raise NotATracker (with its finding) for a file that is not a
    workbook, or has no Packet sheet (not a tracker `packets build` made), or one that has lost what matches
    it to its school and rows. A row that cannot be read (a date that is not one, a Row ID twice) is a
    finding, and left out; the others are read."""
    path = Path(path)
    file = path.name
    if path.suffix.lower() in DOCUMENT_SUFFIXES:
        return read_review(path)
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise NotATracker(Finding(ERROR, "Not a workbook (.xlsx, .xlsm or .ods), so not a returned tracker.",
                                  file=file))
    try:
        sheets, _ = read_workbook(path)
    except Exception:  # any reader failure is a problem with the file, reported as such
        raise NotATracker(Finding(ERROR, "Not a readable workbook: it may be corrupt, password-protected, or another "
                                         "kind of file renamed.", file=file,
                                  fix="Open it in Excel and save it again as .xlsx without a password.")) from None
    packet = next((name for name in sheets if header_key(name) == header_key(PACKET_SHEET)), None)
    if packet is None:
        raise NotATracker(Finding(ERROR, "No hidden Packet sheet: not a tracker a packet build made (or one made "
                                         "before trackers could be collected).", file=file,
                                  fix="Collect the schedule tracker of a packet built by this version."))
    identity = _identity(file, sheets[packet])
    form = identity["form"]
    fillable = FILLABLE.get(form)
    if fillable is None:
        raise NotATracker(Finding(ERROR, f"Its Packet sheet names the form '{form}', which cannot be collected.",
                                  file=file, sheet=PACKET_SHEET))
    built = _built(file, sheets[packet], fillable + BUILT_ONLY.get(form, ()))
    visible = [(name, _header_row(cells)) for name, cells in sheets.items() if name != packet]
    sheet, found = next(((name, f) for name, f in visible if f is not None), ("", None))
    if found is None:
        raise NotATracker(Finding(ERROR, f"No sheet has the {ROW_ID} column, so its rows cannot be matched to "
                                         f"their tasks.", file=file,
                                  fix=f"Put the {ROW_ID} column back (it is the last column of the tracker the "
                                      f"build made), or ask the school for its tracker again."))
    header, headers = found
    cells = sheets[sheet]
    id_col = headers[header_key(ROW_ID)]
    columns = {f.key: headers[header_key(f.header)] for f in fillable if header_key(f.header) in headers}
    findings: list[Finding] = []
    rows: dict[str, ReturnedRow] = {}
    twice: dict[str, list[int]] = {}
    for r in range(header + 1, len(cells)):
        number = r + 1
        row_id = clean_text(_cell(cells, r, id_col) or "")
        if not row_id:
            typed = [f.header for f in fillable if f.key in ("completed", "notes") and f.key in columns
                     and _cell(cells, r, columns[f.key]) is not None]
            if typed:
                findings.append(Finding(WARNING, f"This row has a {' and '.join(typed)} but no {ROW_ID}: a heading "
                                                 f"row, or a row added by hand, so there is no task to record it "
                                                 f"against; not read.", file=file, sheet=sheet, row=r + 1,
                                        school_id=identity["schoolid"],
                                        fix="Write it on the task's own row (the rows under a heading)."))
            continue
        values: dict[str, Any] = {}
        for f in fillable:
            col = columns.get(f.key)
            if col is None:
                continue
            try:
                values[f.key] = _value(f.kind, _cell(cells, r, col))
            except ValueError as exc:
                findings.append(Finding(ERROR, f"{f.header} is not a date ({exc}); this row is not read.",
                                        file=file, sheet=sheet, row=number, column=get_column_letter(col + 1),
                                        header=f.header, value=clean_text(_cell(cells, r, col)),
                                        school_id=identity["schoolid"],
                                        fix="Write the date as 2026-11-15 or 11/15/2026."))
                values = {}
                break
        if not values:
            continue
        if row_id in rows or row_id in twice:
            twice.setdefault(row_id, [rows.pop(row_id).row] if row_id in rows else []).append(number)
            continue
        rows[row_id] = ReturnedRow(row_id, number, values)
    for row_id, numbers in twice.items():
        findings.append(Finding(ERROR, f"The Row ID {row_id} is on rows {', '.join(map(str, numbers))}: a row copied, "
                                       f"so which one is the task's cannot be told; none of them is read.",
                                file=file, sheet=sheet, row=numbers[0], header=ROW_ID, value=row_id,
                                school_id=identity["schoolid"],
                                fix="Delete the copies, keeping the row with the task's dates, and collect again."))
    missing = [f.header for f in fillable if f.key not in columns]
    if missing:
        findings.append(Finding(WARNING, f"No column {', '.join(missing)}: what the school wrote there is not read.",
                                file=file, sheet=sheet, school_id=identity["schoolid"]))
    return ReturnedTracker(path, identity["schoolid"], identity.get("school", ""), form, identity["version"], sheet,
                           rows, built, {k: get_column_letter(c + 1) for k, c in columns.items()}, tuple(findings))


# --- the Plan Review form (Word) ----------------------------------------------------------------------

REVIEW_FORM = "review"
DOCUMENT_SUFFIXES = (".docx",)
_PACKET_ID = re.compile(r"Packet ID\s+(?P<school>.+?)\s+\u00b7\s+(?P<form>[\w-]+)\s+\u00b7\s+(?P<version>[0-9a-f]+)")
_ROUND_ID = re.compile(r"Round ID\s+(?P<id>\S+?)/(?P<hashes>[0-9a-f]+\.[0-9a-f]+\.[0-9a-f]+)")
_TICKS = "\u2612\u2611\u2713\u2714\u25a0xX"
_DECISION = re.compile(r"([" + _TICKS + r"\u2610])?\s*(" + "|".join(
    re.escape(c) for c in sorted(REVIEW_DECISIONS_CHOICES, key=len, reverse=True)) + ")")
REVIEW_FIELDS = ("decision", "strengths", "revisions")
COMMENT_LABELS = {"strengths": "strengths", "revisionsrequested": "revisions"}


def _cell_text(cell) -> str:
    return "\n".join(p.text for p in cell.paragraphs).strip()


def _decision(text: str) -> tuple[str, list[str]]:
    """Return the decision ticked in a Decision line ('' when none) and every one ticked."""
    ticked = [m.group(2) for m in _DECISION.finditer(text) if m.group(1) and m.group(1) != "\u2610"]
    return (ticked[0] if len(ticked) == 1 else ""), ticked


def read_review(path: Path) -> ReturnedTracker:
    """Return a returned Plan Review form as read: its Packet ID line says whose it is, and each round (found
    by its Round ID line, however the form was edited around it) the decision ticked and the comments under
    Strengths and Revisions requested. The Round ID carries a short hash of each value the form was built
    with (ReturnedTracker.built: decision, strengths and revisions, each a hash)."""
    from docx import Document

    file = path.name
    try:
        doc = Document(str(path))
    except Exception:  # any reader failure is a problem with the file, reported as such
        raise NotATracker(Finding(ERROR, "Not a readable Word document: it may be corrupt, password-protected, or "
                                         "another kind of file renamed.", file=file,
                                  fix="Open it in Word and save it again as .docx.")) from None
    body = doc.element.body
    blocks: list[tuple[str, Any]] = []            # ("p", text) or ("t", table), in document order
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            blocks.append(("p", "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t"))))
        elif tag == "tbl":
            from docx.table import Table
            blocks.append(("t", Table(child, doc)))
    identity = next((m for kind, text in blocks if kind == "p" and (m := _PACKET_ID.search(text))), None)
    if identity is None:
        raise NotATracker(Finding(ERROR, "No Packet ID line: not a Plan Review form a packet build made (or one "
                                         "made before forms could be collected).", file=file,
                                  fix="Collect the review form of a packet built by this version."))
    school_id = identity["school"].strip()
    findings: list[Finding] = []
    rows: dict[str, ReturnedRow] = {}
    built: dict[str, dict[str, Any]] = {}
    current = None
    read: dict[str, set[str]] = {}                # what of each round has been read: its decision, its comments
    for kind, block in blocks:
        if kind == "p":
            found = _ROUND_ID.search(block)
            if found:
                current = found["id"]
                hashes = found["hashes"].split(".")
                built[current] = dict(zip(REVIEW_FIELDS, hashes))
                rows[current] = ReturnedRow(current, len(rows) + 1, {})
                read[current] = set()
            elif current and "decision" not in read[current] and block.strip().startswith("Decision"):
                read[current].add("decision")
                decision, ticked = _decision(block)
                if len(ticked) > 1:
                    findings.append(Finding(WARNING, f"Round {rows[current].row}: several decisions are ticked "
                                                     f"({', '.join(ticked)}): the decision is not read.",
                                            file=file, school_id=school_id, fix="Tick one decision."))
                else:
                    rows[current].values["decision"] = decision
        elif kind == "t" and current and "comments" not in read[current]:
            read[current].add("comments")
            for row in block.rows:
                cells = row.cells
                if len(cells) < 2:
                    continue
                field = COMMENT_LABELS.get(header_key(_cell_text(cells[0])))
                if field:
                    rows[current].values[field] = clean_text(_cell_text(cells[-1]))
    return ReturnedTracker(path, school_id, "", identity["form"], identity["version"], "", rows, built, {},
                           tuple(findings))


def tracker_files(paths, skipped: list[Finding]) -> list[Path]:
    """Return the workbooks among the paths given: a file as it is, a folder's workbooks (its subfolders'
    too, in name order), leaving out Excel's lock files and the build's own temporary files."""
    found: list[Path] = []
    for given in map(Path, paths):
        if given.is_dir():
            found += sorted(p for p in given.rglob("*") if p.is_file()
                            and p.suffix.lower() in WORKBOOK_SUFFIXES + DOCUMENT_SUFFIXES
                            and not p.name.startswith(("~$", ".tmp-", ".old-")))
        elif given.is_file():
            found.append(given)
        else:
            skipped.append(Finding(ERROR, "No such file or folder.", file=str(given)))
    return list(dict.fromkeys(found))

