"""When packets are fingerprinted. A first build knows without fingerprints that every packet is to be
built: it makes each as its packet is recorded, not all before the first packet (at 5,000 schools, 1.4 s
the workers waited). A rebuild fingerprints only the schools whose inputs digest (their rows, the
district-wide rows, the settings, templates and code) is not the one recorded, and checks again for
readiness only those: the others' findings are kept under their inputs digest."""

from __future__ import annotations

import datetime as dt

import msgpack
import pytest

from generator.findings import Finding
from generator.inputs import cache
from generator.model import build as model_build
from generator.output import batch, build_record, kept_findings, kept_view
from generator.pipeline import rebuild

from conftest import AS_OF, edit_sheet, find_row, header_column, recorded_fingerprints, run_cli, sheet_rows


@pytest.fixture
def events(monkeypatch):
    """Record, in order, each school fingerprinted to tell whether its packet is current (its School ID),
    each fingerprinted where its packet was built ("built <School ID>"), and when the packets were handed
    out. (--jobs 1: the packets are built in this process.)"""
    seen = []
    fingerprint, build_all = build_record.packet_fingerprint, batch.build_all
    for module, prefix in ((rebuild, ""), (batch, "built ")):
        monkeypatch.setattr(module, "packet_fingerprint", lambda packet, *args, prefix=prefix:
                            seen.append(prefix + packet.school.school_id) or fingerprint(packet, *args))
    monkeypatch.setattr(batch, "build_all", lambda *args: seen.append("packets") or build_all(*args))
    return seen


def build(inputs, output, *extra):
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1",
                     *extra)
    assert result.exit_code == 0, result.output
    return result


def note(inputs, school_id, text):
    """Write a note on the school's first Tasks row (school_id None: the first district-wide row)."""
    def edit(ws):
        column = header_column(ws, "School ID")
        row = find_row(ws, "School ID", school_id) if school_id else next(
            r for r in range(2, ws.max_row + 1) if ws.cell(r, header_column(ws, "Task")).value
            and not ws.cell(r, column).value)
        ws.cell(row, header_column(ws, "Notes"), text)
    edit_sheet(inputs / "timeline.xlsx", "Tasks", edit)


def fingerprinted(events):
    return sorted(e for e in events if e != "packets" and not e.startswith("built "))


def built(events):
    return sorted(e.removeprefix("built ") for e in events if e.startswith("built "))


def test_a_first_build_fingerprints_each_packet_where_it_is_built(inputs, output, events):
    build(inputs, output)
    assert events[0] == "packets" and fingerprinted(events) == []
    assert built(events) == NINE


def test_a_new_days_build_fingerprints_nothing_to_know_every_packet_is_stale(inputs, output, events, tmp_path):
    """Every packet holds the day it is judged by: a build as of another day rebuilds them all, none
    fingerprinted first, each plan modelled where its packet is built, from goals.xlsx as kept."""
    build(inputs, output)
    events.clear()
    next_day = (dt.date.fromisoformat(AS_OF) + dt.timedelta(days=1)).isoformat()
    again = build(inputs, output, "--as-of", next_day)
    assert "Built 9" in again.output
    assert events[0] == "packets" and fingerprinted(events) == [] and built(events) == NINE
    fresh = tmp_path / "fresh"
    build(inputs, fresh, "--as-of", next_day)
    assert shown(output) == shown(fresh)
    assert recorded_fingerprints(output) == recorded_fingerprints(fresh)      # the same packets, plans and all
    events.clear()
    assert "skipped 9 unchanged" in build(inputs, output, "--as-of", next_day).output
    assert events == []


def test_a_new_days_build_in_worker_processes_has_each_plan_modelled_there(inputs, output, events, tmp_path):
    """The packets handed to the workers without their plans (pickled: tests/model/test_model.py) come back
    built as a first build builds them."""
    build(inputs, output, "--jobs", "2")
    events.clear()
    next_day = (dt.date.fromisoformat(AS_OF) + dt.timedelta(days=1)).isoformat()
    assert "Built 9" in build(inputs, output, "--as-of", next_day, "--jobs", "2").output
    assert fingerprinted(events) == []
    fresh = tmp_path / "fresh"
    build(inputs, fresh, "--as-of", next_day)
    assert recorded_fingerprints(output) == recorded_fingerprints(fresh) and shown(output) == shown(fresh)


