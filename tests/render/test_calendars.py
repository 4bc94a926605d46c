"""Calendars: each school's .ics and the district's parse as iCalendar, hold every dated task, meeting and
review date with the responsible people as attendees, and keep their UIDs from one build to the next."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from icalendar import Calendar, Event, Timezone, vCalAddress, vText
from icalendar.parser import _foldline

from generator.model.records import Meeting, Person, ReviewEvent, Task
from generator.pipeline import load_district
from generator.render import calendars
from generator.render.calendars import (
    PRODID,
    CalendarEvent,
    district_calendar,
    district_events,
    meeting_times,
    responsible_people,
    school_calendar,
    school_events,
    to_ical,
)
from generator.settings import load_settings

from conftest import AS_OF, SAMPLE, run_cli

DAY = dt.date.fromisoformat(AS_OF)
STAMP = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def district():
    found, _ = load_district(load_settings(SAMPLE, None, DAY))
    return found


@pytest.fixture(scope="module")
def sample(district):
    return next(p for p in district.packets if p.school.school_id == "0101")


def events_of(data: bytes) -> list:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def attendees(event) -> list[str]:
    found = event.get("attendee", [])
    return [str(a) for a in (found if isinstance(found, list) else [found])]


def start(event):
    return event.decoded("dtstart")


# --- who is invited --------------------------------------------------------------------------------

def test_responsibility_names_roles_and_teams(sample):
    def names(text):
        return [p.name for p in responsible_people(sample, text)]
    principal = [p.name for p in sample.people_in("Principal")]
    team = [p.name for p in sample.people_in("Leadership Team Chair", "Leadership Team Co-Chair", "Facilitator",
                                             "Leadership Team Member")]
    assert names("Principal") == principal
    assert names("Principal & Building Leadership Team") == principal + team
    assert names("Principal, BLT") == principal + team
    assert names("BLTs and Principals") == team + principal                     # plurals
    assert set(names("Superintendent & District Leadership Team")) == {
        p.name for p in sample.people_in("Superintendent", "District Staff")}
    assert names("Leadership Team Meeting") == team                           # a meeting names its team
    assert names("Marcus Bell (Principal)") == ["Marcus Bell"]                   # a reviewer as the model writes it
    assert names("District Data & Assessment Office") == []                     # nobody: named in the text only


@pytest.mark.parametrize("text, times", [
    ("3:15 PM", (dt.time(15, 15), None)),
    ("15:15", (dt.time(15, 15), None)),
    ("9 am", (dt.time(9), None)),
    ("3:15-4:30 PM", (dt.time(15, 15), dt.time(16, 30))),
    ("11:30 AM to 1 PM", (dt.time(11, 30), dt.time(13))),
    ("after school", None),
    ("3", None),
    ("13:15 PM", None),
    ("", None),
])
def test_meeting_times(text, times):
    assert meeting_times(text) == times


# --- one school's calendar -------------------------------------------------------------------------

def test_school_calendar_holds_every_dated_task_meeting_and_review_date(sample):
    review = (ReviewEvent("first-draft", "First draft due", dt.date(2027, 4, 23), "District Staff"),
              ReviewEvent("feedback", "Feedback round 1", dt.date(2027, 5, 7), "Marcus Bell"),
              ReviewEvent("check-in", "Check-in 1", dt.date(2027, 9, 14), ""))
    packet = dataclasses.replace(sample, review=review)
    events = events_of(school_calendar(packet, STAMP))
    dated = [t for t in packet.tasks if t.expected]
    assert len(events) == len(dated) + len(packet.meetings) + len(review)
    assert len({str(e["uid"]) for e in events}) == len(events)
    assert all(e.decoded("dtstamp") == STAMP for e in events)

    by_summary = {str(e["summary"]): e for e in events}
    draft = by_summary["First draft due \u2014 Riverbend High School"]
    assert start(draft) == dt.date(2027, 4, 23) and "Review" in str(draft["categories"].to_ical())
    assert attendees(draft) == [f"mailto:{p.email}" for p in packet.people_in("District Staff")]
    feedback = by_summary["Feedback round 1 \u2014 Riverbend High School"]
    assert attendees(feedback) == ["mailto:marcus.bell@rcusd117.example.org"]
    assert attendees(by_summary["Check-in 1 \u2014 Riverbend High School"]) == []

    task = next(e for e in events if str(e["summary"]).startswith("Complete the DF \u2013 Submit DF"))
    assert start(task) == dt.date(2026, 12, 4)
    assert attendees(task) == [f"mailto:{p.email}" for p in packet.people_in("Principal")]
    assert "Responsibility: Principal" in str(task["description"])

    meeting = next(e for e in events if str(e["summary"]).startswith("Leadership Team Meeting"))
    assert isinstance(start(meeting), dt.datetime) and start(meeting).tzinfo == ZoneInfo("America/Chicago")
    assert (start(meeting).time(), meeting.decoded("dtend") - start(meeting)) == (dt.time(15, 15),
                                                                                   dt.timedelta(hours=1))
    assert str(meeting["location"]) == "Main Office Conference Room"


def test_timed_events_carry_the_districts_time_zone(sample):
    """settings.toml's time_zone (the sample's is America/Chicago): a 3:15 PM meeting is 3:15 PM in Illinois,
    not 3:15 PM wherever the calendar is opened; the calendar defines the zone it names."""
    data = school_calendar(sample, STAMP)
    text = data.decode().replace("\r\n ", "")
    assert "DTSTART;TZID=America/Chicago:" in text
    (zone,) = Calendar.from_ical(data).walk("VTIMEZONE")
    assert str(zone["tzid"]) == "America/Chicago"
    meeting = next(e for e in events_of(data) if str(e["summary"]).startswith("Leadership Team Meeting"))
    assert start(meeting).utcoffset() in (dt.timedelta(hours=-5), dt.timedelta(hours=-6))
    task = next(e for e in events_of(data) if "Task" in str(e["categories"].to_ical()))
    assert type(start(task)) is dt.date                                              # all day: no zone
    floating = school_calendar(dataclasses.replace(sample, time_zone=""), STAMP)
    assert b"TZID" not in floating and b"VTIMEZONE" not in floating
    meeting = next(e for e in events_of(floating) if str(e["summary"]).startswith("Leadership Team Meeting"))
    assert start(meeting).tzinfo is None and start(meeting).time() == dt.time(15, 15)


def test_events_that_invite_people_have_an_organizer(sample, district):
    """RFC 5545: an event with attendees names its organizer; here the school improvement coordinator
    (forms.toml [people] calendar_organizer), for the district calendar the district's own staff."""
    events = events_of(school_calendar(sample, STAMP))
    invited = [e for e in events if attendees(e)]
    assert invited and all(str(e["organizer"]) == "mailto:siobhan.obrien@rcusd117.example.org" for e in invited)
    assert str(invited[0]["organizer"].params["cn"]) == "Siobhan O'Brien"
    assert all("organizer" not in e for e in events if not attendees(e))
    shared = [e for e in events_of(district_calendar(district.name, "2026-27", district.packets, STAMP))
              if attendees(e)]
    assert shared and {str(e["organizer"]) for e in shared} == {"mailto:lorraine.castillo@rcusd117.example.org"}
    # No one in those roles has an address: each event's first invited person organizes it.
    organizers = ("School Improvement Coordinator", "District Staff", "Superintendent", "Principal")
    unlisted = dataclasses.replace(sample, people=tuple(p for p in sample.people if p.role not in organizers))
    invited = [e for e in events_of(school_calendar(unlisted, STAMP)) if attendees(e)]
    assert invited
    for event in invited:
        assert str(event["organizer"]) == attendees(event)[0]


