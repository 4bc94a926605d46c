"""Check-in forms (seed 003, Step 3): the contexts of a school's After Action Review and of the district's
reflection workbook across the schools of a check-in day."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from generator.model.checkin import CheckIn, check_ins, latest_result
from generator.model.records import Benchmark, Goal, Packet
from generator.model.rollup import Rollup, review_title, status_counts, task_title
from generator.model.status import ENDED, SCHOOL_STATUSES, activity_due, activity_status, task_status
from generator.render.context import (
    HEADING_CHARS,
    _short_row,
    common_context,
    in_role_order,
    long_date,
    shorten,
)
from generator.render.template_data import SHIPPED, Templates, form_data

AFTER_ACTION_REVIEW = "after-action-review"          # the form's key: its title in forms.toml, its file name
AFTER_ACTION_TEMPLATE = "after_action_review.docx"
DISTRICT_REFLECTION = "district-reflection"
DISTRICT_REFLECTION_TEMPLATE = "district_reflection.xlsx"
NO_DATA = "No result recorded yet"


def _expected(b: Benchmark) -> str:
    """Return what a benchmark expects: `Winter MAP: 38% by January 31, 2027`."""
    value = f": {b.expected}" if b.expected else ""
    return f"{b.benchmark}{value}" + (f" by {long_date(b.date)}" if b.date else "")


BASELINE_CHARS = 80           # a baseline quoted as a goal's latest data in the reflection: a line of its cell


def latest_data(goal: Goal, day: dt.date, baseline: bool = True) -> str:
    """Return a goal's latest data as of a day: its latest measured benchmark with what was expected, else
    its baseline (quoted to a line; with baseline False, where the form shows it already, only named)."""
    found = latest_result(goal, day)
    if found is not None:
        expected = f", expected {found.expected}" if found.expected else ""
        when = f" ({long_date(found.date)})" if found.date else ""
        return f"{found.benchmark}: {found.actual}{expected}{when}"
    if not goal.baseline.strip():
        return NO_DATA
    return f"{NO_DATA}; baseline {shorten(goal.baseline, BASELINE_CHARS)}" if baseline else \
        f"{NO_DATA}: the baseline is the latest"


def _goal(check_in: CheckIn, g: Goal) -> dict[str, Any]:
    due = check_in.benchmarks_due(g)
    upcoming = sorted((b for b in g.benchmarks if b.date and b.date > check_in.date),
                      key=lambda b: b.date or dt.date.max)
    expected = [_expected(b) for b in due] or [f"Next: {_expected(upcoming[0])}" for _ in upcoming[:1]]
    happened = [f"{b.benchmark}: {b.actual}" for b in due if b.actual.strip()]
    return {
        "id": g.goal_id, "type": g.goal_type, "statement": g.statement,
        "heading": f"Goal {g.goal_id}: {shorten(g.statement, HEADING_CHARS)}",
        "text_in_full": shorten(g.statement, HEADING_CHARS) != g.statement.strip(),
        "measure": g.measure, "baseline": g.baseline, "target": g.target, "target_date": long_date(g.target_date),
        # One value, so its date is typeset whole (render/jinja.py keeps a date in running text on one line).
        "targets": f"Measure: {g.measure} \u00b7 Baseline: {g.baseline} \u00b7 Target: {g.target}"
                   + (f" by {long_date(g.target_date)}" if g.target_date else ""),
        "latest": latest_data(g, check_in.date, baseline=False),
        "benchmarks": [{"term": b.term, "benchmark": b.benchmark, "initial": b.initial, "expected": b.expected,
                        "actual": b.actual or "\u2014", "date": long_date(b.date),
                        "short": _short_row(b.benchmark, b.initial, b.expected, b.actual)} for b in g.benchmarks],
        "expected": expected,
        "happened": happened,
    }


def _attendees(check_in: CheckIn, templates: Templates) -> list[dict[str, str]]:
    """Return who is at the check-in with each one's part: its reviewer, then the school's people in the
    roles forms.toml [check_in] lists, in that order."""
    roles = form_data(templates).check_in
    rows = [{"name": check_in.event.reviewer or "District reviewer", "role": "Reviewer", "part": roles.reviewer}]
    parts = dict(roles.roles)
    packet = check_in.packet
    school_people = tuple(p for p in in_role_order(packet, tuple(parts)) if p.school_id is not None)
    rows += [{"name": p.name, "role": p.title or p.role, "part": parts[p.role]} for p in school_people]
    return rows


def after_action_review_context(check_in: CheckIn, templates: Templates = SHIPPED) -> dict[str, Any]:
    """Return the After Action Review's context: the check-in and the school's schedule of check-ins with
    who attends; each goal with its benchmarks, latest data and what the window expected; each strategy's
    activities due in the window with their status; the timeline's tasks due in the window."""
    packet = check_in.packet
    as_of = packet.as_of
    strategies: list[dict[str, Any]] = []
    for st in packet.plan.strategies:
        due = sorted(check_in.activities_due(st), key=lambda a: activity_due(a) or dt.date.max)     # stable
        if not due:
            continue
        strategies.append({
            "id": st.strategy_id, "heading": f"Strategy {st.strategy_id}: {shorten(st.text, HEADING_CHARS)}",
            "text": st.text, "text_in_full": shorten(st.text, HEADING_CHARS) != st.text.strip(),
            "goal_id": st.goal_id,
            "activities": [{"activity": a.activity, "due": long_date(activity_due(a)), "start": long_date(a.start),
                            "end": long_date(a.end), "milestone": a.milestone, "owner": a.owner,
                            "status": activity_status(a, as_of),
                            "short": _short_row(a.activity, a.milestone, a.owner)} for a in due],
        })
    event = check_in.event
    common = common_context(packet, templates)
    title = form_data(templates).title(AFTER_ACTION_REVIEW)
    when = f"{review_title(event)}, {long_date(check_in.date)}"
    window = f"{long_date(check_in.since)} to {long_date(check_in.date)}"
    # Sentences holding a date are made whole here: a date in running text is then kept on one line.
    return {
        **common,
        "title": title,
        "subtitle": f"{packet.school.name} \u00b7 {packet.district_name} \u00b7 {when}",
        "footer": f"{packet.school.name} \u00b7 {title} \u00b7 {long_date(check_in.date)}",
        "activities_note": f"Each strategy's activities due from {window} (an activity is due on its end date, or "
                           f"its start date when it has no end date). Status as of {long_date(as_of)}, from the "
                           f"activity's dates: Not started, Under way, or Ended (its end date has passed: say at "
                           f"the check-in whether it was done).",
        "check_in": {
            "title": review_title(event), "date": long_date(check_in.date), "reviewer": event.reviewer,
            "heading": f"{review_title(event)}: {long_date(check_in.date)} (check-in {check_in.number} of "
                       f"{check_in.count})",
            "number": check_in.number, "count": check_in.count, "since": long_date(check_in.since),
            "previous": long_date(check_in.previous),
            "window": window,
        },
        "schedule": [{"title": review_title(e), "date": long_date(e.due), "reviewer": e.reviewer,
                      "this": e.due == check_in.date, "mark": "This check-in" if e.due == check_in.date else ""}
                     for e in check_ins(packet)],
        "attendees": _attendees(check_in, templates),
        "goals": [_goal(check_in, g) for g in packet.plan.goals],
        "strategies": strategies,
        "activities_due": sum(len(s["activities"]) for s in strategies),
        "tasks": [{"task": task_title(t), "due": long_date(t.expected), "responsibility": t.responsibility,
                   "status": task_status(t, as_of), "completed": long_date(t.completed),
                   "short": _short_row(task_title(t), t.responsibility)} for t in check_in.tasks_due()],
    }