def test_a_rebuild_fingerprints_only_the_schools_whose_inputs_changed(inputs, output, events):
    build(inputs, output)
    events.clear()
    note(inputs, "0105", "Moved after the board meeting")
    again = build(inputs, output)
    assert fingerprinted(events) == ["0105"] and events.index("0105") < events.index("packets")
    assert "Built 1, skipped 8 unchanged" in again.output


def test_a_district_wide_row_or_the_reading_code_changed_fingerprints_every_school(inputs, output, events,
                                                                                    monkeypatch):
    build(inputs, output)
    events.clear()
    note(inputs, None, "For every school")
    every = build(inputs, output)
    assert len(fingerprinted(events)) == 9 and "Built 9" in every.output      # each school's schedule shows it

    events.clear()
    monkeypatch.setattr(build_record, "_packet_code", lambda: "other code")
    (inputs / "settings.toml").write_text((inputs / "settings.toml").read_text() + "\n# edited\n")
    same = build(inputs, output)
    assert len(fingerprinted(events)) == 9 and "skipped 9 unchanged" in same.output     # the same packets


def test_without_a_cache_to_keep_unchanged_schools_are_still_told_by_their_inputs(inputs, output, events):
    output.mkdir()
    (output / cache.CACHE_FOLDER).write_text("a file where the cache folder would be", encoding="utf-8")
    (inputs / "timeline_meetings.csv").write_text("School ID,Meeting,Date\n0105,Kickoff,2026-09-01\n",
                                                   encoding="utf-8")
    build(inputs, output)
    events.clear()
    note(inputs, "0103", "Moved")
    again = build(inputs, output)
    assert fingerprinted(events) == ["0103"] and "Built 1, skipped 8 unchanged" in again.output


def test_rows_whose_digests_cannot_be_made_leave_every_school_to_its_fingerprint(inputs, output, events,
                                                                                 monkeypatch):
    build(inputs, output)
    events.clear()

    def cannot(value):
        raise TypeError("a value a store cannot hold")
    monkeypatch.setattr(cache, "_encode", cannot)
    note(inputs, "0103", "Moved")
    again = build(inputs, output)
    assert len(fingerprinted(events)) == 9 and "Built 1, skipped 8 unchanged" in again.output


NINE = ["0101", "0102", "0103", "0104", "0105", "0106", "0107", "0108", "0109"]


@pytest.fixture
def checked(monkeypatch):
    """Record the School ID of each packet checked for readiness, in the main process or a packet's build."""
    seen = []
    for module in (rebuild, batch):
        real = module.check_packet
        monkeypatch.setattr(module, "check_packet",
                            lambda packet, real=real: seen.append(packet.school.school_id) or real(packet))
    return seen


def shown(output) -> tuple[list, list]:
    """readiness.xlsx as a reader sees it, but for when it was built: each school's row, and the findings."""
    rows = [(r["School ID"], r["Ready"], r["Errors"], r["Warnings"], r["What is missing"])
            for r in sheet_rows(output / "readiness.xlsx", "Readiness")]
    return rows, sheet_rows(output / "readiness.xlsx", "Findings")


def test_a_rebuild_checks_only_the_schools_whose_inputs_changed(inputs, output, tmp_path, checked):
    build(inputs, output)
    assert sorted(checked) == NINE
    checked.clear()
    note(inputs, "0105", "Moved after the board meeting")
    assert "Built 1, skipped 8 unchanged" in build(inputs, output).output
    assert checked == ["0105"]
    fresh = tmp_path / "fresh"
    build(inputs, fresh)
    assert shown(output) == shown(fresh)
    assert {f["School ID"] for f in shown(output)[1]} - {"0105"}     # unchanged schools' findings are shown


