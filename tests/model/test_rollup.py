"""District roll-up: task counts that partition the timeline, the status rule, the review stage, and
output/district.xlsx checked against the timeline it was built from."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

import openpyxl
import pytest

from generator.model.records import GridProgress, Packet, Plan, ReviewDecision, ReviewEvent, School, Task
from generator.model.rollup import (
    review_stage,
    school_dates,
    school_rollup,
)
from generator.model.status import APPROACHING, NOT_STARTED, ON_TARGET
from generator.model.status import SCHOOL_OVERDUE as OVERDUE
from generator.model.status import SCHOOL_STATUSES as STATUSES
from generator.pipeline import load_district
from generator.render.district import report_rows
from generator.settings import PlanningYear, load_settings

from conftest import AS_OF, SAMPLE, edit_sheet, header_column, run_cli

DAY = dt.date.fromisoformat(AS_OF)
STAGE = "Stage 1: Identify Critical Needs"


def task(name: str, expected: dt.date | None, completed: dt.date | None = None) -> Task:
    return Task(STAGE, name, "Principal", expected, completed)


def packet(tasks=(), review=()) -> Packet:
    return Packet(School("0101", "Riverbend High School", "Comprehensive"), "Riverbend CUSD 117", PlanningYear(2026),
                  DAY, (), tuple(tasks), (), Plan(), review=tuple(review))


def days(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


def test_each_task_is_counted_once():
    row = school_rollup(packet([
        task("done early", days(10), days(-3)), task("done late", days(-20), days(-1)),
        task("past, open", days(-1)), task("due today", days(0)), task("later", days(40)),
        task("no date", None)]))
    assert (row.tasks, row.done, row.overdue, row.due, row.not_scheduled) == (6, 2, 1, 2, 1)
    assert row.done + row.due + row.overdue + row.not_scheduled == row.tasks
    assert row.overdue_tasks == ("past, open",)


@pytest.mark.parametrize("tasks, status", [
    ([task("yesterday, open", days(-1)), task("next week", days(7))], OVERDUE),
    ([task("today", days(0))], APPROACHING),                       # due today is not late
    ([task("in 14 days", days(14))], APPROACHING),
    ([task("in 15 days", days(15))], ON_TARGET),
    ([task("done, was due yesterday", days(-1), days(-1)), task("in a month", days(30))], ON_TARGET),
    ([task("done, due next week", days(7), days(-2))], ON_TARGET),  # finished early: nothing approaching
    ([], ON_TARGET),
])
def test_status(tasks, status):
    assert school_rollup(packet(tasks)).status == status


def test_a_review_deadline_within_14_days_is_approaching_but_a_check_in_is_not():
    later = [task("in a month", days(30))]
    draft = ReviewEvent("first-draft", "First draft due", days(10), "District Staff")
    check_in = ReviewEvent("check-in", "Check-in 1", days(3), "District Staff")
    assert school_rollup(packet(later, [draft])).status == APPROACHING
    row = school_rollup(packet(later, [check_in]))
    assert row.status == ON_TARGET
    assert row.next_deadline.title == "in a month"          # a check-in is not a deadline ...
    assert row.next_review.title == "Check-in 1"             # ... but it is the next review date


def test_next_deadline_is_the_earliest_open_task_or_review_step_ahead():
    tasks = [task("overdue", days(-5)), task("done", days(2), days(-1)), task("open", days(20))]
    row = school_rollup(packet(tasks, [ReviewEvent("feedback", "Feedback round 1", days(12))]))
    assert (row.next_deadline.date, row.next_deadline.title, row.next_deadline.kind) == (
        days(12), "Feedback round 1", "feedback")
    row = school_rollup(packet(tasks))
    assert (row.next_deadline.date, row.next_deadline.title) == (days(20), "open")
    assert school_rollup(packet([task("done", days(2), days(1))])).next_deadline is None


def test_school_dates_are_every_dated_task_and_review_date_in_order():
    tasks = [task("later", days(20)), task("no date", None), task("past, open", days(-3)),
             Task(STAGE, "Complete the DF", "Principal", days(-3), days(-4), detail="Submit DF")]
    review = [ReviewEvent("check-in", "Check-in 1", days(7)), ReviewEvent("first-draft", "", days(-3))]
    dates = school_dates(packet(tasks, review))
    assert [(d.date, d.title, d.kind, d.state) for d in dates] == [
        (days(-3), "Complete the DF \u2013 Submit DF", "task", "Done"),
        (days(-3), "First draft due", "first-draft", ""),
        (days(-3), "past, open", "task", "Overdue"),
        (days(7), "Check-in 1", "check-in", ""),
        (days(20), "later", "task", "Upcoming")]


def test_review_stage_is_the_latest_step_passed():
    cycle = (ReviewEvent("first-draft", "First draft due", days(-30)),
             ReviewEvent("feedback", "Feedback round 1", days(-10)),
             ReviewEvent("check-in", "Check-in 1", days(-2)),
             ReviewEvent("final-review", "Final review", days(20)),
             ReviewEvent("board-approval", "Board approval", days(40)))
    assert review_stage(cycle, DAY) == "Feedback round 1"       # the check-in since is not a step
    assert review_stage(cycle, days(-31)) == NOT_STARTED
    assert review_stage(cycle, days(20)) == "Final review"       # a step's own day counts as reached
    assert review_stage(cycle, days(400)) == "Board approval"
    assert review_stage((), DAY) == ""
    row = school_rollup(packet(review=cycle))
    assert (row.review_stage, row.next_review.title) == ("Feedback round 1", "Final review")


def test_sample_school_with_review_events_added():
    """A sample packet with a review cycle put in through dataclasses.replace, as the model carries it."""
    settings = load_settings(SAMPLE, None, DAY, ("0106",))
    district, _ = load_district(settings)
    sample = district.packets[0]
    events = (ReviewEvent("first-draft", "First draft due", days(-7), "District Staff"),
              ReviewEvent("feedback", "Feedback round 1", days(5), "School Improvement Coordinator"))
    row = school_rollup(dataclasses.replace(sample, review=events), "Ready")
    assert row.review_stage == "First draft due"
    assert row.next_review.date == days(5)
    assert row.status in (APPROACHING, OVERDUE)
    assert row.readiness == "Ready"
    (xlsx_row,) = report_rows([row], {"0106": "0106-lakeside-elementary-school"})
    assert xlsx_row["next_review_date"] == days(5)
    assert xlsx_row["folder"] == "0106-lakeside-elementary-school"


# --- output/district.xlsx, end to end ------------------------------------------------------------

def district_rows(path) -> list[dict]:
    ws = openpyxl.load_workbook(path)["Schools"]
    headers = [c.value for c in ws[4]]
    return [dict(zip(headers, row)) for row in ws.iter_rows(min_row=5, values_only=True) if row[0]]


def expected_counts(inputs) -> dict[str, dict]:
    """Count each school's tasks from the model by hand: done has a completion date; overdue is open and
    expected before the as-of date; due is open and expected on or after it."""
    district, _ = load_district(load_settings(inputs, None, DAY))
    counts = {}
    for p in district.packets:
        open_tasks = [t for t in p.tasks if t.completed is None]
        counts[p.school.school_id] = {
            "Tasks": len(p.tasks), "Done": sum(t.completed is not None for t in p.tasks),
            "Overdue": sum(t.expected is not None and t.expected < DAY for t in open_tasks),
            "Due": sum(t.expected is not None and t.expected >= DAY for t in open_tasks)}
    return counts


@pytest.fixture
def built(sample_output):
    return sample_output


def test_what_schools_returned_rolls_up_grid_progress_and_the_latest_review_decision():
    review = [ReviewEvent("feedback", "Feedback round 1", DAY + dt.timedelta(days=5), "District Staff"),
              ReviewEvent("feedback", "Feedback round 2", DAY + dt.timedelta(days=20), "District Staff")]
    returned = dataclasses.replace(
        packet(review=review),
        grid_progress=(GridProgress("November", "A", "ISBE", "Done"), GridProgress("November", "B", "ISBE", "Done"),
                       GridProgress("December", "C", "District Staff", "In progress"),
                       GridProgress("December", "D", "District Staff", "Not started")),
        review_decisions=(ReviewDecision("Feedback round 2", "Approve with revisions"),   # the later round
                          ReviewDecision("feedback round 1", "Revise and resubmit")))
    row = school_rollup(returned)
    assert (row.grid_done, row.grid_in_progress) == (2, 1)
    assert row.review_decision == "Approve with revisions (Feedback round 2)"
    (shown,) = report_rows([row], {})
    assert (shown["grid_done"], shown["grid_in_progress"], shown["review_decision"]) == \
        (2, 1, "Approve with revisions (Feedback round 2)")
    nothing = school_rollup(packet(review=review))
    assert (nothing.grid_done, nothing.grid_in_progress, nothing.review_decision) == (0, 0, "")


def test_district_xlsx_counts_match_the_timeline(built):
    rows = district_rows(built / "district.xlsx")
    counts = expected_counts(SAMPLE)
    assert [r["School ID"] for r in rows] == list(counts)               # every school once, roster order
    for row in rows:
        want = counts[row["School ID"]]
        assert {k: row[k] for k in want} == want, row["School ID"]
        assert row["Status"] in STATUSES
        assert (row["Status"] == OVERDUE) == (row["Overdue"] > 0)
        assert row["Readiness"] in ("Ready", "Not ready")
        assert (built / row["Packet folder"]).is_dir()
        if row["Next deadline"] is not None:
            assert isinstance(row["Next deadline"], dt.datetime) and row["Next deadline"].date() >= DAY
    ws = openpyxl.load_workbook(built / "district.xlsx")["Schools"]
    assert "Riverbend Community Unit School District 117" in ws["A1"].value
    assert ws["A3"].value.startswith(f"{len(rows)} school(s): ")


def test_a_task_past_due_without_completion_makes_its_school_overdue(inputs, tmp_path):
    """0106 is on target in the sample; a task of its own expected last week, not done, makes it overdue."""
    def add_task(ws):
        row = ws.max_row + 1
        for header, value in (("Stage", STAGE), ("Task", "Late task"), ("School ID", "0106"),
                              ("Responsibility", "Principal"), ("Expected Date", days(-7))):
            ws.cell(row=row, column=header_column(ws, header), value=value)
    edit_sheet(inputs / "timeline.xlsx", "Tasks", add_task)
    out = tmp_path / "out"
    result = run_cli("build", "--inputs", str(inputs), "--output", str(out), "--as-of", AS_OF, "--jobs", "1",
                     "--school", "0106")
    assert result.exit_code == 0, result.output
    rows = district_rows(out / "district.xlsx")          # the whole district: the others as never built
    (row,) = [r for r in rows if r["School ID"] == "0106"]
    assert {r["Readiness"] for r in rows if r is not row} == {"Not built"}
    assert row["Status"] == OVERDUE
    assert "Late task" in row["Overdue tasks"]
    assert row["Overdue"] == expected_counts(inputs)["0106"]["Overdue"] >= 1


def test_a_run_with_nothing_changed_puts_back_a_missing_district_view(built, tmp_path):
    built = shutil.copytree(built, tmp_path / "output")          # the shared build stays as it was
    for name in ("district.xlsx", "district.ics", "index.html"):
        (built / name).unlink()
    result = run_cli("build", "--inputs", str(SAMPLE), "--output", str(built), "--as-of", AS_OF, "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "Built 0, skipped 9 unchanged" in result.output
    assert all((built / name).is_file() for name in ("district.xlsx", "district.ics", "index.html"))
    result = run_cli("build", "--inputs", str(SAMPLE), "--output", str(built), "--as-of", AS_OF, "--jobs", "1")
    assert "Built 0, skipped 9 unchanged" in result.output
    assert len(district_rows(built / "district.xlsx")) == 9


@pytest.mark.parametrize("expected, completed, within, state", [
    (dt.date(2026, 11, 22), None, 14, "Overdue"),                  # the day before: overdue
    (dt.date(2026, 11, 23), None, 14, APPROACHING),                # the day itself: approaching, not overdue
    (dt.date(2026, 12, 7), None, 14, APPROACHING),                 # the 14th day after is still approaching
    (dt.date(2026, 12, 8), None, 14, ""),                          # the 15th is not
    (dt.date(2026, 11, 24), None, 0, ""),                          # within 0 days: only the day itself
    (dt.date(2026, 11, 1), dt.date(2026, 11, 2), 14, ""),         # done
    (None, None, 14, ""),                                          # not scheduled
])
def test_deadline_state_is_what_reminders_judge_a_task_by(expected, completed, within, state):
    from generator.model.status import deadline_state
    task = Task("Stage 1", "Complete the DF", "Principal", expected, completed)
    assert deadline_state(task, dt.date(2026, 11, 23), within) == state
