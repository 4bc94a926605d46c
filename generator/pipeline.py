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
from generator.delivery import remind as reminding
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
    district_errors,
    errors,
    errors_by_school,
    os_error_text,
    quote,
    summary,
)
from generator.inputs.normalize import normalize_sheet
from generator.inputs.read import load_inputs
from generator.inputs.returned import NotATracker, ReturnedTracker, read_returned, tracker_files
from generator.inputs.schema import SHEETS, DesignationVocabulary, with_designations
from generator.inputs.validate import owning_schools, validate_tables
from generator.model.build import build_district
from generator.model.collect import ALREADY, CHANGE, CONFLICT, Change, plan_grid, plan_review, plan_schedule, shown
from generator.model.readiness import check_packet, is_ready
from generator.model.records import District, Packet, School
from generator.model.rollup import not_built_rollup, school_rollup
from generator.model.status import packet_readiness
from generator.output import atomic, batch, naming, packet_manifest
from generator.output.batch import PacketResult
from generator.output.build_record import MANIFEST, Manifest, packet_fingerprint, run_digest, templates_digest
from generator.output.input_update import Written, apply_changes
from generator.output.lock import OutputLock
from generator.render import check_engine, packet_contexts, render_document
from generator.render.calendars import DISTRICT_CALENDAR, district_calendar
from generator.render.context import GRID_TRACKER, REVIEW_FORM
from generator.render.dashboard import DASHBOARD, DASHBOARD_TEMPLATE, dashboard_chunks, dashboard_context, school_links
from generator.render.district import report_context
from generator.render.hyperlinks import link_paths
from generator.render.template_data import StateProfile, Templates, designations, state_profile
from generator.render.validation import readiness_summary, validation_report, validation_rows
from generator.settings import SETTINGS_FILE, Settings

READINESS_REPORT = "readiness.xlsx"
DISTRICT_REPORT = "district.xlsx"
DISTRICT_VIEW = (DISTRICT_REPORT, DISTRICT_CALENDAR, DASHBOARD)     # written together after the packets


@dataclass(frozen=True)
class BuildReport:
    results: tuple[PacketResult, ...]                 # the run's schools, in roster order
    input_findings: tuple[Finding, ...] = field(default=())     # the inputs' findings, the whole district's
    report: Path | None = None
    others: tuple[PacketResult, ...] = ()             # with --school, the other schools as last built
    selected: tuple[str, ...] = ()                    # the run's --school values (none: every school)

    def in_run(self, finding: Finding) -> bool:
        """True for a finding of the district, or of one of the run's schools."""
        return not self.selected or not finding.school_id or finding.school_id in self.selected

    @property
    def blocked(self) -> tuple[PacketResult, ...]:
        """The run's schools not built because their own rows have errors."""
        return tuple(r for r in self.results if r.blocked)

    @property
    def unplaced_errors(self) -> tuple[Finding, ...]:
        """Errors of the run on rows naming a School ID the roster lacks: no school was built from them."""
        on_roster = {r.school_id for r in (*self.results, *self.others)}
        return tuple(f for f in errors(self.input_findings)
                     if f.school_id and f.school_id not in on_roster and self.in_run(f))

    @property
    def input_problem(self) -> bool:
        """True when an input error kept something of this run from being built (exit 1)."""
        return bool(self.blocked or self.unplaced_errors)

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
    input_errors: tuple[Finding, ...] = ()     # its own rows' errors: its packet would not be built


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
        return all(school.ready for school in self.schools) and not errors(self.input_findings)

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


@dataclass(frozen=True)
class RemindReport:
    """What `packets remind` did: each person's reminder, what became of it, and what was not reminded."""

    reminders: tuple[reminding.Reminder, ...]
    outcomes: tuple[reminding.Outcome, ...]
    notices: tuple[Finding, ...] = ()    # names no one on a school's roster has; people without an address
    notes: tuple[str, ...] = ()          # the mailer's word on where the messages went
    as_of: dt.date | None = None         # the day the items were judged by

    @property
    def problem(self) -> bool:
        """True when a reminder was held back or not sent, or a school's items could not be read."""
        return any(o.problem for o in self.outcomes) or any(f.severity == ERROR for f in self.notices)

    @property
    def summary(self) -> str:
        return reminding.summary_line(list(self.outcomes), self.as_of)


@dataclass(frozen=True)
class LoadedDistrict:
    """The district as read: every school on the roster, a packet for each school asked for whose own rows
    have no errors, and the schools whose rows have errors (School ID -> those errors)."""

    district: District
    findings: list[Finding]             # every finding, the blocked schools' errors among them
    blocked: dict[str, list[Finding]]


