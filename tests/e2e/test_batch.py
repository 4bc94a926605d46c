"""Batches: incremental rebuilds, parallel builds in a stable order, one school's failure isolated."""

from __future__ import annotations

import datetime as dt
import io
import multiprocessing
import pickle
import re
import zipfile
from dataclasses import replace

import pytest

from generator.output import atomic, processes
from generator.render import FORMS
from generator.settings import load_settings

from conftest import (
    AS_OF,
    BrokenPool,
    edit_sheet,
    find_row,
    header_column,
    recorded_fingerprints,
    run_cli,
    sheet_rows,
    workbook_content,
)


def build(inputs, output, *extra):
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, *extra)
    return result


def statuses(result):
    """School id -> status word from the plain progress lines."""
    return dict(re.findall(r"^\[\d+\] (\S+) .*?: (ready|not ready|unchanged|FAILED) ->", result.output, re.M))


def mtimes(output):
    return {p.relative_to(output): p.stat().st_mtime_ns for p in output.rglob("*.docx")}


@pytest.mark.slow
def test_rerun_skips_every_school_and_one_edit_rebuilds_exactly_that_school(inputs, output):
    first = build(inputs, output, "--jobs", "1")
    assert first.exit_code == 0, first.output
    assert set(statuses(first).values()) <= {"ready", "not ready"}
    before = mtimes(output)

    again = build(inputs, output, "--jobs", "1")
    assert set(statuses(again).values()) == {"unchanged"}
    assert "Built 0, skipped 9 unchanged, failed 0" in again.output
    assert mtimes(output) == before

    def new_date(ws):
        row = find_row(ws, "School ID", "0105")
        ws.cell(row=row, column=header_column(ws, "Notes")).value = "Moved after the board meeting"
    edit_sheet(inputs / "timeline.xlsx", "Tasks", new_date)
    third = build(inputs, output, "--jobs", "1")
    changed = {sid for sid, status in statuses(third).items() if status != "unchanged"}
    assert changed == {"0105"}
    after = mtimes(output)
    assert {p.parts[0][:4] for p in after if after[p] != before[p]} == {"0105"}


@pytest.mark.slow
def test_force_and_a_template_change_rebuild_everything(inputs, output, tmp_path):
    assert build(inputs, output, "--jobs", "1").exit_code == 0
    forced = build(inputs, output, "--jobs", "1", "--force")
    assert "unchanged" not in statuses(forced).values()

    from generator.render.template_data import SHIPPED_FOLDER
    templates = tmp_path / "templates"                 # a district's folder holding only what it changed
    templates.mkdir()
    (templates / "schedule_tasks.csv").write_text((SHIPPED_FOLDER / "schedule_tasks.csv").read_text() + "\n")
    restyled = build(inputs, output, "--jobs", "1", "--templates", str(templates))
    assert "unchanged" not in statuses(restyled).values()
    again = build(inputs, output, "--jobs", "1", "--templates", str(templates))
    assert set(statuses(again).values()) == {"unchanged"}


@pytest.mark.slow
def test_a_deleted_document_is_rebuilt(inputs, output):
    assert build(inputs, output, "--jobs", "1").exit_code == 0
    (doc,) = output.glob("0103-*/0103-plan.docx")
    doc.unlink()
    again = build(inputs, output, "--jobs", "1")
    assert statuses(again)["0103"] != "unchanged" and doc.is_file()


