"""Calendars: each school's dated tasks, meetings and review dates as an iCalendar (.ics) file, and one for
the district.

- A task is an all-day event on its expected date; a review date is an all-day event on its due date;
  a meeting with a time (`3:15 PM`, `3:15-4:30 PM`) is a timed event at that clock time in the district's
  time zone (settings.toml [district] time_zone; the calendar carries the zone's VTIMEZONE), or in floating
  local time when none is set (shown at that clock time wherever the calendar is opened); an hour long
  unless the time gives an end. A meeting without a time is an all-day event.
- Attendees are the people the Responsibility text names (`Principal & BLT`), a review's reviewer, and
  for a meeting the team its name names (`Leadership Team Meeting`). A name is a roster role, a role
  synonym, a team in templates/responsibility_names.csv, a roster person's name or title. People without
  an email address cannot be invited (an attendee is an address), nor can those whose Email cell holds
  a line break (the roster check warns about it; no address can), so they are named in the event's
  description only, as is the Responsibility text as written. An event that invites anyone has an
  ORGANIZER: the first person with an address in forms.toml's [people] calendar_organizer roles (the
  district's own staff for the district calendar), else its first invited person.
- UIDs come from the school, the kind of event and what the event is (a task's stage, task and detail;
  a meeting's name; a review's kind and title), never its place in a sheet, so inserting a row leaves
  the other events' UIDs alone and importing the file again updates events instead of duplicating them.
  Where several events share that identity (a monthly meeting) the date is part of it too.
- The district calendar holds what the district itself keeps: the timeline rows and meetings that apply
  to every school (once), and every school's review dates, merged into one event where several schools
  share the same step on the same day. Its attendees are the people named at those schools, or only the
  district-wide staff when that would be more than MAX_DISTRICT_ATTENDEES people.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Mapping, Sequence

from icalendar import Component, Timezone, vCalAddress, vText
from icalendar.parser import Contentline

from generator.findings import PacketsError
from generator.inputs.schema import ROLE_SYNONYMS, ROLES, header_key
from generator.model.records import Meeting, Packet, Person, ReviewEvent, Task
from generator.model.rollup import review_title, task_title
from generator.model.status import REVIEW_LABELS, task_status
from generator.render.adapters.icalendar_internals import escape_text
from generator.render.context import long_date, names
from generator.render.template_data import SHIPPED, Templates, form_data, grid_columns

CALENDAR_KEY = "calendar"               # the {form} part of a school calendar's file name: 0101-calendar.ics
PRODID = "-//Plan Packets//School improvement calendar//EN"
UID_DOMAIN = "plan-packets"
MEETING_LENGTH = dt.timedelta(hours=1)
MAX_DISTRICT_ATTENDEES = 20
RESPONSIBILITY_NAMES = "responsibility_names.csv"


@dataclass(frozen=True)
class CalendarEvent:
    """One event, as plain data, before it becomes iCalendar text."""

    uid: str
    summary: str
    start: dt.date | dt.datetime          # a date: an all-day event
    end: dt.date | dt.datetime
    description: str = ""
    location: str = ""
    categories: tuple[str, ...] = ()
    attendees: tuple[Person, ...] = ()
    organizer: Person | None = None       # written only when the event invites someone

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, dt.datetime)


# --- who is responsible -------------------------------------------------------------------------

_SEPARATORS = re.compile(r"\s*(?:[,;/&+]|\band\b)\s*", re.I)
_ASIDE = re.compile(r"\s*\([^)]*\)")          # `Priya Raman (District Staff)`: the name is enough


@lru_cache(maxsize=None)
def role_names(templates: Templates) -> dict[str, tuple[str, ...]]:
    """Return every name a Responsibility may use for a group of roster roles, keyed by its matching form:
    the teams in responsibility_names.csv, each role and its synonyms, the ISBE grid's column titles."""
    found: dict[str, tuple[str, ...]] = {}
    path = templates.path(RESPONSIBILITY_NAMES)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                roles = tuple(r.strip() for r in (row.get("Roster Roles") or "").split(";") if r.strip())
                unknown = [r for r in roles if r not in ROLES]
                if unknown or not (row.get("Name") or "").strip():
                    raise PacketsError(f"{path}, row {line}: " + (
                        f"unknown role(s) {', '.join(unknown)}." if unknown else "the Name is empty."))
                found.setdefault(header_key(row["Name"]), roles)
    except FileNotFoundError:
        raise PacketsError(f"{path}: missing; restore it from git.") from None
    for role in ROLES:
        for name in (role, *ROLE_SYNONYMS.get(role, ())):
            found.setdefault(header_key(name), (role,))
    for column in grid_columns(templates):
        if "{" not in column.title:
            found.setdefault(header_key(column.title), column.roles)
    return found


