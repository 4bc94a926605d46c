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

import csv
import datetime as dt
import difflib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import openpyxl

from generator.findings import PacketsError
from generator.inputs.read import CsvEncodingError, decode_csv
from generator.inputs.schema import DESIGNATIONS, NOT_IDENTIFIED, PEOPLE, SCHOOLS, header_key

CALIFORNIA = "California pubschls"
ILLINOIS = "Illinois RCDTS"

# The directory does not say how a school is identified; a placeholder designation would print on its
# forms as if it were true (issue 18), so an imported school is not identified until staff say otherwise.
DEFAULT_DESIGNATION = NOT_IDENTIFIED
PRINCIPAL = "Principal"
OTHER_ADMINISTRATOR = "Leadership Team Member"
ADMINISTRATOR_TITLE = "Administrator"
SUPERINTENDENT = "Superintendent"
# What the California directory writes in a cell it has nothing for (a district row's School, GSserved).
NO_DATA = "no data"

# The headers that identify each directory; matched ignoring case, spaces and punctuation.
REQUIRED_HEADERS = {
    CALIFORNIA: ("CDSCode", "StatusType", "District", "School"),
    ILLINOIS: ("RecType", "RCDTS", "FacilityName"),
}
HEADER_SEARCH_ROWS = 10           # a header row may sit under a few title rows

# Skip reasons, as shown to the user.
CLOSED = "closed"
MERGED = "merged"
PENDING = "pending"
DISTRICT_ROW = "district or county row"
OTHER_DISTRICT = "other district"
BLANK_NAME = "blank school name"
DUPLICATE_ID = "duplicate School ID"
CHARTER = "charter school"

# The reasons a school row of the directory is left out, as a roster update explains a school that is
# on the roster but not imported ("closed in the directory").
SCHOOL_REASONS = (CLOSED, MERGED, PENDING, CHARTER, BLANK_NAME)

# Illinois record types (RecType) that describe a district or a regional office, not a school.
IL_SCHOOL_TYPE = "sch"
IL_DISTRICT_TYPES = {"dist", "roe", "isc", "stateauthdist", "speceddist"}
# Charter schools: authorised by a district (under its code) or by the state (under a State Auth Dist row).
IL_CHARTER_TYPES = {"distauthchtr", "stateauthchtr"}
IL_SELECTABLE_DISTRICTS = {"dist", "stateauthdist"}     # the rows --district may name

_CA_ID_WIDTH = 14
_IL_ID_WIDTH = 15
_IL_DISTRICT_PREFIX = 11          # region 2 + county 3 + district 4 + type 2: the district's own code
_CA_DISTRICT_PREFIX = 7           # county 2 + district 5

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls, or an encrypted (password-protected) workbook


@dataclass(frozen=True)
class ImportReport:
    """What an import found: the counts a command prints after writing the roster."""

    source_format: str                   # "California pubschls" | "Illinois RCDTS"
    district: str | None                 # the district imported, as the directory spells it; None: all
    schools: int                         # school rows imported
    people: int                          # principal / administrator rows imported
    skipped: dict[str, int]              # reason -> rows left out, largest first
    districts_found: tuple[str, ...]     # the districts the imported schools belong to, sorted
    rows_read: int = 0                   # data rows in the directory (blank rows not counted)
    notes: tuple[str, ...] = field(default=())   # what the import assumed, for the user to check
    # School ID -> why the directory's school row was left out (closed, charter school, ...), for the
    # schools of the district asked for: a roster update says why a school on the roster was not imported.
    left_out: Mapping[str, str] = field(default_factory=dict)
    charters: bool = False               # charter schools were imported


class DistrictNotFound(PacketsError):
    """The `district` asked for is not in the directory; carries the closest names."""

    def __init__(self, message: str, district: str, suggestions: tuple[str, ...]):
        super().__init__(message)
        self.district = district
        self.suggestions = suggestions


# ---------------------------------------------------------------------------------------------
# Reading any table: .xlsx workbook or delimited text, format told by the header row.


@dataclass
class _Table:
    format: str
    headers: list[str]
    rows: list[Sequence[Any]]
    index: dict[str, int]                # header_key -> column position (first occurrence)

    def getter(self, header: str):
        """Return a function giving a row's cell under `header` (None when the column is absent)."""
        j = self.index.get(header_key(header))
        if j is None:
            return lambda row: None
        return lambda row: row[j] if j < len(row) else None


