"""Authoring: input workbooks, settings.toml and email.toml, generated from the schema the loader reads.

`init_inputs` writes roster.xlsx, timeline.xlsx, goals.xlsx and settings.toml into a folder. Every
sheet, header, dropdown and note comes from generator/schema.py, so a blank workbook cannot drift
from what `packets validate` and `packets build` expect. Each workbook also gets an Instructions
sheet (first) and, when a dropdown list is too long to write inline, a hidden Lists sheet; the
loader reads only the sheets the schema names, so both are ignored by the pipeline.
`workbook_bytes` may also fill the sheets with rows: `packets import-directory` writes its roster here.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from generator.delivery.settings import EMAIL_FILE
from generator.findings import PacketsError
from generator.inputs.normalize import SERIAL_RANGE, clean_text, parse_date
from generator.inputs.read import WORKBOOK_SUFFIXES, sheet_csv
from generator.inputs.schema import SHEETS, WORKBOOKS, Column, Sheet, with_designations
from generator.output import atomic
from generator.output.sheet_edit import DATE_FORMAT, SPARE_ROWS, TEXT_FORMAT
from generator.render.template_data import SHIPPED, designations, state_names
from generator.render.xlsx import FORMULA_STARTS
from generator.settings import NAME_FIELDS, SETTINGS_FILE, PlanningYear, Settings

INSTRUCTIONS_SHEET = "Instructions"
LISTS_SHEET = "Lists"
LAST_ROW = 1000                 # dropdowns and date checks cover rows 2..LAST_ROW
MAX_WIDTH = 50                  # a column is never made wider than this for its header, example or data
INLINE_LIST_LIMIT = 255         # Excel's limit on a list validation written inline, quotes included
INSTRUCTIONS_WIDTH = 100
# Ways of writing a date that normalize.parse_date reads (tests/setup/test_authoring.py checks each).
DATE_EXAMPLES = ("2026-11-15", "11/15/2026", "Nov 15, 2026")

WORKBOOK_PURPOSE = {
    "roster": "The schools in the plan and the people who serve on each school's improvement team.",
    "timeline": "The Resource 6 schedule for plan development: tasks by stage, when stages start, meetings, "
                "the district's review cycle for each plan, and the district's holidays.",
    "goals": "Each school's Plan for Improvement: problems of practice, SMART goals, benchmarks, strategies, "
             "activities, monitoring and supports.",
}

# Pattern fields in the order the sample settings.toml lists them, with a word on the less obvious ones.
_FIELD_NOTES = {"school_id": "", "slug": " (from the school name)", "form": "", "year": "", "district": ""}

_REQUIRED_FILL = PatternFill("solid", fgColor="1F4E78")
_OPTIONAL_FILL = PatternFill("solid", fgColor="BDD7EE")
_REQUIRED_FONT = Font(bold=True, color="FFFFFF")
_OPTIONAL_FONT = Font(bold=True, color="000000")
_HEADER_ALIGN = Alignment(vertical="center", wrap_text=True)
_COMMENT_AUTHOR = "packets init"


# --- text derived from the schema ------------------------------------------------------------------

def _sheets_of(workbook: str) -> tuple[Sheet, ...]:
    # The Designation dropdown lists the shipped designations.csv (staff may still type a synonym: CSI).
    vocabulary = designations(SHIPPED)
    return tuple(with_designations(s, vocabulary) for s in SHEETS if s.workbook == workbook)


def _column_help(col: Column) -> str:
    """Return what a column is for: its own help, or a sentence from its kind."""
    if col.help:
        return col.help
    if col.choices:
        return "Pick one from the dropdown list."
    return {
        "id": "An identifier, kept as text exactly as written.",
        "date": "A date.",
        "time": "A time of day, such as 3:30 PM.",
        "number": "A number.",
        "email": "An email address, such as name@example.org.",
    }.get(col.kind, "")


def header_note(col: Column) -> str:
    """Return the comment shown on a column's header cell."""
    lines = [f"{col.name}: {_column_help(col)}" if _column_help(col) else col.name,
             "Required: every row must fill it in." if col.required else "Optional: may be left blank."]
    if col.choices:
        lines.append(f"One of: {'; '.join(col.choices)}.")
    if col.kind == "date":
        lines.append(f"Write dates as {', '.join(DATE_EXAMPLES[:-1])} or {DATE_EXAMPLES[-1]}.")
    if col.synonyms:
        lines.append(f"Header also accepted as: {', '.join(col.synonyms)}.")
    if col.example:
        lines.append(f"Example: {col.example}")
    return "\n".join(lines)


