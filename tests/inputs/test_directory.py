"""Importing a state school directory as a roster: generator/inputs/directory.py and generator/setup/directory.py.

The excerpts in tests/data are real rows, unmodified, from the California Department of Education
public schools directory (June 2018) and the Illinois State Board of Education RCDTS directory.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from generator.findings import PacketsError
from generator.inputs.directory import (
    CALIFORNIA,
    DEFAULT_DESIGNATION,
    ILLINOIS,
    DistrictNotFound,
    ImportReport,
    read_directory,
)
from generator.inputs.schema import PEOPLE, SCHOOLS
from generator.pipeline import load_district
from generator.settings import load_settings
from generator.setup.directory import write_roster

from conftest import AS_OF, DATA, SAMPLE, header_column

CA = DATA / "ca_pubschls_excerpt.xlsx"
IL = DATA / "il_rcdts_excerpt.csv"

# Alameda Unified's open schools in the excerpt; 01611190119222 (Nea Community Learning Center) is a charter.
ALAMEDA_IDS = ["01611190106401", "01611190111765", "01611190130120", "01611190130229",
               "01611196090005", "01611196090013", "01611196090021", "01611196110779"]
ALAMEDA_CHARTER = "01611190119222"


@pytest.fixture(scope="module")
def ca_all():
    return read_directory(CA)


@pytest.fixture(scope="module")
def ca_alameda():
    return read_directory(CA, "  alameda   UNIFIED ")


@pytest.fixture(scope="module")
def il_all():
    return read_directory(IL)


def by_id(rows):
    return {r["School ID"]: r for r in rows}


# --- California -------------------------------------------------------------------------------

def test_california_counts_every_district(ca_all):
    schools, people, report = ca_all
    assert isinstance(report, ImportReport)
    assert report.source_format == CALIFORNIA
    assert report.district is None
    assert (report.schools, report.people, report.rows_read) == (18, 22, 32)
    assert (len(schools), len(people)) == (18, 22)
    assert report.skipped == {"district or county row": 6, "closed": 4, "charter school": 2, "merged": 1,
                              "pending": 1}
    assert report.left_out["19647330117846"] == "charter school" and report.left_out["01611196090070"] == "closed"
    # Several districts: no district-wide superintendent, which would serve every school of the roster.
    assert not any(p["School ID"] is None for p in people)
    assert any("several districts" in note for note in report.notes)
    # The same district name in two counties is told apart by its county. (Los Angeles Unified's one school
    # in the excerpt is a charter.)
    assert report.districts_found == ("Alameda Unified", "Oakland Unified",
                                      "Oakley Union Elementary", "Piedmont City Unified",
                                      "Washington Unified (Fresno)", "Washington Unified (Yolo)")


def test_california_district_filter(ca_alameda):
    schools, people, report = ca_alameda
    assert report.district == "Alameda Unified"
    assert [s["School ID"] for s in schools] == ALAMEDA_IDS
    assert report.skipped == {"other district": 18, "closed": 4, "charter school": 1, "district or county row": 1}
    assert (report.schools, report.people) == (8, 9)
    assert report.districts_found == ("Alameda Unified",)
    assert {p["School ID"] for p in people} <= set(ALAMEDA_IDS) | {None}


def test_the_superintendent_comes_from_the_districts_own_row(ca_alameda):
    """The district row (School blank) lists the superintendent as its first administrator."""
    people = ca_alameda[1]
    assert (people[0]["School ID"], people[0]["Name"], people[0]["Role"], people[0]["Email"]) == (
        None, "Renée D'Amato", "Superintendent", "renee.damato@example.org")
    assert sum(p["Role"] == "Superintendent" for p in people) == 1
    assert any("Superintendent (Renée D'Amato)" in note for note in ca_alameda[2].notes)


def test_charter_schools_are_imported_when_asked():
    schools, people, report = read_directory(CA, "Alameda Unified", charters=True)
    assert ALAMEDA_CHARTER in {s["School ID"] for s in schools} and report.charters
    assert "charter school" not in report.skipped
    assert {p["Name"] for p in people if p["School ID"] == ALAMEDA_CHARTER} == {"Priya Raman", "Samuel Okafor"}
    assert read_directory(CA, charters=True)[2].schools == 20
    il_schools, _, il_report = read_directory(IL, charters=True)
    assert il_report.schools == 17 and "charter school" not in il_report.skipped
    charters = by_id(il_schools)
    assert charters["04101205025201C"]["School Name"] == "Legacy Acad of Excellence Charter Sch"


def test_california_school_fields(ca_all):
    schools = by_id(ca_all[0])
    assert list(schools["01611196090005"]) == [c.name for c in SCHOOLS.columns]
    lum = schools["01611196090005"]
    assert lum["School Name"] == "Donald D. Lum Elementary"
    assert lum["Designation"] == DEFAULT_DESIGNATION
    assert lum["Grades"] == "4-5"
    assert lum["Address"] == "420 Grand Street, Alameda, CA 94501-5941"
    assert schools["01611190130120"]["Grades"] == "Adult"          # GSserved blank: GSoffered
    assert schools["07617626108765"]["School Name"] == "O'Hara Park Middle"
    charters = by_id(read_directory(CA, charters=True)[0])
    assert charters["19647330117846"]["School Name"] == "Para Los Niños Middle"
    assert any("Not identified" in note for note in ca_all[2].notes)


def test_california_administrators_become_people(ca_all):
    people = ca_all[1]
    piedmont_high = [p for p in people if p["School ID"] == "01612750136515"]
    assert [(p["Name"], p["Role"], p["Title"], p["Email"]) for p in piedmont_high] == [
        ("Elliot Brennan", "Principal", "Administrator", "elliot.brennan@example.org"),
        ("Yuki Adeyemi", "Leadership Team Member", "Administrator", "yuki.adeyemi@example.org"),
        ("Rosa Castellano", "Leadership Team Member", "Administrator", "rosa.castellano@example.org"),
    ]
    principals = {p["School ID"]: p["Name"] for p in people if p["Role"] == "Principal"}
    assert len(principals) == 18                        # every imported school lists an administrator
    assert principals["01612756002299"] == "Amara O'Neal"           # apostrophes kept as written
    assert principals["57726940114710"] == "Silas Peña"
    assert list(people[0]) == [c.name for c in PEOPLE.columns]


def test_unknown_district_suggests_close_names():
    with pytest.raises(DistrictNotFound) as caught:
        read_directory(CA, "Alameda Unifed")
    assert caught.value.suggestions[0] == "Alameda Unified"
    assert "Did you mean: Alameda Unified" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, PacketsError)


def test_district_shared_by_two_counties_needs_the_county():
    with pytest.raises(PacketsError, match=r"Washington Unified \(Fresno\); Washington Unified \(Yolo\)"):
        read_directory(CA, "Washington Unified")
    schools, _, report = read_directory(CA, "washington unified (YOLO)")
    assert [s["School ID"] for s in schools] == ["57726940114710"]
    assert report.district == "Washington Unified (Yolo)"


def test_california_text_file_with_lost_zeros_and_blank_name(tmp_path):
    """A tab-separated export in Excel's "Unicode Text" (UTF-16) whose codes lost their leading zeros."""
    header = ["CDSCode", "StatusType", "County", "District", "School", "GSserved", "AdmFName1", "AdmLName1"]
    rows = [["1611190000000", "Active", "Alameda", "Alameda Unified", "", "", "Ann", "Super"],
            ["1611196090005", "Active", "Alameda", "Alameda Unified", "Donald D. Lum Elementary", "4-5", "", ""],
            ["1611196090013", "Active", "Alameda", "Alameda Unified", " ", "K-5", "", ""],
            ["1611196090013", "Active", "Alameda", "Alameda Unified", "Edison Elementary", "K-5", "", ""]]
    path = tmp_path / "pubschls.txt"
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-16")
    schools, people, report = read_directory(path)
    assert [s["School ID"] for s in schools] == ["01611196090005", "01611196090013"]
    assert report.skipped == {"blank school name": 1, "district or county row": 1}
    assert [(p["School ID"], p["Name"], p["Role"]) for p in people] == [(None, "Ann Super", "Superintendent")]