def _name_forms(part: str) -> list[str]:
    """Return the matching forms to try for one named party: as written, without a plural s, and
    without a trailing 'meeting ...' (`Leadership Team Meeting` names the leadership team)."""
    key = header_key(part)
    forms = [key, key[:-1] if key.endswith("s") else ""]
    if "meeting" in key:
        forms.append(key[:key.index("meeting")])
    return [f for f in forms if f]


@lru_cache(maxsize=4096)
def _named_parties(text: str,
                   templates: Templates) -> tuple[tuple[str, tuple[str, ...] | None, tuple[str, ...]], ...]:
    """Return the parties a text names, each as written, the roster roles it names (None: not a role or
    team) and its matching forms (for a person's name or title); the same few texts recur at every school."""
    known = role_names(templates)
    parties = []
    for part in filter(None, _SEPARATORS.split(_ASIDE.sub("", text))):
        forms = tuple(_name_forms(part))
        parties.append((part, next((known[f] for f in forms if f in known), None), forms))
    return tuple(parties)


def responsible_people(packet: Packet, text: str, templates: Templates = SHIPPED) -> tuple[Person, ...]:
    """Return the people a Responsibility (or reviewer, or meeting name) names for this school, each once:
    `Principal & Building Leadership Team` is the principal and the leadership team's members."""
    found = [person for _, people in responsible_parties(packet, text, templates) for person in people]
    unique: dict[tuple[str, str], Person] = {}
    for person in found:
        unique.setdefault((person.name, person.email.casefold()), person)
    return tuple(unique.values())


def responsible_parties(packet: Packet, text: str,
                        templates: Templates = SHIPPED) -> tuple[tuple[str, tuple[Person, ...]], ...]:
    """Return each party a Responsibility names, as written, with the people on this school's roster (its
    own rows and the district-wide ones) it names: none for a name or role no one there has. A name
    matches a person's name or title, letters and digits alike; or, written out whole, their name with
    case and spacing aside (a name in a script without Latin letters has no other form to match)."""
    whole = name_key(text or "")
    parties = []
    for part, roles, forms in _named_parties(text or "", templates):
        if roles:
            parties.append((part, packet.people_in(*roles)))
            continue
        key = name_key(part)
        people = ([p for p in packet.people if header_key(p.name) in forms]
                  or [p for p in packet.people if p.title and header_key(p.title) in forms]
                  or [p for p in packet.people if name_key(p.name) in (key, whole)])
        parties.append((part, tuple(people)))
    return tuple(parties)


