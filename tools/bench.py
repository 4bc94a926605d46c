"""Benchmark: build synthetic districts and print the figures of docs/performance.md.

    python tools/bench.py [--sizes 100 1000 5000] [--repeated 1000] [--jobs N] [--baseline 20]
                          [--phases N] [--phase-sample 300] [--people 5000 20000 50000]
                          [--activities 50 200 500] [--pdf 8 24] [--seed 19]

The headline districts have plans that all differ, as in a real district: each school is drawn from
its own seeded random generator (the same school every run, and the same first schools in every
size), with the long-plan builders of tests/long_district.py. Every tenth school has a long plan
(30-40 strategies, texts of 1,000-1,800 characters), one in five a middling one (10-20 strategies),
the rest a short one (3-9 strategies); each strategy has 1-4 activities with their own dates and
names, each school its own meetings, review dates and team. For each size the district is built
cold (empty output folder), warm (nothing changed) and after one school's timeline row is edited
(exactly that school must be rebuilt), each in a process of its own, with the peak memory of the
main process and of the largest pool worker. Beside each, the straightforward path is measured in
the same run on packets of the same district: a fresh DocxTemplate per Word document, openpyxl
per workbook.

Then: the same for districts that repeat the sample district's nine plans (--repeated); where the
time goes (--phases: the pipeline's public functions called phase by phase in one process, the
per-school ones on --phase-sample schools); how time grows with People rows and with activities
in a plan (--people, --activities), and with schools (the headline sizes); and districts of --pdf
schools built with their combined PDFs: the seconds a document, the CPU seconds a document (LibreOffice's
and Python's, which tell what an idle machine would take when another job shares this one), and the
LibreOffice processes started (their launchers seen: each restarts soffice.bin once after making its
profile) against the most running at once. The targets are judged on the largest
--pdf district, where LibreOffice's start is shared by as many documents as in a real district.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import multiprocessing
import os
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))        # the districts' builders: factories.py, long_district.py

import long_district as long  # its plan, activity, team and schedule builders

from generator.collector import collector_paused
from generator.findings import InputError
from generator.inputs.normalize import normalize_sheet
from generator.inputs.read import load_inputs
from generator.inputs.schema import SHEETS, WORKBOOKS
from generator.inputs.validate import validate_tables
from generator.model.build import build_district
from generator.model.readiness import check_packet, is_ready
from generator.model.records import Meeting, Packet, Plan, ReviewEvent
from generator.output import atomic, naming, packet_manifest
from generator.output.batch import PacketResult
from generator.output.build_record import packet_fingerprint, templates_digest
from generator.output.combine import pdf_forms
from generator.output.kept_view import school_views
from generator.pipeline import build, load_district, write_district_view, write_readiness_report
from generator.render import FORMS, RENDERERS, packet_contexts, render_document, render_packet
from generator.render.calendars import CALENDAR_KEY, school_calendar
from generator.render.template_data import Templates
from generator.settings import load_settings

from factories import AS_OF, DISTRICT, YEAR, school, sheet_rows

SAMPLE = ROOT / "inputs"
DIRECTORY = ROOT.parent / "shared" / "data" / "ca_public_schools_2018-06.xlsx"
SEED = 19
EDIT_NOTE = "Moved after the board meeting"
WORD_FORMS = tuple(form for form in FORMS if form.suffix == ".docx")


# --- districts ---------------------------------------------------------------------------------------

def real_names(n: int) -> list[str]:
    """Return n school names from the California directory (active schools), or made-up ones."""
    names: list[str] = []
    if DIRECTORY.is_file():
        ws = openpyxl.load_workbook(DIRECTORY, read_only=True).active
        rows = ws.iter_rows(values_only=True)
        head = next(rows)
        status, school_name = head.index("StatusType"), head.index("School")
        names = [r[school_name] for r in rows if r[status] == "Active" and r[school_name]]
    while len(names) < n:
        names.append(f"Synthetic School {len(names) + 1}")
    return names[:n]


FIRST_NAMES = ("Ana", "Bilal", "Chen", "Dana", "Emeka", "Fatima", "Gus", "Hana", "Ines", "Jamal", "Keiko", "Luis",
               "Mira", "Nikhil", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tomás", "Uma", "Vera", "Wen", "Yusuf")
LAST_NAMES = ("Abara", "Brandt", "Castillo", "Dimitrov", "Eze", "Fischer", "García", "Haddad", "Ivanova", "Jensen",
              "Kowalski", "Lindqvist", "Mendoza", "Nakamura", "Okafor", "Petrov", "Quiroga", "Rossi", "Singh",
              "Tanaka", "Ueda", "Vasquez", "Wójcik", "Zhou")


def extra_name(k: int) -> str:
    """Return the k-th of a school's added team members' names, each different."""
    first, last = FIRST_NAMES[k % len(FIRST_NAMES)], LAST_NAMES[k // len(FIRST_NAMES) % len(LAST_NAMES)]
    rounds = k // (len(FIRST_NAMES) * len(LAST_NAMES))        # then with a middle initial: A., B., ...
    return f"{first} {chr(ord('A') + rounds - 1)}. {last}" if rounds else f"{first} {last}"


def distinct_packet(index: int, name: str, seed: int = SEED, people: int = 0, activities: int = 0) -> Packet:
    """Return school number `index` of a district whose plans all differ: drawn from a generator of its
    own, so it is the same school in every run and in every size of district. `people` adds that many
    team members; `activities` gives the plan exactly that many activities."""
    rng = random.Random(f"{seed}:{index}")
    sid = f"{index + 1:05d}"
    if index % 10 == 3:         # a long plan, as real published plans run (tests/long_district.py)
        strategies, goals, long_share = rng.randint(30, 40), rng.randint(2, 5), rng.uniform(0.25, 0.45)
    elif index % 4 == 1:
        strategies, goals, long_share = rng.randint(10, 20), rng.randint(2, 4), rng.uniform(0.1, 0.3)
    else:
        strategies, goals, long_share = rng.randint(3, 9), rng.randint(1, 3), rng.uniform(0.02, 0.15)
    sparse = rng.random() < 0.04      # a school that has not written its goals, monitoring or supports yet
    principal, *team = rng.sample(long.STAFF, 5)
    members = [long._member(principal, "Principal", sid, "Principal"),
               long._member(team[0], "Leadership Team Chair", sid, "Instructional Coach"),
               *[long._member(who, "Leadership Team Member", sid, "Teacher") for who in team[1:]],
               *[long._member(extra_name(k), "Leadership Team Member", sid, "Teacher") for k in range(people)],
               long._member("Dr. Mariana Ibáñez-Castillo", "Superintendent", None, "Superintendent"),
               long._member("Renée Beaulieu", "School Improvement Coordinator", None, "Coordinator")]
    owners = [principal, *team]
    plan = long._plan(rng, strategies=strategies, goals=0 if sparse else goals, long_share=long_share,
                      owners=owners, monitoring=not sparse, supports=not sparse)
    if activities:
        plan = _with_activities(rng, plan, activities, owners, long_share)
    designation = rng.choice(["Comprehensive", "Targeted", "Intensive"])
    the_school = school(sid, name, designation=designation, support_level=rng.randint(1, 3),
                        essa_status={"Comprehensive": "CSI", "Targeted": "TSI", "Intensive": "CSI"}[designation],
                        grades=rng.choice(["K-5", "K-8", "6-8", "9-12", "PK-2"]),
                        address=f"{rng.randint(100, 9999)} {rng.choice(LAST_NAMES)} Avenue, Springfield, IL 62701",
                        board_approval=dt.date(2027, 6, rng.randint(8, 22)))
    first, every = dt.date(2026, 9, rng.randint(1, 28)), dt.timedelta(weeks=rng.randint(3, 5))
    meetings = [Meeting(rng.choice(["Building Leadership Team", "Data Team", "Family Advisory Council"]),
                        first + every * i, rng.choice(["3:30 PM", "7:45 AM", "4:00 PM"]),
                        rng.choice(["Library", "Room 104", "Cafeteria"]), school_id=sid)
                for i in range(rng.randint(0, 10))]
    draft = dt.date(2027, 4, 23) + dt.timedelta(days=rng.randint(-14, 7))
    review = [ReviewEvent("first-draft", "First draft due", draft, "Principal"),
              ReviewEvent("feedback", "Feedback round 1", draft + dt.timedelta(days=14), "Renée Beaulieu"),
              ReviewEvent("board-approval", "Board approval", the_school.board_approval or draft, "Board of Education")]
    return Packet(the_school, DISTRICT, YEAR, AS_OF, tuple(members), tuple(long._tasks(rng, sid, principal)),
                  tuple(meetings), plan, tuple(review))


def _with_activities(rng: random.Random, plan: Plan, count: int, owners: Sequence[str], long_share: float) -> Plan:
    """Return the plan with exactly `count` activities, shared out over its strategies."""
    strategies = []
    for i, s in enumerate(plan.strategies):
        share = count // len(plan.strategies) + (i < count % len(plan.strategies))
        found: list = []
        while len(found) < share:
            found += long._activities(rng, s.strategy_id, owners, long_share)
        strategies.append(dataclasses.replace(s, activities=tuple(found[:share])))
    return dataclasses.replace(plan, strategies=tuple(strategies))


def distinct_packets(n: int, seed: int = SEED, people: int = 0, activities: int = 0) -> list[Packet]:
    """Return the n schools of a district whose plans all differ."""
    return [distinct_packet(i, name, seed, people, activities) for i, name in enumerate(real_names(n))]


def edited(packets: list[Packet], school_id: str) -> list[Packet]:
    """Return the packets with that school's first task noted, as if a coordinator had just changed it."""
    def edit(p: Packet) -> Packet:
        if p.school.school_id != school_id:
            return p
        return dataclasses.replace(p, tasks=(dataclasses.replace(p.tasks[0], notes=EDIT_NOTE), *p.tasks[1:]))
    return [edit(p) for p in packets]