def test_a_district_row_whose_school_says_no_data_is_the_district(tmp_path):
    """Newer pubschls files write "No Data" in a district row's School cell."""
    header = ["CDSCode", "StatusType", "County", "District", "School", "Charter", "AdmFName1", "AdmLName1"]
    rows = [["01611190000000", "Active", "Alameda", "Alameda Unified", "No Data", "No Data", "Ann", "Super"],
            ["01611196090005", "Active", "Alameda", "Alameda Unified", "Donald D. Lum Elementary", "N", "", ""]]
    path = tmp_path / "pubschls.txt"
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    schools, people, report = read_directory(path)
    assert [s["School ID"] for s in schools] == ["01611196090005"]
    assert report.skipped == {"district or county row": 1}
    assert people[0]["Name"] == "Ann Super"


def test_a_directory_mixing_utf8_and_windows_1252_is_refused_not_read_garbled(tmp_path):
    """Decoded as the inputs' CSV files are: one Windows-1252 line in a UTF-8 file is named, never
    read whole as Windows-1252 (which would turn every UTF-8 name into mojibake)."""
    header = ["CDSCode", "StatusType", "County", "District", "School", "GSserved", "AdmFName1", "AdmLName1"]
    rows = [["01611196090005", "Active", "Alameda", "Alameda Unified", "Escuela Peña", "4-5", "María", "Ruiz"],
            ["01611196090013", "Active", "Alameda", "Alameda Unified", "Edison Elementary", "K-5", "José", "Núñez"]]
    lines = ["\t".join(r) for r in [header, *rows]]
    path = tmp_path / "pubschls.txt"
    path.write_bytes("\n".join(lines[:2]).encode("utf-8") + b"\n" + lines[2].encode("cp1252") + b"\n")
    with pytest.raises(PacketsError, match="pubschls.txt") as caught:
        read_directory(path)
    assert "line 3" in str(caught.value).lower() and "\n" not in str(caught.value)
    path.write_bytes("\n".join(lines).encode("cp1252") + b"\n")          # Windows-1252 throughout is read
    schools, people, _ = read_directory(path)
    assert [s["School Name"] for s in schools] == ["Escuela Peña", "Edison Elementary"]
    assert "María Ruiz" in {p["Name"] for p in people}


