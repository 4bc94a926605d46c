"""The yearly roster update: a newer state directory merged into the roster staff have filled in.

The directory is the source of what it knows: each school's name, grades and address, its principal and
the district's superintendent. Everything else on the roster is the district's own and is kept as it is:
designations, support levels and dates, the people staff entered (teams, coordinators, phones), extra
columns and sheets, formatting. So an update

- adds the directory's schools the roster lacks (with their administrators);
- updates a school's name, grades and address where the directory now says otherwise;
- replaces a school's principal (or the superintendent) by the one the directory names, when the roster
  lists one other person in that role; fills a blank email; with several people in the role, or the same
  person, it only reports;
- reports the roster's schools the directory no longer lists (closed, merged, a charter school not
  imported), and keeps their rows: whether a school still needs a plan is the district's to say.

The workbook is edited in place (openpyxl) and written atomically: the old roster stays whole until the
new one is on disk, and nothing is written when reading it fails.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import openpyxl
from openpyxl.utils import column_index_from_string

from generator.findings import PacketsError
from generator.inputs.directory import CHARTER, PRINCIPAL, SUPERINTENDENT, ImportReport
from generator.inputs.normalize import HEADER_SEARCH_ROWS, Row, Table, clean_text, normalize_sheet
from generator.inputs.read import RawSheet, sheet_cells, sheet_csv
from generator.inputs.schema import PEOPLE, SCHOOLS, Sheet, header_key
from generator.output.atomic import write_atomic
from generator.output.sheet_edit import SheetEditor, header_row
from generator.setup.authoring import add_data_sheet

# What a change is, as the report's first word.
ADDED = "added"
UPDATED = "updated"
NOT_IMPORTED = "not imported"        # on the roster, not among the directory's schools: kept
CHECK = "check"                      # the directory and the roster differ in a way left to staff

# The School fields the directory supplies; every other column is the district's own.
DIRECTORY_FIELDS = ("name", "grades", "address")



@dataclass(frozen=True)
class Change:
    """One line of the update's report."""

    kind: str                 # ADDED | UPDATED | NOT_IMPORTED | CHECK
    about: str                # "school" | "person"
    school_id: str            # "" for district-wide staff
    school: str               # the school's name on the roster (or "district-wide")
    what: str                 # what changed, or what to check

    def line(self) -> str:
        where = f"{self.school_id} {self.school}".strip()
        return f"{self.kind}: {where}: {self.what}"


@dataclass(frozen=True)
class RosterUpdate:
    """What an import did to the roster: written new, or merged into the one staff keep."""

    path: Path
    created: bool                        # there was no roster: a new one was written
    written: bool                        # False on a dry run, or when nothing changed
    dry_run: bool
    schools: int                         # schools on the roster after the import
    people: int                          # people rows on the roster after the import
    schools_before: int = 0
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def count(self, kind: str, about: str) -> int:
        if kind == UPDATED and about == "school":        # a school is updated once, however many fields
            return len({c.school_id for c in self.changes if c.kind == kind and c.about == about})
        return sum(c.kind == kind and c.about == about for c in self.changes)

    def summary(self) -> str:
        """Return the one line saying what the import did."""
        if self.created:
            verb = "Wrote a new roster" if self.written else "Would write a new roster"
            return (f"{verb} {self.path}: {_n(self.schools, 'school')}, {_n(self.people, 'person row')}"
                    + ("." if self.written else " (--dry-run: nothing was written)."))
        if not any(c.kind in (ADDED, UPDATED) for c in self.changes):
            rest = len(self.changes)
            return (f"{self.path}: nothing to add or update from the directory ({_n(self.schools, 'school')})"
                    + (f"; {_n(rest, 'point')} to look at below" if rest else "") + "; nothing was written.")
        schools = [f"{self.count(ADDED, 'school')} added", f"{self.count(UPDATED, 'school')} updated",
                   f"{self.count(NOT_IMPORTED, 'school')} not in the directory (kept)"]
        people = [f"{self.count(ADDED, 'person')} added", f"{self.count(UPDATED, 'person')} updated"]
        checks = self.count(CHECK, "school") + self.count(CHECK, "person")
        verb = "Would update" if self.dry_run else "Updated"
        return (f"{verb} {self.path}: schools {', '.join(schools)}; people {', '.join(people)}"
                + (f"; {_n(checks, 'difference')} to check" if checks else "")
                + ". Designations and the people staff entered are kept."
                + (" (--dry-run: nothing was written)" if self.dry_run else ""))

    def lines(self) -> list[str]:
        """Return the changes one line each; the schools (and their people) added to a roster that had
        none are only counted: that is the first import, not news."""
        first = self.schools_before == 0
        return [c.line() for c in self.changes if not (first and c.kind == ADDED)]


