"""Normalize: raw sheets to typed rows. Headers are matched, cells cleaned, dates and choices parsed.

Pure functions: nothing here reads files or raises for bad data; every problem becomes a
Finding that names the file, sheet, Excel row, column letter, header and value.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, TypeGuard

from generator.findings import ERROR, NOTE, WARNING, Finding, quote
from generator.inputs.read import RawSheet
from generator.inputs.recurrence import FIX as REPEATS_FIX
from generator.inputs.recurrence import parse_repeats
from generator.inputs.schema import CHOICE_SYNONYMS, Column, Sheet, canonical_choice, header_key

HEADER_SEARCH_ROWS = 30
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Excel serial numbers that plausibly mean a date (1954 to 2119); other numbers are not dates.
SERIAL_RANGE = (20000, 80000)

# Control characters are not allowed in Word or Excel XML (C0), or are only ever mis-decoded text
# that prints as boxes (C1); tabs and line breaks are kept.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f]+")
# Characters that do not show, yet make one ID differ from another: zero-width spaces and joiners, the
# word joiner, BOM, soft hyphen, and the controls of text direction (which also reorder what a report
# shows). IDs are copied from web pages, PDFs and e-mails with them; other text keeps them (joiners
# belong to some scripts and to emoji).
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Full-width letters, digits and signs (and the ideographic space), typed with an East Asian keyboard.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")

DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%m.%d.%Y",
    "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%b. %d, %Y",
    "%d %b %Y", "%d %B %Y", "%a, %b %d, %Y", "%A, %B %d, %Y", "%d-%b-%Y", "%d-%b-%y", "%Y%m%d",
)
DATE_FIX = "write the date as 2026-11-15 (year-month-day) or 11/15/2026 (month/day/year)."

_EMAIL = re.compile(r"^[^@\s<>,;\"']+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its Excel row number and its values by field name (None when blank).

    The values are in the sheet's field order, beside the sheet's one map of field positions: a
    dictionary per row held every name again, a third of a large district's memory while loading."""

    number: int
    cells: tuple[Any, ...]
    positions: Mapping[str, int] = field(compare=False, repr=False)

    def __getitem__(self, key: str) -> Any:
        i = self.positions.get(key)
        return None if i is None else self.cells[i]

    def __reduce__(self):
        # Handed to another process as its three fields, the sheet's map of positions once for all its rows:
        # a slotted dataclass's default (a state per row) took twice as long to pickle, and as long again to
        # unpickle, for a timeline read beside the main process.
        return Row, (self.number, self.cells, self.positions)


@dataclass(frozen=True)
class Table:
    """A normalized sheet: its rows and where each field's column is in the original."""

    spec: Sheet
    file: str
    sheet: str
    rows: tuple[Row, ...]
    columns: dict[str, tuple[str, str]]   # field -> (column letter, header as written)

    def at(self, row: Row | int | None, key: str | None = None) -> dict[str, Any]:
        """Return the Finding location fields for a row and (optionally) a field of this table."""
        number = row.number if isinstance(row, Row) else row
        letter, header = self.columns.get(key, ("", "")) if key else ("", "")
        if key and not header:
            header = self.spec.column(key).name
        return {"file": self.file, "sheet": self.sheet, "row": number, "column": letter, "header": header}


def is_blank(value: Any) -> bool:
    """Return True for an empty cell: None, NaN, NaT or text of only spaces."""
    if value is None:
        return True
    if isinstance(value, str):
        # Visible text is not blank; only text with line breaks or control characters needs cleaning.
        return not value.strip() or (not value.isprintable() and not clean_text(value))
    if isinstance(value, float):
        return math.isnan(value)
    return value.__class__.__name__ == "NaTType"


def is_tidy(value: Any) -> TypeGuard[str]:
    """Return True for non-empty text clean_text keeps as it is: most cells, which then need no work
    (isprintable is False for tabs, line breaks and control characters)."""
    return (value.__class__ is str and value != "" and value[0] != " " and value[-1] != " "
            and "  " not in value and value.isprintable()
            and (value.isascii() or unicodedata.is_normalized("NFC", value)))


