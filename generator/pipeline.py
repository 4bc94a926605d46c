"""Pipeline: load -> normalize/validate -> model -> render -> package, as plain functions the CLI calls.

Everything is gathered and checked before anything is written: a run with input errors
raises InputError carrying every finding, and leaves the output folder as it was.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterator

from generator.collector import collector_paused
from generator.delivery import send as delivery
from generator.findings import ERROR, WARNING, Finding, InputError, PacketsError, errors, os_error_text
from generator.inputs.normalize import normalize_sheet
from generator.inputs.read import load_inputs
from generator.inputs.schema import SHEETS
from generator.inputs.validate import validate_tables
from generator.model.build import build_district
from generator.model.readiness import check_packet, is_ready
from generator.model.records import District, Packet, School
from generator.model.rollup import school_rollup
from generator.output import atomic, naming, packet_manifest
from generator.output.build_record import MANIFEST, Manifest, packet_fingerprint, run_digest, templates_digest
from generator.output.lock import OutputLock
from generator.render import FORMS, packet_contexts, render_document, render_packet
from generator.render.calendars import CALENDAR_KEY, DISTRICT_CALENDAR, district_calendar, school_calendar
from generator.render.dashboard import DASHBOARD, DASHBOARD_TEMPLATE, dashboard_chunks, dashboard_context, school_links
from generator.render.district import report_context
from generator.render.hyperlinks import link_paths
from generator.render.template_data import Templates
from generator.render.validation import validation_report
from generator.settings import Settings

READINESS_REPORT = "readiness.xlsx"
READINESS_LINES = 40      # findings listed per school in readiness.xlsx; the rest are counted
DISTRICT_REPORT = "district.xlsx"
DISTRICT_VIEW = (DISTRICT_REPORT, DISTRICT_CALENDAR, DASHBOARD)     # written together after the packets


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
    pdf_error: str = ""           # why the combined PDF was not made (the Word and Excel packet is complete)


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


@collector_paused()          # millions of objects, no cycles: see collector.py
def load_district(settings: Settings) -> tuple[District, list[Finding]]:
    """Return the district model and the non-blocking findings; raise InputError listing every error."""
    raw, findings = load_inputs(settings.inputs)
    tables = {}
    for spec in SHEETS:
        if spec.name in raw:
            # Each sheet as read is let go once normalized, not held while the rest are.
            tables[spec.name], found = normalize_sheet(raw.pop(spec.name), spec)
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


def plan_delivery(settings: Settings, email, strict: bool = False, resend: bool = False) -> list:
    """Return each selected school's planned review email (delivery.send.Delivery), from the last build:
    a folder no build has written stops before the inputs are read."""
    delivery.require_build(settings.output)
    district, _ = load_district(settings)
    return delivery.plan(settings, email, district, strict=strict, resend=resend)


def school_context(settings: Settings, school_id: str) -> dict[str, Any]:
    """Return exactly what each of the school's templates receives, keyed by form."""
    district, _ = load_district(Settings(**{**settings.__dict__, "schools": (school_id,)}))
    return packet_contexts(district.packets[0], Templates(settings.templates))


@dataclass(frozen=True)
class _StagedPacket:
    """One school's packet, every document written to a temporary file beside its place."""

    school: School
    folder: Path
    files: list[tuple[Path, Path]]           # (target, temporary file), as atomic.stage_files returns
    findings: tuple[Finding, ...]
    ready: bool
    built_at: dt.datetime


def _stage_one(settings: Settings, packet: Packet, strict: bool) -> _StagedPacket:
    school = packet.school
    names = naming.document_names(settings, school, [(f.key, f.suffix) for f in FORMS] + [(CALENDAR_KEY, ".ics")])
    findings = tuple(check_packet(packet))
    templates = Templates(settings.templates)
    documents = render_packet(packet, templates)
    files = {names[form.key]: documents[form.key] for form in FORMS}
    files[names[CALENDAR_KEY]] = school_calendar(packet, templates=templates)
    folder = naming.packet_folder(settings, school)
    ready, built_at = is_ready(findings, strict), dt.datetime.now().replace(microsecond=0)
    files[packet_manifest.PACKET_MANIFEST] = packet_manifest.packet_manifest(school, settings.inputs, files, ready,
                                                                             findings, built_at)
    # Not flushed file by file where one sync can do it: _build_chunk syncs before any older document
    # is replaced, and build() before the manifest records the packets.
    staged = atomic.stage_files(folder, files, flush=not atomic.CAN_DEFER_FLUSH)
    return _StagedPacket(school, folder, staged, findings, ready, built_at)


