"""Validate: checks across rows and sheets of normalized tables. Pure; returns every finding, never raises."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from operator import itemgetter
from typing import Any, Callable, Iterator, Mapping

from generator.findings import ERROR, NOTE, WARNING, Finding, rows_text
from generator.inputs.normalize import Row, Table
from generator.inputs.recurrence import MAX_DAYS_OFF, days_off, row_dates
from generator.inputs.schema import PLAN_SHEETS, SERIES_DATE, SINGLE_REVIEW_STEPS, STAGES

# Sheets whose rows belong to a school and may not name a school the roster lacks.
SCHOOL_SHEETS = ("People", "Tasks", "Meetings", "Review", "Grid Progress", "Review Decisions", "Problems", "Goals",
                 "Benchmarks", "Strategies", "Activities", "Monitoring", "Supports")

# (sheet, field) -> (sheet it refers to, field there): a reference to a missing record is an error.
REFERENCES = {
    ("Benchmarks", "goal_id"): ("Goals", "goal_id"),
    ("Activities", "strategy_id"): ("Strategies", "strategy_id"),
    ("Monitoring", "goal_id"): ("Goals", "goal_id"),
    ("Strategies", "goal_id"): ("Goals", "goal_id"),
}


def _unique_keys(table: Table) -> list[Finding]:
    findings: list[Finding] = []
    keys = table.spec.key_columns
    if not keys:
        return findings
    seen: dict[tuple, int] = {}
    at = [table.spec.positions[k] for k in keys]
    for row in table.rows:
        cells = row.cells
        if cells[at[-1]] is None:
            continue
        key = tuple(None if cells[i] is None else str(cells[i]).casefold() for i in at)
        if key in seen:
            last = keys[-1]
            label = table.spec.column(last).name
            findings.append(Finding(
                ERROR, f"Duplicate {label} '{row[last]}': row {seen[key]} already has it"
                       + ((f" for school {row['school_id']}" if row["school_id"] else " among district-wide rows")
                          if "school_id" in keys and last != "school_id" else "")
                       + ".", **table.at(row, last), value=str(row[last]),
                # A School ID on the Schools sheet twice is the roster's problem, not one school's: which
                # row is the school?
                school_id="" if table.spec.name == "Schools" else str(row["school_id"] or ""),
                fix=f"Give each row its own {label}, or delete the repeated row."))
        else:
            seen[key] = row.number
    return findings


def _fields(table: Table, *keys: str) -> Callable[[Row], tuple]:
    """Return a function giving a row's values of `keys` (two or more), for a loop over every row."""
    values = itemgetter(*(table.spec.positions[k] for k in keys))
    return lambda row: values(row.cells)


def _folded(school_id: str) -> str:
    """Return the form two School IDs share when they differ only by case or leading zeros."""
    return school_id.casefold().lstrip("0") or "0"


def _roster_ids(tables: Mapping[str, Table]) -> list[str]:
    schools = tables.get("Schools")
    return [r["school_id"] for r in schools.rows if r["school_id"]] if schools is not None else []


def unknown_school_rows(tables: Mapping[str, Table]) -> set[tuple[str, int]]:
    """Return (sheet, row) of every row naming a School ID the roster lacks."""
    known = set(_roster_ids(tables))
    if "Schools" not in tables:
        return set()
    return {(name, row.number) for name in SCHOOL_SHEETS if (table := tables.get(name)) is not None
            for row, sid in _school_ids(table) if sid is not None and sid not in known}


def _school_ids(table: Table) -> Iterator[tuple[Row, Any]]:
    """Yield each row of a sheet with its School ID."""
    at = table.spec.positions["school_id"]
    return ((row, row.cells[at]) for row in table.rows)


def _known_schools(tables: Mapping[str, Table]) -> list[Finding]:
    """An unknown School ID is one finding per sheet and ID, at its first row, counting the others: a
    school missing from the roster is one thing to fix, however many rows name it."""
    findings: list[Finding] = []
    if tables.get("Schools") is None:
        return findings
    known = _roster_ids(tables)
    known_ids = set(known)          # a list here made a 5,000-school district's check quadratic
    by_folded: dict[str, str] = {}
    for k in known:
        by_folded.setdefault(_folded(k), k)
    listed = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
    for name in SCHOOL_SHEETS:
        table = tables.get(name)
        if table is None:
            continue
        unknown: dict[str, list] = {}
        for row, sid in _school_ids(table):
            if sid is not None and sid not in known_ids:
                unknown.setdefault(sid, []).append(row)
        for sid, rows in unknown.items():
            means = by_folded.get(_folded(sid))
            if means and sid.isdigit() and means.isdigit() and len(means) > len(sid):
                fix = f"Excel dropped the leading zeros: write '{means}' and format the column as Text."
            elif means:
                fix = f"It probably means the roster's '{means}': write it as the roster does."
            else:
                fix = f"Use a School ID from the roster ({listed}), or add the school to the Schools sheet."
            also = f" ({len(rows)} rows name it: {rows_text(r.number for r in rows)})" if len(rows) > 1 else ""
            findings.append(Finding(
                ERROR, f"Unknown School ID '{sid}': it is not on the Schools sheet of the roster{also}.",
                **table.at(rows[0], "school_id"), value=sid, school_id=sid, fix=fix))
    return findings