def clean_text(value: Any) -> str:
    """Return a cell as tidy text: spaces folded, ends trimmed, XML-illegal characters removed, and in
    Unicode's composed form (NFC), so that a name a Mac saved decomposed (e and an accent apart)
    matches the same name typed elsewhere."""
    if is_tidy(value):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


DATE_YEARS = (1900, 2100)     # a plan's dates fall in these years; anything else is a typing slip


def parse_date(value: Any) -> dt.date:
    """Return the date a cell means: an Excel date or serial number, or text in ISO, US or long form.

    Raises ValueError with a sentence fit for the user when it is not a date, or when its year is
    outside 1900-2100 (year 1 or 9999 is a slip of the keyboard, not a plan date).
    """
    date = _parse_date(value)
    if not DATE_YEARS[0] <= date.year <= DATE_YEARS[1]:
        raise ValueError(f"the year {date.year} is not plausible for a plan date")
    return date


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        if 19000101 <= value <= 21001231 and float(value).is_integer():    # 20261115 typed as a number
            return parse_date(str(int(value)))
        raise ValueError(f"the number {clean_text(value)} is not a date")
    text = clean_text(value)
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return parse_date(float(text))
    text = re.sub(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", text)      # a date-time's time part
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)                   # November 15th
    text = re.sub(r"\s*,\s*", ", ", text)
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})", text)
    if m and int(m.group(1)) > 12 and int(m.group(2)) <= 12:
        raise ValueError(f"'{text}' looks like day/month/year, which is not read here")
    raise ValueError(f"'{text}' is not a date")


def parse_dates(value: Any) -> tuple[dt.date, ...]:
    """Return the dates of a cell listing several, separated by semicolons or line breaks (or commas,
    where no date of the list is written with one, as in `Nov 26, 2026`)."""
    if not isinstance(value, str):
        return (parse_date(value),)
    pieces = [p for p in re.split(r"[;\n]+", clean_text(value)) if p.strip()]
    dates: list[dt.date] = []
    for piece in pieces:
        try:
            dates.append(parse_date(piece))
        except ValueError:
            if "," not in piece:
                raise
            dates += [parse_date(p) for p in piece.split(",") if p.strip()]
    return tuple(dates)


def format_time(value: Any) -> str:
    """Return a time cell as text like `3:30 PM`; text that is not a single time is kept as typed."""
    if isinstance(value, dt.datetime):
        value = value.time()
    if isinstance(value, float) and 0 <= value < 1:          # Excel stores times as day fractions
        minutes = round(value * 24 * 60)
        value = dt.time(minutes // 60 % 24, minutes % 60)
    if isinstance(value, dt.time):
        return value.strftime("%I:%M %p").lstrip("0")
    text = clean_text(value)
    for fmt in ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p", "%I %p", "%I%p"):
        try:
            return dt.datetime.strptime(text.upper(), fmt).strftime("%I:%M %p").lstrip("0")
        except ValueError:
            continue
    return text


def parse_number(value: Any) -> int | float:
    """Return a number from a numeric cell or from a number stored as text."""
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not a number")
    try:
        if isinstance(value, (int, float)):
            return int(value) if float(value).is_integer() else float(value)
        number = float(clean_text(value).replace(",", ""))
        if math.isinf(number):
            raise OverflowError
    except (ValueError, OverflowError):
        raise ValueError(f"'{clean_text(value)}' is not a number") from None
    return int(number) if number.is_integer() else number


def _find_header(raw: RawSheet, spec: Sheet) -> tuple[int | None, dict[int, Column]]:
    """Return the row of the header (the best-matching of the first rows) and its matched columns."""
    best_row: int | None = None
    best: dict[int, Column] = {}
    # Column.matches, with each column's accepted headers worked out once rather than for every cell.
    accepted = [(c, {header_key(c.name), header_key(c.key)} | {header_key(s) for s in c.synonyms})
                for c in spec.columns]
    for i in range(min(HEADER_SEARCH_ROWS, len(raw.cells))):
        matched: dict[int, Column] = {}
        taken: set[str] = set()
        for j, cell in enumerate(raw.cells[i]):
            if is_blank(cell):
                continue
            key = header_key(clean_text(cell))
            col = next((c for c, headers in accepted if c.key not in taken and key in headers), None)
            if col is not None:
                matched[j] = col
                taken.add(col.key)
        if len(matched) > len(best):
            best_row, best = i, matched
    return best_row, best


@dataclass(frozen=True)
class _Problem:
    message: str
    fix: str
    severity: str = ERROR
    value: str | None = None          # the cell as the finding shows it, when not its clean text


def _shown(text: str) -> str:
    """Return text with its invisible characters written out (`0101<U+200B>`), so a report shows them
    and a direction control cannot reorder the report's line."""
    return _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def _id_value(col: Column, text: str) -> tuple[str | None, _Problem | None]:
    """Return an ID without invisible characters and with full-width ones as their ordinary forms, and a
    warning saying so: IDs must match exactly from sheet to sheet, and these differences cannot be seen."""
    invisible = dict.fromkeys(_INVISIBLE.findall(text))
    wide = _FULL_WIDTH.search(text) is not None
    if not invisible and not wide:
        return text, None
    read = _FULL_WIDTH.sub(lambda m: " " if m.group() == "\u3000" else chr(ord(m.group()) - 0xFEE0),
                           _INVISIBLE.sub("", text))
    read = clean_text(read)
    names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'FORMAT CHARACTER')}" for c in invisible)
    has = []
    if invisible:
        has.append(f"invisible character{'s' * (len(invisible) > 1)} ({names})")
    if wide:
        has.append("full-width characters")
    fix = ("Retype it with ordinary letters and digits (invisible characters come with IDs copied from web "
           "pages, PDFs or e-mail; full-width ones from an East Asian keyboard's full-width mode).")
    if not read:
        return None, _Problem(f"{col.name} holds only {' and '.join(has)}; it is read as empty.", fix,
                              ERROR if col.required else WARNING, _shown(text))
    return read, _Problem(f"{col.name} '{_shown(text)}' has {' and '.join(has)}; it is read as '{read}'.", fix,
                          WARNING, _shown(text))