def _place_one(settings: Settings, staged: _StagedPacket) -> PacketResult:
    school, folder = staged.school, staged.folder
    written = atomic.place_files(staged.files)
    # A combined PDF from an earlier build no longer matches these documents; --pdf makes a new one.
    (folder / naming.packet_pdf_name(settings, school)).unlink(missing_ok=True)
    documents = tuple(p for p in written if p.name != packet_manifest.PACKET_MANIFEST)
    return PacketResult(school.school_id, school.name, school.designation, folder, documents, staged.findings,
                        staged.ready, staged.built_at)


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
        folder = old.get("folder")
        moved = (_plain_name(folder)
                 and folder.casefold() != r.folder.relative_to(out).as_posix().casefold())
        if moved:
            listed = packet_manifest.read(out / folder).get("files", [])
            names = [e["file"] for e in listed if isinstance(e, dict) and isinstance(e.get("file"), str)]
            recorded += [f"{folder}/{name}" for name in names + [packet_manifest.PACKET_MANIFEST]]
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
                (out / folder).rmdir()
            except OSError:        # staff files in it, or already gone
                pass


def _plain_name(name) -> bool:
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


def _isolated(school: School, step: Callable[..., Any], *args) -> Any:
    """Return step(*args), or what went wrong as that school's failed result, so the batch goes on."""
    try:
        return step(*args)
    except Exception as exc:  # one school's failure must not stop the others; it is reported by name
        return _failed(school, exc)


def _failed(school: School, exc: Exception) -> PacketResult:
    detail = (os_error_text(exc) if isinstance(exc, OSError) else str(exc) if isinstance(exc, PacketsError)
              else f"{type(exc).__name__}: {exc}")
    return PacketResult(school.school_id, school.name, school.designation, None, (), (), False,
                        error=f"Error building the packet for {school.school_id} ({school.name}): {detail}")


def _build_chunk(jobs: list[tuple[Settings, Packet, bool]]) -> list[PacketResult]:
    """Build a few schools' packets: write every document to a temporary file, put them all on disk
    with one sync if any is to replace an older document, then move each packet into place."""
    staged = [_isolated(packet.school, _stage_one, settings, packet, strict) for settings, packet, strict in jobs]
    if any(isinstance(s, _StagedPacket) and any(target.exists() for target, _ in s.files) for s in staged):
        try:
            atomic.flush_all(jobs[0][0].output)
        except PacketsError as exc:        # the disk failed: no older document is replaced
            for s in staged:
                if isinstance(s, _StagedPacket):
                    atomic.discard(s.files)
            return [_failed(s.school, exc) if isinstance(s, _StagedPacket) else s for s in staged]
    return [_isolated(s.school, _place_one, settings, s) if isinstance(s, _StagedPacket) else s
            for (settings, _, _), s in zip(jobs, staged)]



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
        name = naming.packet_folder(settings, school).name.casefold()
        other = seen.setdefault(name, school)
        if other is not school:
            findings.append(Finding(
                ERROR, f"School IDs '{other.school_id}' and '{school.school_id}' would share "
                       f"the packet folder '{name}'.", **school.source.at("school_id"),
                value=school.school_id, school_id=school.school_id,
                fix="Give each school an ID that differs in letters or digits, not only in punctuation."))
    return findings


def build(settings: Settings, strict: bool = False, progress: Callable[[PacketResult], None] | None = None,
          jobs: int = 1, force: bool = False, pdf: bool = False) -> BuildReport:
    """Build every school's packet (or those in settings.schools) and the district readiness report.

    Schools whose inputs, templates and generator are unchanged since the last build are skipped
    (force rebuilds them). With jobs > 1 packets are built in that many processes; results come back
    in roster order, and each school's result is reported as soon as it is known. With pdf, each school
    also gets its combined PDF (made where missing or out of date), all converted by one LibreOffice.

    One build or send at a time writes an output folder: another one running stops this one with a
    PacketsError before anything is read or written.
    """
    with OutputLock(settings.output, "build") as lock:
        return _build(settings, strict, progress, jobs, force, pdf, lock.interrupted)


