"""PDF conversion with headless LibreOffice: a few long-lived soffice processes convert every document.

LibreOffice takes a second or so to start, and a few tenths of a second per document once running.
Where a Python that can import uno is found (LibreOffice's own, or Debian's python3-uno), each
process is started once for a whole build, listening on a private pipe, and office_server.py (run
by that Python) hands it document after document: the forms' batch and then the covers' are served
by the same processes. Without uno, each batch runs `soffice --convert-to` over its documents, a
process per core, each started again for the next batch.

Each process has its own private LibreOffice profile: a desktop LibreOffice the user has open (or
another build) would otherwise receive the work and the command would return at once with nothing
converted.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, Sequence

from generator.findings import PacketsError

SOFFICE_ENV = "PACKETS_SOFFICE"          # the soffice program to use, when it is not on PATH
UNO_PYTHON_ENV = "PACKETS_UNO_PYTHON"    # the Python that can import uno; empty: convert without uno
SERVER = Path(__file__).with_name("office_server.py")
STARTUP_SECONDS = 90                     # a first start makes the profile; slow machines take a while
SECONDS_PER_FILE = 30
RESTARTS = 3                             # after LibreOffice dies mid-batch, how often the rest is retried
WORK_PREFIX = "packets-pdf-"             # then the owning process's id: see remove_stale_work_folders
# LibreOffice's PDF export options (the JSON form needs LibreOffice 7.4 or newer; older ones ignore it and
# write an untagged PDF): a tagged PDF (structure tree, headings, table headers, the document's language)
# that is PDF/A-2b, for screen readers and archives.
PDF_FILTER = ('pdf:writer_pdf_Export:{"UseTaggedPDF":{"type":"boolean","value":"true"},'
              '"SelectPdfVersion":{"type":"long","value":"2"},'
              '"ExportBookmarks":{"type":"boolean","value":"true"}}')
PDF_OPTIONS = {"UseTaggedPDF": True, "SelectPdfVersion": 2, "ExportBookmarks": True}    # the same, over uno
CANNOT_OPEN = "LibreOffice could not open it (a damaged or unsupported file?)"
INSTALL_HINT = ("Fix: install LibreOffice (Debian/Ubuntu: apt-get install libreoffice-writer libreoffice-calc; "
                f"Windows/macOS: libreoffice.org), or set {SOFFICE_ENV} to its soffice program.")


def find_soffice() -> str | None:
    """Return the LibreOffice program to run: PACKETS_SOFFICE, else soffice or libreoffice on PATH."""
    chosen = os.environ.get(SOFFICE_ENV)
    if chosen:
        return shutil.which(chosen)
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    """Return the LibreOffice program, or raise a PacketsError saying how to install it."""
    found = find_soffice()
    if found:
        return found
    chosen = os.environ.get(SOFFICE_ENV)
    where = f"{SOFFICE_ENV}={chosen!r} is not a program" if chosen else "soffice (LibreOffice) was not found"
    raise PacketsError(f"PDFs need LibreOffice, but {where}. {INSTALL_HINT}")


def find_uno_python(soffice: str) -> str | None:
    """Return a Python that can import uno, to drive long-lived LibreOffice processes: PACKETS_UNO_PYTHON
    (empty: none), else LibreOffice's own (beside soffice), else python3 on PATH or the system's when it
    imports uno (Debian's python3-uno); None when there is none (each batch then starts soffice)."""
    chosen = os.environ.get(UNO_PYTHON_ENV)
    if chosen is not None:
        return shutil.which(chosen) if chosen else None
    program = Path(os.path.realpath(soffice)).parent
    candidates = [program / "python", program / "python.exe", program.parent / "Resources" / "python"]
    candidates += [Path(p) for p in (shutil.which("python3"), "/usr/bin/python3") if p]
    seen = set()
    for candidate in candidates:
        if candidate in seen or not candidate.is_file() or not os.access(candidate, os.X_OK):
            continue
        seen.add(candidate)
        try:
            subprocess.run([str(candidate), "-c", "import uno"], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=30, check=True)
        except (OSError, subprocess.SubprocessError):
            continue
        return str(candidate)
    return None


# The templates' fonts (Calibri for text, Cambria for the theme's headings), each with its metric-compatible
# free twin, which LibreOffice substitutes for it, and the Debian package that installs the twin.
TEMPLATE_FONTS = (("Calibri", "Carlito", "fonts-crosextra-carlito"), ("Cambria", "Caladea", "fonts-crosextra-caladea"))


def missing_fonts_warning(families: Sequence[str] | None = None) -> str | None:
    """Return a one-line warning when LibreOffice would have to substitute a wider font for the templates'
    (lines then break, and pages end, elsewhere than in Word), or None when each font or its twin is there.

    `families` are the installed font families; by default fontconfig's (fc-list), which LibreOffice uses
    on Linux. Without fontconfig (Windows, macOS: Calibri and Cambria come with Office) nothing is said."""
    if families is None:
        fc_list = shutil.which("fc-list")
        if not fc_list:
            return None
        try:
            listed = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        families = [name.strip() for line in listed.splitlines() for name in line.split(",")]
    installed = {name.casefold() for name in families}
    missing = [(font, twin, package) for font, twin, package in TEMPLATE_FONTS
               if font.casefold() not in installed and twin.casefold() not in installed]
    if not missing:
        return None
    fonts = " and ".join(f"{font} (or {twin})" for font, twin, _ in missing)
    packages = " ".join(package for _, _, package in missing)
    return (f"the templates' fonts {fonts} are not installed: LibreOffice substitutes wider ones, so the PDFs "
            f"break lines and pages differently from Word. Fix: apt-get install {packages}")


@dataclass(frozen=True)
class Conversion:
    """One document's PDF, or why there is none."""

    name: str                   # the document's name, as given (used in messages)
    pdf: bytes | None
    error: str = ""


class PdfConverter:
    """Converts batches of documents to PDF with `processes` LibreOffice processes running at once (one
    per core: LibreOffice converts one document at a time), never a process a document.

    With uno (see find_uno_python) each process is started at the first batch and serves every batch
    of the run, taking the batch's next document whenever it is free. Without, each batch starts its
    own processes, each given an equal part of the batch in order.

    Use as a context manager: each process's private profile is made once and used by every batch of a
    run; the processes are stopped and the profiles removed at the end.
    """

    def __init__(self, soffice: str | None = None, startup_seconds: float = STARTUP_SECONDS,
                 seconds_per_file: float = SECONDS_PER_FILE, processes: int = 1):
        self.soffice = soffice or require_soffice()
        self.startup_seconds = startup_seconds
        self.seconds_per_file = seconds_per_file
        self.processes = max(1, processes)
        self.uno_python = find_uno_python(self.soffice)
        self.started = 0                     # LibreOffice processes started (restarts included)
        self._served = False                 # whether a served LibreOffice has ever started
        self._running: set[subprocess.Popen] = set()
        self._offices: list[_Office] = []
        self._work: Path | None = None
        self._batches = 0

    def __enter__(self) -> "PdfConverter":
        self._work = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-"))
        return self

    def __exit__(self, *exc) -> Literal[False]:
        for office in self._offices:
            office.stop()
        self._offices = []
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None
        return False

    def timeout(self, count: int) -> float:
        """Seconds a batch of `count` documents may take before LibreOffice is stopped (without uno)."""
        return self.startup_seconds + self.seconds_per_file * count

    def convert_files(self, paths: Sequence[Path]) -> list[Conversion]:
        """Return each file's PDF, in the order given."""
        return self.convert([(Path(p).name, Path(p).read_bytes()) for p in paths])

    def convert(self, documents: Sequence[tuple[str, bytes]]) -> list[Conversion]:
        """Return each document's PDF, in the order given; documents are (file name, bytes).

        A document LibreOffice cannot read gets an error and the others are still converted. Names
        may repeat (every school has a `plan.docx` under some naming patterns): each document is
        copied under a numbered name of its own first.
        """
        if self._work is None:
            raise RuntimeError("use PdfConverter as a context manager")
        if not documents:
            return []
        self._batches += 1
        batch = self._work / f"batch{self._batches}"
        inbox, outbox = batch / "in", batch / "out"
        inbox.mkdir(parents=True)
        outbox.mkdir()
        staged = []
        for number, (name, data) in enumerate(documents, start=1):
            path = inbox / f"{number:06d}{Path(name).suffix.lower()}"
            path.write_bytes(data)
            staged.append(path)
        results = self._convert_staged(staged, outbox)
        if self.uno_python and not self._served and not any(c.pdf for c in results.values()):
            # Not one served LibreOffice started (this uno cannot drive this soffice, say): the batch,
            # and the rest of the run, go to soffice --convert-to.
            self.uno_python = None
            results = self._convert_staged(staged, outbox)
        names = [name for name, _ in documents]
        out = []
        problem = next((c.error for c in results.values() if c.error), CANNOT_OPEN)
        for name, path in zip(names, staged):
            done = results.get(path) or Conversion("", None, problem)    # left by processes that gave up
            if done.pdf is not None:
                out.append(Conversion(name, done.pdf))
            else:
                out.append(Conversion(name, None, f"LibreOffice could not convert {name} to PDF: {done.error}."))
        shutil.rmtree(batch, ignore_errors=True)
        return out

    def _convert_staged(self, staged: list[Path], outbox: Path) -> dict[Path, Conversion]:
        """Return each staged file's conversion, made by up to `processes` LibreOffice processes at once."""
        results: dict[Path, Conversion] = {}
        if self.uno_python:
            waiting: queue.SimpleQueue[Path] = queue.SimpleQueue()
            for path in staged:
                waiting.put(path)
            workers = [partial(self._serve, waiting, outbox, n) for n in range(min(self.processes, len(staged)))]
        else:
            workers = [partial(self._convert_part, part, outbox, n)
                       for n, part in enumerate(_parts(staged, self.processes))]
        if len(workers) == 1:
            results.update(workers[0]())
            return results
        with ThreadPoolExecutor(len(workers)) as pool:
            futures = [pool.submit(work) for work in workers]
            try:
                for future in futures:
                    results.update(future.result())
            except BaseException:
                # Ctrl-C reaches this thread only: the others wait on their LibreOffice, which
                # must stop now for them (and the pool) to end, not once it has converted its part.
                self._stop_all()
                raise
        return results

    def _stop_all(self) -> None:
        for proc in list(self._running):
            _kill(proc)
        for office in self._offices:
            office.kill()

    def _office(self, number: int) -> "_Office":
        """Return the long-lived process `number` (not yet started, the first time)."""
        if self._work is None:
            raise RuntimeError("PdfConverter converts only inside its `with` block")
        while len(self._offices) <= number:
            self._offices.append(_Office(self, self._work / f"profile{len(self._offices)}"))
        return self._offices[number]

    def _serve(self, waiting: "queue.SimpleQueue[Path]", outbox: Path, number: int) -> dict[Path, Conversion]:
        """Convert the batch's documents one at a time with long-lived process `number`, taking the next
        whenever it is free, until none is left. When LibreOffice dies or hangs on a document, it is
        started again and given the document once more; should it die on it again, that document gets
        the error and the process goes on with the rest. A process that will not start (twice in a row),
        or that was blamed for RESTARTS + 1 documents in this batch, leaves the rest to the others."""
        office = self._office(number)
        results: dict[Path, Conversion] = {}
        deaths = 0
        retry: Path | None = None
        while True:
            if retry is not None:
                path, retry = retry, None
            else:
                try:
                    path = waiting.get_nowait()
                except queue.Empty:
                    return results
            if not office.taking():
                problem = office.start() and office.start()   # a second try: it may have died starting
                if problem:
                    results[path] = Conversion("", None, problem)
                    return results
            target = outbox / (path.stem + ".pdf")
            problem = office.convert(path, target)
            pdf = _whole_pdf(target) if not problem else None
            if pdf is not None:
                results[path] = Conversion("", pdf)
                continue
            if not office.ready and path not in results:
                # It died (or hung) on this document, or just as it was handed over: the document gets
                # one more process before it is blamed.
                results[path] = Conversion("", None, problem)
                retry = path
                continue
            results[path] = Conversion("", None, problem or CANNOT_OPEN)
            if not office.ready:
                deaths += 1
                if deaths > RESTARTS:
                    return results

    def _convert_part(self, staged: list[Path], outbox: Path, process: int) -> dict[Path, Conversion]:
        """Return each staged file's conversion, made by one LibreOffice process after another: when
        one dies or hangs, the document it was on gets the error and the rest another process."""
        results: dict[Path, Conversion] = {}
        pending = list(staged)
        problem = ""
        retried_start = False
        for _ in range(RESTARTS + 2):
            if not pending:
                break
            finished, problem = self._run(pending, outbox, process)
            for path in pending:
                pdf = _whole_pdf(outbox / (path.stem + ".pdf"))
                if pdf is not None:
                    results[path] = Conversion("", pdf)
            converted = any(p in results for p in pending)
            pending = [p for p in pending if p not in results]
            if finished or not pending:
                break
            if not converted and not retried_start:
                # A LibreOffice that dies before its first PDF may have died starting (seen in CI: an
                # abort while a fresh profile is made beside another process's), not on the document:
                # the same documents get one more process before the first is blamed.
                retried_start = True
                continue
            # LibreOffice converts in the order given, so the first document without a PDF is the one
            # it was working on when it died or hung; the documents after it get another process.
            results[pending[0]] = Conversion("", None, problem)
            pending = pending[1:]
        for path in pending:
            results[path] = Conversion("", None, problem or "LibreOffice could not open it "
                                                            "(a damaged or unsupported file?)")
        return results

    def _run(self, paths: list[Path], outbox: Path, process: int = 0) -> tuple[bool, str]:
        """Run one soffice over `paths`; return (it ended normally, what went wrong otherwise)."""
        if self._work is None:
            raise RuntimeError("PdfConverter converts only inside its `with` block")
        profile = (self._work / f"profile{process}").as_uri()
        command = [self.soffice, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
                   "--nolockcheck", f"-env:UserInstallation={profile}", "--convert-to", PDF_FILTER,
                   "--outdir", str(outbox), *map(str, paths)]
        limit = self.timeout(len(paths))
        watch = None
        try:
            if os.name == "posix":
                # The guard's end of a pipe only this process holds: when this process ends, however
                # it ends, the guard stops LibreOffice (see _GUARD).
                watch, alive = os.pipe()
                command = [sys.executable, "-I", "-c", _GUARD, str(watch), *command]
            # A session of its own: soffice is a launcher whose children must be stopped with it.
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, cwd=self._work, start_new_session=True,
                                    pass_fds=(watch,) if watch is not None else ())
        except OSError as exc:
            if watch is not None:
                os.close(alive)
            raise PacketsError(f"LibreOffice ({self.soffice}) could not be started: {exc}. {INSTALL_HINT}") from None
        finally:
            if watch is not None:
                os.close(watch)
        self.started += 1
        self._running.add(proc)
        try:
            _, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _stop(proc)
            return False, f"LibreOffice did not finish within {limit:.0f} s and was stopped"
        finally:
            self._running.discard(proc)
            if watch is not None:
                os.close(alive)          # an interrupted build (Ctrl-C) stops LibreOffice here
        if proc.returncode != 0:
            last = (err.decode("utf-8", "replace").strip().splitlines() or [""])[-1]
            return False, f"LibreOffice stopped with exit code {proc.returncode}" + (f" ({last})" if last else "")
        return True, ""