def name_key(text: str) -> str:
    """Return a person's name as names are matched: composed (NFC), case folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", str(text)).casefold().split())


# --- identities and UIDs ------------------------------------------------------------------------

@lru_cache(maxsize=65536)                   # stages, tasks and dates recur at every school
def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def event_uid(*identity: str) -> str:
    """Return a UID made from what an event is (never where its row sits)."""
    digest = hashlib.sha256("\x1f".join(_norm(p) for p in identity).encode("utf-8")).hexdigest()
    return f"{digest[:32]}@{UID_DOMAIN}"


def _uids(scope: Sequence[str], items: Sequence, identity: Callable, when: Callable) -> list[str]:
    """Return a UID per item: scope + identity, with the date added where several items share an
    identity, and a count added where even the date is shared (two identical rows)."""
    counts: dict[tuple, int] = {}
    for item in items:
        counts[identity(item)] = counts.get(identity(item), 0) + 1
    seen: dict[tuple, int] = {}
    uids = []
    for item in items:
        key = identity(item)
        if counts[key] > 1:
            key = (*key, when(item).isoformat())
        seen[key] = seen.get(key, 0) + 1
        uids.append(event_uid(*scope, *key, *(() if seen[key] == 1 else (f"#{seen[key]}",))))
    return uids


def _task_identity(t: Task) -> tuple[str, ...]:
    return ("task", t.stage, t.task, t.detail)


def _meeting_identity(m: Meeting) -> tuple[str, ...]:
    return ("meeting", m.meeting)


def _review_identity(r: ReviewEvent) -> tuple[str, ...]:
    return ("review", r.kind, r.title)


# --- times --------------------------------------------------------------------------------------

_TIME = r"(\d{1,2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?"
_TIME_RANGE = re.compile(rf"^\s*{_TIME}\s*(?:(?:-|\u2013|to)\s*{_TIME})?\s*$")


def _clock(hour: str, minute: str | None, half: str | None, default_half: str | None) -> dt.time | None:
    h, m = int(hour), int(minute or 0)
    half = (half or default_half or "").lower().replace(".", "")
    if half:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if half == "pm" else 0)
    if h > 23 or m > 59:
        return None
    return dt.time(h, m)


def meeting_times(text: str) -> tuple[dt.time, dt.time | None] | None:
    """Return a meeting's start and (if written) end time from `3:15 PM`, `15:15` or `3:15-4:30 PM`;
    None when the text is not a time (`after school`)."""
    m = _TIME_RANGE.match(text or "")
    if not m or (m.group(3) is None and m.group(2) is None and m.group(4) is None):
        return None                                   # a bare number is not a time
    start = _clock(m.group(1), m.group(2), m.group(3), m.group(6))
    end = _clock(m.group(4), m.group(5), m.group(6), m.group(3)) if m.group(4) else None
    if start is None or (m.group(4) and end is None):
        return None
    return start, end


@lru_cache(maxsize=16)
def _zone(name: str) -> dt.tzinfo | None:
    """Return the district's time zone (settings.py checked the name), None for floating times."""
    return zoneinfo.ZoneInfo(name) if name else None


def _meeting_span(meeting: Meeting, zone: str = "") -> tuple[dt.date | dt.datetime, dt.date | dt.datetime]:
    times = meeting_times(meeting.time)
    if times is None:
        return meeting.date, meeting.date + dt.timedelta(days=1)
    start = dt.datetime.combine(meeting.date, times[0], tzinfo=_zone(zone))
    end = dt.datetime.combine(meeting.date, times[1], tzinfo=_zone(zone)) if times[1] else start + MEETING_LENGTH
    return start, end if end > start else start + MEETING_LENGTH


# --- events -------------------------------------------------------------------------------------

def _lines(*pairs: tuple[str, str]) -> str:
    return "\n".join(f"{label}: {value}" for label, value in pairs if value)


def _day(date: dt.date) -> tuple[dt.date, dt.date]:
    return date, date + dt.timedelta(days=1)


def _can_invite(person: Person) -> bool:
    """Return whether a person can be invited: an attendee is an address, and no address holds a line break."""
    return bool(person.email) and not _LINE_BREAK.search(person.email)


def calendar_organizer(people: Iterable[Person], templates: Templates = SHIPPED) -> Person | None:
    """Return who organizes the events: the first of `people` with an address in forms.toml's
    calendar_organizer roles, in the order the roles are listed (None: no one)."""
    people = [p for p in people if _can_invite(p)]
    for role in form_data(templates).people["calendar_organizer"]:
        for person in people:
            if person.role == role:
                return person
    return None