def _detect(cells: Iterable[Any]) -> str | None:
    keys = {header_key(c) for c in cells if c is not None and str(c).strip()}
    for name, needed in REQUIRED_HEADERS.items():
        if all(header_key(h) in keys for h in needed):
            return name
    return None


def _table_from_rows(rows: Iterator[Sequence[Any]], seen: list[list[str]]) -> _Table | None:
    """Find the header row among the first rows; return the table, or None (keeping what was seen)."""
    for _ in range(HEADER_SEARCH_ROWS):
        try:
            row = next(rows)
        except StopIteration:
            return None
        fmt = _detect(row)
        if fmt is None:
            if any(c is not None and str(c).strip() for c in row):
                seen.append([_text(c) for c in row if c is not None and str(c).strip()])
            continue
        headers = [_text(c) for c in row]
        index: dict[str, int] = {}
        for j, h in enumerate(headers):
            index.setdefault(header_key(h), j)
        data = [r for r in rows if any(c is not None and str(c).strip() for c in r)]
        return _Table(fmt, headers, data, index)
    return None


def _unreadable(path: Path, why: str) -> PacketsError:
    return PacketsError(f"{path}: cannot be read: {why}")


def _read_workbook(path: Path, data: bytes, seen: list[list[str]]) -> _Table | None:
    try:   # from bytes: openpyxl would refuse a workbook by its file name's suffix
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any reader failure is a problem with the file, reported as such
        raise _unreadable(path, "it is not a readable .xlsx workbook (it may be corrupt or another kind "
                                "of file renamed). Open it in Excel and save it again as .xlsx or CSV.") from exc
    try:
        for ws in wb.worksheets:
            table = _table_from_rows(ws.iter_rows(values_only=True), seen)
            if table is not None:
                return table
        return None
    finally:
        wb.close()


def _read_text(path: Path, data: bytes, seen: list[list[str]]) -> _Table | None:
    # Decoded as the inputs' CSV files are: a file mixing encodings is refused rather than read garbled.
    try:
        text, _, _ = decode_csv(path.name, data)
    except CsvEncodingError as exc:
        raise _unreadable(path, f"{exc.finding.message} Fix: {exc.finding.fix}") from None
    if "\x00" in text:
        raise _unreadable(path, "it is neither an .xlsx workbook nor a CSV text file.")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _table_from_rows(iter(reader), seen)
    except csv.Error as exc:
        raise _unreadable(path, f"it is not valid CSV ({exc}).") from exc


def _read_table(path: Path) -> _Table:
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise PacketsError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise PacketsError(f"{path}: is a folder; give the directory file itself (.xlsx or .csv).") from None
    except PermissionError:
        raise _unreadable(path, "it is locked or you lack permission; close it in Excel and try again.") from None
    except OSError as exc:
        raise _unreadable(path, exc.strerror or str(exc)) from None
    if not data.strip():
        raise _unreadable(path, "the file is empty.")
    if data.startswith(_OLE_MAGIC):
        raise _unreadable(path, "it is an old-style .xls or a password-protected workbook; open it in Excel and "
                                "save it as .xlsx (without a password) or CSV.")
    seen: list[list[str]] = []
    table = _read_workbook(path, data, seen) if data.startswith(_ZIP_MAGIC) else _read_text(path, data, seen)
    if table is None:
        expected = " or ".join(f"{name} ({', '.join(h)})" for name, h in REQUIRED_HEADERS.items())
        found = ", ".join(seen[0][:8]) + (", ..." if seen and len(seen[0]) > 8 else "") if seen else "no headers"
        raise PacketsError(f"{path}: not a school directory this tool reads: expected a header row with the "
                           f"columns of the {expected}; found: {found}.")
    return table


# ---------------------------------------------------------------------------------------------
# Cell values


def _text(value: Any) -> str:
    """Return a cell as text with its ends trimmed; names keep their accents and apostrophes."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).strip()


def _code(value: Any, width: int) -> str:
    """Return a directory code as text with its leading zeros, even if a spreadsheet made it a number."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)) and float(value).is_integer():
        return str(int(value)).zfill(width)
    text = _text(value)
    return text.zfill(width) if text.isdigit() and len(text) < width else text


def _name_key(text: str) -> str:
    """Return a name folded for matching: case and spaces ignored."""
    return re.sub(r"\s+", "", str(text)).casefold()


def _school_row(**values: Any) -> dict[str, Any]:
    """Return a Schools row keyed by the schema's headers (blank where the directory has nothing)."""
    return {c.name: values.get(c.key) for c in SCHOOLS.columns}


