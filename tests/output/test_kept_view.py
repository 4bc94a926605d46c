"""What the district view shows of a school is kept under its inputs digest (kept_view): read back, it is what
the school's packet gives, to the district calendar's every line; kept under another digest, or by other code,
or in a damaged store, it is not taken."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from generator.model.records import Person, ReviewEvent
from generator.output import kept_by_school, kept_view
from generator.pipeline import load_district
from generator.render.calendars import shared_events, to_ical
from generator.render.template_data import Templates
from generator.settings import load_settings

from conftest import AS_OF, SAMPLE

STAMP = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def packets():
    district, _ = load_district(load_settings(SAMPLE, None, dt.date.fromisoformat(AS_OF)))
    first = district.packets[0]
    # Text a store must give back as it was: a reviewer written with a line break, a name outside ASCII, an
    # address given in capitals; and a school with no review dates at all.
    odd = dataclasses.replace(
        first, school=dataclasses.replace(first.school, school_id="0199", name="École Saint-Éloi & Annex"),
        people=first.people + (Person("Zoë Ngũgĩ", "Principal", "Principal", "ZOE@Example.org", "", "0199"),),
        review=(ReviewEvent("feedback", "Feedback \u2014 round 1", dt.date(2026, 12, 1), "Principal\nBLT"),))
    bare = dataclasses.replace(first, school=dataclasses.replace(first.school, school_id="0198"), review=(), tasks=())
    return [*district.packets, odd, bare]


def test_a_view_read_back_from_the_store_is_the_one_made_from_the_packet(packets, tmp_path):
    templates = Templates(None)
    made = kept_view.school_views(packets, templates)
    inputs = {sid: f"digest {sid}" for sid in made}
    kept_view.keep(tmp_path, {sid: (inputs[sid], view) for sid, view in made.items()}, list(made))
    read = kept_view.load(kept_view.read(tmp_path), inputs)

    assert list(read) == list(made)
    for sid, view in made.items():
        again = read[sid]
        assert again.rollup == view.rollup and again.span == view.span and again.dates == view.dates
        assert again.calendar == view.calendar
    assert made["0198"].span is None and read["0198"].dates == ()
    district = packets[0]
    calendar = [to_ical("District", shared_events([v.calendar for v in views.values()], district.district_name,
                                                  district.as_of, district.time_zone, templates), STAMP)
                for views in (made, read)]
    assert calendar[0] == calendar[1] and b"Zo\xc3\xab Ng" in calendar[0]


def test_a_view_kept_for_other_inputs_by_other_code_or_in_a_damaged_store_is_not_taken(packets, tmp_path, monkeypatch):
    made = kept_view.school_views(packets[:3], Templates(None))
    inputs = {sid: f"digest {sid}" for sid in made}
    kept_view.keep(tmp_path, {sid: (inputs[sid], view) for sid, view in made.items()}, list(made))
    stored = kept_view.read(tmp_path)
    ids = list(made)

    assert list(kept_view.load(stored, {**inputs, ids[0]: "other inputs"})) == ids[1:]
    monkeypatch.setattr(kept_view, "_view_code", lambda: "other code")
    assert kept_view.load(stored, inputs) == {}
    monkeypatch.undo()
    (tmp_path / kept_view.VIEW_STORE).write_bytes(b"not a store")
    assert kept_view.load(kept_view.read(tmp_path), inputs) == {}
    kept_by_school.write(tmp_path / kept_view.VIEW_STORE, {ids[0]: (stored[ids[0]][0], b"\x93not a view")})
    assert kept_view.load(kept_view.read(tmp_path), inputs) == {}
