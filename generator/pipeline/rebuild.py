"""`packets build`'s work once something is stale: read and check the district, build the stale schools'
packets (and PDFs), record them in the manifest, write readiness.xlsx and the district's view."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from functools import cache, partial
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Mapping, Sequence, TypeGuard

from generator.collector import collector_frozen, collector_paused
from generator.findings import (
    ERROR,
    NOTE,
    WARNING,
    Finding,
    InputError,
    PacketsError,
    errors,
    quote,
    summary,
)
from generator.inputs.cache import CACHE_FOLDER, SchoolRows, run_folder
from generator.inputs.workbook import keep_workbooks
from generator.model.build import PLAN_NOT_MODELLED
from generator.model.readiness import check_packet, is_ready
from generator.model.records import District, Packet, School
from generator.model.rollup import not_built_rollup
from generator.model.status import packet_readiness
from generator.output import atomic, batch, kept_by_school, kept_findings, kept_view, naming, packet_manifest
from generator.output.build_record import MANIFEST, Manifest, inputs_digests, packet_fingerprint
from generator.output.kept_view import SchoolView, school_view
from generator.output.processes import Helper, handed_over, helper_process
from generator.output.results import PacketResult, no_packet, recorded_result
from generator.pipeline.district import LoadedDistrict, folder_clashes, of_run, read_district
from generator.pipeline.packets import (
    DASHBOARD,
    DISTRICT_CALENDAR,
    DISTRICT_REPORT,
    DISTRICT_VIEW,
    READINESS_REPORT,
    BuildReport,
    remove_leftovers,
)
from generator.render import prepare_templates, render_document
from generator.render.calendars import shared_calendar
from generator.render.dashboard import (
    DASHBOARD_TEMPLATE,
    KeptChartRows,
    dashboard_chunks,
    dashboard_context,
    school_links,
)
from generator.render.district import report_context
from generator.render.template_data import Templates
from generator.render.validation import readiness_summary, validation_report, validation_rows
from generator.settings import Settings

# From this many schools a rebuild has a helper process (_helper): readiness.xlsx and the district view take
# about 0.2 s each at 1,000 schools, where starting the helper and handing it work costs about what it saves.
HELPER_SCHOOLS = 1000
CHART_ROWS_STORE = "chart_rows.sqlite"      # in the cache folder: the dashboard's chart rows as drawn (KeptChartRows)


def rebuild(settings: Settings, manifest: Manifest, templates: str, digest: str,
            progress: Callable[[PacketResult], None] | None = None) -> BuildReport:
    """Build what is stale (build()'s work once it knows the run is not unchanged): read and check the
    district, build the stale schools' packets and PDFs, record them, write the district's view."""
    if settings.jobs > 1 and (settings.force or not manifest.entries):
        batch.start_workers_early()         # a first build or --force: many packets to build
    asks = bool(manifest.entries) and not settings.force         # which packets are current?
    # A school is modelled only when its packet is built or checked or its view is not kept (kept_view), and
    # its plan only when built or checked, where it is built when goals.xlsx is kept: a rebuild shows most
    # schools as they were. (Not with --pdf or --school, which look at other schools' packets whole.)
    whole = settings.pdf or bool(settings.schools)
    cache = Path(settings.output) / CACHE_FOLDER
    with ExitStack() as run:
        # A rebuild of a large district starts its helper before reading, for it to be ready when wanted.
        helper = run.enter_context(_helper(settings, len(manifest.entries)))
        scratch = None if whole or asks else run.enter_context(_scratch(cache))
        # Which packets are on disk as recorded (a stat call a document) is looked at while the changed workbook
        # is read: calamine's parsing lets go of the GIL.
        looking = run.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="on-disk")).submit(
            manifest.on_disk) if asks else None
        with collector_paused():
            loaded, input_findings = _load_and_check(settings, manifest, plans=whole, scratch=scratch)
            # What was loaded lives the whole run: the collector's passes leave it out. Frozen before the
            # collector resumes, it is never looked at (the first pass after the pause took 0.3 s at 5,000),
            # and the pass on resuming finds nothing young.
            run.enter_context(collector_frozen())
        background = run.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="background"))
        district = loaded.district
        helper = helper or run.enter_context(_helper(settings, len(district.schools)))
        unkept = loaded.unkept
        # Kept at once when the run asks which packets are current (_keep); else once the packets are modelled,
        # not beside the modelling, which it slowed by a third.
        kept = _keep(settings, unkept, None) if asks else None
        packet_of = _Packets(loaded)
        # The tables read go once kept and the packets the run needs modelled: the results reuse their memory.
        loaded = replace(loaded, unkept=(), with_plan=None, model=None)
        fingerprint = _fingerprints(packet_of, settings, templates)
        inputs = _inputs(loaded, kept, settings, templates) if kept is not None else {}
        in_run = [sid for sid in packet_of.ids if of_run(settings, sid)]
        forms = Templates(settings.templates)
        on_disk = looking.result() if looking is not None else None
        with collector_paused():        # the packets modelled now live the run, as what was loaded does
            # With goals.xlsx left in its store, the stale packets' plans are modelled where they are built.
            stale = [packet_of(sid, planned=loaded.plan_rows is None) for sid in in_run if settings.force or
                     not manifest.is_current(sid, partial(fingerprint, sid), inputs.get(sid), settings.as_of,
                                             on_disk)]
            previous = _begin_run(manifest, stale)
            checked = _checked(kept_findings.load(cache, inputs), in_run, stale, packet_of)
            stored_views = kept_view.read(cache) if asks else {}
            views = _views(kept_view.load(stored_views, inputs), packet_of, stale, forms)
            packet_of.modelled()         # every packet this run needs is modelled: the tables go
        run.enter_context(collector_frozen())
        kept = kept or _keep(settings, unkept, background)
        del unkept

        work = batch.Work(forms, templates, loaded.plan_rows)
        results = _build_packets(settings, loaded, packet_of.ids, stale, manifest, work, checked, progress, helper)
        if settings.pdf:
            results = _add_pdfs(settings, district, results, manifest, fingerprint)
        if scratch is not None and loaded.plan_rows is not None:
            _keep_read_apart(loaded.plan_rows, cache)

        # The new packets go to disk (the sync waits on the disk, not on the CPU) while the district's reports
        # are made; only once they are there are older documents removed and the packets recorded.
        flushed = background.submit(atomic.flush_all, settings.output) if stale else None
        others = _others(settings, loaded, manifest, templates) if settings.schools else []
        shown = _in_roster_order(district, results + others)
        inputs = inputs or _inputs(loaded, kept, settings, templates)
        chart_rows = KeptChartRows(inputs, kept_by_school.read(cache / CHART_ROWS_STORE))
        with collector_paused():
            views.update((p.school.school_id, school_view(p, forms)) for p in stale)     # as built
        # Shown by their views from now on, the packets go before the reports take memory of their own (read
        # lazily, nothing else holds them; with --pdf or --school the district does).
        del stale, packet_of, fingerprint
        report = _write_reports(settings, views, shown, input_findings, helper, chart_rows)
        background.submit(kept_by_school.write, cache / CHART_ROWS_STORE, chart_rows.drawn, chart_rows.earlier)
        background.submit(kept_view.keep, cache, {sid: (inputs[sid], view) for sid, view in views.items()
                                                  if sid in inputs}, [s.school_id for s in district.schools],
                          stored_views)
        if flushed is not None:
            flushed.result()
            _remove_superseded(settings, manifest, previous, results)
        made = [r for r in results if r.school_id in inputs and not r.error and not r.blocked]
        manifest.record_inputs({r.school_id: inputs[r.school_id] for r in made})
        background.submit(kept_findings.keep, cache, {r.school_id: (inputs[r.school_id], r.findings) for r in made},
                          [school.school_id for school in district.schools])
        # Last: the manifest says this run is complete only once its district view is written.
        failed = any(r.error or r.pdf_error or r.blocked for r in results) or bool(errors(input_findings))
        manifest.finish_run(None if failed else digest, [r.school_id for r in results], loaded.blocked)
        manifest.save()
        return BuildReport(tuple(results), tuple(input_findings), report, tuple(others), tuple(settings.schools))


@contextmanager
def _helper(settings: Settings, schools: int) -> Iterator[Helper | None]:
    """Yield a helper process, for a district large enough to be worth it: it builds a packet or so
    (more go to the pool) and writes readiness.xlsx beside the district view (each about a second at
    5,000 schools, the other core idle by then). Started now, it has imported the renderers and
    prepared the templates by the time it is handed work: a process preparing them first took 0.3 s to
    build one packet."""
    if settings.jobs < 2 or schools < HELPER_SCHOOLS:
        yield None
        return
    warm = [(_prepare, (Templates(settings.templates), settings.inputs))]
    with helper_process(multiprocessing.get_context("spawn"), warm) as helper:
        yield helper


@contextmanager
def _scratch(cache: Path) -> Iterator[Path]:
    """Yield a folder in the cache for a first build to keep goals.xlsx in for its own run (read_district's
    `scratch`), removed when the run ends, and the cache folder with it if the run made it and left it
    empty: a refused or stopped build leaves nothing. (A build killed outright leaves it for the next one
    to remove: remove_leftovers.)"""
    made = not cache.exists()
    folder = run_folder(cache)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if made:
            try:
                cache.rmdir()
            except OSError:        # kept stores in it, or already gone
                pass


def _keep_read_apart(plan_rows: SchoolRows, cache: Path) -> None:
    """Keep goals.xlsx, which a first build read and kept in its scratch folder, for the next build: moved
    into the cache now that its packets, which read their plans from it, are built."""
    if plan_rows.cache != cache:
        try:
            plan_rows.move_to(cache)
        except OSError:         # only a cache: the next build reads goals.xlsx again
            pass


def _prepare(templates: Templates, inputs: Path) -> None:
    """The helper's first work (which imports this module): prepare the templates it may render, and hash
    the input files each packet's manifest.json lists."""
    prepare_templates(templates, (READINESS_REPORT,))
    packet_manifest.input_entries(inputs)


def _write_reports(settings: Settings, views: Mapping[str, SchoolView], shown: list[PacketResult],
                   input_findings: list[Finding], helper: Helper | None, chart_rows: KeptChartRows) -> Path:
    """Write readiness.xlsx and the district view, readiness.xlsx in the helper process if there is one
    (write_readiness_report, write_district_view); return readiness.xlsx's path."""
    if helper is None:
        report = write_readiness_report(settings, shown, input_findings)
        write_district_view(settings, views, shown, chart_rows)
        return report
    # Its rows made here: the results themselves (paths, findings) took longer to hand over than to write.
    with handed_over(readiness_context(settings, shown, input_findings)) as context:
        _, (report,) = helper.beside([(write_readiness, (settings, context))],
                                     lambda: write_district_view(settings, views, shown, chart_rows))
    return report


def _keep(settings: Settings, unkept: tuple, background: ThreadPoolExecutor | None) -> Future:
    """Keep the workbooks read for the next build (keep_workbooks), returning their digests as a future.

    When the run asks which packets are current, at once: a school whose inputs are as its packet was
    built from is current without its packet being fingerprinted (inputs_digests), and keeping the
    workbooks gives their digests. Otherwise (nothing can be current) in the background, while the packets
    are built and this process mostly waits on its workers (1.2 s at 5,000 schools before the first
    packet otherwise)."""
    keeping = (Path(settings.inputs), Path(settings.output) / CACHE_FOLDER, unkept)
    if background is not None:
        return background.submit(keep_workbooks, *keeping)
    done: Future = Future()
    done.set_result(keep_workbooks(*keeping))
    return done


def _inputs(loaded: LoadedDistrict, kept: Future, settings: Settings, templates: str) -> dict[str, str]:
    """Return each school's inputs digest (build_record.inputs_digests); none when some rows' digests could
    not be made (a value a store cannot hold)."""
    read = kept.result()
    if read is None:
        return {}
    return inputs_digests({**loaded.kept_digests, **read}, [s.school_id for s in loaded.district.schools],
                          settings, templates)


class _Packets:
    """Each school's packet by School ID: read without plans, the packet modelled when first asked for and
    its plan when asked for; read with them, as read."""

    def __init__(self, loaded: LoadedDistrict):
        district = loaded.district
        self._packets = {p.school.school_id: p for p in district.packets}
        self._model, self._plan = loaded.model, loaded.with_plan
        self._schools = {s.school_id: s for s in district.schools} if loaded.model else {}
        # Every school with a packet, in roster order: read without plans, every school whose rows have no errors.
        self.ids = [sid for sid in self._schools if sid not in loaded.blocked] if loaded.model else list(self._packets)

    def __call__(self, school_id: str, planned: bool = True) -> Packet:
        """Return the school's packet, with its plan unless `planned` is false (then as it is modelled)."""
        packet = self._packets.get(school_id)
        if packet is None:
            if self._model is None:
                raise RuntimeError(f"School {school_id}'s packet was asked for after the packets were modelled.")
            packet = self._packets[school_id] = self._model(self._schools[school_id])
        if packet.plan is PLAN_NOT_MODELLED and planned:
            if self._plan is None:
                raise RuntimeError(f"School {school_id}'s plan was asked for after the plans were modelled.")
            packet = self._packets[school_id] = self._plan(packet)
        return packet

    def modelled(self) -> None:
        """Say every packet and plan the run needs is modelled, letting go of what modelling them took (the
        tables)."""
        self._model = self._plan = None


def _views(kept: dict[str, SchoolView], packet_of: _Packets, stale: Sequence[Packet],
           templates: Templates) -> dict[str, SchoolView]:
    """Return what the district view shows of each school with a packet but those being built (`stale`: shown
    once built): as kept for its inputs (kept_view), else made from its packet, modelled now if need be."""
    building = {p.school.school_id for p in stale}
    views = {}
    for sid in packet_of.ids:
        if sid in kept:
            views[sid] = kept[sid]
        elif sid not in building:
            views[sid] = school_view(packet_of(sid, planned=False), templates)
    return views


def _checked(kept: dict[str, tuple[Finding, ...]], in_run: list[str], stale: list[Packet],
             packet_of: Callable[[str], Packet]) -> dict[str, tuple[Finding, ...]]:
    """Return the readiness findings of each school of the run not rebuilt: as kept for its inputs
    (kept_findings), else checked now."""
    rebuilt = {p.school.school_id for p in stale}
    return {sid: kept[sid] if sid in kept else tuple(check_packet(packet_of(sid)))
            for sid in in_run if sid not in rebuilt}


def _fingerprints(packet_of: Callable[[str], Packet], settings: Settings, templates: str) -> Callable[[str], str]:
    """Return each school's packet fingerprint by School ID, worked out when first asked for: a first
    build (or --force) needs none to know what to build, and a packet built has its fingerprint made where
    it is built (batch.Work), not here (1.4 s of this process at 5,000 schools)."""
    @cache
    def fingerprint(school_id: str) -> str:
        return packet_fingerprint(packet_of(school_id), settings, templates)
    return fingerprint


def _in_roster_order(district: District, results: list[PacketResult]) -> list[PacketResult]:
    order = {school.school_id: i for i, school in enumerate(district.schools)}
    return sorted(results, key=lambda r: order.get(r.school_id, len(order)))


def _load_and_check(settings: Settings, manifest: Manifest, plans: bool = True, scratch: Path | None = None
                    ) -> tuple[LoadedDistrict, list[Finding]]:
    """Return the district, a packet for every school whose rows have no errors, and the findings (the
    manifest's first), once nothing stops the build: an error of the district or two schools sharing a
    folder is an InputError, an output folder that cannot be written a PacketsError, before anything is
    written. Then what killed runs left goes."""
    # Every school: the district's view shows them all.
    loaded = read_district(settings, only=(), cache=Path(settings.output) / CACHE_FOLDER, plans=plans,
                           scratch=scratch)
    findings = manifest.findings + loaded.findings
    clashes = folder_clashes(settings, loaded.district)
    if clashes:
        raise InputError(findings + clashes)
    atomic.ensure_writable(settings.output, (MANIFEST, READINESS_REPORT, *DISTRICT_VIEW))
    remove_leftovers(settings)
    return loaded, findings


def _begin_run(manifest: Manifest, stale: list[Packet]) -> dict[str, dict]:
    """Return what the manifest recorded of the stale schools (record() replaces, not edits, these),
    having saved it with them pending."""
    stale_ids = {p.school.school_id for p in stale}
    previous = {sid: manifest.entry(sid) for sid in stale_ids}
    if manifest.run or any(previous.values()):
        # Before anything is replaced, so a run killed midway (Ctrl-C, a kill, a power cut) leaves a
        # manifest that vouches neither for the packets it was rebuilding nor for the district view
        # it had yet to write: the next run rebuilds those and writes the view again. A first build
        # has nothing recorded to take back, and its saving (flushed to disk) would hold up every packet.
        manifest.begin_run(stale_ids)
        manifest.save()
    return previous


def _build_packets(settings: Settings, loaded: LoadedDistrict, has_packet: Collection[str], stale: list[Packet],
                   manifest: Manifest, work: batch.Work, checked: dict[str, tuple[Finding, ...]],
                   progress: Callable[[PacketResult], None] | None, helper: Helper | None = None
                   ) -> list[PacketResult]:
    """Return every school of the run's result in roster order: the stale ones built, the others as
    recorded (with their readiness findings, `checked`), those whose rows have errors not built. Each
    packet built is recorded in the manifest, and reported to progress, as soon as it is known. `has_packet`
    are the schools with a packet (those whose rows have no errors)."""
    stale_ids = {p.school.school_id for p in stale}
    has_packet = set(has_packet)
    built = batch.build_all(settings, stale, work, helper)
    results = []
    try:
        for school in loaded.district.schools:
            sid = school.school_id
            if not of_run(settings, sid) or (sid not in has_packet and sid not in loaded.blocked):
                continue
            if sid in loaded.blocked:
                result = _blocked(settings, school, loaded.blocked[sid], manifest.entry(sid))
            elif sid in stale_ids:
                result = next(built)
            else:
                result = _skipped(settings, school, manifest.entry(sid), checked[sid])
            if result.skipped:
                manifest.keep(sid, result.school_name, result.designation, result.ready, settings.as_of)
            elif not result.error and not result.blocked:
                _record(settings, manifest, result.fingerprint, result)
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
        return no_packet(school.school_id, school.name, school.designation or "", input_errors=errors_found)
    earlier = recorded_result(settings.output, school.school_id, entry)
    return replace(earlier, school_name=school.name or earlier.school_name, ready=False, skipped=False,
                   input_errors=errors_found)


def _others(settings: Settings, loaded: LoadedDistrict, manifest: Manifest, templates: str) -> list[PacketResult]:
    """Return, for a --school run, every other school on the roster as its last build left it: its packet,
    readiness and findings as built (judged by the day that build recorded), `changed` when its inputs
    have changed since; a school never built is Not built; one whose rows have errors, Not built: input
    errors. Nothing of theirs is written."""
    packets = {p.school.school_id: p for p in loaded.district.packets}
    others = []
    for school in loaded.district.schools:
        sid = school.school_id
        if of_run(settings, sid):
            continue
        entry = manifest.entry(sid)
        if sid in loaded.blocked:
            others.append(replace(_blocked(settings, school, loaded.blocked[sid], entry), recorded=True))
        elif not entry:
            others.append(no_packet(sid, school.name, school.designation, recorded=True))
        else:
            as_built = _as_built(packets[sid], manifest, settings, templates)
            findings = tuple(check_packet(as_built)) if as_built else ()
            others.append(replace(recorded_result(settings.output, sid, entry, findings), recorded=True,
                                  changed=as_built is None, school_name=school.name, designation=school.designation))
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
    if not result.folder_name or result.built_at is None:        # failed: there is no packet to record
        return
    manifest.record(result.school_id, fingerprint, result.folder_name, result.document_names, result.built_at,
                    result.school_name, result.designation, result.ready, settings.as_of)


def _skipped(settings: Settings, school: School, entry: dict, findings: tuple[Finding, ...]) -> PacketResult:
    """Return an unchanged school's result, its readiness judged afresh (strict may differ) from its findings."""
    return recorded_result(settings.output, school.school_id, {**entry, "name": school.name,
                                                               "designation": school.designation},
                           findings, is_ready(findings, settings.strict))


def _remove_superseded(settings: Settings, manifest: Manifest, previous: dict[str, dict],
                       results: list[PacketResult]) -> None:
    """Remove the files an earlier build recorded for each school rebuilt now that no school's packet
    holds any more: its documents under an earlier file-name pattern, and under an earlier folder
    pattern its old folder's too, so a packet folder holds what its manifest.json lists. Only files
    the generator recorded are removed, never a staff member's own; an old folder only once empty.
    Called once the new packets are on disk, so a failure in between leaves the old documents."""
    out = Path(settings.output)
    kept: dict[str, set[str]] | None = None         # made only when some school's names have changed
    for r in results:
        old = previous.get(r.school_id) or {}
        if r.error or r.skipped or r.blocked or not old:
            continue
        recorded = [d for d in old.get("documents", ()) if isinstance(d, str)]
        folder, here = old.get("folder"), r.folder_name
        if folder == here and recorded == list(r.document_names):
            continue                    # the same names (the usual rebuild): each file was replaced in place
        kept = _files_held(manifest) if kept is None else kept
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


def _files_held(manifest: Manifest) -> dict[str, set[str]]:
    """Return every file a school's packet holds now (its documents and manifest.json, as the manifest records
    them), by its name ignoring case."""
    held: dict[str, set[str]] = {}
    for e in manifest.entries.values():
        for d in [*e.get("documents", ()), f"{e.get('folder')}/{packet_manifest.PACKET_MANIFEST}"]:
            held.setdefault(str(d).casefold(), set()).add(str(d))
    return held


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
              fingerprint: Callable[[str], str]) -> list[PacketResult]:
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
        pdf = f"{r.folder_name}/{target.name}"
        documents = tuple(d for d in r.document_names if d != pdf)
        if outcome.error:
            target.unlink(missing_ok=True)      # an older PDF would not match the packet
            r = replace(r, document_names=documents, pdf_error=outcome.error)
        else:
            r = replace(r, document_names=documents + (pdf,))
            # Every document is hashed again, as the PDF was made from them as they are on disk now.
            packet_manifest.add_files(target.parent, r.documents, packet_manifest.readiness_entry(r.ready, r.findings))
        _record(settings, manifest, r.fingerprint or fingerprint(r.school_id), r)
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
    rows = []
    for r in results:
        found = r.input_errors + r.findings
        documents = [name.replace("/", os.sep) for name in r.document_names]
        rows.append({
            "school_id": r.school_id, "school": r.school_name, "designation": r.designation or "",
            "ready": _status(r),
            "errors": sum(f.severity == ERROR for f in found),
            "warnings": sum(f.severity == WARNING for f in found),
            "missing": readiness_summary(found, _why(r)),
            "folder": r.folder_name,
            "documents": "\n".join(documents),
            "pdf": next((d for d in documents if d.endswith(".pdf")), ""),
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


def write_readiness_report(settings: Settings, results, input_findings=()) -> Path:
    """Write output/readiness.xlsx: one row per school, ready or not, what is missing, its documents;
    and on its Findings sheet, a row per finding."""
    return write_readiness(settings, readiness_context(settings, results, input_findings))


def readiness_context(settings: Settings, results, input_findings=()) -> dict[str, Any]:
    """Return what templates/readiness.xlsx is filled from: plain rows, quick to hand to another process."""
    counted = [f for f in input_findings if f.severity != NOTE] + [f for r in results for f in r.findings]
    return {"district": {"name": settings.district_name}, "planning_year": settings.planning_year.label,
            "built_at": dt.datetime.now().replace(microsecond=0), "rows": readiness_rows(settings, results),
            "findings": finding_rows(results, input_findings), "findings_summary": summary(counted)}


@collector_paused()
def write_readiness(settings: Settings, context: dict[str, Any]) -> Path:
    """Write output/readiness.xlsx from its context (readiness_context), its paths made links."""
    path = Path(settings.output) / READINESS_REPORT
    template = Templates(settings.templates).path(READINESS_REPORT)
    atomic.write_atomic(path, render_document(template, context, links=("folder", "pdf")))
    return path


@collector_paused()
def write_district_view(settings: Settings, views: Mapping[str, SchoolView], results,
                        chart_rows: KeptChartRows | None = None) -> list[Path]:
    """Write output/district.xlsx (a roll-up row per school), district.ics and index.html (the dashboard),
    all or none, for the schools of `results`, from what the view shows of each school with a packet
    (`views`: kept_view.school_views, or as kept). A school not built for its input errors has its row, with
    no progress to show; the others' progress is worked out from their inputs as of the run's day. The
    dashboard's chart rows an earlier build drew are taken from `chart_rows` where they would be the same."""
    out = Path(settings.output)
    shown = [r for r in results if r.school_id in views or r.blocked]
    rows = [replace(views[r.school_id].rollup, readiness=_status(r)) if r.school_id in views and not r.blocked
            else not_built_rollup(r.school_id, r.school_name, r.designation or "", settings.as_of, _status(r),
                                  tuple(quote(f.line(), 300) for f in r.input_errors))
            for r in shown]
    charted = {r.school_id: views[r.school_id] for r in shown if r.school_id in views and not r.blocked}
    built_at = dt.datetime.now().replace(microsecond=0)
    folders = {r.school_id: r.folder_name for r in shown if r.folder_name}
    links = {r.school_id: school_links(folders.get(r.school_id), r.document_names)
             for r in shown}
    templates = Templates(settings.templates)
    dashboard = dashboard_chunks(dashboard_context(settings, charted, rows, built_at,
                                                   (DISTRICT_REPORT, DISTRICT_CALENDAR, READINESS_REPORT), links,
                                                   chart_rows),
                                 templates.path(DASHBOARD_TEMPLATE))
    return atomic.write_files(out, {
        DISTRICT_REPORT: render_document(templates.path(DISTRICT_REPORT),
                                         report_context(settings, rows, folders, built_at)),
        DISTRICT_CALENDAR: shared_calendar(settings.district_name, settings.planning_year.label,
                                           [view.calendar for view in charted.values()], settings.as_of,
                                           settings.time_zone, templates=templates),
        DASHBOARD: dashboard,        # written as it is made: never whole in memory
    })