def _task_event(as_of: dt.date, task: Task, uid: str, suffix: str, people: tuple[Person, ...]) -> CalendarEvent:
    assert task.expected is not None            # only dated tasks are events
    status = task_status(task, as_of)
    return CalendarEvent(
        uid, f"{task_title(task)}{suffix}" + (" (done)" if task.completed else ""), *_day(task.expected),
        _lines(("Stage", task.stage), ("Responsibility", task.responsibility), ("People", names(people)),
               ("Status", f"{status} as of {long_date(as_of)}"),
               ("Completed", long_date(task.completed)), ("Notes", task.notes)),
        categories=("Task", task.stage), attendees=people)


def _meeting_event(meeting: Meeting, uid: str, suffix: str, people: tuple[Person, ...],
                   zone: str = "") -> CalendarEvent:
    start, end = _meeting_span(meeting, zone)
    return CalendarEvent(
        uid, f"{meeting.meeting}{suffix}", start, end,
        _lines(("Time", "" if isinstance(start, dt.datetime) else meeting.time), ("People", names(people))),
        location=meeting.location, categories=("Meeting",), attendees=people)


def _review_event(event: ReviewEvent, uid: str, suffix: str, people: tuple[Person, ...],
                  schools: str = "", reviewers: str | None = None) -> CalendarEvent:
    return CalendarEvent(
        uid, f"{review_title(event)}{suffix}", *_day(event.due),
        _lines(("Review step", REVIEW_LABELS.get(event.kind, event.kind)),
               ("Reviewer", event.reviewer if reviewers is None else reviewers),
               ("People", names(people)), ("Schools", schools)),
        categories=("Review", REVIEW_LABELS.get(event.kind, event.kind)), attendees=people)


def school_events(packet: Packet, templates: Templates = SHIPPED) -> list[CalendarEvent]:
    """Return every dated task, meeting and review date of one school as calendar events."""
    sid = packet.school.school_id
    scope = (packet.district_name, sid)
    suffix = f" \u2014 {packet.school.name}"
    tasks = [t for t in packet.tasks if t.expected]
    texts = {t.responsibility for t in tasks} | {m.meeting for m in packet.meetings} | \
        {r.reviewer for r in packet.review}
    named = {text: responsible_people(packet, text, templates) for text in texts}     # many rows name the same people
    events = [_task_event(packet.as_of, t, uid, suffix, named[t.responsibility])
              for t, uid in zip(tasks, _uids(scope, tasks, _task_identity, lambda t: t.expected))]
    events += [_meeting_event(m, uid, suffix, named[m.meeting], packet.time_zone)
               for m, uid in zip(packet.meetings, _uids(scope, packet.meetings, _meeting_identity,
                                                        lambda m: m.date))]
    events += [_review_event(r, uid, suffix, named[r.reviewer])
               for r, uid in zip(packet.review, _uids(scope, packet.review, _review_identity, lambda r: r.due))]
    return _organized(sorted(events, key=_order), calendar_organizer(packet.people_in(*ROLES), templates))


def _organized(events: list[CalendarEvent], organizer: Person | None) -> list[CalendarEvent]:
    """Return the events with their organizer: `organizer`, else each event's first person invited."""
    return [dataclasses.replace(e, organizer=organizer or next((p for p in e.attendees if _can_invite(p)), None))
            for e in events]


def _order(event: CalendarEvent) -> tuple:
    # by the clock time shown: an all-day event has none, and the timed ones share the district's zone
    start = event.start.replace(tzinfo=None) if isinstance(event.start, dt.datetime) else \
        dt.datetime.combine(event.start, dt.time())
    return start, event.summary, event.uid


@dataclass(frozen=True)
class CalendarShare:
    """One school's part of the district calendar: the district-wide dated tasks and meetings its timeline
    has, its review dates, and the people each of their texts names at the school. Plain records, with
    nothing of the rest of the school's model: a school whose inputs are unchanged has its share kept
    (render/district_view.py) rather than modelled again."""

    school_id: str
    school_name: str
    tasks: tuple[Task, ...]
    meetings: tuple[Meeting, ...]
    review: tuple[ReviewEvent, ...]
    named: Mapping[str, tuple[Person, ...]]         # text -> the people it names at this school
    district_staff: tuple[Person, ...]              # the district-wide People rows: the organizer is among them


