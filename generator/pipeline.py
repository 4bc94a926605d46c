"""Pipeline: load -> normalize/validate -> model -> render -> package, as plain functions the CLI calls.

Everything is gathered and checked before anything is written: a run with input errors
raises InputError carrying every finding, and leaves the output folder as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, TypeGuard

from generator.collector import collector_paused
from generator.delivery import send as delivery
from generator.delivery.ledger import SendLock
from generator.delivery.send import Delivery, Mailer, Outcome
from generator.delivery.settings import load_email_settings
from generator.findings import (
    ERROR,
    NOTE,
    WARNING,
    Finding,
    InputError,
    PacketsError,
    errors,
    os_error_text,
    summary,
)
from generator.inputs.normalize import normalize_sheet
from generator.inputs.read import load_inputs
from generator.inputs.schema import SHEETS, with_designations
from generator.inputs.validate import validate_tables
from generator.model.build import build_district
from generator.model.readiness import check_packet, is_ready
from generator.model.records import District, Packet, School
from generator.model.rollup import school_rollup
from generator.model.status import packet_readiness
from generator.output import atomic, batch, naming, packet_manifest
from generator.output.batch import PacketResult
from generator.output.build_record import MANIFEST, Manifest, packet_fingerprint, run_digest, templates_digest
from generator.output.lock import OutputLock
from generator.render import check_engine, packet_contexts, render_document
from generator.render.calendars import DISTRICT_CALENDAR, district_calendar
from generator.render.dashboard import DASHBOARD, DASHBOARD_TEMPLATE, dashboard_chunks, dashboard_context, school_links
from generator.render.district import report_context
from generator.render.hyperlinks import link_paths
from generator.render.template_data import StateProfile, Templates, designations, state_profile
from generator.render.validation import validation_report
from generator.settings import SETTINGS_FILE, Settings

READINESS_REPORT = "readiness.xlsx"
READINESS_LINES = 40      # findings listed per school in readiness.xlsx; the rest are counted
DISTRICT_REPORT = "district.xlsx"
DISTRICT_VIEW = (DISTRICT_REPORT, DISTRICT_CALENDAR, DASHBOARD)     # written together after the packets


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

    @property
    def pdf_failed(self) -> tuple[PacketResult, ...]:
        return tuple(r for r in self.results if r.pdf_error)


@dataclass(frozen=True)
class SchoolCheck:
    """One school's readiness as `packets validate` finds it."""

    school_id: str
    name: str
    findings: tuple[Finding, ...]
    ready: bool


@dataclass(frozen=True)
class ValidationReport:
    """What `packets validate` found: the inputs' findings, then each school's readiness."""

    input_findings: tuple[Finding, ...]
    schools: tuple[SchoolCheck, ...]

    @property
    def findings(self) -> list[Finding]:
        """Every finding: the inputs', then school by school."""
        return [*self.input_findings, *(f for school in self.schools for f in school.findings)]

    @property
    def reported(self) -> list[Finding]:
        """The findings validation.xlsx lists: all but the notes."""
        return [f for f in self.findings if f.severity != NOTE]

    @property
    def all_ready(self) -> bool:
        return all(school.ready for school in self.schools)

    @property
    def summary(self) -> str:
        ready = sum(school.ready for school in self.schools)
        return summary(self.findings) + f"; {ready} of {len(self.schools)} school(s) ready"


@dataclass(frozen=True)
class SendReport:
    """What `packets send` did: each school's planned message and what became of it."""

    deliveries: tuple[Delivery, ...]
    outcomes: tuple[Outcome, ...]
    notes: tuple[str, ...] = ()       # the mailer's word on where the messages went

    @property
    def problem(self) -> bool:
        """True when a school was held back or not (fully) sent."""
        return any(o.problem for o in self.outcomes)

    @property
    def summary(self) -> str:
        return delivery.summary_line(list(self.outcomes))