def write_district(folder: Path, packets: Iterable[Packet], workbooks: Sequence[str] = WORKBOOKS) -> None:
    """Write the input workbooks (and settings.toml) of a district of these packets, streamed school by
    school: tests/factories.write_inputs's rows, without its search for repeated rows, which grows with
    the square of the district (only the district-wide rows every packet carries repeat)."""
    folder.mkdir(parents=True, exist_ok=True)
    books = {name: openpyxl.Workbook(write_only=True) for name in workbooks}
    sheets = {spec.name: (spec, books[spec.workbook].create_sheet(spec.name)) for spec in SHEETS
              if spec.workbook in books}
    for spec, ws in sheets.values():
        ws.append([c.name for c in spec.columns])
    shared: set[tuple] = set()
    for p in packets:
        for name, rows in sheet_rows([p]).items():
            if name not in sheets:
                continue
            spec, ws = sheets[name]
            for row in rows:
                if row.get("school_id") is None:
                    key = (name, *sorted(row.items(), key=lambda item: item[0]))
                    if key in shared:
                        continue
                    shared.add(key)
                ws.append([row.get(c.key) for c in spec.columns])
    for name, wb in books.items():
        wb.save(folder / f"{name}.xlsx")
    (folder / "settings.toml").write_text(f'[district]\nname = "{DISTRICT}"\nplanning_year = "{YEAR.label}"\n',
                                          encoding="utf-8")