class _Office:
    """One long-lived LibreOffice process of a converter, driven through office_server.py (run by the
    Python that imports uno): started once, it converts document after document, batch after batch."""

    def __init__(self, converter: PdfConverter, profile: Path):
        self.converter, self.profile = converter, profile
        self.ready = False
        self._proc: subprocess.Popen | None = None
        self._replies: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._alive: int | None = None          # the build's end of the guard's pipe (see _GUARD)
        self._log = profile.with_name(profile.name + ".log")

    def start(self) -> str:
        """Start LibreOffice; return "" once it takes documents, else what went wrong."""
        self.stop()
        converter = self.converter
        # A pipe name of its own each start: a killed LibreOffice may leave its pipe behind.
        pipe = f"packets-{os.getpid()}-{secrets.token_hex(6)}"
        command = [str(converter.uno_python), str(SERVER), converter.soffice, self.profile.as_uri(), pipe,
                   str(converter.startup_seconds)]
        watch = None
        try:
            with open(self._log, "wb") as log:         # this start's messages only
                if os.name == "posix":
                    watch, self._alive = os.pipe()
                    command = [sys.executable, "-I", "-c", _GUARD, str(watch), *command]
                self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                              cwd=self.profile.parent, start_new_session=True,
                                              pass_fds=(watch,) if watch is not None else ())
        except OSError as exc:                      # the batch path is tried when none starts
            self._close_alive()
            return f"LibreOffice could not be started through {converter.uno_python}: {exc}"
        finally:
            if watch is not None:
                os.close(watch)
        converter.started += 1
        self._replies = queue.SimpleQueue()
        threading.Thread(target=_read_replies, args=(self._proc.stdout, self._replies), daemon=True,
                         name="office-replies").start()
        limit = converter.startup_seconds + 10      # the server gives up at startup_seconds itself
        reply = self._reply(limit)
        if reply is not None and reply.get("ready"):
            self.ready = converter._served = True
            return ""
        seconds = converter.startup_seconds
        return self._failed(reply, f"LibreOffice did not start within {seconds:.0f} s and was stopped")

    def taking(self) -> bool:
        """Return whether the process takes documents: started, and not ended since (the server says at
        once when LibreOffice ends between documents)."""
        if not self.ready:
            return False
        try:
            reply = self._replies.get_nowait()
        except queue.Empty:
            return True
        self._failed(reply, "")
        return False

    def convert(self, source: Path, target: Path) -> str:
        """Convert one document; return "" once the PDF is written, else what went wrong. When LibreOffice
        died or hung on it, it is stopped (ready is then False)."""
        limit = self.converter.seconds_per_file
        request = json.dumps({"source": str(source), "target": str(target), "filter": PDF_OPTIONS}) + "\n"
        try:
            assert self._proc is not None and self._proc.stdin is not None
            self._proc.stdin.write(request.encode("utf-8"))
            self._proc.stdin.flush()
        except (OSError, ValueError):                # it ended meanwhile: its reply says how
            pass
        reply = self._reply(limit)
        if reply is not None and reply.get("done"):
            return ""
        if reply is not None and "error" in reply:
            return str(reply["error"])
        return self._failed(reply, f"LibreOffice did not finish within {limit:.0f} s and was stopped")

    def _reply(self, seconds: float) -> dict[str, Any] | None:
        """Return the server's next reply; {"timeout": True} after `seconds`; None when it ended."""
        try:
            return self._replies.get(timeout=seconds)
        except queue.Empty:
            return {"timeout": True}

    def _failed(self, reply: dict[str, Any] | None, timed_out: str) -> str:
        """Stop the process and return what went wrong, from the reply (None: the server ended)."""
        code = None
        if reply is None and self._proc is not None:          # the server ended: how?
            try:
                code = self._proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.stop()
        if reply is not None and (reply.get("timeout") or reply.get("died") == "timeout"):
            return timed_out
        if reply is not None and "died" in reply:
            code = reply["died"]
        last = ""
        try:
            last = (self._log.read_text("utf-8", "replace").strip().splitlines() or [""])[-1]
        except OSError:
            pass
        return f"LibreOffice stopped with exit code {code}" + (f" ({last})" if last else "")

    def kill(self) -> None:
        """Stop LibreOffice at once, from any thread (whoever waits on it sees it end)."""
        if self._proc is not None:
            _kill(self._proc)

    def stop(self) -> None:
        """Stop LibreOffice and reap it."""
        self.ready = False
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if os.name == "posix":
            _kill(proc)
        try:
            proc.stdin.close()                       # type: ignore[union-attr]
        except OSError:
            pass
        try:
            proc.wait(10)             # Windows: the server stops LibreOffice once its input is closed
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._close_alive()

    def _close_alive(self) -> None:
        if self._alive is not None:
            os.close(self._alive)
            self._alive = None


