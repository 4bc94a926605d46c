"""Recurring timeline rows: the Repeats patterns staff type, their dates, the days they skip, and how the
series reach the model, the schedule and the errors staff see."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from generator.findings import ERROR, NOTE, WARNING, InputError
from generator.inputs.normalize import normalize_sheet, parse_dates
from generator.inputs.read import RawSheet
from generator.inputs.recurrence import MAX_OCCURRENCES, days_off, parse_repeats, series
from generator.inputs.schema import SHEETS
from generator.inputs.validate import validate_tables
from generator.model.build import build_district
from generator.pipeline import load_district
from generator.settings import PlanningYear, Settings, load_settings

from conftest import AS_OF, SAMPLE, edit_sheet, find_row, header_column, packet_folders, run_cli
from factories import schedule_table_rows

D = dt.date
YEAR = PlanningYear(2026)
SPECS = {s.name: s for s in SHEETS}
WORKBOOK = {s.name: f"{s.workbook}.xlsx" for s in SHEETS}


def dates(text: str, first: dt.date, until: dt.date, skip=()) -> list[str]:
    return [d.isoformat() for d in series(first, parse_repeats(text), until, skip)]


def weekdays_in_month(year: int, month: int, weekday: int) -> list[dt.date]:
    """Every `weekday` (0 = Monday) of a month, worked out by hand: the reference the rules are checked against."""
    days = [D(year, month, 1) + dt.timedelta(days=n) for n in range(31)]
    return [d for d in days if d.month == month and d.weekday() == weekday]


def months(first: dt.date, count: int) -> list[tuple[int, int]]:
    return [((first.month - 1 + i) // 12 + first.year, (first.month - 1 + i) % 12 + 1) for i in range(count)]


# --- patterns and their dates --------------------------------------------------------------------------

@pytest.mark.parametrize("text, nth", [("2nd Tuesday", 1), ("second tuesday of the month", 1),
                                       ("Monthly, 2nd Tues.", 1), ("1st Tuesday", 0), ("last Tuesday", -1)])
def test_a_weekday_of_the_month(text, nth):
    first = weekdays_in_month(2026, 9, 1)[nth]
    expected = [weekdays_in_month(y, m, 1)[nth].isoformat() for y, m in months(first, 10)]
    assert dates(text, first, D(2027, 6, 30)) == expected


@pytest.mark.parametrize("text", ["twice monthly", "Twice a month", "semi-monthly"])
def test_twice_monthly_keeps_the_first_dates_weekday_two_weeks_apart(text):
    # From a 1st Tuesday: the 1st and 3rd Tuesdays; from a 2nd Thursday: the 2nd and 4th Thursdays.
    first = weekdays_in_month(2026, 10, 1)[0]
    expected = [d.isoformat() for y, m in months(first, 3) for d in weekdays_in_month(y, m, 1)[0:3:2]]
    assert dates(text, first, D(2026, 12, 31)) == expected
    first = weekdays_in_month(2026, 10, 3)[1]
    expected = [d.isoformat() for y, m in months(first, 3) for d in weekdays_in_month(y, m, 3)[1:4:2]]
    assert dates(text, first, D(2026, 12, 31)) == expected


def test_named_weekdays_of_the_month():
    first = D(2026, 9, 2)                                  # the 1st Wednesday
    expected = sorted(d.isoformat() for y, m in months(first, 2) for d in weekdays_in_month(y, m, 2)[0:3:2])
    assert dates("1st and 3rd Wednesday", first, D(2026, 10, 31)) == expected
    assert dates("1st & 3rd Wednesdays", first, D(2026, 10, 31)) == expected


def test_monthly_keeps_the_day_and_ends_short_months_on_their_last_day():
    assert dates("monthly", D(2027, 1, 31), D(2027, 5, 31)) == [
        "2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"]
    assert dates("monthly", D(2026, 9, 15), D(2026, 12, 31)) == [
        "2026-09-15", "2026-10-15", "2026-11-15", "2026-12-15"]
    assert dates("1st and 15th", D(2026, 9, 1), D(2026, 10, 31)) == [
        "2026-09-01", "2026-09-15", "2026-10-01", "2026-10-15"]


@pytest.mark.parametrize("text, step", [("weekly", 7), ("every Tuesday", 7), ("every 2 weeks", 14),
                                        ("every other week", 14), ("biweekly", 14)])
def test_weekly_patterns(text, step):
    first = D(2026, 9, 1)
    assert dates(text, first, D(2026, 11, 30)) == [
        (first + dt.timedelta(days=n)).isoformat() for n in range(0, 91, step)]


def test_quarterly_and_every_few_months():
    assert dates("quarterly", D(2027, 9, 14), D(2028, 6, 30)) == [
        "2027-09-14", "2027-12-14", "2028-03-14", "2028-06-14"]
    assert dates("2nd Tuesday, every 3 months", D(2027, 9, 14), D(2028, 6, 30)) == [
        "2027-09-14", "2027-12-14", "2028-03-14", "2028-06-13"]


def test_the_first_date_starts_the_series_even_off_the_pattern():
    # A 1st Tuesday with "2nd Tuesday": the series starts a week later.
    assert dates("2nd Tuesday", D(2026, 9, 1), D(2026, 10, 31)) == ["2026-09-08", "2026-10-13"]


@pytest.mark.parametrize("text, says", [
    ("sometimes", "'sometimes' is not known"), ("daily", "'daily' is not known"),
    ("monthly on Tuesday", "say which Tuesday of the month"), ("6th Tuesday", "at most five"),
    ("32nd", "at most 31 days"), ("weekly on the 2nd Tuesday", "repeats weekly"),
    ("every 20 weeks", "every 2 weeks"), ("", "does not say how often")])
def test_patterns_that_are_not_understood_say_why(text, says):
    with pytest.raises(ValueError, match=says):
        parse_repeats(text)


def test_skipped_days_empty_and_runaway_series():
    assert dates("2nd Tuesday", D(2026, 9, 8), D(2026, 11, 30), skip={D(2026, 10, 13)}) == [
        "2026-09-08", "2026-11-10"]
    with pytest.raises(ValueError, match="no date .* that is not skipped"):
        series(D(2026, 9, 8), parse_repeats("monthly"), D(2026, 9, 30), {D(2026, 9, 8)})
    with pytest.raises(ValueError, match="before the first date"):
        series(D(2026, 9, 8), parse_repeats("monthly"), D(2026, 9, 1))
    with pytest.raises(ValueError, match=f"more than {MAX_OCCURRENCES} dates"):
        series(D(2026, 9, 8), parse_repeats("weekly"), D(2099, 9, 1))


def test_days_off_covers_each_break_day_and_parse_dates_reads_lists():
    assert days_off([(D(2026, 11, 25), D(2026, 11, 27)), (D(2027, 1, 18), None)]) == {
        D(2026, 11, 25), D(2026, 11, 26), D(2026, 11, 27), D(2027, 1, 18)}
    assert parse_dates("2026-11-03; Nov 26, 2026\n12/25/2026") == (D(2026, 11, 3), D(2026, 11, 26), D(2026, 12, 25))
    assert parse_dates("2026-11-03, 2026-11-04") == (D(2026, 11, 3), D(2026, 11, 4))
    assert parse_dates(dt.datetime(2026, 11, 3)) == (D(2026, 11, 3),)


# --- small districts through normalize, validate and the model ------------------------------------------

SCHOOLS = [["School ID", "School Name", "Designation"], ["0101", "Lincoln Elementary", "Targeted"],
           ["0102", "Douglass Middle", "Comprehensive"]]
TASKS = ["Stage", "Task", "Detail", "School ID", "Responsibility", "Expected Date", "Completion Date", "Repeats",
         "Until", "Skip Dates"]
MEETINGS = ["School ID", "Meeting", "Date", "Time", "Location", "Repeats", "Until", "Skip Dates"]


def tables(**sheets):
    sheets.setdefault("Schools", SCHOOLS)
    found, result = [], {}
    for name, rows in sheets.items():
        width = max(len(r) for r in rows)
        cells = [list(r) + [None] * (width - len(r)) for r in rows]
        result[name], problems = normalize_sheet(RawSheet(WORKBOOK[name], name, cells), SPECS[name])
        found += problems
    return result, found + validate_tables(result, YEAR)


def district(**sheets):
    result, findings = tables(**sheets)
    assert [f for f in findings if f.severity == ERROR] == []
    settings = Settings(Path("."), Path("out"), "Test District", YEAR, D(2026, 11, 23))
    return {p.school.school_id: p for p in build_district(result, settings).packets}


def test_a_repeating_meeting_becomes_dated_meetings_that_keep_their_row():
    packets = district(Meetings=[MEETINGS, ["0101", "BLT", "2026-09-08", "3:15 PM", "Room 4", "2nd Tuesday",
                                            "2026-12-31", "2026-11-10"],
                                 [None, "DLT", "2026-10-01", "9:00 AM", "Board Room"]],
                       Holidays=[["Holiday", "Date", "Through"], ["Winter break", "2026-12-07", "2026-12-11"]])
    meetings = packets["0101"].meetings
    assert [(m.meeting, m.date.isoformat(), m.time, m.location) for m in meetings] == [
        ("BLT", "2026-09-08", "3:15 PM", "Room 4"), ("DLT", "2026-10-01", "9:00 AM", "Board Room"),
        ("BLT", "2026-10-13", "3:15 PM", "Room 4")]                 # Nov 10 skipped; Dec 8 in the break
    assert [m.source.row for m in meetings] == [2, 3, 2]
    assert [m.meeting for m in packets["0102"].meetings] == ["DLT"]


def test_a_repeating_task_is_a_task_per_date_done_through_its_completion_date():
    packets = district(Tasks=[TASKS, ["Stage 1", "Collect data", "Monthly data review", None, "BLT", "2026-09-11",
                                      "2026-10-09", "2nd Friday", "2026-12-31"]])
    tasks = packets["0101"].tasks
    assert [(t.expected.isoformat(), t.completed and t.completed.isoformat()) for t in tasks] == [
        ("2026-09-11", "2026-09-11"), ("2026-10-09", "2026-10-09"), ("2026-11-13", None), ("2026-12-11", None)]
    assert {t.source.row for t in tasks} == {2}
    assert [t.is_overdue(D(2026, 11, 23)) for t in tasks] == [False, False, True, False]


def test_a_schools_own_row_replaces_the_whole_district_series():
    packets = district(Tasks=[TASKS,
                              ["Stage 1", "Collect data", "Monthly data review", None, "BLT", "2026-09-11", None,
                               "2nd Friday", "2026-12-31"],
                              ["Stage 1", "Collect data", "Monthly data review", "0102", "Douglass BLT", "2026-10-01",
                               None, "monthly", "2026-11-30"]])
    assert len(packets["0101"].tasks) == 4
    assert [(t.responsibility, t.expected.isoformat()) for t in packets["0102"].tasks] == [
        ("Douglass BLT", "2026-10-01"), ("Douglass BLT", "2026-11-01")]


@pytest.mark.parametrize("row, severity, column, says", [
    (["0101", "BLT", "2026-09-08", None, None, "sometimes"], ERROR, "F", "'sometimes' is not known"),
    (["0101", "BLT", "2026-09-08", None, None, "monthly", "2026-08-01"], ERROR, "G", "before the first date"),
    (["0101", "BLT", "2026-09-08", None, None, "weekly", "2099-01-01"], ERROR, "G", "more than 400 dates"),
    (["0101", "BLT", "2027-08-03", None, None, "monthly"], ERROR, "G", "after the planning year ends"),
    (["0101", "BLT", "2026-09-08", None, None, None, "2026-12-31"], WARNING, "G", "Until is ignored"),
    (["0101", "BLT", "2026-09-08", None, None, None, None, "2026-10-13"], WARNING, "H", "Skip Dates is ignored"),
    (["0101", "BLT", "2026-09-01", None, None, "2nd Tuesday"], NOTE, "C", "the series starts on 09/08/2026"),
    (["0101", "BLT", "2026-09-08", None, None, "monthly", None, "2026-10-08; soon"], ERROR, "H",
     "'soon' is not a date"),
])
def test_each_problem_names_its_row_and_column(row, severity, column, says):
    _, findings = tables(Meetings=[MEETINGS, row])
    (finding,) = [f for f in findings if f.severity == severity]
    assert (finding.file, finding.sheet, finding.row, finding.column) == ("timeline.xlsx", "Meetings", 2, column)
    assert says in finding.message


def test_holidays_that_end_before_they_start_are_errors():
    _, findings = tables(Holidays=[["Holiday", "Date", "Through"], ["Break", "2026-12-21", "2026-12-01"]])
    (finding,) = findings
    assert (finding.severity, finding.sheet, finding.row, finding.column) == (ERROR, "Holidays", 2, "C")


def test_a_one_off_meeting_on_a_holiday_is_a_warning():
    _, findings = tables(Meetings=[MEETINGS, ["0101", "BLT", "2026-11-26"]],
                         Holidays=[["Holiday", "Date", "Through"], ["Thanksgiving", "2026-11-26"]])
    (finding,) = findings
    assert finding.severity == WARNING and "Thanksgiving" in finding.message and finding.column == "C"


# --- the sample district -------------------------------------------------------------------------------

def sample_rows(sheet: str, folder: Path = SAMPLE) -> list[dict]:
    ws = openpyxl.load_workbook(folder / "timeline.xlsx")[sheet]
    head = [c.value for c in ws[1]]
    return [dict(zip(head, r), row=i) for i, r in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2)
            if any(r)]


@pytest.fixture(scope="module")
def sample():
    district, _ = load_district(load_settings(SAMPLE, None, D.fromisoformat(AS_OF)))
    return {p.school.school_id: p for p in district.packets}


def test_the_sample_skips_its_holidays(sample):
    closed = days_off((r["Date"].date(), r["Through"] and r["Through"].date()) for r in sample_rows("Holidays"))
    (row,) = [r for r in sample_rows("Meetings") if r["Meeting"] == "Regional Administrator Meeting"]
    assert row["Repeats"] == "3rd Monday"
    first, until = row["Date"].date(), row["Until"].date()
    third_mondays = [weekdays_in_month(y, m, 0)[2] for y, m in months(first, 12)]
    expected = [d for d in third_mondays if first <= d <= until and d not in closed]
    skipped = [d for d in third_mondays if first <= d <= until and d in closed]
    assert skipped                                          # the sample does skip holidays
    for packet in sample.values():
        got = [m.date for m in packet.meetings if m.meeting == row["Meeting"]]
        assert got == expected
        assert {m.source.row for m in packet.meetings if m.meeting == row["Meeting"]} == {row["row"]}


def test_the_samples_skip_dates_are_left_out(sample):
    (row,) = [r for r in sample_rows("Meetings") if r["Repeats"] == "twice monthly"]
    got = [m.date for m in sample[row["School ID"]].meetings if m.meeting == row["Meeting"]]
    assert got[0] == row["Date"].date() and got[-1] <= row["Until"].date()
    assert parse_dates(row["Skip Dates"])[0] not in got
    assert all(b - a in (dt.timedelta(days=14), dt.timedelta(days=21), dt.timedelta(days=28), dt.timedelta(days=35))
               for a, b in zip(got, got[1:]))


def test_a_repeating_row_gives_the_same_meetings_as_its_explicit_rows(inputs):
    """Replace one school's ten explicit monthly rows with one repeating row: the model does not change."""
    settings = load_settings(inputs, None, D.fromisoformat(AS_OF), ("0107",))
    before, _ = load_district(settings)
    rows = [r for r in sample_rows("Meetings", inputs) if r["School ID"] == "0107"]
    assert len(rows) == 10

    def one_row(ws):
        for r in sorted((r["row"] for r in rows), reverse=True):
            ws.delete_rows(r)
        head = [c.value for c in ws[1]]
        values = dict(rows[0], Repeats="1st Wednesday", Until=rows[-1]["Date"])
        ws.append([values.get(h) for h in head])
    edit_sheet(inputs / "timeline.xlsx", "Meetings", one_row)
    after, _ = load_district(settings)
    shown = lambda d: [(m.meeting, m.date, m.time, m.location) for m in d.packets[0].meetings]  # noqa: E731
    assert shown(after) == shown(before)