@pytest.fixture
def planned(monkeypatch):
    """Record the School ID of each plan modelled."""
    seen = []
    real = model_build._plan
    monkeypatch.setattr(model_build, "_plan", lambda index, school_id: seen.append(school_id) or real(index, school_id))
    return seen


def view(output) -> tuple:
    """The district view as a reader sees it, but for when it was built."""
    rows = sheet_rows(output / "district.xlsx", "Schools")
    html = (output / "index.html").read_text(encoding="utf-8")
    calendar = (output / "district.ics").read_text(encoding="utf-8")
    events = [line for line in calendar.splitlines() if not line.startswith("DTSTAMP")]
    return rows, html[html.index("<main"):], events


def test_a_rebuild_models_only_the_plans_of_the_schools_it_builds(inputs, output, tmp_path, planned):
    build(inputs, output)
    assert sorted(planned) == NINE
    planned.clear()
    note(inputs, "0105", "Moved after the board meeting")
    build(inputs, output)
    assert planned == ["0105"]
    # what the district view shows of the other schools is as a build of them all would show it
    fresh = tmp_path / "fresh"
    build(inputs, fresh)
    assert view(output) == view(fresh) and shown(output) == shown(fresh)

    planned.clear()
    (output / cache.CACHE_FOLDER / kept_findings.FINDINGS_STORE).unlink()
    note(inputs, "0105", "Moved again")
    build(inputs, output)
    assert sorted(planned) == NINE            # no findings kept: each school's plan is checked again
    planned.clear()
    note(inputs, "0105", "Moved for one school")
    build(inputs, output, "--school", "0105")
    assert sorted(planned) == NINE            # --school shows the others as built: their packets are looked at whole


@pytest.fixture
def modelled(monkeypatch):
    """Record the School ID of each packet modelled (with or without its plan)."""
    seen = []
    real = model_build._Modeller.packet
    monkeypatch.setattr(model_build._Modeller, "packet",
                        lambda self, school, plans: seen.append(school.school_id) or real(self, school, plans))
    return seen


def test_a_rebuild_models_only_the_schools_whose_inputs_changed(inputs, output, tmp_path, modelled):
    build(inputs, output)
    assert sorted(modelled) == NINE
    modelled.clear()

    def later(ws):          # 0105's first task a week later: its roll-up, chart row and review dates may move
        row, column = find_row(ws, "School ID", "0105"), header_column(ws, "Expected Date")
        ws.cell(row, column).value = ws.cell(row, column).value + dt.timedelta(days=7)
    edit_sheet(inputs / "timeline.xlsx", "Tasks", later)
    build(inputs, output)
    assert modelled == ["0105"]                 # the others are shown as kept (kept_view)
    fresh = tmp_path / "fresh"
    build(inputs, fresh)
    assert view(output) == view(fresh) and shown(output) == shown(fresh)

    modelled.clear()
    (output / cache.CACHE_FOLDER / kept_view.VIEW_STORE).write_bytes(b"not a store")
    note(inputs, "0105", "Moved after the board meeting")
    build(inputs, output)
    assert sorted(modelled) == NINE             # nothing kept to show them by: each is modelled again
    modelled.clear()
    note(inputs, None, "A district-wide note")  # every school's calendar share and roll-up may change
    build(inputs, output)
    assert sorted(modelled) == NINE
    build(inputs, fresh)
    assert view(output) == view(fresh)


def test_a_rebuild_draws_again_only_the_chart_rows_of_schools_whose_inputs_changed(inputs, output, tmp_path, drawn):
    build(inputs, output)
    assert sorted(drawn) == NINE
    drawn.clear()

    def later(ws):          # 0105's first task a week later: its row's marker moves
        row, column = find_row(ws, "School ID", "0105"), header_column(ws, "Expected Date")
        ws.cell(row, column).value = ws.cell(row, column).value + dt.timedelta(days=7)
    edit_sheet(inputs / "timeline.xlsx", "Tasks", later)
    build(inputs, output)
    assert drawn == ["0105"]
    fresh = tmp_path / "fresh"
    build(inputs, fresh)
    assert view(output) == view(fresh)

    drawn.clear()
    (output / cache.CACHE_FOLDER / rebuild.CHART_ROWS_STORE).write_bytes(b"not a store")
    note(inputs, "0105", "Moved after the board meeting")
    build(inputs, output)
    assert sorted(drawn) == NINE and view(output) == view(fresh)