OVERDUE_SHOWN = 5            # overdue tasks listed in a school's reflection row; district.xlsx lists them all


def _first(titles: tuple[str, ...]) -> str:
    """Return the first OVERDUE_SHOWN titles a line each, and how many more there are."""
    more = len(titles) - OVERDUE_SHOWN
    return "\n".join(titles[:OVERDUE_SHOWN]) + (f"\nand {more} more (district.xlsx lists them)" if more > 0 else "")


def reflection_row(check_in: CheckIn, rollup: Rollup, document: str) -> dict[str, Any]:
    """Return a school's row of the district reflection workbook: its check-in, its status from the
    roll-up (on target, approaching, overdue), what fell due in the window, its goals' latest data, and
    blank cells for the district's reflection."""
    packet = check_in.packet
    activities = [a for st in packet.plan.strategies for a in check_in.activities_due(st)]
    ended = sum(activity_status(a, packet.as_of) == ENDED for a in activities)
    return {
        "school_id": rollup.school_id, "school": rollup.school, "designation": rollup.designation,
        "check_in": review_title(check_in.event), "date": check_in.date, "reviewer": check_in.event.reviewer,
        "since": check_in.since, "status": rollup.status, "overdue": rollup.overdue,
        "overdue_tasks": _first(rollup.overdue_tasks),
        "next_deadline_date": rollup.next_deadline.date if rollup.next_deadline else None,
        "next_deadline": rollup.next_deadline.title if rollup.next_deadline else "",
        "activities_due": len(activities), "activities_ended": ended,
        "goals": "\n".join(f"{g.goal_id}: {latest_data(g, check_in.date)}" for g in packet.plan.goals),
        "progress": "", "next_steps": "", "owner": "", "notes": "",
        "document": document,
    }


def schedule_rows(packets: Iterable[Packet], day: dt.date) -> list[dict[str, Any]]:
    """Return the district's check-in schedule: every check-in of each school's cycle in date order, then
    roster order, with who leads it; those of `day` marked."""
    rows = [{"school_id": p.school.school_id, "school": p.school.name, "check_in": review_title(e), "date": e.due,
             "reviewer": e.reviewer, "this_day": "This day" if e.due == day else ""}
            for p in packets for e in check_ins(p)]
    return sorted(rows, key=lambda r: r["date"])              # stable: roster order within a day


def reflection_context(district_name: str, planning_year: str, day: dt.date, as_of: dt.date,
                       rows: list[tuple[CheckIn, Rollup, str]], title: str,
                       packets: Iterable[Packet] = ()) -> dict[str, Any]:
    """Return what templates/district_reflection.xlsx receives: the day, a one-line summary of the schools'
    statuses (the district view's), a row per school with a check-in that day, and the check-in schedule
    of `packets` (every school's, for the district)."""
    counts = status_counts([r for _, r, _ in rows])
    return {
        "schedule": schedule_rows(packets, day),
        "title": title, "district": {"name": district_name}, "planning_year": planning_year,
        "date": long_date(day), "as_of": long_date(as_of),
        "summary": f"{len(rows)} school(s) with a check-in: " + ", ".join(f"{counts[s]} {s}" for s in SCHOOL_STATUSES),
        "rows": [reflection_row(c, r, doc) for c, r, doc in rows],
    }