def test_repeating_rows_reach_the_schedule_document_and_tracker(tmp_path):
    out = tmp_path / "out"
    result = run_cli("build", "--inputs", str(SAMPLE), "--output", str(out), "--as-of", AS_OF, "--school", "0101")
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in packet_folders(out)]
    (task,) = [r for r in sample_rows("Tasks") if r["Repeats"]]
    expected = series(task["Expected Date"].date(), parse_repeats(task["Repeats"]), task["Until"].date())
    doc = Document(folder / "0101-schedule.docx")
    schedule = schedule_table_rows(doc)
    got = [r[3] for r in schedule if r[1] == f"\u2013 {task['Detail']}"]
    assert got == [f"{d:%B} {d.day}, {d.year}" for d in expected]
    meetings = [[c.text for c in row.cells] for row in doc.tables[1].rows[1:]]
    leadership = [r for r in meetings if r[0] == "Leadership Team Meeting"]
    (row,) = [r for r in sample_rows("Meetings")
              if r["School ID"] == "0101" and r["Meeting"] == "Leadership Team Meeting"]
    assert len(leadership) == len(series(row["Date"].date(), parse_repeats(row["Repeats"]), row["Until"].date()))
    ws = openpyxl.load_workbook(folder / "0101-schedule-tracker.xlsx")["Schedule"]
    tracked = [r[4].date() for r in ws.iter_rows(min_row=5, values_only=True) if r[2] == task["Detail"]]
    assert tracked == list(expected)


