"""`packets checkin`: a check-in day's After Action Reviews and the District Level Reflection."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.findings import Finding, InputError, PacketsError
from generator.model.checkin import check_in_on, check_ins, next_check_in
from generator.model.records import Packet
from generator.model.rollup import school_rollup
from generator.output import atomic, naming
from generator.output.lock import OutputLock
from generator.pipeline.district import folder_clashes, of_run, read_district
from generator.render import check_engine, render_document
from generator.render.checkin import (
    AFTER_ACTION_REVIEW,
    AFTER_ACTION_TEMPLATE,
    DISTRICT_REFLECTION,
    DISTRICT_REFLECTION_TEMPLATE,
    after_action_review_context,
    reflection_context,
)
from generator.render.template_data import Templates, form_data
from generator.settings import Settings


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
    if day and every:
        raise PacketsError("Give --date or --all, not both.")
    check_engine()
    with OutputLock(settings.output, "checkin"):
        loaded = read_district(settings, only=())         # every school: the reflection shows them all
        district = loaded.district
        clashes = folder_clashes(settings, district)
        if clashes:
            raise InputError(loaded.findings + clashes)
        templates = Templates(settings.templates)
        texts = form_data(templates)
        _remove_checkin_leftovers(settings)
        packets = list(district.packets)
        in_run = [p for p in packets if of_run(settings, p.school.school_id)]
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
                        if s.school_id in loaded.blocked and of_run(settings, s.school_id))
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


def check_in_context(packet: Packet, settings: Settings) -> dict[str, Any]:
    """Return what after_action_review.docx receives for the school's next check-in on or after the as-of
    date (`packets context ID --form after-action-review`, for template authors)."""
    found = next_check_in(packet, settings.as_of)
    if found is None:
        raise PacketsError(f"School {packet.school.school_id} has no check-in on or after "
                           f"{settings.as_of.isoformat()}. Fix: give --as-of a day before one of its check-ins.")
    return after_action_review_context(found, Templates(settings.templates))