def _district_wide_sheets(workbook: str) -> list[Sheet]:
    """Return the workbook's sheets whose School ID may be left blank for a district-wide row."""
    return [s for s in _sheets_of(workbook)
            if any(c.key == "school_id" and not c.required for c in s.columns)]


def instruction_lines(workbook: str, district: str, planning_year: str | None,
                      uses_lists: bool) -> list[tuple[str, str]]:
    """Return the Instructions sheet as (style, text) lines; style is title, heading or text. Without a
    planning year (a roster imported before settings.toml says it) the title names the district alone."""
    sheets = _sheets_of(workbook)
    year = f", planning year {planning_year}" if planning_year else ""
    lines = [("title", f"{workbook}.xlsx: {district}{year}"),
             ("text", WORKBOOK_PURPOSE.get(workbook, "Inputs for the school-improvement plan packets.")),
             ("text", ""),
             ("heading", "Sheets")]
    for s in sheets:
        required_cols = ", ".join(c.name for c in s.columns if c.required)
        lines.append(("text", f"{s.name} ({'required' if s.required else 'optional'}): {s.help} "
                              f"Every row must fill in: {required_cols}."))
    lines += [("text", ""), ("heading", "How to fill it in")]
    lines.append(("text", "Keep row 1 of each sheet: the headers tell the packets which column is which. "
                          "Hover over a header for what it means, other header spellings that are accepted, "
                          "and an example."))
    lines.append(("text", "Columns with a dark header are required: every row must fill them in. "
                          "Columns with a light header are optional. Blank rows are skipped."))
    if any(not s.required for s in sheets):
        lines.append(("text", "An optional sheet may be left empty; that part of the packet then stays empty."))
    if any(c.kind == "date" for s in sheets for c in s.columns):
        lines.append(("text", f"Dates: type them as {DATE_EXAMPLES[0]} (year-month-day), {DATE_EXAMPLES[1]} "
                              f"(month/day/year) or {DATE_EXAMPLES[2]}. Day/month/year is not read."))
    if any(c.key == "school_id" for s in sheets for c in s.columns):
        lines.append(("text", "School ID is text: type it as the district writes it; leading zeros "
                              "(0104) are kept. It must match a School ID on the Schools sheet of roster.xlsx."))
    wide = _district_wide_sheets(workbook)
    if wide:
        col = next(c for c in wide[0].columns if c.key == "school_id")
        lines.append(("text", f"A School ID left blank means district-wide (on {', '.join(s.name for s in wide)}): "
                              f"{col.help}"))
    choice_cols = sorted({c.name for s in sheets for c in s.columns if c.choices})
    if choice_cols:
        lines.append(("text", f"{', '.join(choice_cols)}: pick from the dropdown list."
                              + (f" The hidden {LISTS_SHEET} sheet holds the longer lists; leave it as it is."
                                 if uses_lists else "")))
    lines += [("text", ""), ("heading", "Check your work")]
    lines.append(("text", "Run  packets validate --inputs FOLDER  (FOLDER: the folder holding this workbook, "
                          f"the other workbooks and {SETTINGS_FILE}). It lists every problem with its sheet, row "
                          "and column, and says whether each school is ready; then run  "
                          "packets build --inputs FOLDER."))
    lines.append(("text", f"The packets ignore this {INSTRUCTIONS_SHEET} sheet; you may delete it."))
    return lines


# --- building a workbook ---------------------------------------------------------------------------

