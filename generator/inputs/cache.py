"""Each workbook's sheets as normalized, kept beside the packets so that a build reads again only the
workbooks whose files changed.

At 5,000 schools goals.xlsx takes 3.7 s to read and normalize, and 0.8 s to load from here: an edit to one
school's timeline, or the first build of a new day (every packet shows that day's progress, so every packet
is rebuilt), no longer waits on it.

A workbook's store is one SQLite file (goals.sqlite) holding its rows grouped by sheet and school, so a
school's rows can also be read alone. Values are MessagePack: data, never code. (Not pickle: whoever can
write the output folder could then make the next build run their code.) It is only ever a cache: when its
file is missing, damaged, or was written for other file contents, another schema or other reading code,
the workbook is read again.

Each school's rows of a sheet are also kept with a digest of them (and of where the sheet's columns are),
so that a build can tell which schools' inputs are as they were (group_digests) without looking at them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import shutil
import sqlite3
from contextlib import closing
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import msgpack

from generator.findings import Finding
from generator.inputs.normalize import Row, Table
from generator.inputs.read import file_digest, sheet_csv, workbook_path
from generator.inputs.recurrence import Repeats
from generator.inputs.schema import Sheet

CACHE_FOLDER = ".packets-cache"         # in the output folder; a dot folder, which nothing else there lists
_FORMAT = "2"                           # of the store's tables and encoding
_DATE, _REPEATS = 1, 2                  # MessagePack extension types


PACKAGE = Path(__file__).parent.parent          # generator/


def source_digest(*patterns: str) -> str:
    """Return a hash of the generator's source files matching the patterns (relative to the package):
    what was made by other code is not trusted, even where the version number has not changed (as while
    the generator is being developed)."""
    digest = hashlib.sha256()
    for path in sorted({path for pattern in patterns for path in PACKAGE.glob(pattern)}):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """Return a hash of the code that reads and normalizes: a store written by other code is not used."""
    return source_digest("inputs/*.py", "findings.py")


def workbook_key(folder: Path, specs: tuple[Sheet, ...]) -> str | None:
    """Return the key a workbook's normalized sheets are stored under: a hash of its file's contents, of
    whether Excel has it open (reading then warns), of the sheets' schema (the district's designations
    among it) and of the reading code. None when there is nothing worth keeping: no workbook, or a sheet
    of it read from a CSV file of its own."""
    folder = Path(folder)
    path = workbook_path(folder, specs[0].workbook)
    if path is None or any(sheet_csv(folder, spec) for spec in specs):
        return None
    digest = hashlib.sha256()
    for part in (_FORMAT, _code_digest(), repr(specs), path.name, str((folder / f"~${path.name}").exists())):
        digest.update(part.encode("utf-8") + b"\x1f")
    digest.update(file_digest(path))
    return digest.hexdigest()


def run_folder(cache: Path) -> Path:
    """Return this process's folder in the cache: a first build keeps goals.xlsx there for its own run
    (one build at a time writes an output folder, so any other such folder is what a killed run left)."""
    return Path(cache) / f"{_RUN_FOLDER}{os.getpid()}"


def left_run_folders(cache: Path) -> list[Path]:
    """Return the run folders in the cache (run_folder) but this process's."""
    return [folder for folder in Path(cache).glob(f"{_RUN_FOLDER}*") if folder != run_folder(cache)]


_RUN_FOLDER = ".run-"


def _encode(value: Any) -> msgpack.ExtType:
    # Exactly a date: a datetime (a date too) would come back without its time, so it is not stored.
    if value.__class__ is dt.date:
        return msgpack.ExtType(_DATE, value.toordinal().to_bytes(4, "little"))
    if value.__class__ is Repeats:
        return msgpack.ExtType(_REPEATS, msgpack.packb(dataclasses.astuple(value)))
    raise TypeError(f"cannot store {value.__class__.__name__}")


def _decode(code: int, data: bytes) -> Any:
    if code == _DATE:
        return dt.date.fromordinal(int.from_bytes(data, "little"))
    if code == _REPEATS:
        return Repeats(*msgpack.unpackb(data, use_list=False))
    raise ValueError(f"unknown stored type {code}")


# A sheet's rows of one school (or its district-wide rows: school None) -> the digest of them.
Digests = dict[tuple[str, Any], str]


