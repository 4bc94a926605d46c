"""Collect: what a returned schedule tracker would change in the district's timeline, and what it may not.

Each returned row is matched to its task by its Row ID (model/identity.py), never by its position. A value
is compared three ways: as the packet was built (the tracker's hidden Packet sheet), as the school returned
it, and as the district's inputs hold it now.

- returned = built: the school changed nothing there;
- returned != built, inputs = built: a change, from the inputs' value to the school's;
- returned != built, inputs = returned: already in the inputs;
- returned != built, inputs != built and != returned: a conflict. The district changed the value since the
  packet was built and the school changed it too: it is listed, never guessed.

A repeating task's dates share one Tasks row, whose Completion Date marks every date up to it as done: the
school's dates of the series are read together as "done through" the last date it marks done.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from generator.findings import WARNING, Finding, quote
from generator.inputs.returned import ReturnedRow, ReturnedTracker
from generator.inputs.schema import GRID_PROGRESS, GRID_STATUSES, REVIEW_DECISIONS, canonical_choice, header_key
from generator.model.dates import display_date
from generator.model.identity import (
    grid_key,
    grid_row_id,
    repeating_keys,
    review_row_id,
    school_of,
    task_key,
    task_row_id,
    value_digest,
)
from generator.model.records import GridProgress, Packet, ReviewDecision, Source, Task
from generator.model.status import DONE

CHANGE = "change"
ALREADY = "already in the inputs"
CONFLICT = "conflict"

# The columns a returned tracker may change, by sheet and field, with their headers in timeline.xlsx.
TASK_FIELDS = {"completed": "Completion Date", "notes": "Notes"}
GRID_FIELDS = {"status": "Status", "completed": "Date Completed", "notes": "Notes"}
REVIEW_FIELDS = {"decision": "Decision", "strengths": "Strengths", "revisions": "Revisions Requested"}
FIELDS = {"Tasks": TASK_FIELDS, GRID_PROGRESS.name: GRID_FIELDS, REVIEW_DECISIONS.name: REVIEW_FIELDS}
# The fields that say what a new row of a sheet is about (Change.task holds their values, in this order).
NEW_ROW_KEYS = {GRID_PROGRESS.name: ("month", "key_activity", "role"), REVIEW_DECISIONS.name: ("round",)}
AS_ON_THE_FORM = "(as on the form)"       # a Word form keeps only a hash of the values it was built with


@dataclass(frozen=True)
class Change:
    """One value a returned tracker would change in the inputs (or may not: a conflict)."""

    kind: str                      # CHANGE | ALREADY | CONFLICT
    school_id: str
    file: str                      # the returned tracker's file name
    row: int                       # its row on the tracker
    what: str                      # the task, as the schedule names it
    key: str                       # the input field: completed | notes
    built: Any                     # the value the packet was built with
    current: Any                   # the inputs' value now
    returned: Any                  # the school's value
    source: Source | None          # the Tasks row holding the value
    district_wide: bool            # that row has no School ID: the school gets a row of its own
    task: tuple[str, ...] = ("", "", "")    # stage, task, detail; a grid row: month, activity, role; a round: title
    repeating: bool = False        # a repeating task's Completion Date: done through that date
    sheet: str = "Tasks"           # the input sheet the value is on: Tasks, Grid Progress or Review Decisions

    @property
    def header(self) -> str:
        return FIELDS[self.sheet][self.key] + (" (repeating: done through)" if self.repeating else "")

    @property
    def target(self) -> tuple:
        """The Tasks row the change is written to, and for a district-wide row the school's copy of it."""
        src = self.source
        return (src.file if src else "", src.sheet if src else "", src.row if src else None,
                self.school_id if self.district_wide else "")


def shown(value: Any) -> str:
    """Return a value for the changes table: a date in the packets' one style, text cut to a line."""
    if isinstance(value, dt.date):
        return display_date(value)
    return quote(str(value), 60) if value else "(blank)"


def _label(t: Task) -> str:
    return quote(f"{t.task}: {t.detail}" if t.detail else t.task, 70)


def _classify(built: Any, current: Any, returned: Any) -> str | None:
    if returned == built:
        return None
    if current == built:
        return CHANGE
    if current == returned:
        return ALREADY
    return CONFLICT