def calendar_share(packet: Packet, templates: Templates = SHIPPED) -> CalendarShare:
    """Return the school's share of the district calendar (district_events)."""
    tasks = tuple(t for t in packet.tasks if t.school_id is None and t.expected)
    meetings = tuple(m for m in packet.meetings if m.school_id is None)
    texts = dict.fromkeys([*(t.responsibility for t in tasks), *(m.meeting for m in meetings),
                           *(r.reviewer for r in packet.review)])
    return CalendarShare(packet.school.school_id, packet.school.name, tasks, meetings, packet.review,
                         {text: responsible_people(packet, text, templates) for text in texts},
                         tuple(p for p in packet.people if p.school_id is None))


class _SharedPeople:
    """The people a text names across several schools, each once; only the district-wide staff among
    them when they are too many to invite. Each group of schools and texts is merged once: every shared
    row of the district calendar names people at every school, and merging again for each row made the
    district calendar quadratic in its schools."""

    def __init__(self, shares: Sequence[CalendarShare]) -> None:
        self._shares = shares
        self._shared: dict[tuple[tuple[int, str], ...], tuple[Person, ...]] = {}

    def __call__(self, groups: Sequence[tuple[int, str]]) -> tuple[Person, ...]:
        """Return the people named by each (index of a share, text) of `groups`."""
        key = tuple(groups)
        if key not in self._shared:
            people: dict[tuple[str, str], Person] = {}
            for i, text in key:
                for person in self._shares[i].named[text]:
                    people.setdefault((person.name, person.email.casefold()), person)
            found = tuple(people.values())
            self._shared[key] = found if len(found) <= MAX_DISTRICT_ATTENDEES else \
                tuple(p for p in found if p.school_id is None)
        return self._shared[key]


def district_events(packets: Sequence[Packet], templates: Templates = SHIPPED) -> list[CalendarEvent]:
    """Return the district's events (shared_events) from its packets."""
    if not packets:
        return []
    first = packets[0]
    return shared_events([calendar_share(p, templates) for p in packets], first.district_name, first.as_of,
                         first.time_zone, templates)


def shared_events(shares: Sequence[CalendarShare], district_name: str, as_of: dt.date, time_zone: str = "",
                  templates: Templates = SHIPPED) -> list[CalendarEvent]:
    """Return the district's events from each school's share, in roster order: the timeline rows and
    meetings shared by every school, once each, and every school's review dates, one event per step and
    day with the schools that share it."""
    if not shares:
        return []
    scope = (district_name, "district")
    tasks: dict[Task, list[int]] = {}
    meetings: dict[Meeting, list[int]] = {}
    reviews: dict[tuple, list[tuple[int, ReviewEvent]]] = {}
    for i, share in enumerate(shares):
        for t in share.tasks:
            tasks.setdefault(t, []).append(i)
        for m in share.meetings:
            meetings.setdefault(m, []).append(i)
        for r in share.review:
            reviews.setdefault((r.kind, review_title(r), r.due), []).append((i, r))

    shared_people = _SharedPeople(shares)
    task_list = list(tasks)
    events = [_task_event(as_of, t, uid, "", shared_people([(i, t.responsibility) for i in tasks[t]]))
              for t, uid in zip(task_list, _uids(scope, task_list, _task_identity, lambda t: t.expected))]
    meeting_list = list(meetings)
    events += [_meeting_event(m, uid, "", shared_people([(i, m.meeting) for i in meetings[m]]), time_zone)
               for m, uid in zip(meeting_list, _uids(scope, meeting_list, _meeting_identity, lambda m: m.date))]
    review_list = [pairs[0][1] for pairs in reviews.values()]
    for pairs, uid in zip(reviews.values(), _uids(scope, review_list, _review_identity, lambda r: r.due)):
        schools = [shares[i] for i, _ in pairs]
        suffix = f" \u2014 {schools[0].school_name}" if len(schools) == 1 else f" \u2014 {len(schools)} schools"
        reviewers = "; ".join(dict.fromkeys(r.reviewer for _, r in pairs if r.reviewer))
        events.append(_review_event(pairs[0][1], uid, suffix, shared_people([(i, r.reviewer) for i, r in pairs]),
                                    "; ".join(f"{s.school_id} {s.school_name}" for s in schools), reviewers))
    return _organized(sorted(events, key=_order), calendar_organizer(shares[0].district_staff, templates))


