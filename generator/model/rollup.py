"""Roll-up: each school's progress on its timeline and review cycle as one plain row, for the district's view.

Every task of a school's timeline is counted in exactly one of four columns, the statuses the school's
own Schedule shows (as of the build's as-of date):
- done: it has a completion date;
- due: open, expected on or after the as-of date (still to do, not late);
- overdue: open, expected before the as-of date (a task past due with no completion date);
- not scheduled: open, with no expected date.
so done + due + overdue + not scheduled = tasks.

A school's status is "overdue" when any task is overdue; else "approaching" when an open task, or a
review deadline (a review step other than a check-in), falls within APPROACHING_DAYS days of the as-of
date (that day included); else "on target". Its next deadline is the earliest open task or review
deadline on or after the as-of date. Its review stage is the latest review step (first draft, feedback,
final review, board approval) whose date has come; "Not started" when none has; "" when the school has
no review dates. Check-ins are routine meetings, not steps: they show as the next review date only.

What the schools returned with `packets collect` shows too: how many of the ISBE grid's activity rows
their Grid Progress marks Done (and In progress), and the latest review round's decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from generator.inputs.schema import STATUSES, header_key
from generator.model.records import Packet, ReviewEvent
from generator.model.status import (
    APPROACHING,
    APPROACHING_DAYS,
    CHECK_IN,
    DONE,
    NOT_SCHEDULED,
    NOT_STARTED,
    ON_TARGET,
    OVERDUE,
    REVIEW_LABELS,
    SCHOOL_OVERDUE,
    SCHOOL_STATUSES,
    UPCOMING,
    is_approaching,
    task_status,
)

GRID_IN_PROGRESS, GRID_DONE = STATUSES[1], STATUSES[2]     # a Grid Progress row's statuses


@dataclass(frozen=True)
class Deadline:
    """One dated thing a school must do: a task or a review step."""

    date: dt.date
    title: str
    kind: str                  # "task", or the review step's kind
    state: str = ""            # a task's status on the schedule: Done, Upcoming, Overdue


@dataclass(frozen=True)
class Rollup:
    """One school's progress, as of a day."""

    school_id: str
    school: str
    designation: str
    as_of: dt.date
    tasks: int
    done: int
    due: int
    overdue: int
    not_scheduled: int
    status: str
    next_deadline: Deadline | None
    review_stage: str
    next_review: Deadline | None
    overdue_tasks: tuple[str, ...] = ()
    readiness: str = ""                       # Ready / Not ready / Failed / Not built..., from the build
    input_errors: tuple[str, ...] = ()        # not built: its own rows' errors, a line each
    grid_done: int = 0                        # ISBE grid rows the school's Grid Progress marks Done
    grid_in_progress: int = 0                 # ...and In progress
    review_decision: str = ""                 # the latest review round's decision, with the round

    @property
    def known(self) -> bool:
        """False for a school whose progress cannot be told: its rows have errors, so it has no model."""
        return bool(self.status)


def task_title(task) -> str:
    """Return a task's name with its detail: `Complete the DF \u2013 Submit DF ...`."""
    return f"{task.task} \u2013 {task.detail}" if task.detail else task.task


def review_title(event: ReviewEvent) -> str:
    """Return a review step's title, or its kind's label when it has none."""
    return event.title or REVIEW_LABELS.get(event.kind, event.kind)


def _review_deadline(event: ReviewEvent) -> Deadline:
    return Deadline(event.due, review_title(event), event.kind)


def review_stage(review: tuple[ReviewEvent, ...], as_of: dt.date) -> str:
    """Return the latest review step whose date has come, "Not started", or "" with no review dates."""
    steps = [e for e in review if e.kind != CHECK_IN]
    if not review:
        return ""
    passed = sorted((e for e in steps if e.due <= as_of), key=lambda e: e.due)
    return review_title(passed[-1]) if passed else NOT_STARTED


def _dated_tasks(packet: Packet, statuses: list[str]) -> list[Deadline]:
    return [Deadline(t.expected, task_title(t), "task", s) for t, s in zip(packet.tasks, statuses) if t.expected]