def test_people_without_email_are_named_not_invited(sample):
    no_email = Person("Pat Doe", "Principal", school_id="0101")
    packet = dataclasses.replace(sample, people=(no_email,),
                                 tasks=(Task("Stage 1: Identify Critical Needs", "Draft", "Principal", DAY),),
                                 meetings=(), review=())
    (event,) = events_of(school_calendar(packet, STAMP))
    assert attendees(event) == []
    assert "People: Pat Doe" in str(event["description"])


def test_an_email_cell_of_several_lines_is_named_not_invited(sample):
    broken = Person("Pat Doe", "Principal", email="pat.doe@example.org\nsecond line", school_id="0101")
    packet = dataclasses.replace(sample, people=(broken, Person("Lee Roe", "Principal", email="lee@example.org")),
                                 tasks=(Task("Stage 1: Identify Critical Needs", "Draft", "Principal", DAY),),
                                 meetings=(), review=())
    (event,) = events_of(school_calendar(packet, STAMP))
    assert attendees(event) == ["mailto:lee@example.org"]
    assert "People: Pat Doe; Lee Roe" in str(event["description"])


def test_text_is_data_in_the_calendar(sample):
    tricky = "Plan, review; adopt \\ <b>\"now\"</b>\nline two"
    packet = dataclasses.replace(sample, tasks=(Task("Stage 1: Identify Critical Needs", tricky, "Principal", DAY,
                                                     notes="BEGIN:VEVENT"),), meetings=(), review=())
    data = school_calendar(packet, STAMP)
    (event,) = events_of(data)
    assert str(event["summary"]).startswith(tricky)
    assert "Notes: BEGIN:VEVENT" in str(event["description"])
    assert data.count(b"\r\nBEGIN:VEVENT\r\n") == 1                     # never a line of its own


