"""Context: what each template receives, as plain data. All display formatting happens here."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from generator.inputs.schema import REVIEW_DECISIONS_CHOICES, header_key
from generator.model.dates import MONTHS as _MONTHS
from generator.model.dates import display_date
from generator.model.identity import (
    grid_key,
    grid_row_id,
    repeating_keys,
    review_row_id,
    task_key,
    task_row_id,
    value_digest,
    version,
)
from generator.model.readiness import check_packet
from generator.model.records import REVIEW_KINDS, Packet, Person, ReviewEvent, Task
from generator.model.status import OVERDUE, task_status
from generator.render import template_data
from generator.render.template_data import Templates

_GRANT = re.compile(r"\b([Pp]lanning year) (grant application)")
_MONTH_DAY = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)[a-z]*\.?\s+(\d{1,2})\b(?!\s*,?\s*\d{4})")


def long_date(value: dt.date | None) -> str:
    """Return a date in the packets' one style (model/dates.py): `November 15, 2026`, or ''."""
    return display_date(value)


# A date in a narrow column is written the same way: the forms once mixed `11/15/2026` with
# `November 15, 2026` (and the findings `11/15/2026`); every caller now gets the one style.
short_date = long_date


def _month_day(m: re.Match, planning_year) -> dt.date | None:
    month = next(i for i, name in enumerate(_MONTHS, 1) if name.lower().startswith(m.group(1).lower()[:3]))
    # The ISBE planning year runs from the autumn designation release through July, so July dates
    # (QER due July 20, GPRS due July 30) belong to its second calendar year.
    year = planning_year.start if month >= 8 else planning_year.end
    try:
        return dt.date(year, month, int(m.group(2)))
    except ValueError:              # not a real day (e.g. "June 31"): not a date
        return None


@lru_cache(maxsize=4096)         # the grid's reference text is the same for every school of a run
def resolve_dates(text: str, planning_year) -> str:
    """Return text with each month-day date (`Jan. 31`, `June 30`) written in full with its year in the
    planning year (August to December fall in its first year, January to July in its second), and the
    planning year grant application named with its year."""
    def full(m: re.Match) -> str:
        date = _month_day(m, planning_year)
        return long_date(date) if date else m.group(0)
    text = _MONTH_DAY.sub(full, text)
    return _GRANT.sub(lambda m: f"{m.group(1)} ({planning_year.label}) {m.group(2)}", text)


def due_date(lines, planning_year) -> dt.date | None:
    """Return the date an activity's text says something is due: a date written after 'due' (or
    'by'), else the last date written; None when the text names no date."""
    return _due_date(tuple(lines), planning_year)


@lru_cache(maxsize=4096)
def _due_date(lines: tuple[str, ...], planning_year) -> dt.date | None:
    text = " ".join(lines)
    found = [(m, _month_day(m, planning_year)) for m in _MONTH_DAY.finditer(text)]
    found = [(m, d) for m, d in found if d]
    if not found:
        return None
    due = [d for m, d in found if re.search(r"\b(due|by)\b[^.]{0,40}$", text[:m.start()], re.I)]
    return (due or [d for _, d in found])[-1]


def names(people: tuple[Person, ...]) -> str:
    """Return people's names joined for display, each once, in roster order."""
    # A dict keeps first-seen order and finds a name in constant time; a list search made this
    # quadratic, and a district-wide role may hold tens of thousands of people.
    return "; ".join(dict.fromkeys(p.name for p in people))


def in_role_order(packet: Packet, roles) -> tuple[Person, ...]:
    """Return the school's people in these roles, ordered as the roles are listed (the principal
    first when the list starts with Principal), each role's people in roster order, each person once."""
    found = packet.people_in(*roles)
    rank = {role: i for i, role in enumerate(roles)}
    return tuple(dict.fromkeys(sorted(found, key=lambda p: rank[p.role])))


CONTACT_SEPARATOR = " \u00b7 "