def school_dates(packet: Packet) -> tuple[Deadline, ...]:
    """Return every dated task and review date of a school, in date order (the timeline chart's markers).

    Made when wanted, not kept in the roll-up row: some forty a school, each with its title, they were
    most of a statewide district view's memory."""
    statuses = [task_status(t, packet.as_of) for t in packet.tasks]
    dates = _dated_tasks(packet, statuses) + [_review_deadline(e) for e in sorted(packet.review, key=lambda e: e.due)]
    return tuple(sorted(dates, key=lambda d: (d.date, d.title)))


@dataclass(frozen=True)
class SchoolDates:
    """A school's dates on the dashboard's chart (school_dates), with the first and last of them."""

    dates: tuple[Deadline, ...]

    @property
    def span(self) -> tuple[dt.date, dt.date] | None:
        return (self.dates[0].date, self.dates[-1].date) if self.dates else None


def school_rollup(packet: Packet, readiness: str = "") -> Rollup:
    """Return one school's roll-up row as of the packet's as-of date."""
    as_of = packet.as_of
    statuses = [task_status(t, as_of) for t in packet.tasks]
    counts = {s: statuses.count(s) for s in (DONE, UPCOMING, OVERDUE, NOT_SCHEDULED)}
    open_tasks = [d for d in _dated_tasks(packet, statuses) if d.state == UPCOMING]
    review = sorted(packet.review, key=lambda e: e.due)
    review_deadlines = [_review_deadline(e) for e in review if e.kind != CHECK_IN and e.due >= as_of]
    ahead = sorted(open_tasks + review_deadlines, key=lambda d: (d.date, d.title))
    if counts[OVERDUE]:
        status = SCHOOL_OVERDUE
    elif ahead and is_approaching(ahead[0].date, as_of, APPROACHING_DAYS):
        status = APPROACHING
    else:
        status = ON_TARGET
    next_review = next((_review_deadline(e) for e in review if e.due >= as_of), None)
    grid = [p.status for p in packet.grid_progress]
    return Rollup(
        school_id=packet.school.school_id, school=packet.school.name, designation=packet.school.designation,
        as_of=as_of, tasks=len(packet.tasks), done=counts[DONE], due=counts[UPCOMING],
        overdue=counts[OVERDUE], not_scheduled=counts[NOT_SCHEDULED], status=status,
        next_deadline=ahead[0] if ahead else None, review_stage=review_stage(tuple(review), as_of),
        next_review=next_review,
        overdue_tasks=tuple(task_title(t) for t, s in zip(packet.tasks, statuses) if s == OVERDUE),
        readiness=readiness, grid_done=grid.count(GRID_DONE), grid_in_progress=grid.count(GRID_IN_PROGRESS),
        review_decision=latest_decision(packet))


def latest_decision(packet: Packet) -> str:
    """Return the decision of the school's latest decided review round ("Approve with revisions (Feedback
    round 2)"), rounds ordered by their due dates; "" when no round has a decision yet."""
    due = {header_key(e.title): e.due for e in packet.review}
    decided = [d for d in packet.review_decisions if d.decision]
    if not decided:
        return ""
    last = max(enumerate(decided), key=lambda item: (due.get(header_key(item[1].round), dt.date.min), item[0]))[1]
    return f"{last.decision} ({last.round})"


def not_built_rollup(school_id: str, school: str, designation: str, as_of: dt.date, readiness: str,
                     input_errors: tuple[str, ...] = ()) -> Rollup:
    """Return the row of a school whose own rows have errors: no progress to show (no status), its
    readiness and its errors."""
    return Rollup(school_id, school, designation, as_of, 0, 0, 0, 0, 0, "", None, "", None,
                  readiness=readiness, input_errors=input_errors)


def status_counts(rows: list[Rollup]) -> dict[str, int]:
    """Return how many schools have each status, most urgent first."""
    return {s: sum(r.status == s for r in rows) for s in SCHOOL_STATUSES}