@pytest.mark.slow
def test_parallel_build_gives_the_same_packets_in_roster_order(inputs, tmp_path):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    one = build(inputs, serial, "--jobs", "1")
    two = build(inputs, parallel, "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert list(statuses(one)) == list(statuses(two)) == sorted(statuses(one))
    assert statuses(one) == statuses(two)
    assert sorted(p.relative_to(serial) for p in serial.rglob("*")) == \
        sorted(p.relative_to(parallel) for p in parallel.rglob("*"))


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_one_schools_failure_is_named_and_the_others_are_built(inputs, output, jobs):
    output.mkdir()
    (output / "0104-tubman-douglass-academy").write_text("a file where the packet folder belongs")
    result = build(inputs, output, "--jobs", jobs)
    assert result.exit_code == 1
    status = statuses(result)
    assert status["0104"] == "FAILED"
    assert all(s in ("ready", "not ready") for sid, s in status.items() if sid != "0104")
    assert "Error building the packet for 0104 (Tubman & Douglass Academy)" in result.output
    assert "failed 1" in result.output
    assert (output / "0104-tubman-douglass-academy").read_text() == "a file where the packet folder belongs"
    assert len(list(output.glob("*/*.docx"))) == 8 * sum(form.suffix == ".docx" for form in FORMS)
    assert not list(output.rglob(".tmp-*"))


def test_an_unchanged_rerun_does_not_even_read_the_inputs(inputs, output, monkeypatch):
    assert build(inputs, output, "--jobs", "1").exit_code == 0
    from generator.pipeline import district

    def must_not_read(settings, *args, **kwargs):
        raise AssertionError("the inputs were read although nothing changed")
    monkeypatch.setattr(district, "_read_tables", must_not_read)
    again = build(inputs, output, "--jobs", "1")
    assert again.exit_code == 0, again.output
    assert set(statuses(again).values()) == {"unchanged"} and len(statuses(again)) == 9
    assert "8 of 9 school(s) ready" in again.output


def test_an_unchanged_rerun_opens_no_packets_manifest_but_sees_a_document_of_another_size(inputs, output,
                                                                                         monkeypatch):
    assert build(inputs, output, "--jobs", "1").exit_code == 0
    from generator.output import packet_manifest
    real = packet_manifest.read
    opened = []
    monkeypatch.setattr(packet_manifest, "read", lambda folder: opened.append(folder) or real(folder))
    again = build(inputs, output, "--jobs", "1")
    assert set(statuses(again).values()) == {"unchanged"} and not opened, again.output
    plan = next(output.glob("0105-*/0105-plan.docx"))
    plan.write_bytes(plan.read_bytes() + b"\0")                 # damaged: one byte longer than recorded
    third = build(inputs, output, "--jobs", "1")
    assert statuses(third)["0105"] == "ready" and list(statuses(third).values()).count("unchanged") == 8, \
        third.output


def test_an_unchanged_packet_found_whole_by_its_manifest_is_recorded_so_and_not_read_again(inputs, output,
                                                                                          monkeypatch):
    """A packet whose manifest.json was touched (copied back from a backup, say) is found whole by reading
    it; the rebuild that skips it records it as it is now, so the next rebuild need not read it again."""
    import os

    from generator.output import packet_manifest
    assert build(inputs, output, "--jobs", "1").exit_code == 0
    touched = next(output.glob("0105-*/manifest.json"))
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    real = packet_manifest.read
    opened = []
    monkeypatch.setattr(packet_manifest, "read", lambda folder: opened.append(folder.name[:4]) or real(folder))

    def note(school_id, text):
        def edit(ws):
            ws.cell(find_row(ws, "School ID", school_id), header_column(ws, "Notes"), text)
        edit_sheet(inputs / "timeline.xlsx", "Tasks", edit)

    note("0101", "Moved after the board meeting")
    first = build(inputs, output, "--jobs", "1")
    assert statuses(first)["0105"] == "unchanged" and "0105" in opened, first.output
    opened.clear()
    note("0102", "Moved too")
    second = build(inputs, output, "--jobs", "1")
    assert statuses(second)["0105"] == "unchanged", second.output
    assert "0105" not in opened


@pytest.mark.slow
@pytest.mark.parametrize("change", ["input file", "as-of date", "readiness report deleted", "strict"])
def test_any_change_makes_the_rerun_look_again(inputs, output, change, monkeypatch):
    assert build(inputs, output, "--jobs", "1").exit_code == 0
    from generator.pipeline import district
    reads = []
    real = district._read_tables           # what every command reads the inputs through
    monkeypatch.setattr(district, "_read_tables", lambda *args, **kwargs: reads.append(1) or real(*args, **kwargs))
    as_of, extra = AS_OF, []
    if change == "input file":
        (inputs / "settings.toml").write_text((inputs / "settings.toml").read_text() + "\n# edited\n")
    elif change == "as-of date":
        as_of = "2026-12-01"
    elif change == "readiness report deleted":
        (output / "readiness.xlsx").unlink()
    else:
        extra = ["--strict"]
    again = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--jobs", "1", "--as-of", as_of,
                    *extra)
    assert again.exit_code == 0, again.output
    assert reads == [1]
    assert (output / "readiness.xlsx").is_file()
    if change == "strict":                       # the same packets, judged more strictly
        assert "8 of 9 school(s) ready" not in again.output


