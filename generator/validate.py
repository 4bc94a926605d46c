"""Validate: checks across rows and sheets of normalized tables. Pure; returns every finding, never raises."""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from .findings import ERROR, Finding
from .normalize import Table
from .schema import STAGES

# Sheets whose rows belong to a school and may not name a school the roster lacks.
SCHOOL_SHEETS = ("People", "Tasks", "Meetings", "Problems", "Goals", "Benchmarks", "Strategies",
                 "Activities", "Monitoring", "Supports")

# (sheet, field) -> (sheet it refers to, field there): a reference to a missing record is an error.
REFERENCES = {
    ("Benchmarks", "goal_id"): ("Goals", "goal_id"),
    ("Activities", "strategy_id"): ("Strategies", "strategy_id"),
    ("Monitoring", "goal_id"): ("Goals", "goal_id"),
    ("Strategies", "goal_id"): ("Goals", "goal_id"),
}


def _unique_keys(table: Table) -> list[Finding]:
    findings = []
    keys = table.spec.key_columns
    if not keys:
        return findings
    seen: dict[tuple, int] = {}
    for row in table.rows:
        key = tuple(str(row[k]).casefold() if row[k] is not None else None for k in keys)
        if key[-1] is None:
            continue
        if key in seen:
            last = keys[-1]
            label = table.spec.column(last).name
            findings.append(Finding(
                ERROR, f"Duplicate {label} '{row[last]}': row {seen[key]} already has it"
                       + ((f" for school {row['school_id']}" if row["school_id"] else " among district-wide rows")
                          if "school_id" in keys and last != "school_id" else "")
                       + ".", **table.at(row, last), value=str(row[last]), school_id=str(row["school_id"] or ""),
                fix=f"Give each row its own {label}, or delete the repeated row."))
        else:
            seen[key] = row.number
    return findings


def _known_schools(tables: Mapping[str, Table]) -> list[Finding]:
    findings = []
    schools = tables.get("Schools")
    if schools is None:
        return findings
    known = [r["school_id"] for r in schools.rows if r["school_id"]]
    listed = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
    for name in SCHOOL_SHEETS:
        table = tables.get(name)
        if table is None:
            continue
        for row in table.rows:
            sid = row["school_id"]
            if sid is not None and sid not in known:
                zeros_lost = [k for k in known if sid.isdigit() and k.lstrip("0") == sid and k != sid]
                fix = (f"Excel dropped the leading zeros: write '{zeros_lost[0]}' and format the column as Text."
                       if zeros_lost else
                       f"Use a School ID from the roster ({listed}), or add the school to the Schools sheet.")
                findings.append(Finding(
                    ERROR, f"Unknown School ID '{sid}': it is not on the Schools sheet of the roster.",
                    **table.at(row, "school_id"), value=sid, fix=fix))
    return findings


def _has_schools(tables: Mapping[str, Table]) -> list[Finding]:
    schools = tables.get("Schools")
    if schools is not None and not schools.rows and schools.columns:
        return [Finding(ERROR, "The Schools sheet lists no schools.", file=schools.file, sheet=schools.sheet,
                        fix="Add one row per school: School ID, School Name and Designation.")]
    return []


def _support_levels(tables: Mapping[str, Table]) -> list[Finding]:
    table = tables.get("Schools")
    findings = []
    for row in table.rows if table else ():
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
    for row in table.rows if table else ():
        if row["stage"] and row["starts"]:
            starts[row["stage"]] = row["starts"]
    return starts


def _task_dates(tables: Mapping[str, Table], planning_year) -> list[Finding]:
    table = tables.get("Tasks")
    if table is None:
        return []
    starts = stage_starts(tables, planning_year)
    where = "the Stages sheet of the timeline" if tables.get("Stages") else f"the planning year ({planning_year.label})"
    findings = []
    for row in table.rows:
        stage, expected = row["stage"], row["expected"]
        if stage and expected and expected < starts[stage]:
            findings.append(Finding(
                ERROR, f"Expected date {expected:%m/%d/%Y} is before {stage} can start "
                       f"({starts[stage]:%m/%d/%Y}, from {where}).",
                **table.at(row, "expected"), value=expected.isoformat(), school_id=row["school_id"] or "",
                fix="Correct the expected date, or move the task to the stage it belongs to."))
    return findings


def _references(tables: Mapping[str, Table]) -> list[Finding]:
    findings = []
    for (sheet, key), (target, target_key) in REFERENCES.items():
        table, other = tables.get(sheet), tables.get(target)
        if table is None:
            continue
        existing = {(r["school_id"], r[target_key]) for r in other.rows} if other else set()
        label = table.spec.column(key).name
        for row in table.rows:
            if row[key] is not None and (row["school_id"], row[key]) not in existing:
                findings.append(Finding(
                    ERROR, f"{label} '{row[key]}' is not on the {target} sheet for school {row['school_id']}.",
                    **table.at(row, key), value=str(row[key]), school_id=row["school_id"] or "",
                    fix=f"Use a {label} listed on the {target} sheet for this school, or add it there."))
    return findings


def validate_tables(tables: Mapping[str, Table], planning_year) -> list[Finding]:
    """Return every cross-row and cross-sheet problem in the normalized tables."""
    findings: list[Finding] = []
    for table in tables.values():
        findings += _unique_keys(table)
    findings += _has_schools(tables)
    findings += _known_schools(tables)
    findings += _support_levels(tables)
    findings += _task_dates(tables, planning_year)
    findings += _references(tables)
    return findings