def timeline_workbook() -> str:
    return next(spec.workbook for spec in SHEETS if spec.name == "Tasks")


def make_repeated_district(n: int, folder: Path, books: tuple[str, ...] = ("roster", "timeline", "goals"),
                           edited: str | None = None) -> None:
    """Write a district of n schools: the sample's nine schools' rows, repeated under new ids and names.
    With `edited`, that school's first task has a note, as if a coordinator had just changed it."""
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
                    out.append(row)
        target.save(folder / f"{book}.xlsx")


# --- measuring ---------------------------------------------------------------------------------------

MIX = 20        # distinct_packet's shapes repeat every 20 schools: 2 long plans, 4 middling, 14 short


def spread(n: int, count: int) -> list[int]:
    """Return `count` (or fewer: whole blocks) indexes of n schools with the district's mix of plans:
    blocks of MIX consecutive schools spread over the district (an even stride would meet the shapes'
    pattern and pick, say, every long plan)."""
    if count >= n:
        return list(range(n))
    if count <= MIX:
        return list(range(count))
    blocks = count // MIX
    stride = n // MIX // blocks
    return [(b * stride) * MIX + k for b in range(blocks) for k in range(MIX)]


def _spawned(pid: int) -> bool:
    """Return True for a process multiprocessing spawned (a fresh interpreter), as the reader is."""
    try:
        return b"multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def peak_mb() -> float:
    """Return the peak resident memory of this process, in MB: VmHWM from /proc where there is one.
    getrusage's ru_maxrss outlives exec on Linux, so a process the bench started would report at
    least the bench's own size when it was started (a bench holding 5,000 packets: 330 MB)."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024
    except (OSError, StopIteration, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 1 << 20)


def _descendants(root: int) -> set[int]:
    """Return the processes descended from root, by the kernel's list of each task's children: reading
    every process's status to find them (the way where that list is missing) held this process's GIL
    for about 1.3 s of a 5,000-school build, time the build itself was then measured with."""
    if not Path(f"/proc/{root}/task/{root}/children").exists():
        return _descendants_by_parent(root)
    found: set[int] = set()
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue                # ended meanwhile
        for task in tasks:
            try:
                children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            except OSError:
                continue
            new = {int(child) for child in children} - found
            found |= new
            todo.extend(new)
    return found


def _descendants_by_parent(root: int) -> set[int]:
    parents = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            line = next(line for line in status.read_text().splitlines() if line.startswith("PPid:"))
            parents[int(status.parent.name)] = int(line.split(":", 1)[1])
        except (OSError, StopIteration, ValueError):
            continue
    family = {root}
    while True:                 # grow the family by children of its members until none is added
        children = {pid for pid, ppid in parents.items() if ppid in family} - family
        if not children:
            break
        family |= children
    return family - {root}


class WorkerPeaks(threading.Thread):
    """Samples, while a build runs, the peak resident memory (VmHWM) of every process descended from
    this one, and which of them are LibreOffice or a helper beside the main process (spawned, where the
    packet workers are forked from a fork server: the process reading a first build's goals.xlsx (or its
    smaller workbooks), and the one writing readiness.xlsx; each holds a share of the district's rows or
    results, so it is counted with the main process, not with the packet workers: what the flat-memory
    target asks of a worker is that building packets holds only its own schools). The pool's workers are
    children of the fork server,
    so this process never waits for them, and getrusage's RUSAGE_CHILDREN would also count a fork
    server's copy of this process from before it started Python afresh. Linux only (/proc);
    elsewhere the peak stays 0."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_kb, self.done = 0, threading.Event()
        self.reader_kb = 0                      # the largest helper's peak
        self.readers: set[int] = set()          # processes seen that are readers (spawned)
        self.offices: set[int] = set()          # LibreOffice processes seen
        self.launchers: set[int] = set()        # their parents: one a LibreOffice started (the launcher,
                                                # oosplash, starts soffice.bin again after making a profile)
        self.most_offices = 0                   # the most LibreOffice processes running at once
        self.ticks: dict[int, int] = {}         # each descendant's CPU time as last seen, in clock ticks
        self.office_ticks: dict[int, int] = {}  # the same, of the LibreOffice processes
        self.own_cpu = 0.0                      # this thread's CPU seconds, not the build's

    def run(self) -> None:
        while not self.done.wait(0.25):
            self.sample()
        self.own_cpu = time.thread_time()

    def cpu_seconds(self) -> float:
        """The CPU time of the processes sampled (LibreOffice's excepted), as last seen: a process's
        last quarter of a second before it ended is missed."""
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK")

    def office_cpu_seconds(self) -> float:
        """The CPU time of the LibreOffice processes, as last seen."""
        return sum(self.office_ticks.values()) / os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        processes = {}
        for pid in _descendants(os.getpid()):
            try:
                fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                              if ":" in line)
                processes[pid] = (int(fields["PPid"]), int(fields.get("VmHWM", "0 kB").split()[0]),
                                  fields["Name"].strip())
            except (OSError, KeyError, ValueError):
                continue            # a process that ended while being read
        family = set(processes)
        offices = {pid for pid in family if processes[pid][2] == "soffice.bin"}
        self.offices |= offices
        self.launchers |= {processes[pid][0] for pid in offices}
        self.most_offices = max(self.most_offices, len(offices))
        self.readers |= {pid for pid in family - offices if _spawned(pid)}
        workers = [pid for pid in family if pid not in offices and pid not in self.readers]
        self.peak_kb = max([self.peak_kb, *(processes[pid][1] for pid in workers)])
        self.reader_kb = max([self.reader_kb, *(processes[pid][1] for pid in family & self.readers)])
        for pid in family:
            ticks = self.office_ticks if pid in offices else self.ticks
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks[pid] = max(ticks.get(pid, 0), int(fields[11]) + int(fields[12]))  # utime, stime
            except (OSError, IndexError, ValueError):
                continue

    def reader_mb(self) -> float:
        return self.reader_kb / 1024

    def stop(self) -> float:
        self.sample()
        self.done.set()
        self.join()
        return self.peak_kb / 1024