def _build(settings: Settings, strict: bool, progress: Callable[[PacketResult], None] | None, jobs: int,
           force: bool, pdf: bool, interrupted: bool) -> BuildReport:
    manifest = Manifest.load(settings.output)
    templates = templates_digest(Templates(settings.templates))
    digest = run_digest(settings, templates, strict, pdf)
    report_path = Path(settings.output) / READINESS_REPORT
    if not force and manifest.unchanged_run(digest, report_path) and district_view_present(settings):
        if interrupted:                 # a send was killed: its leftovers go, though nothing is built
            _remove_leftovers(settings)
        return _unchanged_run(settings, manifest, report_path, progress)

    district, input_findings = load_district(settings)
    input_findings = manifest.findings + input_findings
    clashes = _folder_clashes(settings, district)
    if clashes:
        raise InputError(input_findings + clashes)
    atomic.ensure_writable(settings.output, (MANIFEST, READINESS_REPORT, *DISTRICT_VIEW))
    _remove_leftovers(settings)

    fingerprints = {p.school.school_id: packet_fingerprint(p, settings, templates) for p in district.packets}
    stale = [p for p in district.packets if force or not manifest.is_current(p.school.school_id,
                                                                          fingerprints[p.school.school_id])]
    stale_ids = {p.school.school_id for p in stale}
    previous = {sid: manifest.entry(sid) for sid in stale_ids}       # record() replaces, not edits, these
    if stale or manifest.run:
        # Before anything is replaced, so a run killed midway (Ctrl-C, a kill, a power cut) leaves a
        # manifest that vouches neither for the packets it was rebuilding nor for the district view
        # it had yet to write: the next run rebuilds those and writes the view again.
        manifest.begin_run(stale_ids)
        manifest.save()
    built = _build_all(settings, stale, strict, jobs)

    results = []
    try:
        for packet in district.packets:
            sid = packet.school.school_id
            result = next(built) if sid in stale_ids else _skipped(settings, packet, strict, manifest.entry(sid))
            if not result.error:
                manifest.record(sid, fingerprints[sid], result.folder, result.documents, result.built_at,
                                result.school_name, result.designation, result.ready, settings.as_of)
            results.append(result)
            if progress:
                progress(result)
    finally:
        built.close()           # interrupted: the workers stop now, not after the chunks queued for them
    if pdf:
        results = _add_pdfs(settings, district, results, manifest, fingerprints)
    failed = any(r.error or r.pdf_error for r in results)
    if stale:
        atomic.flush_all(settings.output)     # the new packets are on disk before the manifest records them
        _remove_superseded(settings, manifest, previous, results)
    report = write_readiness_report(settings, results)
    write_district_view(settings, district, results)
    # Last: the manifest says this run is complete only once its district view is written.
    manifest.finish_run(None if failed else digest, [r.school_id for r in results])
    manifest.save()
    return BuildReport(tuple(results), tuple(input_findings), report)


def _remove_leftovers(settings: Settings) -> None:
    """Remove what killed runs left: temporary files in the output folder, converters' working folders."""
    from generator.output.pdf import remove_stale_work_folders
    atomic.remove_leftovers(settings.output)
    remove_stale_work_folders()


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
    size = max(1, min(16, len(packets) // (jobs * 8)))      # small chunks keep progress steady
    chunks = (list(islice(work, size)) for _ in range(0, len(packets), size))
    if jobs <= 1 or len(packets) < 2:
        for chunk in chunks:
            yield from _build_chunk(chunk)
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(packets)), mp_context=_worker_start(),
                             initializer=_worker_init) as pool:
        # A few chunks in flight per worker, not the whole district: memory stays flat as N grows
        # (Executor.map would pickle and queue every school's packet at once).
        pending: deque = deque()
        try:
            for chunk in chunks:
                pending.append(pool.submit(_build_chunk, chunk))
                if len(pending) >= jobs * 3:
                    yield from _next_results(pending)
            while pending:
                yield from _next_results(pending)
        except BaseException:       # Ctrl-C, or the build stopped (GeneratorExit) with work still queued
            if not all(future.done() for future in pending):
                _stop_workers(pool)
            raise


def _next_results(pending: deque) -> list[PacketResult]:
    """Return the oldest chunk's results, leaving it in `pending` while they are awaited."""
    results = pending[0].result()
    pending.popleft()
    return results


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's workers mid-chunk: what they had not yet moved into place is left as temporary
    files, which the next run removes. (shutdown alone would wait for every chunk queued.)"""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(5)


def _worker_init() -> None:
    """Prepare a pool worker: Ctrl-C is left to the main process, which stops the workers itself
    (a worker interrupted on its own would print its traceback), and the worker ends as soon as the
    main process does, however it ends. Its parent is the fork server, which outlives a killed main
    process for as long as any worker runs, so the worker watches the main process itself:
    multiprocessing's parent sentinel is readable once the main process is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent.sentinel,), name="end-with-build", daemon=True).start()


def _end_with(sentinel) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _worker_start() -> multiprocessing.context.BaseContext:
    """Return how pool workers start: from a fork server that has imported the generator, where the
    platform has one. A worker forked from this process would hold the whole district's model (every
    school's rows), so each worker's memory would grow with the district; these hold only their work."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


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
        if r.error:
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
            packet_manifest.add_files(r.folder, documents + (target,),
                                      packet_manifest.readiness_entry(r.ready, r.findings))
            r = replace(r, documents=documents + (target,))
        manifest.record(r.school_id, fingerprints[r.school_id], r.folder, r.documents, r.built_at, r.school_name,
                        r.designation, r.ready, settings.as_of)
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
            "ready": "Failed" if r.error else ("Ready" if r.ready else "Not ready"),
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
    readiness = {r.school_id: "Failed" if r.error else ("Ready" if r.ready else "Not ready") for r in results}
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
