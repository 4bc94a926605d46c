"""Batch: build many schools' packets, in this process or in a pool of workers, durably.

The protocol, for each chunk of a few schools:

1. Stage: every document of every school in the chunk is rendered and written to a temporary file
   beside its place. A school that fails here is reported by name; the others go on.
2. Sync: if any staged document is to replace an older one, one syncfs puts every staged file on
   disk first (one sync for the chunk, not one per file). A disk that fails here fails the chunk's
   schools, with no older document replaced and the staged files removed.
3. Place: each school's staged files are moved into place, all or none.

The build manifest records only what is on disk: the pipeline syncs again once every packet is
placed, before it records them, and a run stopped midway (Ctrl-C, a kill, a power cut) leaves
temporary files for the next run to remove, never a document half written.

Workers start from a fork server that has imported this module (the one defining the worker
functions), so a worker holds only its own work, not the whole district's model.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import multiprocessing.forkserver
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Generator

from generator.findings import Finding, PacketsError, os_error_text
from generator.inputs.cache import SchoolRows
from generator.model.build import PLAN_NOT_MODELLED, planned
from generator.model.readiness import check_packet, is_ready
from generator.model.records import Packet, School
from generator.output import atomic, naming, packet_manifest
from generator.output.build_record import packet_fingerprint
from generator.output.processes import Helper, in_workers
from generator.output.results import PacketResult, no_packet
from generator.render import packet_forms, render_packet
from generator.render.calendars import CALENDAR_KEY, school_calendar
from generator.render.template_data import Templates
from generator.settings import Settings

# A worker killed (the system out of memory, a kill) or crashed: its chunk's schools are lost with it, and
# every chunk after. What was placed is whole (a document is moved into place only once written), and
# nothing is recorded for this run, so the next build makes good the rest.
WORKER_LOST = ("a process building packets ended unexpectedly (the computer may have run out of memory, or "
               "it was stopped); the packets finished before it are kept. Run the build again to finish it, "
               "with --jobs 1 if it happens again.")


@dataclass(frozen=True)
class Work:
    """What building a packet takes besides the packet: the templates, where its plan is read from when the
    packet comes without it (cache.SchoolRows), and the templates' digest its fingerprint is made with."""

    templates: Templates
    templates_digest: str
    plans: SchoolRows | None = None


@dataclass(frozen=True)
class _StagedPacket:
    """One school's packet, every document written to a temporary file beside its place."""

    school: School
    folder: Path
    files: list[tuple[Path, Path]]           # (target, temporary file), as atomic.stage_files returns
    findings: tuple[Finding, ...]
    ready: bool
    built_at: dt.datetime
    fingerprint: str


