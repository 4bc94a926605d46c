"""Build manifest: what each school's packet was built from, so an unchanged school is skipped."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, package
from .load import WORKBOOK_SUFFIXES
from .schema import SHEETS
from .settings import SETTINGS_FILE

MANIFEST = "build-manifest.json"


def templates_digest(folder: Path) -> str:
    """Return a hash of every file in the templates folder: restyling a template rebuilds every packet."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.name.startswith("~$")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def packet_fingerprint(packet, settings, templates: str) -> str:
    """Return a hash of everything a packet is made from: the school's normalized inputs (the whole
    Packet model, which holds the date overdue is judged by), the templates, the naming settings and
    the generator's version. Where a row sits in a sheet is not part of it."""
    parts = (__version__, templates, settings.district_name, settings.folder_pattern, settings.file_pattern,
             repr(packet))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def input_files(folder: Path) -> list[Path]:
    """Return the files of an inputs folder a build reads: settings.toml, each sheet's CSV file and each
    workbook, under the names the loader looks for (the first of roster.xlsx, .xlsm, .ods that exists).
    Nothing else there is read or hashed: not a 600 MB video left in the folder, email.toml (only
    `packets send` reads it), Excel's lock files, or the validation report written there."""
    folder = Path(folder)
    names = {SETTINGS_FILE, *(spec.csv_name for spec in SHEETS)}
    for stem in {spec.workbook for spec in SHEETS}:
        found = [stem + suffix for suffix in WORKBOOK_SUFFIXES if (folder / (stem + suffix)).is_file()]
        names.update(found[:1])
    return [folder / name for name in sorted(names) if (folder / name).is_file()]


def run_digest(settings, templates: str, strict: bool, pdf: bool = False) -> str:
    """Return a hash of everything a whole run depends on: every input file it reads (input_files), the
    templates, the settings and options, and the generator's version. When it matches the last run's,
    nothing can have changed, and the inputs need not even be read."""
    digest = hashlib.sha256()
    for part in (__version__, templates, settings.district_name, settings.planning_year.label,
                 settings.as_of.isoformat(), settings.folder_pattern, settings.file_pattern,
                 ",".join(sorted(settings.schools)), str(strict), "pdf" if pdf else ""):
        digest.update(part.encode("utf-8") + b"\x1f")
    for path in input_files(settings.inputs):
        digest.update(path.name.encode("utf-8") + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass
class Manifest:
    """The record of the last build in an output folder, one entry per school."""

    path: Path
    entries: dict[str, dict] = field(default_factory=dict)
    run: dict = field(default_factory=dict)          # the last complete run: its digest and schools
    # Schools a run set out to rebuild: until that run records them, their packets may be part new,
    # part old (it was killed midway), so they are not current whatever their entries say.
    pending: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, output: Path) -> "Manifest":
        """Return the output folder's manifest; a missing or unreadable one is empty (everything rebuilds)."""
        path = Path(output) / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["schools"] if isinstance(data.get("schools"), dict) else {}
            run = data["last_run"] if isinstance(data.get("last_run"), dict) else {}
            pending = {str(sid) for sid in data.get("pending", ())} if isinstance(data.get("pending"), list) else set()
        except (OSError, ValueError, AttributeError, KeyError):
            entries, run, pending = {}, {}, set()
        return cls(path, entries, run, pending)

    def unchanged_run(self, digest: str, report: Path) -> bool:
        """Return True when the last run had this digest, built every school, and its files are all there."""
        if self.run.get("digest") != digest or not report.is_file():
            return False
        schools = self.run.get("schools", [])
        return bool(schools) and all(
            sid in self.entries and self.is_current(sid, self.entries[sid].get("fingerprint")) for sid in schools)

    def begin_run(self, rebuilding) -> None:
        """Record, before anything is written, that a run is under way: until finish_run, the last run's
        district view and the packets being rebuilt are not vouched for, so a run killed midway is
        made good by the next one, not skipped as unchanged."""
        self.run = {}
        self.pending = set(self.pending) | set(rebuilding)

    def finish_run(self, digest: str | None, schools: list[str]) -> None:
        """Record the run just made, its packets and district view all written; digest None (a school
        failed) means the next run must look again."""
        self.run = {"digest": digest, "schools": schools} if digest else {}
        self.pending = set()

    def is_current(self, school_id: str, fingerprint: str) -> bool:
        """Return True when the school's packet was built from the same inputs and is still all on disk."""
        entry = self.entries.get(school_id)
        if not entry or entry.get("fingerprint") != fingerprint or school_id in self.pending:
            return False
        output = self.path.parent
        return all((output / doc).is_file() for doc in entry.get("documents", ()))

    def record(self, school_id: str, fingerprint: str, folder: Path, documents, built_at: dt.datetime,
               name: str = "", designation: str = "", ready: bool = False, as_of: dt.date | None = None) -> None:
        output = self.path.parent
        self.entries[school_id] = {
            "as_of": as_of.isoformat() if as_of else None,       # the day overdue was judged by
            "fingerprint": fingerprint, "name": name, "designation": designation, "ready": ready,
            "folder": folder.relative_to(output).as_posix(),
            "documents": [Path(d).relative_to(output).as_posix() for d in documents],
            "built_at": built_at.isoformat(),
        }

    def entry(self, school_id: str) -> dict:
        return self.entries.get(school_id, {})

    def save(self) -> None:
        data = {"generator_version": __version__, "last_run": self.run,
                **({"pending": sorted(self.pending)} if self.pending else {}),
                "schools": dict(sorted(self.entries.items()))}
        package.write_atomic(self.path, json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))
