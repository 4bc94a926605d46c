"""Check-ins: a school's check-in meetings on its plan (seed 003, Step 3) and what each one reviews.

A check-in is a Review row with Step "Check-in" (repeating rows give one per date; a school's own rows
replace the district's). A check-in reviews what fell due since the one before: the window runs from the
day after the school's previous check-in (the planning year's first day for its first) through the
check-in's own date, both included.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from generator.model.records import Activity, Benchmark, Goal, Packet, ReviewEvent, Strategy, Task
from generator.model.status import CHECK_IN, activity_due


@dataclass(frozen=True)
class CheckIn:
    """One school's check-in on a day, with the window it reviews."""

    packet: Packet
    event: ReviewEvent                      # the check-in (the first of that day's, when a school has two)
    number: int                             # 1 for the school's first check-in of the cycle
    count: int                              # how many check-in days the school's cycle has
    since: dt.date                          # the window's first day
    previous: dt.date | None                # the previous check-in's date; None for the first

    @property
    def date(self) -> dt.date:
        return self.event.due

    def in_window(self, day: dt.date | None) -> bool:
        return day is not None and self.since <= day <= self.date

    def activities_due(self, strategy: Strategy) -> tuple[Activity, ...]:
        """Return the strategy's activities due in the window (activity_due: the end date, else the start)."""
        return tuple(a for a in strategy.activities if self.in_window(activity_due(a)))

    def benchmarks_due(self, goal: Goal) -> tuple[Benchmark, ...]:
        """Return the goal's benchmarks dated in the window."""
        return tuple(b for b in goal.benchmarks if self.in_window(b.date))

    def tasks_due(self) -> tuple[Task, ...]:
        """Return the school's timeline tasks expected in the window, in date order."""
        return tuple(sorted((t for t in self.packet.tasks if self.in_window(t.expected)),
                            key=lambda t: t.expected or dt.date.max))


def check_ins(packet: Packet) -> tuple[ReviewEvent, ...]:
    """Return the school's check-ins in date order, one per day (the first row of a day when it has two)."""
    days: dict[dt.date, ReviewEvent] = {}
    for event in sorted((e for e in packet.review if e.kind == CHECK_IN), key=lambda e: e.due):
        days.setdefault(event.due, event)
    return tuple(days.values())


def check_in_on(packet: Packet, day: dt.date) -> CheckIn | None:
    """Return the school's check-in on `day`, or None when it has none that day."""
    events = check_ins(packet)
    for number, event in enumerate(events, start=1):
        if event.due == day:
            previous = events[number - 2].due if number > 1 else None
            since = previous + dt.timedelta(days=1) if previous else packet.planning_year.first_day
            return CheckIn(packet, event, number, len(events), min(since, day), previous)
    return None


def next_check_in(packet: Packet, day: dt.date) -> CheckIn | None:
    """Return the school's first check-in on or after `day`, or None when it has none left."""
    upcoming = next((e for e in check_ins(packet) if e.due >= day), None)
    return check_in_on(packet, upcoming.due) if upcoming else None


def latest_result(goal: Goal, day: dt.date) -> Benchmark | None:
    """Return the goal's latest benchmark with an Actual value dated on or before `day` (an undated one
    counts as measured), or None when none has been measured."""
    measured = [b for b in goal.benchmarks if b.actual.strip() and (b.date is None or b.date <= day)]
    return max(measured, key=lambda b: b.date or dt.date.min) if measured else None
