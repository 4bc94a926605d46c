"""Runs that overlap, or are interrupted: one build or send at a time per output folder; a build
killed or stopped midway leaves earlier documents intact, and the next build makes good the district
view, the packets it was replacing, and the files it left; its workers and LibreOffice end with it."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from generator.output import batch, processes
from generator.output.build_record import MANIFEST
from generator.output.lock import LOCK_FILE
from generator.pipeline import rebuild

from conftest import AS_OF, ROOT, edit_sheet, find_row, header_column, run_cli

POSIX = pytest.mark.skipif(not Path("/proc/self/stat").is_file() or os.name != "posix",
                           reason="needs Linux's /proc and signals")


def build(inputs, output, *extra):
    return run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1",
                   *extra)


def readiness(output: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(output / "readiness.xlsx")["Readiness"]
    return {r[0]: r[3] for r in ws.iter_rows(min_row=5, values_only=True) if r[0]}


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def interrupt_once(monkeypatch, name: str, after: bool = False, when=lambda *args: True, module=rebuild):
    """Make module.<name> raise KeyboardInterrupt (as Ctrl-C would) the first time `when(*args)` holds,
    before it runs or, with `after`, once it has run."""
    real = getattr(module, name)
    fired = []

    def stand_in(*args, **kwargs):
        if fired or not when(*args):
            return real(*args, **kwargs)
        fired.append(1)
        if after:
            real(*args, **kwargs)
        raise KeyboardInterrupt
    monkeypatch.setattr(module, name, stand_in)
    return fired


# --- the district view and the manifest after an interrupted build --------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("stopped_in", ["write_readiness_report", "write_district_view"])
def test_a_build_interrupted_before_its_district_view_is_written_has_it_written_by_the_next(
        inputs, output, monkeypatch, stopped_in):
    assert build(inputs, output).exit_code == 0
    assert readiness(output)["0102"] == "Ready"           # 0102's only finding is a warning

    fired = interrupt_once(monkeypatch, stopped_in)
    stopped = build(inputs, output, "--strict")
    assert fired and stopped.exit_code == 130
    assert stopped.output.strip().splitlines()[-1].startswith("Interrupted: ")
    assert "Traceback" not in stopped.output
    monkeypatch.undo()

    again = build(inputs, output, "--strict")
    assert again.exit_code == 0, again.output
    assert "skipped 9 unchanged" in again.output         # the packets were current; only the view was not
    assert "6 of 9 school(s) ready" in again.output
    assert readiness(output)["0102"] == "Not ready"      # as `packets validate --strict` says
    ws = openpyxl.load_workbook(output / "district.xlsx").worksheets[0]
    assert "Not ready" in [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert json.loads((output / MANIFEST).read_text())["last_run"]["digest"]


@pytest.mark.slow
def test_ctrl_c_while_the_helper_writes_readiness_xlsx_stops_it_at_once_and_the_next_build_writes_the_view(
        inputs, output, monkeypatch):
    assert build(inputs, output).exit_code == 0
    monkeypatch.setattr(rebuild, "HELPER_SCHOOLS", 1)          # the sample's nine schools get a helper
    fired = interrupt_once(monkeypatch, "write_district_view")  # in the main process, beside the helper
    edit_sheet(inputs / "timeline.xlsx", "Tasks",
               lambda ws: ws.cell(find_row(ws, "School ID", "0104"), header_column(ws, "Notes"), "Moved"))
    stopped = build(inputs, output, "--jobs", "2")
    assert fired and stopped.exit_code == 130, stopped.output
    assert stopped.output.strip().splitlines()[-1].startswith("Interrupted: ")
    assert "Traceback" not in stopped.output
    # The helper was stopped, not left running: terminated at once, it ends when the call it is in returns
    # (a file's flush, on a disk the rest of a test suite keeps busy, may take a moment).
    assert wait_until(lambda: not multiprocessing.active_children(), 30)
    monkeypatch.undo()

    again = build(inputs, output, "--jobs", "2")
    assert again.exit_code == 0, again.output
    assert "Built 1, skipped 8 unchanged" in again.output       # the packet being replaced is built again
    assert json.loads((output / MANIFEST).read_text())["last_run"]["digest"]


def timeline_hash_recorded(output: Path, school_id: str) -> str:
    """The SHA-256 of timeline.xlsx that the school's packet (its manifest.json) says it was built from."""
    (folder,) = output.glob(f"{school_id}-*")
    entries = json.loads((folder / "manifest.json").read_text())["inputs"]
    return next(e["sha256"] for e in entries if e["file"] == "timeline.xlsx")