def _person_row(**values: Any) -> dict[str, Any]:
    return {c.name: values.get(c.key) for c in PEOPLE.columns}


# ---------------------------------------------------------------------------------------------
# Districts: which one the caller asked for


@dataclass
class _District:
    code: str
    name: str = ""
    county: str = ""
    names: set[str] = field(default_factory=set)   # every spelling seen, as name keys

    @property
    def label(self) -> str:
        return f"{self.name} ({self.county})" if self.county else self.name


def _choose_district(query: str, districts: dict[str, _District], path: Path, fmt: str) -> tuple[set[str], str]:
    """Return the codes of the district named `query` and its display name; raise when none or several."""
    key = _name_key(query)
    by_name = {code for code, d in districts.items() if key in d.names}
    by_label = {code for code, d in districts.items() if key == _name_key(d.label)}
    codes = by_name or by_label
    if not codes:
        suggestions = _suggest(query, districts)
        hint = (f" Did you mean: {'; '.join(suggestions)}?" if suggestions
                else f" No similar name found among its {len({d.name for d in districts.values()})} districts.")
        raise DistrictNotFound(f"{path.name}: no district named '{query}' in this {fmt} directory.{hint}",
                               query, suggestions)
    if len(codes) > 1:
        labels = sorted(districts[c].label for c in codes)
        raise PacketsError(f"{path.name}: '{query}' names {len(codes)} districts in this {fmt} directory: "
                           f"{'; '.join(labels)}. Give the county in brackets too, for example '{labels[0]}'.")
    (code,) = codes
    district = districts[code]
    return codes, (district.label if not by_name else district.name)


def _suggest(query: str, districts: dict[str, _District], limit: int = 5) -> tuple[str, ...]:
    """Return up to `limit` district names close to `query`: names starting with it first, then
    look-alikes (difflib), then names containing it."""
    labels: dict[str, str] = {}
    names = Counter(d.name for d in districts.values())
    for d in districts.values():
        shown = d.label if names[d.name] > 1 else d.name
        labels.setdefault(shown.casefold(), shown)
    wanted = " ".join(query.split()).casefold()
    key = _name_key(query)
    starting = sorted((v for k, v in labels.items() if key and _name_key(k).startswith(key)), key=lambda v: (len(v), v))
    containing = sorted((v for k, v in labels.items() if key and key in _name_key(k)), key=lambda v: (len(v), v))
    close = [labels[k] for k in difflib.get_close_matches(wanted, list(labels), n=limit, cutoff=0.6)]
    out: list[str] = []
    for name in starting + close + containing:
        if name not in out:
            out.append(name)
    return tuple(out[:limit])


# ---------------------------------------------------------------------------------------------
# The two directories


@dataclass
class _Result:
    schools: list[dict] = field(default_factory=list)
    people: list[dict] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    district_codes: set[str] = field(default_factory=set)
    seen_ids: set[str] = field(default_factory=set)
    district_names: tuple[str, ...] = ()
    left_out: dict[str, str] = field(default_factory=dict)

    def leave_out(self, school_id: str, reason: str) -> None:
        """Count a school row left out, and remember why by its id (the first reason an id met)."""
        self.skipped[reason] += 1
        if school_id:
            self.left_out.setdefault(school_id, reason)

    def add_school(self, school_id: str, district_code: str, **values: Any) -> bool:
        """Add a school unless its id was already imported; return whether it was added."""
        if school_id in self.seen_ids:
            self.skipped[DUPLICATE_ID] += 1
            return False
        self.seen_ids.add(school_id)
        self.schools.append(_school_row(school_id=school_id, designation=DEFAULT_DESIGNATION, **values))
        self.district_codes.add(district_code)
        return True

    def name_districts(self, districts: dict[str, _District]) -> None:
        """Set the names of the districts imported schools belong to; a name shared by several
        districts of the file gets its county, as `Name (County)`."""
        shared = Counter(d.name for d in districts.values())
        names = {(districts[c].label if shared[districts[c].name] > 1 else districts[c].name)
                 for c in self.district_codes if c in districts and districts[c].name}
        self.district_names = tuple(sorted(names, key=str.casefold))


def _address(street: str, city: str, state: str, zip_code: str) -> str | None:
    tail = " ".join(p for p in (state, zip_code) if p)
    return ", ".join(p for p in (street, city, tail) if p) or None