def _n(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} " + ("people rows" if noun == "person row" else f"{noun}s" if not noun.endswith("s") else noun)


def _id_key(school_id: Any) -> str:
    """Return the form two School IDs share when they differ only by case or lost leading zeros."""
    return str(school_id or "").casefold().lstrip("0") or "0"


def _person_key(name: Any) -> str:
    """Return a person's name folded for matching: case, spacing and accents ignored."""
    text = unicodedata.normalize("NFKD", clean_text(name))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


def _same(old: Any, new: Any) -> bool:
    return clean_text(old) == clean_text(new)


# --- the sheets as they are ---------------------------------------------------------------------------

class _Editor(SheetEditor):
    """One schema sheet of the roster: its rows as the loader reads them, and cells to change in place."""

    def __init__(self, path: Path, ws, spec: Sheet):
        self.table: Table
        self.table, _ = normalize_sheet(RawSheet(path.name, ws.title, sheet_cells(ws)), spec)
        if not self.table.columns:
            raise PacketsError(f"{path}, sheet {ws.title}: no header row found (none of the first "
                               f"{HEADER_SEARCH_ROWS} rows names its columns, such as "
                               f"{', '.join(c.name for c in spec.columns if c.required)}); nothing was written. "
                               f"Fix: put the headers back in one row, or give --output a new file.")
        headers = header_row(ws, *next(iter(self.table.columns.values())))
        super().__init__(ws, spec, {k: column_index_from_string(col) for k, (col, _) in self.table.columns.items()},
                         headers, max([r.number for r in self.table.rows] + [headers]) + 1)

    @property
    def rows(self) -> tuple[Row, ...]:
        return self.table.rows

    def append_named(self, values: Mapping[str, Any]) -> int:
        """Write a new row from a directory row keyed by header name; return its row number."""
        return self.append({col.key: values.get(col.name) for col in self.spec.columns})


def _find_sheet(wb, spec: Sheet):
    return next((ws for ws in wb.worksheets if header_key(ws.title) == header_key(spec.name)), None)


def _load(path: Path):
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PacketsError(f"{path}: cannot be read ({exc.strerror or exc}); nothing was written. Fix: close it "
                           f"in Excel and check its permissions.") from None
    try:
        return openpyxl.load_workbook(io.BytesIO(data), keep_vba=path.suffix.lower() == ".xlsm")
    except Exception as exc:  # any reader failure is a problem with the file, reported as such
        raise PacketsError(f"{path}: cannot be read as a workbook ({type(exc).__name__}: {exc}); nothing was "
                           f"written. Fix: open it in Excel and save it as .xlsx, or give --output a new "
                           f"file.") from None


# --- the merge ----------------------------------------------------------------------------------------

