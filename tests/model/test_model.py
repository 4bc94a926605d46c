"""Model: what district-wide rows make is made once and shared by every school's packet, and each school's
timeline merges its own rows into the district's as the plain rule says."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle

import pytest

from generator.inputs.normalize import normalize_sheet
from generator.inputs.read import RawSheet, load_inputs
from generator.inputs.schema import SHEETS, STAGES
from generator.model.build import (
    PLAN_NOT_MODELLED,
    _BySchool,
    _Calendar,
    _task_series,
    build_district,
    build_district_lazily,
)
from generator.model.records import Task
from generator.pipeline import load_district
from generator.settings import load_settings

from conftest import AS_OF, SAMPLE

SPECS = {s.name: s for s in SHEETS}
SCHOOLS = [["School ID", "School Name", "Designation"], ["0101", "Lincoln", "Targeted"],
           ["0102", "Douglass", "Targeted"], ["0103", "Hope", "Targeted"], ["0104", "Grant", "Targeted"]]


def sample_district(tmp_path):
    district, _ = load_district(load_settings(SAMPLE, tmp_path / "out", dt.date.fromisoformat(AS_OF)))
    return district


def plain_merge(series: list[tuple[Task, ...]], school_id: str) -> tuple[Task, ...]:
    """The timeline rule written plainly: district-wide rows, each replaced by the school's own row for the
    same stage, task and detail; the school's other rows added; ordered by stage, then by where the task
    first appears (district rows first); a repeating row's dates together."""
    def key(t: Task):
        return (t.stage, t.task.casefold(), t.detail.casefold())

    own = {key(s[0]): s for s in series if s[0].school_id == school_id}
    merged = [own.pop(key(s[0]), s) for s in series if s[0].school_id is None]
    merged += [s for s in series if s[0].school_id == school_id and key(s[0]) in own]
    first_seen: dict[tuple[str, str], int] = {}
    for i, s in enumerate(series):
        first_seen.setdefault((s[0].stage, s[0].task.casefold()), i)
    ordered = sorted(merged, key=lambda s: (STAGES.index(s[0].stage), first_seen[(s[0].stage, s[0].task.casefold())]))
    return tuple(t for s in ordered for t in s)


def test_each_timeline_follows_the_plain_merge_rule(tmp_path):
    settings = load_settings(SAMPLE, tmp_path / "out", dt.date.fromisoformat(AS_OF))
    raw, _ = load_inputs(settings.inputs)
    tables = {spec.name: normalize_sheet(raw[spec.name], spec)[0] for spec in SHEETS if spec.name in raw}
    index, calendar = _BySchool(tables), _Calendar(tables, settings.planning_year)
    district_rows = [_task_series(t, r, calendar) for t, r in index.rows("Tasks", None)]
    district = build_district(tables, settings)
    assert any(t.school_id for p in district.packets for t in p.tasks)       # schools do have rows of their own
    for packet in district.packets:
        sid = packet.school.school_id
        own = [_task_series(t, r, calendar) for t, r in index.rows("Tasks", sid)]
        assert packet.tasks == plain_merge(district_rows + own, sid)


