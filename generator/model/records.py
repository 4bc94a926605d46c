"""Records: the district as frozen dataclasses; no spreadsheet shape survives here."""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Mapping

from generator.inputs.schema import IDENTIFICATIONS, NOT_IDENTIFIED, REVIEW_STEPS

# ReviewEvent.kind of each Step on the Review sheet.
REVIEW_KINDS = dict(zip(REVIEW_STEPS, ("first-draft", "feedback", "final-review", "board-approval", "check-in")))
# What a review step is called when its Title is blank; feedback rounds and check-ins are numbered.
REVIEW_TITLES = {"First Draft": "First draft due", "Feedback Round": "Feedback round", "Final Review": "Final review",
                 "Board Approval": "Board approval", "Check-in": "Check-in"}
NUMBERED_STEPS = ("Feedback Round", "Check-in")


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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
    # What the designation (as the forms print it: "Commendable", "Additional Targeted") is identified for:
    # one of IDENTIFICATIONS (designations.csv says which). Left empty, the designation's own word when it
    # is one of them, else Not identified.
    identification: str = ""

    def __post_init__(self) -> None:
        if not self.identification:
            own = self.designation if self.designation in IDENTIFICATIONS else NOT_IDENTIFIED
            object.__setattr__(self, "identification", own)

    @property
    def identified(self) -> bool:
        """True for a school identified for support (Intensive, Comprehensive or Targeted)."""
        return self.identification != NOT_IDENTIFIED


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    role: str
    title: str = ""
    email: str = ""
    phone: str = ""
    school_id: str | None = None          # None: district-wide
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class Meeting:
    meeting: str
    date: dt.date
    time: str = ""
    location: str = ""
    school_id: str | None = None
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ProblemOfPractice:
    problem_id: str
    text: str
    root_cause: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Benchmark:
    goal_id: str
    term: str
    benchmark: str
    initial: str = ""
    expected: str = ""
    date: dt.date | None = None
    actual: str = ""                 # the result once measured; blank until then
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class Activity:
    strategy_id: str
    activity: str
    start: dt.date | None = None
    end: dt.date | None = None
    milestone: str = ""
    funding: str = ""
    owner: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Strategy:
    strategy_id: str
    text: str
    evidence: str = ""
    problem_id: str = ""
    goal_id: str = ""
    activities: tuple[Activity, ...] = ()
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class MonitoringItem:
    goal_id: str
    evidence: str
    frequency: str = ""
    responsible: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Support:
    category: str
    description: str
    who: str = ""
    when: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Plan:
    """One school's Plan for Improvement content."""

    problems: tuple[ProblemOfPractice, ...] = ()
    goals: tuple[Goal, ...] = ()
    strategies: tuple[Strategy, ...] = ()
    monitoring: tuple[MonitoringItem, ...] = ()
    supports: tuple[Support, ...] = ()

    def supports_in(self, category: str) -> tuple[Support, ...]:
        return tuple(s for s in self.supports if s.category == category)


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """One dated step of the district's review cycle for a school (seed 003): a draft due, a feedback
    round, the final review, board approval, or a check-in meeting."""

    kind: str                             # first-draft | feedback | final-review | board-approval | check-in
    title: str                            # e.g. "Feedback round 1"
    due: dt.date
    reviewer: str = ""                    # a person's name or a role; may be empty
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class GridProgress:
    """A school's progress on one ISBE grid activity's tasks for one role (timeline.xlsx, Grid Progress)."""

    month: str
    key_activity: str
    role: str
    status: str = "Not started"
    completed: dt.date | None = None
    notes: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    """A reviewer's decision and comments on one of a school's review rounds (timeline.xlsx, Review Decisions)."""

    round: str
    decision: str = ""
    strengths: str = ""
    revisions: str = ""
    source: Source | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
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
    state: str = ""                       # settings.toml's [district] state, as written ("": the default)
    # Readiness rules that do not concern this school (the state profile's [rules]), sorted: the packet's
    # repr is its fingerprint, and a set's order changes from one process to the next.
    waived_rules: tuple[str, ...] = ()
    time_zone: str = ""                   # the district's IANA time zone for meetings' times; "": floating
    grid_progress: tuple[GridProgress, ...] = ()     # the school's Grid Progress rows, in sheet order
    review_decisions: tuple[ReviewDecision, ...] = ()    # the school's Review Decisions rows, in sheet order

    def people_in(self, *roles: str) -> tuple[Person, ...]:
        """Return the people who fill any of these roles for this school, school staff first."""
        found = [p for p in self.people if p.role in roles]
        return tuple(sorted(found, key=lambda p: p.school_id is None))


@dataclass(frozen=True, slots=True)
class District:
    name: str
    planning_year: Any
    as_of: dt.date
    schools: tuple[School, ...]
    packets: tuple[Packet, ...]


def _pickled_fast(cls: Any) -> None:
    """Give a frozen, slotted record class a quick way to be pickled: a build hands every stale school's
    packet to a worker process. dataclasses gives such a class a __getstate__ and __setstate__ that
    look its fields up again for every record (0.55 ms a packet in the main process, and as much again
    in the worker, at 5,000 schools 3 s of the build's CPU); these take the names once."""
    names = tuple(f.name for f in fields(cls))
    values = operator.attrgetter(*names)            # several names: a tuple of their values, made in C

    def getstate(self) -> tuple:
        return values(self) if len(names) > 1 else (values(self),)

    def setstate(self, state, _names=names, _set=object.__setattr__) -> None:
        for name, value in zip(_names, state):
            _set(self, name, value)
    cls.__getstate__, cls.__setstate__ = getstate, setstate


for _record in [value for value in list(globals().values())
                if isinstance(value, type) and is_dataclass(value) and value.__module__ == __name__]:
    _pickled_fast(_record)