def contact_line(*parts: str) -> str:
    """Return a contact line (`Name · email · phone`) of the parts given: a blank part is left out with
    its separator, so a principal without a phone is not shown as `Name · email · `."""
    return CONTACT_SEPARATOR.join(p.strip() for p in parts if p and p.strip())


def _person(p: Person) -> dict[str, str]:
    return {"name": p.name, "role": p.role, "title": p.title, "email": p.email, "phone": p.phone}


def common_context(packet: Packet, templates: Templates = template_data.SHIPPED) -> dict[str, Any]:
    """Return the fields every form shows: school, district, state, year and people."""
    s = packet.school
    principal = packet.people_in("Principal")
    return {
        "school": {
            "id": s.school_id, "name": s.name, "designation": s.designation, "identification": s.identification,
            "support_level": "" if s.support_level is None else str(s.support_level),
            "essa_status": s.essa_status, "grades": s.grades, "address": s.address,
            "principal": names(principal),
            "principal_email": principal[0].email if principal else "",
            "principal_phone": principal[0].phone if principal else "",
            "principal_contact": contact_line(names(principal), *((principal[0].email, principal[0].phone)
                                                                 if principal else ())),
        },
        "district": {
            "name": packet.district_name,
            "superintendent": names(packet.people_in("Superintendent")),
            "liaison": names(packet.people_in("District Staff")),
        },
        "state": template_data.state_profile(templates, packet.state).context,
        "planning_year": packet.planning_year.label,
        "as_of": long_date(packet.as_of),
        "people": [_person(p) for p in packet.people],
    }


def _schedule_row(stage: str, task: str, detail: str, t: Task | None, as_of: dt.date,
                  overdue_fill: str, row_id: str = "") -> dict[str, Any]:
    status = task_status(t, as_of)
    return {
        "row_id": row_id,                    # a task's identity for `packets collect`; "" for a heading row
        "stage": stage, "task": task, "detail": detail,
        "responsibility": t.responsibility if t else "",
        "expected": long_date(t.expected) if t else "",
        "completed": long_date(t.completed) if t else "",
        "expected_date": t.expected if t else None,
        "completed_date": t.completed if t else None,
        "status": status,
        "overdue": status == OVERDUE,
        "shade": overdue_fill if status == OVERDUE else "auto",
        "notes": t.notes if t else "",
    }


def schedule_rows(packet: Packet, templates: Templates) -> list[dict[str, Any]]:
    """Return one row per task or sub-task, in form order: the form's tasks first, then the timeline's own."""
    known = template_data.schedule_tasks(templates)
    fill = template_data.form_data(templates).colours["overdue"]
    by_task: dict[tuple[str, str], list[Task]] = {}
    for t in packet.tasks:
        by_task.setdefault((t.stage, t.task.casefold()), []).append(t)
    order = [(stage, task) for stage, task in known]
    listed = {(stage, task.casefold()) for stage, task in known}
    for t in packet.tasks:                                   # tasks the district added to a stage
        if (t.stage, t.task.casefold()) not in listed:
            listed.add((t.stage, t.task.casefold()))
            order.append((t.stage, t.task))
    stage_rank = {stage: i for i, stage in enumerate(dict.fromkeys(s for s, _ in known))}
    order.sort(key=lambda pair: stage_rank.get(pair[0], len(stage_rank)))

    sid = packet.school.school_id
    repeating = repeating_keys(packet.tasks)

    def row(detail: str, t: Task | None) -> dict[str, Any]:
        row_id = task_row_id(sid, t, task_key(t) in repeating) if t else ""
        return _schedule_row(stage, task, detail, t, packet.as_of, fill, row_id)

    rows = []
    for stage, task in order:
        entries = by_task.get((stage, task.casefold()), [])
        main = sorted((t for t in entries if not t.detail), key=_when)
        details = [t for t in entries if t.detail]
        head = row("", main[0] if main else None)
        if details and not main:
            head["status"] = ""              # only a heading over its sub-rows: nothing to schedule
        rows.append(head)
        rows += [row("", t) for t in main[1:]]
        # A task's sub-rows read in date order, whatever order the timeline lists them in; undated ones last.
        rows += [row(t.detail, t) for t in sorted(details, key=_when)]
    return rows


