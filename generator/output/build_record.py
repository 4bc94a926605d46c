"""Build manifest: what each school's packet was built from, so an unchanged school is skipped."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Callable, Container, Iterator, Sequence

from generator import __version__
from generator.findings import WARNING, Finding
from generator.inputs.cache import source_digest
from generator.inputs.read import WORKBOOK_SUFFIXES, file_digest
from generator.inputs.schema import SHEETS
from generator.output import atomic
from generator.render.template_data import Templates
from generator.settings import SETTINGS_FILE

MANIFEST = "build-manifest.json"
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def templates_digest(templates: Templates) -> str:
    """Return a hash of every template file a run reads (the district's own where it has one, else the
    shipped one): restyling a template, or adding or removing a district's own, rebuilds every packet."""
    digest = hashlib.sha256()
    for name, path in templates.files():
        digest.update(name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def packet_fingerprint(packet, settings, templates: str) -> str:
    """Return a hash of everything a packet is made from: the school's normalized inputs (the whole
    Packet model, which holds the date overdue is judged by), the templates, the naming settings and
    the generator's version. Where a row sits in a sheet is not part of it."""
    parts = (__version__, templates, settings.district_name, settings.folder_pattern, settings.file_pattern,
             repr(packet))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def _packet_code() -> str:
    """Return a hash of the code that reads inputs and makes a packet's model of them (with the templates'
    data it reads: designations and state profiles)."""
    return source_digest("inputs/*.py", "model/*.py", "findings.py", "settings.py", "render/template_data.py")


def inputs_digests(digests: dict, school_ids, settings, templates: str) -> dict[str, str]:
    """Return each school's inputs digest: a hash of everything its packet is made from as it was read, its
    own rows of every sheet (the group_digests of inputs/cache.py), the district-wide rows, the settings
    (the day overdue is judged by among them), the templates, and the code that reads inputs and models a
    packet. A school whose digest is the one recorded would have the same packet, and so the same
    fingerprint: its packet need not be fingerprinted to be found current."""
    run_only = replace(settings, inputs=Path(), output=Path(), schools=(), templates=None, strict=False, jobs=1,
                       force=False, pdf=False)
    context = hashlib.blake2b(digest_size=16)
    for part in (__version__, _packet_code(), templates, repr(run_only)):
        context.update(part.encode("utf-8") + b"\x1f")
    own: dict[str | None, list[tuple[str, str]]] = {}
    for (sheet, school), digest in digests.items():
        own.setdefault(school, []).append((sheet, digest))
    # In sheet order, sorted school by school (one sort of every sheet's every school took longer).
    for sheet, digest in sorted(own.pop(None, [])):
        context.update(f"{sheet}\x1f{digest}\x1e".encode("utf-8"))
    base = context.digest()
    return {sid: hashlib.blake2b(base + repr(sorted(own.get(sid, []))).encode("utf-8"), digest_size=16).hexdigest()
            for sid in school_ids}


def input_files(folder: Path) -> list[Path]:
    """Return the files of an inputs folder a build reads: settings.toml, each sheet's CSV file and each
    workbook, under the names the loader looks for (the first of roster.xlsx, .xlsm, .ods that exists).
    Nothing else there is read or hashed: not a 600 MB video left in the folder, email.toml (only
    `packets send` reads it), Excel's lock files, or the validation report written there."""
    folder = Path(folder)
    try:
        # Looked for again only once the folder changes (a file added, removed or saved over): every
        # packet's manifest.json asks, and the look is twenty-odd names.
        changed = folder.stat().st_mtime_ns
    except OSError:
        changed = None
    return list(_input_files(folder, changed))


@lru_cache(maxsize=8)
def _input_files(folder: Path, changed: int | None) -> tuple[Path, ...]:
    names = {SETTINGS_FILE, *(spec.csv_name for spec in SHEETS)}
    for stem in {spec.workbook for spec in SHEETS}:
        found = [stem + suffix for suffix in WORKBOOK_SUFFIXES if (folder / (stem + suffix)).is_file()]
        names.update(found[:1])
    return tuple(folder / name for name in sorted(names) if (folder / name).is_file())


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
        digest.update(path.name.encode("utf-8") + file_digest(path))
    return digest.hexdigest()


def _unused(problem: str) -> Finding:
    return Finding(WARNING, f"Not used, as {problem}: every packet is rebuilt, and the manifest written anew.",
                   file=MANIFEST)


def _shape_problem(data) -> str:
    """Return what keeps data from being a manifest as save() writes it, or '' when nothing does."""
    if not isinstance(data, dict) or not isinstance(data.get("schools"), dict):
        return "it does not hold a \"schools\" table"
    run = data.get("last_run", {})
    if not isinstance(run, dict) or run and not (
            isinstance(run.get("digest"), str) and isinstance(run.get("schools"), list)
            and all(isinstance(sid, str) for sid in run["schools"])):
        return "its \"last_run\" is not a digest and a list of schools"
    pending = data.get("pending", [])
    if not isinstance(pending, list) or not all(isinstance(sid, str) for sid in pending):
        return "its \"pending\" is not a list of schools"
    for sid, entry in data["schools"].items():
        if not _entry_whole(entry):
            return f"the entry of school {sid} lacks its fingerprint, folder, documents or time built"
    return ""


def _relative(path) -> bool:
    """Return True for a path that stays inside the output folder."""
    return isinstance(path, str) and bool(path) and not path.startswith("/") and ".." not in path.split("/")


def _entry_whole(entry) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str) \
            or not _relative(entry.get("folder")) or not isinstance(entry.get("documents"), list) \
            or not all(_relative(d) for d in entry["documents"]) \
            or not all(isinstance(entry.get(key, ""), str) for key in ("name", "designation", "inputs")) \
            or not isinstance(entry.get("ready", False), bool):
        return False
    try:
        dt.datetime.fromisoformat(entry["built_at"])
    except (KeyError, TypeError, ValueError):
        return False
    return True