@pytest.mark.slow
def test_a_build_interrupted_midway_never_leaves_a_packet_the_manifest_vouches_for_wrongly(
        inputs, output, monkeypatch):
    assert build(inputs, output).exit_code == 0
    original = (inputs / "timeline.xlsx").read_bytes()
    first = timeline_hash_recorded(output, "0105")

    def add_note(ws):
        ws.cell(row=find_row(ws, "School ID", "0105"), column=header_column(ws, "Notes")).value = "Moved"
    edit_sheet(inputs / "timeline.xlsx", "Tasks", add_note)
    # Stopped just after 0105's new packet is in place, before the manifest records it.
    interrupt_once(monkeypatch, "_place_one", after=True, module=batch, when=lambda settings, staged:
                   staged.school.school_id == "0105")
    assert build(inputs, output).exit_code == 130
    monkeypatch.undo()
    assert timeline_hash_recorded(output, "0105") != first        # 0105 holds the edited run's packet

    (inputs / "timeline.xlsx").write_bytes(original)      # the edit is undone: back to the first run's inputs
    again = build(inputs, output)
    assert again.exit_code == 0, again.output
    assert "Built 1, skipped 8 unchanged" in again.output
    assert timeline_hash_recorded(output, "0105") == first


# --- one build or send at a time -----------------------------------------------------------------

HOLD = """
import sys, time
from generator.output.lock import OutputLock
with OutputLock(sys.argv[1], sys.argv[2]):
    print("held", flush=True)
    time.sleep(60)
"""