SCHEDULE_TRACKER = "schedule-tracker"
# What a schedule row's version is made of: what the row is and the values it was built with, never its
# status (which the day it is judged by decides).
_SCHEDULE_VERSIONED = ("row_id", "stage", "task", "detail", "responsibility", "expected_date", "completed_date",
                       "notes")


def collect_identity(packet: Packet, form: str, rows: list[dict[str, Any]], fields: tuple[str, ...]) -> dict[str, str]:
    """Return what a tracker's hidden Packet sheet records for `packets collect`: the school, the form and
    the version of what its rows were made from."""
    return {"school_id": packet.school.school_id, "school": packet.school.name, "form": form,
            "version": version([[packet.school.school_id, form]] + [[r[f] for f in fields] for r in rows])}


def _when(t: Task) -> tuple[bool, dt.date]:
    """Sort key: a task by its expected date (else its completion date), undated tasks last (sort is stable)."""
    date = t.expected or t.completed
    return (date is None, date or dt.date.max)


def school_year(day: dt.date) -> str:
    """Return the school year (July to June, as the planning year) a day falls in: `2027-28`."""
    start = day.year if day.month >= 7 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def schedule_period(packet: Packet) -> str:
    """Return the period the schedule covers, from the planning year through its last dated task: `school
    year 2026-27`, or `school years 2026-27 to 2027-28` when stages 3 and 4 run into the implementation
    year, so the heading and the projected completion date name the same period."""
    years = {school_year(d) for t in packet.tasks for d in (t.expected, t.completed) if d}
    years.add(packet.planning_year.label)
    first, last = min(years), max(years)            # `2026-27` sorts as its year does
    return f"school year {first}" if first == last else f"school years {first} to {last}"


def meeting_kinds(packet: Packet, templates: Templates) -> list[dict[str, str]]:
    """Return each kind of meeting once, in schedule order, with who attends: the roster people of the team
    its name names (templates/responsibility_names.csv: `Leadership Team Meeting` is the leadership
    team), grouped by role, the same people the calendar invites."""
    # calendars.py imports this module for its date and name helpers; imported here to avoid the cycle.
    from generator.render.calendars import responsible_people
    kinds = []
    for meeting in dict.fromkeys(m.meeting for m in packet.meetings):
        by_role: dict[str, list[str]] = {}
        for person in responsible_people(packet, meeting, templates):
            by_role.setdefault(person.role, []).append(person.name)
        attendees = "; ".join(f"{role}: {', '.join(dict.fromkeys(people))}" for role, people in by_role.items())
        kinds.append({"meeting": meeting, "attendees": attendees or "None recorded"})
    return kinds


def schedule_context(packet: Packet, templates: Templates) -> dict[str, Any]:
    """Return the Schedule for Plan Development's context (the .docx form and the .xlsx tracker)."""
    rows = schedule_rows(packet, templates)
    shown_stage = shown_task = None
    for row in rows:                       # the form names each stage and task once, on its first row
        row["stage_label"] = row["stage"] if row["stage"] != shown_stage else ""
        row["task_label"] = row["task"] if (row["stage"], row["task"]) != shown_task else ""
        shown_stage, shown_task = row["stage"], (row["stage"], row["task"])

    expected = [t.expected for t in packet.tasks if t.expected]
    done = [t.completed for t in packet.tasks if t.completed]
    all_done = bool(packet.tasks) and all(t.completed for t in packet.tasks)
    chairs = packet.people_in("Leadership Team Chair", "Leadership Team Co-Chair")
    stages: list[dict[str, Any]] = []
    for row in rows:                       # one table per stage: its name repeats on each page it runs to
        if not stages or stages[-1]["name"] != row["stage"]:
            stages.append({"name": row["stage"], "rows": []})
        stages[-1]["rows"].append(row)
    return {
        **common_context(packet, templates),
        "schedule_period": schedule_period(packet),
        "stages": stages,
        "meeting_kinds": meeting_kinds(packet, templates),
        "start_date": long_date(min(expected)) if expected else "",
        "projected_completion": long_date(max(expected)) if expected else "",
        "actual_completion": long_date(max(done)) if all_done else "",
        "meetings": [{"meeting": m.meeting, "date": long_date(m.date), "date_value": m.date, "time": m.time,
                      "location": m.location} for m in packet.meetings],
        "preparers": {"chairs": names(chairs), "facilitators": names(packet.people_in("Facilitator"))},
        "rows": rows,
        "overdue_count": sum(r["overdue"] for r in rows),
        "collect": collect_identity(packet, SCHEDULE_TRACKER, rows, _SCHEDULE_VERSIONED),
    }