class _Lists:
    """The hidden Lists sheet of one workbook: one column per choice list too long to write inline."""

    def __init__(self, wb: Workbook):
        self.wb = wb
        self.ws: Any = None           # the hidden sheet of long choice lists, made when first needed
        self.ranges: dict[tuple[str, ...], str] = {}

    def formula(self, col: Column) -> str:
        inline = '"' + ",".join(col.choices) + '"'
        if len(inline) <= INLINE_LIST_LIMIT and not any("," in c or '"' in c for c in col.choices):
            return inline
        if col.choices not in self.ranges:
            if self.ws is None:
                self.ws = self.wb.create_sheet(LISTS_SHEET)
                self.ws.sheet_state = "hidden"
            j = len(self.ranges) + 1
            letter = get_column_letter(j)
            self.ws.cell(row=1, column=j, value=col.name).font = Font(bold=True)
            for i, choice in enumerate(col.choices, start=2):
                self.ws.cell(row=i, column=j, value=choice)
            self.ws.column_dimensions[letter].width = max(len(c) for c in (col.name, *col.choices)) + 2
            self.ranges[col.choices] = (f"{LISTS_SHEET}!${letter}$2:${letter}$"
                                        f"{len(col.choices) + 1}")
        return self.ranges[col.choices]


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _choice_validation(col: Column, formula: str) -> DataValidation:
    return DataValidation(
        type="list", formula1=formula, allow_blank=True, showDropDown=False,
        showErrorMessage=True, errorStyle="warning", errorTitle=_cap(f"Not a known {col.name}", 32),
        error=_cap(f"Pick a {col.name} from the list. Choose Yes to keep what you typed anyway; "
                   f"packets validate will say if it is not recognised.", 225),
        showInputMessage=True, promptTitle=_cap(col.name, 32),
        prompt=_cap(f"Pick from the list ({'required' if col.required else 'optional'}).", 255))


def _date_validation(col: Column) -> DataValidation:
    when = parse_date(col.example or DATE_EXAMPLES[0])
    forms = f"{when:%Y-%m-%d} (year-month-day) or {when:%m/%d/%Y} (month/day/year)"
    return DataValidation(
        type="date", operator="between", formula1=str(SERIAL_RANGE[0]), formula2=str(SERIAL_RANGE[1]),
        allow_blank=True, showErrorMessage=True, errorStyle="warning",
        errorTitle=_cap(f"{col.name}: not a date", 32),
        error=_cap(f"Type a date such as {forms}. Choose Yes to keep what you typed; "
                   f"packets validate will say if it is not a date.", 225),
        showInputMessage=True, promptTitle=_cap(col.name, 32),
        prompt=_cap(f"A date, such as {forms}{'; required' if col.required else ''}.", 255))


def _width(col: Column, values: Sequence[Any] = ()) -> float:
    widest = max(len(col.name) + 4, min(len(col.example), 40) + 2, 10)
    if col.kind == "date":
        widest = max(widest, 14)
    for value in values:
        if value is not None and not isinstance(value, (dt.date, dt.datetime)):
            widest = max(widest, max((len(line) for line in str(value).split("\n")), default=0) + 2)
    return float(min(widest, MAX_WIDTH))