def _packed_groups(tables: dict[str, Table]) -> Iterator[tuple[str, Any, bytes, str]]:
    """Yield each sheet's rows grouped by School ID, as (sheet, school, the rows packed, their digest), one
    group at a time: a large workbook packed whole would be held twice. The digest also covers the sheet's
    file, name and columns: where a row comes from is part of what a packet and its findings say. Raise
    TypeError for a value a store cannot hold."""
    packer = msgpack.Packer(default=_encode, autoreset=False)
    for name, table in tables.items():
        where = msgpack.packb((table.file, table.sheet, sorted(table.columns.items())))
        by_school: dict[Any, list[Row]] = {}
        for row in table.rows:
            by_school.setdefault(row["school_id"], []).append(row)
        for school, rows in by_school.items():
            packer.reset()
            packer.pack_array_header(len(rows))
            for row in rows:
                packer.pack((row.number, row.cells))
            packed = packer.bytes()
            yield name, school, packed, hashlib.blake2b(where + packed, digest_size=16).hexdigest()


def group_digests(tables: dict[str, Table]) -> Digests | None:
    """Return the digest of each sheet's rows of each school, as a store keeps them (None: a value that
    cannot be stored, so none can be told)."""
    try:
        return {(sheet, school): digest for sheet, school, _, digest in _packed_groups(tables)}
    except (TypeError, ValueError, OverflowError):
        return None


def _store_path(cache: Path, specs: tuple[Sheet, ...]) -> Path:
    return Path(cache) / f"{specs[0].workbook}.sqlite"


def open_store(path: Path) -> sqlite3.Connection:
    """Open a store to read, as immutable: it never changes once in place (store() writes a new file and
    moves it there), and so needs no locks, which an output folder on a network drive may not have."""
    return sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True)


def holds(cache: Path, specs: tuple[Sheet, ...], key: str) -> bool:
    """Return True when the workbook's store is there and kept under key (nothing is loaded)."""
    path = _store_path(cache, specs)
    try:
        with closing(open_store(path)) as db:
            return db.execute("SELECT 1 FROM meta WHERE key = ?", (key,)).fetchone() is not None
    except sqlite3.Error:
        return False


@dataclasses.dataclass(frozen=True)
class Kept:
    """A workbook as its store keeps it: its tables (without their rows when loaded apart), the findings of
    loading, normalizing and checking it (its plan sheets' checks, validate.plan_checks; None when not
    kept) and its group_digests."""

    tables: dict[str, Table]
    loading: list[Finding]
    normalizing: list[Finding]
    digests: Digests
    checked: list[Finding] | None


def load(cache: Path, specs: tuple[Sheet, ...], key: str, rows: bool = True) -> Kept | None:
    """Return the workbook as stored under key, its tables' rows too unless `rows` is false (SchoolRows then
    reads a school's); None when the store is missing, is for another key, or cannot be read."""
    path = _store_path(cache, specs)
    if not path.is_file():
        return None
    try:
        with closing(open_store(path)) as db:
            found = db.execute("SELECT body FROM meta WHERE key = ?", (key,)).fetchone()
            if found is None:
                return None
            meta = msgpack.unpackb(found[0])
            if not rows:
                digests = {(sheet, school): digest
                           for sheet, school, digest in db.execute("SELECT sheet, school, digest FROM rows")}
                return _kept(meta, specs, {}, digests)
            by_sheet: dict[str, list[Row]] = {}
            digests = {}
            for sheet, school, packed, digest in db.execute("SELECT sheet, school, rows, digest FROM rows"):
                digests[sheet, school] = digest
                by_sheet.setdefault(sheet, []).extend(_rows(packed, specs, sheet))
        return _kept(meta, specs, by_sheet, digests)
    except Exception:       # a damaged or foreign store is no store: the workbook is read again
        return None


def _rows(packed: bytes, specs: tuple[Sheet, ...], sheet: str) -> Iterator[Row]:
    at = next(spec.positions for spec in specs if spec.name == sheet)
    return (Row(number, cells, at) for number, cells in msgpack.unpackb(packed, ext_hook=_decode, use_list=False))


def _kept(meta: dict, specs: tuple[Sheet, ...], by_sheet: dict[str, list[Row]], digests: Digests) -> Kept:
    specs_by_name = {spec.name: spec for spec in specs}
    tables = {}
    for name, (file, sheet, columns) in meta["tables"].items():
        rows = sorted(by_sheet.get(name, ()), key=lambda row: row.number)     # stored school by school
        tables[name] = Table(specs_by_name[name], file, sheet, tuple(rows),
                             {field: (letter, header) for field, letter, header in columns})
    checked = meta.get("checked")
    return Kept(tables, [Finding(*f) for f in meta["loading"]], [Finding(*f) for f in meta["normalizing"]], digests,
                None if checked is None else [Finding(*f) for f in checked])