@pytest.mark.slow
@pytest.mark.skipif(not atomic.CAN_DEFER_FLUSH, reason="defers flushes on Linux only")
def test_a_disk_that_cannot_flush_replaces_no_document_and_says_so(inputs, output, monkeypatch):
    import ctypes
    import errno

    assert build(inputs, output, "--jobs", "1").exit_code == 0
    before = {p: p.read_bytes() for p in output.rglob("*.docx")}

    def failing(fd):
        ctypes.set_errno(errno.EIO)
        return -1
    monkeypatch.setattr(atomic, "_SYNCFS", failing)
    result = build(inputs, output, "--jobs", "1", "--force")
    assert result.exit_code == 1
    assert "Error building the packet for 0101" in result.output
    assert "Could not put the documents in" in result.output and "Input/output error" in result.output
    assert "Traceback" not in result.output
    assert {p: p.read_bytes() for p in output.rglob("*.docx")} == before
    assert not list(output.rglob(".tmp-*"))


def test_a_run_in_which_every_school_fails_reports_each_and_writes_no_packet(inputs, output, monkeypatch):
    from generator.output import batch

    def broken(*_):
        raise ValueError("a template went wrong")
    monkeypatch.setattr(batch, "render_packet", broken)
    result = build(inputs, output, "--jobs", "1")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert set(statuses(result).values()) == {"FAILED"}
    assert "Error building the packet for 0101 (Riverbend High School): ValueError: a template went wrong" \
        in result.output
    assert not list(output.glob("*/*.docx"))


def test_only_a_build_sure_to_build_many_packets_starts_its_workers_before_reading(inputs, output, monkeypatch):
    """A first build, or --force, starts the workers' fork server before it reads the district (its imports
    then overlap the reading); a rebuild, which may build one school in this process, does not."""
    from generator.output import batch
    started = []
    monkeypatch.setattr(batch, "start_workers_early", lambda: started.append(1))
    assert build(inputs, output, "--jobs", "2").exit_code == 0
    assert started == [1]
    assert build(inputs, output, "--jobs", "2", "--strict").exit_code in (0, 1)     # a rebuild of what --strict changes
    assert build(inputs, output, "--jobs", "1", "--force").exit_code == 0            # one job: no workers
    assert started == [1]
    assert build(inputs, output, "--jobs", "2", "--force").exit_code == 0
    assert started == [1, 1]


def test_large_inputs_read_in_two_processes_give_the_same_tables_and_findings(inputs, output, monkeypatch):
    """With --jobs 2 and large inputs, the largest workbook is read in the main process while another
    process reads the rest: the tables, and every finding in its order (a file's, a cell's, a note), are
    what one process reads."""
    import functools

    from generator.inputs import workbook
    from generator.pipeline import district

    (inputs / "timeline_meetings.csv").write_text("School ID,Meeting,Date\n01,Kickoff,not a date\n", encoding="utf-8")
    edit_sheet(inputs / "roster.xlsx", "Schools", lambda ws: ws.cell(3, header_column(ws, "Designation"), "Bogus"))
    edit_sheet(inputs / "goals.xlsx", "Goals", lambda ws: ws.cell(1, ws.max_column + 1, "Our own notes"))
    settings = load_settings(inputs, output, dt.date.fromisoformat(AS_OF))
    alone = district._read_tables(replace(settings, jobs=1))

    here = []
    original = workbook.read_workbook_sheets

    @functools.wraps(original)      # pickled by name: the other process imports the original
    def counted(folder, specs, *cache):
        here.append(specs[0].workbook)
        return original(folder, specs, *cache)

    monkeypatch.setattr(district, "read_workbook_sheets", counted)
    monkeypatch.setattr(workbook, "read_workbook_sheets", counted)
    monkeypatch.setattr(district, "PARALLEL_READ_BYTES", 0)
    both = district._read_tables(replace(settings, jobs=2))
    assert here == ["goals"]                  # the largest here; roster and timeline in the other process
    assert both.findings == alone.findings
    assert {f.file for f in alone.findings} >= {"roster.xlsx", "timeline_meetings.csv", "goals.xlsx"}
    assert list(both.tables) == list(alone.tables)
    for name, table in alone.tables.items():
        assert both.tables[name].rows == table.rows, name
        assert both.tables[name].columns == table.columns, name