@dataclasses.dataclass(frozen=True)
class Build:
    seconds: float
    built: list[str]            # the schools built, not skipped
    main_mb: float
    worker_mb: float
    offices: int = 0            # LibreOffice processes (soffice.bin) seen
    most_offices: int = 0
    main_cpu: float = 0.0       # CPU seconds of the building process
    worker_cpu: float = 0.0     # CPU seconds of its pool's workers (and fork server), together
    office_cpu: float = 0.0     # CPU seconds of the LibreOffice processes
    launches: int = 0           # LibreOffice processes started (their launchers seen)
    reader_mb: float = 0.0      # the largest helper beside the main process (reading, readiness.xlsx)

    def cpu(self) -> float:
        return self.main_cpu + self.worker_cpu + self.office_cpu


def timed_build(folder: Path, output: Path, jobs: int, pdf: bool = False) -> Build:
    """Build once and return how long it took, which schools it built, and the peak memory in MB of the
    building process and of its largest pool worker."""
    settings = load_settings(folder, output, AS_OF, jobs=jobs, pdf=pdf)
    workers = WorkerPeaks()
    workers.start()
    started, cpu = time.perf_counter(), time.process_time()
    report = build(settings)
    seconds = time.perf_counter() - started
    worker_mb = workers.stop()
    main_cpu = time.process_time() - cpu - workers.own_cpu
    assert not report.failed, report.failed[0].error
    assert not report.pdf_failed, report.pdf_failed[0].pdf_error
    return Build(seconds, [r.school_id for r in report.results if not r.skipped], peak_mb(), worker_mb,
                 len(workers.offices), workers.most_offices, main_cpu, workers.cpu_seconds(),
                 workers.office_cpu_seconds(), len(workers.launchers), workers.reader_mb())


def in_own_process(function, *args):
    """Return function(*args) run in a new process, so its time and peak memory are its own."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as one:
        return one.submit(_readable_errors, function, *args).result()


def _readable_errors(function, *args):
    """Return function(*args); an input error comes back as its findings' lines (an InputError does
    not survive the trip between processes)."""
    try:
        return function(*args)
    except InputError as exc:
        raise RuntimeError("\n".join(f.line() for f in exc.findings[:10])) from None


@dataclasses.dataclass(frozen=True)
class Baseline:
    """The straightforward path and the prepared one, in one process, on the same packets of a district;
    and what the district's plans are like."""

    packets: int
    straightforward_ms: float       # a packet's six documents: DocxTemplate per Word document, openpyxl per workbook
    docxtpl_ms: float               # one Word document the straightforward way, the mean of the four forms
    prepared_ms: float              # the same packet's six documents through the prepared templates
    schools: int
    distinct_plans: int
    strategies: tuple[int, int]     # fewest and most in a plan
    activities: tuple[int, int]
    longest_text: int               # characters, the longest text of any plan


def longest_text(plan: Plan) -> int:
    texts = [t for p in plan.problems for t in (p.text, p.root_cause)]
    texts += [t for g in plan.goals for t in (g.statement, g.baseline)]
    texts += [t for s in plan.strategies for t in (s.text, *(a.activity for a in s.activities))]
    return max(map(len, texts), default=0)


def activity_count(plan: Plan) -> int:
    return sum(len(s.activities) for s in plan.strategies)


def straightforward_packet(packet: Packet, settings, templates: Templates, word: list[float]) -> None:
    """One packet the plain way: DocxTemplate per Word document, openpyxl per workbook; each Word
    document's seconds are added to `word`."""
    contexts = packet_contexts(packet, templates)
    files = {}
    for form in FORMS:
        started = time.perf_counter()
        files[naming.document_name(settings, packet.school, form.key, form.suffix)] = \
            RENDERERS[form.suffix](templates.path(form.template), contexts[form.key])
        if form.suffix == ".docx":
            word.append(time.perf_counter() - started)
    atomic.write_files(naming.packet_folder(settings, packet.school), files)


