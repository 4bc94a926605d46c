"""Benchmark: build synthetic districts of N schools and print the figures of docs/performance.md.

    python tools/bench.py [--sizes 100 1000 5000] [--distinct 1000] [--jobs N] [--baseline 20] [--long N]

Each district repeats the sample district's content (people, timeline, goals of its nine schools)
under real school names from the California directory when ../shared/data has it (fictional names
otherwise). For each N it builds cold (empty output folder), warm (nothing changed) and after one
school's timeline row is edited (exactly that school must be rebuilt), and prints time per packet,
documents per second and peak memory. Those districts repeat nine plans; one more district
(--distinct, 1,000 schools) names every school's activities for it, so no two plans are the same, as
in a real district. The baseline is the straightforward path on the same inputs, measured in the same
run: a fresh DocxTemplate per Word document, openpyxl per workbook. (The plan's timeline is a Word
table filled from the context, so there is no chart to draw or cache.) --long N (not run by default)
also builds N schools of the long-plan district (tests/long_district.py: 30-40 strategies,
1,500-character texts), cold, as real plans are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.output import atomic, naming
from generator.pipeline import build, load_district
from generator.render import FORMS, RENDERERS, packet_contexts, render_packet
from generator.render.docx import render_docx
from generator.render.template_data import SHIPPED
from generator.settings import load_settings

SAMPLE = ROOT / "inputs"
DIRECTORY = ROOT.parent / "shared" / "data" / "ca_public_schools_2018-06.xlsx"
AS_OF = dt.date(2026, 11, 23)


def real_names(n: int) -> list[str]:
    """Return n school names from the California directory (active schools), or made-up ones."""
    names: list[str] = []
    if DIRECTORY.is_file():
        ws = openpyxl.load_workbook(DIRECTORY, read_only=True).active
        rows = ws.iter_rows(values_only=True)
        head = next(rows)
        status, school = head.index("StatusType"), head.index("School")
        names = [r[school] for r in rows if r[status] == "Active" and r[school]]
    while len(names) < n:
        names.append(f"Synthetic School {len(names) + 1}")
    return names[:n]


EDIT_NOTE = "Moved after the board meeting"


def make_district(n: int, folder: Path, books: tuple[str, ...] = ("roster", "timeline", "goals"),
                  edited: str | None = None, distinct: bool = False) -> None:
    """Write a district of n schools: the sample's nine schools' rows, repeated under new ids and names.
    With `edited`, that school's first task has a note, as if a coordinator had just changed it. With
    `distinct`, each school's activities are named for it, so no two schools' plans are the same."""
    if books == ("roster", "timeline", "goals"):
        shutil.copytree(SAMPLE, folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = real_names(n)
    sample_ids = [r[0] for r in openpyxl.load_workbook(SAMPLE / "roster.xlsx")["Schools"].iter_rows(
        min_row=2, max_col=1, values_only=True) if r[0] is not None]
    for book in books:
        source = openpyxl.load_workbook(SAMPLE / f"{book}.xlsx")
        target = openpyxl.Workbook(write_only=True)
        for ws in source.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            head, body = rows[0], [r for r in rows[1:] if any(v is not None for v in r)]
            out = target.create_sheet(ws.title)
            out.append(head)
            if "School ID" not in head:
                for r in body:
                    out.append(r)
                continue
            col = head.index("School ID")
            by_school: dict = {}
            for r in body:
                by_school.setdefault(r[col], []).append(r)
            for r in by_school.get(None, []):
                out.append(r)
            for i in range(n):
                sid = f"{i + 1:05d}"
                for k, r in enumerate(by_school.get(sample_ids[i % len(sample_ids)], [])):
                    row = list(r)
                    row[col] = sid
                    if ws.title == "Schools":
                        row[head.index("School Name")] = names[i]
                    if ws.title == "Tasks" and sid == edited and k == 0:
                        row[head.index("Notes")] = EDIT_NOTE
                    if ws.title == "Activities" and distinct:
                        row[head.index("Activity")] = f"{row[head.index('Activity')]} ({sid})"
                    out.append(row)
        target.save(folder / f"{book}.xlsx")


def peak_mb() -> float:
    """Return the peak resident memory of this process, in MB (Linux counts KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class WorkerPeaks(threading.Thread):
    """Samples, while a build runs, the peak resident memory (VmHWM) of every process descended from
    this one: the pool's workers are children of the fork server, so this process never waits for
    them, and getrusage's figure for children would also count a fork server's copy of this process
    from before it started Python afresh. Linux only (/proc); elsewhere the peak stays 0."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_kb, self.done = 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.sample()

    def sample(self) -> None:
        family, processes = {os.getpid()}, {}
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
                processes[int(status.parent.name)] = (int(fields["PPid"]), int(fields.get("VmHWM", "0 kB").split()[0]))
            except (OSError, KeyError, ValueError):
                continue            # a process that ended while being read
        while True:                 # grow the family by children of its members until none is added
            children = {pid for pid, (ppid, _) in processes.items() if ppid in family} - family
            if not children:
                break
            family |= children
        self.peak_kb = max([self.peak_kb] + [processes[pid][1] for pid in family - {os.getpid()}])

    def stop(self) -> float:
        self.sample()
        self.done.set()
        return self.peak_kb / 1024


def timed_build(folder: Path, output: Path, jobs: int) -> tuple[float, list[str], tuple[float, float]]:
    """Return the seconds one build takes, the schools it built (not skipped), and the peak memory in MB
    of the building process and of its largest pool worker."""
    settings = load_settings(folder, output, AS_OF, jobs=jobs)
    workers = WorkerPeaks()
    workers.start()
    started = time.perf_counter()
    report = build(settings)
    seconds = time.perf_counter() - started
    assert not report.failed, report.failed[0].error
    return seconds, [r.school_id for r in report.results if not r.skipped], (peak_mb(), workers.stop())


def in_own_process(function, *args):
    """Return function(*args) run in a new process, so its peak memory is its own, not the bench's."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as one:
        return one.submit(function, *args).result()


def straightforward_packet(packet, settings) -> None:
    """One packet the plain way: DocxTemplate per Word document, openpyxl per workbook."""
    contexts = packet_contexts(packet)
    files = {}
    for form in FORMS:
        render = render_docx if form.suffix == ".docx" else RENDERERS[form.suffix]
        files[naming.document_name(settings, packet.school, form.key, form.suffix)] = \
            render(SHIPPED.path(form.template), contexts[form.key])
    atomic.write_files(naming.packet_folder(settings, packet.school), files)


def prepared_packet(packet, settings) -> None:
    documents = render_packet(packet)
    files = {naming.document_name(settings, packet.school, f.key, f.suffix): documents[f.key] for f in FORMS}
    atomic.write_files(naming.packet_folder(settings, packet.school), files)


def ratio(folder: Path, count: int) -> tuple[float, float]:
    """Return seconds per packet in one process on the same packets: the straightforward path and the
    prepared path."""
    settings = load_settings(folder, folder.parent / "ratio-out", AS_OF)
    district, _ = load_district(settings)
    packets = district.packets[:count]
    prepared_packet(packets[0], settings)                     # warm imports and prepared templates

    def timed(make):
        started = time.perf_counter()
        for p in packets:
            make(p, settings)
        return (time.perf_counter() - started) / len(packets)

    return timed(straightforward_packet), timed(prepared_packet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--baseline", type=int, default=20, help="packets timed for the straightforward ratio")
    parser.add_argument("--distinct", type=int, default=1000,
                        help="schools in a district whose plans all differ, built cold once (0: none)")
    parser.add_argument("--long", type=int, default=0,
                        help="schools of the long-plan district (tests/long_district.py), built cold once (0: none)")
    args = parser.parse_args()
    documents = len(FORMS)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, jobs {args.jobs}; "
          f"{documents} documents a packet")
    print("| schools | cold s | ms/packet | documents/s | warm (no change) s | one school edited s "
          "| peak MB: main / worker |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            folder = Path(tmp) / f"district-{n}"
            make_district(n, folder)
            output = Path(tmp) / f"out-{n}"
            cold, built, peak = in_own_process(timed_build, folder, output, args.jobs)
            assert len(built) == n
            warm, built, _ = in_own_process(timed_build, folder, output, args.jobs)
            assert built == []
            edited = f"{n // 2:05d}"
            make_district(n, Path(tmp) / f"edit-{n}", ("timeline",), edited)
            os.replace(Path(tmp) / f"edit-{n}" / "timeline.xlsx", folder / "timeline.xlsx")
            one, built, _ = in_own_process(timed_build, folder, output, args.jobs)
            assert built == [edited], built
            print(f"| {n} | {cold:.1f} | {cold / n * 1000:.1f} | {n * documents / cold:.0f} | {warm:.2f} | "
                  f"{one:.2f} | {peak[0]:.0f} / {peak[1]:.0f} |", flush=True)
            shutil.rmtree(Path(tmp) / f"out-{n}")
        if args.distinct:
            # The districts above repeat the sample's nine plans; in a real district every plan differs.
            n = args.distinct
            folder = Path(tmp) / f"distinct-{n}"
            make_district(n, folder, distinct=True)
            cold, built, peak = in_own_process(timed_build, folder, Path(tmp) / f"distinct-out-{n}", args.jobs)
            assert len(built) == n
            print(f"| {n}, every plan different | {cold:.1f} | {cold / n * 1000:.1f} | {n * documents / cold:.0f} | "
                  f"| | {peak[0]:.0f} / {peak[1]:.0f} |", flush=True)
        if args.long:
            # Real plans run to 39 strategies and 1,800-character texts; the sample's are short.
            n = args.long
            folder = Path(tmp) / f"long-{n}"
            sys.path.insert(0, str(ROOT / "tests"))
            from long_district import write_long_district
            write_long_district(folder, count=n)
            cold, built, peak = in_own_process(timed_build, folder, Path(tmp) / f"long-out-{n}", args.jobs)
            assert len(built) == n
            print(f"| {n}, long plans | {cold:.1f} | {cold / n * 1000:.1f} | {n * documents / cold:.0f} | "
                  f"| | {peak[0]:.0f} / {peak[1]:.0f} |", flush=True)
        folder = Path(tmp) / f"district-{args.sizes[0]}"
        count = min(args.baseline, args.sizes[0])
        plain, fast = ratio(folder, count)
        print(f"\none process, the same {count} packets:")
        print(f"- straightforward (DocxTemplate per document, openpyxl): {plain * 1000:.0f} ms/packet")
        print(f"- prepared templates: {fast * 1000:.0f} ms/packet ({plain / fast:.1f}x)")


if __name__ == "__main__":
    main()