def test_an_undetailed_repeating_task_shows_each_date_under_one_task_name(inputs, tmp_path):
    def repeat_intro(ws):
        r = find_row(ws, "Task", "Introductory Session with Superintendent")
        ws.cell(row=r, column=header_column(ws, "Repeats")).value = "monthly"
        ws.cell(row=r, column=header_column(ws, "Until")).value = dt.datetime(2026, 10, 31)
        ws.cell(row=r, column=header_column(ws, "Completion Date")).value = None
    edit_sheet(inputs / "timeline.xlsx", "Tasks", repeat_intro)
    out = tmp_path / "out"
    result = run_cli("build", "--inputs", str(inputs), "--output", str(out), "--as-of", AS_OF, "--school", "0105")
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in packet_folders(out)]
    rows = schedule_table_rows(Document(folder / "0105-schedule.docx"))
    assert [r[1:4:2] for r in rows[:3]] == [["Introductory Session with Superintendent", "August 13, 2026"],
                                            ["", "September 13, 2026"], ["", "October 13, 2026"]]


def test_a_bad_repeats_cell_stops_the_build_and_names_the_cell(inputs, tmp_path):
    def typo(ws):
        r = find_row(ws, "Meeting", "Regional Administrator Meeting")
        ws.cell(row=r, column=header_column(ws, "Repeats")).value = "3rd Munday"
    edit_sheet(inputs / "timeline.xlsx", "Meetings", typo)
    result = run_cli("build", "--inputs", str(inputs), "--output", str(tmp_path / "out"), "--as-of", AS_OF)
    assert result.exit_code != 0
    r = find_row(openpyxl.load_workbook(inputs / "timeline.xlsx")["Meetings"], "Meeting",
                 "Regional Administrator Meeting")
    assert f"timeline.xlsx, sheet Meetings, row {r}, column F (Repeats): '3rd Munday'" in result.output
    assert "Fix: Write how it repeats" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError):
        load_district(load_settings(inputs, None, D.fromisoformat(AS_OF)))