# --- Illinois ---------------------------------------------------------------------------------

def test_illinois_counts(il_all):
    schools, people, report = il_all
    assert report.source_format == ILLINOIS
    assert (report.schools, report.people, report.rows_read) == (15, 0, 23)
    assert people == []
    assert report.skipped == {"district or county row": 5, "charter school": 2,
                              "not a regular school (RecType Spec Ed Sch)": 1}
    assert report.districts_found == ("Lemont-Bromberek CSD 113A", "Payson CUSD 1", "Quincy SD 172")
    ids = by_id(schools)
    assert ids["010010010260001"]["School Name"] == "Seymour High School"
    assert ids["07016113A022005"]["School Name"] == "Central School"       # RCDTS with a letter
    assert all(s["Designation"] == DEFAULT_DESIGNATION for s in schools)


def test_illinois_district_is_the_dist_row_with_the_same_code_prefix():
    schools, _, report = read_directory(IL, "QUINCY sd 172")
    assert report.district == "Quincy SD 172"
    assert len(schools) == 9 and all(s["School ID"].startswith("01001172022") for s in schools)
    assert report.skipped == {"other district": 13, "district or county row": 1}
    with pytest.raises(DistrictNotFound, match="Quincy SD 172"):
        read_directory(IL, "Quincy 172")


def test_format_is_told_by_headers_not_file_name(tmp_path):
    renamed = tmp_path / "directory.dat"
    shutil.copy(IL, renamed)
    assert read_directory(renamed)[2].source_format == ILLINOIS
    renamed = tmp_path / "export.csv"
    shutil.copy(CA, renamed)                   # a workbook with the wrong suffix
    assert read_directory(renamed)[2].source_format == CALIFORNIA


# --- Errors -----------------------------------------------------------------------------------

def test_unknown_format_names_file_and_expected_headers():
    with pytest.raises(PacketsError) as caught:
        read_directory(SAMPLE / "roster.xlsx")
    message = str(caught.value)
    assert "roster.xlsx" in message and "CDSCode" in message and "RCDTS" in message
    assert "School ID" in message                        # what was found instead
    assert "\n" not in message