def test_timeline_merge_of_overrides_extras_and_series(tmp_path):
    settings = load_settings(SAMPLE, tmp_path / "out", dt.date.fromisoformat(AS_OF))
    s0, s1, s2 = STAGES[0], STAGES[1], STAGES[2]
    rows = [["Stage", "Task", "Detail", "School ID", "Responsibility", "Expected Date", "Repeats"],
            [s1, "Review data", "", None, "DLT", "2026-10-01", None],
            [s0, "Kick-off", "", None, "DLT", "2026-08-20", None],
            [s1, "Review data", "Attendance", None, "DLT", "2026-10-08", None],
            [s2, "Check-in", "", None, "DLT", "2026-09-10", "monthly"],
            [s2, "Walkthrough", "", "0101", "Principal", "2026-11-04", None],          # an extra row
            [s1, "review DATA", "attendance", "0101", "Principal", "2026-10-15", None],  # replaces a district row
            [s0, "Visit", "", "0101", "Principal", "2026-09-01", "monthly"],            # an extra series
            [s2, "check-in", "", "0102", "Principal", "2026-09-17", "monthly"]]         # a series replacing one
    tables = {name: normalize_sheet(RawSheet(f"{spec.workbook}.xlsx", name, [list(row) for row in data]),
                                    spec)[0]
              for name, spec, data in (("Schools", SPECS["Schools"], SCHOOLS), ("Tasks", SPECS["Tasks"], rows))}
    index, calendar = _BySchool(tables), _Calendar(tables, settings.planning_year)
    district_rows = [_task_series(t, r, calendar) for t, r in index.rows("Tasks", None)]
    district = build_district(tables, settings)
    for packet in district.packets:
        sid = packet.school.school_id
        own = [_task_series(t, r, calendar) for t, r in index.rows("Tasks", sid)]
        assert packet.tasks == plain_merge(district_rows + own, sid), sid
    alone = district.packets[2]
    assert alone.tasks == district.packets[3].tasks and alone.tasks is district.packets[3].tasks  # no rows of their own
    assert [t.task for t in district.packets[0].tasks][:4] == ["Kick-off", "Visit", "Visit", "Visit"]


def test_district_wide_records_are_shared_not_copied_per_school(tmp_path):
    first, second = sample_district(tmp_path).packets[:2]

    def district_wide(records):
        return [r for r in records if r.school_id is None]

    for field in ("people", "meetings", "tasks"):
        ours, theirs = district_wide(getattr(first, field)), district_wide(getattr(second, field))
        assert ours and all(any(a is b for b in theirs) for a in ours), field
    shared_review = [e for e in first.review if any(e is f for f in second.review)]
    assert shared_review                                    # the district's default cycle, where it reads the same
    # Shared records stay shared when a chunk of packets is sent to a worker process.
    again = pickle.loads(pickle.dumps([first, second]))
    assert again == [first, second]
    assert any(a is b for a in district_wide(again[0].people) for b in district_wide(again[1].people))


def test_a_series_of_meetings_points_at_its_one_row(tmp_path):
    for packet in sample_district(tmp_path).packets:
        by_row: dict[tuple, set] = {}
        for m in packet.meetings:
            by_row.setdefault((m.source.sheet, m.source.row), set()).add(id(m.source))
        assert all(len(ids) == 1 for ids in by_row.values())


def test_every_packet_comes_back_from_a_worker_as_it_went(tmp_path):
    """Records are pickled by their own __getstate__/__setstate__ (records.py's _pickled_fast), not
    dataclasses' slower ones: every sample packet, every kind of record in it, comes back equal, with the
    same repr (a packet's fingerprint), and as immutable as it went."""
    packets = sample_district(tmp_path).packets
    again = pickle.loads(pickle.dumps(packets))
    assert again == packets
    assert [repr(p) for p in again] == [repr(p) for p in packets]
    with pytest.raises(dataclasses.FrozenInstanceError):
        again[0].school.name = "changed"                   # type: ignore[misc]


def test_packets_modelled_without_plans_are_the_same_once_planned_and_fail_if_read_before(tmp_path):
    settings = load_settings(SAMPLE, tmp_path / "out", dt.date.fromisoformat(AS_OF))
    raw, _ = load_inputs(settings.inputs)
    tables = {spec.name: normalize_sheet(raw[spec.name], spec)[0] for spec in SHEETS if spec.name in raw}
    whole = build_district(tables, settings)
    district, model, plan = build_district_lazily(tables, settings)
    assert district.schools == whole.schools and district.packets == ()
    light = [model(school) for school in district.schools]
    assert [plan(p) for p in light] == list(whole.packets)
    assert all(p.plan.goals for p in whole.packets)             # the sample's plans are not empty
    assert plan(whole.packets[0]) is whole.packets[0]           # a packet with its plan is left as it is
    handed = pickle.loads(pickle.dumps(light[0]))       # to a worker, which models its plan
    assert handed.plan is PLAN_NOT_MODELLED and plan(handed) == whole.packets[0]
    for read in (lambda p: p.plan.goals, lambda p: p.plan.supports_in("Staff"), repr):
        with pytest.raises(RuntimeError, match="not modelled"):
            read(light[0])