def test_uids_do_not_depend_on_row_positions(sample):
    uids = {str(e.summary): e.uid for e in school_events(sample)}
    inserted = Task("Prepare for Plan Development", "A new first task", "Principal", dt.date(2026, 8, 1))
    moved = dataclasses.replace(sample.tasks[5], expected=sample.tasks[5].expected + dt.timedelta(days=3))
    changed = dataclasses.replace(sample, tasks=(inserted, *sample.tasks[:5], moved, *sample.tasks[6:]))
    after = {e.summary: e.uid for e in school_events(changed)}
    assert set(uids.values()) < set(after.values())                          # every old UID kept, one added
    assert len(after) == len(uids) + 1
    # a monthly meeting's dates are separate events; two identical rows are two events
    same = Meeting("Leadership Team Meeting", dt.date(2026, 9, 8), "3:15 PM")
    twice = dataclasses.replace(sample, meetings=(same, same))
    meeting_uids = [e.uid for e in school_events(twice) if e.summary.startswith("Leadership")]
    assert len(set(meeting_uids)) == 2


def test_district_calendar_merges_shared_review_dates(district):
    when = dt.date(2027, 4, 23)
    packets = [dataclasses.replace(p, review=(ReviewEvent("first-draft", "First draft due", when, "District Staff"),))
               for p in district.packets]
    events = events_of(district_calendar("Riverbend", "2026-27", packets, STAMP))
    drafts = [e for e in events if str(e["summary"]).startswith("First draft due")]
    assert len(drafts) == 1 and start(drafts[0]) == when
    assert f"{len(packets)} schools" in str(drafts[0]["summary"])
    for p in packets:
        assert f"{p.school.school_id} {p.school.name}" in str(drafts[0]["description"])
    district_wide = {t for p in packets for t in p.tasks if t.school_id is None and t.expected}
    assert sum("Task" in str(e["categories"].to_ical()) for e in events) == len(district_wide)


# --- end to end: the build writes them -------------------------------------------------------------

@pytest.fixture
def built(sample_output):
    return sample_output


def calendar_files(out):
    return sorted(out.glob("*/*-calendar.ics")) + [out / "district.ics"]


