"""Model: the district as frozen dataclasses, built from validated tables; no spreadsheet shape survives here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from .normalize import Row, Table
from .schema import STAGES, BENCHMARK_TERMS


@dataclass(frozen=True)
class Source:
    """Where a record came from, so a finding about it can point at the cell to fix."""

    file: str
    sheet: str
    row: int | None
    columns: Mapping[str, tuple[str, str]] = field(default_factory=dict, compare=False, repr=False)

    def at(self, key: str | None = None) -> dict[str, Any]:
        """Return the Finding location fields for this record and (optionally) one of its fields."""
        letter, header = self.columns.get(key, ("", key or "")) if key else ("", "")
        return {"file": self.file, "sheet": self.sheet, "row": self.row, "column": letter, "header": header}


@dataclass(frozen=True)
class School:
    school_id: str
    name: str
    designation: str
    support_level: int | None = None
    essa_status: str = ""
    grades: str = ""
    address: str = ""
    plan_date: dt.date | None = None
    last_updated: dt.date | None = None
    board_approval: dt.date | None = None
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    title: str = ""
    email: str = ""
    phone: str = ""
    school_id: str | None = None          # None: district-wide
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Task:
    stage: str
    task: str
    responsibility: str
    expected: dt.date | None
    completed: dt.date | None = None
    detail: str = ""
    notes: str = ""
    school_id: str | None = None          # None: the district-wide row
    source: Source | None = field(default=None, compare=False, repr=False)

    def is_overdue(self, as_of: dt.date) -> bool:
        """Return True when the expected date has passed and the task is not marked done."""
        return self.completed is None and self.expected is not None and self.expected < as_of


@dataclass(frozen=True)
class Meeting:
    meeting: str
    date: dt.date
    time: str = ""
    location: str = ""
    school_id: str | None = None
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ProblemOfPractice:
    problem_id: str
    text: str
    root_cause: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Benchmark:
    goal_id: str
    term: str
    benchmark: str
    initial: str = ""
    expected: str = ""
    date: dt.date | None = None
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Goal:
    goal_id: str
    goal_type: str
    statement: str
    measure: str = ""
    baseline: str = ""
    target: str = ""
    target_date: dt.date | None = None
    target_year2: str = ""
    target_year3: str = ""
    student_group: str = ""
    benchmarks: tuple[Benchmark, ...] = ()
    source: Source | None = field(default=None, compare=False, repr=False)

    @property
    def is_academic(self) -> bool:
        return self.goal_type == "Academic"


@dataclass(frozen=True)
class Activity:
    strategy_id: str
    activity: str
    start: dt.date | None = None
    end: dt.date | None = None
    milestone: str = ""
    funding: str = ""
    owner: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Strategy:
    strategy_id: str
    text: str
    evidence: str = ""
    problem_id: str = ""
    goal_id: str = ""
    activities: tuple[Activity, ...] = ()
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class MonitoringItem:
    goal_id: str
    evidence: str
    frequency: str = ""
    responsible: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Support:
    category: str
    description: str
    who: str = ""
    when: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Plan:
    """One school's Plan for Improvement content."""

    problems: tuple[ProblemOfPractice, ...] = ()
    goals: tuple[Goal, ...] = ()
    strategies: tuple[Strategy, ...] = ()
    monitoring: tuple[MonitoringItem, ...] = ()
    supports: tuple[Support, ...] = ()

    def supports_in(self, category: str) -> tuple[Support, ...]:
        return tuple(s for s in self.supports if s.category == category)


@dataclass(frozen=True)
class ReviewEvent:
    """One dated step of the district's review cycle for a school (seed 003): a draft due, a feedback
    round, the final review, board approval, or a check-in meeting."""

    kind: str                             # first-draft | feedback | final-review | board-approval | check-in
    title: str                            # e.g. "Feedback round 1"
    due: dt.date
    reviewer: str = ""                    # a person's name or a role; may be empty
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Packet:
    """Everything one school's packet is made from."""

    school: School
    district_name: str
    planning_year: Any                    # settings.PlanningYear
    as_of: dt.date
    people: tuple[Person, ...]
    tasks: tuple[Task, ...]
    meetings: tuple[Meeting, ...]
    plan: Plan
    review: tuple[ReviewEvent, ...] = ()  # in date order
    sources: Mapping[str, tuple[str, str]] = field(default_factory=dict, compare=False, repr=False)

    def people_in(self, *roles: str) -> tuple[Person, ...]:
        """Return the people who fill any of these roles for this school, school staff first."""
        found = [p for p in self.people if p.role in roles]
        return tuple(sorted(found, key=lambda p: p.school_id is None))


@dataclass(frozen=True)
class District:
    name: str
    planning_year: Any
    as_of: dt.date
    schools: tuple[School, ...]
    packets: tuple[Packet, ...]


# --- building the model from validated tables -------------------------------------------------

def _source(table: Table, row: Row) -> Source:
    return Source(table.file, table.sheet, row.number, table.columns)


def _text(row: Row, key: str) -> str:
    value = row[key]
    return "" if value is None else str(value)