def _own_rows(tracker: ReturnedTracker, sid: str, finding: Callable[[int, str, str], None],
              fix: str) -> Iterator[tuple[str, ReturnedRow]]:
    """Yield each of a tracker's rows that is the school's own; a row pasted from another school's tracker
    (its Row ID names that school) is said, with `fix`, and not read."""
    for row_id, got in tracker.rows.items():
        owner = school_of(row_id)
        if owner and owner != sid:
            finding(got.row, f"The Row ID {row_id} is school {owner}'s, not {sid}'s: a row pasted from another "
                             f"school's tracker is not read.", fix)
            continue
        yield row_id, got


def plan_schedule(tracker: ReturnedTracker, packet: Packet) -> tuple[list[Change], list[Finding]]:
    """Return what a returned schedule tracker would change in the school's Tasks rows, and the rows it
    does not read (another school's, a task no longer in the timeline, Done with no date)."""
    sid = packet.school.school_id
    repeating = repeating_keys(packet.tasks)
    tasks = {task_row_id(sid, t, task_key(t) in repeating): t for t in packet.tasks}
    findings: list[Finding] = []
    changes: list[Change] = []
    series: dict[tuple[str, str, str], list[tuple[Task, Any, Any, int]]] = {}

    def finding(row: int, message: str, fix: str = "") -> None:
        findings.append(Finding(WARNING, message, file=tracker.name, sheet=tracker.sheet, row=row, school_id=sid,
                                fix=fix))

    def add(t: Task, row: int, key: str, built: Any, current: Any, returned: Any) -> None:
        kind = _classify(built, current, returned)
        if kind:
            changes.append(Change(kind, sid, tracker.name, row, _label(t), key, built, current, returned, t.source,
                                  t.school_id is None, task_key(t)))

    notes_of: dict[tuple[str, str, str], list[tuple[Task, int, Any, Any]]] = {}
    for row_id, got in _own_rows(tracker, sid, finding, "Delete the row, or type the school's own dates."):
        t = tasks.get(row_id)
        built = tracker.built.get(row_id)
        if t is None or built is None:
            finding(got.row, f"Row ID {row_id} is no longer a task of the school's timeline (it was removed, "
                             f"renamed or moved to another date since): not read.")
            continue
        values = got.values
        if "completed" in values:
            returned = values["completed"]
            status = values.get("status", "")
            if returned is None and built["completed"] is None and status and status.casefold() == DONE.casefold() \
                    and (built.get("status") or "").casefold() != DONE.casefold():
                finding(got.row, f"'{_label(t)}' is marked Done with no Date of Completion: not read.",
                        "Fill in the Date of Completion.")
            if task_key(t) in repeating:
                series.setdefault(task_key(t), []).append((t, built["completed"], returned, got.row))
            else:
                add(t, got.row, "completed", built["completed"], t.completed, returned)
        if "notes" in values:
            notes_of.setdefault(task_key(t), []).append((t, got.row, built.get("notes") or "", values["notes"]))

    for key, dates in series.items():
        changes += _series_change(sid, tracker.name, packet, key, dates)
    for entries in notes_of.values():
        changed = [(t, row, b, r) for t, row, b, r in entries if r != b]
        if not changed:
            continue
        distinct = {r for _, _, _, r in changed}
        t, row, built, returned = changed[0]
        if len(distinct) > 1:
            finding(row, f"The dates of the repeating task '{_label(t)}' were given different Notes (rows "
                         f"{', '.join(str(c[1]) for c in changed)}); they share one row of the timeline: not read.",
                    "Write the note on one of its dates only.")
            continue
        add(t, row, "notes", built, t.notes, returned)
    return changes, findings


def _series_change(sid: str, file: str, packet: Packet, key: tuple[str, str, str],
                   dates: list[tuple[Task, Any, Any, int]]) -> list[Change]:
    """Return the change to a repeating task's Completion Date: done through the last date the school marks
    done (the row's dates it did not return keep their values as built)."""
    occurrences = [t for t in packet.tasks if task_key(t) == key]
    returned = {t.expected: (built, got) for t, built, got, _ in dates}
    built_done, got_done = [], []
    for t in occurrences:
        was, now = returned.get(t.expected, (t.completed, t.completed))   # a date not returned: unchanged
        built_done.append(t.expected if was is not None else None)
        got_done.append(t.expected if now is not None else None)

    def through(done) -> dt.date | None:
        marked = [d for d in done if d is not None]
        return max(marked) if marked else None

    built, got = through(built_done), through(got_done)
    current = through(t.expected for t in occurrences if t.completed)
    kind = _classify(built, current, got)
    if not kind:
        return []
    first = min(dates, key=lambda d: d[3])
    t = first[0]
    return [Change(kind, sid, file, first[3], _label(t), "completed", built, current, got, t.source,
                   t.school_id is None, key, repeating=True)]