def owning_schools(tables: Mapping[str, Table], findings: list[Finding]) -> list[Finding]:
    """Return the findings with each School ID as the roster writes it: a row whose ID differs from a roster
    school's only by case or leading zeros (Excel dropped them) belongs to that school, which is not built
    without it. An ID the roster does not have at all stays as written: no school on the roster is it."""
    known = _roster_ids(tables)
    known_ids = set(known)
    by_folded: dict[str, list[str]] = {}
    for k in known:
        by_folded.setdefault(_folded(k), []).append(k)
    owned = []
    for f in findings:
        if f.school_id and f.school_id not in known_ids:
            means = by_folded.get(_folded(f.school_id), [])
            if len(means) == 1:
                f = replace(f, school_id=means[0])
        owned.append(f)
    return owned


def _leading_zeros(tables: Mapping[str, Table]) -> list[Finding]:
    """Roster School IDs that differ only by leading zeros (0101 and 101) are two schools here, but are
    more likely one school typed twice, once where Excel dropped the zeros."""
    schools = tables.get("Schools")
    findings: list[Finding] = []
    first: dict[str, tuple[str, int]] = {}
    if schools is None:
        return findings
    for row in schools.rows:
        sid = row["school_id"]
        if not sid:
            continue
        other = first.setdefault(sid.lstrip("0") or "0", (sid, row.number))
        if other[0].casefold() != sid.casefold():        # the same ID again is a duplicate, reported as such
            findings.append(Finding(
                WARNING, f"School IDs '{other[0]}' (row {other[1]}) and '{sid}' (row {row.number}) differ only "
                         f"by leading zeros; they are read as two schools.",
                **schools.at(row, "school_id"), value=sid, school_id=sid,
                fix="If they are one school, keep one row, and format the School ID column as Text so Excel "
                    "keeps the zeros; if two, give one of them another ID."))
    return findings


def _has_schools(tables: Mapping[str, Table]) -> list[Finding]:
    schools = tables.get("Schools")
    if schools is not None and not schools.rows and schools.columns:
        return [Finding(ERROR, "The Schools sheet lists no schools.", file=schools.file, sheet=schools.sheet,
                        fix="Add one row per school: School ID, School Name and Designation.")]
    return []


def _support_levels(tables: Mapping[str, Table]) -> list[Finding]:
    table = tables.get("Schools")
    findings: list[Finding] = []
    if table is None:
        return findings
    for row in table.rows:
        level = row["support_level"]
        if level is not None and level not in (1, 2, 3):
            findings.append(Finding(ERROR, f"Support Level {level} is not 1, 2 or 3.",
                                    **table.at(row, "support_level"), value=str(level),
                                    school_id=row["school_id"] or "", fix="Write 1, 2 or 3, or leave it blank."))
    return findings


def stage_starts(tables: Mapping[str, Table], planning_year) -> dict[str, dt.date]:
    """Return when each stage may start: the Stages sheet where given, else the planning year's first day."""
    starts = {stage: planning_year.first_day for stage in STAGES}
    table = tables.get("Stages")
    if table is None:
        return starts
    for row in table.rows:
        if row["stage"] and row["starts"]:
            starts[row["stage"]] = row["starts"]
    return starts


def _task_dates(tables: Mapping[str, Table], planning_year) -> list[Finding]:
    table = tables.get("Tasks")
    if table is None:
        return []
    starts = stage_starts(tables, planning_year)
    where = "the Stages sheet of the timeline" if tables.get("Stages") else f"the planning year ({planning_year.label})"
    findings: list[Finding] = []
    for row in table.rows:
        stage, expected = row["stage"], row["expected"]
        if stage and expected and expected < starts[stage]:
            findings.append(Finding(
                ERROR, f"Expected date {expected:%m/%d/%Y} is before {stage} can start "
                       f"({starts[stage]:%m/%d/%Y}, from {where}).",
                **table.at(row, "expected"), value=expected.isoformat(), school_id=row["school_id"] or "",
                fix="Correct the expected date, or move the task to the stage it belongs to."))
    return findings