# --- ISBE planning-year activity grid ---------------------------------------------------------

GRID_TRACKER = "isbe-grid-tracker"
_GRID_VERSIONED = ("row_id", "month", "key_activity", "role", "tasks", "due_date", "status", "date_completed",
                   "notes")

def grid_context(packet: Packet, templates: Templates) -> dict[str, Any]:
    """Return the ISBE planning-year grid's context: columns named for this school, months of activities.
    The columns and activities are those of the school's identification (isbe_grid_columns.csv and
    isbe_grid_activities.xlsx, column Applies To): the ISI rows and the needs-assessment vendor's column
    are an Intensive school's only."""
    year = packet.planning_year
    identification = packet.school.identification
    columns = [{"key": c.key, "title": c.title.replace("{designation}", packet.school.designation),
                "people": names(packet.people_in(*c.roles))}
               for c in template_data.grid_columns(templates) if c.applies(identification)]
    months: list[dict[str, Any]] = []
    tracker: list[dict[str, Any]] = []
    sid = packet.school.school_id
    progress = {grid_key(p.month, p.key_activity, p.role): p for p in packet.grid_progress}
    for activity in template_data.grid_activities(templates):
        if not activity.applies(identification):
            continue
        if not months or months[-1]["name"] != activity.month:
            months.append({"name": activity.month, "label": activity.month.upper(), "activities": []})
        shown = {"key_activity", *(c["key"] for c in columns)}
        cells = {key: [resolve_dates(line, year) for line in lines] for key, lines in activity.cells.items()
                 if key in shown}
        months[-1]["activities"].append(cells)
        own_due = due_date(activity.cells["key_activity"], year)
        for column in columns:
            lines = activity.cells[column["key"]]
            if not lines:
                continue
            key_activity = "\n".join(cells["key_activity"])
            done = progress.get(grid_key(activity.month, key_activity, column["title"]))
            tracker.append({
                "row_id": grid_row_id(sid, activity.month, key_activity, column["title"]),
                "month": activity.month, "key_activity": key_activity,
                "role": column["title"], "person": column["people"], "tasks": "\n".join(cells[column["key"]]),
                "due_date": due_date(lines, year) or own_due, "status": done.status if done else "Not started",
                "date_completed": done.completed if done else None, "notes": done.notes if done else "",
            })
    return {
        **common_context(packet, templates),
        "columns": columns,
        "column_titles": {c["key"]: c["title"] for c in columns},
        "role_people": {c["key"]: c["people"] for c in columns},
        # The grid table's columns after Key Activities: its month bands span them all.
        "grid_span": 1 + len(columns),
        "months": months,
        "rows": tracker,
        "collect": collect_identity(packet, GRID_TRACKER, tracker, _GRID_VERSIONED),
    }


# --- Plan for Improvement ---------------------------------------------------------------------

HEADING_CHARS = 70       # a strategy's heading: one line of Heading 2 on the plan's 7-inch text width
TIMELINE_TITLE_CHARS = 90    # a strategy's title row in the timeline: one line of bold body text
TIMELINE_NAME_CHARS = 80     # an activity's name in the timeline: two lines of its 2.2-inch column
SHORT_ROW_CHARS = 300    # a row whose longest cell is shorter fits a third of a page: it may not split
MONTH_ABBREVIATIONS = tuple(name[:3] for name in _MONTHS)