def _administrator(get, raw, n: int) -> tuple[str, str]:
    """Return the name and email of a California row's n-th administrator (AdmFName1, ...)."""
    name = " ".join(p for p in (_text(get[f"AdmFName{n}"](raw)), _text(get[f"AdmLName{n}"](raw))) if p)
    return name, _text(get[f"AdmEmail{n}"](raw))


def _read_california(table: _Table, path: Path, district: str | None,
                     charters: bool) -> tuple[_Result, str | None, list[str]]:
    get = {h: table.getter(h) for h in (
        "CDSCode", "StatusType", "County", "District", "School", "GSserved", "GSoffered",
        "Street", "City", "State", "Zip", "Charter",
        *(f"Adm{part}{n}" for n in (1, 2, 3) for part in ("FName", "LName", "Email")))}

    rows = []
    districts: dict[str, _District] = {}
    for raw in table.rows:
        cds = _code(get["CDSCode"](raw), _CA_ID_WIDTH)
        name = _text(get["School"](raw))
        if name.casefold() == NO_DATA:            # newer files write "No Data" on a district's own row
            name = ""
        dname = _text(get["District"](raw))
        rows.append((raw, cds, name, dname))
        d = districts.setdefault(cds[:_CA_DISTRICT_PREFIX], _District(cds[:_CA_DISTRICT_PREFIX]))
        if dname:
            d.names.add(_name_key(dname))
            if not d.name or not name:          # the district's own row names it best
                d.name = dname
        if not d.county:
            d.county = _text(get["County"](raw))

    wanted, shown = (_choose_district(district, districts, path, CALIFORNIA) if district else (None, None))
    result = _Result()
    superintendents: dict[str, tuple[str, str]] = {}     # district code -> its own row's first administrator
    for raw, cds, name, _ in rows:
        if wanted is not None and cds[:_CA_DISTRICT_PREFIX] not in wanted:
            result.skipped[OTHER_DISTRICT] += 1
            continue
        if not name and (cds.endswith("0000000") or not cds):
            result.skipped[DISTRICT_ROW] += 1
            head = _administrator(get, raw, 1)
            if cds and head[0] and _text(get["StatusType"](raw)).casefold() == "active":
                superintendents.setdefault(cds[:_CA_DISTRICT_PREFIX], head)
            continue
        status = _text(get["StatusType"](raw))
        if status.casefold() != "active":
            result.leave_out(cds, status.casefold() if status else "no status")
            continue
        if not name:
            result.leave_out(cds, BLANK_NAME)
            continue
        if not charters and _text(get["Charter"](raw)).upper() == "Y":
            result.leave_out(cds, CHARTER)
            continue
        grades = _text(get["GSserved"](raw)) or _text(get["GSoffered"](raw)) or None
        if grades and grades.casefold() == NO_DATA:
            grades = None
        address = _address(_text(get["Street"](raw)), _text(get["City"](raw)),
                           _text(get["State"](raw)), _text(get["Zip"](raw)))
        if not result.add_school(cds, cds[:_CA_DISTRICT_PREFIX], name=name, grades=grades, address=address):
            continue
        first = True
        for n in (1, 2, 3):
            person, email = _administrator(get, raw, n)
            if not person:
                continue
            result.people.append(_person_row(
                school_id=cds, name=person, role=PRINCIPAL if first else OTHER_ADMINISTRATOR,
                title=ADMINISTRATOR_TITLE, email=email or None))
            first = False
    result.name_districts(districts)

    notes = [
        "Grades come from GSserved (GSoffered where GSserved is blank); Address from Street, City, State and Zip.",
        f"People: each school's first administrator listed is its {PRINCIPAL}; the others are "
        f"{OTHER_ADMINISTRATOR}s, all titled '{ADMINISTRATOR_TITLE}'.",
    ]
    # The district's own row lists its superintendent; district-wide staff serve every school of the
    # roster, so the superintendent is kept only when the schools imported are one district's.
    chief = superintendents.get(next(iter(result.district_codes))) if len(result.district_codes) == 1 else None
    if chief:
        result.people.insert(0, _person_row(name=chief[0], role=SUPERINTENDENT, title=SUPERINTENDENT,
                                            email=chief[1] or None))
        notes.append(f"The {SUPERINTENDENT} ({chief[0]}) comes from the district's own row, with a blank School ID. "
                     f"Other district-wide staff (coordinators, district staff) are not in the directory: add "
                     f"them with a blank School ID.")
    elif len(result.district_codes) > 1:
        notes.append("The schools imported belong to several districts, so no superintendent was taken from the "
                     "directory: import one district (--district), or add district-wide staff with a blank "
                     "School ID.")
    else:
        notes.append("District-wide staff (Superintendent, coordinators) are not in the directory for this "
                     "district: add them with a blank School ID.")
    return result, shown, notes