def _references(tables: Mapping[str, Table], unknown: set[tuple[str, int]]) -> list[Finding]:
    """A reference to a record the same school lacks; a row of a school the roster lacks (`unknown`) is
    reported as that already."""
    findings: list[Finding] = []
    for (sheet, key), (target, target_key) in REFERENCES.items():
        table, other = tables.get(sheet), tables.get(target)
        if table is None:
            continue
        existing = set(map(_fields(other, "school_id", target_key), other.rows)) if other else set()
        label = table.spec.column(key).name
        # One finding per school and missing ID, at its first row: a goal missing from the Goals sheet is one
        # thing to add, however many benchmarks name it. A row of a school the roster lacks is reported as
        # that already.
        missing: dict[tuple, list] = {}
        for row, named in zip(table.rows, map(_fields(table, "school_id", key), table.rows)):
            if named[1] is not None and named not in existing and (sheet, row.number) not in unknown:
                missing.setdefault(named, []).append(row)
        for (sid, value), rows in missing.items():
            also = f" ({len(rows)} rows name it: {rows_text(r.number for r in rows)})" if len(rows) > 1 else ""
            findings.append(Finding(
                ERROR, f"{label} '{value}' is not on the {target} sheet for school {sid}{also}.",
                **table.at(rows[0], key), value=str(value), school_id=sid or "",
                fix=f"Use a {label} listed on the {target} sheet for this school, or add it there."))
    return findings


def holiday_names(tables: Mapping[str, Table]) -> dict[dt.date, str]:
    """Return every day on the Holidays sheet (each day of a break included) with the holiday's name."""
    table = tables.get("Holidays")
    names: dict[dt.date, str] = {}
    if table is None:
        return names
    for row in table.rows:
        for day in sorted(days_off([(row["date"], row["through"])] if row["date"] else [])):
            names.setdefault(day, row["name"] or "a holiday")
    return names


def closed_days(tables: Mapping[str, Table]) -> frozenset[dt.date]:
    """Return the days repeating rows leave out: every day on the Holidays sheet."""
    return frozenset(holiday_names(tables))


def _holidays(tables: Mapping[str, Table]) -> list[Finding]:
    table = tables.get("Holidays")
    findings: list[Finding] = []
    if table is None:
        return findings
    for row in table.rows:
        start, through = row["date"], row["through"]
        if start and through and through < start:
            findings.append(Finding(ERROR, f"Through ({through:%m/%d/%Y}) is before the Date ({start:%m/%d/%Y}).",
                                    **table.at(row, "through"), value=through.isoformat(),
                                    fix="Write the break's last day in Through, or leave it blank for one day."))
        elif start and through and (through - start).days >= MAX_DAYS_OFF:
            findings.append(Finding(ERROR, f"A holiday of {(through - start).days + 1} days is not a holiday.",
                                    **table.at(row, "through"), value=through.isoformat(),
                                    fix="Check the year of Date and Through."))
    return findings


def _shown(value) -> str:
    if isinstance(value, tuple):
        return "; ".join(d.isoformat() for d in value)
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _single_date_row(table: Table, row, key: str, holidays: dict[dt.date, str]) -> list[Finding]:
    """A row that does not repeat: Until and Skip Dates mean nothing there; a meeting on a holiday is a clash."""
    findings: list[Finding] = []
    for field, label in (("until", "Until"), ("skip", "Skip Dates")):
        if row[field] is not None:
            findings.append(Finding(
                WARNING, f"{label} is ignored: the row has no Repeats, so it has one date.",
                **table.at(row, field), value=_shown(row[field]), school_id=row["school_id"] or "",
                fix=f"Fill in Repeats (e.g. monthly), or clear {label}."))
    first = row[key]
    if table.spec.name == "Meetings" and first in holidays:
        findings.append(Finding(
            WARNING, f"The meeting on {first:%m/%d/%Y} falls on {holidays[first]} (Holidays sheet).",
            **table.at(row, key), value=first.isoformat(), school_id=row["school_id"] or "",
            fix="Move the meeting, or correct the Holidays sheet."))
    return findings


