"""`packets collect`: the trackers and review forms schools returned, matched, shown, and with --apply
written into the district's workbooks."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from generator.findings import (
    ERROR,
    NOTE,
    WARNING,
    Finding,
    PacketsError,
)
from generator.inputs.returned import NotATracker, ReturnedTracker, read_returned, tracker_files
from generator.model.collect import ALREADY, CHANGE, CONFLICT, Change, plan_grid, plan_review, plan_schedule, shown
from generator.model.records import School
from generator.output import naming
from generator.output.build_record import Manifest
from generator.output.input_update import Written, apply_changes
from generator.output.lock import OutputLock
from generator.pipeline.district import read_district
from generator.render.context import GRID_TRACKER, REVIEW_FORM
from generator.settings import Settings


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


def _check_tracker(settings: Settings, tracker: ReturnedTracker, schools: dict[str, School],
                   folders: dict[str, str], manifest: Manifest, blocked: dict[str, list[Finding]]) -> Finding | None:
    """Return why a returned tracker is refused (another school's, an outdated packet), or None. `folders`
    are the schools' packet folder names, by School ID."""
    sid, path = tracker.school_id, tracker.path
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
        if path.stem.split("-")[0] == other.school_id or path.parent.name == folders[other.school_id]:
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
    schools = {s.school_id: s for s in loaded.district.schools}
    folders = {sid: naming.packet_folder(settings, school).name for sid, school in schools.items()}   # once a run
    for tracker in trackers:
        refusal = _check_tracker(settings, tracker, schools, folders, manifest, loaded.blocked)
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