@collector_paused()          # millions of objects, no cycles: see collector.py
def load_district(settings: Settings) -> tuple[District, list[Finding]]:
    """Return the district model and the non-blocking findings; raise InputError listing every error."""
    templates = Templates(settings.templates)
    vocabulary = designations(templates)
    profile = state_profile(templates, settings.state, f"{Path(settings.inputs) / SETTINGS_FILE}: [district] state")
    raw, findings = load_inputs(settings.inputs)
    if not settings.state:
        findings.append(unset_state(profile))
    tables = {}
    for spec in SHEETS:
        if spec.name in raw:
            # Each sheet as read is let go once normalized, not held while the rest are.
            tables[spec.name], found = normalize_sheet(raw.pop(spec.name), with_designations(spec, vocabulary))
            findings += found
    findings += validate_tables(tables, settings.planning_year)
    unknown = [sid for sid in settings.schools
               if "Schools" in tables and sid not in {r["school_id"] for r in tables["Schools"].rows}]
    for sid in unknown:
        findings.append(Finding(ERROR, f"No school with ID '{sid}' is on the roster.", file="roster.xlsx",
                                sheet="Schools", value=sid,
                                fix="Check the --school value against the School ID column."))
    if errors(findings):
        raise InputError(findings)
    return build_district(tables, settings, vocabulary, profile.rules), findings


def unset_state(profile: StateProfile) -> Finding:
    """Return the warning for a settings.toml that names no state: the default state's forms are used."""
    return Finding(WARNING, f"[district] state is not set, so the packets are {profile.name}'s: its forms, "
                            f"wording and submission route ({profile.agency}).", file=SETTINGS_FILE,
                   fix='Add state = "IL" (Illinois) or state = "CA" (California) under [district] in settings.toml.')




def validate(settings: Settings) -> ValidationReport:
    """Return the inputs' findings and every school's readiness; nothing is written.
    Raise InputError listing every error that keeps the district from being read."""
    district, findings = load_district(settings)
    checks = []
    for packet in district.packets:
        found = tuple(check_packet(packet))
        checks.append(SchoolCheck(packet.school.school_id, packet.school.name, found,
                                  is_ready(found, settings.strict)))
    return ValidationReport(tuple(findings), tuple(checks))


def school_context(settings: Settings, school_id: str, form: str | None = None) -> dict[str, Any]:
    """Return exactly what each of the school's templates receives, keyed by form; with `form`, only
    that form's."""
    district, _ = load_district(replace(settings, schools=(school_id,)))
    contexts = packet_contexts(district.packets[0], Templates(settings.templates))
    if not form:
        return contexts
    if form not in contexts:
        raise PacketsError(f"No form '{form}'. Forms: {', '.join(contexts)}.")
    return contexts[form]


def send(settings: Settings, mailer: Mailer, only_ready: bool = False, resend: bool = False,
         progress: Callable[[Outcome, int, int], None] | None = None) -> SendReport:
    """Email each selected school's packet, as the last build made it, through `mailer` (the outbox,
    a dry run, an SMTP server); progress hears each school's outcome with its number and the count.

    Everything that can stop the run (email.toml, the mailer's settings, a folder no build has
    written, the inputs) raises PacketsError before the first message. A mailer that writes or sends
    holds the output folder from planning to the last message: a build finishing in between would
    change the packets under the plan."""
    with contextlib.ExitStack() as held:
        try:
            email = load_email_settings(Path(settings.inputs))
            mailer.prepare(email)
            if mailer.holds_folder:
                held.enter_context(SendLock(settings.output))
            delivery.require_build(settings.output)     # before the inputs are read
            district, _ = load_district(settings)
            deliveries = delivery.plan(settings, email, district, strict=settings.strict, resend=resend)
        except OSError as exc:
            raise PacketsError(f"reading the build: {os_error_text(exc)}") from None
        count = 0

        def numbered(outcome: Outcome) -> None:
            nonlocal count
            count += 1
            if progress:
                progress(outcome, count, len(deliveries))
        outcomes = mailer.deliver(deliveries, settings.output, email, only_ready, resend, numbered)
    return SendReport(tuple(deliveries), tuple(outcomes), tuple(mailer.notes(deliveries, settings.output)))


