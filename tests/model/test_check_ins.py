"""Check-ins: which check-in a day is, the window it reviews (since the last one), what falls due in it, and
an activity's status from its dates."""

from __future__ import annotations

import datetime as dt

from generator.model.checkin import check_in_on, check_ins, latest_result, next_check_in
from generator.model.records import Benchmark, ReviewEvent
from generator.model.status import ACTIVITY_NOT_STARTED, ENDED, NOT_SCHEDULED, UNDER_WAY, activity_status

from factories import YEAR, activity, goal, packet, strategy, task

D = dt.date
SEP, DEC, MAR = D(2027, 9, 14), D(2027, 12, 14), D(2028, 3, 14)


def check_in(day: dt.date, title: str = "", reviewer: str = "Priya Raman (District Staff)") -> ReviewEvent:
    return ReviewEvent("check-in", title or f"Check-in {day:%B}", day, reviewer)


def cycle(**options):
    """A school with three check-ins (and a first draft, which is not one)."""
    review = [ReviewEvent("first-draft", "First draft due", D(2027, 4, 23), "Principal"),
              check_in(SEP), check_in(DEC), check_in(MAR)]
    return packet(review=review, **options)


def test_a_check_in_reviews_from_the_day_after_the_last_one_through_its_own_day():
    found = check_in_on(cycle(), DEC)
    assert (found.number, found.count, found.previous, found.since, found.date) == (2, 3, SEP, D(2027, 9, 15), DEC)
    assert found.event.title == "Check-in December"


def test_the_first_check_in_reviews_from_the_planning_years_first_day():
    found = check_in_on(cycle(), SEP)
    assert (found.number, found.previous, found.since) == (1, None, YEAR.first_day)


def test_a_day_without_a_check_in_has_none_and_other_review_steps_are_not_check_ins():
    assert check_in_on(cycle(), D(2027, 9, 15)) is None
    assert check_in_on(cycle(), D(2027, 4, 23)) is None          # the first draft's day
    assert [e.due for e in check_ins(cycle())] == [SEP, DEC, MAR]


def test_two_check_in_rows_on_one_day_are_one_check_in():
    twice = packet(review=[check_in(SEP, "Check-in with the liaison"), check_in(SEP, "Check-in with the coach"),
                           check_in(DEC)])
    assert [e.title for e in check_ins(twice)] == ["Check-in with the liaison", "Check-in December"]
    assert check_in_on(twice, DEC).number == 2


def test_the_next_check_in_is_the_first_on_or_after_the_day():
    assert next_check_in(cycle(), SEP).date == SEP
    assert next_check_in(cycle(), D(2027, 9, 15)).date == DEC
    assert next_check_in(cycle(), D(2028, 3, 15)) is None


def test_activities_due_in_the_window_and_only_those():
    activities = [
        activity("S1", "ends the day of the last check-in", start=D(2027, 8, 1), end=SEP),      # reviewed then
        activity("S1", "ends the day after it", start=D(2027, 8, 1), end=D(2027, 9, 15)),
        activity("S1", "ends on the check-in", start=D(2027, 10, 1), end=DEC),
        activity("S1", "ends the day after the check-in", start=D(2027, 10, 1), end=D(2027, 12, 15)),
        activity("S1", "a one-day activity, no end", start=D(2027, 11, 2), end=None),
        activity("S1", "no dates", start=None, end=None),
        activity("S1", "runs all year", start=D(2027, 8, 1), end=D(2028, 6, 1)),
    ]
    found = check_in_on(cycle(strategies=[strategy("S1", activities=activities)]), DEC)
    assert [a.activity for a in found.activities_due(found.packet.plan.strategies[0])] == [
        "ends the day after it", "ends on the check-in", "a one-day activity, no end"]


def test_tasks_and_benchmarks_due_in_the_window():
    tasks = [task("Before", D(2027, 9, 1)), task("Late", D(2027, 12, 10)), task("Early", D(2027, 10, 1)),
             task("After", D(2027, 12, 20)), task("Undated", None)]
    g = goal("G1", benchmarks=(Benchmark("G1", "Short-term", "Fall MAP", "30%", "35%", D(2027, 10, 15)),
                               Benchmark("G1", "Long-term", "Spring IAR", "24%", "32%", D(2028, 5, 31))))
    found = check_in_on(cycle(tasks=tasks, goals=[g]), DEC)
    assert [t.task for t in found.tasks_due()] == ["Early", "Late"]
    assert [b.benchmark for b in found.benchmarks_due(g)] == ["Fall MAP"]


def test_an_activitys_status_comes_from_its_dates_as_of_a_day():
    day = D(2027, 11, 23)
    assert activity_status(activity(start=D(2027, 12, 1), end=D(2027, 12, 10)), day) == ACTIVITY_NOT_STARTED
    assert activity_status(activity(start=D(2027, 11, 1), end=day), day) == UNDER_WAY
    assert activity_status(activity(start=D(2027, 11, 1), end=D(2027, 11, 22)), day) == ENDED
    assert activity_status(activity(start=None, end=None), day) == NOT_SCHEDULED
    assert activity_status(activity(start=D(2027, 11, 2), end=None), day) == ENDED       # a one-day activity


def test_a_goals_latest_result_is_its_latest_measured_benchmark_by_the_day():
    g = goal("G1", benchmarks=(
        Benchmark("G1", "Short-term", "Fall MAP", "30%", "35%", D(2027, 10, 15), actual="33%"),
        Benchmark("G1", "Short-term", "Winter MAP", "30%", "38%", D(2028, 1, 31), actual="37%"),
        Benchmark("G1", "Long-term", "Spring IAR", "24%", "32%", D(2028, 5, 31))))
    assert latest_result(g, DEC).benchmark == "Fall MAP"
    assert latest_result(g, MAR).benchmark == "Winter MAP"
    assert latest_result(g, D(2027, 10, 1)) is None
