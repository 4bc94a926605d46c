"""Calendars: each school's .ics and the district's parse as iCalendar, hold every dated task, meeting and
review date with the responsible people as attendees, and keep their UIDs from one build to the next."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil

import pytest
from icalendar import Calendar

from conftest import AS_OF, SAMPLE, run_cli
from generator.calendars import (district_calendar, meeting_times, responsible_people, school_calendar,
                                 school_events)
from generator.model import Meeting, Person, ReviewEvent, Task
from generator.pipeline import load_district
from generator.settings import load_settings

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
    assert isinstance(start(meeting), dt.datetime) and start(meeting).tzinfo is None      # floating local time
    assert (start(meeting).time(), meeting.decoded("dtend") - start(meeting)) == (dt.time(15, 15),
                                                                                   dt.timedelta(hours=1))
    assert str(meeting["location"]) == "Main Office Conference Room"


def test_people_without_email_are_named_not_invited(sample):
    no_email = Person("Pat Doe", "Principal", school_id="0101")
    packet = dataclasses.replace(sample, people=(no_email,),
                                 tasks=(Task("Stage 1: Identify Critical Needs", "Draft", "Principal", DAY),),
                                 meetings=(), review=())
    (event,) = events_of(school_calendar(packet, STAMP))
    assert attendees(event) == []
    assert "People: Pat Doe" in str(event["description"])


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