def shorten(text: str, limit: int) -> str:
    """Return the first line of `text`, cut at a word before `limit` characters with an ellipsis when it
    is longer: a heading or a label for text shown whole elsewhere."""
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) <= limit and first == text.strip():
        return first
    if len(first) > limit:
        cut = first[:limit].rsplit(" ", 1)[0] if " " in first[:limit] else first[:limit]
        first = cut.rstrip(" ,;:.-")
    return first + "\u2026"


def _short_row(*texts: str) -> bool:
    """Whether a table row is short enough that it may not split across pages (a long one may)."""
    return max((len(t) for t in texts), default=0) < SHORT_ROW_CHARS


def _month_span(start: dt.date | None, end: dt.date | None) -> str:
    if not (start and end):
        return "No dates yet"
    if start == end:
        return f"Milestone: {short_date(start)}"
    return f"{short_date(start)} to {short_date(end)}"


def timeline_year(plan, planning_year) -> int:
    """Return the first calendar year of the school year (July to June) the timeline shows: the one its
    earliest dated activity starts in. A plan written in its planning year (2026-27) is carried out in
    the next (the sample's activities run August 2027 to June 2028), so the planning year itself is only
    the fallback, for a plan with no dated activity."""
    starts = [a.start for st in plan.strategies for a in st.activities if a.start]
    if not starts:
        return planning_year.start
    first = min(starts)
    return first.year if first.month >= 7 else first.year - 1