def hold_lock(output: Path, command: str = "build") -> subprocess.Popen:
    """Start another process holding the output folder's lock, as a running build would."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(output), command], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    return holder


@pytest.mark.slow
@POSIX
def test_a_second_build_is_refused_in_one_line_and_writes_nothing_and_a_killed_holder_frees_the_folder(
        inputs, output):
    assert build(inputs, output).exit_code == 0
    (inputs / "settings.toml").write_text((inputs / "settings.toml").read_text() + "\n# edited\n")
    holder = hold_lock(output)
    try:
        before = {p: b for p, b in snapshot(output).items() if p.name != LOCK_FILE}
        refused = build(inputs, output, "--force")
        assert refused.exit_code == 1
        (line,) = refused.output.strip().splitlines()
        assert line.startswith(f"error: Another `packets build` is running on {output} (pid {holder.pid}, since ")
        assert {p: b for p, b in snapshot(output).items() if p.name != LOCK_FILE} == before

        sent = run_cli("send", "--inputs", str(inputs), "--output", str(output))    # the outbox is written
        assert sent.exit_code == 2 and "error: Another `packets build` is running on" in sent.output
        assert not (output / "outbox").exists()
    finally:
        holder.kill()                                    # as a crash would: the lock is not released by it
        holder.wait()
    assert (output / LOCK_FILE).is_file()
    again = build(inputs, output)
    assert again.exit_code == 0, again.output
    assert "failed 0" in again.output
    assert not (output / LOCK_FILE).exists()


def test_a_send_holding_the_folder_stops_a_build(inputs, output):
    assert build(inputs, output).exit_code == 0
    from generator.delivery.ledger import SendLock
    with SendLock(output):
        refused = build(inputs, output, "--force")
    assert refused.exit_code == 1 and "error: Another `packets send` is running on" in refused.output
    assert "Traceback" not in refused.output


def test_a_refused_or_failed_first_build_leaves_no_output_folder(inputs, output):
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--school", "9999")
    assert result.exit_code == 1 and not output.exists()


# --- leftovers ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_next_build_removes_what_a_killed_run_left_and_puts_back_a_document_it_had_moved_aside(inputs, output):
    assert build(inputs, output).exit_code == 0
    folder = next(output.glob("0101-*"))
    schedule = folder / "0101-schedule.docx"
    good = schedule.read_bytes()
    (folder / ".tmp-k2j4h5g3.docx").write_bytes(b"half a document")
    (output / ".tmp-a8d7f6s5.xlsx").write_bytes(b"half a report")
    (folder / ".old-0a1b2c3d-0101-plan.docx").write_bytes(b"the older plan")     # its document is there
    schedule.replace(folder / ".old-9f8e7d6c-0101-schedule.docx")               # its document is not
    (output / LOCK_FILE).write_text(json.dumps({"pid": 999999, "command": "build"}))   # a run was killed

    again = build(inputs, output)
    assert again.exit_code == 0, again.output
    assert not list(output.rglob(".tmp-*")) and not list(output.rglob(".old-*"))
    assert schedule.read_bytes() == good
    assert (folder / "0101-plan.docx").read_bytes() != b"the older plan"


# --- killed and interrupted builds: workers and LibreOffice end with them -------------------------

@pytest.fixture(scope="module")
def large_inputs(tmp_path_factory) -> Path:
    """A district of 120 schools (the sample's nine repeated), a few seconds' build on two workers."""
    sys.path.insert(0, str(ROOT / "tools"))
    import bench
    folder = tmp_path_factory.mktemp("large") / "inputs"
    bench.make_repeated_district(120, folder)
    return folder


def descendants(pid: int) -> set[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    family, found = {pid}, set()
    while True:
        children = {p for p, parent in parents.items() if parent in family} - family
        if not children:
            return found
        family |= children
        found |= children


def running(pids) -> set[int]:
    """The pids still running (a zombie waiting to be reaped has ended)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start_build(inputs: Path, output: Path, *extra: str, env=None) -> subprocess.Popen:
    """Start a build as a terminal would: in a session of its own, heeding Ctrl-C even when the tests were
    started in the background (which ignores it, and a child inherits that)."""
    return subprocess.Popen([sys.executable, "-m", "generator.cli", "build", "--inputs", str(inputs),
                             "--output", str(output), "--as-of", AS_OF, *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, **(env or {})},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for_progress(proc: subprocess.Popen, lines: int) -> None:
    for _ in range(lines):
        line = proc.stdout.readline()
        assert line.startswith("["), line + proc.stderr.read()


@POSIX
@pytest.mark.slow
def test_a_killed_build_leaves_no_worker_running_and_the_next_build_tidies_up(large_inputs, tmp_path):
    output = tmp_path / "output"
    proc = start_build(large_inputs, output, "--jobs", "2")
    wait_for_progress(proc, 10)
    family = descendants(proc.pid)
    assert len(family) >= 3                               # fork server, two workers (and a resource tracker)
    proc.kill()
    proc.wait()
    assert wait_until(lambda: not running(family), 5), f"still running: {running(family)}"

    leftovers = list(output.rglob(".tmp-*")) + list(output.rglob(".old-*"))
    again = subprocess.run([sys.executable, "-m", "generator.cli", "build", "--inputs", str(large_inputs),
                            "--output", str(output), "--as-of", AS_OF, "--jobs", "2"],
                           cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert not list(output.rglob(".tmp-*")) and not list(output.rglob(".old-*")), leftovers
    assert "failed 0" in again.stdout and "skipped 120" not in again.stdout


@POSIX
@pytest.mark.slow
def test_ctrl_c_stops_the_build_and_its_workers_in_one_line(large_inputs, tmp_path):
    output = tmp_path / "output"
    proc = start_build(large_inputs, output, "--jobs", "2")
    wait_for_progress(proc, 10)
    family = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)                    # as a terminal sends it: to every process of the job
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    (line,) = err.strip().splitlines()
    assert line.startswith("Interrupted: ") and "earlier documents are intact" in line
    assert wait_until(lambda: not running(family), 5), f"still running: {running(family)}"


@POSIX
def test_a_ctrl_c_while_work_is_handed_to_the_pool_is_raised_once_the_hand_over_is_done():
    """The race behind a build that said it stopped, then hung as it exited: Ctrl-C the instant after the
    pool's queue lock was taken left it held. While a chunk is handed over, Ctrl-C waits, then is raised."""
    handed = []
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)   # as in a terminal, whatever runs the tests
    try:
        with pytest.raises(KeyboardInterrupt):
            with processes.interrupt_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)                # the handler has run by now: it must not have raised
                handed.append("chunk")
        assert handed == ["chunk"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler     # Ctrl-C is as it was
        with processes.interrupt_deferred():
            handed.append("another")            # no Ctrl-C: nothing is raised
        assert handed == ["chunk", "another"]

        # A process started in the background ignores Ctrl-C: a hand-over does not make it heed one.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with processes.interrupt_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            handed.append("in the background")
        assert handed[-1] == "in the background" and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def children_of(pid: int) -> set[int]:
    return {p for p in descendants(pid) if _parent(p) == pid}


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


@POSIX
@pytest.mark.slow
def test_a_worker_killed_midway_ends_the_build_in_one_line_and_the_next_build_finishes_it(large_inputs, tmp_path):
    """A packet worker killed (as the system does when memory runs out) ends the build with one line saying
    so, not a traceback; what was placed is whole, and the next build builds the rest."""
    output = tmp_path / "output"
    proc = start_build(large_inputs, output, "--jobs", "2")
    wait_for_progress(proc, 10)
    server = next(p for p in children_of(proc.pid)
                  if b"forkserver" in Path(f"/proc/{p}/cmdline").read_bytes())
    worker = min(children_of(server))
    os.kill(worker, signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert "error: a process building packets ended unexpectedly" in err, err

    again = subprocess.run([sys.executable, "-m", "generator.cli", "build", "--inputs", str(large_inputs),
                            "--output", str(output), "--as-of", AS_OF, "--jobs", "2"],
                           cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "failed 0" in again.stdout and "skipped 120" not in again.stdout
    assert not list(output.rglob(".tmp-*")) and not list(output.rglob(".old-*"))


HUNG_SOFFICE = """#!{python}
import os, sys, time
from pathlib import Path
Path(os.environ["HUNG_SOFFICE_PID"]).write_text(str(os.getpid()))
time.sleep(60)
"""


@POSIX
@pytest.mark.slow
def test_a_build_killed_during_pdf_conversion_leaves_no_libreoffice_and_the_next_run_removes_its_folder(
        inputs, tmp_path):
    output, temp = tmp_path / "output", tmp_path / "tmp"
    temp.mkdir()
    script, pid_file = tmp_path / "hung-soffice", tmp_path / "soffice.pid"
    script.write_text(HUNG_SOFFICE.replace("{python}", sys.executable))
    script.chmod(0o755)
    env = {"PACKETS_SOFFICE": str(script), "HUNG_SOFFICE_PID": str(pid_file), "TMPDIR": str(temp)}
    proc = start_build(inputs, output, "--jobs", "1", "--pdf", env=env)
    assert wait_until(pid_file.exists, 15), proc.stderr.read() if proc.poll() is not None else "no soffice"
    assert wait_until(lambda: pid_file.read_text().strip() != "", 2)
    soffice = int(pid_file.read_text())
    family = descendants(proc.pid)
    assert soffice in family
    proc.kill()
    proc.wait()
    assert wait_until(lambda: not running(family), 5), f"still running: {running(family)}"
    (work,) = temp.glob("packets-pdf-*")
    assert work.name.startswith(f"packets-pdf-{proc.pid}-")

    again = subprocess.run([sys.executable, "-m", "generator.cli", "build", "--inputs", str(inputs),
                            "--output", str(output), "--as-of", AS_OF, "--jobs", "1"],
                           cwd=ROOT, capture_output=True, text=True, env={**os.environ, "TMPDIR": str(temp)})
    assert again.returncode == 0, again.stderr
    assert not work.exists()


def libreoffice_of(pid: int) -> set[int]:
    """The LibreOffice processes converting for the build `pid` (its working folder is in their command)."""
    found = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if f"packets-pdf-{pid}-".encode() in cmdline.read_bytes():
                found.add(int(cmdline.parent.name))
        except OSError:
            continue
    return found


@POSIX
@pytest.mark.slow
@pytest.mark.office
def test_a_build_killed_while_libreoffice_converts_leaves_no_libreoffice(inputs, tmp_path):
    (tmp_path / "tmp").mkdir()
    proc = start_build(inputs, tmp_path / "output", "--jobs", "1", "--pdf", env={"TMPDIR": str(tmp_path / "tmp")})
    assert wait_until(lambda: len(libreoffice_of(proc.pid)) >= 3, 20)      # guard, oosplash, soffice.bin
    office = libreoffice_of(proc.pid)
    proc.kill()
    proc.wait()
    assert wait_until(lambda: not running(office), 5), f"still running: {running(office)}"


@POSIX
@pytest.mark.slow
@pytest.mark.office
def test_ctrl_c_while_libreoffice_converts_leaves_no_libreoffice(inputs, tmp_path):
    """Ctrl-C reaches the build's process group only: the LibreOffice processes, long-lived for the run
    and each in a session of its own, are stopped by the build as it ends."""
    (tmp_path / "tmp").mkdir()
    proc = start_build(inputs, tmp_path / "output", "--jobs", "2", "--pdf", env={"TMPDIR": str(tmp_path / "tmp")})
    assert wait_until(lambda: len(libreoffice_of(proc.pid)) >= 6, 30)      # two of: guard, server or
    office = libreoffice_of(proc.pid)                                       # launcher, soffice.bin
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert wait_until(lambda: not running(office), 5), f"still running: {running(office)}"
    assert not list((tmp_path / "tmp").glob("packets-pdf-*"))             # its working folder removed