def _series_row(table: Table, row, key: str, closed: frozenset[dt.date], last_day: dt.date) -> list[Finding]:
    """A repeating row: a step that happens once may not repeat; the series needs an end and some dates."""
    first, repeats, until = row[key], row["repeats"], row["until"]
    where: dict[str, Any] = {"school_id": row["school_id"] or ""}
    if first is None:
        return []                                       # the empty date is reported already
    if table.spec.name == "Review" and row["step"] in SINGLE_REVIEW_STEPS:
        return [Finding(ERROR, f"A {row['step']} happens once; only Feedback Round and Check-in rows may repeat.",
                        **table.at(row, "repeats"), value=str(repeats), **where,
                        fix="Clear Repeats, or write one row for each date.")]
    if until is None and first > last_day:
        return [Finding(ERROR, f"The row repeats from {first:%m/%d/%Y}, after the planning year ends "
                               f"({last_day:%m/%d/%Y}), and has no Until date.",
                        **table.at(row, "until"), **where, fix="Write the last date of the series in Until.")]
    try:
        dates = row_dates(first, repeats, until, row["skip"] or (), closed, last_day)
    except ValueError as exc:
        field = "until" if until else "repeats"
        return [Finding(ERROR, f"{str(exc)[:1].upper()}{str(exc)[1:]}.", **table.at(row, field),
                        value=_shown(row[field]), **where, fix="Check Repeats, the first date and Until.")]
    if dates[0] > first and first not in closed and first not in (row["skip"] or ()):
        return [Finding(NOTE, f"{first:%m/%d/%Y} is not a date of '{repeats}'; the series starts on "
                              f"{dates[0]:%m/%d/%Y}.", **table.at(row, key), value=first.isoformat(), **where)]
    return []


def _repeating_rows(tables: Mapping[str, Table], planning_year) -> list[Finding]:
    """Check the rows of Tasks, Meetings and Review for what repeating means to them."""
    holidays = holiday_names(tables)
    closed = frozenset(holidays)
    findings: list[Finding] = []
    for sheet, key in SERIES_DATE.items():
        table = tables.get(sheet)
        if table is None:
            continue
        for row in table.rows:
            if row["repeats"] is None:
                findings += _single_date_row(table, row, key, holidays)
            else:
                findings += _series_row(table, row, key, closed, planning_year.last_day)
    return findings


def _review_steps(tables: Mapping[str, Table]) -> list[Finding]:
    """A school (or the district's default cycle) has one first draft, one final review, one board approval."""
    table = tables.get("Review")
    findings: list[Finding] = []
    seen: dict[tuple, int] = {}
    if table is None:
        return findings
    for row in table.rows:
        if row["step"] not in SINGLE_REVIEW_STEPS:
            continue
        key = (row["school_id"], row["step"])
        if key in seen:
            owner = f"school {row['school_id']}" if row["school_id"] else "the district's default cycle"
            findings.append(Finding(
                ERROR, f"A second {row['step']} row for {owner}: row {seen[key]} already has it.",
                **table.at(row, "step"), value=row["step"], school_id=row["school_id"] or "",
                fix="Keep one row for this step, or make it a Feedback Round."))
        else:
            seen[key] = row.number
    return findings


def validate_tables(tables: Mapping[str, Table], planning_year, plan_checked: list[Finding] | None = None
                    ) -> list[Finding]:
    """Return every cross-row and cross-sheet problem in the normalized tables, the plan sheets' own checks
    (plan_checks) last: as given in `plan_checked` (made already, or kept with their unchanged workbook,
    which is then not among the tables and names no school the roster lacks)."""
    findings: list[Finding] = []
    for name, table in tables.items():
        if name not in PLAN_SHEETS:
            findings += _unique_keys(table)
    findings += _has_schools(tables)
    findings += _known_schools(tables)
    findings += _leading_zeros(tables)
    findings += _support_levels(tables)
    findings += _task_dates(tables, planning_year)
    findings += _holidays(tables)
    findings += _repeating_rows(tables, planning_year)
    findings += _review_steps(tables)
    return findings + (plan_checks(tables, unknown_school_rows(tables)) if plan_checked is None else plan_checked)


def plan_checks(tables: Mapping[str, Table], unknown: set[tuple[str, int]]) -> list[Finding]:
    """Return the plan sheets' checks of their rows against each other: keys given twice, references to
    records the school lacks. They read no other sheet, but for the rows of schools the roster lacks
    (`unknown`, unknown_school_rows), which are reported as that instead."""
    findings: list[Finding] = []
    for name, table in tables.items():
        if name in PLAN_SHEETS:
            findings += _unique_keys(table)
    return findings + _references(tables, unknown)