def test_findings_kept_for_other_inputs_or_in_a_damaged_store_are_not_used(inputs, output, tmp_path, checked):
    build(inputs, output)
    store = output / cache.CACHE_FOLDER / kept_findings.FINDINGS_STORE
    planted = Finding("error", "Planted: kept for other inputs", school_id="0101", rule="planted")
    kept_findings.keep(output / cache.CACHE_FOLDER, {"0101": ("other inputs", [planted])}, NINE)
    checked.clear()
    note(inputs, "0105", "Moved")
    build(inputs, output)
    assert sorted(checked) == ["0101", "0105"]
    assert "Planted" not in str(shown(output))

    store.write_bytes(b"not a store")
    checked.clear()
    note(inputs, "0105", "Moved again")
    build(inputs, output)
    assert sorted(checked) == NINE
    fresh = tmp_path / "fresh"
    build(inputs, fresh)
    assert shown(output) == shown(fresh)
    checked.clear()
    note(inputs, "0103", "Moved")
    build(inputs, output)
    assert checked == ["0103"]              # the store was written whole again


def test_a_school_no_longer_on_the_roster_is_dropped_and_each_is_kept_under_its_digest(tmp_path):
    first, second = Finding("warning", "First", school_id="A", row=3), Finding("note", "Second", school_id="A")
    kept_findings.keep(tmp_path, {"A": ("a1", [first]), "B": ("b1", []), "C": ("c1", [first])}, ["A", "B", "C"])
    kept_findings.keep(tmp_path, {"A": ("a2", [second, first])}, ["A", "B"])
    assert kept_findings.load(tmp_path, {"A": "a2", "B": "b1", "C": "c1"}) == {"A": (second, first), "B": ()}
    assert kept_findings.load(tmp_path, {"A": "a1", "B": "b2"}) == {}
    assert not list(tmp_path.glob("*.partial*"))


def test_only_findings_under_a_new_digest_are_packed_again(tmp_path, monkeypatch):
    first, second = Finding("warning", "First", school_id="A", row=3), Finding("note", "Second", school_id="B")
    kept_findings.keep(tmp_path, {"A": ("a1", [first]), "B": ("b1", [second])}, ["A", "B"])
    packed, pack = [], msgpack.packb
    monkeypatch.setattr(kept_findings.msgpack, "packb", lambda value: packed.append(value) or pack(value))
    # A rebuild hands over every school's findings; B's digest is as kept, so its row is kept as it is.
    kept_findings.keep(tmp_path, {"A": ("a2", [second]), "B": ("b1", [second])}, ["A", "B"])
    assert len(packed) == 1
    assert kept_findings.load(tmp_path, {"A": "a2", "B": "b1"}) == {"A": (second,), "B": (second,)}


def test_a_schools_inputs_digest_is_its_own_rows_and_the_district_wide_ones_in_whatever_order_given(settings):
    digests = {("Tasks", "A"): "a1", ("People", "A"): "a2", ("Tasks", None): "d1", ("Tasks", "B"): "b1",
               ("People", None): "d2"}
    digest = build_record.inputs_digests(digests, ["A", "B", "C"], settings, "templates")
    again = build_record.inputs_digests(dict(reversed(digests.items())), ["A", "B", "C"], settings, "templates")
    assert again == digest and len(set(digest.values())) == 3
    own_changed = build_record.inputs_digests({**digests, ("Tasks", "B"): "b2"}, ["A", "B"], settings, "templates")
    assert own_changed["A"] == digest["A"] and own_changed["B"] != digest["B"]
    wide_changed = build_record.inputs_digests({**digests, ("People", None): "d3"}, ["A", "B"], settings, "templates")
    assert wide_changed["A"] != digest["A"] and wide_changed["B"] != digest["B"]
