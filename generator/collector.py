"""The cyclic garbage collector, paused for work that makes a great many objects and no reference cycles.

Loading a district (its tables, then its model) and writing the district view make millions of small
objects that live on, none of them in a cycle. While they are made, CPython's collector runs again
and again, and each of its fuller passes walks every object alive: at 1,000 schools that was a
quarter to a third of the main process's serial time, spent finding nothing to collect. Paused, the
objects are looked at once, when the collector next runs; reference counting frees everything else
as usual. A build then holds them for the rest of its run (collector_frozen).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block (or, as a decorator, a function), then restore it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            # The objects the block made are all in the youngest generation: look at them now, once, so
            # any cycles among them (openpyxl's workbooks) are freed here rather than at some later pass.
            gc.collect(0)


@contextmanager
def collector_frozen() -> Iterator[None]:
    """Leave every object alive now out of the collector's passes until the block ends: what a build has
    loaded (the district's tables and model, millions of objects and no cycles) lives the whole run, and
    each fuller pass that walked it afterwards found nothing (0.3 s at 5,000 schools, before any packet
    was built, and again while the results came in). Reference counting still frees what the block lets
    go; at its end the objects are the collector's again, so a process that builds again (a test
    session) collects what the run left."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