def test_a_reading_process_that_cannot_start_or_dies_leaves_the_reading_to_the_main_process(inputs, output,
                                                                                           monkeypatch):
    """The second reading process is only a quicker way: if it cannot start or ends (out of memory, stopped),
    the main process reads its workbooks, and finds what one process finds."""
    from generator.pipeline import district

    edit_sheet(inputs / "roster.xlsx", "Schools", lambda ws: ws.cell(3, header_column(ws, "Designation"), "Bogus"))
    settings = load_settings(inputs, output, dt.date.fromisoformat(AS_OF))
    alone = district._read_tables(replace(settings, jobs=1))
    monkeypatch.setattr(processes, "ProcessPoolExecutor", BrokenPool)
    monkeypatch.setattr(district, "PARALLEL_READ_BYTES", 0)
    both = district._read_tables(replace(settings, jobs=2))
    assert both.findings == alone.findings and any(f.file == "roster.xlsx" for f in both.findings)
    assert {name: t.rows for name, t in both.tables.items()} == {name: t.rows for name, t in alone.tables.items()}


def test_a_value_handed_to_the_helper_goes_in_a_file_removed_after_and_arrives_as_it_was(monkeypatch):
    """readiness.xlsx's context is handed over in a temporary file, so the main process lets go of it while the
    view is written; the call is made with the value read back, in the helper or here if the helper cannot.
    Where no such file can be made, the value is handed with the call as before."""
    context = {"rows": [{"school_id": "0101", "school": 'Lincoln & <"Honors">', "built_at": dt.datetime(2026, 12, 7)}],
               "findings": [], "findings_summary": "none"}
    with processes.handed_over(dict(context)) as handed:
        assert isinstance(handed, processes.Handed) and handed.path.is_file()
        assert pickle.loads(pickle.dumps(handed)) == handed            # what goes with the call: the path
        assert handed.value() == context
        assert processes._made(lambda title, value: (title, value), ("readiness", handed)) == ("readiness", context)
        with processes.helper_process(multiprocessing.get_context("spawn")) as helper:
            _, (there,) = helper.beside([(dict, (handed,))], lambda: None)
        assert there == context
        monkeypatch.setattr(processes, "ProcessPoolExecutor", BrokenPool)
        with processes.helper_process(multiprocessing.get_context("spawn")) as helper:
            _, (here,) = helper.beside([(dict, (handed,))], lambda: None)      # made here: no helper
        assert here == context
    assert not handed.path.exists()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(processes.tempfile, "mkstemp", full)
    with processes.handed_over(dict(context)) as handed:
        assert handed == context


@pytest.mark.slow
def test_a_helper_process_writes_readiness_xlsx_and_builds_a_single_packet_as_this_one_would(inputs, tmp_path,
                                                                                              monkeypatch):
    from generator.pipeline import rebuild

    def shown(output, sheet):            # but for when each packet was built
        return [{k: v for k, v in row.items() if not k.startswith("Built")}
                for row in sheet_rows(output / "readiness.xlsx", sheet)]

    here, there = tmp_path / "here", tmp_path / "there"
    assert build(inputs, here, "--jobs", "2").exit_code == 0          # nine schools: no helper
    monkeypatch.setattr(rebuild, "HELPER_SCHOOLS", 1)
    helped = []
    beside = processes.Helper.beside
    monkeypatch.setattr(processes.Helper, "beside", lambda self, calls, own: helped.append(calls[0][0].__name__)
                        or beside(self, calls, own))
    assert build(inputs, there, "--jobs", "2").exit_code == 0
    assert helped == ["write_readiness"]         # the packets in the pool
    for sheet in ("Readiness", "Findings"):
        assert shown(here, sheet) == shown(there, sheet)
    assert len(shown(there, "Readiness")) == 9
    with zipfile.ZipFile(there / "readiness.xlsx") as package:      # its paths are links, as made here
        assert package.read("xl/worksheets/_rels/sheet1.xml.rels").count(b"hyperlink") >= 9

    helped.clear()
    edit_sheet(inputs / "timeline.xlsx", "Tasks",
               lambda ws: ws.cell(find_row(ws, "School ID", "0104"), header_column(ws, "Notes"), "Moved"))
    again = build(inputs, there, "--jobs", "2")
    assert again.exit_code == 0 and "Built 1, skipped 8 unchanged" in again.output
    assert helped == ["_build_chunk", "write_readiness"]
    monkeypatch.undo()
    assert build(inputs, here, "--jobs", "2").exit_code == 0
    def made(output, name):
        (path,) = output.glob(f"0104-*/0104-{name}")
        return path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(made(here, "schedule.docx"))) as a, \
            zipfile.ZipFile(io.BytesIO(made(there, "schedule.docx"))) as b:
        assert a.read("word/document.xml") == b.read("word/document.xml")
    tracker = "schedule-tracker.xlsx"
    assert workbook_content(made(here, tracker)) == workbook_content(made(there, tracker))
    assert "Moved" in str(workbook_content(made(there, tracker)))     # the edit is in it
    assert shown(here, "Readiness") == shown(there, "Readiness")