def _write_rows(ws, spec: Sheet, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write data rows under the header, keyed by the schema's header names: an ID stays text (leading
    zeros), a date gets the date format, and text that starts like a formula stays text."""
    for i, row in enumerate(rows, start=2):
        for j, col in enumerate(spec.columns, start=1):
            value = row.get(col.name)
            if value is None or value == "":
                continue
            cell = ws.cell(row=i, column=j, value=ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str)
                           else value)
            if col.kind == "id":
                cell.number_format = TEXT_FORMAT
            elif col.kind == "date" and isinstance(value, (dt.date, dt.datetime)):
                cell.number_format = DATE_FORMAT
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                cell.data_type = "s"          # a name starting with = is text, never a formula


def add_data_sheet(wb: Workbook, spec: Sheet, lists: _Lists | None = None,
                   rows: Sequence[Mapping[str, Any]] = ()) -> None:
    """Add a schema sheet to `wb`: styled headers with notes, dropdowns, date checks and formats, and
    `rows` (dicts keyed by header name) under them. Without `lists`, long choice lists get their own."""
    lists = lists or _Lists(wb)
    ws = wb.create_sheet(spec.name)
    last_row = max(LAST_ROW, len(rows) + 1 + SPARE_ROWS) if rows else LAST_ROW
    for j, col in enumerate(spec.columns, start=1):
        letter = get_column_letter(j)
        cell = ws.cell(row=1, column=j, value=col.name)
        cell.font = _REQUIRED_FONT if col.required else _OPTIONAL_FONT
        cell.fill = _REQUIRED_FILL if col.required else _OPTIONAL_FILL
        cell.alignment = _HEADER_ALIGN
        note = header_note(col)
        cell.comment = Comment(note, _COMMENT_AUTHOR, height=min(40 + 18 * (len(note) // 40 + note.count("\n")), 400),
                               width=320)
        ws.column_dimensions[letter].width = _width(col, [r.get(col.name) for r in rows])
        span = f"{letter}2:{letter}{last_row}"

        if col.choices:
            dv = _choice_validation(col, lists.formula(col))
            dv.add(span)
            ws.add_data_validation(dv)
        if col.kind == "date":
            dv = _date_validation(col)
            dv.add(span)
            ws.add_data_validation(dv)
        # A column style, not 999 formatted empty cells: Excel gives every cell typed into the column this
        # format, and the loader does not have to read 999 empty rows per sheet on every run.
        if col.kind == "date":
            ws.column_dimensions[letter].number_format = DATE_FORMAT
        elif col.kind == "id":
            ws.column_dimensions[letter].number_format = TEXT_FORMAT     # leading zeros survive typing
    _write_rows(ws, spec, rows)
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(spec.columns))}{len(rows) + 1}"


def _add_instructions(ws, lines: list[tuple[str, str]]) -> None:
    ws.column_dimensions["A"].width = INSTRUCTIONS_WIDTH
    for i, (style, text) in enumerate(lines, start=1):
        cell = ws.cell(row=i, column=1, value=text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if style == "title":
            cell.font = Font(bold=True, size=14)
            ws.row_dimensions[i].height = 22
        elif style == "heading":
            cell.font = Font(bold=True, size=12)
            ws.row_dimensions[i].height = 18
        elif text:
            # Not every reader fits a wrapped row's height itself; allow ~0.85 characters per width unit.
            ws.row_dimensions[i].height = 15 * math.ceil(len(text) / (INSTRUCTIONS_WIDTH * 0.85)) + 2
    ws.sheet_properties.pageSetUpPr.fitToPage = True      # print one page wide
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0


def workbook_bytes(workbook: str, district: str, planning_year: str | None,
                   rows: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> bytes:
    """Return an input workbook (roster, timeline or goals) as .xlsx bytes: blank, or with `rows`
    (by sheet name, each a dict keyed by header name) on its sheets."""
    wb = Workbook()
    instructions = wb.active
    instructions.title = INSTRUCTIONS_SHEET
    lists = _Lists(wb)
    for spec in _sheets_of(workbook):
        add_data_sheet(wb, spec, lists, (rows or {}).get(spec.name, ()))
    if lists.ws is not None:
        wb.move_sheet(lists.ws, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(LISTS_SHEET))
    _add_instructions(instructions, instruction_lines(workbook, district, planning_year, lists.ws is not None))
    wb.active = 0
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- settings.toml ---------------------------------------------------------------------------------

def _toml_string(text: str) -> str:
    """Return text as a TOML basic string."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def settings_text(district: str, year: PlanningYear) -> str:
    """Return a settings.toml for the district, with the [output] defaults, commented like the sample."""
    fields = [f for f in _FIELD_NOTES if f in NAME_FIELDS] + sorted(NAME_FIELDS - set(_FIELD_NOTES))
    field_list = " ".join("{" + f + "}" + _FIELD_NOTES.get(f, "") for f in fields)
    return "\n".join([
        f"# Settings for {''.join(ch for ch in ' '.join(district.split()) if ch.isprintable())}. "
        f"Staff edit this file; see README \"Settings\".",
        "",
        "[district]",
        f"name = {_toml_string(district)}",
        "# The ISBE planning year; dates such as \"Jan. 31\" in the ISBE grid get their year from it.",
        f"planning_year = \"{year.label}\"",
        f"# as_of = {year.start}-11-23   # judge overdue tasks as of this date; default: the day you build",
        "# The district's state: its forms, wording and where plans are submitted "
        f"({', '.join(f'{c.upper()}: {n}' for c, n in sorted(state_names(SHIPPED).items()))}).",
        "# Unset, the packets are Illinois's and every command warns.",
        "# state = \"IL\"",
        "# The calendars' meetings are at clock times in this time zone (an IANA name, such as America/Chicago",
        "# or America/Los_Angeles); without it they float, shown at the same clock time in any zone.",
        "# time_zone = \"America/Chicago\"",
        "",
        "[output]",
        "# One folder per school inside output/, and the documents' names inside it.",
        f"# Fields: {field_list}",
        f"folder = {_toml_string(Settings.folder_pattern)}",
        f"file = {_toml_string(Settings.file_pattern)}",
        "",
    ])


