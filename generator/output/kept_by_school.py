"""What a build made of each school, kept beside the packets for the next build to take as it is while the
school's key (a digest of what it was made from) is the same: one store per kind of thing (the readiness
findings, the dashboard's chart rows), a row per school with the key it was made for.

A store is one SQLite file in output/.packets-cache, written like the workbooks' stores (inputs/cache.py):
whole, then moved into place. It is only ever a cache: a store that cannot be read is no store, and one
that cannot be written is left out; the next build makes those things again."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, Iterable

from generator.inputs.cache import open_store, write_store


def read(path: Path) -> dict[str, tuple[str, Any]]:
    """Return what the store at `path` keeps: School ID -> (the key it was made for, what was made, as bytes or
    text as written); {} when there is no store, or it cannot be read (damaged, or another kind)."""
    if not Path(path).is_file():
        return {}
    try:
        with closing(open_store(Path(path))) as db:
            return {school: (key, made) for school, key, made in db.execute("SELECT school, key, made FROM kept")}
    except Exception:       # a damaged or foreign store is no store
        return {}


def write(path: Path, rows: Iterable[tuple[str, str, Any]]) -> None:
    """Write the store at `path` anew with `rows` (School ID, key, what was made), or leave it out when it
    cannot be written."""
    def fill(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE kept (school TEXT, key TEXT, made BLOB)")
        db.executemany("INSERT INTO kept VALUES (?, ?, ?)", rows)
    try:
        write_store(Path(path), fill)
    except (OSError, sqlite3.Error, TypeError, ValueError, OverflowError):
        pass
