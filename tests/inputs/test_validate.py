"""Validate: cross-row and cross-sheet checks; every problem reported, each located to its cell."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from generator.findings import ERROR, Finding, InputError
from generator.inputs.normalize import normalize_sheet
from generator.inputs.read import RawSheet
from generator.inputs.schema import SHEETS
from generator.inputs.validate import stage_starts, validate_tables
from generator.pipeline import load_district
from generator.settings import PlanningYear

from conftest import edit_sheet, find_row, header_column

YEAR = PlanningYear(2026)
SPECS = {s.name: s for s in SHEETS}
WORKBOOK = {s.name: f"{s.workbook}.xlsx" for s in SHEETS}

SCHOOLS = [["School ID", "School Name", "Designation", "Support Level"],
           ["0101", "Lincoln Elementary", "Targeted", 1],
           ["0102", "Douglass Middle", "Comprehensive", 2]]


def table(sheet, rows):
    width = max(len(r) for r in rows)
    cells = [list(r) + [None] * (width - len(r)) for r in rows]
    result, findings = normalize_sheet(RawSheet(WORKBOOK[sheet], sheet, cells), SPECS[sheet])
    assert [f for f in findings if f.severity == ERROR] == [], findings   # the rows themselves are valid
    return result


def validate(planning_year=YEAR, **sheets):
    sheets.setdefault("Schools", SCHOOLS)
    tables = {name: table(name, rows) for name, rows in sheets.items()}
    return validate_tables(tables, planning_year)


def test_clean_tables_have_no_findings():
    assert validate(
        People=[["School ID", "Name", "Role"], [None, "Pat Lee", "Superintendent"], ["0101", "Ann Oh", "Principal"]],
        Goals=[["School ID", "Goal ID", "Goal Type", "SMART Goal"], ["0101", "G1", "Academic", "Read more"]],
        Benchmarks=[["School ID", "Goal ID", "Term", "Benchmark"], ["0101", "G1", "Short-term", "MAP"]],
    ) == []


def test_duplicate_school_id_names_both_rows():
    findings = validate(Schools=SCHOOLS + [["0101", "Lincoln Again", "Targeted", 1]])
    (problem,) = findings
    assert problem.severity == ERROR
    assert (problem.file, problem.sheet, problem.row, problem.column, problem.header, problem.value) == \
        ("roster.xlsx", "Schools", 4, "A", "School ID", "0101")
    assert problem.message == "Duplicate School ID '0101': row 2 already has it."


def test_duplicate_school_id_ignores_case():
    findings = validate(Schools=[["School ID", "School Name", "Designation"],
                                 ["ab1", "A", "Targeted"], ["AB1", "B", "Targeted"]])
    assert [(f.row, f.value) for f in findings] == [(3, "AB1")]


@pytest.mark.parametrize("sheet, header, row", [
    ("People", ["School ID", "Name", "Role"], ["0199", "Pat Lee", "Principal"]),
    ("Tasks", ["Stage", "Task", "School ID", "Responsibility", "Expected Date"],
     ["Stage 1", "Complete the DF", "0199", "DLT", "2026-10-15"]),
])
def test_unknown_school_id_names_value_and_column(sheet, header, row):
    findings = validate(**{sheet: [header, row]})
    (problem,) = findings
    assert problem.severity == ERROR
    letter = "ABCDE"[header.index("School ID")]
    assert (problem.file, problem.sheet, problem.row, problem.column, problem.header, problem.value) == \
        (WORKBOOK[sheet], sheet, 2, letter, "School ID", "0199")
    assert problem.message.startswith("Unknown School ID '0199'")
    assert "0101, 0102" in problem.fix


def test_school_ids_differing_only_by_leading_zeros_are_a_warning():
    findings = validate(Schools=SCHOOLS + [["101", "Lincoln Again", "Targeted", 1], ["00101", "Lincoln 3", "Targeted"]])
    assert [(f.severity, f.row, f.column, f.value) for f in findings] == [("warning", 4, "A", "101"),
                                                                          ("warning", 5, "A", "00101")]
    assert findings[0].message == ("School IDs '0101' (row 2) and '101' (row 4) differ only by leading zeros; "
                                   "they are read as two schools.")


@pytest.mark.parametrize("used, means", [("00101", "0101"), ("0102 ", None), ("lin-1", "LIN-1")])
def test_an_unknown_school_id_says_which_roster_id_it_probably_means(used, means):
    schools = SCHOOLS + [["LIN-1", "Lincoln Annex", "Targeted", 1]]
    findings = validate(Schools=schools, People=[["School ID", "Name", "Role"], [used, "Pat Lee", "Principal"]])
    if means is None:                              # the cell's spaces are trimmed: it is 0102
        assert findings == []
        return
    (problem,) = findings
    assert problem.severity == ERROR and problem.value == used
    assert problem.fix.startswith(f"It probably means the roster's '{means}': write it as the roster does"), problem.fix


def test_blank_school_id_is_district_wide_not_unknown():
    assert validate(People=[["School ID", "Name", "Role"], [None, "Pat Lee", "Superintendent"]]) == []


TASK_HEADER = ["Stage", "Task", "Detail", "School ID", "Responsibility", "Expected Date"]
STAGES = [["Stage", "Starts"], ["Stage 1", "2026-09-01"], ["Stage 2", "2026-11-01"]]


def test_expected_date_before_stage_start_from_stages_sheet():
    findings = validate(
        Stages=STAGES,
        Tasks=[TASK_HEADER,
               ["Stage 2", "Draft the plan", None, "0101", "BLT", "2026-10-31"],    # one day early
               ["Stage 2", "Review the plan", None, "0101", "BLT", "2026-11-01"],   # on the day: fine
               ["Stage 1", "Complete the DF", None, None, "DLT", "2026-09-15"]])
    (problem,) = findings
    assert problem.severity == ERROR
    assert (problem.file, problem.sheet, problem.row, problem.column, problem.header, problem.value) == \
        ("timeline.xlsx", "Tasks", 2, "F", "Expected Date", "2026-10-31")
    assert problem.school_id == "0101"
    assert "before Stage 2: Develop Focused Plan can start (11/01/2026, from the Stages sheet" in problem.message


def test_expected_date_before_planning_year_without_stages_sheet():
    findings = validate(Tasks=[TASK_HEADER, ["Prepare", "Kick-off", None, None, "DLT", "2026-06-30"],
                               ["Prepare", "Orientation", None, None, "DLT", "2026-07-01"]])
    (problem,) = findings
    assert problem.row == 2
    assert "(07/01/2026, from the planning year (2026-27))" in problem.message


def test_stage_starts_default_and_override():
    starts = stage_starts({"Stages": table("Stages", STAGES)}, YEAR)
    assert starts["Stage 1: Identify Critical Needs"] == dt.date(2026, 9, 1)
    assert starts["Stage 2: Develop Focused Plan"] == dt.date(2026, 11, 1)
    assert starts["Prepare for Plan Development"] == dt.date(2026, 7, 1)


def test_duplicate_timeline_row_for_same_school_stage_task_detail():
    findings = validate(Tasks=[TASK_HEADER,
                               ["Stage 1", "Complete the DF", "Draft focus areas", "0101", "BLT", "2026-10-15"],
                               ["Stage 1", "Complete the DF", "Share with staff", "0101", "BLT", "2026-10-20"],
                               ["stage 1", "complete the df", "draft focus areas", "0101", "DLT", "2026-10-22"],
                               ["Stage 1", "Complete the DF", "Draft focus areas", "0102", "BLT", "2026-10-15"],
                               ["Stage 1", "Complete the DF", "Draft focus areas", None, "BLT", "2026-10-15"]])
    (problem,) = findings
    assert problem.severity == ERROR
    assert (problem.sheet, problem.row, problem.column, problem.header) == ("Tasks", 4, "B", "Task")
    assert problem.message == "Duplicate Task 'complete the df': row 2 already has it for school 0101."
    assert problem.school_id == "0101"


def test_duplicate_district_wide_task_message_does_not_say_none():
    findings = validate(Tasks=[TASK_HEADER,
                               ["Stage 1", "Complete the DF", None, None, "DLT", "2026-10-15"],
                               ["Stage 1", "Complete the DF", None, None, "DLT", "2026-10-20"]])
    (problem,) = findings
    assert problem.row == 3
    assert "None" not in problem.message, problem.message


GOALS = [["School ID", "Goal ID", "Goal Type", "SMART Goal"],
         ["0101", "G1", "Academic", "Read more"], ["0102", "G2", "Academic", "Do math"]]


def test_benchmark_referring_to_missing_goal():
    findings = validate(Goals=GOALS, Benchmarks=[["School ID", "Goal ID", "Term", "Benchmark"],
                                                 ["0101", "G1", "Short-term", "MAP"],
                                                 ["0101", "G2", "Long-term", "IAR"],    # G2 is 0102's goal
                                                 ["0101", "G9", "Long-term", "IAR"]])
    assert [(f.severity, f.sheet, f.row, f.column, f.header, f.value) for f in findings] == [
        (ERROR, "Benchmarks", 3, "B", "Goal ID", "G2"), (ERROR, "Benchmarks", 4, "B", "Goal ID", "G9")]
    assert findings[1].message == "Goal ID 'G9' is not on the Goals sheet for school 0101."
    assert findings[1].file == "goals.xlsx"


@pytest.mark.parametrize("level, ok", [(1, True), (3, True), (4, False), (0, False), (1.5, False)])
def test_support_level_must_be_1_2_or_3(level, ok):
    findings = validate(Schools=[["School ID", "School Name", "Designation", "Support Level"],
                                 ["0101", "Lincoln", "Targeted", level]])
    if ok:
        assert findings == []
    else:
        (problem,) = findings
        assert (problem.severity, problem.row, problem.column, problem.value) == (ERROR, 2, "D", str(level))
        assert problem.message == f"Support Level {level} is not 1, 2 or 3."
        assert problem.school_id == "0101"


def test_several_problems_in_one_pass_are_all_reported():
    findings = validate(
        Schools=SCHOOLS + [["0102", "Copy", "Targeted", 4]],
        People=[["School ID", "Name", "Role"], ["0199", "Pat Lee", "Principal"]],
        Stages=STAGES,
        Tasks=[TASK_HEADER, ["Stage 2", "Draft", None, "0101", "BLT", "2026-09-02"]],
        Goals=GOALS,
        Benchmarks=[["School ID", "Goal ID", "Term", "Benchmark"], ["0101", "G7", "Short-term", "MAP"]],
    )
    assert all(f.severity == ERROR for f in findings)
    assert sorted((f.sheet, f.row, f.header) for f in findings) == [
        ("Benchmarks", 2, "Goal ID"), ("People", 2, "School ID"),
        ("Schools", 4, "School ID"), ("Schools", 4, "Support Level"), ("Tasks", 2, "Expected Date")]


# --- the whole district, through the pipeline ------------------------------------------------------------

def test_pipeline_reports_every_error_in_the_sample(inputs, settings):
    def roster_people(ws):
        ws.cell(row=find_row(ws, "Name", "Lorraine Castillo"), column=header_column(ws, "School ID")).value = "0777"

    def roster_schools(ws):
        ws.append([c.value for c in ws[2]])                       # the first school, listed twice
        ws.cell(row=4, column=header_column(ws, "Support Level")).value = 4
    edit_sheet(inputs / "roster.xlsx", "People", roster_people)
    edit_sheet(inputs / "roster.xlsx", "Schools", roster_schools)

    def timeline_tasks(ws):
        ws.cell(row=2, column=header_column(ws, "Expected Date")).value = dt.datetime(2026, 7, 2)
    edit_sheet(inputs / "timeline.xlsx", "Tasks", timeline_tasks)

    def goals_benchmarks(ws):
        ws.cell(row=2, column=header_column(ws, "Goal ID")).value = "G99"
    edit_sheet(inputs / "goals.xlsx", "Benchmarks", goals_benchmarks)

    with pytest.raises(InputError) as caught:
        load_district(settings)
    errs = [f for f in caught.value.findings if f.severity == ERROR]
    got = {(f.file, f.sheet, f.row, f.header, f.value) for f in errs}
    people_row = find_row(openpyxl.load_workbook(inputs / "roster.xlsx")["People"], "School ID", "0777")
    expected = {
        ("roster.xlsx", "People", people_row, "School ID", "0777"),
        ("roster.xlsx", "Schools", 11, "School ID", "0101"),
        ("roster.xlsx", "Schools", 4, "Support Level", "4"),
        ("timeline.xlsx", "Tasks", 2, "Expected Date", "2026-07-02"),   # Prepare starts 2026-08-01 per Stages
        ("goals.xlsx", "Benchmarks", 2, "Goal ID", "G99"),
    }
    assert expected <= got, got
    # nothing else fires: each edit is one error, and none stops the others being found
    assert len(errs) == len(expected), [f.line() for f in errs]
    assert str(caught.value).startswith(f"{len(errs)} errors")


def test_school_id_that_lost_its_leading_zeros_says_so(inputs):
    """Excel turns a typed 0104 into the number 104; the message says how to keep the zeros."""
    import openpyxl

    from generator.findings import InputError
    from generator.pipeline import load_district
    from generator.settings import load_settings
    path = inputs / "roster.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["People"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == "0104")
    ws.cell(row=row, column=1).value = 104
    wb.save(path)
    with pytest.raises(InputError) as caught:
        load_district(load_settings(inputs))
    (finding,) = [f for f in caught.value.findings if f.severity == "error"]
    assert finding.row == row and finding.value == "104"
    assert "write '0104' and format the column as Text" in finding.fix


# --- whose problem it is (issue 18 items 2 and 3) -------------------------------------------------------

def test_a_cell_problem_belongs_to_the_school_its_row_names():
    cells = [["School ID", "Goal ID", "Goal Type", "SMART Goal"], ["0102", "G1", "Academic", None],
             [None, "G2", "Academic", None]]
    _, findings = normalize_sheet(RawSheet("goals.xlsx", "Goals", cells), SPECS["Goals"])
    assert {(f.row, f.header, f.school_id) for f in findings} == {
        (2, "SMART Goal", "0102"), (3, "School ID", ""), (3, "SMART Goal", "")}     # no School ID: the district's


def test_a_school_listed_twice_is_the_rosters_problem_not_one_schools():
    (problem,) = validate(Schools=SCHOOLS + [["0101", "Lincoln Again", "Targeted", 1]])
    assert problem.school_id == ""           # it stops the run: which row is the school?


def test_an_unknown_school_id_on_many_rows_is_one_finding_per_sheet():
    people = [["School ID", "Name", "Role"]] + [["0199", f"Person {i}", "Principal"] for i in range(5)]
    (problem,) = validate(People=people)
    assert problem.row == 2 and problem.school_id == "0199"
    assert problem.message == ("Unknown School ID '0199': it is not on the Schools sheet of the roster "
                               "(5 rows name it: rows 2, 3, 4 and 2 more).")


def test_a_row_of_an_unknown_school_is_not_also_reported_for_what_it_refers_to():
    (problem,) = validate(Goals=GOALS, Benchmarks=[["School ID", "Goal ID", "Term", "Benchmark"],
                                                   ["0199", "G1", "Short-term", "MAP"]])
    assert problem.message.startswith("Unknown School ID '0199'")


def test_a_goal_missing_from_the_goals_sheet_is_one_finding_however_many_rows_name_it():
    benchmarks = [["School ID", "Goal ID", "Term", "Benchmark"]] + [["0101", "G9", "Short-term", f"M{i}"]
                                                                    for i in range(3)]
    (problem,) = validate(Goals=GOALS, Benchmarks=benchmarks)
    assert problem.message == ("Goal ID 'G9' is not on the Goals sheet for school 0101 "
                               "(3 rows name it: rows 2, 3 and 4).")


def test_a_school_id_that_lost_its_zeros_makes_the_problem_the_roster_schools():
    from generator.inputs.validate import owning_schools
    tables = {"Schools": table("Schools", SCHOOLS),
              "People": table("People", [["School ID", "Name", "Role"], ["101", "Pat Lee", "Principal"]])}
    findings = owning_schools(tables, validate_tables(tables, YEAR))
    (problem,) = findings
    assert problem.school_id == "0101"       # 0101 is not built without its row


def test_an_input_error_crosses_a_process_boundary_whole():
    """A pool worker's InputError is pickled to the building process: it must arrive with its findings."""
    import concurrent.futures
    import multiprocessing
    import pickle

    found = [Finding(ERROR, "Goal ID is empty.", file="goals.xlsx", sheet="Goals", row=7, column="Goal ID")]
    again = pickle.loads(pickle.dumps(InputError(found)))
    assert isinstance(again, InputError) and again.findings == found and str(again) == str(InputError(found))
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        with pytest.raises(InputError) as raised:
            pool.submit(_raise_input_error, found).result()
    assert raised.value.findings == found


def _raise_input_error(found):
    raise InputError(found)