def test_each_school_calendar_parses_with_its_tasks_and_review_dates(built, district):
    manifest = json.loads((built / "build-manifest.json").read_text())
    for packet in district.packets:
        sid = packet.school.school_id
        (path,) = built.glob(f"{sid}-*/{sid}-calendar.ics")
        assert path.relative_to(built).as_posix() in manifest["schools"][sid]["documents"]
        events = events_of(path.read_bytes())
        starts = {(str(e["summary"]), start(e)) for e in events}
        suffix = f" \u2014 {packet.school.name}"
        for t in packet.tasks:
            if t.expected:
                title = f"{t.task} \u2013 {t.detail}" if t.detail else t.task
                assert (title + suffix + (" (done)" if t.completed else ""), t.expected) in starts, title
        for r in packet.review:
            assert (r.title + suffix, r.due) in starts
        assert len(events) == sum(1 for t in packet.tasks if t.expected) + len(packet.meetings) + len(packet.review)
    district_events = events_of((built / "district.ics").read_bytes())
    review_dates = {(r.title, r.due) for p in district.packets for r in p.review}
    found = {(str(e["summary"]).split(" \u2014 ")[0], start(e)) for e in district_events}
    assert review_dates <= found


@pytest.mark.slow
def test_rebuilding_keeps_every_uid(built, tmp_path):
    built = shutil.copytree(built, tmp_path / "output")          # the shared build stays as it was
    before = {path.name: [str(e["uid"]) for e in events_of(path.read_bytes())] for path in calendar_files(built)}
    result = run_cli("build", "--inputs", str(SAMPLE), "--output", str(built), "--as-of", AS_OF, "--jobs", "1",
                     "--force")
    assert result.exit_code == 0, result.output
    after = {path.name: [str(e["uid"]) for e in events_of(path.read_bytes())] for path in calendar_files(built)}
    assert after == before
    assert all(len(set(uids)) == len(uids) for uids in after.values())


def test_a_school_name_of_several_lines_is_still_one_calendar(sample):
    school = dataclasses.replace(sample.school, name="Beta Middle School\nAnnex; \"East\", Room 2\\3")
    data = school_calendar(dataclasses.replace(sample, school=school), STAMP)
    calendar = Calendar.from_ical(data)
    escaped = school.name.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    lines = data.decode().replace("\r\n ", "").split("\r\n")                            # unfolded
    assert f"X-WR-CALNAME:{escaped} \u00b7 plan 2026-27" in lines                      # RFC 5545 TEXT escapes
    assert all(str(e["summary"]).endswith(school.name) or str(e["summary"]).endswith("(done)")
               for e in calendar.walk("VEVENT"))


# --- the iCalendar text: what icalendar itself writes, byte for byte ------------------------------

