"""`make bench` itself: its districts are what it says they are, and a small run prints every table
with its rows. Correctness only: timings live in the bench's output, never in a test."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

BENCH = ROOT / "tools" / "bench.py"
NUMBER = r"[\d.]+"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench", module)         # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def run_bench(*args: str) -> str:
    run = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_the_headline_districts_plans_all_differ_in_content_and_shape():
    bench = load_bench()
    packets = bench.distinct_packets(40)
    plans = [p.plan for p in packets]
    assert len({repr(plan) for plan in plans}) == 40
    strategies = [len(plan.strategies) for plan in plans]
    assert len(set(strategies)) >= 10 and min(strategies) <= 9 and max(strategies) >= 30
    assert sum(n >= 30 for n in strategies) == 4                 # every tenth school has a long plan
    assert len({bench.activity_count(plan) for plan in plans}) >= 15
    assert len({len(plan.goals) for plan in plans}) >= 3
    assert max(bench.longest_text(plan) for plan in plans) >= 1500
    # Activities, meetings and review dates are each school's own, not shifted copies of one plan.
    firsts = [plan.strategies[0].activities[0] for plan in plans]
    assert len({(a.activity, a.start, a.end) for a in firsts}) == 40
    assert len({len(p.meetings) for p in packets}) >= 5
    assert len({p.review[0].due for p in packets}) >= 10
    assert len({p.school.name for p in packets}) == 40


def test_the_schools_timed_on_their_own_have_the_districts_mix_of_plans():
    bench = load_bench()
    for n, count in ((5000, 300), (1000, 300), (100, 20), (12, 20)):
        sample = bench.spread(n, count)
        assert len(set(sample)) == len(sample) == min(count, n) and max(sample) < n
        assert sum(i % 10 == 3 for i in sample) == len(sample) // 10      # the long plans' share, no more
    assert max(bench.spread(5000, 300)) > 4000                             # over the whole district


def test_the_headline_districts_are_the_same_every_run_and_nest_by_size():
    bench = load_bench()
    assert repr(bench.distinct_packets(12)) == repr(bench.distinct_packets(30)[:12])
    assert repr(bench.distinct_packets(5, seed=1)) != repr(bench.distinct_packets(5, seed=2))


def test_the_scaling_districts_have_the_people_and_activities_asked_for():
    bench = load_bench()
    plain, grown = bench.distinct_packet(3, "A"), bench.distinct_packet(3, "A", people=600, activities=57)
    assert len(grown.people) == len(plain.people) + 600
    assert len({person.name for person in grown.people}) == len(grown.people)
    assert len({person.email for person in grown.people}) == len(grown.people)
    assert bench.activity_count(grown.plan) == 57
    assert [s.strategy_id for s in grown.plan.strategies] == [s.strategy_id for s in plain.plan.strategies]


@pytest.mark.slow
def test_a_small_bench_run_prints_every_table_with_its_rows():
    # The bench asserts, for each district, that every school is built cold, none warm, and only the
    # edited school after one timeline row changes; a failed assertion exits non-zero.
    out = run_bench("--sizes", "5", "8", "--repeated", "5", "--baseline", "2", "--phase-sample", "3",
                    "--people", "60", "120", "--people-schools", "3", "--activities", "12", "24",
                    "--activity-schools", "2", "--pdf", "0")
    figures = (rf"\| {NUMBER} \| {NUMBER} \| {NUMBER} \| {NUMBER}x \| {NUMBER} \| {NUMBER} \| \d+ / \d+ "
               rf"\| {NUMBER} / {NUMBER} \|$")
    for label in ("5", "8", "5, repeated"):
        assert re.search(rf"^\| {label} {figures}", out, re.M), (label, out)
    headline = out.split("## Every plan different")[1].split("## The sample's nine plans")[0]
    assert re.findall(r"^\| (\d+) \|", headline, re.M) == ["5", "8"]
    # The districts as the pipeline read them from the workbooks: every plan different.
    assert re.search(r"^- 8 schools: 8 different plans of 8; \d+-\d+ strategies", out, re.M), out
    for label in ("5", "8", "5, repeated"):
        assert re.search(rf"^\| {label} \| 2 \| \d+ \| {NUMBER} \| {NUMBER}x \|$", out, re.M), (label, out)

    phases = out.split("## Where the time goes: 8 schools")[1].split("##")[0]
    names = re.findall(r"^\| ([^|]+?) \| (main|workers) \| [\d.]+ \| [\d.]+ \|$", phases, re.M)
    assert [name for name, _ in names] == [
        "read the workbooks", "normalize", "validate", "model", "fingerprints", "readiness checks", "contexts",
        "render schedule.docx", "render schedule.xlsx", "render isbe_grid.docx", "render isbe_grid.xlsx",
        "render plan.docx", "render review.docx", "calendar (.ics)", "manifest.json", "write the files",
        "put the packets on disk (syncfs)", "readiness.xlsx", "district view (district.xlsx, .ics, index.html)",
        "**main process, serial**", "**each school, in the workers**"]
    assert "timed on 3 schools spread over the district" in phases

    scaling = out.split("## Linear in what a school can have")[1].split("##")[0]
    units = re.findall(r"^\| ([^|]+?) \| ([^|]+?) \| [\d.]+ \| [\d.]+ \|", scaling, re.M)
    assert units == [("schools (the cold builds above)", "5"), ("schools (the cold builds above)", "8"),
                     ("People rows (3 schools)", "62"), ("People rows (3 schools)", "122"),
                     ("activities (2 plans)", "12 a plan"), ("activities (2 plans)", "24 a plan")], scaling

    targets = out.split("## Issue 19's targets")[1]
    assert "not run (--sizes has no 5000)" in targets
    for target in ("a packet <= 0.5x one straightforward docxtpl document (8 schools)", "nothing changed < 1 s",
                   "peak memory of the main process flat in N", "peak memory of the largest packet worker flat in N"):
        assert re.search(rf"^\| {re.escape(target)}.* \| (met|NOT met) \|$", targets, re.M), (target, targets)


@pytest.mark.slow
@pytest.mark.office
def test_the_bench_times_pdfs_and_counts_the_libreoffice_processes():
    out = run_bench("--sizes", "--repeated", "--people", "--activities", "--pdf", "1")
    assert re.search(rf"^\| 1 \| 5 \| {NUMBER} \| {NUMBER} \| {NUMBER} \({NUMBER}, {NUMBER}\) "
                     rf"\| [1-9]\d* \([1-9]\d*\) \| {NUMBER} \|$", out, re.M), out
    assert re.search(r"^\| --pdf <= 0.2 s a document \(1 school\) \| [\d.]+ s \(CPU [\d.]+ s a document a core\) "
                     r"\| (met|NOT met) \|$", out, re.M), out
    assert re.search(r"^\| LibreOffice: one long-lived process per core .* \| (met|NOT met) \|$", out, re.M), out
    assert "## Every plan different" not in out and "## Where the time goes" not in out


HELD_MB = 300          # more than any packet worker or fork server the test session may have started


def _hold_memory(seconds: float) -> int:
    import time
    held = bytearray(HELD_MB * 1024 * 1024)     # touched, so it is resident
    time.sleep(seconds)
    return len(held)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc")
def test_the_bench_counts_a_spawned_reader_apart_from_the_packet_workers():
    """The process reading the smaller workbooks holds a share of the district's rows: its memory is
    reported beside the main process's, not as a packet worker's."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    bench = load_bench()
    peaks = bench.WorkerPeaks()
    peaks.start()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as reader:
        assert reader.submit(_hold_memory, 1.0).result() > 0
    peaks.stop()
    assert peaks.readers and peaks.reader_mb() > HELD_MB
    assert peaks.peak_kb / 1024 < HELD_MB       # not counted as a packet worker


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc")
def test_the_bench_finds_the_same_descendants_by_the_kernels_child_lists_as_by_every_process_parent():
    """The sampler walks the kernel's lists of children (a process started by a thread is on that thread's
    list); where they are missing it reads every process's parent, and both find the whole tree. Compared on
    the processes this test starts and theirs: others of the test run may start or end between two looks."""
    import threading
    bench = load_bench()
    started = []
    in_thread = threading.Thread(target=lambda: started.append(subprocess.Popen(["sleep", "5"])))
    in_thread.start()
    in_thread.join()
    started.append(subprocess.Popen(["sh", "-c", "sleep 5 & sleep 5; wait"]))     # two grandchildren too
    ours = {p.pid for p in started}

    def parent(pid: int) -> int | None:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        return int(next(line for line in status.splitlines() if line.startswith("PPid:")).split()[1])

    def of_ours(found: set[int]) -> set[int]:
        return {pid for pid in found if pid in ours or parent(pid) in ours}

    try:
        deadline = time.monotonic() + 5
        while len(of_ours(bench._descendants_by_parent(os.getpid()))) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        by_parent = of_ours(bench._descendants_by_parent(os.getpid()))
        assert ours <= by_parent and len(by_parent) == 4
        assert of_ours(bench._descendants(os.getpid())) == by_parent
    finally:
        for process in started:
            process.kill()
            process.wait()
