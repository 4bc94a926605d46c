"""Files: writing documents so that a failure never leaves a broken file or loses a good one."""

from __future__ import annotations

import ctypes
import errno
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

from generator.findings import PacketsError

TMP_PREFIX = ".tmp-"          # a document being written, not yet in place
OLD_PREFIX = ".old-"          # an older document kept while its packet's new documents are moved into place


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files readable by their owner only; documents are shared, so they get the
# permissions any new file would (0644 under the usual umask).
FILE_MODE = 0o666 & ~_umask()


def _syncfs():
    """Return Linux's syncfs(fd) from the C library, or None where there is none.

    syncfs flushes the one file system holding fd and returns when its files are on disk, so a batch
    of documents need not be flushed one by one. sync(), which Python has, would flush every file
    system (and wait on any hung network mount), and elsewhere than Linux may return sooner."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    call.argtypes, call.restype = [ctypes.c_int], ctypes.c_int
    return call


_SYNCFS = _syncfs()
CAN_DEFER_FLUSH = _SYNCFS is not None


def _stage(directory: Path, suffix: str, data: bytes | Iterable[bytes], flush: bool = True) -> Path:
    """Return a hidden temporary file in `directory` holding `data`, flushed to disk unless `flush` is
    False. `data` may come in blocks, so a large file made piece by piece (the dashboard) is never
    whole in memory."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:                 # a file where the folder goes; "File exists" says too little
        raise NotADirectoryError(errno.ENOTDIR, "a file, not a folder", str(directory)) from None
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=suffix, dir=directory)
    try:
        os.chmod(tmp, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, (bytes, bytearray, memoryview)):
                handle.write(data)
            else:
                handle.writelines(data)
            handle.flush()
            if flush:
                os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _named(exc: OSError, path: Path) -> OSError:
    """Return exc naming the file being written: a full disk's failed write names none, and a
    temporary file's name would mean nothing to the reader."""
    # An OSError made without an errno (not from the system) prints no file name: left as it is.
    if exc.errno is not None and (exc.filename is None or Path(str(exc.filename)).name.startswith(".tmp-")):
        exc.filename, exc.filename2 = str(path), None
    return exc


def _refuse_folder(path: Path) -> None:
    """Raise IsADirectoryError naming `path` when a folder stands where the file goes, found before
    anything is written so nothing is half replaced; and refuse a device or pipe, which moving a file
    over would remove (as root, `--report /dev/null` would replace /dev/null)."""
    try:
        mode = os.stat(path).st_mode       # one call: every document of every packet is looked at
    except (OSError, ValueError):
        return                              # nothing there (or nothing that can be looked at): the write says
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not stat.S_ISREG(mode):
        raise FileExistsError(errno.EEXIST, "not a regular file (a device, pipe or socket), so not replaced",
                              str(path))


def ensure_writable(folder: Path, names: Iterable[str] = ()) -> None:
    """Make the folder (and its parents), check a file can be made in it, and that no folder stands
    where one of the named files goes: each is one error before the build starts, not one per school
    or one after every packet was replaced."""
    try:
        _stage(Path(folder), ".probe", b"", flush=False).unlink()
    except OSError as exc:
        raise _named(exc, Path(folder)) from None
    for name in names:
        _refuse_folder(Path(folder) / name)


