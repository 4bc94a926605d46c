"""Normalize: headers matched loosely, cells cleaned, dates/times/ids parsed, every problem located to the cell."""

from __future__ import annotations

import datetime as dt
import pickle
import unicodedata

import pandas as pd
import pytest

from generator.findings import ERROR, NOTE, WARNING
from generator.inputs.normalize import clean_text, format_time, is_blank, normalize_sheet, parse_date
from generator.inputs.read import RawSheet
from generator.inputs.schema import PEOPLE, ROLES, SCHOOLS, TASKS, header_key


def raw(rows, file="roster.xlsx", sheet="Schools") -> RawSheet:
    """A RawSheet whose row i is Excel row i + 1, every row as wide as the widest, as the loader reads it."""
    width = max(len(r) for r in rows)
    return RawSheet(file, sheet, [list(r) + [None] * (width - len(r)) for r in rows])


def schools(*data, header=("School ID", "School Name", "Designation")):
    return raw([list(header), *[list(r) for r in data]])


def errors_of(findings):
    return [f for f in findings if f.severity == ERROR]


# --- headers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["School ID", "school_id", "School Id #", " SCHOOL\nID ", "School Code",
                                     "school\u00a0id", "SCHOOL-ID", "Building ID"])
def test_school_id_header_matches_loosely_and_by_synonym(written):
    table, findings = normalize_sheet(
        raw([["Name", written, "Designation"], ["Lincoln", "0101", "Targeted"]]), SCHOOLS)
    assert table.columns["school_id"] == ("B", clean_text(written))
    assert table.columns["name"] == ("A", "Name")
    assert table.columns["designation"] == ("C", "Designation")
    assert table.rows[0]["school_id"] == "0101"
    assert errors_of(findings) == []


def test_header_kept_as_written_for_messages():
    table, _ = normalize_sheet(raw([[" SCHOOL\nID ", "School Name", "Designation"], ["1", "A", "Targeted"]]),
                               SCHOOLS)
    # cleaned (trimmed, lines kept) but not canonicalised: messages quote what staff see in the sheet
    assert table.columns["school_id"] == ("A", "SCHOOL\nID")


def test_columns_letters_past_z():
    header = [None] * 26 + ["School ID", "School Name", "Designation"]
    data = [None] * 26 + ["0101", "Lincoln", "Targeted"]
    table, findings = normalize_sheet(raw([header, data]), SCHOOLS)
    assert table.columns["school_id"] == ("AA", "School ID")
    assert table.columns["designation"] == ("AC", "Designation")
    assert errors_of(findings) == []


def test_title_block_above_header_gives_excel_row_numbers():
    frame = raw([
        ["Riverbend CUSD 117 - School roster", None, None],
        ["Prepared 2026-08-01", None, None],
        [None, None, None],
        ["School ID", "School Name", "Designation"],
        ["0101", "Lincoln", "Targeted"],
        [None, None, None],
        ["0102", "Douglass", "Comprehensive"],
    ])
    table, findings = normalize_sheet(frame, SCHOOLS)
    assert [r.number for r in table.rows] == [5, 7]
    assert [r["school_id"] for r in table.rows] == ["0101", "0102"]
    assert errors_of(findings) == []
    # a problem in a data row under a title block names the Excel row
    frame.cells[6][2] = "Bogus"
    _, findings = normalize_sheet(frame, SCHOOLS)
    (problem,) = errors_of(findings)
    assert (problem.row, problem.column) == (7, "C")


def test_no_header_row_is_one_error_naming_required_columns():
    table, findings = normalize_sheet(raw([["hello", "world"], ["1", "2"]]), SCHOOLS)
    assert table.rows == ()
    (problem,) = findings
    assert problem.severity == ERROR
    assert "No header row found" in problem.message
    assert "School ID, School Name, Designation" in problem.message


# --- cleaning -----------------------------------------------------------------------------------------

