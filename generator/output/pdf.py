"""PDF conversion with headless LibreOffice: one soffice process converts a whole batch of documents.

LibreOffice takes a second or two to start, and far less per document once running, so a build
hands it every document at once. Each converter has its own private LibreOffice profile: a desktop
LibreOffice the user has open (or another build) would otherwise receive the work and the command
would return at once with nothing converted.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

from generator.findings import PacketsError

SOFFICE_ENV = "PACKETS_SOFFICE"          # the soffice program to use, when it is not on PATH
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
    """Converts batches of documents to PDF, each batch shared by `processes` LibreOffice processes
    running at once (one per core: LibreOffice converts one document at a time), each given an equal
    part of the batch in order, never a process a document.

    Use as a context manager: each process's private profile is made once and used by every batch of a
    run, and removed at the end.
    """

    def __init__(self, soffice: str | None = None, startup_seconds: float = STARTUP_SECONDS,
                 seconds_per_file: float = SECONDS_PER_FILE, processes: int = 1):
        self.soffice = soffice or require_soffice()
        self.startup_seconds = startup_seconds
        self.seconds_per_file = seconds_per_file
        self.processes = max(1, processes)
        self._running: set[subprocess.Popen] = set()
        self._work: Path | None = None
        self._batches = 0

    def __enter__(self) -> "PdfConverter":
        self._work = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-"))
        return self

    def __exit__(self, *exc) -> Literal[False]:
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None
        return False

    def timeout(self, count: int) -> float:
        """Seconds a batch of `count` documents may take before LibreOffice is stopped."""
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
        results: dict[Path, Conversion] = {}
        parts = _parts(staged, self.processes)
        if len(parts) == 1:
            results.update(self._convert_part(parts[0], outbox, 0))
        else:
            with ThreadPoolExecutor(len(parts)) as pool:
                try:
                    for part in pool.map(self._convert_part, parts, [outbox] * len(parts), range(len(parts))):
                        results.update(part)
                except BaseException:
                    # Ctrl-C reaches this thread only: the others wait on their LibreOffice, which
                    # must stop now for them (and the pool) to end, not once it has converted its part.
                    for proc in list(self._running):
                        _kill(proc)
                    raise
        names = [name for name, _ in documents]
        out = []
        for name, path in zip(names, staged):
            done = results[path]
            if done.pdf is not None:
                out.append(Conversion(name, done.pdf))
            else:
                out.append(Conversion(name, None, f"LibreOffice could not convert {name} to PDF: {done.error}."))
        shutil.rmtree(batch, ignore_errors=True)
        return out

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


# Runs soffice in the guard's own process group and stops the whole group when the build's end of
# the pipe closes: the build ended, or was killed mid-conversion (a kill leaves no chance to stop
# soffice from the build itself, and LibreOffice's own processes would run on). An exit code from a
# signal is passed on as a shell would give it.
_GUARD = """
import os, signal, subprocess, sys, threading
watch = int(sys.argv[1])
soffice = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL)
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