def icalendar_writes(name: str, events, stamp: dt.datetime) -> bytes:
    """Return the calendar as icalendar's Calendar.to_ical writes it: how calendars.py wrote it before it
    wrote lines itself (15 ms a school), kept here as the reference its output must equal."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", vText(name))
    calendar.add("x-wr-calname", vText(name))
    zones: dict[str, list] = {}
    for item in events:
        for when in (item.start, item.end):
            if isinstance(getattr(when, "tzinfo", None), ZoneInfo):
                zones.setdefault(when.tzinfo.key, []).append(when)
    for key in sorted(zones):               # each named zone's rules, over the years its events fall in
        years = [w.year for w in zones[key]]
        calendar.add_component(Timezone.from_tzinfo(ZoneInfo(key), key, dt.date(min(years), 1, 1),
                                                    dt.date(max(years) + 1, 1, 1)))
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.start)
        event.add("dtend", item.end)
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        if item.location:
            event.add("location", item.location)
        if item.categories:
            event.add("categories", list(item.categories))
        if item.all_day:
            event.add("transp", "TRANSPARENT")
        invited: set[str] = set()
        attendees = []
        for person in item.attendees:
            if person.email and person.email.casefold() not in invited:
                invited.add(person.email.casefold())
                address = vCalAddress(f"mailto:{person.email}")
                address.params["cn"] = vText(person.name)
                attendees.append(address)
        if attendees and item.organizer is not None:
            organizer = vCalAddress(f"mailto:{item.organizer.email}")
            organizer.params["cn"] = vText(item.organizer.name)
            event.add("organizer", organizer)
        for address in attendees:
            event.add("attendee", address)
        calendar.add_component(event)
    return calendar.to_ical(sorted=False)


# accents, CJK, emoji (4 octets), and the characters that escaping and folding treat specially
TRICKY = st.sampled_from(["a", " ", "\u00e9", "\u00d8", "\u6797", "\u5c0f", "\U0001f600", "\\", "^", ",", ";", ":",
                          "\"", "\r", "\n", "\\N", "\t"])
TEXT = st.lists(st.one_of(TRICKY, st.characters(blacklist_categories=("Cs",))), max_size=160).map("".join)
LINE = st.lists(st.one_of(TRICKY.filter(lambda c: "\n" not in c),
                          st.characters(blacklist_categories=("Cs",), blacklist_characters="\n")),
                max_size=300).map("".join)


# long lines dense in multi-octet characters and escapes, so that they meet the fold point often
AT_THE_FOLD = st.lists(st.sampled_from(["a", "\u00e9", "\u6797", "\U0001f600", "\\", "^"]), min_size=70,
                       max_size=240).map("".join)


@pytest.mark.slow
@hsettings(max_examples=400, deadline=None)
@given(st.one_of(LINE, AT_THE_FOLD))
def test_lines_fold_exactly_as_icalendar_folds_them(line):
    folded = calendars._fold(line)
    assert folded == _foldline(line).encode("utf-8")
    pieces = folded.split(b"\r\n ")
    assert all(len(piece) <= 74 for piece in pieces)
    assert "".join(piece.decode("utf-8") for piece in pieces) == line       # no character is ever split


@pytest.mark.parametrize("line", [
    "a" * 73 + "\\,b",                                       # an escape at the fold moves to the next line
    "a" * 72 + "\u00e9" + "z" * 10,                             # a 2-octet character ends exactly at the limit
    "a" * 73 + "\u00e9" + "z" * 10,                             # ... or would straddle it
    "\u6797" * 60, "\U0001f600" * 40, "Zo\u00eb \u00d1\u00fa\u00f1ez-\u00d8rsted \u6797\u5c0f\u660e " * 8,
    "a" * 74, "a" * 75, "", "^" * 200, "\\" * 200,
])
def test_folding_edges(line):
    assert calendars._fold(line) == _foldline(line).encode("utf-8")


PEOPLE = st.builds(Person, name=TEXT, role=st.just("Principal"),          # an address never holds a line break
                   email=st.one_of(st.just(""), st.emails(), LINE.filter(lambda text: "\r" not in text)))
SPANS = st.one_of(
    st.dates().map(lambda d: (d, d + dt.timedelta(days=1)) if d < dt.date.max else (d, d)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 1, 1),
                 timezones=st.sampled_from([None, dt.timezone.utc, dt.timezone(dt.timedelta(hours=1))]))
    .map(lambda t: (t, t + dt.timedelta(hours=1))),
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2040, 1, 1),   # a district's time zone
                 timezones=st.sampled_from([ZoneInfo("America/Chicago"), ZoneInfo("America/Los_Angeles")]))
    .map(lambda t: (t, t + dt.timedelta(hours=1))))
ORGANIZERS = st.one_of(st.none(), st.builds(Person, name=TEXT, role=st.just("School Improvement Coordinator"),
                                            email=st.emails()))
EVENTS = st.builds(lambda uid, span, summary, description, location, categories, people, organizer: CalendarEvent(
    uid, summary, *span, description, location, tuple(categories), tuple(people), organizer),
    TEXT, SPANS, TEXT, TEXT, TEXT, st.lists(TEXT, max_size=3), st.lists(PEOPLE, max_size=4), ORGANIZERS)


@pytest.mark.slow
@hsettings(max_examples=60, deadline=None)
@given(TEXT, st.lists(EVENTS, max_size=4), st.datetimes(min_value=dt.datetime(2000, 1, 1),
                                                         timezones=st.just(dt.timezone.utc)))
def test_any_calendar_is_written_as_icalendar_writes_it(name, events, stamp):
    stamp = stamp.replace(microsecond=0)
    assert to_ical(name, events, stamp) == icalendar_writes(name, events, stamp)


def test_equal_times_in_different_zones_are_written_in_their_own_zones():
    noon = dt.datetime(2027, 1, 4, 12, tzinfo=dt.timezone.utc)
    one = noon.astimezone(dt.timezone(dt.timedelta(hours=1)))                # the same instant, 13:00 at UTC+1
    events = [CalendarEvent(f"u{i}", "Meeting", start, start + dt.timedelta(hours=1))
              for i, start in enumerate((noon, one, noon.replace(tzinfo=None)))]
    data = to_ical("Zones", events, STAMP)
    assert data == icalendar_writes("Zones", events, STAMP)
    assert b"DTSTART:20270104T120000Z" in data and b"T130000" in data


def test_the_sample_calendars_are_what_icalendar_writes(district):
    for packet in district.packets:
        name = f"{packet.school.name} \u00b7 plan {packet.planning_year.label}"
        assert school_calendar(packet, STAMP) == icalendar_writes(name, school_events(packet), STAMP)
    name = f"{district.name} \u00b7 plans 2026-27"
    assert district_calendar(district.name, "2026-27", district.packets, STAMP) == \
        icalendar_writes(name, district_events(district.packets), STAMP)


def test_accented_and_cjk_names_fold_between_characters(sample):
    people = tuple(Person(name, "Principal", email=f"p{i}@example.org", school_id="0101")
                   for i, name in enumerate(["Zo\u00eb \u00d1\u00fa\u00f1ez-\u00d8rsted de la Pe\u00f1a y Garc\u00eda",
                                             "\u6797\u5c0f\u660e\u00b7\u738b\u5927\u5049" * 6]))
    school = dataclasses.replace(sample.school, name="\u00c9cole \u00c9l\u00e9mentaire \u00ab Les \u00c9rables \u00bb "
                                                     "\u5317\u4eac\u5e02\u7b2c\u4e00\u4e2d\u5b66" * 3)
    packet = dataclasses.replace(sample, school=school, people=people, meetings=(), review=(),
                                 tasks=(Task("Stage 1: Identify Critical Needs", "Draft \u2014 \u8349\u7a3f " * 9,
                                             "Principal", DAY),))
    data = school_calendar(packet, STAMP)
    lines = data.split(b"\r\n")
    assert lines.pop() == b"" and any(line.startswith(b" ") for line in lines)
    for line in lines:
        assert 0 < len(line) <= 75
        line.decode("utf-8")                                     # whole characters on every line, or this raises
    (event,) = events_of(data)
    assert str(event["summary"]).endswith(school.name)
    assert attendees(event) == ["mailto:p0@example.org", "mailto:p1@example.org"]
    assert data == icalendar_writes(f"{school.name} \u00b7 plan {packet.planning_year.label}",
                                    school_events(packet), STAMP)


def test_the_district_calendar_asks_each_school_about_a_text_once(district, monkeypatch):
    asked: list[tuple[str, str]] = []

    def counting(packet, text, templates):
        asked.append((packet.school.school_id, text))
        return responsible_people(packet, text, templates)
    monkeypatch.setattr(calendars, "responsible_people", counting)
    packets = [dataclasses.replace(p, school=dataclasses.replace(p.school, school_id=f"{p.school.school_id}-{copy}"))
               for copy in range(4) for p in district.packets]                   # 36 schools
    district_events(packets)
    assert asked and len(asked) == len(set(asked))                              # linear: once per school and text