@pytest.mark.parametrize("content, expected", [
    (b"PK\x03\x04 not really a zip", "cannot be read"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old-style .xls"),
    (b"", "empty"),
    (b"name,phone\nAda,555\n", "not a school directory"),
])
def test_unreadable_or_foreign_files(tmp_path, content, expected):
    path = tmp_path / "directory.xlsx"
    path.write_bytes(content)
    with pytest.raises(PacketsError, match=expected) as caught:
        read_directory(path)
    assert "directory.xlsx" in str(caught.value) and "\n" not in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(PacketsError, match="no such file"):
        read_directory(tmp_path / "nowhere.xlsx")


# --- Writing the roster -----------------------------------------------------------------------

def test_written_roster_keeps_ids_as_text(ca_alameda, tmp_path):
    schools, people, _ = ca_alameda
    path = tmp_path / "new" / "roster.xlsx"
    write_roster(schools, people, path)
    assert [p.name for p in path.parent.iterdir()] == ["roster.xlsx"]       # no temporary file left
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Instructions", "Schools", "People"]        # the workbook `packets init` writes
    ws = wb["Schools"]
    assert ws["A1"].comment is not None and "leading zeros" in ws["A1"].comment.text
    assert [c.value for c in ws[1]] == [c.name for c in SCHOOLS.columns]
    assert all(c.font.b for c in ws[1]) and ws.freeze_panes == "A2"
    assert ws.column_dimensions["B"].width > 20
    ids = [ws.cell(row=r, column=1) for r in range(2, ws.max_row + 1)]
    assert [c.value for c in ids] == ALAMEDA_IDS
    lum = ids[ALAMEDA_IDS.index("01611196090005")]
    assert lum.value == "01611196090005" and lum.data_type == "s" and lum.number_format == "@"
    assert ws.cell(row=2, column=header_column(ws, "Designation")).value == "Not identified"
    wp = wb["People"]
    assert [c.value for c in wp[1]] == [c.name for c in PEOPLE.columns]
    assert wp.max_row == len(people) + 1
    assert wp.cell(row=2, column=1).value is None and wp.cell(row=2, column=3).value == "Superintendent"
    assert wp.cell(row=3, column=1).data_type == "s"


def test_write_roster_replaces_and_keeps_text(tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(b"old")
    write_roster([{"School ID": "0007", "School Name": "=Not a formula", "Designation": "Comprehensive"}],
                 [], path)
    ws = openpyxl.load_workbook(path)["Schools"]
    assert ws["A2"].value == "0007" and ws["B2"].value == "=Not a formula" and ws["B2"].data_type == "s"
    assert openpyxl.load_workbook(path)["People"].max_row == 1


# --- The pipeline accepts the result ----------------------------------------------------------

def _district_folder(tmp_path: Path, directory: Path, district: str | None) -> Path:
    folder = tmp_path / "district"
    folder.mkdir()
    schools, people, _ = read_directory(directory, district)
    write_roster(schools, people, folder / "roster.xlsx")
    shutil.copy(SAMPLE / "settings.toml", folder)
    wb = openpyxl.load_workbook(SAMPLE / "timeline.xlsx")
    for name in ("Tasks", "Meetings", "Review"):        # keep only district-wide rows
        ws = wb[name]
        col = header_column(ws, "School ID")
        for row in range(ws.max_row, 1, -1):
            if ws.cell(row=row, column=col).value not in (None, ""):
                ws.delete_rows(row)
    wb.save(folder / "timeline.xlsx")
    return folder


@pytest.mark.parametrize("directory, district, count", [(CA, "Alameda Unified", 8), (IL, None, 15)])
def test_pipeline_loads_the_imported_roster(tmp_path, directory, district, count):
    folder = _district_folder(tmp_path, directory, district)
    settings = load_settings(folder, tmp_path / "out", dt.date.fromisoformat(AS_OF))
    model, _ = load_district(settings)
    assert len(model.schools) == count
    ids = {s.school_id for s in model.schools}
    if directory == CA:
        assert "01611196090005" in ids
        assert all(s.designation == "Not identified" for s in model.schools)   # the directory does not say
    else:
        assert "07016113A022005" in ids
