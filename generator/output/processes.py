"""The lot of a build's helper processes, whatever they do: Ctrl-C is the main process's to handle, a
helper ends when the main process does, and the main process stops them at once when it must.

Light on purpose (no renderer is imported): a process that only reads workbooks starts from here.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
import threading
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generator, Iterable, Iterator, Sequence

from generator.findings import PacketsError


@contextmanager
def interrupt_deferred() -> Iterator[None]:
    """Hold a Ctrl-C back until the block ends, then raise it. Handing work to a pool takes its locks
    (its queue's among them); an interrupt raised the instant after one was taken would leave it held,
    and the process, having said it stopped, hangs as it exits, joining the pool's thread that waits on
    it. Outside the main thread, where Python delivers no signal, and where Ctrl-C does not raise
    KeyboardInterrupt (a build started in the background ignores it), the block just runs."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


def in_workers(work: Callable[..., Any], items: Iterable[tuple], processes: int,
               context: multiprocessing.context.BaseContext, in_flight: int, lost: str) -> Generator[Any, None, None]:
    """Yield work(*item) for each item, in order, made in `processes` pool workers started from `context`.
    At most `in_flight` items are handed over at a time, not all of them queued at once, so memory stays
    flat however many there are. Ctrl-C waits for a hand-over to finish (interrupt_deferred); a worker
    that ends unexpectedly (the computer out of memory, a kill) is a PacketsError saying `lost`, not a
    traceback; Ctrl-C, an error, or the caller stopping early (close) stops the workers at once, rather
    than once every item queued is done."""
    with ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=worker_init) as pool:
        pending: deque = deque()
        try:
            for item in items:
                with interrupt_deferred():
                    pending.append(pool.submit(work, *item))
                if len(pending) >= in_flight:
                    yield _oldest(pending)
            while pending:
                yield _oldest(pending)
        except BrokenProcessPool:
            stop_workers(pool)
            raise PacketsError(lost) from None
        except BaseException:
            if not all(future.done() for future in pending):
                stop_workers(pool)
            raise


class Helper:
    """One helper process doing part of the main process's work beside it (helper_process)."""

    def __init__(self, pool: ProcessPoolExecutor):
        self._pool = pool

    def beside(self, calls: list[tuple[Callable[..., Any], tuple]], own: Callable[[], Any]) -> tuple[Any, list]:
        """Return own() and each work(*args) of `calls`, the calls made in the helper while this process
        makes own(). A call the helper could not make (it could not start, or ended: out of memory,
        stopped) is made here after own(): the helper is only ever a quicker way. What a call raises is
        raised here, as if made here. An argument handed over in a file (handed_over) reaches work as the
        value it holds."""
        try:
            with interrupt_deferred():
                futures = [self._pool.submit(_made, work, args) for work, args in calls]
        except BrokenProcessPool:
            futures = []
        mine = own()
        made = []
        for i, (work, args) in enumerate(calls):
            answer = _answer(futures[i]) if i < len(futures) else _NOT_MADE
            made.append(_made(work, args) if answer is _NOT_MADE else answer)
        return mine, made


_NOT_MADE = object()


@dataclass(frozen=True)
class Handed:
    """An argument of a helper call handed over in a temporary file (handed_over): pickled with the call, it
    is only the file's path; Helper.beside passes the call the value read back from it."""

    path: Path

    def value(self) -> Any:
        with self.path.open("rb") as handle:
            return pickle.load(handle)          # written by this run (handed_over), never by anyone else


@contextmanager
def handed_over(value: Any) -> Iterator[Any]:
    """Yield what to give a helper call (Helper.beside) for `value`: a Handed, its file removed once the block
    ends, so that this process lets go of the value while the helper works. The pool keeps a call's
    arguments until the helper answers: readiness.xlsx's rows (20 MB at 5,000 schools) stayed here through
    the whole district view. The value itself where no temporary file can be written."""
    try:
        fd, name = tempfile.mkstemp(prefix="packets-handed-", suffix=".pickle")
    except OSError:
        yield value
        return
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:                 # a full temporary folder: handed with the call after all
            yield value
            return
        del value
        yield Handed(Path(name))
    finally:
        Path(name).unlink(missing_ok=True)


def _made(work: Callable[..., Any], args: tuple) -> Any:
    return work(*(arg.value() if isinstance(arg, Handed) else arg for arg in args))


def _answer(future: Future) -> Any:
    """Return the future's answer; _NOT_MADE when its process could not start or ended."""
    try:
        return future.result()
    except BrokenProcessPool:
        return _NOT_MADE


@contextmanager
def helper_process(context: multiprocessing.context.BaseContext,
                   warm: Sequence[tuple[Callable[..., None], tuple]] = ()) -> Iterator[Helper]:
    """Yield a Helper: one process started from `context`, first making each work(*args) of `warm` (what
    it will need: imports, prepared templates), so that it has them by the time it is handed work. Ctrl-C
    or an error in the block stops it at once."""
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=helper_init) as pool:
        try:
            with interrupt_deferred():
                for work, args in warm:
                    pool.submit(work, *args)
            yield Helper(pool)
        except BaseException:
            stop_workers(pool)
            raise


def _oldest(pending: deque) -> Any:
    """Return the oldest item's answer, leaving it in `pending` while it is awaited (so an interrupt
    meanwhile finds it not done, and stops the workers)."""
    answer = pending[0].result()
    pending.popleft()
    return answer


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's workers mid-chunk: what they had not yet moved into place is left as temporary
    files, which the next run removes. (shutdown alone would wait for every chunk queued.)"""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(5)


def worker_init() -> None:
    """Prepare a pool worker: Ctrl-C is left to the main process, which stops the workers itself
    (a worker interrupted on its own would print its traceback), and the worker ends as soon as the
    main process does, however it ends. A packet worker's parent is the fork server, which outlives a
    killed main process for as long as any worker runs, so the worker watches the main process itself:
    multiprocessing's parent sentinel is readable once the main process is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent.sentinel,), name="end-with-build", daemon=True).start()


def helper_init() -> None:
    """Prepare a helper process as worker_init does; and once its work is done it ends at once, leaving its
    memory to the system whole rather than freeing its objects one by one (a spawned process's exit: 0.15 s
    at 5,000 schools, which the build waited for). Its answers have all been sent by then, and what it wrote
    is closed: there is nothing left to finish."""
    worker_init()
    # At exit, what its work registered later (logging's, tempfile's) runs first; this ends the process
    # before the teardown that frees each object.
    atexit.register(_end_at_once)


def _end_at_once() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os._exit(0)


def _end_with(sentinel) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)
