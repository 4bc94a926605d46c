"""One build or send at a time per output folder: output/.packets.lock, locked by the operating system.

Two runs writing one folder at once mixed their packets (one build's documents beside the other's
PDF, manifests re-hashed to match). The lock is the kernel's, on an open file, so a run that dies,
however it dies, holds it no longer. The file names who holds it, for the second run's message, and
is removed when its run ends: one left behind means that run was killed or interrupted, and the next
run tidies up after it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Literal

from generator.findings import PacketsError

LOCK_FILE = ".packets.lock"

# Output folders this process holds: the command, and how many holds of it are nested. `packets send`
# holds its folder from planning to the last message, and the sending functions it calls take the same
# lock again; another command in the same process is refused as another process would be.
_HELD: dict[str, list] = {}


class OutputLock:
    """Hold output/.packets.lock while `packets <command>` writes to the output folder."""

    def __init__(self, output: Path, command: str):
        self.output = Path(output)
        self.path = self.output / LOCK_FILE
        self.command = command
        self.interrupted = False       # a run before this one ended without releasing the lock cleanly
        self._fd: int | None = None
        self._made_folder = False
        self._nested = False
        self._key = ""

    def __enter__(self) -> "OutputLock":
        key = self._key = os.path.realpath(self.output)
        if key in _HELD:
            command, _ = _HELD[key]
            if command != self.command:
                raise PacketsError(f"Another `packets {command}` is running on {self.output} (pid {os.getpid()}): "
                                   f"one build or send at a time per output folder. Fix: wait for it to "
                                   f"finish, then run again.")
            _HELD[key][1] += 1
            self._nested = True
            return self
        try:
            self._made_folder = not self.output.exists()
            self.output.mkdir(parents=True, exist_ok=True)
            self._fd = self._acquire()
        except OSError as exc:
            self._remove_folder_made()
            raise PacketsError(f"Cannot write to the output folder {self.output}: "
                               f"{exc.strerror or exc}.") from None
        _HELD[key] = [self.command, 1]
        return self

    def _acquire(self) -> int:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                _lock(fd)
            except OSError:
                holder = _holder(fd)
                os.close(fd)
                self._remove_folder_made()
                raise PacketsError(f"Another `packets {holder.get('command', 'build')}` is running on "
                                   f"{self.output}{_since(holder)}: one build or send at a time per output "
                                   f"folder. Fix: wait for it to finish, then run again.") from None
            # The run before may have removed the file between our open and our lock: a lock on a
            # file no longer in the folder guards nothing, so open the folder's file again.
            try:
                current = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                break
            os.close(fd)
        self.interrupted = bool(_holder(fd))
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps({"pid": os.getpid(), "command": self.command,
                                 "since": dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")}).encode())
        return fd

    def __exit__(self, exc_type, *exc) -> Literal[False]:      # never swallows what the run raised
        if self._nested:
            _HELD[self._key][1] -= 1
            return False
        del _HELD[self._key]
        # Ctrl-C or a signal may have stopped workers mid-write: the file stays as the sign for the
        # next run to tidy up. Any other error was cleaned up where it happened.
        clean = exc_type is None or issubclass(exc_type, Exception)
        if clean and os.name != "nt":
            self.path.unlink(missing_ok=True)        # while still held: no other run is between
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None
        if clean and os.name == "nt":                # pragma: no cover - an open file cannot be removed there
            try:
                self.path.unlink(missing_ok=True)
            except OSError:
                pass
        if clean:
            self._remove_folder_made()
        return False

    def _remove_folder_made(self) -> None:
        """Remove the output folder if this run made it and left nothing in it: a refused or failed
        run leaves the disk as it was."""
        if self._made_folder:
            try:
                self.output.rmdir()
            except OSError:
                pass


def _holder(fd: int) -> dict:
    """Return what the lock file says of the run that holds (or held) it; {} when it says nothing."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = json.loads(os.read(fd, 4096) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _since(holder: dict) -> str:
    if "pid" not in holder:
        return ""
    return f" (pid {holder['pid']}" + (f", since {holder['since']}" if holder.get("since") else "") + ")"


if sys.platform == "win32":  # pragma: no cover
    import msvcrt

    _LOCKED_BYTE = 1 << 20       # past the holder's note, so a second run can still read who holds it

    def _lock(fd: int) -> None:
        os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