# --- iCalendar ----------------------------------------------------------------------------------
# Written line by line rather than through icalendar's Calendar.to_ical, which builds a typed value, a
# parameter map and a content line for every property and folds each line one character at a time:
# 15 ms for a school's thousand lines, more than its four Word documents. icalendar still writes every
# value here: a typed line (a date, the categories, an attendee) is made by icalendar once per process
# and reused, since every school repeats the same dates and each person recurs in many events; a text
# line (UID, summary, description, location, name) is escaped by icalendar's TEXT escaping and folded
# in one pass over its bytes. tests/render/test_calendars.py holds the output to what Calendar.to_ical writes,
# byte for byte.

FOLD_OCTETS = 74            # icalendar's folding: at most 74 octets a line, plus the leading space after a fold
_ESCAPE_STARTS = b"\\^"   # a TEXT backslash escape or an RFC 6868 parameter escape (^n) is never split


def _fold(line: str) -> bytes:
    """Return a content line folded exactly as icalendar folds it (parser.string._foldline): greedily
    at most FOLD_OCTETS octets a piece, never inside a UTF-8 character, and a backslash or caret
    ending a piece moves to the next one, so an escape and what it escapes stay together."""
    data = line.encode("utf-8")
    if len(data) <= FOLD_OCTETS:
        return data
    pieces = []
    start = 0
    while len(data) - start > FOLD_OCTETS:
        end = start + FOLD_OCTETS
        while data[end] & 0xC0 == 0x80:                  # a continuation byte: back to the character's start
            end -= 1
        if data[end - 1] in _ESCAPE_STARTS and end - 1 > start:
            end -= 1
        pieces.append(data[start:end])
        start = end
    pieces.append(data[start:])
    return b"\r\n ".join(pieces)


def _text_line(name: str, value: str) -> bytes:
    """Return a TEXT property's content line (`SUMMARY:...`); `name` in upper case, as icalendar writes it."""
    return _fold(f"{name}:{escape_text(value)}")


def _typed_line(name: str, value: object) -> bytes:
    """Return a property's content line written by icalendar itself (value type, VALUE parameter,
    UTC for DTSTAMP, folding); a tuple is a list value (CATEGORIES)."""
    # the zone is part of the key: 12:00 UTC equals 13:00 at UTC+1 as a Python value, not as a line
    return _typed_line_in(name, value, getattr(value, "tzinfo", None))


@lru_cache(maxsize=4096)
def _typed_line_in(name: str, value: object, zone: dt.tzinfo | None) -> bytes:
    component = Component()
    component.add(name, list(value) if isinstance(value, tuple) else value)
    return component.content_line(name.upper(), component[name], sorted=False).to_ical()


@lru_cache(maxsize=65536)
def _attendee_line(email: str, name: str, prop: str = "ATTENDEE") -> bytes:
    """Return an ATTENDEE (or ORGANIZER) line: the address, and the name as its CN parameter (quoted and
    escaped by icalendar); ROLE is left at its default, REQ-PARTICIPANT."""
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    return _fold(Contentline.from_parts(prop, address.params, address, sorted=False))


_LINE_BREAK = re.compile(r"[\r\n]")