def _packet_manifest_intact(folder: Path, documents: list[str]) -> bool:
    """Return True when the packet's manifest.json reads as a build writes it, lists every document,
    and each file it lists is there at its recorded size: a damaged one would otherwise travel with a
    packet skipped as unchanged. (Sizes, not hashes: this runs for every school of every build.)"""
    from generator.output import packet_manifest
    data = packet_manifest.read(folder)
    files = data.get("files")
    if not isinstance(files, list) or not isinstance(data.get("readiness"), dict):
        return False
    sizes = {}
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("file"), str) or "/" in item["file"] \
                or "\\" in item["file"] or type(item.get("size")) is not int:
            return False
        sizes[item["file"]] = item["size"]
    if not {PurePosixPath(d).name for d in documents} <= sizes.keys():
        return False
    try:
        return all((folder / name).stat().st_size == size for name, size in sizes.items())
    except OSError:
        return False


def _stamp(output: Path, entry: dict) -> dict | None:
    """Return what a packet on disk looks like from outside, as it is recorded: its manifest.json's size
    and modification time, and each document's size; None when a file is missing."""
    from generator.output.packet_manifest import PACKET_MANIFEST  # it imports this module
    folder = os.path.join(output, entry["folder"])
    try:
        packet = os.stat(os.path.join(folder, PACKET_MANIFEST))
        sizes = [os.stat(os.path.join(output, doc)).st_size for doc in entry["documents"]]
    except OSError:
        return None
    return {"manifest": [packet.st_size, packet.st_mtime_ns], "sizes": sizes}