def prepared_packet(packet: Packet, settings, templates: Templates) -> None:
    documents = render_packet(packet, templates)
    files = {naming.document_name(settings, packet.school, f.key, f.suffix): documents[f.key] for f in FORMS}
    atomic.write_files(naming.packet_folder(settings, packet.school), files)


def baseline(folder: Path, count: int) -> Baseline:
    """Time `count` packets of the district (its first ones: its mix of plans), in one process, the
    straightforward way and the prepared way; and describe the district's plans as the pipeline read them."""
    output = folder.parent / f"{folder.name}-baseline"
    settings = load_settings(folder, output, AS_OF)
    templates = Templates(settings.templates)
    district, _ = load_district(settings)
    packets = district.packets
    sample = [packets[i] for i in spread(len(packets), count)]
    count = len(sample)
    prepared_packet(sample[0], settings, templates)        # imports and prepared templates, as a worker has them
    word: list[float] = []
    started = time.perf_counter()
    for p in sample:
        straightforward_packet(p, settings, templates, word)
    plain = (time.perf_counter() - started) / count
    started = time.perf_counter()
    for p in sample:
        prepared_packet(p, settings, templates)
    fast = (time.perf_counter() - started) / count
    shutil.rmtree(output, ignore_errors=True)
    strategies = [len(p.plan.strategies) for p in packets]
    activities = [activity_count(p.plan) for p in packets]
    return Baseline(count, plain * 1000, sum(word) / len(word) * 1000, fast * 1000, len(packets),
                    len({repr(p.plan) for p in packets}), (min(strategies), max(strategies)),
                    (min(activities), max(activities)), max(longest_text(p.plan) for p in packets))


@dataclasses.dataclass
class Phase:
    name: str
    where: str                  # "main": the building process, once a run; "worker": once a school
    seconds: float = 0.0
    schools: int = 0            # how many schools `seconds` covers (worker phases)


class Clock:
    """Adds up the wall time of each phase of a run."""

    def __init__(self):
        self.phases: dict[str, Phase] = {}

    @contextmanager
    def __call__(self, name: str, where: str = "main", schools: int = 0) -> Iterator[None]:
        phase = self.phases.setdefault(name, Phase(name, where))
        started = time.perf_counter()
        try:
            yield
        finally:
            phase.seconds += time.perf_counter() - started
            phase.schools += schools


@dataclasses.dataclass(frozen=True)
class Phases:
    schools: int
    sampled: int
    phases: list[Phase]
    peak_mb: float

    def main_seconds(self) -> float:
        return sum(p.seconds for p in self.phases if p.where == "main")

    def worker_ms(self) -> float:
        """A school's time in the per-school phases, in ms."""
        return sum(p.seconds / p.schools * 1000 for p in self.phases if p.where == "worker")

    def one_process_seconds(self) -> float:
        """The whole run in one process: the main phases and every school's per-school phases."""
        return self.main_seconds() + self.worker_ms() * self.schools / 1000


def phase_timings(folder: Path, output: Path, sample_count: int) -> Phases:
    """Run a build's steps one by one in this process, through the pipeline's public functions, and
    return each one's time: the main process's steps on the whole district, the per-school steps (what
    a pool worker does for each school) on `sample_count` schools spread over it."""
    settings = load_settings(folder, output, AS_OF)
    templates = Templates(settings.templates)
    clock = Clock()
    with collector_paused():        # as load_district
        with clock("read the workbooks"):
            raw, _ = load_inputs(settings.inputs)
        tables = {}
        with clock("normalize"):
            for spec in SHEETS:
                if spec.name in raw:
                    tables[spec.name], _ = normalize_sheet(raw.pop(spec.name), spec)
        with clock("validate"):
            validate_tables(tables, settings.planning_year)
        with clock("model"):
            district = build_district(tables, settings)
    del tables
    # A worker holds a few schools, this process the whole district: frozen, the district's millions of
    # objects are not walked again by every collection the per-school phases set off, as in a worker.
    gc.freeze()
    packets = district.packets
    digest = templates_digest(templates)
    with clock("fingerprints", "worker", len(packets)):      # made where each packet is built (batch.Work)
        for p in packets:
            packet_fingerprint(p, settings, digest)
    findings = {}
    with clock("readiness checks", "worker", len(packets)):
        for p in packets:
            findings[p.school.school_id] = tuple(check_packet(p))
    sample = {id(packets[i]) for i in spread(len(packets), sample_count)}
    results = []
    built_at = dt.datetime.now().replace(microsecond=0)
    for p in packets:
        sid, the_school = p.school.school_id, p.school
        found = findings[sid]
        ready = is_ready(found, settings.strict)
        names = naming.document_names(settings, the_school,
                                      [(f.key, f.suffix) for f in FORMS] + [(CALENDAR_KEY, ".ics")])
        folder_out = naming.packet_folder(settings, the_school)
        if id(p) in sample:
            with clock("contexts", "worker", 1):
                contexts = packet_contexts(p, templates)
            files = {}
            for form in FORMS:
                with clock(f"render {form.template}", "worker", 1):
                    files[names[form.key]] = render_document(templates.path(form.template), contexts[form.key])
            with clock("calendar (.ics)", "worker", 1):
                files[names[CALENDAR_KEY]] = school_calendar(p, templates=templates)
            with clock("manifest.json", "worker", 1):
                files[packet_manifest.PACKET_MANIFEST] = packet_manifest.packet_manifest(
                    the_school, settings.inputs, files, ready, found, built_at)
            with clock("write the files", "worker", 1):
                atomic.place_files(atomic.stage_files(folder_out, files, flush=not atomic.CAN_DEFER_FLUSH))
        documents = tuple(f"{folder_out.name}/{names[key]}" for key in names)
        results.append(PacketResult(sid, the_school.name, the_school.designation, str(settings.output),
                                    folder_out.name, documents, found, ready, built_at))
    with clock("put the packets on disk (syncfs)"):
        atomic.flush_all(settings.output)
    with clock("readiness.xlsx"):
        write_readiness_report(settings, results)
    with clock("district view (district.xlsx, .ics, index.html)"):
        write_district_view(settings, school_views(district.packets, Templates(settings.templates)), results)
    gc.unfreeze()
    shutil.rmtree(output, ignore_errors=True)
    return Phases(len(packets), len(sample), list(clock.phases.values()), peak_mb())