def test_blank_rows_dropped_and_cells_trimmed():
    table, findings = normalize_sheet(schools(
        ["  0101 ", "  Lincoln\u00a0\u00a0Elementary  ", "Targeted"],
        [None, "   ", float("nan")],
        ["", "\u00a0", None],
        ["0102", "Douglass\x07 School\x00", " comprehensive "],
    ), SCHOOLS)
    assert [r.number for r in table.rows] == [2, 5]
    assert table.rows[0]["school_id"] == "0101"
    assert table.rows[0]["name"] == "Lincoln Elementary"
    assert table.rows[1]["name"] == "Douglass School"
    assert table.rows[1]["designation"] == "Comprehensive"
    assert errors_of(findings) == []



def test_a_table_handed_to_another_process_arrives_whole_its_rows_sharing_one_map_of_fields():
    # Row pickles as its fields (Row.__reduce__): a field added to Row and left out there is lost here.
    table, _ = normalize_sheet(schools(["0101", "Lincoln", "Targeted"], ["0102", "Douglass", None]), SCHOOLS)
    again = pickle.loads(pickle.dumps(table))
    assert again == table and [r.number for r in again.rows] == [2, 3]
    assert [(r["name"], r["designation"]) for r in again.rows] == [("Lincoln", "Targeted"),
                                                                    ("Douglass", "Not identified")]
    assert again.rows[0].positions is again.rows[1].positions

@pytest.mark.parametrize("value, expected", [
    ("  a  b  ", "a b"),
    ("a\u00a0b", "a b"),
    ("a\u202fb\u2007c", "a b c"),
    ("a\tb", "a b"),
    ("bell\x07 null\x00 esc\x1b del\x7f", "bell null esc del"),
    ("line one \r\n  line two\rthree", "line one\nline two\nthree"),
    ("\ufffeok\uffff", "ok"),
    (101.0, "101"),
    (2.5, "2.5"),
    (None, ""),
    (float("nan"), ""),
    (dt.datetime(2026, 11, 15), "2026-11-15"),
])
def test_clean_text(value, expected):
    assert clean_text(value) == expected


@pytest.mark.parametrize("value, blank", [
    (None, True), (float("nan"), True), (pd.NaT, True), ("", True), ("  \u00a0 ", True), ("\x00", True),
    ("x", False), (0, False), (0.0, False),
])
def test_is_blank(value, blank):
    assert is_blank(value) is blank


# --- dates ----------------------------------------------------------------------------------------

NOV_15 = dt.date(2026, 11, 15)


@pytest.mark.parametrize("value", [
    dt.datetime(2026, 11, 15, 0, 0),
    dt.datetime(2026, 11, 15, 14, 5),
    dt.date(2026, 11, 15),
    pd.Timestamp("2026-11-15"),
    46341, 46341.0, 46341.75, "46341",
    "2026-11-15", "2026/11/15", " 2026-11-15 ",
    "11/15/2026", "11/15/26", "11-15-2026", "11.15.2026",
    "Nov 15, 2026", "Nov 15 2026", "Nov. 15, 2026", "November 15, 2026", "November 15th, 2026",
    "november 15 , 2026", "15 November 2026",
    "2026-11-15T10:30:00", "2026-11-15 10:30", "2026-11-15T10:30:00.250",
])
def test_parse_date_accepts(value):
    result = parse_date(value)
    assert result == NOV_15
    assert type(result) is dt.date


@pytest.mark.parametrize("value, says", [
    ("31/02/2026", "looks like day/month/year"),
    ("15/11/2026", "looks like day/month/year"),
    ("2026-02-30", "is not a date"),
    ("02/30/2026", "is not a date"),
    ("soon", "'soon' is not a date"),
    (12, "the number 12 is not a date"),
    (12.0, "the number 12 is not a date"),
    (True, "is not a date"),
    ("", "is not a date"),
])
def test_parse_date_rejects(value, says):
    with pytest.raises(ValueError, match=says):
        parse_date(value)


def test_first_day_of_serial_range_and_leap_day():
    assert parse_date(20000) == dt.date(1954, 10, 3)
    assert parse_date("2028-02-29") == dt.date(2028, 2, 29)
    with pytest.raises(ValueError):
        parse_date("2027-02-29")


# --- findings from a sheet ----------------------------------------------------------------------------