def _stamp_matches(output: str, entry: dict) -> bool:
    """Return True when the packet on disk is as recorded (_stamp): its manifest.json untouched since it
    was found whole, and every document there at its size. Stat calls only, where reading and checking
    every packet's manifest.json was most of a run with nothing to build."""
    stamp = entry.get("stamp")
    if not isinstance(stamp, dict):
        return False
    recorded, sizes = stamp.get("manifest"), stamp.get("sizes")
    if not isinstance(sizes, list) or len(sizes) != len(entry["documents"]) or not isinstance(recorded, list):
        return False
    from generator.output.packet_manifest import PACKET_MANIFEST
    try:
        packet = os.stat(os.path.join(output, entry["folder"], PACKET_MANIFEST))
        if [packet.st_size, packet.st_mtime_ns] != recorded:
            return False
        return all(os.stat(os.path.join(output, doc)).st_size == size for doc, size in zip(entry["documents"], sizes))
    except OSError:
        return False


@dataclass
class Manifest:
    """The record of the last build in an output folder, one entry per school."""

    path: Path
    entries: dict[str, dict] = field(default_factory=dict)
    run: dict = field(default_factory=dict)          # the last complete run: its digest and schools
    # Schools a run set out to rebuild: until that run records them, their packets may be part new,
    # part old (it was killed midway), so they are not current whatever their entries say.
    pending: set[str] = field(default_factory=set)

    findings: list[Finding] = field(default_factory=list)     # why a manifest found was not used
    # Schools is_current found current by reading their packet's manifest.json, the stamp being out of date.
    _restamp: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def load(cls, output: Path) -> "Manifest":
        """Return the output folder's manifest; a missing or unreadable one is empty (everything rebuilds),
        and one not as a build writes it is empty too, with a warning saying so."""
        path = Path(output) / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError:
            return cls(path)
        except ValueError as exc:
            return cls(path, findings=[_unused(f"it is not JSON ({exc})")])
        problem = _shape_problem(data)
        if problem:
            return cls(path, findings=[_unused(problem)])
        return cls(path, data["schools"], data.get("last_run", {}), set(data.get("pending", ())))

    def unchanged_run(self, digest: str, report: Path) -> bool:
        """Return True when the last run had this digest, built every school, and its files are all there."""
        if self.run.get("digest") != digest or not report.is_file():
            return False
        schools = self.run.get("schools", [])
        return bool(schools) and all(
            sid in self.entries and self.is_current(sid, self.entries[sid].get("fingerprint", "")) for sid in schools)

    def begin_run(self, rebuilding) -> None:
        """Record, before anything is written, that a run is under way: until finish_run, the last run's
        district view and the packets being rebuilt are not vouched for, so a run killed midway is
        made good by the next one, not skipped as unchanged."""
        self.run = {}
        self.pending = set(self.pending) | set(rebuilding)

    def finish_run(self, digest: str | None, schools: list[str], untouched=()) -> None:
        """Record the run just made, its packets and district view all written; digest None (a school
        failed) means the next run must look again. `untouched` are schools the run did not build (their
        inputs have errors): one an earlier, killed run was rebuilding stays pending."""
        self.run = {"digest": digest, "schools": schools} if digest else {}
        self.pending = self.pending & set(untouched)

    def on_disk(self) -> set[str]:
        """Return the schools whose packet is on disk as recorded (_stamp_matches), for is_current: a rebuild
        looks while it reads its changed workbook (stat calls, 0.2 s at 5,000 schools)."""
        output = str(self.path.parent)
        return {school_id for school_id, entry in self.entries.items() if _stamp_matches(output, entry)}

    def is_current(self, school_id: str, fingerprint: str | Callable[[], str], inputs: str | None = None,
                   as_of: dt.date | None = None, on_disk: Container[str] | None = None) -> bool:
        """Return True when the school's packet was built from the same inputs and is still all on disk: its
        inputs digest is the one recorded (inputs_digests), or else its fingerprint (asked for only then).
        A packet judged as of a day other than `as_of` is not: the day is part of its model, and so of its
        fingerprint, which need not be made to tell (a new day's first build rebuilds every packet).
        `on_disk` (what on_disk() returned earlier in the run) tells a packet on disk as recorded."""
        entry = self.entries.get(school_id)
        if not entry or school_id in self.pending:
            return False
        if as_of is not None and entry.get("as_of") != as_of.isoformat() and entry.get("inputs") != inputs:
            return False
        if not (inputs and entry.get("inputs") == inputs) and \
                entry.get("fingerprint") != (fingerprint() if callable(fingerprint) else fingerprint):
            return False
        output = str(self.path.parent)
        stamped = school_id in on_disk if on_disk is not None else _stamp_matches(output, entry)
        if stamped:
            return True
        if (all((Path(output) / doc).is_file() for doc in entry["documents"])
                and _packet_manifest_intact(Path(output) / entry["folder"], entry["documents"])):
            self._restamp.add(school_id)
            return True
        return False

    def record(self, school_id: str, fingerprint: str, folder: str, documents: Sequence[str], built_at: dt.datetime,
               name: str = "", designation: str = "", ready: bool = False, as_of: dt.date | None = None) -> None:
        """Record a packet built: its folder's and documents' names inside the output folder (`/` between
        the folder and the file), as a PacketResult holds them."""
        output = self.path.parent
        self.entries[school_id] = {
            "as_of": as_of.isoformat() if as_of else None,       # the day overdue was judged by
            "fingerprint": fingerprint, "name": name, "designation": designation, "ready": ready,
            "folder": folder,
            "documents": list(documents),
            "built_at": built_at.isoformat(),
        }
        self.entries[school_id]["stamp"] = _stamp(output, self.entries[school_id])

    def keep(self, school_id: str, name: str, designation: str, ready: bool, as_of: dt.date) -> None:
        """Record an unchanged school's packet as it is judged now (its name, designation, readiness),
        its files as they were recorded: is_current has just found them so, and looking at every school's
        files again would cost what finding them did."""
        entry = self.entries[school_id]
        entry.update(name=name, designation=designation, ready=ready, as_of=as_of.isoformat())
        if school_id in self._restamp:
            entry["stamp"] = _stamp(self.path.parent, entry)

    def record_inputs(self, inputs: dict[str, str]) -> None:
        """Record the inputs digest each school's packet (built or found current by this run) was made from."""
        for school_id, digest in inputs.items():
            if school_id in self.entries:
                self.entries[school_id]["inputs"] = digest

    def entry(self, school_id: str) -> dict:
        return self.entries.get(school_id, {})

    def save(self) -> None:
        head = {"generator_version": __version__, "last_run": self.run,
                **({"pending": sorted(self.pending)} if self.pending else {})}
        atomic.write_atomic(self.path, _manifest_json(head, self.entries))