def _read_illinois(table: _Table, path: Path, district: str | None,
                   charters: bool) -> tuple[_Result, str | None, list[str]]:
    get = {h: table.getter(h) for h in ("CountyName", "RecType", "RCDTS", "FacilityName")}

    rows = []
    districts: dict[str, _District] = {}
    for raw in table.rows:
        rcdts = _code(get["RCDTS"](raw), _IL_ID_WIDTH)
        rectype = " ".join(_text(get["RecType"](raw)).split())
        name = _text(get["FacilityName"](raw))
        rows.append((rcdts, rectype, name))
        if header_key(rectype) in IL_SELECTABLE_DISTRICTS:
            prefix = rcdts[:_IL_DISTRICT_PREFIX]
            d = districts.setdefault(prefix, _District(prefix, name, _text(get["CountyName"](raw))))
            d.names.add(_name_key(name))

    wanted, shown = (_choose_district(district, districts, path, ILLINOIS) if district else (None, None))
    result = _Result()
    other_types: Counter = Counter()
    for rcdts, rectype, name in rows:
        prefix = rcdts[:_IL_DISTRICT_PREFIX]
        if wanted is not None and prefix not in wanted:
            result.skipped[OTHER_DISTRICT] += 1
            continue
        kind = header_key(rectype)
        if kind in IL_DISTRICT_TYPES:
            result.skipped[DISTRICT_ROW] += 1
            continue
        if kind in IL_CHARTER_TYPES and not charters:
            result.leave_out(rcdts, CHARTER)
            continue
        if kind != IL_SCHOOL_TYPE and kind not in IL_CHARTER_TYPES:
            result.skipped[f"not a regular school (RecType {rectype or 'blank'})"] += 1
            other_types[rectype] += 1
            continue
        if not name:
            result.leave_out(rcdts, BLANK_NAME)
            continue
        result.add_school(rcdts, prefix, name=name)
    result.name_districts(districts)

    notes = [
        "The Illinois RCDTS directory has no status column: every school row (RecType 'Sch') is taken as open.",
        "The Illinois RCDTS directory lists no superintendent, principals, grades or addresses: the People sheet "
        "is empty; add each school's principal and the district staff (the superintendent with a blank School ID).",
    ]
    if other_types:
        notes.append("Rows of other record types (" + ", ".join(sorted(other_types)) + ") are not imported; "
                     "add any such program by hand if it needs a plan.")
    return result, shown, notes


_READERS = {CALIFORNIA: _read_california, ILLINOIS: _read_illinois}


def read_directory(path: Path, district: str | None = None,
                   charters: bool = False) -> tuple[list[dict], list[dict], ImportReport]:
    """Return the Schools rows, the People rows and a report for a state directory file.

    Rows are dicts keyed by the schema's headers (`School ID`, `School Name`, ...). Only open schools
    are imported, charter schools only with `charters`; closed, merged and pending schools, charter
    schools, district and county rows, rows of another district (when `district` is given) and schools
    without a name are counted in `report.skipped` (and the schools among them in `report.left_out`).
    When the schools are one district's, the superintendent its own row names (California) is the
    first People row, with a blank School ID.
    `district` is matched against the directory's district names ignoring case and spaces; a name
    shared by districts of several counties may be written `Name (County)`.

    Raises PacketsError when the file cannot be read or is not a known directory, and
    DistrictNotFound (a PacketsError) when `district` names no district; its message and
    `suggestions` give the closest names.
    """
    path = Path(path)
    table = _read_table(path)
    if district is not None and not district.strip():
        district = None
    result, shown, notes = _READERS[table.format](table, path, district, charters)
    notes = [f"Designation is not in the directory: every school is written as '{DEFAULT_DESIGNATION}'. "
             f"Change it on the Schools sheet where another applies ({', '.join(DESIGNATIONS)})."] + notes
    report = ImportReport(
        source_format=table.format,
        district=shown,
        schools=len(result.schools),
        people=len(result.people),
        skipped=dict(sorted(result.skipped.items(), key=lambda kv: (-kv[1], kv[0]))),
        districts_found=result.district_names,
        rows_read=len(table.rows),
        notes=tuple(notes),
        left_out=dict(result.left_out),
        charters=charters,
    )
    return result.schools, result.people, report
