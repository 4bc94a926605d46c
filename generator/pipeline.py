"""Pipeline: load -> normalize/validate -> model -> render -> package, as plain functions the CLI calls.

Everything is gathered and checked before anything is written: a run with input errors
raises InputError carrying every finding, and leaves the output folder as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from typing import Any, Callable, Iterator

from . import package
from .findings import ERROR, WARNING, Finding, InputError, PacketsError, errors
from .load import load_inputs
from .manifest import Manifest, packet_fingerprint, run_digest, templates_digest
from .model import District, Packet, School, build_district
from .normalize import normalize_sheet
from .readiness import check_packet, is_ready
from .render import FORMS, RENDERERS, packet_contexts, render_packet
from .render.reference import TEMPLATES
from .schema import SHEETS
from .settings import Settings
from .validate import validate_tables

READINESS_REPORT = "readiness.xlsx"
READINESS_LINES = 40      # findings listed per school in readiness.xlsx; the rest are counted


@dataclass(frozen=True)
class PacketResult:
    """What became of one school's packet."""

    school_id: str
    school_name: str
    designation: str
    folder: Path | None
    documents: tuple[Path, ...]
    findings: tuple[Finding, ...]
    ready: bool
    built_at: dt.datetime | None = None
    error: str = ""
    skipped: bool = False         # unchanged since the last build, so not rebuilt


@dataclass(frozen=True)
class BuildReport:
    results: tuple[PacketResult, ...]
    input_findings: tuple[Finding, ...] = field(default=())
    report: Path | None = None

    @property
    def failed(self) -> tuple[PacketResult, ...]:
        return tuple(r for r in self.results if r.error)

    @property
    def skipped(self) -> tuple[PacketResult, ...]:
        return tuple(r for r in self.results if r.skipped)


def load_district(settings: Settings) -> tuple[District, list[Finding]]:
    """Return the district model and the non-blocking findings; raise InputError listing every error."""
    raw, findings = load_inputs(settings.inputs)
    tables = {}
    for spec in SHEETS:
        if spec.name in raw:
            tables[spec.name], found = normalize_sheet(raw[spec.name], spec)
            findings += found
    findings += validate_tables(tables, settings.planning_year)
    unknown = [sid for sid in settings.schools
               if "Schools" in tables and sid not in {r["school_id"] for r in tables["Schools"].rows}]
    for sid in unknown:
        findings.append(Finding(ERROR, f"No school with ID '{sid}' is on the roster.", file="roster.xlsx",
                                sheet="Schools", value=sid, fix="Check the --school value against the School ID column."))
    if errors(findings):
        raise InputError(findings)
    return build_district(tables, settings), findings


def readiness(settings: Settings) -> tuple[District, list[Finding], dict[str, list[Finding]]]:
    """Return the district, its input findings, and each school's readiness findings."""
    district, findings = load_district(settings)
    return district, findings, {p.school.school_id: check_packet(p) for p in district.packets}


def school_context(settings: Settings, school_id: str) -> dict[str, Any]:
    """Return exactly what each of the school's templates receives, keyed by form."""
    district, _ = load_district(Settings(**{**settings.__dict__, "schools": (school_id,)}))
    return packet_contexts(district.packets[0])


def _build_one(settings: Settings, packet: Packet, strict: bool) -> PacketResult:
    school = packet.school
    findings = tuple(check_packet(packet))
    documents = render_packet(packet, TEMPLATES)
    files = {package.document_name(settings, school, form.key, form.suffix): documents[form.key] for form in FORMS}
    folder = package.packet_folder(settings, school)
    written = package.write_files(folder, files)
    return PacketResult(school.school_id, school.name, school.designation, folder, tuple(written), findings,
                        is_ready(findings, strict), dt.datetime.now().replace(microsecond=0))


def _build_isolated(job: tuple[Settings, Packet, bool]) -> PacketResult:
    """Build one packet; whatever goes wrong is reported for that school alone, so the batch goes on."""
    settings, packet, strict = job
    school = packet.school
    try:
        return _build_one(settings, packet, strict)
    except Exception as exc:  # one school's failure must not stop the others; it is reported by name
        detail = str(exc) if isinstance(exc, (PacketsError, OSError)) else f"{type(exc).__name__}: {exc}"
        return PacketResult(school.school_id, school.name, school.designation, None, (), (), False,
                            error=f"Error building the packet for {school.school_id} ({school.name}): {detail}")


def _recorded(settings: Settings, school_id: str, entry: dict, findings: tuple[Finding, ...] = (),
              ready: bool | None = None) -> PacketResult:
    """Return a packet's result as the manifest recorded it: built earlier, unchanged, not rebuilt."""
    out = Path(settings.output)
    return PacketResult(school_id, entry.get("name", ""), entry.get("designation", ""), out / entry["folder"],
                        tuple(out / d for d in entry["documents"]), findings,
                        bool(entry.get("ready")) if ready is None else ready,
                        dt.datetime.fromisoformat(entry["built_at"]), skipped=True)


def _skipped(settings: Settings, packet: Packet, strict: bool, entry: dict) -> PacketResult:
    """Return an unchanged school's result, its readiness checked afresh (strict may differ)."""
    findings = tuple(check_packet(packet))
    return _recorded(settings, packet.school.school_id, {**entry, "name": packet.school.name,
                                                        "designation": packet.school.designation},
                     findings, is_ready(findings, strict))


