"""`packets import-directory` into a roster that exists: the yearly update (generator/setup/roster_update.py).

Year one: `packets init`, then the California excerpt's Alameda Unified imported; staff then fill in
designations, a team and phones by hand. Year two: a newer directory (the same excerpt, changed as a year
changes a district) imported into that roster.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from generator.findings import ERROR, PacketsError
from generator.inputs.normalize import normalize_sheet
from generator.inputs.read import load_inputs
from generator.inputs.schema import PEOPLE, SCHOOLS
from generator.output import atomic
from generator.setup.authoring import INSTRUCTIONS_SHEET, init_inputs
from generator.setup.directory import import_directory
from generator.setup.roster_update import ADDED, CHECK, NOT_IMPORTED, UPDATED

from conftest import DATA, find_row, header_column, run_cli

CA = DATA / "ca_pubschls_excerpt.xlsx"
DISTRICT = "Alameda Unified"
LUM, EDISON, OTIS, BAY_FARM, ADULT = "01611196090005", "01611196090013", "01611196090021", "01611196110779", \
    "01611190130120"
NEW_SCHOOL = "01611190199990"
HAND_ADDED = "9001"


def cell(ws, row: int, header: str):
    return ws.cell(row=row, column=header_column(ws, header)).value


def people_rows(ws) -> list[tuple]:
    return [tuple(c.value for c in r) for r in ws.iter_rows(min_row=2) if any(c.value for c in r)]


def newer_directory(tmp_path: Path) -> Path:
    """Return next year's directory: one school renamed, one moved, one closed, one new, a new principal at
    one school and a new superintendent."""
    wb = openpyxl.load_workbook(CA)
    ws = wb.active
    at = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(row=at[LUM], column=header_column(ws, "School"), value="Donald D. Lum Elementary School")
    ws.cell(row=at[OTIS], column=header_column(ws, "Street"), value="3012 Fillmore Street")
    ws.cell(row=at[BAY_FARM], column=header_column(ws, "StatusType"), value="Closed")
    for header, value in (("AdmFName1", "Aisha"), ("AdmLName1", "Grant"), ("AdmEmail1", "aisha.grant@example.org")):
        ws.cell(row=at[EDISON], column=header_column(ws, header), value=value)
    for header, value in (("AdmFName1", "Jordan"), ("AdmLName1", "Ellis"), ("AdmEmail1", "jordan.ellis@example.org")):
        ws.cell(row=at["01611190000000"], column=header_column(ws, header), value=value)
    ws.append([c.value for c in ws[at["01611190111765"]]])                 # a new school, Ruby Bridges' twin
    new = ws.max_row
    for header, value in (("CDSCode", NEW_SCHOOL), ("School", "Maya Angelou Elementary"), ("AdmFName1", "Noel"),
                          ("AdmLName1", "Park"), ("AdmEmail1", "noel.park@example.org")):
        ws.cell(row=new, column=header_column(ws, header), value=value)
    path = tmp_path / "pubschls-2027.xlsx"
    wb.save(path)
    return path


def staff_fill_in(roster: Path) -> None:
    """What a coordinator types into the imported roster in Excel during year one."""
    wb = openpyxl.load_workbook(roster)
    schools, people = wb["Schools"], wb["People"]
    lum = find_row(schools, "School ID", LUM)
    schools.cell(row=lum, column=header_column(schools, "Designation"), value="Intensive")
    schools.cell(row=lum, column=header_column(schools, "Support Level"), value=2)
    notes = schools.max_column + 1
    schools.cell(row=1, column=notes, value="Coordinator Notes")                 # a column of the district's own
    schools.cell(row=lum, column=notes, value="Board visit in March")
    schools.append([HAND_ADDED, "Alameda Virtual Academy", "Targeted"])        # a program the directory lacks
    edison = find_row(people, "School ID", EDISON)
    people.cell(row=edison, column=header_column(people, "Phone"), value="(510) 555-0101")
    kofi = find_row(people, "Name", "Kofi Mensah")
    people.cell(row=kofi, column=header_column(people, "Phone"), value="(510) 555-0199")
    ines = find_row(people, "Name", "Inés Lindqvist")
    people.cell(row=ines, column=header_column(people, "Email")).value = None     # the email taken out
    people.append([LUM, "Priya Shah", "Leadership Team Chair", "Teacher", "priya.shah@example.org"])
    people.append([None, "Sam Rivera", "School Improvement Coordinator", "Coordinator", "sam.rivera@example.org"])
    wb.save(roster)


@pytest.fixture
def year_one(tmp_path) -> Path:
    folder = tmp_path / "alameda"
    init_inputs(folder, "Alameda Unified School District", "2026-27")
    report, update = import_directory(CA, folder / "roster.xlsx", DISTRICT)
    assert not update.created and update.written and update.schools_before == 0
    assert update.count(ADDED, "school") == 8 and update.lines() == []      # the first import: counted, not listed
    staff_fill_in(folder / "roster.xlsx")
    return folder / "roster.xlsx"


def test_the_yearly_update_keeps_what_staff_entered_and_reports_what_changed(year_one, tmp_path):
    report, update = import_directory(newer_directory(tmp_path), year_one, DISTRICT)

    assert update.written and not update.created
    assert (update.count(ADDED, "school"), update.count(UPDATED, "school"), update.count(NOT_IMPORTED, "school")) \
        == (1, 2, 2)
    assert (update.count(ADDED, "person"), update.count(UPDATED, "person"), update.count(CHECK, "person")) == (1, 3, 0)
    assert update.summary().startswith(f"Updated {year_one}: schools 1 added, 2 updated, 2 not in the directory")
    lines = update.lines()
    assert lines == [c.line() for c in update.changes] and len(lines) == 9           # one line each
    expected = [
        f"added: {NEW_SCHOOL} Maya Angelou Elementary: new in the directory (K-5)",
        "added: 01611190199990 Maya Angelou Elementary: Principal Noel Park",
        f"updated: {LUM} Donald D. Lum Elementary School: School Name 'Donald D. Lum Elementary' -> "
        f"'Donald D. Lum Elementary School'",
        f"updated: {OTIS} Frank Otis Elementary: Address '3010 Fillmore Street, Alameda, CA 94501-5544' -> "
        f"'3012 Fillmore Street, Alameda, CA 94501-5544'",
        f"not imported: {BAY_FARM} Bay Farm: closed in the directory; kept on the roster; delete its row if it "
        f"needs no plan",
        f"not imported: {HAND_ADDED} Alameda Virtual Academy: not in the directory for Alameda Unified; kept on the "
        f"roster; delete its row if it needs no plan",
    ]
    for line in expected:
        assert line in lines
    assert any(line.startswith(f"updated: {EDISON} Edison Elementary: Principal 'Lena Novak' -> 'Aisha Grant'")
               and "old phone cleared" in line for line in lines)
    assert any(line.startswith("updated: district-wide: Superintendent 'Renée D'Amato' -> 'Jordan Ellis'")
               for line in lines)
    assert f"updated: {ADULT} Alameda Adult: Principal Inés Lindqvist: Email ines.lindqvist@example.org" \
        in " ".join(lines)

    wb = openpyxl.load_workbook(year_one)
    assert wb.sheetnames[0] == INSTRUCTIONS_SHEET                             # still the authoring workbook
    schools, people = wb["Schools"], wb["People"]
    assert schools["A1"].comment is not None
    lum = find_row(schools, "School ID", LUM)
    assert (cell(schools, lum, "School Name"), cell(schools, lum, "Designation"), cell(schools, lum, "Support Level"),
            cell(schools, lum, "Coordinator Notes")) == ("Donald D. Lum Elementary School", "Intensive", 2,
                                                         "Board visit in March")
    assert cell(schools, find_row(schools, "School ID", BAY_FARM), "School Name") == "Bay Farm"     # kept, reported
    assert cell(schools, find_row(schools, "School ID", HAND_ADDED), "Designation") == "Targeted"
    new = find_row(schools, "School ID", NEW_SCHOOL)
    assert schools.cell(row=new, column=1).data_type == "s" and schools.cell(row=new, column=1).number_format == "@"
    assert (cell(schools, new, "School Name"), cell(schools, new, "Designation")) == ("Maya Angelou Elementary",
                                                                                     "Not identified")
    rows = people_rows(people)
    assert (LUM, "Priya Shah", "Leadership Team Chair", "Teacher", "priya.shah@example.org", None) in rows
    assert (None, "Sam Rivera", "School Improvement Coordinator", "Coordinator", "sam.rivera@example.org", None) in rows
    assert (LUM, "Kofi Mensah", "Principal", "Administrator", "kofi.mensah@example.org", "(510) 555-0199") in rows
    assert (EDISON, "Aisha Grant", "Principal", "Administrator", "aisha.grant@example.org", None) in rows
    assert not any(r[1] == "Lena Novak" for r in rows)
    assert [r[1] for r in rows if r[2] == "Superintendent"] == ["Jordan Ellis"]
    assert (NEW_SCHOOL, "Noel Park", "Principal", "Administrator", "noel.park@example.org", None) in rows
    # The dropdowns and the filter reach the rows added.
    (designations,) = [dv for dv in schools.data_validations.dataValidation if f"C{new}" in dv.sqref]
    assert designations.type == "list"

    # The loader reads the updated roster without an error.
    raw, findings = load_inputs(year_one.parent, (SCHOOLS, PEOPLE))
    for spec in (SCHOOLS, PEOPLE):
        table, problems = normalize_sheet(raw[spec.name], spec)
        findings += problems
    assert [f.line() for f in findings if f.severity == ERROR] == []

    # The same directory again: nothing to add or update, and the file is not rewritten.
    before = year_one.read_bytes()
    _, again = import_directory(newer_directory(tmp_path), year_one, DISTRICT)
    assert not again.written and year_one.read_bytes() == before
    assert [c.kind for c in again.changes] == [NOT_IMPORTED, NOT_IMPORTED]
    assert again.summary().startswith(f"{year_one}: nothing to add or update from the directory (10 schools)")


def test_a_dry_run_reports_and_writes_nothing(year_one, tmp_path):
    before = year_one.read_bytes()
    _, update = import_directory(newer_directory(tmp_path), year_one, DISTRICT, dry_run=True)
    assert not update.written and year_one.read_bytes() == before
    assert update.summary().startswith("Would update") and update.summary().endswith("(--dry-run: nothing was written)")
    assert update.count(ADDED, "school") == 1


def test_a_principal_shared_by_two_people_is_only_reported(year_one, tmp_path):
    wb = openpyxl.load_workbook(year_one)
    wb["People"].append([EDISON, "Lena Novak's co-principal", "Principal"])
    wb.save(year_one)
    _, update = import_directory(newer_directory(tmp_path), year_one, DISTRICT)
    (check,) = [c for c in update.changes if c.kind == CHECK]
    assert check.school_id == EDISON and "the directory names Aisha Grant as Principal" in check.what
    rows = people_rows(openpyxl.load_workbook(year_one)["People"])
    assert {r[1] for r in rows if r[0] == EDISON} == {"Lena Novak", "Lena Novak's co-principal"}


def test_charter_schools_are_reported_until_imported(year_one, tmp_path):
    _, update = import_directory(CA, year_one, DISTRICT, charters=True)
    assert [c.school_id for c in update.changes if c.kind == ADDED and c.about == "school"] == ["01611190119222"]
    _, again = import_directory(CA, year_one, DISTRICT)
    assert ("01611190119222", "a charter school, not imported without --charters; kept on the roster") in \
        [(c.school_id, c.what) for c in again.changes if c.kind == NOT_IMPORTED]


def test_a_roster_with_lost_leading_zeros_is_matched_not_doubled(tmp_path):
    """Excel turned the School IDs into numbers: the update matches them and adds no second row."""
    roster = tmp_path / "roster.xlsx"
    import_directory(CA, roster, DISTRICT)
    wb = openpyxl.load_workbook(roster)
    ws = wb["Schools"]
    for row in range(2, ws.max_row + 1):
        ws.cell(row=row, column=1).value = int(ws.cell(row=row, column=1).value)
    wb.save(roster)
    _, update = import_directory(CA, roster, DISTRICT)
    assert update.changes == () and not update.written


def test_a_failed_write_leaves_the_roster_as_it_was(year_one, tmp_path, monkeypatch):
    before = year_one.read_bytes()

    def refuse(*_):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(OSError):
        import_directory(newer_directory(tmp_path), year_one, DISTRICT)
    assert year_one.read_bytes() == before
    assert not [p for p in year_one.parent.iterdir() if p.name.startswith(".tmp-")]


def test_a_file_that_is_not_a_roster_is_refused_and_kept(tmp_path):
    target = tmp_path / "roster.xlsx"
    target.write_bytes(b"not a workbook")
    with pytest.raises(PacketsError, match="cannot be read as a workbook.*nothing was written"):
        import_directory(CA, target, DISTRICT)
    assert target.read_bytes() == b"not a workbook"
    wb = openpyxl.Workbook()
    wb.active.title = "Budget"
    wb.save(target)
    with pytest.raises(PacketsError, match="has no Schools sheet"):
        import_directory(CA, target, DISTRICT)
    with pytest.raises(PacketsError, match="ending in .xlsx"):
        import_directory(CA, tmp_path / "roster.ods", DISTRICT)


def test_the_command_prints_a_summary_and_a_line_per_change(year_one, tmp_path):
    newer = newer_directory(tmp_path)
    result = run_cli("import-directory", str(newer), "--district", DISTRICT, "--output", str(year_one))
    assert result.exit_code == 0, result.output
    out = result.output.splitlines()
    summary = next(i for i, line in enumerate(out) if line.startswith("Updated "))
    assert "schools 1 added, 2 updated, 2 not in the directory (kept); people 1 added, 3 updated" in out[summary]
    assert len([line for line in out if line.startswith("  ")]) == 9
    assert f"  added: {NEW_SCHOOL} Maya Angelou Elementary: new in the directory (K-5)" in out
    assert "Skipped 1: charter school (--charters imports them)." in out
    # --force no longer replaces what staff entered.
    result = run_cli("import-directory", str(newer), "--district", DISTRICT, "--output", str(year_one), "--force")
    assert "no longer needed" in result.output
    assert cell(openpyxl.load_workbook(year_one)["Schools"], find_row(openpyxl.load_workbook(year_one)["Schools"],
                                                                      "School ID", LUM), "Designation") == "Intensive"


def test_a_new_roster_is_the_authoring_workbook_named_from_settings(tmp_path):
    folder = tmp_path / "district"
    folder.mkdir()
    shutil.copy(Path(__file__).parents[2] / "inputs" / "settings.toml", folder)
    result = run_cli("import-directory", str(CA), "--district", DISTRICT, "--output", str(folder / "roster.xlsx"))
    assert result.exit_code == 0, result.output
    assert f"Wrote a new roster {folder / 'roster.xlsx'}: 8 schools, 9 people rows." in result.output
    wb = openpyxl.load_workbook(folder / "roster.xlsx")
    assert wb.sheetnames == [INSTRUCTIONS_SHEET, "Schools", "People"]
    assert wb[INSTRUCTIONS_SHEET]["A1"].value == ("roster.xlsx: Riverbend Community Unit School District 117, "
                                                  "planning year 2026-27")
    ws = wb["Schools"]
    assert ws["C1"].comment is not None and any(dv.type == "list" for dv in ws.data_validations.dataValidation)
