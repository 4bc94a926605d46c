"""The normalized workbooks kept between builds (inputs/cache.py): a kept workbook gives exactly what reading
it gives; a changed, damaged or foreign store, or one for another schema, is read again; a cache that
cannot be written changes nothing a build does."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from dataclasses import replace
from itertools import groupby

import pytest

from generator.inputs import cache, workbook
from generator.inputs.recurrence import Repeats
from generator.inputs.schema import SHEETS, with_designations
from generator.render.template_data import Templates, designations

from conftest import AS_OF, edit_sheet, find_row, header_column, run_cli

BOOKS = {name: tuple(group) for name, group in groupby(SHEETS, key=lambda spec: spec.workbook)}


@pytest.fixture
def reads(monkeypatch):
    """Count, by workbook, the workbooks actually read (not taken from the cache)."""
    counted: Counter = Counter()
    original = workbook._read

    def counting(folder, specs):
        counted[specs[0].workbook] += 1
        return original(folder, specs)

    monkeypatch.setattr(workbook, "_read", counting)
    return counted


def with_problems(inputs):
    """Give each workbook findings of its own: a bad date, a designation no one knows, a column not used."""
    def bad_date(ws):
        ws.cell(find_row(ws, "School ID", "0105"), header_column(ws, "Expected Date"), "31/31/2027")
    edit_sheet(inputs / "timeline.xlsx", "Tasks", bad_date)
    edit_sheet(inputs / "roster.xlsx", "Schools", lambda ws: ws.cell(3, header_column(ws, "Designation"), "Bogus"))
    edit_sheet(inputs / "goals.xlsx", "Goals", lambda ws: ws.cell(1, ws.max_column + 1, "Our own notes"))


def assert_same(kept, read):
    assert kept.loading == read.loading
    assert kept.normalizing == read.normalizing
    assert list(kept.tables) == list(read.tables)
    for name, table in read.tables.items():
        assert kept.tables[name] == table, name       # spec, file, sheet, rows (numbers and values), columns
        assert [type(v) for r in kept.tables[name].rows for v in r.cells] == \
               [type(v) for r in table.rows for v in r.cells], name


@pytest.mark.parametrize("book", list(BOOKS))
def test_a_kept_workbook_gives_exactly_what_reading_it_gives(inputs, tmp_path, reads, book):
    with_problems(inputs)
    store = tmp_path / "cache"
    read = workbook.read_workbook_sheets(inputs, BOOKS[book])
    first = workbook.read_workbook_sheets(inputs, BOOKS[book], store)
    assert not workbook.is_kept(inputs, BOOKS[book], store)          # not until the build keeps it
    workbook.keep_workbooks(inputs, store, [first])
    kept = workbook.read_workbook_sheets(inputs, BOOKS[book], store)
    assert reads[book] == 2                   # without the cache, then to keep it; the third came from it
    assert workbook.is_kept(inputs, BOOKS[book], store)
    assert_same(first, read)
    assert_same(kept, read)
    assert read.normalizing             # with_problems gave each workbook findings to keep
    values = {type(v) for t in kept.tables.values() for r in t.rows for v in r.cells}
    if book == "timeline":                    # a date, several dates, a Repeats pattern: each comes back
        assert {dt.date, tuple, Repeats} <= values


def test_a_changed_workbook_is_read_again_and_the_others_are_not(inputs, output, reads):
    def build():
        return run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1")

    assert build().exit_code == 0
    assert reads == {"roster": 1, "timeline": 1, "goals": 1}

    def new_note(ws):
        ws.cell(find_row(ws, "School ID", "0105"), header_column(ws, "Notes"), "Moved after the board meeting")
    edit_sheet(inputs / "timeline.xlsx", "Tasks", new_note)
    again = build()
    assert again.exit_code == 0, again.output
    assert reads == {"roster": 1, "timeline": 2, "goals": 1}
    assert "Built 1, skipped 8 unchanged" in again.output       # the kept roster and goals changed nothing


def test_a_damaged_or_foreign_store_is_read_again_and_replaced(inputs, tmp_path, reads):
    store = tmp_path / "cache"
    goals = BOOKS["goals"]
    read = workbook.read_workbook_sheets(inputs, goals, store)
    workbook.keep_workbooks(inputs, store, [read])
    path = store / "goals.sqlite"

    path.write_bytes(b"not a database at all")
    again = workbook.read_workbook_sheets(inputs, goals, store)
    assert_same(again, read)
    workbook.keep_workbooks(inputs, store, [again])
    assert workbook.is_kept(inputs, goals, store)          # written anew

    with sqlite3.connect(path) as db:                      # whole, but its rows damaged
        db.execute("UPDATE rows SET rows = x'c1c1c1'")
    db.close()
    assert_same(workbook.read_workbook_sheets(inputs, goals, store), read)
    assert reads["goals"] == 3

    # A build killed while it kept the workbook left a part-written file and a journal beside it.
    path.unlink()
    (store / "goals.sqlite.partial").write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    (store / "goals.sqlite.partial-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + b"\x00" * 4000)
    workbook.keep_workbooks(inputs, store, [read])
    assert_same(workbook.read_workbook_sheets(inputs, goals, store), read)
    assert reads["goals"] == 3 and [p.name for p in store.iterdir()] == ["goals.sqlite"]


def test_a_store_is_for_one_file_schema_and_reading_code(inputs, monkeypatch):
    goals, roster = BOOKS["goals"], BOOKS["roster"]
    key = cache.workbook_key(inputs, goals)
    assert key == cache.workbook_key(inputs, goals)

    # A district that adds a designation of its own reads its roster by another schema.
    vocabulary = designations(Templates(None))
    wider = replace(vocabulary, designations=vocabulary.designations + (
        replace(vocabulary.designations[-1], name="Our Own Designation", synonyms=()),))
    assert cache.workbook_key(inputs, tuple(with_designations(s, wider) for s in roster)) != \
           cache.workbook_key(inputs, tuple(with_designations(s, vocabulary) for s in roster))

    edit_sheet(inputs / "goals.xlsx", "Goals", lambda ws: ws.cell(2, 2, "A goal, edited"))
    changed = cache.workbook_key(inputs, goals)
    assert changed != key
    with monkeypatch.context() as patched:
        patched.setattr(cache, "_code_digest", lambda: "other reading code")
        assert cache.workbook_key(inputs, goals) != changed
    (inputs / "~$goals.xlsx").write_bytes(b"")             # open in Excel: reading it warns so
    assert cache.workbook_key(inputs, goals) != changed


def test_a_sheet_kept_as_its_own_csv_file_keeps_its_workbook_out_of_the_cache(inputs, tmp_path, reads):
    (inputs / "timeline_meetings.csv").write_text("School ID,Meeting,Date\n0105,Kickoff,2026-09-01\n",
                                                   encoding="utf-8")
    assert cache.workbook_key(inputs, BOOKS["timeline"]) is None
    read = workbook.read_workbook_sheets(inputs, BOOKS["timeline"], tmp_path / "cache")
    workbook.keep_workbooks(inputs, tmp_path / "cache", [read])
    assert not (tmp_path / "cache" / "timeline.sqlite").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_cache_that_cannot_be_written_changes_nothing_a_build_does(inputs, output, monkeypatch, jobs):
    """With 2 jobs and large inputs (as if), the other process cannot keep goals.xlsx for the run either: it
    hands its rows back, and the packets' plans are modelled here."""
    from generator.pipeline import district

    monkeypatch.setattr(district, "PARALLEL_READ_BYTES", 0)
    output.mkdir()
    (output / cache.CACHE_FOLDER).write_text("a file where the cache folder would be", encoding="utf-8")
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", jobs)
    assert result.exit_code == 0, result.output
    assert "Built 9" in result.output
    assert (output / cache.CACHE_FOLDER).is_file()