def tasks(*data):
    header = ["Stage", "Task", "Detail", "School ID", "Responsibility", "Expected Date", "Completion Date"]
    return raw([header, *[list(r) for r in data]], file="timeline.xlsx", sheet="Tasks")


def test_bad_date_is_one_located_error():
    table, findings = normalize_sheet(tasks(
        ["Stage 1", "Complete the DF", None, "0101", "DLT", "2026-10-15", None],
        ["Stage 1", "Review data", None, "0101", "DLT", "31/02/2026", None],
    ), TASKS)
    (problem,) = findings
    assert problem.severity == ERROR
    assert (problem.file, problem.sheet, problem.row, problem.column, problem.header, problem.value) == \
        ("timeline.xlsx", "Tasks", 3, "F", "Expected Date", "31/02/2026")
    assert problem.message == "'31/02/2026' looks like day/month/year, which is not read here."
    assert problem.fix.startswith("Write the date as 2026-11-15")
    assert problem.line().startswith("error: timeline.xlsx, sheet Tasks, row 3, column F (Expected Date): ")
    # the good row is parsed; the bad cell is left empty rather than guessed
    assert table.rows[0]["expected"] == dt.date(2026, 10, 15)
    assert table.rows[1]["expected"] is None
    assert table.rows[0]["stage"] == "Stage 1: Identify Critical Needs"


def test_missing_required_column_names_it():
    table, findings = normalize_sheet(schools(["0101", "Lincoln"], header=("School ID", "School Name")), SCHOOLS)
    (problem,) = findings
    assert problem.severity == ERROR
    assert problem.message == "Missing required column 'Designation'."
    assert (problem.file, problem.sheet, problem.row) == ("roster.xlsx", "Schools", 1)
    assert "Add a column headed 'Designation'" in problem.fix
    assert "summative designation" in problem.fix      # the accepted synonyms are offered
    assert table.rows[0]["designation"] is None


def test_required_empty_cell_is_an_error():
    _, findings = normalize_sheet(schools(["0101", "Lincoln", "Targeted"], ["0102", "  ", "Targeted"]), SCHOOLS)
    (problem,) = findings
    assert problem.severity == ERROR
    assert problem.message == "School Name is empty."
    assert (problem.row, problem.column, problem.header) == (3, "B", "School Name")
    assert "Fill in School Name" in problem.fix


def test_optional_empty_cell_is_fine():
    table, findings = normalize_sheet(
        raw([["School ID", "Name", "Role", "Email"], [None, "Pat Lee", "Principal", None]], sheet="People"), PEOPLE)
    assert findings == []
    assert table.rows[0]["school_id"] is None
    assert table.rows[0]["email"] is None


def people(*data):
    return raw([["School ID", "Name", "Role"], *[list(r) for r in data]], sheet="People")


def test_unknown_role_lists_allowed_values():
    table, findings = normalize_sheet(people(["0101", "Pat Lee", "Janitor"]), PEOPLE)
    (problem,) = findings
    assert problem.severity == ERROR
    assert problem.message == "'Janitor' is not a known role."
    assert (problem.row, problem.column, problem.header, problem.value) == (2, "C", "Role", "Janitor")
    assert problem.fix == "Use one of: " + "; ".join(ROLES) + "."
    assert table.rows[0]["role"] is None


@pytest.mark.parametrize("typed, canonical", [
    ("SIC", "School Improvement Coordinator"),
    ("building principal", "Principal"),
    ("  Building  Principal ", "Principal"),
    ("PRINCIPAL", "Principal"),
    ("slt co-chair", "Leadership Team Co-Chair"),
    ("Leadership-Team Chair", "Leadership Team Chair"),
    ("BOE", "Board of Education"),
])
def test_role_synonyms_canonicalised(typed, canonical):
    table, findings = normalize_sheet(people(["0101", "Pat Lee", typed]), PEOPLE)
    assert findings == []
    assert table.rows[0]["role"] == canonical


def test_extra_column_is_a_note():
    table, findings = normalize_sheet(
        raw([["School ID", "Name", "Shoe Size", "Role"], ["0101", "Pat Lee", "9", "Principal"]], sheet="People"),
        PEOPLE)
    (note,) = findings
    assert note.severity == NOTE
    assert (note.row, note.column, note.header) == (1, "C", "Shoe Size")
    assert "'Shoe Size'" in note.message and "ignored" in note.message
    assert table.columns["role"] == ("D", "Role")
    assert table.rows[0]["role"] == "Principal"