@dataclass(frozen=True)
class _Tables:
    """The validated tables with what reading them took: the designations' vocabulary and the state."""

    tables: dict
    findings: list[Finding]
    vocabulary: DesignationVocabulary
    profile: StateProfile


def _read_tables(settings: Settings) -> _Tables:
    """Return the validated tables and every finding, each with the school it belongs to."""
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
    return _Tables(tables, owning_schools(tables, findings), vocabulary, profile)


@collector_paused()          # millions of objects, no cycles: see collector.py
def read_district(settings: Settings, only: tuple[str, ...] | None = None) -> LoadedDistrict:
    """Return the district with a packet for each school of `only` (default: settings.schools, else every
    school) whose own rows have no errors. Raise InputError listing every finding when an error belongs to
    the district (a setting, the roster's Schools sheet, a missing sheet or column, a file that cannot be
    read, a district-wide row), for then no school can be built."""
    read = _read_tables(settings)
    if district_errors(read.findings):
        raise InputError(read.findings)
    blocked = errors_by_school(read.findings)
    district = build_district(read.tables, settings, read.vocabulary, read.profile.rules, only, skip=blocked)
    return LoadedDistrict(district, read.findings, blocked)


@collector_paused()
def load_district(settings: Settings) -> tuple[District, list[Finding]]:
    """Return the district model and the non-blocking findings; raise InputError listing every finding
    when there is any error, a school's or the district's (`packets send` sends only from whole inputs)."""
    read = _read_tables(settings)
    if errors(read.findings):
        raise InputError(read.findings)
    return build_district(read.tables, settings, read.vocabulary, read.profile.rules), read.findings


def unset_state(profile: StateProfile) -> Finding:
    """Return the warning for a settings.toml that names no state: the default state's forms are used."""
    return Finding(WARNING, f"[district] state is not set, so the packets are {profile.name}'s: its forms, "
                            f"wording and submission route ({profile.agency}).", file=SETTINGS_FILE,
                   fix='Add state = "IL" (Illinois) or state = "CA" (California) under [district] in settings.toml.')


def validate(settings: Settings) -> ValidationReport:
    """Return the inputs' findings and every school's readiness; nothing is written. A school whose own
    rows have errors is listed with them, not judged. Raise InputError listing every finding when an
    error keeps the district from being read."""
    loaded = read_district(settings)
    district = loaded.district
    packets = {p.school.school_id: p for p in district.packets}
    checks = []
    for school in district.schools:
        sid = school.school_id
        if sid in loaded.blocked:
            checks.append(SchoolCheck(sid, school.name, (), False, tuple(loaded.blocked[sid])))
        elif sid in packets:
            found = tuple(check_packet(packets[sid]))
            checks.append(SchoolCheck(sid, school.name, found, is_ready(found, settings.strict)))
    return ValidationReport(tuple(loaded.findings), tuple(checks))


def school_context(settings: Settings, school_id: str, form: str | None = None) -> dict[str, Any]:
    """Return exactly what each of the school's templates receives, keyed by form; with `form`, only
    that form's."""
    loaded = read_district(replace(settings, schools=(school_id,)))
    if school_id in loaded.blocked:         # its rows cannot be read as a packet: say why, as a build would
        raise InputError(loaded.blocked[school_id])
    packet = loaded.district.packets[0]
    if form == "after-action-review":               # a check-in's form, not the packet's: its next check-in
        return _check_in_context(packet, settings)
    contexts = packet_contexts(packet, Templates(settings.templates))
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


def remind(settings: Settings, mailer: Mailer,
           progress: Callable[[reminding.Outcome, int, int], None] | None = None) -> RemindReport:
    """Remind each person responsible for a task or activity approaching or overdue as of settings.as_of,
    one message a person, through `mailer` (the outbox, a dry run, an SMTP server), as `send` does.

    Everything that can stop the run (email.toml, the mailer's settings, the ledger, the district's
    inputs) raises PacketsError before the first message; a school whose own rows have errors is left
    out and reported. A mailer that writes or sends holds the output folder from planning on."""
    with contextlib.ExitStack() as held:
        email = load_email_settings(Path(settings.inputs))
        mailer.prepare(email)
        if mailer.holds_folder:
            held.enter_context(reminding.RemindLock(settings.output))
        ledger = reminding.RemindLedger.load(settings.output)
        loaded = read_district(settings)
        planned = reminding.plan(loaded.district, email, ledger, settings.as_of, Templates(settings.templates),
                                 loaded.blocked)
        count = 0
        due = [r for r in planned.reminders if r.pending or r.held]

        def numbered(outcome: reminding.Outcome) -> None:
            nonlocal count
            if not (outcome.reminder.pending or outcome.reminder.held):
                return
            count += 1
            if progress:
                progress(outcome, count, len(due))
        outcomes = reminding.deliver(mailer, planned, settings.output, email, numbered)
    return RemindReport(planned.reminders, tuple(outcomes), planned.notices,
                        tuple(reminding.notes(mailer, planned, settings.output)), settings.as_of)