class _Merge:
    def __init__(self, schools: _Editor, people: _Editor, report: ImportReport):
        self.schools, self.people, self.report = schools, people, report
        self.changes: list[Change] = []
        self.names = {_id_key(r["school_id"]): r["name"] or "" for r in schools.rows if r["school_id"]}

    def note(self, kind: str, about: str, school_id: str, what: str) -> None:
        school = self.names.get(_id_key(school_id), "") if school_id else "district-wide"
        self.changes.append(Change(kind, about, school_id, school, what))

    def run(self, directory_schools: list[dict], directory_people: list[dict]) -> None:
        roster: dict[str, Row] = {}
        for listed in self.schools.rows:
            if listed["school_id"]:
                roster.setdefault(_id_key(listed["school_id"]), listed)
        by_school: dict[str, list[dict]] = {}
        for person in directory_people:
            by_school.setdefault(_id_key(person.get("School ID")) if person.get("School ID") else "", []).append(person)

        imported = set()
        for school in directory_schools:
            key = _id_key(school["School ID"])
            imported.add(key)
            row = roster.get(key)
            if row is None:
                self.schools.append_named(school)
                self.names[key] = school["School Name"]
                self.note(ADDED, "school", school["School ID"],
                          "new in the directory" + (f" ({school['Grades']})" if school.get("Grades") else ""))
                for person in by_school.get(key, []):
                    self._add_person(person)
                continue
            self._update_school(row, school)
            principal = next((p for p in by_school.get(key, []) if p.get("Role") == PRINCIPAL), None)
            if principal:
                self._sync_holder(principal, str(row["school_id"]))
        head = next((p for p in by_school.get("", []) if p.get("Role") == SUPERINTENDENT), None)
        if head:
            self._sync_holder(head, None)
        for key, row in roster.items():
            if key not in imported:
                self.note(NOT_IMPORTED, "school", str(row["school_id"]), self._why_not_imported(key))

    def _update_school(self, row: Row, school: dict) -> None:
        for key in DIRECTORY_FIELDS:
            header = SCHOOLS.column(key).name
            new = school.get(header)
            if new in (None, "") or _same(row[key], new):
                continue
            old = row[key]
            self.schools.set(row.number, key, new)
            if key == "name":
                self.names[_id_key(row["school_id"])] = new
            was = f"'{clean_text(old)}' -> " if old else ""
            self.note(UPDATED, "school", str(row["school_id"]), f"{header} {was}'{clean_text(new)}'")

    def _why_not_imported(self, key: str) -> str:
        reasons = {_id_key(i): r for i, r in self.report.left_out.items()}
        reason = reasons.get(key)
        kept = "kept on the roster; delete its row if it needs no plan"
        if reason == CHARTER:
            return "a charter school, not imported without --charters; kept on the roster"
        if reason:
            return f"{reason} in the directory; {kept}"
        where = f" for {self.report.district}" if self.report.district else ""
        return f"not in the directory{where}; {kept}"

    def _add_person(self, person: dict) -> None:
        self.people.append_named(person)
        self.note(ADDED, "person", person.get("School ID") or "", f"{person['Role']} {person['Name']}")

    def _sync_holder(self, person: dict, school_id: str | None) -> None:
        """Make the roster's holder of a role the directory names (a school's principal, the
        superintendent) that person: add, fill a blank email, or replace the one other person in it."""
        role, name, email = person["Role"], person["Name"], person.get("Email") or ""
        scope = _id_key(school_id) if school_id else None
        holders = [r for r in self.people.rows if r["role"] == role
                   and (_id_key(r["school_id"]) if r["school_id"] else None) == scope]
        shown = school_id or ""
        same = next((r for r in holders if _person_key(r["name"]) == _person_key(name)), None)
        if same is not None:
            if email and not same["email"]:
                self.people.set(same.number, "email", email)
                self.note(UPDATED, "person", shown, f"{role} {same['name']}: Email {email} (People row {same.number})")
            return
        if not holders:
            self._add_person({**person, "School ID": school_id})
            return
        if len(holders) > 1:
            listed = "; ".join(str(r["name"]) for r in holders)
            self.note(CHECK, "person", shown, f"the directory names {name} as {role}; the roster lists {listed} "
                                              f"(People rows {', '.join(str(r.number) for r in holders)}): kept")
            return
        (old,) = holders
        self.people.set(old.number, "name", name)
        self.people.set(old.number, "email", email or None)
        if old["phone"]:
            self.people.set(old.number, "phone", None)    # the phone was the person's before
        self.note(UPDATED, "person", shown, f"{role} '{old['name']}' -> '{name}' (People row {old.number}"
                                            + (f"; email {email}" if email else "; no email in the directory")
                                            + ("; old phone cleared" if old["phone"] else "") + ")")


def update_roster(path: Path, schools: list[dict], people: list[dict], report: ImportReport,
                  dry_run: bool = False) -> RosterUpdate:
    """Merge the directory's `schools` and `people` (rows keyed by header name, as read_directory returns
    them) into the roster workbook at `path`, in place; write it atomically unless `dry_run` or nothing
    changed; return what changed."""
    path = Path(path)
    wb = _load(path)
    school_ws = _find_sheet(wb, SCHOOLS)
    if school_ws is None:
        raise PacketsError(f"{path} has no {SCHOOLS.name} sheet, so it is not a roster; nothing was written. "
                           f"Fix: give --output the district's roster.xlsx, or a new file.")
    people_ws = _find_sheet(wb, PEOPLE)
    if people_ws is None:
        add_data_sheet(wb, PEOPLE)
        people_ws = wb[PEOPLE.name]
    schools_editor = _Editor(path, school_ws, SCHOOLS)
    people_editor = _Editor(path, people_ws, PEOPLE)
    before = sum(1 for r in schools_editor.rows if r["school_id"])
    merge = _Merge(schools_editor, people_editor, report)
    merge.run(schools, people)

    changed = any(c.kind in (ADDED, UPDATED) for c in merge.changes)
    written = changed and not dry_run
    schools_editor.finish()
    people_editor.finish()
    if written:
        buffer = io.BytesIO()
        wb.save(buffer)
        write_atomic(path, buffer.getvalue())
    after_schools = before + sum(c.kind == ADDED and c.about == "school" for c in merge.changes)
    after_people = (sum(1 for r in people_editor.rows if r["name"] or r["role"])
                    + sum(c.kind == ADDED and c.about == "person" for c in merge.changes))
    notes = []
    for spec in (SCHOOLS, PEOPLE):
        csv_path = sheet_csv(path.parent, spec)
        if csv_path is not None:
            notes.append(f"{csv_path} is what the packets read instead of the {spec.name} sheet "
                         f"of {path.name}: copy the changes there, or remove it.")
    return RosterUpdate(path, False, written, dry_run, after_schools, after_people, before, tuple(merge.changes),
                        tuple(notes))