def write_atomic(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write a file so that readers see the old file or the whole new one, never a part (`data` whole, or
    in blocks as they are made)."""
    _refuse_folder(path)
    try:
        tmp = _stage(path.parent, path.suffix, data)
    except OSError as exc:
        raise _named(exc, path) from None
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def flush_all(folder: Path) -> None:
    """Flush every file written so far on the file system holding `folder` to disk: what
    stage_files(flush=False) left to the caller. A folder never made holds nothing to flush."""
    if not CAN_DEFER_FLUSH or not Path(folder).is_dir():
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if _SYNCFS(fd) != 0:
            error = ctypes.get_errno()
            raise PacketsError(f"Could not put the documents in {folder} on disk: {os.strerror(error)}.")
    finally:
        os.close(fd)


def _keep_copy(path: Path) -> Path | None:
    """Return a hidden copy of an existing file (a hard link where the file system allows), or None."""
    if not path.exists():
        return None
    # The name says whose copy it is, so a run killed mid-move leaves a copy the next run can place.
    backup = path.parent / f"{OLD_PREFIX}{secrets.token_hex(4)}-{path.name}"
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)
    return backup


def write_files(folder: Path, files: Mapping[str, bytes | Iterable[bytes]]) -> list[Path]:
    """Write a packet's documents into its folder, all or none (see place_files), each flushed to disk
    before it is moved into place, so not even a power cut can lose a good document."""
    return place_files(stage_files(folder, files))


def write_paths(files: Mapping[Path, bytes]) -> list[Path]:
    """Write documents that go to several folders, all or none: every one is staged (and flushed) in its
    own folder before any is moved into place, and a failed move puts back those already moved."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in files.items():
            staged += stage_files(path.parent, {path.name: data})
    except BaseException:
        discard(staged)
        raise
    return place_files(staged)


def stage_files(folder: Path, files: Mapping[str, bytes | Iterable[bytes]],
                flush: bool = True) -> list[tuple[Path, Path]]:
    """Return (target, temporary file) pairs: each document written to a hidden file in `folder`, all
    of them or none. With flush False (only where CAN_DEFER_FLUSH) the caller calls flush_all()
    before place_files moves any of them over an older document, and before recording them."""
    staged: list[tuple[Path, Path]] = []
    try:
        for name, data in files.items():
            _refuse_folder(folder / name)
            try:
                staged.append((folder / name, _stage(folder, Path(name).suffix, data, flush)))
            except OSError as exc:
                raise _named(exc, folder / name) from None
    except BaseException:
        discard(staged)
        raise
    return staged


def discard(staged: list[tuple[Path, Path]]) -> None:
    """Remove the temporary files of staged documents that were not moved into place."""
    for _, tmp in staged:
        tmp.unlink(missing_ok=True)


def place_files(staged: list[tuple[Path, Path]]) -> list[Path]:
    """Move staged documents into place, all or none: if a move fails, the documents already moved are
    put back as they were, so a packet never mixes new and old documents."""
    placed: list[tuple[Path, Path | None]] = []
    try:
        for target, tmp in staged:
            backup = _keep_copy(target)
            placed.append((target, backup))
            os.replace(tmp, target)
    except BaseException:
        for target, backup in reversed(placed):
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)
        raise
    finally:
        discard(staged)
        for _, backup in placed:
            if backup is not None:
                backup.unlink(missing_ok=True)
    return [target for target, _ in staged]


_OLD_COPY = re.compile(re.escape(OLD_PREFIX) + r"[0-9a-f]{8}-(?P<target>.+)\Z", re.S)


def remove_leftovers(output: Path) -> int:
    """Remove what killed runs left in the output folder and its packet folders: temporary files
    never moved into place, and the older documents kept while a packet was being placed. A kept
    copy whose document is missing is put back instead. Only ever called under the output folder's
    lock, so no other run's files are being written. Return how many files were tidied."""
    output = Path(output)
    if not output.is_dir():
        return 0
    tidied = 0
    folders = [output] + [entry.path for entry in os.scandir(output)
                          if entry.is_dir(follow_symlinks=False) and not entry.name.startswith(".")]
    for folder in folders:
        try:
            entries = [e for e in os.scandir(folder) if e.name.startswith((TMP_PREFIX, OLD_PREFIX))]
        except OSError:
            continue
        for entry in entries:
            if not entry.is_file(follow_symlinks=False):
                continue
            path = Path(entry.path)
            kept = _OLD_COPY.match(entry.name)
            try:
                if kept and not (path.parent / kept["target"]).exists():
                    os.replace(path, path.parent / kept["target"])
                else:
                    path.unlink()
                tidied += 1
            except OSError:
                pass                      # tidying is best effort: the build does not depend on it
    return tidied