def _read_replies(stream, replies: "queue.SimpleQueue[dict[str, Any] | None]") -> None:
    """Pass on each line the server writes as a reply; None once it has ended."""
    for line in stream:
        try:
            reply = json.loads(line)
        except ValueError:
            continue
        if isinstance(reply, dict):
            replies.put(reply)
    replies.put(None)


# Runs soffice (or office_server.py, which runs soffice) in the guard's own process group, with the
# guard's input and output, and stops the whole group when the build's end of
# the pipe closes: the build ended, or was killed mid-conversion (a kill leaves no chance to stop
# soffice from the build itself, and LibreOffice's own processes would run on). An exit code from a
# signal is passed on as a shell would give it.
_GUARD = """
import os, signal, subprocess, sys, threading
watch = int(sys.argv[1])
soffice = subprocess.Popen(sys.argv[2:])
def stop_when_the_build_ends():
    os.read(watch, 1)
    os.killpg(0, signal.SIGKILL)
threading.Thread(target=stop_when_the_build_ends, daemon=True).start()
code = soffice.wait()
sys.exit(code if code >= 0 else 128 - code)
"""


def remove_stale_work_folders() -> int:
    """Remove the working folders (copies of documents, a LibreOffice profile) that converters of
    killed builds left in the temporary folder: those named for a process of this user that is no
    longer running. Return how many were removed."""
    if os.name != "posix":
        return 0
    removed = 0
    for folder in Path(tempfile.gettempdir()).glob(f"{WORK_PREFIX}*"):
        owner = re.match(rf"{re.escape(WORK_PREFIX)}(\d+)-", folder.name)
        try:
            if not owner or folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
                continue
            os.kill(int(owner[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
        except (OSError, OverflowError):
            continue                 # still running (or not ours to judge)
    return removed


def _parts(staged: list[Path], processes: int) -> list[list[Path]]:
    """Return the staged files in at most `processes` runs of consecutive files, as equal in bytes as
    whole files allow (a long plan takes longer to lay out than a short schedule)."""
    if processes <= 1 or len(staged) <= 1:
        return [staged]
    sizes = [p.stat().st_size for p in staged]
    share, filled = sum(sizes) / min(processes, len(staged)), 0.0
    parts: list[list[Path]] = []
    current: list[Path] = []
    for path, size in zip(staged, sizes):
        if current and filled + size / 2 > share * (len(parts) + 1) and len(parts) < processes - 1:
            parts.append(current)
            current = []
        current.append(path)
        filled += size
    return parts + [current]


def _whole_pdf(path: Path) -> bytes | None:
    """Return a PDF's bytes when the file is there and complete (a stopped LibreOffice may leave half)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if data.startswith(b"%PDF-") and data[-1024:].rstrip().endswith(b"%%EOF") else None


def _kill(proc: subprocess.Popen) -> None:
    """Stop a LibreOffice process group started by this converter (whoever waits on it reaps it)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:                                  # Windows: no process groups; stop the launcher itself
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _stop(proc: subprocess.Popen) -> None:
    """Stop a LibreOffice process group started by this converter, and reap it."""
    _kill(proc)
    proc.communicate()


def convert_to_pdf(paths: Sequence[Path]) -> list[bytes]:
    """Return each file's PDF, converting them all in one LibreOffice run; raise on the first failure."""
    with PdfConverter() as converter:
        conversions = converter.convert_files(paths)
    failed = [c.error for c in conversions if c.pdf is None]
    if failed:
        raise PacketsError(failed[0] + (f" ({len(failed) - 1} more failed)" if len(failed) > 1 else ""))
    return [c.pdf for c in conversions if c.pdf is not None]