def build(settings: Settings, progress: Callable[[PacketResult], None] | None = None) -> BuildReport:
    """Build every school's packet (or those in settings.schools) and the district readiness report.

    Schools whose inputs, templates and generator are unchanged since the last build are skipped
    (settings.force rebuilds them). With settings.jobs > 1 packets are built in that many processes
    (see output/batch.py); results come back in roster order, and each school's result is reported as
    soon as it is known. With settings.pdf, each school also gets its combined PDF (made where missing
    or out of date), all converted by one LibreOffice.

    One build or send at a time writes an output folder: another one running stops this one with a
    PacketsError before anything is read or written.
    """
    check_engine()                  # an unknown PACKETS_ENGINE stops the run before it touches anything
    with OutputLock(settings.output, "build") as lock:
        # What is stale: nothing at all when no file the run reads has changed and its view is there.
        manifest = Manifest.load(settings.output)
        templates = templates_digest(Templates(settings.templates))
        digest = run_digest(settings, templates, settings.strict, settings.pdf)
        if not settings.force and manifest.unchanged_run(digest, _readiness_path(settings)) \
                and district_view_present(settings):
            if lock.interrupted:            # a send was killed: its leftovers go, though nothing is built
                _remove_leftovers(settings)
            return _unchanged_run(settings, manifest, progress)

        district, input_findings = _load_and_check(settings, manifest)
        fingerprints = {p.school.school_id: packet_fingerprint(p, settings, templates) for p in district.packets}
        stale = [p for p in district.packets
                 if settings.force or not manifest.is_current(p.school.school_id, fingerprints[p.school.school_id])]
        previous = _begin_run(manifest, stale)

        results = _build_packets(settings, district, stale, manifest, fingerprints, progress)
        if settings.pdf:
            results = _add_pdfs(settings, district, results, manifest, fingerprints)

        if stale:
            atomic.flush_all(settings.output)     # the new packets are on disk before the manifest records them
            _remove_superseded(settings, manifest, previous, results)
        report = write_readiness_report(settings, results)
        write_district_view(settings, district, results)
        # Last: the manifest says this run is complete only once its district view is written.
        failed = any(r.error or r.pdf_error for r in results)
        manifest.finish_run(None if failed else digest, [r.school_id for r in results])
        manifest.save()
        return BuildReport(tuple(results), tuple(input_findings), report)


def _readiness_path(settings: Settings) -> Path:
    return Path(settings.output) / READINESS_REPORT


def _unchanged_run(settings: Settings, manifest: Manifest,
                   progress: Callable[[PacketResult], None] | None) -> BuildReport:
    """Return the last run's results from the manifest: nothing it was made from has changed."""
    results = []
    for sid in manifest.run["schools"]:
        result = _recorded(settings, sid, manifest.entry(sid))
        results.append(result)
        if progress:
            progress(result)
    return BuildReport(tuple(results), (), _readiness_path(settings))


def _load_and_check(settings: Settings, manifest: Manifest) -> tuple[District, list[Finding]]:
    """Return the district and its findings (the manifest's first), once nothing stops the build:
    an input error or two schools sharing a folder is an InputError, an output folder that cannot
    be written a PacketsError, before anything is written. Then what killed runs left goes."""
    district, findings = load_district(settings)
    findings = manifest.findings + findings
    clashes = _folder_clashes(settings, district)
    if clashes:
        raise InputError(findings + clashes)
    atomic.ensure_writable(settings.output, (MANIFEST, READINESS_REPORT, *DISTRICT_VIEW))
    _remove_leftovers(settings)
    return district, findings


def _begin_run(manifest: Manifest, stale: list[Packet]) -> dict[str, dict]:
    """Return what the manifest recorded of the stale schools (record() replaces, not edits, these),
    having saved it with them pending."""
    stale_ids = {p.school.school_id for p in stale}
    previous = {sid: manifest.entry(sid) for sid in stale_ids}
    if stale or manifest.run:
        # Before anything is replaced, so a run killed midway (Ctrl-C, a kill, a power cut) leaves a
        # manifest that vouches neither for the packets it was rebuilding nor for the district view
        # it had yet to write: the next run rebuilds those and writes the view again.
        manifest.begin_run(stale_ids)
        manifest.save()
    return previous