def test_bad_email_is_a_warning_with_value():
    _, findings = normalize_sheet(
        raw([["Name", "Role", "Email"], ["Pat Lee", "Principal", "pat at school"]], sheet="People"), PEOPLE)
    (problem,) = findings
    assert problem.severity == "warning"
    assert (problem.row, problem.column, problem.value) == (2, "C", "pat at school")


# --- ids, numbers, times -------------------------------------------------------------------------------

def test_ids_numeric_cells_lose_the_float_and_text_keeps_zeros():
    table, findings = normalize_sheet(schools([101.0, "A", "Targeted"], ["0101", "B", "Targeted"],
                                              [102, "C", "Targeted"]), SCHOOLS)
    assert findings == []
    assert [r["school_id"] for r in table.rows] == ["101", "0101", "102"]


def test_support_level_number_parsed():
    table, findings = normalize_sheet(
        schools(["0101", "A", "Targeted", 2.0], ["0102", "B", "Targeted", " 3 "], ["0103", "C", "Targeted", "two"],
                header=("School ID", "School Name", "Designation", "Support Level")), SCHOOLS)
    assert [r["support_level"] for r in table.rows] == [2, 3, None]
    assert type(table.rows[0]["support_level"]) is int
    (problem,) = findings
    assert (problem.severity, problem.row, problem.column, problem.value) == (ERROR, 4, "D", "two")


@pytest.mark.parametrize("value, expected", [
    (0.6458333, "3:30 PM"),
    (0.6458333333333334, "3:30 PM"),
    (0.375, "9:00 AM"),
    (0.0, "12:00 AM"),
    (0.5, "12:00 PM"),
    (dt.time(15, 30), "3:30 PM"),
    (dt.datetime(1900, 1, 1, 15, 30), "3:30 PM"),
    ("15:30", "3:30 PM"),
    ("15:30:00", "3:30 PM"),
    ("3:30 pm", "3:30 PM"),
    ("3:30PM", "3:30 PM"),
    ("3 PM", "3:00 PM"),
    ("09:05", "9:05 AM"),
    ("3:30-4:30 PM", "3:30-4:30 PM"),
    ("  after school  ", "after school"),
])
def test_format_time(value, expected):
    assert format_time(value) == expected


def test_time_column_normalised_in_sheet():
    from generator.inputs.schema import MEETINGS
    table, findings = normalize_sheet(raw([["Meeting", "Date", "Time"],
                                           ["BLT", "2026-09-16", 0.6458333],
                                           ["BLT", "2026-10-21", "3:30-4:30 PM"]], "timeline.xlsx", "Meetings"),
                                      MEETINGS)
    assert findings == []
    assert [(r["date"], r["time"]) for r in table.rows] == [
        (dt.date(2026, 9, 16), "3:30 PM"), (dt.date(2026, 10, 21), "3:30-4:30 PM")]


# --- a long sheet: recurring cells converted once, each row still checked -------------------------

def test_recurring_cells_give_each_row_its_own_value_and_finding():
    header = ("School ID", "School Name", "Designation", "Support Level")
    rows = [[f"{i:04d}", f"School {i}", designation, level]
            for i, (designation, level) in enumerate([("Targeted", 2), ("Targeted", 2.0), (" targeted ", "2"),
                                                      ("Intensive", True), ("intensive", 2), ("Intensive", True),
                                                      ("Unknown", 1), ("Unknown", 1)], start=1)]
    table, findings = normalize_sheet(schools(*rows, header=header), SCHOOLS)
    assert [r["designation"] for r in table.rows] == ["Targeted"] * 3 + ["Intensive"] * 3 + [None] * 2
    # True equals 1 as a Python key, but a TRUE cell is not the number 1: the memo keys on the cell's type too.
    assert [r["support_level"] for r in table.rows] == [2, 2, 2, None, 2, None, 1, 1]
    located = sorted((f.row, f.column, f.value) for f in errors_of(findings))
    assert located == [(5, "D", "True"), (7, "D", "True"), (8, "C", "Unknown"), (9, "C", "Unknown")]