class _BySchool:
    """Each sheet's rows grouped by School ID once, so building a school's packet reads only its rows
    (scanning every sheet for every school made large districts quadratic)."""

    def __init__(self, tables: Mapping[str, Table]):
        self.groups: dict[str, dict[str | None, list[tuple[Table, Row]]]] = {}
        for name, table in tables.items():
            groups = self.groups.setdefault(name, {})
            for row in table.rows:
                groups.setdefault(row.values.get("school_id"), []).append((table, row))

    def rows(self, sheet: str, school_id: str | None, district_wide: bool = False) -> list[tuple[Table, Row]]:
        """Return the sheet's rows for a school (and its district-wide rows first, if asked), in sheet order."""
        groups = self.groups.get(sheet, {})
        own = groups.get(school_id, [])
        if not district_wide:
            return own
        return sorted(groups.get(None, []) + own, key=lambda pair: pair[1].number)


def merge_timeline(tasks: list[Task], school_id: str) -> tuple[Task, ...]:
    """Return the school's timeline: district-wide rows, each replaced by the school's own row for the same
    stage, task and detail; the school's extra rows added. Ordered by stage, then by first appearance."""
    def key(t: Task):
        return (t.stage, t.task.casefold(), t.detail.casefold())

    own = {key(t): t for t in tasks if t.school_id == school_id}
    merged = [own.pop(key(t), t) for t in tasks if t.school_id is None]
    merged += [t for t in tasks if t.school_id == school_id and key(t) in own]
    first_seen: dict[tuple[str, str], int] = {}
    for i, t in enumerate(tasks):
        first_seen.setdefault((t.stage, t.task.casefold()), i)
    return tuple(sorted(merged, key=lambda t: (STAGES.index(t.stage), first_seen[(t.stage, t.task.casefold())])))


def _task(table: Table, row: Row) -> Task:
    return Task(stage=row["stage"], task=_text(row, "task"), responsibility=_text(row, "responsibility"),
                expected=row["expected"], completed=row["completed"], detail=_text(row, "detail"),
                notes=_text(row, "notes"), school_id=row["school_id"], source=_source(table, row))


def _plan(index: _BySchool, school_id: str) -> Plan:
    def rows(sheet):
        return index.rows(sheet, school_id)

    benchmarks = [Benchmark(r["goal_id"], r["term"], _text(r, "benchmark"), _text(r, "initial"),
                            _text(r, "expected"), r["date"], _source(t, r)) for t, r in rows("Benchmarks")]
    term_order = {term: i for i, term in enumerate(BENCHMARK_TERMS)}
    goals = tuple(
        Goal(r["goal_id"], r["goal_type"], _text(r, "statement"), _text(r, "measure"), _text(r, "baseline"),
             _text(r, "target"), r["target_date"], _text(r, "target_year2"), _text(r, "target_year3"),
             _text(r, "student_group"),
             tuple(sorted((b for b in benchmarks if b.goal_id == r["goal_id"]), key=lambda b: term_order[b.term])),
             _source(t, r))
        for t, r in rows("Goals"))
    activities = [Activity(r["strategy_id"], _text(r, "activity"), r["start"], r["end"], _text(r, "milestone"),
                           _text(r, "funding"), _text(r, "owner"), _source(t, r)) for t, r in rows("Activities")]
    strategies = tuple(
        Strategy(r["strategy_id"], _text(r, "text"), _text(r, "evidence"), _text(r, "problem_id"),
                 _text(r, "goal_id"), tuple(a for a in activities if a.strategy_id == r["strategy_id"]),
                 _source(t, r))
        for t, r in rows("Strategies"))
    return Plan(
        problems=tuple(ProblemOfPractice(r["problem_id"], _text(r, "text"), _text(r, "root_cause"), _source(t, r))
                       for t, r in rows("Problems")),
        goals=goals,
        strategies=strategies,
        monitoring=tuple(MonitoringItem(r["goal_id"], _text(r, "evidence"), _text(r, "frequency"),
                                        _text(r, "responsible"), _source(t, r)) for t, r in rows("Monitoring")),
        supports=tuple(Support(r["category"], _text(r, "description"), _text(r, "who"), _text(r, "when"),
                               _source(t, r)) for t, r in rows("Supports")),
    )


def build_district(tables: Mapping[str, Table], settings) -> District:
    """Return the district model from tables that passed validation."""
    schools = tuple(
        School(r["school_id"], _text(r, "name"), r["designation"], r["support_level"], _text(r, "essa_status"),
               _text(r, "grades"), _text(r, "address"), r["plan_date"], r["last_updated"], r["board_approval"],
               _source(t, r))
        for t, r in ((tables["Schools"], r) for r in tables["Schools"].rows))
    index = _BySchool(tables)
    district_tasks = [_task(t, r) for t, r in index.rows("Tasks", None)]
    packets = []
    for school in schools:
        if settings.schools and school.school_id not in settings.schools:
            continue
        sid = school.school_id
        people = tuple(
            Person(_text(r, "name"), r["role"], _text(r, "title"), _text(r, "email"), _text(r, "phone"),
                   r["school_id"], _source(t, r))
            for t, r in index.rows("People", sid, district_wide=True))
        meetings = tuple(sorted(
            (Meeting(_text(r, "meeting"), r["date"], _text(r, "time"), _text(r, "location"), r["school_id"],
                     _source(t, r)) for t, r in index.rows("Meetings", sid, district_wide=True)),
            key=lambda m: m.date))
        packets.append(Packet(school, settings.district_name, settings.planning_year, settings.as_of, people,
                              merge_timeline(district_tasks + [_task(t, r) for t, r in index.rows("Tasks", sid)],
                                             sid), meetings, _plan(index, sid)))
    return District(settings.district_name, settings.planning_year, settings.as_of, schools, tuple(packets))
