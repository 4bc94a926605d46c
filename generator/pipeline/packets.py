"""`packets build`: is anything stale? A run with nothing changed is answered from the build manifest;
otherwise rebuild.py builds what is stale (see build())."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from generator.findings import Finding, errors
from generator.output import atomic
from generator.output.build_record import Manifest, run_digest, templates_digest
from generator.output.lock import OutputLock
from generator.output.results import PacketResult, recorded_result
from generator.render.engine import check_engine
from generator.render.template_data import Templates
from generator.settings import Settings

READINESS_REPORT = "readiness.xlsx"
DISTRICT_REPORT = "district.xlsx"
DISTRICT_CALENDAR = "district.ics"
DASHBOARD = "index.html"
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
                remove_leftovers(settings)
            return _unchanged_run(settings, manifest, progress)

        # Imported here, not at the head: reading, modelling and rendering are most of a no-change run's
        # time when imported (issue 19: such a run at 5,000 schools in under a second).
        from generator.pipeline.rebuild import rebuild
        return rebuild(settings, manifest, templates, digest, progress)


def _readiness_path(settings: Settings) -> Path:
    return Path(settings.output) / READINESS_REPORT


def _unchanged_run(settings: Settings, manifest: Manifest,
                   progress: Callable[[PacketResult], None] | None) -> BuildReport:
    """Return the last run's results from the manifest: nothing it was made from has changed."""
    results = []
    for sid in manifest.run["schools"]:
        result = recorded_result(settings.output, sid, manifest.entry(sid))
        results.append(result)
        if progress:
            progress(result)
    return BuildReport(tuple(results), (), _readiness_path(settings), selected=tuple(settings.schools))


def district_view_present(settings: Settings) -> bool:
    """Return True when the district's roll-up, calendar and dashboard are all in the output folder."""
    return all((Path(settings.output) / name).is_file() for name in DISTRICT_VIEW)


def remove_leftovers(settings: Settings) -> None:
    """Remove what killed runs left: temporary files in the output folder, converters' working folders,
    first builds' scratch folders in the cache (one build at a time: any but this run's is a leftover)."""
    from generator.inputs.cache import CACHE_FOLDER, left_run_folders
    from generator.output.pdf import remove_stale_work_folders
    atomic.remove_leftovers(settings.output)
    remove_stale_work_folders()
    for folder in left_run_folders(Path(settings.output) / CACHE_FOLDER):
        shutil.rmtree(folder, ignore_errors=True)