def timeline(plan, planning_year, as_of: dt.date) -> dict[str, Any]:
    """Return the timeline table's data: the months (July to June) of the school year the activities
    start in and, for each strategy with activities, its activities with a flag per month: `span` where
    the activity runs that month, `milestone` for the month of an activity that starts and ends the same
    day, `today` for the as-of month. Dates outside that year are clipped to it; the activity's own
    dates are written under its name, so nothing is lost."""
    year = timeline_year(plan, planning_year)
    months = [dt.date(year + (6 + k) // 12, (6 + k) % 12 + 1, 1) for k in range(12)]
    now = (as_of.year, as_of.month)
    strategies = []
    for st in plan.strategies:
        rows = []
        for a in st.activities:
            dated = bool(a.start and a.end and a.end >= a.start)
            cells = []
            for m in months:
                ym = (m.year, m.month)
                inside = dated and (a.start.year, a.start.month) <= ym <= (a.end.year, a.end.month)
                milestone = dated and a.start == a.end and inside
                cells.append({"span": inside and not milestone, "milestone": milestone, "today": ym == now})
            rows.append({"name": shorten(a.activity, TIMELINE_NAME_CHARS),
                         "dates": _month_span(a.start, a.end) if dated or not (a.start or a.end)
                         else f"{short_date(a.start) or '?'} to {short_date(a.end) or '?'}",
                         "cells": cells})
        if rows:
            strategies.append({"title": f"Strategy {st.strategy_id}: {shorten(st.text, TIMELINE_TITLE_CHARS)}",
                               "activities": rows})
    today = next((m for m in months if (m.year, m.month) == now), None)
    return {
        "months": [{"label": MONTH_ABBREVIATIONS[m.month - 1], "today": m == today,
                    "name": f"{_MONTHS[m.month - 1]} {m.year}"} for m in months],
        "strategies": strategies,
        "today": f"{_MONTHS[today.month - 1]} {today.year}" if today else "",
        "school_year": f"{year}-{(year + 1) % 100:02d}",
    }


def plan_context(packet: Packet, templates: Templates) -> dict[str, Any]:
    """Return the Plan for Improvement's context."""
    plan = packet.plan
    s = packet.school
    level = f"{s.designation} Level {s.support_level}" if s.support_level else s.designation
    data = template_data.form_data(templates)
    goals: list[dict[str, Any]] = [{
        "id": g.goal_id, "type": g.goal_type, "statement": g.statement, "measure": g.measure,
        "baseline": g.baseline, "target": g.target, "target_date": short_date(g.target_date),
        "target_year2": g.target_year2, "target_year3": g.target_year3, "student_group": g.student_group,
        "short": _short_row(g.statement, g.measure, g.baseline, g.target),
        "benchmarks": [{"goal_id": g.goal_id, "term": b.term, "benchmark": b.benchmark, "initial": b.initial,
                        "expected": b.expected, "actual": b.actual or "\u2014", "date": short_date(b.date),
                        "short": _short_row(b.benchmark, b.initial, b.expected, b.actual)}
                       for b in g.benchmarks],
    } for g in plan.goals]
    return {
        **common_context(packet, templates),
        "plan_level": level,
        "submitted_to": template_data.state_profile(templates, packet.state).submitted_to(
            s.designation, s.identification, s.support_level),
        "plan_date": long_date(s.plan_date),
        "last_updated": long_date(s.last_updated),
        "board_approval": long_date(s.board_approval),
        "leadership_team": [_person(p) for p in in_role_order(packet, data.people["leadership_team"])],
        "signatories": [_person(p) for p in in_role_order(packet, data.people["signatories"])],
        "problems": [{"id": p.problem_id, "text": p.text, "root_cause": p.root_cause} for p in plan.problems],
        "goals": goals,
        "benchmarks": [b for g in goals for b in g["benchmarks"]],
        "strategies": [{
            "id": st.strategy_id, "text": st.text, "evidence": st.evidence, "problem_id": st.problem_id,
            # The heading is a line; a longer name follows it whole, in the body text's weight.
            "heading": f"Strategy {st.strategy_id}: {shorten(st.text, HEADING_CHARS)}",
            "text_in_full": shorten(st.text, HEADING_CHARS) != st.text.strip(),
            "problem": next((p.text for p in plan.problems if p.problem_id == st.problem_id), ""),
            "goal_id": st.goal_id,
            "activities": [{"activity": a.activity, "start": short_date(a.start), "end": short_date(a.end),
                            "milestone": a.milestone, "funding": a.funding, "owner": a.owner,
                            "short": _short_row(a.activity, a.milestone, a.funding, a.owner)}
                           for a in st.activities],
        } for st in plan.strategies],
        "timeline": timeline(plan, packet.planning_year, packet.as_of),
        "monitoring": [{"goal_id": m.goal_id, "evidence": m.evidence, "frequency": m.frequency,
                        "responsible": m.responsible, "short": _short_row(m.evidence, m.frequency, m.responsible)}
                       for m in plan.monitoring],
        "supports": {key: [{"description": x.description, "who": x.who, "when": x.when,
                            "short": _short_row(x.description, x.who, x.when)}
                           for x in plan.supports_in(category)]
                     for key, category in (("professional_learning", "Professional Learning"),
                                           ("local_assessments", "Local Assessment"),
                                           ("communication", "Communication"),
                                           ("oversight", "Oversight"))},
    }


# --- Plan review (the district's review form) -------------------------------------------------

RUBRIC_FINDINGS = 3          # readiness findings quoted under a rubric criterion; the rest are counted
STEP_NAMES = {kind: step for step, kind in REVIEW_KINDS.items()}


def _review_event(e: ReviewEvent, as_of: dt.date) -> dict[str, Any]:
    return {"kind": e.kind, "step": STEP_NAMES[e.kind], "title": e.title, "due": long_date(e.due),
            "due_date": e.due, "reviewer": e.reviewer, "passed": e.due < as_of}


def rubric_rows(packet: Packet, templates: Templates) -> list[dict[str, Any]]:
    """Return the quality rubric for one school: each criterion with its levels, and what the readiness
    rules behind it found in this school's plan."""
    found: dict[str, list] = {}
    for f in check_packet(packet):
        found.setdefault(f.rule, []).append(f.message)
    rows = []
    for c in template_data.review_rubric(templates):
        messages = [m for rule in c.rules for m in found.get(rule, [])]
        shown = messages[:RUBRIC_FINDINGS]
        if len(messages) > len(shown):
            shown.append(f"and {len(messages) - len(shown)} more (see readiness.xlsx)")
        rows.append({
            "criterion": c.criterion, "question": c.question, "rules": ", ".join(c.rules),
            "check": "" if not c.rules else ("all met" if not messages else
                                              f"{len(messages)} finding{'s' * (len(messages) != 1)}"),
            "findings": shown,
            "levels": [{"level": level, "descriptor": text} for level, text in c.levels],
        })
    return rows


def review_context(packet: Packet, templates: Templates) -> dict[str, Any]:
    """Return the plan review form's context: the school's review cycle, the quality rubric with this plan's
    automatic checks, a comment space per review round, and the approval block."""
    s = packet.school
    events = [_review_event(e, packet.as_of) for e in packet.review]
    cycle = [e for e in events if e["kind"] != "check-in"]
    rounds = [_review_round(packet, e) for e in cycle if e["kind"] in ("feedback", "final-review")]
    first_of: dict[str, dict[str, Any]] = {}
    for e in events:
        first_of.setdefault(e["kind"], e)
    return {
        **common_context(packet, templates),
        "plan_level": f"{s.designation} Level {s.support_level}" if s.support_level else s.designation,
        "cycle": cycle,
        "check_ins": [e for e in events if e["kind"] == "check-in"],
        "first_draft_due": first_of.get("first-draft", {}).get("due", ""),
        "final_review_due": first_of.get("final-review", {}).get("due", ""),
        "board_approval_scheduled": first_of.get("board-approval", {}).get("due", ""),
        "board_approval": long_date(s.board_approval),
        "rubric": rubric_rows(packet, templates),
        "levels": [level for level, _ in template_data.review_rubric(templates)[0].levels],
        "rounds": rounds,
        "signatures": review_signatures(packet, templates, rounds),
        "collect": collect_identity(packet, REVIEW_FORM, rounds, _REVIEW_VERSIONED),
    }


REVIEW_FORM = "review"
_REVIEW_VERSIONED = ("row_id", "title", "due_date", "reviewer", "decision", "strengths", "revisions")
TICKED, UNTICKED = "\u2612", "\u2610"


def _review_round(packet: Packet, event: dict[str, Any]) -> dict[str, Any]:
    """Return a review round with its decision and comments (the Review Decisions sheet) and, for `packets
    collect`, its Round ID: what the round is, and a short hash of each value the form was built with."""
    sid = packet.school.school_id
    found = {header_key(d.round): d for d in packet.review_decisions}.get(header_key(event["title"]))
    decision = found.decision if found else ""
    strengths = found.strengths if found else ""
    revisions = found.revisions if found else ""
    row_id = review_row_id(sid, event["title"])
    return {
        **event, "row_id": row_id, "decision": decision, "strengths": strengths, "revisions": revisions,
        "decision_line": "   ".join(f"{TICKED if choice == decision else UNTICKED} {choice}"
                                    for choice in REVIEW_DECISIONS_CHOICES),
        "round_id": f"{row_id}/" + ".".join(value_digest(v) for v in (decision, strengths, revisions)),
    }


def review_signatures(packet: Packet, templates: Templates, rounds: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Return the approval block's rows, one per signer, in forms.toml's review_signatures order: the
    school's signers (roles of its leadership_team: the principal first, then the team), then each
    review round's reviewer, then the district's signers. A principal's or district role nobody on the
    roster holds keeps a row with a blank name, so the form still has its line to sign."""
    people = template_data.form_data(templates).people
    roles = list(people["review_signatures"])
    team = set(people["leadership_team"])
    rows: list[dict[str, str]] = []
    signed: set[str] = set()

    def add(role: str, always: bool) -> None:
        holders = [p for p in in_role_order(packet, (role,)) if p.name not in signed]
        rows.extend({"role": role, "name": p.name} for p in holders)
        signed.update(p.name for p in holders)
        if always and not holders:
            rows.append({"role": role, "name": ""})

    for role in (r for r in roles if r in team):
        add(role, always=role == "Principal")
    rows += [{"role": e["title"], "name": e["reviewer"]} for e in rounds]
    for role in (r for r in roles if r not in team):
        add(role, always=True)
    return rows