def plan_grid(tracker: ReturnedTracker, packet: Packet) -> tuple[list[Change], list[Finding]]:
    """Return what a returned ISBE grid tracker would change in the school's Grid Progress rows (a row the
    school has none for yet is added), and the rows it does not read."""
    sid = packet.school.school_id
    progress = {grid_key(p.month, p.key_activity, p.role): p for p in packet.grid_progress}
    findings: list[Finding] = []
    changes: list[Change] = []

    def finding(row: int, message: str, fix: str = "") -> None:
        findings.append(Finding(WARNING, message, file=tracker.name, sheet=tracker.sheet, row=row, school_id=sid,
                                fix=fix))

    for row_id, got in _own_rows(tracker, sid, finding, "Delete the row, or type the school's own progress."):
        built = tracker.built.get(row_id)
        if built is None or grid_row_id(sid, built.get("month") or "", built.get("key_activity") or "",
                                        built.get("role") or "") != row_id:
            finding(got.row, f"Row ID {row_id} is not an activity of this tracker's Packet sheet: not read.")
            continue
        identity = (built["month"] or "", built["key_activity"] or "", built["role"] or "")
        current = progress.get(grid_key(*identity)) or GridProgress(*identity)
        label = quote(f"{identity[0]}: {identity[1]} ({identity[2]})", 70)
        values = dict(got.values)
        if "status" in values:
            status = canonical_choice(values["status"], GRID_STATUSES) if values["status"] else GRID_STATUSES[0]
            if status is None:
                finding(got.row, f"Status '{quote(values['status'], 30)}' is not one of {', '.join(GRID_STATUSES)}: "
                                 f"not read.", "Choose the status from the list.")
                del values["status"]
            else:
                values["status"] = status
        for key in GRID_FIELDS:
            if key not in values:
                continue
            was = built.get(key) if key != "status" else (built.get(key) or GRID_STATUSES[0])
            now = getattr(current, key)
            kind = _classify(was if key == "completed" else was or "", now, values[key])
            if kind:
                changes.append(Change(kind, sid, tracker.name, got.row, label, key, was, now, values[key],
                                      current.source, False, identity, sheet=GRID_PROGRESS.name))
    return changes, findings


ROUND_KINDS = ("feedback", "final-review")      # the review steps the Plan Review form has a comment box for


def plan_review(tracker: ReturnedTracker, packet: Packet) -> tuple[list[Change], list[Finding]]:
    """Return what a returned Plan Review form would change in the school's Review Decisions rows (a round
    with no row yet gets one). The form keeps a hash of each value it was built with, so a value is the
    school's change when its hash differs, and the district's when the inputs' value's hash differs."""
    sid = packet.school.school_id
    rounds = {review_row_id(sid, e.title): e.title for e in packet.review if e.kind in ROUND_KINDS}
    decisions = {header_key(d.round): d for d in packet.review_decisions}
    findings: list[Finding] = []
    changes: list[Change] = []
    for row_id, got in tracker.rows.items():
        owner = school_of(row_id)
        title = rounds.get(row_id)
        if (owner and owner != sid) or title is None:
            findings.append(Finding(WARNING, f"Round {got.row} (Round ID {row_id}) is not one of school {sid}'s "
                                             f"review rounds now: not read.", file=tracker.name, school_id=sid))
            continue
        current = decisions.get(header_key(title)) or ReviewDecision(title)
        built = tracker.built.get(row_id, {})
        for key in REVIEW_FIELDS:
            if key not in got.values:
                continue
            returned, now = got.values[key], getattr(current, key)
            if value_digest(returned) == built.get(key):
                continue
            kind = (CHANGE if value_digest(now) == built.get(key) else
                    ALREADY if value_digest(now) == value_digest(returned) else CONFLICT)
            changes.append(Change(kind, sid, tracker.name, got.row, quote(title, 70), key, AS_ON_THE_FORM, now,
                                  returned, current.source, False, (title,), sheet=REVIEW_DECISIONS.name))
    return changes, findings
