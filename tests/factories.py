"""Small districts made by the test that needs them, so a test says what it is about ("a school with three
strategies and a 1,500-character goal") instead of leaning on the sample district's counts.

Two shapes of the same thing:

- records, in memory: `packet(...)` returns a Packet of generator.model.records that passes every readiness
  rule unless told otherwise; `school`, `person`, `task`, `goal`, `strategy`, `activity` and `plan` make its
  parts. Give a count or a list: `packet(strategies=3)` or `packet(strategies=[strategy("S1", text=...)])`.
- input workbooks, on disk: `write_inputs(folder, [packet(...), ...])` writes roster.xlsx, timeline.xlsx,
  goals.xlsx and settings.toml with the schema's own headers, so the CLI builds exactly those packets.

    one = packet(school("0101"), strategies=3, goal_statement="x" * 1500)
    write_inputs(tmp_path / "inputs", [one, packet(school("0102"))])
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, Iterable, Sequence

import openpyxl

from generator.inputs.schema import SHEETS, STAGES, SUPPORT_CATEGORIES, WORKBOOKS
from generator.model.records import (
    REVIEW_KINDS,
    Activity,
    Benchmark,
    Goal,
    Meeting,
    MonitoringItem,
    Packet,
    Person,
    Plan,
    ProblemOfPractice,
    ReviewEvent,
    School,
    Strategy,
    Support,
    Task,
)
from generator.settings import PlanningYear

D = dt.date
YEAR = PlanningYear(2026)
AS_OF = D(2026, 11, 23)                      # the same day as conftest.AS_OF
DISTRICT = "Factory Unified School District"
PRINCIPAL = "Pat Lee"
DUE = D(2026, 12, 1)                         # after AS_OF: a task due then is not overdue


# --- records ---------------------------------------------------------------------------------------

def school(school_id: str = "0101", name: str | None = None, **fields: Any) -> School:
    fields.setdefault("designation", "Comprehensive")
    fields.setdefault("board_approval", D(2027, 6, 15))
    return School(school_id, name or f"School {school_id}", **fields)


def person(name: str = PRINCIPAL, role: str = "Principal", school_id: str | None = "0101", **fields: Any) -> Person:
    """A person on the roster; school_id None is district staff, serving every school."""
    local = name.lower().replace(" ", ".") + (f".{school_id}" if school_id else "")
    fields.setdefault("email", f"{local}@example.org")
    return Person(name, role, school_id=school_id, **fields)


def task(task: str = "Complete the DF", expected: dt.date | None = DUE, *, stage: str = STAGES[0],
         responsibility: str = "Principal", school_id: str | None = None, **fields: Any) -> Task:
    """A timeline task; school_id None is the district-wide row every school gets."""
    return Task(stage, task, responsibility, expected, school_id=school_id, **fields)


def goal(goal_id: str = "G1", statement: str | None = None, goal_type: str = "Academic", **fields: Any) -> Goal:
    """A measurable goal with a short- and a long-term benchmark."""
    fields.setdefault("measure", "IAR ELA proficiency")
    fields.setdefault("baseline", "24%")
    fields.setdefault("target", "32%")
    fields.setdefault("target_date", D(2027, 5, 31))
    fields.setdefault("benchmarks", (Benchmark(goal_id, "Short-term", "Winter MAP", "31%", "38%", D(2027, 1, 31)),
                                     Benchmark(goal_id, "Long-term", "Spring IAR", "24%", "32%", D(2027, 5, 31))))
    return Goal(goal_id, goal_type, statement or f"Raise ELA proficiency from 24% to 32% ({goal_id}).", **fields)


def activity(strategy_id: str = "S1", activity: str = "Train teachers", **fields: Any) -> Activity:
    fields.setdefault("start", D(2026, 9, 1))
    fields.setdefault("end", D(2026, 10, 30))
    fields.setdefault("milestone", "All teachers trained")
    fields.setdefault("funding", "Title I")
    fields.setdefault("owner", PRINCIPAL)
    return Activity(strategy_id, activity, **fields)


def strategy(strategy_id: str = "S1", text: str | None = None, *, activities: int | Sequence[Activity] = 1,
             problem_id: str = "P1", goal_id: str = "G1", **fields: Any) -> Strategy:
    """A strategy addressing problem P1, with `activities` activities (a count or the activities)."""
    if isinstance(activities, int):
        activities = [activity(strategy_id, f"Activity {i} of {strategy_id}") for i in range(1, activities + 1)]
    fields.setdefault("evidence", "WWC practice guide")
    return Strategy(strategy_id, text or f"Strategy {strategy_id}", problem_id=problem_id, goal_id=goal_id,
                    activities=tuple(activities), **fields)


def plan(*, goals: int | Sequence[Goal] = 2, strategies: int | Sequence[Strategy] = 1,
         goal_statement: str | None = None, supports: Iterable[str] = SUPPORT_CATEGORIES) -> Plan:
    """A plan that meets every readiness rule: one problem, `goals` academic goals (each monitored),
    `strategies` strategies, and one support in each of `supports`. goal_statement sets the first goal's."""
    if isinstance(goals, int):
        goals = [goal(f"G{i}") for i in range(1, goals + 1)]
    if goal_statement is not None:
        goals = [dataclasses.replace(goals[0], statement=goal_statement), *goals[1:]]
    if isinstance(strategies, int):
        strategies = [strategy(f"S{i}") for i in range(1, strategies + 1)]
    return Plan(
        problems=(ProblemOfPractice("P1", "Students do not read fluently.", "No daily fluency practice."),),
        goals=tuple(goals),
        strategies=tuple(strategies),
        monitoring=tuple(MonitoringItem(g.goal_id, "MAP growth reports", "Three times a year", "Leadership team")
                         for g in goals),
        supports=tuple(Support(category, f"{category} for the plan", "Coach", "Monthly") for category in supports),
    )


