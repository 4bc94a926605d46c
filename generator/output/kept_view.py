"""Each school's part of the district view (its roll-up row, its dates on the dashboard's chart, its share of the
district calendar), kept beside the packets under the inputs digest it was made for, so that a rebuild need
not model a school whose inputs are as they were to show it.

A school's inputs digest (build_record.inputs_digests) covers its rows, the district-wide rows, the settings
(the day statuses are judged by among them), the templates and the code that reads and models inputs; the
key adds the code that makes the parts kept here. At 5,000 schools, modelling every school again for the
view took 0.7 s of a one-school edit, and its roll-up rows 0.25 s.

The store is output/.packets-cache/view.sqlite (kept_by_school), values MessagePack: plain data, read back
into the same records (a record's source, where its row sits, is not kept: nothing in the view shows it)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Collection, Iterable, Mapping

import msgpack

from generator.inputs.cache import source_digest
from generator.model.records import Meeting, Packet, Person, ReviewEvent, Task
from generator.model.rollup import Deadline, Rollup, SchoolDates, school_dates, school_rollup
from generator.output import kept_by_school
from generator.render.calendars import CalendarShare, calendar_share
from generator.render.template_data import Templates

VIEW_STORE = "view.sqlite"
# What a school's view is made by, besides its inputs (whose digest covers the model's code and the templates).
_VIEW_CODE = ("output/kept_view.py", "render/calendars.py")


@dataclass(frozen=True)
class SchoolView:
    """What the district view shows of one school, made from its packet (school_view): its roll-up row (its
    readiness is the build's to fill in), the first and last of its dates, and its share of the district
    calendar. Its dates themselves, most of what it holds, are held packed and read only when its chart row is
    drawn anew (some forty a school, each with its title: held as records, they were 30 MB at 5,000 schools)."""

    rollup: Rollup
    span: tuple[dt.date, dt.date] | None
    calendar: CalendarShare
    packed_dates: bytes

    @property
    def dates(self) -> tuple[Deadline, ...]:
        """Every dated task and review date of the school, in date order (rollup.school_dates)."""
        return tuple(Deadline(dt.date.fromordinal(day), title, kind, state)
                     for day, title, kind, state in msgpack.unpackb(self.packed_dates, use_list=False))


def school_view(packet: Packet, templates: Templates) -> SchoolView:
    """Return what the district view shows of the school whose packet this is (its plan is not needed)."""
    dates = school_dates(packet)
    return SchoolView(school_rollup(packet), SchoolDates(dates).span,
                      calendar_share(packet, templates),
                      msgpack.packb([(d.date.toordinal(), d.title, d.kind, d.state) for d in dates]))


def school_views(packets: Iterable[Packet], templates: Templates) -> dict[str, SchoolView]:
    """Return what the district view shows of each school whose packet is among `packets`, by School ID."""
    return {packet.school.school_id: school_view(packet, templates) for packet in packets}


def read(cache: Path) -> dict[str, tuple[str, Any]]:
    """Return the store as it is (kept_by_school.read): for load, and for keep to write only what changed."""
    return kept_by_school.read(Path(cache) / VIEW_STORE)


def load(kept: Mapping[str, tuple[str, Any]], inputs: Mapping[str, str]) -> dict[str, SchoolView]:
    """Return the kept view (`kept`, the store as read) of each school whose inputs digest (`inputs`, by
    School ID) is the one it was kept under, with the code that made it."""
    if not inputs:
        return {}
    try:
        unpacking = _Unpacking()
        return {school: unpacking.view(body) for school, (key, body) in kept.items()
                if school in inputs and key == _key(inputs[school])}
    except Exception:       # a damaged store is no store: the schools are modelled again
        return {}


def keep(cache: Path, views: Mapping[str, tuple[str, SchoolView]], school_ids: Collection[str],
         earlier: Mapping[str, tuple[str, Any]] | None = None) -> None:
    """Keep each school's view (`views`: School ID -> its inputs digest and view), with what was kept before
    of the other schools on the roster (`school_ids`); a school no longer on it is dropped. `earlier` is the
    store as read, when it was. A store that cannot be written is left out: the next build models the
    schools again."""
    path = Path(cache) / VIEW_STORE
    earlier = read(cache) if earlier is None else earlier
    on_roster = set(school_ids)
    rows = {school: earlier[school] if school in earlier and earlier[school][0] == _key(digest)
            else (_key(digest), _packed(view)) for school, (digest, view) in views.items()}
    rows.update({school: kept for school, kept in earlier.items() if school in on_roster and school not in views})
    kept_by_school.write(path, rows, earlier)


def _key(inputs: str) -> str:
    return hashlib.blake2b(f"{_view_code()}\x1f{inputs}".encode("utf-8"), digest_size=16).hexdigest()


@lru_cache(maxsize=1)
def _view_code() -> str:
    return source_digest(*_VIEW_CODE)


# --- packing ------------------------------------------------------------------------------------------
# Dates as day numbers; records as tuples of their fields in order (their sources left out).

def _day(date: dt.date | None) -> int | None:
    return None if date is None else date.toordinal()


def _deadline(d: Deadline | None) -> tuple | None:
    return None if d is None else (d.date.toordinal(), d.title, d.kind, d.state)


def _person(p: Person) -> tuple:
    return (p.name, p.role, p.title, p.email, p.phone, p.school_id)


def _packed(view: SchoolView) -> bytes:
    r, share = view.rollup, view.calendar
    rollup = (r.school_id, r.school, r.designation, r.as_of.toordinal(), r.tasks, r.done, r.due, r.overdue,
              r.not_scheduled, r.status, _deadline(r.next_deadline), r.review_stage, _deadline(r.next_review),
              r.overdue_tasks, r.readiness, r.input_errors, r.grid_done, r.grid_in_progress, r.review_decision)
    calendar = (share.school_id, share.school_name,
                [(t.stage, t.task, t.responsibility, _day(t.expected), _day(t.completed), t.detail, t.notes)
                 for t in share.tasks],
                [(m.meeting, m.date.toordinal(), m.time, m.location) for m in share.meetings],
                [(e.kind, e.title, e.due.toordinal(), e.reviewer) for e in share.review],
                [(text, [_person(p) for p in people]) for text, people in share.named.items()],
                [_person(p) for p in share.district_staff])
    span = None if view.span is None else (view.span[0].toordinal(), view.span[1].toordinal())
    return msgpack.packb((rollup, span, calendar, view.packed_dates))


class _Unpacking:
    """Records read back from the store, each distinct one made once: the district-wide tasks, meetings,
    review steps and staff recur in every school's view, and making a record costs far more than finding
    the one already made."""

    def __init__(self) -> None:
        self._made: dict[tuple, Any] = {}
        self._days: dict[int, dt.date] = {}

    def _date(self, day: int) -> dt.date:
        date = self._days.get(day)
        if date is None:
            date = self._days[day] = dt.date.fromordinal(day)
        return date

    def _date_or_none(self, day: int | None) -> dt.date | None:
        return None if day is None else self._date(day)

    def _record(self, kind: type, fields: tuple) -> Any:
        key = (kind, *fields)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = kind(*fields)
        return made

    def _deadline(self, packed: tuple | None) -> Deadline | None:
        if packed is None:
            return None
        day, title, kind, state = packed
        return Deadline(self._date(day), title, kind, state)

    def _people(self, packed: tuple) -> tuple[Person, ...]:
        return tuple(self._record(Person, p) for p in packed)

    def view(self, body: bytes) -> SchoolView:
        rollup, span, calendar, dates = msgpack.unpackb(body, use_list=False)
        (school_id, school, designation, as_of, tasks, done, due, overdue, not_scheduled, status, next_deadline,
         review_stage, next_review, overdue_tasks, readiness, input_errors, grid_done, grid_in_progress,
         review_decision) = rollup
        row = Rollup(school_id, school, designation, self._date(as_of), tasks, done, due, overdue, not_scheduled,
                     status, self._deadline(next_deadline), review_stage, self._deadline(next_review), overdue_tasks,
                     readiness, input_errors, grid_done, grid_in_progress, review_decision)
        sid, name, shared_tasks, meetings, review, named, staff = calendar
        date = self._date
        share = CalendarShare(
            sid, name,
            tuple(self._record(Task, (stage, task, who, self._date_or_none(expected), self._date_or_none(completed),
                                      detail, notes))
                  for stage, task, who, expected, completed, detail, notes in shared_tasks),
            tuple(self._record(Meeting, (meeting, date(day), time, place)) for meeting, day, time, place in meetings),
            tuple(self._record(ReviewEvent, (kind, title, date(due), who)) for kind, title, due, who in review),
            {text: self._people(people) for text, people in named},
            self._people(staff))
        return SchoolView(row, None if span is None else (date(span[0]), date(span[1])), share, dates)