@dataclasses.dataclass(frozen=True)
class SchoolRows:
    """A workbook's rows in its store, read a school at a time: a rebuild models only the plans of the
    schools it builds, so an unchanged goals.xlsx (most of a district's rows) is never loaded whole."""

    cache: Path
    specs: tuple[Sheet, ...]
    key: str
    tables: dict[str, Table]            # the workbook's tables, without their rows

    def __call__(self, school_id: str) -> dict[str, Table]:
        """Return the workbook's tables holding only the school's own rows. Raise KeyError when the store has
        changed since it was loaded (nothing of this run writes it)."""
        with closing(open_store(_store_path(self.cache, self.specs))) as db:
            if db.execute("SELECT 1 FROM meta WHERE key = ?", (self.key,)).fetchone() is None:
                raise KeyError(f"the store of {self.specs[0].workbook} was replaced during the run")
            found: dict[str, list[Row]] = {}
            for sheet, packed in db.execute("SELECT sheet, rows FROM rows WHERE school = ?", (school_id,)):
                found.setdefault(sheet, []).extend(_rows(packed, self.specs, sheet))
        return {name: dataclasses.replace(table, rows=tuple(found.get(name, ())))
                for name, table in self.tables.items()}

    def move_to(self, cache: Path) -> None:
        """Move the store into `cache` (a first build's, kept for its run elsewhere: workbook.read_apart),
        replacing what was kept there. Raise OSError when it cannot be moved."""
        os.replace(_store_path(self.cache, self.specs), _store_path(cache, self.specs))


def store(cache: Path, specs: tuple[Sheet, ...], key: str, tables: dict[str, Table], loading: list[Finding],
          normalizing: list[Finding], checked: list[Finding] | None = None) -> Digests | None:
    """Keep the workbook's tables and findings (`checked`: its plan sheets' checks, where it has them) under
    key, replacing what was kept for it before, and return its group_digests. Written to a temporary file,
    then moved into place: a reader sees the old store or the whole new one. A store that cannot be written
    (a read-only output folder, a full disk) is left out; one with a value it cannot hold, too (and then no
    digests are returned)."""
    digests: Digests = {}

    def digested(groups: Iterator[tuple[str, Any, bytes, str]]) -> Iterator[tuple[str, Any, bytes, str]]:
        for group in groups:
            digests[group[0], group[1]] = group[3]
            yield group

    def fill(db: sqlite3.Connection) -> None:
        meta = {"tables": {name: (t.file, t.sheet, [(f, *where) for f, where in t.columns.items()])
                           for name, t in tables.items()},
                "loading": [dataclasses.astuple(f) for f in loading],
                "normalizing": [dataclasses.astuple(f) for f in normalizing],
                "checked": None if checked is None else [dataclasses.astuple(f) for f in checked]}
        db.execute("CREATE TABLE meta (key TEXT, body BLOB)")
        db.execute("CREATE TABLE rows (sheet TEXT, school TEXT, rows BLOB, digest TEXT)")
        db.execute("INSERT INTO meta VALUES (?, ?)", (key, msgpack.packb(meta)))
        db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", digested(_packed_groups(tables)))
        db.execute("CREATE INDEX by_school ON rows (school)")
    try:
        write_store(_store_path(cache, specs), fill)
    except (TypeError, ValueError, OverflowError):      # a value a store cannot hold: no store, no digests
        return None
    except (OSError, sqlite3.Error):                   # not written: the digests are still the rows'
        return group_digests(tables)
    return digests


def write_store(path: Path, fill: Callable[[sqlite3.Connection], None], edit: bool = False) -> None:
    """Write a store: a new SQLite file that fill() fills (with `edit`, a copy of the store as it is, which
    fill() changes), written under a temporary name and moved into place once whole, so a reader sees the
    old store or the whole new one. Raise what fill or writing raised, with nothing of the new file left."""
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for left in (partial, partial.with_name(partial.name + "-journal")):
            left.unlink(missing_ok=True)            # what a build killed while writing it left
        if edit:
            shutil.copyfile(path, partial)
        with closing(sqlite3.connect(partial)) as db:
            # No journal and no flushing: the file is new and moved into place only once whole, so neither
            # buys anything; a store a power cut damages is read past like any other.
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            fill(db)
            db.commit()
        os.replace(partial, path)
    except BaseException:
        _remove(partial)
        raise


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