def packet(the_school: School | None = None, *, people: Sequence[Person] | None = None,
           tasks: Sequence[Task] | None = None, meetings: Sequence[Meeting] = (),
           review: Sequence[ReviewEvent] | None = None, plan_: Plan | None = None, as_of: dt.date = AS_OF,
           **plan_options: Any) -> Packet:
    """One school's packet, ready unless told otherwise; plan_options go to `plan` (goals=, strategies=,
    goal_statement=, supports=) when no plan_ is given."""
    the_school = the_school or school()
    sid = the_school.school_id
    if people is None:
        people = [person(PRINCIPAL, "Principal", sid, title="Principal")]
    if tasks is None:
        tasks = [task()]
    if review is None:
        review = [ReviewEvent("first-draft", "First draft due", D(2027, 4, 23), "Principal")]
    return Packet(the_school, DISTRICT, YEAR, as_of, tuple(people), tuple(tasks), tuple(meetings),
                  plan_ or plan(**plan_options), tuple(sorted(review, key=lambda e: e.due)))


# --- input workbooks -------------------------------------------------------------------------------

STEPS = {kind: step for step, kind in REVIEW_KINDS.items()}
SPEC = {spec.name: spec for spec in SHEETS}


def _row(record: Any, **extra: Any) -> dict[str, Any]:
    return {**{f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name != "source"}, **extra}


def sheet_rows(packets: Iterable[Packet]) -> dict[str, list[dict[str, Any]]]:
    """The rows of every input sheet (keyed by the schema's column keys) that make these packets.
    A district-wide row (a person or task without a School ID) shared by several packets is written once."""
    rows: dict[str, list[dict[str, Any]]] = {spec.name: [] for spec in SHEETS}

    def add(sheet: str, row: dict[str, Any]) -> None:
        if row not in rows[sheet]:
            rows[sheet].append(row)

    for p in packets:
        sid = p.school.school_id
        add("Schools", _row(p.school))
        for who in p.people:
            add("People", _row(who))
        for t in p.tasks:
            add("Tasks", _row(t))
        for m in p.meetings:
            add("Meetings", _row(m))
        for event in p.review:
            add("Review", {"school_id": sid, "step": STEPS[event.kind], "title": event.title,
                           "reviewer": event.reviewer, "due": event.due})
        for problem in p.plan.problems:
            add("Problems", _row(problem, school_id=sid))
        for g in p.plan.goals:
            add("Goals", {k: v for k, v in _row(g, school_id=sid).items() if k != "benchmarks"})
            for b in g.benchmarks:
                add("Benchmarks", _row(b, school_id=sid))
        for s in p.plan.strategies:
            add("Strategies", {k: v for k, v in _row(s, school_id=sid).items() if k != "activities"})
            for a in s.activities:
                add("Activities", _row(a, school_id=sid))
        for item in p.plan.monitoring:
            add("Monitoring", _row(item, school_id=sid))
        for support in p.plan.supports:
            add("Supports", _row(support, school_id=sid))
    return rows


def write_inputs(folder: Path, packets: Sequence[Packet], state: str = "IL") -> Path:
    """Write the input workbooks and settings.toml of a district made of these packets into `folder`.
    Every sheet of the schema is written with its headers, even when it has no rows. `state` is settings.toml's
    [district] state ("" leaves it out)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = sheet_rows(packets)
    for workbook in WORKBOOKS:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for spec in (s for s in SHEETS if s.workbook == workbook):
            ws = wb.create_sheet(spec.name)
            ws.append([c.name for c in spec.columns])
            for row in rows[spec.name]:
                ws.append([row.get(c.key) for c in spec.columns])
        wb.save(folder / f"{workbook}.xlsx")
    first = packets[0]
    (folder / "settings.toml").write_text(
        f'[district]\nname = "{first.district_name}"\nplanning_year = "{first.planning_year.label}"\n'
        + (f'state = "{state}"\n' if state else ""), encoding="utf-8")
    return folder


def district(count: int = 3, **packet_options: Any) -> list[Packet]:
    """`count` ready schools, 0101, 0102, ..., each with its own principal; packet_options go to `packet`."""
    return [packet(school(f"{i:04d}"), **packet_options) for i in range(101, 101 + count)]


# --- reading generated forms --------------------------------------------------------------------

SCHEDULE_HEADER = "Process Timeframe"


def schedule_table_rows(doc) -> list[list[str]]:
    """The Schedule for Plan Development's rows as one list, as the form read before it became a table per
    stage: each stage's name in the first cell of its first row (the stage tables' second header row
    names it), then the task, responsibility and dates."""
    rows = []
    for table in doc.tables:
        if table.rows[0].cells[0].text != SCHEDULE_HEADER:
            continue
        stage = table.rows[1].cells[0].text
        for i, row in enumerate(table.rows[2:]):
            cells = [c.text for c in row.cells]
            rows.append([stage if i == 0 else "", *cells[1:]])
    return rows