_FIXES = {"date": DATE_FIX, "dates": f"{DATE_FIX[:-1]}; separate several dates with semicolons.",
          "number": "type a number such as 2.", "repeats": REPEATS_FIX}


# Column kinds whose cells repeat down a sheet, worth converting once per distinct cell.
_RECURRING_KINDS = frozenset({"choice", "date", "dates", "time", "number", "repeats"})
# Column kinds whose value is the cell's tidy text.
_PLAIN_KINDS = frozenset({"text", "id"})


def _convert(col: Column, value: Any) -> tuple[Any, _Problem | None]:
    """Return the typed value of one non-blank cell, and the problem with it if any."""
    try:
        if col.kind == "date":
            return parse_date(value), None
        if col.kind == "dates":
            return parse_dates(value), None
        if col.kind == "time":
            return format_time(value), None
        if col.kind == "number":
            return parse_number(value), None
        if col.kind == "repeats":
            return parse_repeats(clean_text(value)), None
    except ValueError as exc:
        fix = _FIXES[col.kind]
        return None, _Problem(f"{exc}.", fix[:1].upper() + fix[1:])
    text = clean_text(value)
    if col.kind == "choice":
        synonyms = dict(col.choice_synonyms) if col.choice_synonyms else CHOICE_SYNONYMS.get(col.key)
        choice = canonical_choice(text, col.choices, synonyms)
        if choice is None:
            also = f", or add it (with what it means) to the templates' {col.choices_file}" if col.choices_file else ""
            return None, _Problem(f"'{quote(text)}' is not a known {col.name.lower()}.",
                                  f"Use one of: {'; '.join(col.choices)}{also}.")
        return choice, None
    if col.kind == "id" and not text.isascii():
        return _id_value(col, text)
    if col.kind == "email" and not _EMAIL.match(text):
        return text, _Problem(f"'{text}' is not an email address.", "Write it as name@example.org.", WARNING)
    return text, None


def _at(where: dict[str, str], row: int, column: tuple[str, str]) -> dict[str, Any]:
    """Return a Finding's location fields for one cell (made only when there is a problem to locate)."""
    return {**where, "row": row, "column": column[0], "header": column[1]}