# --- the tables --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Row:
    label: str
    schools: int
    cold: Build
    warm: Build
    one: Build
    baseline: Baseline


def measure(label: str, n: int, folder: Path, output: Path, jobs: int, baseline_count: int,
            edit: Callable[[str], None]) -> Row:
    """Build a district cold, warm and after `edit` changes one school's timeline, each in a process of
    its own, and time its straightforward baseline."""
    cold = in_own_process(timed_build, folder, output, jobs)
    assert len(cold.built) == n, (len(cold.built), n)
    warm = in_own_process(timed_build, folder, output, jobs)
    assert warm.built == [], warm.built
    changed = f"{n // 2 + 1:05d}"
    edit(changed)
    one = in_own_process(timed_build, folder, output, jobs)
    assert one.built == [changed], one.built
    shutil.rmtree(output)
    base = in_own_process(baseline, folder, min(baseline_count, n))
    return Row(label, n, cold, warm, one, base)


HEAD = ("| schools | cold s | ms/packet | straightforward ms/Word document | packet ÷ Word document "
        "| warm (no change) s | one school edited s | peak MB: main / worker | cold CPU s: main / workers |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")


def row_line(row: Row) -> str:
    per_packet = row.cold.seconds / row.schools * 1000
    return (f"| {row.label} | {row.cold.seconds:.1f} | {per_packet:.1f} | {row.baseline.docxtpl_ms:.1f} | "
            f"{per_packet / row.baseline.docxtpl_ms:.2f}x | {row.warm.seconds:.2f} | {row.one.seconds:.2f} | "
            f"{row.cold.main_mb:.0f} / {row.cold.worker_mb:.0f} | "
            f"{row.cold.main_cpu:.1f} / {row.cold.worker_cpu:.1f} |")