def test_a_workbook_saved_again_while_it_was_read_is_not_kept(inputs, tmp_path):
    store = tmp_path / "cache"
    read = workbook.read_workbook_sheets(inputs, BOOKS["goals"], store)
    edit_sheet(inputs / "goals.xlsx", "Goals", lambda ws: ws.cell(2, 2, "Saved while the build was reading"))
    workbook.keep_workbooks(inputs, store, [read])
    assert not (store / "goals.sqlite").exists()


def test_validate_takes_what_a_build_kept_and_finds_the_same(inputs, tmp_path, reads, monkeypatch):
    """`packets validate` reads the default output folder's cache (relative to where it runs, as a build's
    default output is) and writes nothing there."""
    from generator.pipeline import validate
    from generator.settings import load_settings

    monkeypatch.chdir(tmp_path)
    with_problems(inputs)
    settings = load_settings(inputs, as_of=dt.date.fromisoformat(AS_OF))
    before = validate(settings)
    assert sum(reads.values()) == 3 and not (tmp_path / "output").exists()
    assert run_cli("build", "--inputs", str(inputs), "--as-of", AS_OF, "--jobs", "1").exit_code == 1   # a bad row
    kept = sorted((tmp_path / "output" / cache.CACHE_FOLDER).iterdir())
    assert [p.name for p in kept] == ["chart_rows.sqlite", "findings.sqlite", "goals.sqlite", "roster.sqlite",
                                      "timeline.sqlite", "view.sqlite"]
    reads.clear()
    after = validate(settings)
    assert reads == {} and after == before
    assert sorted((tmp_path / "output" / cache.CACHE_FOLDER).iterdir()) == kept


def twice_given_strategy(inputs):
    """Give school 0101 a Strategy ID twice: a finding of the plan sheets' own checks."""
    edit_sheet(inputs / "goals.xlsx", "Strategies", lambda ws: ws.cell(3, header_column(ws, "Strategy ID"), "S1"))