def build(settings: Settings, progress: Callable[[PacketResult], None] | None = None) -> BuildReport:
    """Build every school's packet (or those in settings.schools) and the district readiness report.

    Schools whose inputs, templates and generator are unchanged since the last build are skipped
    (settings.force rebuilds them). With settings.jobs > 1 packets are built in that many processes
    (see output/batch.py); results come back in roster order, and each school's result is reported as
    soon as it is known. With settings.pdf, each school also gets its combined PDF (made where missing
    or out of date), all converted by one LibreOffice.

    A school whose own rows have errors is not built: its earlier packet stays as it was, and the report
    lists it with its errors; an error that belongs to the district raises InputError before anything is
    written. readiness.xlsx and the district's view always show every school on the roster: with
    settings.schools, the others as their last build left them.

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

        loaded, input_findings = _load_and_check(settings, manifest)
        district = loaded.district
        fingerprints = {p.school.school_id: packet_fingerprint(p, settings, templates) for p in district.packets}
        in_run = [p for p in district.packets if _of_run(settings, p.school.school_id)]
        stale = [p for p in in_run
                 if settings.force or not manifest.is_current(p.school.school_id, fingerprints[p.school.school_id])]
        previous = _begin_run(manifest, stale)

        results = _build_packets(settings, loaded, stale, manifest, fingerprints, progress)
        if settings.pdf:
            results = _add_pdfs(settings, district, results, manifest, fingerprints)

        if stale:
            atomic.flush_all(settings.output)     # the new packets are on disk before the manifest records them
            _remove_superseded(settings, manifest, previous, results)
        others = _others(settings, loaded, manifest, fingerprints, templates) if settings.schools else []
        shown = _in_roster_order(district, results + others)
        report = write_readiness_report(settings, shown, input_findings)
        write_district_view(settings, district, shown)
        # Last: the manifest says this run is complete only once its district view is written.
        failed = any(r.error or r.pdf_error or r.blocked for r in results) or bool(errors(input_findings))
        manifest.finish_run(None if failed else digest, [r.school_id for r in results], loaded.blocked)
        manifest.save()
        return BuildReport(tuple(results), tuple(input_findings), report, tuple(others), tuple(settings.schools))


def _of_run(settings: Settings, school_id: str) -> bool:
    """True for a school this run builds: every school, or those --school names."""
    return not settings.schools or school_id in settings.schools


def _in_roster_order(district: District, results: list[PacketResult]) -> list[PacketResult]:
    order = {school.school_id: i for i, school in enumerate(district.schools)}
    return sorted(results, key=lambda r: order.get(r.school_id, len(order)))


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
    return BuildReport(tuple(results), (), _readiness_path(settings), selected=tuple(settings.schools))


def _load_and_check(settings: Settings, manifest: Manifest) -> tuple[LoadedDistrict, list[Finding]]:
    """Return the district, a packet for every school whose rows have no errors, and the findings (the
    manifest's first), once nothing stops the build: an error of the district or two schools sharing a
    folder is an InputError, an output folder that cannot be written a PacketsError, before anything is
    written. Then what killed runs left goes."""
    loaded = read_district(settings, only=())       # every school: the district's view shows them all
    findings = manifest.findings + loaded.findings
    clashes = _folder_clashes(settings, loaded.district)
    if clashes:
        raise InputError(findings + clashes)
    atomic.ensure_writable(settings.output, (MANIFEST, READINESS_REPORT, *DISTRICT_VIEW))
    _remove_leftovers(settings)
    return loaded, findings


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


def _build_packets(settings: Settings, loaded: LoadedDistrict, stale: list[Packet], manifest: Manifest,
                   fingerprints: dict[str, str], progress: Callable[[PacketResult], None] | None
                   ) -> list[PacketResult]:
    """Return every school of the run's result in roster order: the stale ones built, the others as
    recorded, those whose rows have errors not built. Each packet built is recorded in the manifest, and
    reported to progress, as soon as it is known."""
    stale_ids = {p.school.school_id for p in stale}
    packets = {p.school.school_id: p for p in loaded.district.packets}
    built = batch.build_all(settings, stale, Templates(settings.templates))
    results = []
    try:
        for school in loaded.district.schools:
            sid = school.school_id
            if not _of_run(settings, sid) or (sid not in packets and sid not in loaded.blocked):
                continue
            if sid in loaded.blocked:
                result = _blocked(settings, school, loaded.blocked[sid], manifest.entry(sid))
            elif sid in stale_ids:
                result = next(built)
            else:
                result = _skipped(settings, packets[sid], manifest.entry(sid))
            if not result.error and not result.blocked:
                _record(settings, manifest, fingerprints[sid], result)
            results.append(result)
            if progress:
                progress(result)
    finally:
        built.close()           # interrupted: the workers stop now, not after the chunks queued for them
    return results


def _blocked(settings: Settings, school: School, found: list[Finding], entry: dict) -> PacketResult:
    """Return the result of a school not built because its own rows have errors: its earlier packet, if it
    has one, as the manifest recorded it (nothing of it is touched)."""
    errors_found = tuple(found)
    if not entry:
        return PacketResult(school.school_id, school.name, school.designation or "", None, (), (), False,
                            input_errors=errors_found)
    earlier = _recorded(settings, school.school_id, entry)
    return replace(earlier, school_name=school.name or earlier.school_name, ready=False, skipped=False,
                   input_errors=errors_found)


def _others(settings: Settings, loaded: LoadedDistrict, manifest: Manifest, fingerprints: dict[str, str],
            templates: str) -> list[PacketResult]:
    """Return, for a --school run, every other school on the roster as its last build left it: its packet,
    readiness and findings as built (judged by the day that build recorded), `changed` when its inputs
    have changed since; a school never built is Not built; one whose rows have errors, Not built: input
    errors. Nothing of theirs is written."""
    packets = {p.school.school_id: p for p in loaded.district.packets}
    others = []
    for school in loaded.district.schools:
        sid = school.school_id
        if _of_run(settings, sid):
            continue
        entry = manifest.entry(sid)
        if sid in loaded.blocked:
            others.append(replace(_blocked(settings, school, loaded.blocked[sid], entry), recorded=True))
        elif not entry:
            others.append(PacketResult(sid, school.name, school.designation, None, (), (), False, recorded=True))
        else:
            as_built = _as_built(packets[sid], manifest, settings, templates)
            findings = tuple(check_packet(as_built)) if as_built else ()
            others.append(replace(_recorded(settings, sid, entry, findings), recorded=True, changed=as_built is None,
                                  school_name=school.name, designation=school.designation))
    return others


def _as_built(packet: Packet, manifest: Manifest, settings: Settings, templates: str) -> Packet | None:
    """Return the school's packet as its recorded build made it (judged by the day that build recorded),
    or None when its inputs (or the templates) have changed since, or its packet is no longer whole."""
    recorded = manifest.entry(packet.school.school_id).get("as_of")
    if not recorded:
        return None
    candidate = replace(packet, as_of=dt.date.fromisoformat(recorded))
    current = manifest.is_current(packet.school.school_id, packet_fingerprint(candidate, settings, templates))
    return candidate if current else None


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
        if r.error or r.skipped or r.blocked or not old:
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
        if r.error or r.blocked or r.folder is None or r.built_at is None:     # no packet of this run to convert
            continue
        target = r.folder / naming.packet_pdf_name(settings, packets[r.school_id].school)
        recorded = packet_manifest.read(r.folder).get("readiness", {}) if r.skipped else {}
        if r.skipped and target in r.documents and target.is_file() and recorded.get("ready") == r.ready:
            continue
        jobs[r.school_id] = pdf_job(settings, packets[r.school_id], r.folder, r.ready, r.findings, r.built_at)
    if not jobs:
        return results
    try:
        with PdfConverter(processes=settings.jobs) as converter:
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


def _status(r: PacketResult) -> str:
    return packet_readiness(r.ready, bool(r.error), r.blocked, r.built)


def _why(r: PacketResult) -> list[str]:
    """Return what a school's readiness row says before its findings: why it was not built, or is shown as
    an earlier build left it, and a PDF that could not be made."""
    built = f"built {r.built_at:%Y-%m-%d %H:%M}" if r.built_at else ""
    lines = []
    if r.error:
        lines.append(r.error)
    if r.blocked:
        kept = f"its earlier packet ({built}) is kept as it was" if r.built_at else "it has no earlier packet"
        lines.append(f"Not built: its own rows have {len(r.input_errors)} input error"
                     f"{'s' * (len(r.input_errors) != 1)}; {kept}. Fix them, then build it again.")
    elif r.recorded and not r.built:
        lines.append("Not built yet: the builds so far built other schools.")
    elif r.recorded and r.changed:
        lines.append(f"As last {built}: its inputs have changed since, so build it to see what it needs now.")
    elif r.recorded:
        lines.append(f"As last {built} (the latest build built other schools).")
    if r.pdf_error:
        lines.append(f"No PDF: {r.pdf_error}")
    return lines


def readiness_rows(settings: Settings, results) -> list[dict[str, Any]]:
    """Return one row per school for the district readiness report."""
    out = Path(settings.output)
    rows = []
    for r in results:
        found = r.input_errors + r.findings
        rows.append({
            "school_id": r.school_id, "school": r.school_name, "designation": r.designation or "",
            "ready": _status(r),
            "errors": sum(f.severity == ERROR for f in found),
            "warnings": sum(f.severity == WARNING for f in found),
            "missing": readiness_summary(found, _why(r)),
            "folder": str(r.folder.relative_to(out)) if r.folder else "",
            "documents": "\n".join(str(p.relative_to(out)) for p in r.documents),
            "pdf": next((str(p.relative_to(out)) for p in r.documents if p.suffix == ".pdf"), ""),
            "built_at": r.built_at,
        })
    return rows


def finding_rows(results, input_findings) -> list[dict[str, Any]]:
    """Return readiness.xlsx's Findings sheet: a row per finding, with the cell to fix: the inputs' (all
    but notes), then each school's readiness findings, school by school."""
    names = {r.school_id: r.school_name for r in results}
    rows = validation_rows([f for f in input_findings if f.severity != NOTE], names)
    for r in results:
        rows += validation_rows([f for f in r.findings if f.severity in (ERROR, WARNING)], names)
    order = {r.school_id: i for i, r in enumerate(results)}
    rows.sort(key=lambda row: order.get(row["school_id"], -1))      # district-wide first; stable within
    return [{**row, "school": row["school_name"]} for row in rows]


@collector_paused()
def write_readiness_report(settings: Settings, results, input_findings=()) -> Path:
    """Write output/readiness.xlsx: one row per school, ready or not, what is missing, its documents;
    and on its Findings sheet, a row per finding."""
    path = Path(settings.output) / READINESS_REPORT
    findings = finding_rows(results, input_findings)
    counted = [f for f in input_findings if f.severity != NOTE] + [f for r in results for f in r.findings]
    context = {"district": {"name": settings.district_name}, "planning_year": settings.planning_year.label,
               "built_at": dt.datetime.now().replace(microsecond=0), "rows": readiness_rows(settings, results),
               "findings": findings, "findings_summary": summary(counted)}
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
    all or none, for the schools of `results`. A school not built for its input errors has its row, with
    no progress to show; the others' progress is worked out from their inputs as of the run's day."""
    out = Path(settings.output)
    packets = {p.school.school_id: p for p in district.packets}
    shown = [r for r in results if r.school_id in packets or r.blocked]
    rows = [school_rollup(packets[r.school_id], _status(r)) if r.school_id in packets and not r.blocked
            else not_built_rollup(r.school_id, r.school_name, r.designation or "", settings.as_of, _status(r),
                                  tuple(quote(f.line(), 300) for f in r.input_errors))
            for r in shown]
    charted = [packets[r.school_id] for r in shown if r.school_id in packets and not r.blocked]
    built_at = dt.datetime.now().replace(microsecond=0)
    folders = {r.school_id: r.folder.relative_to(out).as_posix() for r in shown if r.folder}
    links = {r.school_id: school_links(folders.get(r.school_id), [d.relative_to(out).as_posix() for d in r.documents])
             for r in shown}
    templates = Templates(settings.templates)
    dashboard = dashboard_chunks(dashboard_context(settings, charted, rows, built_at,
                                                   (DISTRICT_REPORT, DISTRICT_CALENDAR, READINESS_REPORT), links),
                                 templates.path(DASHBOARD_TEMPLATE))
    return atomic.write_files(out, {
        DISTRICT_REPORT: render_document(templates.path(DISTRICT_REPORT),
                                         report_context(settings, rows, folders, built_at)),
        DISTRICT_CALENDAR: district_calendar(settings.district_name, settings.planning_year.label, charted,
                                             templates=templates),
        DASHBOARD: dashboard,        # written as it is made: never whole in memory
    })


# --- packets collect ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CollectReport:
    """What `packets collect` found in the returned trackers, and with --apply what it wrote."""

    trackers: tuple[ReturnedTracker, ...]            # the trackers accepted, in the order given
    changes: tuple[Change, ...]                      # changes, values already in the inputs, conflicts
    findings: tuple[Finding, ...]                    # trackers refused, rows not read, files skipped
    applied: bool = False
    written: tuple[Written, ...] = ()

    @property
    def to_apply(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == CHANGE)

    @property
    def conflicts(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == CONFLICT)

    @property
    def refused(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def schools_changed(self) -> tuple[str, ...]:
        """The schools whose inputs the changes change: those `packets build` rebuilds after --apply."""
        return tuple(dict.fromkeys(c.school_id for c in self.to_apply))

    @property
    def problem(self) -> bool:
        """True when a tracker was refused, a row not read, or a value is in conflict (exit 1)."""
        return bool(self.conflicts or any(f.severity in (ERROR, WARNING) for f in self.findings))

    def table(self) -> list[list[str]]:
        """The changes as a table: a header row, then a row per value."""
        rows = [["School", "Tracker, row", "Task", "Column", "As built", "Inputs now", "Returned", "Result"]]
        for c in self.changes:
            result = {CHANGE: "applied" if self.applied else "to apply", ALREADY: ALREADY,
                      CONFLICT: "CONFLICT: not applied"}[c.kind]
            place = f"round {c.row}" if c.file.lower().endswith(".docx") else f"row {c.row}"
            rows.append([c.school_id, f"{c.file}, {place}", c.what, c.header, shown(c.built), shown(c.current),
                         shown(c.returned), result + (" (a row of its own)" if c.district_wide and c.kind == CHANGE
                                                      else "")])
        return rows

    @property
    def summary(self) -> str:
        verb = "applied" if self.applied else "to apply"
        unread = sum(f.severity == WARNING for f in self.findings)
        line = (f"{len(self.trackers)} tracker(s) read: {len(self.to_apply)} change(s) {verb}, "
                f"{len(self.conflicts)} conflict(s), {len(self.refused)} refused or not read"
                + (f", {unread} row(s) or column(s) not read" if unread else ""))
        if self.applied and self.written:
            line += "; " + "; ".join(f"{w.path.name} written (backup {w.backup.parent.name}/{w.backup.name})"
                                     for w in self.written)
        if self.to_apply:
            schools = " ".join(self.schools_changed)
            line += (f". Then `packets build` rebuilds school(s) {schools}" if self.applied
                     else ". Run again with --apply to write them")
        return line + "."


def _refused(path: Path, school_id: str, message: str, fix: str = "") -> Finding:
    return Finding(ERROR, f"Refused: {message}", file=path.name, school_id=school_id, fix=fix)


def _latest_version(settings: Settings, entry: dict, form: str) -> str | None:
    """Return the version of the form's tracker the school's latest build wrote, or None when it has none."""
    out = Path(settings.output)
    for document in entry.get("documents", ()):
        if not str(document).lower().endswith((".xlsx", ".docx")):
            continue
        try:
            built = read_returned(out / document)
        except NotATracker:
            continue
        if built.form == form:
            return built.version
    return None


def _check_tracker(settings: Settings, tracker: ReturnedTracker, district: District, manifest: Manifest,
                   blocked: dict[str, list[Finding]]) -> Finding | None:
    """Return why a returned tracker is refused (another school's, an outdated packet), or None."""
    sid, path = tracker.school_id, tracker.path
    schools = {s.school_id: s for s in district.schools}
    school = schools.get(sid)
    if school is None:
        return _refused(path, sid, f"it is the tracker of school {sid}, which is not on the roster.",
                        "Check the file came from this district.")
    if settings.schools and sid not in settings.schools:
        return _refused(path, sid, f"it is school {sid} {school.name}'s tracker, not "
                                   f"{' or '.join(settings.schools)}'s.", "Collect it for its own school.")
    for other in schools.values():
        if other.school_id == sid:
            continue
        folder = naming.packet_folder(settings, other).name
        if path.stem.split("-")[0] == other.school_id or path.parent.name == folder:
            return _refused(path, sid, f"it is named for school {other.school_id} {other.name}, but it is school "
                                       f"{sid} {school.name}'s tracker (another school's tracker filled in?).",
                            f"Ask {other.name} for its own tracker; collect this one as {sid}'s only if "
                            f"it is {school.name}'s.")
    if sid in blocked:
        return _refused(path, sid, f"school {sid}'s own input rows have errors, so what it returned cannot be "
                                   f"checked against them.", "Fix them (packets validate lists them), then collect.")
    entry = manifest.entry(sid)
    latest = _latest_version(settings, entry, tracker.form) if entry else None
    if latest is None:
        return _refused(path, sid, f"no build of school {sid} in {settings.output} to check it against.",
                        "Run `packets collect` with the --output the packets were built in.")
    if latest != tracker.version:
        return _refused(path, sid, f"school {sid} {school.name}'s packet is outdated: it was rebuilt since this "
                                   f"tracker was made (last built {entry.get('built_at', '')[:16]}), from "
                                   f"changed inputs.",
                        "Send the school its tracker from the latest build, and collect that one.")
    return None


def collect(settings: Settings, paths, apply: bool = False) -> CollectReport:
    """Read returned schedule trackers (files, or folders of them), match each row to its task by its Row ID,
    and return what they would change in the timeline: changes, values already there, conflicts; trackers
    of another school or of an outdated packet refused by name. With `apply`, write the changes into the
    district's workbooks (a dated backup kept, each written atomically); conflicts are never written."""
    findings: list[Finding] = []
    given = {Path(p) for p in paths}
    trackers: list[ReturnedTracker] = []
    for path in tracker_files(paths, findings):
        try:
            trackers.append(read_returned(path))
        except NotATracker as exc:
            if path in given:
                findings.append(exc.finding)
            else:
                findings.append(Finding(NOTE, "Not a returned tracker: skipped.", file=path.name))
    if not trackers:
        if not findings:
            raise PacketsError("No workbooks in " + ", ".join(map(str, paths)) + ". Fix: name the returned "
                               "trackers, or the folder holding them.")
        return CollectReport((), (), tuple(findings))
    loaded = read_district(settings, only=tuple(dict.fromkeys(t.school_id for t in trackers)))
    packets = {p.school.school_id: p for p in loaded.district.packets}
    manifest = Manifest.load(settings.output)
    accepted: list[ReturnedTracker] = []
    changes: list[Change] = []
    seen: dict[tuple[str, str], ReturnedTracker] = {}
    for tracker in trackers:
        refusal = _check_tracker(settings, tracker, loaded.district, manifest, loaded.blocked)
        earlier = seen.get((tracker.school_id, tracker.form))
        if refusal is None and earlier is not None:
            refusal = _refused(tracker.path, tracker.school_id, f"{earlier.name} is school {tracker.school_id}'s "
                                                                 f"{tracker.form} too; one at a time.",
                               "Collect the one the school means, then the other if it still applies.")
        if refusal is not None:
            findings.append(refusal)
            continue
        seen[(tracker.school_id, tracker.form)] = tracker
        accepted.append(tracker)
        findings += tracker.findings
        plan = {GRID_TRACKER: plan_grid, REVIEW_FORM: plan_review}.get(tracker.form, plan_schedule)
        found, unread = plan(tracker, packets[tracker.school_id])
        changes += found
        findings += unread
    report = CollectReport(tuple(accepted), tuple(changes), tuple(findings))
    if not apply or not report.to_apply:
        return report
    with OutputLock(settings.output, "collect"):
        written = apply_changes(settings.inputs, report.to_apply)
    return replace(report, applied=True, written=tuple(written))


# --- packets checkin: a check-in day's After Action Reviews and the district's reflection ---------------

@dataclass(frozen=True)
class CheckinForm:
    """One school's After Action Review for a check-in day."""

    school_id: str
    school_name: str
    path: Path
    kept: bool = False              # an earlier form was there (staff may have written in it): left as it was


@dataclass(frozen=True)
class CheckinDay:
    """A check-in day's forms: an After Action Review per school with a check-in that day, and the district's
    reflection workbook across them."""

    date: dt.date
    forms: tuple[CheckinForm, ...]
    reflection: Path
    reflection_kept: bool = False


@dataclass(frozen=True)
class CheckinReport:
    """What `packets checkin` wrote: the days, the schools of the run without a check-in then, and those
    whose own rows have input errors (not prepared)."""

    days: tuple[CheckinDay, ...]
    asked: dt.date | None                         # --date; None: --all, or each school's next check-in
    as_of: dt.date
    without: tuple[tuple[str, str], ...] = ()     # (School ID, name): no check-in on the date (or none left)
    blocked: tuple[tuple[str, str, int], ...] = ()   # (School ID, name, errors): not prepared
    input_findings: tuple[Finding, ...] = ()
    every: bool = False                           # --all: every check-in of each school's cycle

    @property
    def written(self) -> int:
        return sum(not f.kept for d in self.days for f in d.forms)


def checkin(settings: Settings, day: dt.date | None = None, every: bool = False) -> CheckinReport:
    """Write the After Action Review of each school of the run (settings.schools, else every school) for its
    check-in on `day`; with every, for each check-in of its cycle; with neither, for its next check-in on or
    after settings.as_of. They go to output/checkins/<date>/<school folder>/, and for each of those dates
    the district reflection workbook, a row for every school on the roster with a check-in that day
    (--school or not).

    Every document is made before any is written, and they are placed all or none. A form already there is
    kept (staff may have written in it) unless settings.force. A school whose own rows have errors is not
    prepared and is reported; an error of the district raises InputError, and no school of the run with a
    check-in then is a PacketsError, before anything is written."""
    from generator.model.checkin import check_in_on, check_ins, next_check_in
    from generator.render.checkin import (
        AFTER_ACTION_REVIEW,
        AFTER_ACTION_TEMPLATE,
        DISTRICT_REFLECTION,
        DISTRICT_REFLECTION_TEMPLATE,
        after_action_review_context,
        reflection_context,
    )
    from generator.render.template_data import form_data

    if day and every:
        raise PacketsError("Give --date or --all, not both.")
    check_engine()
    with OutputLock(settings.output, "checkin"):
        loaded = read_district(settings, only=())         # every school: the reflection shows them all
        district = loaded.district
        clashes = _folder_clashes(settings, district)
        if clashes:
            raise InputError(loaded.findings + clashes)
        templates = Templates(settings.templates)
        texts = form_data(templates)
        _remove_checkin_leftovers(settings)
        packets = list(district.packets)
        in_run = [p for p in packets if _of_run(settings, p.school.school_id)]
        wanted: dict[dt.date, set[str]] = {}          # each day's schools of the run that get a form
        for p in in_run:
            if every:
                days_of = [e.due for e in check_ins(p)]
            else:
                found = check_in_on(p, day) if day else next_check_in(p, settings.as_of)
                days_of = [found.date] if found else []
            for d in days_of:
                wanted.setdefault(d, set()).add(p.school.school_id)
        covered = set().union(*wanted.values()) if wanted else set()
        without = tuple((p.school.school_id, p.school.name) for p in in_run if p.school.school_id not in covered)
        blocked = tuple((s.school_id, s.name, len(loaded.blocked[s.school_id])) for s in district.schools
                        if s.school_id in loaded.blocked and _of_run(settings, s.school_id))
        if not wanted and blocked:              # the run's only schools that might have one cannot be read
            raise InputError(loaded.findings)
        if not wanted:
            dates = sorted({e.due for p in in_run for e in check_ins(p)})
            listed = ", ".join(d.isoformat() for d in dates[:12]) + (" ..." if len(dates) > 12 else "")
            when = f"on {day.isoformat()}" if day else "at all" if every else \
                f"on or after {settings.as_of.isoformat()} (the as-of date)"
            raise PacketsError(
                f"No school of this run has a check-in {when}. "
                + (f"Its check-in dates: {listed}. Fix: give --date one of them." if dates else
                   "Fix: add Check-in rows to timeline.xlsx, sheet Review (Step: Check-in)."))

        files: dict[Path, bytes] = {}
        days = []
        for date in sorted(wanted):
            folder = naming.checkin_folder(settings, date)
            forms, rows = [], []
            for packet in packets:               # roster order
                check_in = check_in_on(packet, date)
                if check_in is None:
                    continue
                school = packet.school
                target = naming.checkin_school_folder(settings, date, school) / naming.document_name(
                    settings, school, AFTER_ACTION_REVIEW, ".docx")
                if school.school_id in wanted[date]:
                    kept = target.exists() and not settings.force
                    if not kept:
                        files[target] = render_document(templates.path(AFTER_ACTION_TEMPLATE),
                                                        after_action_review_context(check_in, templates))
                    forms.append(CheckinForm(school.school_id, school.name, target, kept))
                rows.append((check_in, school_rollup(packet), target.relative_to(folder).as_posix()))
            reflection = folder / f"{DISTRICT_REFLECTION}.xlsx"
            reflection_kept = reflection.exists() and not settings.force
            if not reflection_kept:
                context = reflection_context(settings.district_name, settings.planning_year.label, date,
                                             settings.as_of, rows, texts.title(DISTRICT_REFLECTION), packets)
                files[reflection] = render_document(templates.path(DISTRICT_REFLECTION_TEMPLATE), context)
            days.append(CheckinDay(date, tuple(forms), reflection, reflection_kept))

        atomic.ensure_writable(Path(settings.output))
        atomic.write_paths(files)
        return CheckinReport(tuple(days), day, settings.as_of, without, blocked, tuple(loaded.findings), every)


def _remove_checkin_leftovers(settings: Settings) -> None:
    """Remove what a killed `packets checkin` left in output/checkins/<date>/ and its school folders (the
    build tidies only the output folder and the packet folders): called under the output folder's lock."""
    root = Path(settings.output) / naming.CHECKINS
    if root.is_dir():
        for day in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            atomic.remove_leftovers(day)


def _check_in_context(packet: Packet, settings: Settings) -> dict[str, Any]:
    """Return what after_action_review.docx receives for the school's next check-in on or after the as-of
    date (`packets context ID --form after-action-review`, for template authors)."""
    from generator.model.checkin import next_check_in
    from generator.render.checkin import after_action_review_context
    found = next_check_in(packet, settings.as_of)
    if found is None:
        raise PacketsError(f"School {packet.school.school_id} has no check-in on or after "
                           f"{settings.as_of.isoformat()}. Fix: give --as-of a day before one of its check-ins.")
    return after_action_review_context(found, Templates(settings.templates))