def _event_lines(item: CalendarEvent, dtstamp: bytes) -> list[bytes]:
    """Return one VEVENT's content lines, properties in the order icalendar wrote them."""
    lines = [b"BEGIN:VEVENT", _text_line("UID", item.uid), dtstamp, _typed_line("dtstart", item.start),
             _typed_line("dtend", item.end), _text_line("SUMMARY", item.summary)]
    if item.description:
        lines.append(_text_line("DESCRIPTION", item.description))
    if item.location:
        lines.append(_text_line("LOCATION", item.location))
    if item.categories:
        lines.append(_typed_line("categories", item.categories))
    if item.all_day:
        lines.append(_typed_line("transp", "TRANSPARENT"))      # a deadline does not make anyone busy all day
    invited: set[str] = set()
    attendees = []
    for person in item.attendees:
        if _can_invite(person) and person.email.casefold() not in invited:
            invited.add(person.email.casefold())
            attendees.append(_attendee_line(person.email, person.name))
    if attendees and item.organizer is not None:      # RFC 5545: who invites, where anyone is invited
        lines.append(_attendee_line(item.organizer.email, item.organizer.name, "ORGANIZER"))
    lines += attendees
    lines.append(b"END:VEVENT")
    return lines


def _zones(events: Sequence[CalendarEvent]) -> list[bytes]:
    """Return a VTIMEZONE for each named time zone the events' times are in (RFC 5545: every TZID a
    calendar uses is defined in it), its rules from January 1 of the first event's year to the end of
    the last one's, as icalendar writes them."""
    years: dict[str, list[int]] = {}
    zones: dict[str, dt.tzinfo] = {}
    for item in events:
        for when in (item.start, item.end):
            zone = getattr(when, "tzinfo", None)
            if isinstance(zone, zoneinfo.ZoneInfo) and zone.key:
                zones.setdefault(zone.key, zone)
                years.setdefault(zone.key, []).append(when.year)
    return [_zone_lines(key, zones[key], min(years[key]), max(years[key])) for key in sorted(zones)]


@lru_cache(maxsize=64)
def _zone_lines(key: str, zone: dt.tzinfo, first: int, last: int) -> bytes:
    end = dt.date(last + 1, 1, 1) if last < dt.MAXYEAR else dt.date.max
    text = Timezone.from_tzinfo(zone, key, dt.date(first, 1, 1), end).to_ical(sorted=False)
    return text.rstrip(b"\r\n")


def to_ical(name: str, events: Iterable[CalendarEvent], stamp: dt.datetime | None = None) -> bytes:
    """Return an iCalendar file holding the events in the order given; DTSTAMP is `stamp` (default:
    now), in UTC. The calendar's name is text, so it may hold any character, even a newline."""
    stamp = (stamp or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    dtstamp = _typed_line("dtstamp", stamp)
    events = list(events)
    lines = [b"BEGIN:VCALENDAR", _typed_line("prodid", PRODID), _typed_line("version", "2.0"),
             _typed_line("calscale", "GREGORIAN"), _text_line("NAME", name), _text_line("X-WR-CALNAME", name),
             *_zones(events)]
    for item in events:
        lines += _event_lines(item, dtstamp)
    lines.append(b"END:VCALENDAR")
    return b"\r\n".join(lines) + b"\r\n"


def school_calendar(packet: Packet, stamp: dt.datetime | None = None, templates: Templates = SHIPPED) -> bytes:
    """Return one school's calendar (.ics) with every dated task, meeting and review date."""
    return to_ical(f"{packet.school.name} \u00b7 plan {packet.planning_year.label}", school_events(packet, templates),
                   stamp)


def district_calendar(district_name: str, planning_year: str, packets: Sequence[Packet],
                      stamp: dt.datetime | None = None, templates: Templates = SHIPPED) -> bytes:
    """Return the district's calendar (.ics) of its packets (shared_calendar)."""
    first = packets[0] if packets else None
    return shared_calendar(district_name, planning_year, [calendar_share(p, templates) for p in packets],
                           first.as_of if first else dt.date.today(), first.time_zone if first else "", stamp,
                           templates)


def shared_calendar(district_name: str, planning_year: str, shares: Sequence[CalendarShare], as_of: dt.date,
                    time_zone: str = "", stamp: dt.datetime | None = None, templates: Templates = SHIPPED) -> bytes:
    """Return the district's calendar (.ics) from each school's share of it (shared_events): shared timeline
    rows and meetings, and every review date."""
    return to_ical(f"{district_name} \u00b7 plans {planning_year}",
                   shared_events(shares, district_name, as_of, time_zone, templates), stamp)