def _build_packets(settings: Settings, district: District, stale: list[Packet], manifest: Manifest,
                   fingerprints: dict[str, str], progress: Callable[[PacketResult], None] | None
                   ) -> list[PacketResult]:
    """Return every school's result in roster order: the stale ones built, the others as recorded.
    Each packet built is recorded in the manifest, and reported to progress, as soon as it is known."""
    stale_ids = {p.school.school_id for p in stale}
    built = batch.build_all(settings, stale, Templates(settings.templates))
    results = []
    try:
        for packet in district.packets:
            sid = packet.school.school_id
            result = next(built) if sid in stale_ids else _skipped(settings, packet, manifest.entry(sid))
            if not result.error:
                _record(settings, manifest, fingerprints[sid], result)
            results.append(result)
            if progress:
                progress(result)
    finally:
        built.close()           # interrupted: the workers stop now, not after the chunks queued for them
    return results


def _record(settings: Settings, manifest: Manifest, fingerprint: str, result: PacketResult) -> None:
    """Record a school's packet, as it is on disk, in the manifest (saved once the run ends)."""
    if result.folder is None or result.built_at is None:        # failed: there is no packet to record
        return
    manifest.record(result.school_id, fingerprint, result.folder, result.documents, result.built_at,
                    result.school_name, result.designation, result.ready, settings.as_of)


def _skipped(settings: Settings, packet: Packet, entry: dict) -> PacketResult:
    """Return an unchanged school's result, its readiness checked afresh (strict may differ)."""
    findings = tuple(check_packet(packet))
    return _recorded(settings, packet.school.school_id, {**entry, "name": packet.school.name,
                                                        "designation": packet.school.designation},
                     findings, is_ready(findings, settings.strict))


def _recorded(settings: Settings, school_id: str, entry: dict, findings: tuple[Finding, ...] = (),
              ready: bool | None = None) -> PacketResult:
    """Return a packet's result as the manifest recorded it: built earlier, unchanged, not rebuilt."""
    out = Path(settings.output)
    return PacketResult(school_id, entry.get("name", ""), entry.get("designation", ""), out / entry["folder"],
                        tuple(out / d for d in entry["documents"]), findings,
                        bool(entry.get("ready")) if ready is None else ready,
                        dt.datetime.fromisoformat(entry["built_at"]), skipped=True)


def _folder_clashes(settings: Settings, district: District) -> list[Finding]:
    """Return an error for each school whose packet folder name another school already has: IDs that
    differ only in characters a file name cannot hold ('01/01' and '01-01') would share a folder."""
    seen: dict[str, School] = {}
    findings = []
    for school in district.schools:          # every school on the roster, not only those being built
        name = naming.packet_folder(settings, school).name.casefold()
        other = seen.setdefault(name, school)
        if other is not school:
            findings.append(Finding(
                ERROR, f"School IDs '{other.school_id}' and '{school.school_id}' would share "
                       f"the packet folder '{name}'.", **(school.source.at("school_id") if school.source else {}),
                value=school.school_id, school_id=school.school_id,
                fix="Give each school an ID that differs in letters or digits, not only in punctuation."))
    return findings


def _remove_leftovers(settings: Settings) -> None:
    """Remove what killed runs left: temporary files in the output folder, converters' working folders."""
    from generator.output.pdf import remove_stale_work_folders
    atomic.remove_leftovers(settings.output)
    remove_stale_work_folders()