def test_a_plan_workbook_loaded_apart_reads_each_schools_rows_as_loading_it_whole_does(inputs, tmp_path, reads):
    from generator.inputs.validate import plan_checks

    with_problems(inputs)
    twice_given_strategy(inputs)
    store, goals = tmp_path / "cache", BOOKS["goals"]
    read = workbook.read_workbook_sheets(inputs, goals, store)
    checked = plan_checks(read.tables, set())
    assert any("Duplicate Strategy ID 'S1'" in f.message for f in checked)
    workbook.keep_workbooks(inputs, store, [replace(read, checked=checked)])
    whole = workbook.read_workbook_sheets(inputs, goals, store)
    apart = workbook.read_workbook_sheets(inputs, goals, store, apart=True)
    assert reads["goals"] == 1 and whole.school_rows is None and whole.checked is None
    assert apart.tables == {} and apart.school_rows is not None
    assert (apart.loading, apart.normalizing, apart.digests, apart.checked) == \
           (whole.loading, whole.normalizing, whole.digests, checked)
    schools = {sid for _, sid in whole.digests}
    assert {"0101", "0105"} <= schools
    for sid in schools:
        tables = apart.school_rows(sid)
        assert list(tables) == list(whole.tables)
        for name, table in whole.tables.items():
            assert tables[name] == replace(table, rows=tuple(r for r in table.rows if r["school_id"] == sid)), name
    assert all(not t.rows for t in apart.school_rows("9999").values())      # a school with no plan rows

    # A store kept without the checks (kept by a build that read the workbook whole) is loaded whole.
    workbook.keep_workbooks(inputs, store, [read])
    assert_same(workbook.read_workbook_sheets(inputs, goals, store, apart=True), read)
    # Replaced since it was loaded apart (a changed goals.xlsx kept by another build): nothing is read from it.
    edit_sheet(inputs / "goals.xlsx", "Goals", lambda ws: ws.cell(2, 3, "A goal, edited"))
    workbook.keep_workbooks(inputs, store, [workbook.read_workbook_sheets(inputs, goals, store)])
    with pytest.raises(KeyError, match="replaced"):
        apart.school_rows("0101")


@pytest.mark.parametrize("roster_lacks_a_school", [False, True])
def test_a_rebuild_reads_an_unchanged_goals_workbook_apart_and_finds_what_reading_it_whole_finds(
        inputs, output, monkeypatch, roster_lacks_a_school):
    """Findings and plans are the same, in the same order; when the roster lacks a school goals.xlsx names,
    the rows naming it are loaded to be reported, and with them the whole workbook."""
    from generator.pipeline.district import read_district
    from generator.settings import load_settings

    with_problems(inputs)
    twice_given_strategy(inputs)
    assert run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF,
                   "--jobs", "1").exit_code == 1          # the bad rows
    if roster_lacks_a_school:
        edit_sheet(inputs / "roster.xlsx", "Schools", lambda ws: ws.delete_rows(find_row(ws, "School ID", "0105")))
    settings = load_settings(inputs, output, dt.date.fromisoformat(AS_OF))
    asked: list[str] = []
    school_rows = cache.SchoolRows.__call__
    monkeypatch.setattr(cache.SchoolRows, "__call__", lambda self, sid: asked.append(sid) or school_rows(self, sid))

    whole = read_district(settings, only=(), cache=output / cache.CACHE_FOLDER)
    apart = read_district(settings, only=(), cache=output / cache.CACHE_FOLDER, plans=False)
    assert apart.findings == whole.findings
    messages = [f.message for f in whole.findings]
    assert any(m.startswith("Duplicate Strategy ID 'S1'") for m in messages)
    assert any(m.startswith("Unknown School ID '0105'") for m in messages) == roster_lacks_a_school
    planned = {p.school.school_id: p for p in whole.district.packets}
    assert apart.model is not None and apart.with_plan is not None and apart.district.packets == ()
    light = [apart.model(s) for s in apart.district.schools if s.school_id not in apart.blocked]
    assert [apart.with_plan(p) for p in light] == list(planned.values())
    assert asked == ([] if roster_lacks_a_school else list(planned))


def test_a_changed_workbook_read_beside_the_kept_ones_gives_what_reading_them_all_gives(inputs, output,
                                                                                      monkeypatch):
    """A rebuild reads a changed workbook in a thread while the kept ones load: the tables, and every finding
    in its order, are what reading every workbook from its file gives."""
    import threading

    from generator.pipeline import district
    from generator.settings import load_settings

    with_problems(inputs)
    settings = load_settings(inputs, output, dt.date.fromisoformat(AS_OF))
    store = output / cache.CACHE_FOLDER
    workbook.keep_workbooks(inputs, store, district._read_tables(settings, store).books)
    edit_sheet(inputs / "timeline.xlsx", "Meetings", lambda ws: ws.cell(2, header_column(ws, "Date"), "not a date"))
    fresh = district._read_tables(settings)
    where: dict[str, str] = {}
    original = workbook._read
    monkeypatch.setattr(workbook, "_read", lambda folder, specs: where.setdefault(
        specs[0].workbook, threading.current_thread().name) and original(folder, specs))
    read = district._read_tables(settings, store)
    assert list(where) == ["timeline"] and where["timeline"] != threading.current_thread().name
    assert read.findings == fresh.findings
    assert any(f.file == "timeline.xlsx" and f.value == "not a date" for f in read.findings)
    assert read.tables == fresh.tables