def test_a_large_first_build_reads_goals_xlsx_in_the_other_process_and_never_holds_the_plans(inputs, output,
                                                                                             tmp_path, monkeypatch):
    """With large inputs, a first build's other process reads goals.xlsx and keeps it in a folder of the
    run's own, the main process reads the rest, and each worker models its packets' plans from what was
    kept: the packets are those of a one-process build; goals.xlsx is kept for the next build, which
    does not read it again; the run's folder is gone."""
    from generator.inputs import cache, workbook
    from generator.pipeline import district

    alone = tmp_path / "alone"
    assert build(inputs, alone).exit_code == 0
    read_here = []
    original = workbook._read
    monkeypatch.setattr(workbook, "_read", lambda folder, specs: read_here.append(specs[0].workbook)
                        or original(folder, specs))
    monkeypatch.setattr(district, "PARALLEL_READ_BYTES", 0)
    assert build(inputs, output, "--jobs", "2").exit_code == 0
    assert sorted(read_here) == ["roster", "timeline"]            # goals.xlsx in the other process
    assert recorded_fingerprints(output) == recorded_fingerprints(alone) and len(recorded_fingerprints(output)) == 9
    assert statuses(build(inputs, output, "--jobs", "2")) == dict.fromkeys(recorded_fingerprints(alone), "unchanged")
    kept = list((output / cache.CACHE_FOLDER).iterdir())
    assert "goals.sqlite" in [p.name for p in kept] and not [p for p in kept if p.is_dir()]     # no run's folder

    read_here.clear()
    edit_sheet(inputs / "timeline.xlsx", "Tasks",
               lambda ws: ws.cell(find_row(ws, "School ID", "0104"), header_column(ws, "Notes"), "Moved"))
    again = build(inputs, output, "--jobs", "2")
    assert "Built 1, skipped 8 unchanged" in again.output and read_here == ["timeline"]


def test_a_large_first_build_refused_leaves_nothing_of_what_its_other_process_kept(inputs, output, monkeypatch):
    from generator.pipeline import district, packets

    edit_sheet(inputs / "roster.xlsx", "Schools", lambda ws: ws.cell(1, header_column(ws, "School ID"), "Number"))
    monkeypatch.setattr(district, "PARALLEL_READ_BYTES", 0)
    result = build(inputs, output, "--jobs", "2")
    assert result.exit_code != 0 and "School ID" in result.output
    assert not output.exists()

    # A build killed outright leaves its folder: the next build removes it, not another run's.
    left = output / ".packets-cache" / ".run-12345"
    left.mkdir(parents=True)
    (left / "goals.sqlite").write_bytes(b"part of a store")
    packets.remove_leftovers(load_settings(inputs, output))
    assert not left.exists()


def test_a_rebuild_looks_at_the_packets_on_disk_while_it_reads_its_changed_workbook(inputs, output, monkeypatch):
    """Which packets are on disk as recorded does not depend on the inputs: a rebuild looks (a stat call a
    document) in a thread of its own while the changed workbook is read, and never again; a packet found
    damaged there is rebuilt with the school whose rows changed."""
    import threading

    from generator.output import build_record
    assert build(inputs, output, "--jobs", "1").exit_code == 0
    edit_sheet(inputs / "timeline.xlsx", "Tasks", lambda ws: ws.cell(
        row=find_row(ws, "School ID", "0105"), column=header_column(ws, "Notes")).__setattr__("value", "Moved"))
    (doc,) = output.glob("0103-*/0103-schedule.docx")
    doc.write_bytes(doc.read_bytes()[:-1])                    # a size changed since it was recorded
    looked: list[str] = []
    real = build_record._stamp_matches
    monkeypatch.setattr(build_record, "_stamp_matches",
                        lambda *args: looked.append(threading.current_thread().name) or real(*args))
    again = build(inputs, output, "--jobs", "1")
    assert again.exit_code == 0, again.output
    assert {sid for sid, status in statuses(again).items() if status != "unchanged"} == {"0103", "0105"}
    assert len(looked) == 9 and all(name.startswith("on-disk") for name in looked), looked
