"""Load: input files to raw cells of text and values, one grid per schema sheet; nothing is interpreted yet."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from generator.findings import ERROR, NOTE, WARNING, Finding
from generator.inputs.schema import SHEETS, Sheet, header_key

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods")
# Encodings an older Excel saves "CSV" in, tried (in this order) only when a file is not UTF-8.
LEGACY_ENCODINGS = (("cp1252", "Windows-1252"), ("mac_roman", "Mac Roman"))
SAVE_AS_UTF8 = "save it again as CSV UTF-8 (in Excel: File > Save As > CSV UTF-8 (Comma delimited))."


# A sheet's cell values as read: row i is Excel row i + 1, column j column j + 1, every row as wide as the
# widest. Plain lists, not a DataFrame: normalizing goes row by row, and making each sheet a frame only
# for it to be turned back into lists cost 0.15-0.2 s of the main process at 5,000 schools.
Cells = list[list[Any]]


@dataclass(frozen=True)
class RawSheet:
    """A sheet as read: every cell as a Python value, no header chosen; cells[i] is Excel row i + 1."""

    file: str
    sheet: str
    cells: Cells


class CsvEncodingError(Exception):
    """A CSV file whose bytes cannot be read as text without guessing; carries the located finding."""

    def __init__(self, finding: Finding):
        super().__init__(finding.line())
        self.finding = finding


def _locate(text: str, position: int) -> tuple[int, int, list[str]]:
    """Return the file line, the row and the row's cells at a character position of CSV text.

    Rows are counted as Excel counts them, so a finding's row is the row staff see: a line break
    inside a quoted cell (a two-line title) starts no new row. Lines end as in any of Windows, Unix
    or old Mac files.
    """
    lines = list(io.StringIO(text, newline=""))
    line, consumed = 0, 0
    while line < len(lines) and consumed <= position:
        consumed += len(lines[line])
        line += 1
    reader = csv.reader(lines)
    row = 0
    for row, cells in enumerate(reader, start=1):
        if reader.line_num >= line:
            return line, row, cells
    return line, row, []


def _bytes_shown(chars: str) -> str:
    """Return undecodable bytes (held as surrogate escapes) as `0xED`, `0xE1 0xB3`."""
    shown = [f"0x{ord(c) - 0xDC00:02X}" for c in dict.fromkeys(chars)]
    return ("byte " if len(shown) == 1 else "bytes ") + " ".join(shown)


def _clipped(cell: str, at: int = 0, width: int = 60) -> str:
    start = max(0, min(at - width // 2, len(cell) - width))
    return ("..." if start else "") + cell[start:start + width] + ("..." if start + width < len(cell) else "")


def _not_utf8_throughout(file: str, text: str) -> CsvEncodingError:
    """The error for a UTF-8 file with some lines in another encoding (`text` holds their bytes as
    surrogate escapes): reading it whole either way would garble one part, so it is refused."""
    position = next(i for i, c in enumerate(text) if "\udc80" <= c <= "\udcff")
    line, row, cells = _locate(text, position)
    cell = next((c for c in cells if any("\udc80" <= ch <= "\udcff" for ch in c)), "")
    bad = "".join(ch for ch in cell if "\udc80" <= ch <= "\udcff")
    legacy = cell.encode("utf-8", "surrogateescape").decode("cp1252", "replace")
    first = next((i for i, ch in enumerate(cell) if "\udc80" <= ch <= "\udcff"), 0)
    return CsvEncodingError(Finding(
        ERROR, f"Line {line} is not UTF-8 text like the rest of the file: {_bytes_shown(bad)} in the cell "
               f"'{_clipped(legacy, first)}' (as Windows-1252 would read them). Nothing of the file was read, "
               f"rather than garble one part or the other.",
        file=file, row=row, value=_clipped(legacy, first),
        fix=f"Check row {row} (retype its accented letters if they look wrong), then {SAVE_AS_UTF8}"))


_APOSTROPHES = frozenset("\u2019\u2018\u00b4\u02bc")
_CONTRACTION = re.compile(r"(?:s|t|d|ll|m|re|ve)\b")
_BY_NUMBERS = frozenset("°€£½¼¾")


def _reading(text: str) -> tuple[int, int, int]:
    """Judge text decoded with a legacy encoding: how many characters look mis-decoded, how many look
    as Western European text usually does, and where the first odd one is (-1 when none).

    Odd: an upper-case letter straight after a lower-case one, or a lower-case one straight before an
    upper-case one (José read with the wrong encoding is JosŽ or JosÈ; O’Brien is OíBrien), or a symbol
    inside a word (Małgorzata read as Windows-1252 is Ma³gorzata). Usual: an accented Latin letter in a
    word, an apostrophe as English, French and Italian use one (O’Brien, don’t, l’école; not María as
    Mar’a), a degree, currency or fraction sign by a number (25°C, €10).
    """
    odd = usual = 0
    first = -1
    for match in re.finditer(r"[^\x00-\x7f]", text):
        i, c = match.start(), match.group()
        before = text[i - 1] if i else ""
        after = text[i + 1:i + 2]
        if c.isalpha():
            wrong = (c.isupper() and before.islower()) or (c.islower() and c != "\u00df" and after.isupper())
            usual += not wrong and "\u00c0" <= c <= "\u00ff" and (before.isalpha() or after.isalpha())
        elif c in _APOSTROPHES and before.isalpha() and after.isalpha():
            wrong = False
            # Counted twice: the one sign O’Brien has against OÕBrien, its other reading.
            usual += 2 * (after.isupper() or before in "lLdD" or bool(_CONTRACTION.match(text, i + 1)))
        elif c in _BY_NUMBERS and (before.isdigit() or after.isdigit()):
            wrong = False
            usual += 1
        else:
            wrong = before.isalpha() and after.isalpha()
        if wrong:
            odd += 1
            first = i if first < 0 else first
    return odd, usual, first


def decode_csv(file: str, data: bytes) -> tuple[str, str, list[Finding]]:
    """Return a CSV file's text, its delimiter and a finding saying how it was decoded when not as UTF-8.

    UTF-8 (with or without BOM) is read as it is. UTF-16 with a BOM (Excel's "Unicode Text") is read,
    tab-separated when its first line has tabs. A file with no UTF-8 in it is read as Windows-1252 or
    Mac Roman, whichever reads more like words (see _reading; Windows-1252 when neither does better), and
    says so. Raises
    CsvEncodingError, locating the first bad line, for a file that is UTF-8 except for some lines, and
    for one that no legacy encoding reads sensibly: either would otherwise reach documents garbled.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise CsvEncodingError(Finding(
                ERROR, "The file starts as UTF-16 text but is not UTF-16 throughout.", file=file,
                fix=SAVE_AS_UTF8[:1].upper() + SAVE_AS_UTF8[1:])) from None
        tabs = "\t" in text.partition("\n")[0]
        return text, "\t" if tabs else ",", [Finding(
            NOTE, "Read as UTF-16 (Excel's Unicode Text)" + (", tab-separated." if tabs else "."), file=file)]
    marked = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if marked else data
    try:
        return body.decode("utf-8"), ",", []
    except UnicodeDecodeError:
        pass
    if marked or any(not line.isascii() and _is_utf8(line) for line in re.split(rb"\r\n?|\n", body)):
        raise _not_utf8_throughout(file, body.decode("utf-8", "surrogateescape"))
    readings = []
    for order, (codec, label) in enumerate(LEGACY_ENCODINGS):
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            continue                    # bytes Windows-1252 leaves undefined: not that encoding
        odd, usual, at = _reading(text)
        readings.append((odd, -usual, order, at, text, label))
    odd, _, _, at, text, label = min(readings)
    if odd:
        line, row, cells = _locate(text, at)
        cell = next((c for c in cells if _reading(c)[0]), "")
        shown = _clipped(cell, _reading(cell)[2])
        # Both legacy encodings give one character per byte: the character's place is the byte's.
        raise CsvEncodingError(Finding(
            ERROR, f"The file is not UTF-8, and no older encoding reads it as words: byte 0x{body[at]:02X} "
                   f"on line {line} reads as '{text[at]}' in '{shown}' ({label}).",
            file=file, row=row, value=shown, fix=SAVE_AS_UTF8[:1].upper() + SAVE_AS_UTF8[1:]))
    position = next(i for i, c in enumerate(text) if not c.isascii())
    _, row, cells = _locate(text, position)
    example = next((c for c in cells if not c.isascii()), "")
    if label == "Windows-1252":
        return text, ",", [Finding(
            NOTE, f"Read as Windows-1252, not UTF-8 (row {row} reads '{_clipped(example)}').", file=file,
            fix=f"If accented letters look wrong, {SAVE_AS_UTF8}")]
    return text, ",", [Finding(
        WARNING, f"Read as {label} (an older Mac Excel's CSV), not UTF-8: the encoding is a guess "
                 f"(row {row} reads '{_clipped(example)}').", file=file,
        fix=f"Check the accented letters, or {SAVE_AS_UTF8}")]


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _pandas():
    import pandas
    return pandas


@dataclass(frozen=True)
class ReferenceTable:
    """A reference table of the templates' data: its headers, and its rows as header -> cell (a workbook's
    headers may be numbers)."""

    columns: tuple[Any, ...]
    rows: tuple[dict[Any, Any], ...]

    def column(self, header: str) -> list[Any]:
        """Return the column's cells, top to bottom; KeyError when the table has no such column."""
        return [row[header] for row in self.rows]


def read_table(path: Path, sheet_name: str | None = None) -> ReferenceTable:
    """Return a reference table (the templates' data) with its header row: a UTF-8 CSV, a BOM allowed, each
    cell text ("" where a row stops short); or a workbook's sheet (the first unless named), its cells as the
    inputs' are read (read_workbook: None where empty), blank rows left out as a CSV's are."""
    if path.suffix == ".csv":
        return _reference_csv(path)
    return _reference_sheet(path, sheet_name)


class CsvLayoutError(ValueError):
    """A CSV file that is not a table: empty, or with a line of more cells than its first (`fix` says what
    to look for)."""

    def __init__(self, message: str, fix: str = ""):
        super().__init__(message)
        self.fix = fix


def csv_rows(file: str, data: bytes) -> tuple[list[list[str]], list[Finding]]:
    """Return a CSV file's lines as rows of text cells, each as wide as the first line (a short line filled
    with "", a blank line all ""), and how it was decoded (decode_csv, which raises CsvEncodingError).
    Raise CsvLayoutError for an empty file, or a line with more cells than the first (a comma too many, or
    a cell with a comma not in quotes): which cell is which could only be guessed. By the csv module:
    pandas took 0.12 s to import for a few lines."""
    text, delimiter, notes = decode_csv(file, data)
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    width = next((len(line) for line in lines if line), 0)
    if not width:
        raise CsvLayoutError("the file is empty")
    for number, line in enumerate(lines, start=1):
        if len(line) > width:
            raise CsvLayoutError(f"line {number} has {len(line)} cells, the first line {width}",
                                 "Look on that line for a comma too many, or a cell holding a comma without "
                                 "quotes around it.")
    return [line + [""] * (width - len(line)) for line in lines], notes


def _reference_csv(path: Path) -> ReferenceTable:
    rows, decoded = csv_rows(path.name, path.read_bytes())
    guessed = [f for f in decoded if f.severity != NOTE]
    if guessed:         # an older Mac's encoding, guessed: the forms' words would be, too
        raise ValueError(f"{guessed[0].message} {guessed[0].fix}")
    header, *body = [row for row in rows if any(row)]             # blank lines left out
    # Empty headers may repeat: Excel writes a comma for each blank column a sheet once had.
    _refuse_repeated([h for h in header if h.strip()])
    return ReferenceTable(tuple(header), tuple(dict(zip(header, row)) for row in body))


def _refuse_repeated(header: list[Any]) -> None:
    """Raise ValueError naming the headers a reference table's header row names more than once: which
    column is which could only be guessed."""
    twice = sorted({str(h) for h in header if header.count(h) > 1})
    if twice:
        raise ValueError(f"the header names {', '.join(map(repr, twice))} more than once")


def _reference_sheet(path: Path, sheet_name: str | None) -> ReferenceTable:
    # By the inputs' reader, not pandas: every packet worker reads the ISBE grid's activities, and importing
    # pandas for them cost each worker about 0.3 s and 30 MB.
    sheets, _ = read_workbook(path)
    name = next(iter(sheets), "") if sheet_name is None else sheet_name
    if name not in sheets:
        raise ValueError(f"it has no sheet named '{name}'" if name else "it has no sheet")
    cells = sheets[name]

    def blank(value: Any) -> bool:
        return value is None or (isinstance(value, str) and not value.strip())

    rows = [row for row in cells if not all(blank(v) for v in row)]       # blank rows left out
    if not rows:
        raise ValueError(f"sheet '{name}' is empty")
    header, *body = rows
    width = max(i + 1 for row in rows for i, v in enumerate(row) if not blank(v))
    header = [f"Unnamed: {i}" if blank(h) else h for i, h in enumerate(header[:width])]
    _refuse_repeated(header)
    return ReferenceTable(tuple(header), tuple(dict(zip(header, row[:width])) for row in body))


def _read_csv(path: Path) -> tuple[Cells, list[Finding]]:
    rows, notes = csv_rows(path.name, path.read_bytes())
    return rows, notes


def _unreadable(exc: Exception) -> str:
    """Return one plain sentence for why a file could not be opened."""
    if isinstance(exc, PermissionError):
        return "Cannot be opened: it is locked or you lack permission. Close it in Excel and try again."
    if isinstance(exc, CsvLayoutError):
        return " ".join([f"{str(exc)[:1].upper()}{str(exc)[1:]}.", exc.fix]).strip()
    return ("Not a readable workbook: it may be corrupt, password-protected, or another kind of file renamed. "
            "Open it in Excel and save it again as .xlsx without a password.")


def workbook_path(folder: Path, stem: str) -> Path | None:
    """Return the workbook load_inputs reads for a stem (roster: the first of roster.xlsx, .xlsm, .ods
    there is), or None."""
    for suffix in WORKBOOK_SUFFIXES:
        path = folder / f"{stem}{suffix}"
        if path.is_file() and not path.name.startswith("~$"):
            return path
    return None


def file_digest(path: Path) -> bytes:
    """Return the SHA-256 of a file, worked out once a process for the file as it is (its inode, size and
    times): a build hashes a workbook for its run digest, and again for its store's key as it decides where
    to read it, reads it and keeps it."""
    stat = Path(path).stat()
    return _file_digest(Path(path), (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))


@lru_cache(maxsize=16)
def _file_digest(path: Path, stamp: tuple[int, ...]) -> bytes:
    # A megabyte at a time: a large district's goals.xlsx is tens of megabytes, held whole otherwise.
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


def sheet_csv(folder: Path, spec: Sheet) -> Path | None:
    """Return the CSV file a sheet is read from instead of its workbook (`roster_people.csv` for the
    People sheet of roster.xlsx), if there is one: the CSV file wins when both exist."""
    path = Path(folder) / spec.csv_name
    return path if path.is_file() else None


def source_bytes(folder: Path, sheets: tuple[Sheet, ...]) -> int:
    """Return the size of the files load_inputs would read these sheets from (each sheet's CSV file where
    there is one, else its workbook), 0 for files that are not there."""
    folder = Path(folder)
    paths = set()
    for spec in sheets:
        paths.add(sheet_csv(folder, spec) or workbook_path(folder, spec.workbook))
    return sum(path.stat().st_size for path in paths if path is not None)


@dataclass
class _Workbook:
    file: str = ""
    sheets: dict[str, Cells] | None = None   # None: missing or unreadable
    failed: bool = False


def _filled_cells(rows: list[list], merged: list[tuple[int, int, int, int]]) -> Cells:
    """Return rows of cell values as Cells (row i is Excel row i + 1), merged cells filled.

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
    return [row if len(row) == width else row[:width] + [None] * (width - len(row)) for row in rows]


def sheet_cells(ws) -> Cells:
    """Return an openpyxl worksheet's cell values, merged cells filled (_filled_cells)."""
    return _filled_cells([list(r) for r in ws.iter_rows(values_only=True)],
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


# A row start tag marked hidden, and a cell holding an error (#VALUE!, #REF!), in any sheet of the package
# (any namespace prefix, any attribute order).
_HIDDEN_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*\bhidden=\"(?:1|true)\"")
_ERROR_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*\bt=\"e\"")