def _remove_superseded(settings: Settings, manifest: Manifest, previous: dict[str, dict],
                       results: list[PacketResult]) -> None:
    """Remove the files an earlier build recorded for each school rebuilt now that no school's packet
    holds any more: its documents under an earlier file-name pattern, and under an earlier folder
    pattern its old folder's too, so a packet folder holds what its manifest.json lists. Only files
    the generator recorded are removed, never a staff member's own; an old folder only once empty.
    Called once the new packets are on disk, so a failure in between leaves the old documents."""
    out = Path(settings.output)
    kept: dict[str, set[str]] = {}          # every file a school's packet holds now, by its name ignoring case
    for e in manifest.entries.values():
        for d in [*e.get("documents", ()), f"{e.get('folder')}/{packet_manifest.PACKET_MANIFEST}"]:
            kept.setdefault(str(d).casefold(), set()).add(str(d))
    for r in results:
        old = previous.get(r.school_id) or {}
        if r.error or r.skipped or not old:
            continue
        recorded = [d for d in old.get("documents", ()) if isinstance(d, str)]
        folder, here = old.get("folder"), r.folder.relative_to(out).as_posix() if r.folder else ""
        moved = folder if _plain_name(folder) and folder.casefold() != here.casefold() else ""    # its old folder
        if moved:
            listed = packet_manifest.read(out / moved).get("files", [])
            names = [e["file"] for e in listed if isinstance(e, dict) and isinstance(e.get("file"), str)]
            recorded += [f"{moved}/{name}" for name in names + [packet_manifest.PACKET_MANIFEST]]
        for relative in recorded:
            parts = relative.split("/")
            # Only a file directly inside a packet folder: a manifest edited by hand cannot reach further.
            if (len(parts) != 2 or not all(map(_plain_name, parts))
                    or any(_same_file(out / relative, out / k) for k in kept.get(relative.casefold(), ()))):
                continue
            try:
                (out / relative).unlink(missing_ok=True)
            except OSError:        # open in Word, say: it stays, and the new packet is complete regardless
                pass
        if moved:
            try:
                (out / moved).rmdir()
            except OSError:        # staff files in it, or already gone
                pass


def _plain_name(name) -> TypeGuard[str]:
    """Return True for one plain file or folder name, as packet_folder and document_name make them."""
    return isinstance(name, str) and bool(name) and not name.startswith(".") and not set(name) & set("/\\:")


def _same_file(path: Path, other: Path) -> bool:
    """Return True when two names are one file: on Windows and macOS, names differing only in case.
    When that cannot be told, True: a file kept by mistake is better than a document lost."""
    if str(path) == str(other):
        return True
    try:
        return path.exists() and os.path.samefile(path, other)
    except OSError:
        return True


def _add_pdfs(settings: Settings, district: District, results: list[PacketResult], manifest: Manifest,
              fingerprints: dict[str, str]) -> list[PacketResult]:
    """Return the results with each school's combined PDF made where it is missing or out of date: a
    school built now, or one whose PDF's cover shows another readiness (--strict changed). A school
    whose PDF fails, or every school when LibreOffice is missing, keeps its complete Word and Excel
    packet and says why in pdf_error."""
    from generator.output.combine import PdfOutcome, make_packet_pdfs, pdf_job
    from generator.output.pdf import PdfConverter

    packets = {p.school.school_id: p for p in district.packets}
    jobs = {}
    for r in results:
        if r.error or r.folder is None or r.built_at is None:      # failed: there is no packet to convert
            continue
        target = r.folder / naming.packet_pdf_name(settings, packets[r.school_id].school)
        recorded = packet_manifest.read(r.folder).get("readiness", {}) if r.skipped else {}
        if r.skipped and target in r.documents and target.is_file() and recorded.get("ready") == r.ready:
            continue
        jobs[r.school_id] = pdf_job(settings, packets[r.school_id], r.folder, r.ready, r.findings, r.built_at)
    if not jobs:
        return results
    try:
        with PdfConverter() as converter:
            outcomes = {o.school_id: o for o in make_packet_pdfs(list(jobs.values()), converter,
                                                                 Templates(settings.templates))}
    except PacketsError as exc:             # LibreOffice missing or not startable: no school gets a PDF
        outcomes = {sid: PdfOutcome(sid, None, str(exc)) for sid in jobs}
    updated = []
    for r in results:
        outcome = outcomes.get(r.school_id)
        if outcome is None:
            updated.append(r)
            continue
        target = jobs[r.school_id].target
        documents = tuple(d for d in r.documents if d != target)
        if outcome.error:
            target.unlink(missing_ok=True)      # an older PDF would not match the packet
            r = replace(r, documents=documents, pdf_error=outcome.error)
        else:
            # Every document is hashed again, as the PDF was made from them as they are on disk now.
            packet_manifest.add_files(target.parent, documents + (target,),
                                      packet_manifest.readiness_entry(r.ready, r.findings))
            r = replace(r, documents=documents + (target,))
        _record(settings, manifest, fingerprints[r.school_id], r)
        updated.append(r)
    return updated


