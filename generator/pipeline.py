"""Pipeline: load -> normalize/validate -> model -> render -> package, as plain functions the CLI calls.

Everything is gathered and checked before anything is written: a run with input errors
raises InputError carrying every finding, and leaves the output folder as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import package
from .findings import ERROR, Finding, InputError, PacketsError, errors
from .load import load_inputs
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


@dataclass(frozen=True)
class BuildReport:
    results: tuple[PacketResult, ...]
    input_findings: tuple[Finding, ...] = field(default=())
    report: Path | None = None

    @property
    def failed(self) -> tuple[PacketResult, ...]:
        return tuple(r for r in self.results if r.error)


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


def build(settings: Settings, strict: bool = False,
          progress: Callable[[PacketResult], None] | None = None) -> BuildReport:
    """Build every school's packet (or those in settings.schools) and the district readiness report."""
    district, input_findings = load_district(settings)
    clashes = _folder_clashes(settings, district)
    if clashes:
        raise InputError(input_findings + clashes)
    results = []
    for packet in district.packets:
        try:
            result = _build_one(settings, packet, strict)
        except (PacketsError, OSError) as exc:
            school = packet.school
            result = PacketResult(school.school_id, school.name, school.designation, None, (), (), False,
                                  error=f"Error building the packet for {school.school_id} ({school.name}): {exc}")
        results.append(result)
        if progress:
            progress(result)
    report = write_readiness_report(settings, results)
    return BuildReport(tuple(results), tuple(input_findings), report)


def readiness_rows(settings: Settings, results) -> list[dict[str, Any]]:
    """Return one row per school for the district readiness report."""
    out = Path(settings.output)
    rows = []
    for r in results:
        problems = [f.line() for f in r.findings if f.severity in (ERROR, "warning")]
        if len(problems) > READINESS_LINES:
            left = len(problems) - READINESS_LINES
            problems = problems[:READINESS_LINES] + [f"... and {left} more: `packets validate` lists them all."]
        rows.append({
            "school_id": r.school_id, "school": r.school_name, "designation": r.designation,
            "ready": "Failed" if r.error else ("Ready" if r.ready else "Not ready"),
            "errors": sum(f.severity == ERROR for f in r.findings),
            "warnings": sum(f.severity == "warning" for f in r.findings),
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