def build_all(settings: Settings, packets: list[Packet], work: Work,
              helper: Helper | None = None) -> Generator[PacketResult, None, None]:
    """Yield each packet's result in the order given, building in settings.jobs processes when worth it;
    a single packet in `helper` if given (whose templates are prepared), else here. A packet without its
    plan has it modelled where it is built, from work.plans: the main process need never hold the plans."""
    jobs = settings.jobs
    size = max(1, min(16, len(packets) // (jobs * 8)))      # small chunks keep progress steady
    queued = iter(packets)
    chunks = (list(islice(queued, size)) for _ in range(0, len(packets), size))
    if helper is not None and jobs > 1 and len(packets) == 1:
        _, (results,) = helper.beside([(_build_chunk, (settings, work, packets))], lambda: None)
        yield from results
        return
    if jobs <= 1 or len(packets) < 2:
        for chunk in chunks:
            yield from _build_chunk(settings, work, chunk)
        return
    # A few chunks in flight per worker, not the whole district: memory stays flat as N grows.
    chunk_results = in_workers(_build_chunk, ((settings, work, chunk) for chunk in chunks),
                               min(jobs, len(packets)), worker_context(), jobs * 3, WORKER_LOST)
    try:
        for results in chunk_results:
            yield from results
    finally:
        chunk_results.close()       # the build stopped early (Ctrl-C, an error): the workers stop now


def _build_chunk(settings: Settings, work: Work, packets: list[Packet]) -> list[PacketResult]:
    """Build a few schools' packets: stage, sync once if an older document is to be replaced, place."""
    staged = [_isolated(packet.school, _stage_one, settings, packet, work) for packet in packets]
    if any(isinstance(s, _StagedPacket) and any(target.exists() for target, _ in s.files) for s in staged):
        try:
            atomic.flush_all(settings.output)
        except PacketsError as exc:        # the disk failed: no older document is replaced
            for s in staged:
                if isinstance(s, _StagedPacket):
                    atomic.discard(s.files)
            return [_failed(s.school, exc) if isinstance(s, _StagedPacket) else s for s in staged]
    return [_isolated(s.school, _place_one, settings, s) if isinstance(s, _StagedPacket) else s for s in staged]


def _stage_one(settings: Settings, packet: Packet, work: Work) -> _StagedPacket:
    school, templates = packet.school, work.templates
    if packet.plan is PLAN_NOT_MODELLED and work.plans is not None:
        packet = planned(packet, work.plans(school.school_id))
    forms = packet_forms(packet, templates)
    names = naming.document_names(settings, school, [(f.key, f.suffix) for f in forms] + [(CALENDAR_KEY, ".ics")])
    findings = tuple(check_packet(packet))
    documents = render_packet(packet, templates)
    files = {names[form.key]: documents[form.key] for form in forms}
    files[names[CALENDAR_KEY]] = school_calendar(packet, templates=templates)
    folder = naming.packet_folder(settings, school)
    ready, built_at = is_ready(findings, settings.strict), dt.datetime.now().replace(microsecond=0)
    files[packet_manifest.PACKET_MANIFEST] = packet_manifest.packet_manifest(school, settings.inputs, files, ready,
                                                                             findings, built_at)
    # Not flushed file by file where one sync can do it: _build_chunk syncs before any older document
    # is replaced, and the pipeline before the manifest records the packets.
    staged = atomic.stage_files(folder, dict(files), flush=not atomic.CAN_DEFER_FLUSH)
    return _StagedPacket(school, folder, staged, findings, ready, built_at,
                         packet_fingerprint(packet, settings, work.templates_digest))


def _place_one(settings: Settings, staged: _StagedPacket) -> PacketResult:
    school, folder = staged.school, staged.folder
    written = atomic.place_files(staged.files)
    # A combined PDF from an earlier build no longer matches these documents; --pdf makes a new one.
    (folder / naming.packet_pdf_name(settings, school)).unlink(missing_ok=True)
    # The packet folder is directly inside the output folder (naming.packet_folder), its documents in it.
    documents = tuple(f"{folder.name}/{p.name}" for p in written if p.name != packet_manifest.PACKET_MANIFEST)
    return PacketResult(school.school_id, school.name, school.designation, str(settings.output), folder.name,
                        documents, staged.findings, staged.ready, staged.built_at, fingerprint=staged.fingerprint)


def _isolated(school: School, step: Callable[..., Any], *args) -> Any:
    """Return step(*args), or what went wrong as that school's failed result, so the batch goes on."""
    try:
        return step(*args)
    except Exception as exc:  # one school's failure must not stop the others; it is reported by name
        return _failed(school, exc)


def _failed(school: School, exc: Exception) -> PacketResult:
    detail = (os_error_text(exc) if isinstance(exc, OSError) else str(exc) if isinstance(exc, PacketsError)
              else f"{type(exc).__name__}: {exc}")
    return no_packet(school.school_id, school.name, school.designation,
                     error=f"Error building the packet for {school.school_id} ({school.name}): {detail}")


def start_workers_early() -> None:
    """Start what the workers are made from (the fork server, which imports the renderers) now, without
    waiting for it: a build sure to build many packets calls this before it reads the district, so
    those imports take the other core while the main process reads (0.7 s that came after it)."""
    if worker_context().get_start_method() == "forkserver":
        multiprocessing.forkserver.ensure_running()


def worker_context() -> multiprocessing.context.BaseContext:
    """Return how pool workers start: from a fork server that has imported this module (and so the
    renderers), where the platform has one. A worker forked from this process would hold the whole
    district's model (every school's rows), so each worker's memory would grow with the district;
    these hold only their work."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context