def _manifest_json(head: dict, entries: dict[str, dict]) -> Iterator[bytes]:
    """Yield the manifest as JSON, a school a line in School ID order: still readable and diffable, and
    written by json's C encoder, which indenting turns off (0.2 s a save at 5,000 schools, saved twice a
    run that rebuilds anything). In blocks of about 64 KB: made whole, its text was held four times over
    (joined, concatenated, encoded) at the end of a run, 17 MB at 5,000 schools."""
    dumps = _ENCODER.encode        # one encoder: json.dumps with an argument makes one a call
    lines = [f" {dumps(key)}: {dumps(value)}" for key, value in head.items()]
    if not entries:
        yield ("{\n" + ",\n".join([*lines, ' "schools": {}']) + "\n}\n").encode("utf-8")
        return
    block = ["{\n" + "".join(f"{line},\n" for line in lines) + ' "schools": {\n']
    size = 0
    for i, sid in enumerate(sorted(entries)):
        line = f"  {dumps(sid)}: {dumps(entries[sid])}"
        block.append(f",\n{line}" if i else line)
        size += len(line)
        if size >= 1 << 16:
            yield "".join(block).encode("utf-8")
            block, size = [], 0
    block.append("\n }\n}\n")
    yield "".join(block).encode("utf-8")