def test_tidy_text_fast_path_agrees_with_clean_text():
    cells = ["Lincoln Elementary", " Lincoln", "Lincoln ", "Lincoln  Elementary", "Lin\tcoln", "Lin\ncoln",
             "Lincoln\u00a0Elementary", "\x07Lincoln", "x", "0101", "  "]
    table, _ = normalize_sheet(schools(*[[f"{i:04d}", name, "Targeted"] for i, name in enumerate(cells, 1)]),
                               SCHOOLS)
    expected = [clean_text(c) for c in cells if clean_text(c)]
    assert [r["name"] for r in table.rows if r["name"]] == expected
    assert [r["name"] for r in table.rows][-1] is None          # a name of spaces is blank


# --- Unicode: one form for every text, IDs without invisible or full-width characters --------------------

NFC_NAME = "María José Peña"
NFD_NAME = unicodedata.normalize("NFD", NFC_NAME)        # as a Mac may save it: letters and accents apart


@pytest.mark.parametrize("cell", [NFD_NAME, f" {NFD_NAME} ", NFD_NAME.replace(" ", "\u00a0")])
def test_text_in_decomposed_form_is_read_composed(cell):
    assert NFD_NAME != NFC_NAME
    assert clean_text(cell) == NFC_NAME
    table, findings = normalize_sheet(raw([["School ID", "Name", "Role"], ["0103", cell, "Principal"]],
                                          sheet="People"), PEOPLE)
    assert findings == [] and table.rows[0]["name"] == NFC_NAME


def test_choices_and_headers_in_decomposed_form_match():
    decomposed = unicodedata.normalize("NFD", "Désignation")
    assert header_key(clean_text(decomposed)) == header_key("Désignation")
    table, findings = normalize_sheet(schools(["0101", unicodedata.normalize("NFD", "Lycée"), "Targeted"]), SCHOOLS)
    assert table.rows[0]["name"] == "Lycée" and findings == []


@pytest.mark.parametrize("written, read, says", [
    ("0101\u200b", "0101", "U+200B ZERO WIDTH SPACE"),
    ("\ufeff0101", "0101", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("01\u00ad01", "0101", "U+00AD SOFT HYPHEN"),
    ("0101\u200d", "0101", "U+200D ZERO WIDTH JOINER"),
    ("\u202e0101\u202c", "0101", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("\u20660101\u2069", "0101", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("0101\u200f", "0101", "U+200F RIGHT-TO-LEFT MARK"),
    ("０１０１", "0101", "full-width"),
    ("ＡＢ\u3000１", "AB 1", "full-width"),
])
def test_an_id_loses_invisible_bidi_and_full_width_characters_with_a_warning(written, read, says):
    table, findings = normalize_sheet(schools([written, "Lincoln", "Targeted"]), SCHOOLS)
    assert table.rows[0]["school_id"] == read
    (warning,) = findings
    assert (warning.severity, warning.row, warning.column, warning.header) == (WARNING, 2, "A", "School ID")
    assert says in warning.message and f"it is read as '{read}'" in warning.message
    # shown (0101<U+200B>), neither hidden nor reordering the report's line; a wide space is a space
    assert warning.value.replace("\u3000", " ").isprintable()


def test_an_id_of_only_invisible_characters_is_empty():
    table, findings = normalize_sheet(schools(["\u200b", "Lincoln", "Targeted"]), SCHOOLS)
    (error,) = findings
    assert table.rows[0]["school_id"] is None
    assert error.severity == ERROR and "only invisible character (U+200B" in error.message and error.value == "<U+200B>"


def test_an_ordinary_text_keeps_its_joiners():
    # Joiners belong to some scripts and emoji; only IDs, which must match exactly, lose them.
    table, findings = normalize_sheet(schools(["0101", "Lincoln \U0001F469\u200d\U0001F3EB", "Targeted"]), SCHOOLS)
    assert table.rows[0]["name"] == "Lincoln \U0001F469\u200d\U0001F3EB" and findings == []