def _folder_clashes(settings: Settings, district: District) -> list[Finding]:
    """Return an error for each school whose packet folder name another school already has: IDs that
    differ only in characters a file name cannot hold ('01/01' and '01-01') would share a folder."""
    seen: dict[str, School] = {}
    findings = []
    for school in district.schools:          # every school on the roster, not only those being built
        name = package.packet_folder(settings, school).name.casefold()
        other = seen.setdefault(name, school)
        if other is not school:
            findings.append(Finding(
                ERROR, f"School IDs '{other.school_id}' and '{school.school_id}' would share "
                       f"the packet folder '{name}'.", **school.source.at("school_id"),
                value=school.school_id, school_id=school.school_id,
                fix="Give each school an ID that differs in letters or digits, not only in punctuation."))
    return findings


def build(settings: Settings, strict: bool = False, progress: Callable[[PacketResult], None] | None = None,
          jobs: int = 1, force: bool = False) -> BuildReport:
    """Build every school's packet (or those in settings.schools) and the district readiness report.

    Schools whose inputs, templates and generator are unchanged since the last build are skipped
    (force rebuilds them). With jobs > 1 packets are built in that many processes; results come back
    in roster order, and each school's result is reported as soon as it is known.
    """
    manifest = Manifest.load(settings.output)
    templates = templates_digest(TEMPLATES)
    digest = run_digest(settings, templates, strict)
    report_path = Path(settings.output) / READINESS_REPORT
    if not force and manifest.unchanged_run(digest, report_path):
        return _unchanged_run(settings, manifest, report_path, progress)

    district, input_findings = load_district(settings)
    clashes = _folder_clashes(settings, district)
    if clashes:
        raise InputError(input_findings + clashes)

    fingerprints = {p.school.school_id: packet_fingerprint(p, settings, templates) for p in district.packets}
    stale = [p for p in district.packets if force or not manifest.is_current(p.school.school_id,
                                                                          fingerprints[p.school.school_id])]
    stale_ids = {p.school.school_id for p in stale}
    built = _build_all(settings, stale, strict, jobs)

    results = []
    for packet in district.packets:
        sid = packet.school.school_id
        result = next(built) if sid in stale_ids else _skipped(settings, packet, strict, manifest.entry(sid))
        if not result.error:
            manifest.record(sid, fingerprints[sid], result.folder, result.documents, result.built_at,
                            result.school_name, result.designation, result.ready)
        results.append(result)
        if progress:
            progress(result)
    failed = any(r.error for r in results)
    manifest.finish_run(None if failed else digest, [r.school_id for r in results])
    manifest.save()
    report = write_readiness_report(settings, results)
    return BuildReport(tuple(results), tuple(input_findings), report)


def _unchanged_run(settings: Settings, manifest: Manifest, report: Path,
                   progress: Callable[[PacketResult], None] | None) -> BuildReport:
    """Return the last run's results from the manifest: nothing it was made from has changed."""
    results = []
    for sid in manifest.run["schools"]:
        result = _recorded(settings, sid, manifest.entry(sid))
        results.append(result)
        if progress:
            progress(result)
    return BuildReport(tuple(results), (), report)


def _build_all(settings: Settings, packets: list[Packet], strict: bool, jobs: int) -> Iterator[PacketResult]:
    """Yield each packet's result in the order given, building in `jobs` processes when worth it."""
    work = ((settings, p, strict) for p in packets)
    if jobs <= 1 or len(packets) < 2:
        yield from map(_build_isolated, work)
        return
    size = max(1, min(16, len(packets) // (jobs * 8)))      # small chunks keep progress steady
    chunks = (list(islice(work, size)) for _ in range(0, len(packets), size))
    with ProcessPoolExecutor(max_workers=min(jobs, len(packets))) as pool:
        # A few chunks in flight per worker, not the whole district: memory stays flat as N grows
        # (Executor.map would pickle and queue every school's packet at once).
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.submit(_build_chunk, chunk))
            if len(pending) >= jobs * 3:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def _build_chunk(jobs: list[tuple[Settings, Packet, bool]]) -> list[PacketResult]:
    return [_build_isolated(job) for job in jobs]


def readiness_rows(settings: Settings, results) -> list[dict[str, Any]]:
    """Return one row per school for the district readiness report."""
    out = Path(settings.output)
    rows = []
    for r in results:
        problems = [f.line() for f in r.findings if f.severity in (ERROR, WARNING)]
        if len(problems) > READINESS_LINES:
            left = len(problems) - READINESS_LINES
            problems = problems[:READINESS_LINES] + [f"... and {left} more: `packets validate` lists them all."]
        rows.append({
            "school_id": r.school_id, "school": r.school_name, "designation": r.designation,
            "ready": "Failed" if r.error else ("Ready" if r.ready else "Not ready"),
            "errors": sum(f.severity == ERROR for f in r.findings),
            "warnings": sum(f.severity == WARNING for f in r.findings),
            "missing": r.error or "\n".join(problems),
            "folder": str(r.folder.relative_to(out)) if r.folder else "",
            "documents": "\n".join(str(p.relative_to(out)) for p in r.documents),
            "built_at": r.built_at,
        })
    return rows


def write_readiness_report(settings: Settings, results) -> Path:
    """Write output/readiness.xlsx: one row per school, ready or not, what is missing, its documents."""
    path = Path(settings.output) / READINESS_REPORT
    context = {"district": {"name": settings.district_name}, "planning_year": settings.planning_year.label,
               "built_at": dt.datetime.now().replace(microsecond=0), "rows": readiness_rows(settings, results)}
    package.write_atomic(path, RENDERERS[".xlsx"](TEMPLATES / READINESS_REPORT, context))
    return path
