"""The lot of a build's helper processes, whatever they do: Ctrl-C is the main process's to handle, a
helper ends when the main process does, and the main process stops them at once when it must.

Light on purpose (no renderer is imported): a process that only reads workbooks starts from here.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Iterator


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


def _end_with(sentinel) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)
