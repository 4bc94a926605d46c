"""A packet's manifest.json: every file of the packet with its size and SHA-256, the input files it was
built from (with theirs), the generator's version, the school's readiness and when it was built.

It travels with the packet folder (zipped, e-mailed, uploaded), so a reviewer can check that the
files are the ones that were built, and from which inputs. output/build-manifest.json, by contrast,
is the build's own record for skipping unchanged schools.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from generator import __version__
from generator.findings import ERROR, WARNING, Finding
from generator.inputs.read import file_digest
from generator.output import atomic
from generator.output.build_record import input_files

PACKET_MANIFEST = "manifest.json"


def file_entry(name: str, data: bytes) -> dict[str, Any]:
    return _entry(name, len(data), hashlib.sha256(data).digest())


def _entry(name: str, size: int, sha256: bytes) -> dict[str, Any]:
    return {"file": name, "size": size, "sha256": sha256.hex()}


@lru_cache(maxsize=4)
def _inputs(files: tuple[tuple[str, int, int], ...], folder: str) -> tuple[dict[str, Any], ...]:
    return tuple(_entry(name, size, file_digest(Path(folder) / name)) for name, size, _ in files)


def input_entries(inputs: Path) -> list[dict[str, Any]]:
    """Return each input file's name, size and SHA-256; hashed once per process while the files are
    unchanged (every school's packet is built from the same district files)."""
    stamps = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in input_files(inputs))
    return [dict(entry) for entry in _inputs(stamps, str(Path(inputs).resolve()))]


def readiness_entry(ready: bool, findings: Sequence[Finding]) -> dict[str, Any]:
    return {"status": "Ready" if ready else "Not ready", "ready": ready,
            "errors": sum(f.severity == ERROR for f in findings),
            "warnings": sum(f.severity == WARNING for f in findings)}


def packet_manifest(school, inputs: Path, files: dict[str, bytes], ready: bool, findings: Sequence[Finding],
                    built_at: dt.datetime) -> bytes:
    """Return manifest.json for a packet about to be written: `files` are its documents, by file name."""
    data = {
        "school_id": school.school_id,
        "school": school.name,
        "generator": {"name": "plan-packets", "version": __version__},
        "built_at": built_at.isoformat(),
        "readiness": readiness_entry(ready, findings),
        "files": [file_entry(name, content) for name, content in files.items()],
        "inputs": input_entries(inputs),
    }
    return _dump(data)


def read(folder: Path) -> dict[str, Any]:
    """Return a packet folder's manifest, or {} when it is missing or unreadable."""
    try:
        data = json.loads((Path(folder) / PACKET_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def add_files(folder: Path, paths: Iterable[Path], readiness: dict[str, Any] | None = None) -> None:
    """Record packet files as they are on disk now (the PDF added after the packet was written, and
    the documents it was made from), rewriting manifest.json atomically; `readiness` replaces the
    recorded readiness when given."""
    data = read(folder)
    entries = {e["file"]: e for e in data.get("files", []) if isinstance(e, dict) and "file" in e}
    for path in paths:
        entries[Path(path).name] = file_entry(Path(path).name, Path(path).read_bytes())
    data["files"] = list(entries.values())
    data.setdefault("generator", {"name": "plan-packets", "version": __version__})
    if readiness is not None:
        data["readiness"] = readiness
    atomic.write_atomic(Path(folder) / PACKET_MANIFEST, _dump(data))


def _dump(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