def _calamine_cannot_read(path: Path) -> bool:
    """Return True for a workbook calamine would read differently from openpyxl: one with hidden rows
    (calamine cannot say which), or with a cell showing an error, which calamine reads as an empty cell
    (python-calamine issue 105) where openpyxl gives its text: a School Name showing #VALUE! is not empty."""
    with zipfile.ZipFile(path) as z:
        sheets = (z.read(name) for name in z.namelist() if name.startswith("xl/worksheets/") and name.endswith(".xml"))
        # The plain search first: most sheets hide nothing and hold no error, and it is far quicker.
        return any((b"hidden=" in xml and _HIDDEN_ROW.search(xml)) or (b't="e"' in xml and _ERROR_CELL.search(xml))
                   for xml in sheets)


def _calamine_value(value):
    """Return a value as openpyxl reads it, so both readers give the same cells: empty cells None,
    whole numbers int, dates as datetimes."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if type(value) is dt.date:
        return dt.datetime.combine(value, dt.time())
    return value


# From this size a workbook's sheets are parsed two at a time (_read_calamine): a large district's goals.xlsx
# (15 MB, seven sheets) took 3.3 s one sheet after another, 2.3 s so.
SHEETS_APART_BYTES = 4_000_000


def _read_calamine(path: Path) -> tuple[dict[str, Cells], list[Finding]]:
    """Read with calamine (compiled, an order of magnitude faster than openpyxl on large rosters). A large
    workbook's sheets are read by two threads, the largest first, each with a handle of its own: calamine's
    parsing lets go of the GIL."""
    book = CalamineWorkbook.from_path(str(path))
    worksheets = [meta for meta in book.sheets_metadata if meta.typ == SheetTypeEnum.WorkSheet]
    # Most cells are text, kept as they are without a call each; a text met before is the same object
    # (roles, stages, task names repeat from school to school), held once for the whole run.
    texts: dict[str, str] = {}
    if len(worksheets) < 2 or path.stat().st_size < SHEETS_APART_BYTES:
        sheets = {meta.name: _calamine_cells(book, meta.name, texts) for meta in worksheets}
    else:
        sizes = _sheet_sizes(path)
        waiting = sorted((meta.name for meta in worksheets), key=lambda name: -sizes.get(name, 0))

        def take(handle: CalamineWorkbook) -> dict[str, Cells]:
            mine = {}
            while waiting:
                try:
                    name = waiting.pop(0)
                except IndexError:          # the other thread took the last one
                    break
                mine[name] = _calamine_cells(handle, name, texts)
            return mine

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sheets") as other:
            theirs = other.submit(lambda: take(CalamineWorkbook.from_path(str(path))))
            read = {**take(book), **theirs.result()}
        sheets = {meta.name: read[meta.name] for meta in worksheets}
    notes = [_hidden_sheet(path, meta.name) for meta in worksheets if meta.visible != SheetVisibleEnum.Visible]
    return sheets, notes


def _calamine_cells(book: CalamineWorkbook, name: str, texts: dict[str, str]) -> Cells:
    sheet = book.get_sheet_by_name(name)
    rows = [[texts.setdefault(v, v) if v.__class__ is str and v else _calamine_value(v) for v in row]
            for row in sheet.to_python(skip_empty_area=False)]
    merged = [(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or ()]
    last = max((m[2] for m in merged), default=0)    # openpyxl's rows reach to the end of merged cells
    rows += [[None] * len(rows[0] if rows else [None]) for _ in range(last - len(rows))]
    return _filled_cells(rows, merged)


_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _sheet_sizes(path: Path) -> dict[str, int]:
    """Return each sheet's size in the workbook's zip, by name: which to read first. ({} where the workbook's
    parts cannot be followed; the sheets are then read in their order.)"""
    try:
        with zipfile.ZipFile(path) as z:
            targets = {rel.get("Id"): rel.get("Target", "")
                       for rel in ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
            sizes = {info.filename: info.file_size for info in z.infolist()}
            names = {sheet.get("name"): targets.get(sheet.get(f"{_RELS}id"), "")
                     for sheet in ElementTree.fromstring(z.read("xl/workbook.xml")).iter(f"{_MAIN}sheet")}
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return {}
    return {name: sizes.get(target.lstrip("/") if target.startswith("/") else f"xl/{target}", 0)
            for name, target in names.items() if name}


def read_workbook(path: Path) -> tuple[dict[str, Cells], list[Finding]]:
    """Return every sheet of an .xlsx, .xlsm or .ods workbook as its cells, and notes about it.

    Formulas count as the values Excel last calculated for them. Workbooks with hidden rows or error
    cells are read with openpyxl, which can say which rows are hidden and reads an error as its text;
    the rest with calamine, which is faster.
    """
    if path.suffix.lower() == ".ods":
        frames = _pandas().read_excel(path, sheet_name=None, header=None, dtype=object, engine="odf")
        return {name: frame.values.tolist() for name, frame in frames.items()}, []
    # Looked for while calamine reads: inflating the sheets' XML releases the GIL, and so does much of
    # calamine's parsing (on a 5,000-school district the look took 0.7 s of the main process's time).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="looking") as looking:
        unreadable = looking.submit(_calamine_cannot_read, path)
        read = _read_calamine(path)
        if not unreadable.result():
            return read
    return read_workbook_openpyxl(path)


def read_workbook_openpyxl(path: Path) -> tuple[dict[str, Cells], list[Finding]]:
    import openpyxl  # like pandas, only where a file is read: it is a sixth of a no-change run's imports
    book = openpyxl.load_workbook(path, data_only=True)
    notes = [n for ws in book.worksheets for n in _hidden_notes(path, ws)]
    return {ws.title: sheet_cells(ws) for ws in book.worksheets}, notes


def _open_workbook(folder: Path, stem: str, findings: list[Finding]) -> _Workbook:
    path = workbook_path(folder, stem)
    if path is None:
        return _Workbook()
    if (folder / f"~${path.name}").exists():
        findings.append(Finding(WARNING, "The workbook seems to be open in Excel (its lock file is present); "
                                         "changes not yet saved are not read.", file=path.name,
                                fix="Save the workbook (or close it) and run again."))
    try:
        sheets, notes = read_workbook(path)
    except Exception as exc:  # any reader failure is a problem with the file, reported as such
        findings.append(Finding(ERROR, _unreadable(exc), file=path.name))
        return _Workbook(path.name, failed=True)
    findings.extend(notes)
    return _Workbook(path.name, sheets)


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
        csv_path = sheet_csv(folder, spec)
        if csv_path is not None:
            try:
                cells, notes = _read_csv(csv_path)
            except CsvEncodingError as exc:
                findings.append(exc.finding)
            except Exception as exc:  # any reader failure is a problem with the file, reported as such
                findings.append(Finding(ERROR, _unreadable(exc), file=csv_path.name))
            else:
                found[spec.name] = RawSheet(csv_path.name, "", cells)
                findings.extend(notes)
            continue

        if spec.workbook not in books:
            books[spec.workbook] = _open_workbook(folder, spec.workbook, findings)
        book = books[spec.workbook]
        if book.failed:
            continue
        if book.sheets is None:
            if spec.required:
                findings.append(Finding(
                    ERROR, f"No {spec.workbook}.xlsx (or {spec.csv_name}) in {folder}.",
                    file=f"{spec.workbook}.xlsx",
                    fix=f"Add the {spec.workbook} workbook with a sheet named {spec.name} "
                        f"(`packets init` writes a blank one)."))
            continue

        match = next((name for name in book.sheets if header_key(name) == header_key(spec.name)), None)
        if match is None:
            if spec.required:
                findings.append(Finding(
                    ERROR, f"No sheet named {spec.name}.", file=book.file, sheet=spec.name,
                    fix=f"Rename the sheet that holds the {spec.name.lower()} to '{spec.name}' "
                        f"(sheets found: {', '.join(book.sheets) or 'none'})."))
            elif spec.note_if_missing:
                findings.append(Finding(NOTE, f"No sheet named {spec.name}; that part of the packet stays empty.",
                                        file=book.file, sheet=spec.name))
            continue
        found[spec.name] = RawSheet(book.file, str(match), book.sheets[match])
    return found, findings
