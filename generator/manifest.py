"""Build manifest: what each school's packet was built from, so an unchanged school is skipped."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, package

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


@dataclass
class Manifest:
    """The record of the last build in an output folder, one entry per school."""

    path: Path
    entries: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, output: Path) -> "Manifest":
        """Return the output folder's manifest; a missing or unreadable one is empty (everything rebuilds)."""
        path = Path(output) / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["schools"] if isinstance(data.get("schools"), dict) else {}
        except (OSError, ValueError, AttributeError):
            entries = {}
        return cls(path, entries)

    def is_current(self, school_id: str, fingerprint: str) -> bool:
        """Return True when the school's packet was built from the same inputs and is still all on disk."""
        entry = self.entries.get(school_id)
        if not entry or entry.get("fingerprint") != fingerprint:
            return False
        output = self.path.parent
        return all((output / doc).is_file() for doc in entry.get("documents", ()))

    def record(self, school_id: str, fingerprint: str, folder: Path, documents, built_at: dt.datetime) -> None:
        output = self.path.parent
        self.entries[school_id] = {
            "fingerprint": fingerprint,
            "folder": folder.relative_to(output).as_posix(),
            "documents": [Path(d).relative_to(output).as_posix() for d in documents],
            "built_at": built_at.isoformat(),
        }

    def entry(self, school_id: str) -> dict:
        return self.entries.get(school_id, {})

    def save(self) -> None:
        data = {"generator_version": __version__, "schools": dict(sorted(self.entries.items()))}
        package.write_atomic(self.path, json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))