def one_process_lines(rows: Sequence[Row]) -> list[str]:
    lines = ["| district | packets timed | straightforward ms/packet | prepared ms/packet | ratio |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for row in rows:
        b = row.baseline
        lines.append(f"| {row.label} | {b.packets} | {b.straightforward_ms:.0f} | {b.prepared_ms:.1f} | "
                     f"{b.straightforward_ms / b.prepared_ms:.1f}x |")
    return lines


def phase_lines(result: Phases, jobs: int) -> list[str]:
    n = result.schools
    lines = [f"| phase | where | s for {n} schools | ms/school |", "| --- | --- | ---: | ---: |"]
    for p in result.phases:
        if p.where == "main":
            lines.append(f"| {p.name} | main | {p.seconds:.2f} | {p.seconds / n * 1000:.2f} |")
        else:
            ms = p.seconds / p.schools * 1000
            lines.append(f"| {p.name} | workers | {ms * n / 1000:.2f} | {ms:.2f} |")
    main, per_school = result.main_seconds(), result.worker_ms()
    lines.append(f"| **main process, serial** | main | {main:.2f} | {main / n * 1000:.2f} |")
    lines.append(f"| **each school, in the workers** | workers | {per_school * n / 1000:.2f} | {per_school:.2f} |")
    lines.append(f"\nthe per-school phases timed on {result.sampled} schools spread over the district; one process "
                 f"would take {result.one_process_seconds():.1f} s, main + workers' share on {jobs} cores about "
                 f"{main + per_school * n / 1000 / jobs:.1f} s; peak memory {result.peak_mb:.0f} MB")
    return lines


@dataclasses.dataclass(frozen=True)
class Scaled:
    dimension: str
    units: int                  # how many of the dimension's things the district holds
    seconds: float
    peak_mb: float
    largest: str = ""           # the phase that took longest
    shown: str = ""             # the units as the table shows them, when not the plain count


def scale_run(folder: Path, output: Path) -> tuple[float, float, str]:
    """Return the seconds one process takes over every phase of a build, its peak memory, and the
    phase that took longest."""
    result = phase_timings(folder, output, 1 << 30)
    largest = max(result.phases, key=lambda p: p.seconds)
    return result.one_process_seconds(), result.peak_mb, largest.name


def scaling_lines(scaled: Sequence[Scaled]) -> list[str]:
    lines = ["| dimension | units | s | ms per unit | ms per added unit | largest phase | peak MB |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: |"]
    previous: Scaled | None = None
    for s in scaled:
        added = ""
        if previous is not None and previous.dimension == s.dimension and s.units > previous.units:
            added = f"{(s.seconds - previous.seconds) / (s.units - previous.units) * 1000:.3f}"
        lines.append(f"| {s.dimension} | {s.shown or s.units} | {s.seconds:.2f} | {s.seconds / s.units * 1000:.3f} "
                     f"| {added} | {s.largest} | {s.peak_mb:.0f} |")
        previous = s
    return lines


def target_lines(rows: Sequence[Row], pdf: Build | None, converted: int, jobs: int) -> list[str]:
    """Issue 19's targets, each with what this run measured."""
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"
    lines = ["| target | measured | |", "| --- | --- | --- |"]
    at = {r.schools: r for r in rows}
    big = at.get(5000)
    if big:
        lines.append(f"| 5,000 schools, every plan different, cold, < 60 s | {big.cold.seconds:.1f} s "
                     f"| {verdict(big.cold.seconds < 60)} |")
        lines.append(f"| one school edited at 5,000 < 3 s | {big.one.seconds:.2f} s | {verdict(big.one.seconds < 3)} |")
    else:
        lines.append("| 5,000 schools < 60 s; one school edited at 5,000 < 3 s | not run (--sizes has no 5000) | |")
    if rows:
        largest = max(rows, key=lambda r: r.schools)
        ratio = largest.cold.seconds / largest.schools * 1000 / largest.baseline.docxtpl_ms
        lines.append(f"| a packet <= 0.5x one straightforward docxtpl document ({largest.schools} schools) "
                     f"| {ratio:.2f}x | {verdict(ratio <= 0.5)} |")
        warm = max(r.warm.seconds for r in rows)
        lines.append(f"| nothing changed < 1 s | at most {warm:.2f} s | {verdict(warm < 1)} |")
        smallest = min(rows, key=lambda r: r.schools)
        for name, of in (("main process", lambda b: b.main_mb), ("largest packet worker", lambda b: b.worker_mb)):
            if smallest is largest or not of(smallest.cold):
                lines.append(f"| peak memory of the {name} flat in N | one size only | |")
                continue
            growth = of(largest.cold) / of(smallest.cold)
            lines.append(f"| peak memory of the {name} flat in N (within 1.25x) | {of(smallest.cold):.0f} MB at "
                         f"{smallest.schools}, {of(largest.cold):.0f} MB at {largest.schools} ({growth:.2f}x) "
                         f"| {verdict(growth <= 1.25)} |")
    if pdf:
        per, cpu = pdf.seconds / converted, pdf.cpu() / converted / jobs
        schools = converted // (len(pdf_forms()) + 1)
        lines.append(f"| --pdf <= 0.2 s a document ({schools} school{'s' * (schools != 1)}) | {per:.2f} s "
                     f"(CPU {cpu:.2f} s a document a core) | {verdict(per <= 0.2)} |")
        # A start is a launcher seen: soffice.bin is started again by its launcher once it has made its
        # new profile, so soffice.bin processes are not starts.
        ok = pdf.launches <= min(jobs, converted) and pdf.most_offices == min(jobs, converted)
        lines.append(f"| LibreOffice: one long-lived process per core ({jobs}), started once a run, never one a "
                     f"file | {pdf.launches} started for {converted} documents, at most {pdf.most_offices} "
                     f"at once | {verdict(ok)} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 5000],
                        help="schools in each district whose plans all differ (the headline)")
    parser.add_argument("--repeated", type=int, nargs="*", default=[1000],
                        help="schools in each district repeating the sample's nine plans (none: no such table)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--baseline", type=int, default=MIX,
                        help="packets of each district timed the straightforward way")
    parser.add_argument("--phases", type=int, default=None,
                        help="schools in the district timed phase by phase (default: the largest of --sizes; 0: none)")
    parser.add_argument("--phase-sample", type=int, default=300, help="schools whose per-school phases are timed")
    parser.add_argument("--people", type=int, nargs="*", default=[5000, 20000, 50000],
                        help="People rows, spread over --people-schools schools, for the scaling table")
    parser.add_argument("--people-schools", type=int, default=100)
    parser.add_argument("--activities", type=int, nargs="*", default=[50, 200, 500],
                        help="activities in each plan, of --activity-schools schools, for the scaling table")
    parser.add_argument("--activity-schools", type=int, default=10)
    parser.add_argument("--pdf", type=int, nargs="*", default=[8, 24],
                        help="schools in each district built with its combined PDFs (none or 0: no such table)")
    parser.add_argument("--seed", type=int, default=SEED, help="the distinct districts' seed")
    args = parser.parse_args()
    jobs, phases_n = args.jobs, args.phases if args.phases is not None else max(args.sizes, default=0)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, jobs {jobs}; "
          f"{len(FORMS)} documents a packet, seed {args.seed}; {dt.datetime.now():%Y-%m-%d %H:%M}, "
          f"load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp_name:
        tmp = Path(tmp_name)
        rows: list[Row] = []
        if args.sizes:
            print("\n## Every plan different (the headline)\n")
            print(HEAD, flush=True)
        for n in args.sizes:
            folder = tmp / f"distinct-{n}"
            packets = distinct_packets(n, args.seed)
            write_district(folder, packets)

            def edit(changed: str, folder=folder, packets=packets) -> None:
                write_district(folder, edited(packets, changed), (timeline_workbook(),))
            del packets
            rows.append(measure(str(n), n, folder, tmp / f"out-{n}", jobs, args.baseline, edit))
            print(row_line(rows[-1]), flush=True)
            if n != phases_n:
                shutil.rmtree(folder)
        if rows:
            print()
        for row in rows:
            b = row.baseline
            print(f"- {row.schools} schools: {b.distinct_plans} different plans of {b.schools}; "
                  f"{b.strategies[0]}-{b.strategies[1]} strategies and {b.activities[0]}-{b.activities[1]} "
                  f"activities a plan; texts up to {b.longest_text} characters"
                  + (f"; the helpers beside the main process (reading goals.xlsx, writing readiness.xlsx) "
                     f"peaked at {row.cold.reader_mb:.0f} MB" if row.cold.reader_mb else ""))
        repeated: list[Row] = []
        if args.repeated:
            print("\n## The sample's nine plans, repeated\n")
            print(HEAD, flush=True)
            for n in args.repeated:
                folder = tmp / f"repeated-{n}"
                make_repeated_district(n, folder)

                def edit_repeated(changed: str, folder=folder, n=n) -> None:
                    make_repeated_district(n, tmp / "edit", ("timeline",), changed)
                    os.replace(tmp / "edit" / "timeline.xlsx", folder / "timeline.xlsx")
                repeated.append(measure(f"{n}, repeated", n, folder, tmp / f"out-r{n}", jobs, args.baseline,
                                        edit_repeated))
                print(row_line(repeated[-1]), flush=True)
                shutil.rmtree(folder)
        if rows or repeated:
            print("\n## One process, the same packets (six documents; the calendar is not compared)\n")
            print("\n".join(one_process_lines(rows + repeated)), flush=True)
        if phases_n:
            folder = tmp / f"distinct-{phases_n}"
            if not folder.is_dir():
                write_district(folder, distinct_packets(phases_n, args.seed))
            print(f"\n## Where the time goes: {phases_n} schools, every plan different, one process\n")
            result = in_own_process(phase_timings, folder, tmp / "out-phases", min(args.phase_sample, phases_n))
            print("\n".join(phase_lines(result, jobs)), flush=True)
            shutil.rmtree(folder)
        scaled = [Scaled("schools (the cold builds above)", r.schools, r.cold.seconds, r.cold.main_mb)
                  for r in sorted(rows, key=lambda r: r.schools)]
        for count in args.people:
            folder = tmp / f"people-{count}"
            packets = distinct_packets(args.people_schools, args.seed, people=max(0, count // args.people_schools - 5))
            write_district(folder, packets)
            rows_written = len({(m.name, m.role, m.school_id) for p in packets for m in p.people})
            scaled.append(Scaled(f"People rows ({args.people_schools} schools)", rows_written,
                                 *in_own_process(scale_run, folder, tmp / "out-scale")))
            shutil.rmtree(folder)
        for count in args.activities:
            folder = tmp / f"activities-{count}"
            write_district(folder, distinct_packets(args.activity_schools, args.seed, activities=count))
            scaled.append(Scaled(f"activities ({args.activity_schools} plans)", count * args.activity_schools,
                                 *in_own_process(scale_run, folder, tmp / "out-scale"), shown=f"{count} a plan"))
            shutil.rmtree(folder)
        if scaled:
            print("\n## Linear in what a school can have (one process, every phase; schools: the cold builds)\n")
            print("\n".join(scaling_lines(scaled)), flush=True)
        pdf, converted = None, 0
        pdf_sizes = sorted(n for n in args.pdf if n > 0)
        if pdf_sizes:
            print("\n## --pdf (the packets built first; then the same command with --pdf)\n")
            print("| schools | documents converted | s | s/document | CPU s/document (LibreOffice, Python) "
                  "| LibreOffice started (at once) | the packets alone, s |")
            print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |", flush=True)
        for n in pdf_sizes:
            folder = tmp / f"pdf-{n}"
            write_district(folder, distinct_packets(n, args.seed))
            packets_only = in_own_process(timed_build, folder, tmp / f"out-pdf-{n}", jobs)
            pdf = in_own_process(timed_build, folder, tmp / f"out-pdf-{n}", jobs, True)
            assert pdf.built == [], pdf.built
            converted = n * (len(pdf_forms()) + 1)        # each Word form and the cover
            print(f"| {n} | {converted} | {pdf.seconds:.1f} | {pdf.seconds / converted:.2f} | "
                  f"{pdf.cpu() / converted:.2f} ({pdf.office_cpu / converted:.2f}, "
                  f"{(pdf.main_cpu + pdf.worker_cpu) / converted:.2f}) | {pdf.launches} ({pdf.most_offices}) | "
                  f"{packets_only.seconds:.1f} |", flush=True)
            shutil.rmtree(folder)
    print("\n## Issue 19's targets\n")
    print("\n".join(target_lines(rows, pdf, converted, jobs)))
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
