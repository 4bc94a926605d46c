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
from typing import Any, Mapping

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


def write(path: Path, rows: Mapping[str, tuple[str, Any]],
          earlier: Mapping[str, tuple[str, Any]] | None = None) -> None:
    """Make the store at `path` hold `rows` (School ID -> (key, what was made)) and nothing else, or leave it
    out when it cannot be written. Given what it held (`earlier`, as read), when few schools' keys have
    changed only theirs are written, into a copy of it (a rebuild changes a few of thousands; the chart
    rows are 19 MB at 5,000 schools); when none has, nothing is written."""
    earlier = earlier or {}
    changed = [(school, *kept) for school, kept in rows.items() if earlier.get(school, ("",))[0] != kept[0]]
    gone = [(school,) for school in earlier if school not in rows]
    if earlier and not changed and not gone:
        return
    edit = bool(earlier) and len(changed) + len(gone) < len(rows) / 2

    def fill(db: sqlite3.Connection) -> None:
        if edit:
            db.executemany("DELETE FROM kept WHERE school = ?", gone)
            db.executemany("INSERT OR REPLACE INTO kept VALUES (?, ?, ?)", changed)
        else:
            db.execute("CREATE TABLE kept (school TEXT PRIMARY KEY, key TEXT, made BLOB)")
            db.executemany("INSERT INTO kept VALUES (?, ?, ?)", ((school, *kept) for school, kept in rows.items()))
    try:
        write_store(Path(path), fill, edit)
    except (OSError, sqlite3.Error, TypeError, ValueError, OverflowError):
        pass