def write_validation_report(path: Path, findings, summary: str) -> Path:
    """Write validation.xlsx (the findings a row each, for staff who prefer Excel to a terminal) to path."""
    atomic.write_atomic(Path(path), validation_report(findings, summary))
    return Path(path)


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
            "ready": packet_readiness(r.ready, bool(r.error)),
            "errors": sum(f.severity == ERROR for f in r.findings),
            "warnings": sum(f.severity == WARNING for f in r.findings),
            "missing": r.error or "\n".join(([f"No PDF: {r.pdf_error}"] if r.pdf_error else []) + problems),
            "folder": str(r.folder.relative_to(out)) if r.folder else "",
            "documents": "\n".join(str(p.relative_to(out)) for p in r.documents),
            "pdf": next((str(p.relative_to(out)) for p in r.documents if p.suffix == ".pdf"), ""),
            "built_at": r.built_at,
        })
    return rows


@collector_paused()
def write_readiness_report(settings: Settings, results) -> Path:
    """Write output/readiness.xlsx: one row per school, ready or not, what is missing, its documents."""
    path = Path(settings.output) / READINESS_REPORT
    context = {"district": {"name": settings.district_name}, "planning_year": settings.planning_year.label,
               "built_at": dt.datetime.now().replace(microsecond=0), "rows": readiness_rows(settings, results)}
    template = Templates(settings.templates).path(READINESS_REPORT)
    report = render_document(template, context)
    atomic.write_atomic(path, link_paths(report, template, ("folder", "pdf")))
    return path


def district_view_present(settings: Settings) -> bool:
    """Return True when the district's roll-up, calendar and dashboard are all in the output folder."""
    return all((Path(settings.output) / name).is_file() for name in DISTRICT_VIEW)


@collector_paused()
def write_district_view(settings: Settings, district: District, results) -> list[Path]:
    """Write output/district.xlsx (a roll-up row per school), district.ics and index.html (the dashboard),
    all or none, for the schools of this run."""
    out = Path(settings.output)
    readiness = {r.school_id: packet_readiness(r.ready, bool(r.error)) for r in results}
    packets = [p for p in district.packets if p.school.school_id in readiness]
    rows = [school_rollup(p, readiness[p.school.school_id]) for p in packets]
    built_at = dt.datetime.now().replace(microsecond=0)
    folders = {r.school_id: r.folder.relative_to(out).as_posix() for r in results if r.folder}
    links = {r.school_id: school_links(folders.get(r.school_id), [d.relative_to(out).as_posix() for d in r.documents])
             for r in results}
    templates = Templates(settings.templates)
    dashboard = dashboard_chunks(dashboard_context(settings, packets, rows, built_at,
                                                   (DISTRICT_REPORT, DISTRICT_CALENDAR, READINESS_REPORT), links),
                                 templates.path(DASHBOARD_TEMPLATE))
    return atomic.write_files(out, {
        DISTRICT_REPORT: render_document(templates.path(DISTRICT_REPORT),
                                         report_context(settings, rows, folders, built_at)),
        DISTRICT_CALENDAR: district_calendar(settings.district_name, settings.planning_year.label, packets,
                                             templates=templates),
        DASHBOARD: dashboard,        # written as it is made: never whole in memory
    })