def normalize_sheet(raw: RawSheet, spec: Sheet) -> tuple[Table, list[Finding]]:
    """Return a sheet's rows typed by the schema, and every problem found in them."""
    # Imported here, where a sheet is read: openpyxl is a sixth of a no-change build's imports otherwise.
    from openpyxl.utils import get_column_letter
    findings: list[Finding] = []
    header_row, matched = _find_header(raw, spec)
    where: dict[str, Any] = {"file": raw.file, "sheet": raw.sheet}
    if header_row is None:
        needed = ", ".join(c.name for c in spec.columns if c.required)
        findings.append(Finding(ERROR, f"No header row found: none of the first {HEADER_SEARCH_ROWS} rows "
                                       f"names the columns {needed}.", **where,
                                fix=f"Put the headers ({needed}) in one row above the data."))
        return Table(spec, raw.file, raw.sheet, (), {}), findings

    excel_header_row = header_row + 1
    columns = {col.key: (get_column_letter(j + 1), clean_text(raw.cells[header_row][j]))
               for j, col in matched.items()}
    for col in spec.columns:
        if col.required and col.key not in columns:
            also = f" (also accepted: {', '.join(col.synonyms)})" if col.synonyms else ""
            findings.append(Finding(ERROR, f"Missing required column '{col.name}'.", **where, row=excel_header_row,
                                    fix=f"Add a column headed '{col.name}'{also}."))
    for j, cell in enumerate(raw.cells[header_row]):
        if j not in matched and not is_blank(cell):
            findings.append(Finding(NOTE, f"Column '{clean_text(cell)}' is not one the packets use; it is ignored.",
                                    **where, row=excel_header_row, column=get_column_letter(j + 1),
                                    header=clean_text(cell)))

    rows: list[Row] = []
    positions = spec.positions
    school_at = positions.get("school_id") if "school_id" in columns else None
    # A stage, a role, a date or a Repeats pattern recurs down a long sheet: each distinct cell of such a
    # column is converted once (its value is immutable, so rows may share it).
    # An ID's fast path is for plain ASCII only: a full-width digit is printable, yet needs reading.
    fields: list[tuple[int, Column, int, bool, bool, dict[Any, Any] | None]] = [
              (j, col, positions[col.key], col.kind in _PLAIN_KINDS, col.kind == "id",
               {} if col.kind in _RECURRING_KINDS else None)
              for j, col in matched.items()]
    for i in range(header_row + 1, len(raw.cells)):
        cells = raw.cells[i]
        if all(is_blank(c) for c in cells):
            continue
        number = i + 1
        values: list[Any] = [None] * len(positions)
        found_before = len(findings)
        for j, col, at, plain, ascii_only, converted in fields:
            cell = cells[j] if j < len(cells) else None
            if plain and is_tidy(cell) and not (ascii_only and not cell.isascii()):
                values[at] = cell               # the usual cell: its value is the text as it is
                continue
            if is_blank(cell):
                if col.blank:
                    values[at] = col.blank      # e.g. a blank Designation: the school is not identified
                    continue
                if col.required:
                    findings.append(Finding(ERROR, f"{col.name} is empty.", **_at(where, number, columns[col.key]),
                                            fix=f"Fill in {col.name} (for example: {col.example})."))
                continue
            if converted is None:
                value, problem = _convert(col, cell)
            else:
                key = (cell.__class__, cell)          # 1, 1.0 and True are equal keys, but not equal cells
                try:
                    known = converted.get(key)
                    if known is None:
                        known = converted[key] = _convert(col, cell)
                except TypeError:                     # a cell of a type that cannot be a key
                    known = _convert(col, cell)
                value, problem = known
            if problem:
                findings.append(Finding(problem.severity, problem.message[:1].upper() + problem.message[1:],
                                        **_at(where, number, columns[col.key]),
                                        value=clean_text(cell) if problem.value is None else problem.value,
                                        fix=problem.fix))
            values[at] = value
        if len(findings) > found_before and school_at is not None and values[school_at]:
            # The row's School ID says whose problem it is: it fails that school alone (a row without one
            # is district-wide, and its problem the district's).
            findings[found_before:] = [replace(f, school_id=values[school_at]) for f in findings[found_before:]]
        rows.append(Row(number, tuple(values), positions))
    return Table(spec, raw.file, raw.sheet, tuple(rows), columns), findings