# --- the entry point -------------------------------------------------------------------------------

def _shadowing_inputs(folder: Path) -> list[Path]:
    """Return the files in `folder` the loader would read instead of the blank workbooks: a sheet kept as
    a CSV file, or a workbook saved as .xlsm or .ods."""
    found = [folder / f"{stem}{suffix}" for stem in WORKBOOKS for suffix in WORKBOOK_SUFFIXES
             if suffix != ".xlsx" and (folder / f"{stem}{suffix}").exists()]
    return found + [path for spec in SHEETS if (path := sheet_csv(folder, spec)) is not None]


def init_inputs(folder: Path, district: str = "Your District Name", planning_year: str = "2026-27",
                overwrite: bool = False) -> list[Path]:
    """Write blank roster.xlsx, timeline.xlsx, goals.xlsx, a settings.toml and an email.toml (from
    templates/email.toml) into `folder` (created if needed) and return their paths. Refuses, writing
    nothing, when any of them already exists, unless `overwrite`; all the files are written or none.

    A sheet kept as a CSV file (roster_schools.csv) or a workbook saved as .xlsm/.ods would be read instead
    of the blank workbook, so init refuses such a folder even with `overwrite`; it never deletes files."""
    folder = Path(folder)
    name = " ".join(clean_text(district).split())
    if not name:
        raise PacketsError("The district name is empty. Fix: give the district's name, e.g. \"Riverbend CUSD 117\".")
    try:
        year = PlanningYear.parse(planning_year)
    except ValueError as exc:
        raise PacketsError(f"Planning year: {exc}.") from None
    if folder.exists() and not folder.is_dir():
        raise PacketsError(f"'{folder}' is a file, not a folder. Fix: choose a folder for the new inputs.")

    names = [f"{stem}.xlsx" for stem in WORKBOOKS] + [SETTINGS_FILE, EMAIL_FILE]
    targets = [folder / n for n in names]
    if folder.is_dir():
        shadows = _shadowing_inputs(folder)
        if shadows:
            raise PacketsError(
                f"{folder} already holds {', '.join(p.name for p in shadows)}, which the packets would read "
                f"instead of blank workbooks; nothing was written. Fix: use an empty folder, or move "
                f"{'those files' if len(shadows) > 1 else 'that file'} away first.")
        existing = [p for p in targets if p.exists()]
        if existing and not overwrite:
            raise PacketsError(
                f"{folder} already holds {', '.join(p.name for p in existing)}; nothing was written. "
                f"Fix: use an empty folder, or --force to replace "
                f"{'them' if len(existing) > 1 else 'it'} with blank inputs.")

    files = {f"{stem}.xlsx": workbook_bytes(stem, name, year.label) for stem in WORKBOOKS}
    files[SETTINGS_FILE] = settings_text(name, year).encode("utf-8")
    files[EMAIL_FILE] = SHIPPED.path(EMAIL_FILE).read_bytes()     # who receives the packets: edit before sending
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return atomic.write_files(folder, files)
    except OSError as exc:
        raise PacketsError(f"Cannot write the blank inputs into {folder}: {exc.strerror or exc}. "
                           f"Close the workbooks in Excel if they are open, and check the folder's "
                           f"permissions.") from None
