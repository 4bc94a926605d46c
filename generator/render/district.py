"""District: the context of district.xlsx, a roll-up row per school."""

from __future__ import annotations

import datetime as dt
from typing import Any

from generator.model.rollup import Rollup, status_counts
from generator.model.status import SCHOOL_STATUSES
from generator.render.context import long_date


def _count(r: Rollup, value: int) -> int | None:
    return value if r.known else None            # a school not built has no progress to count: blank


def report_rows(rows: list[Rollup], folders: dict[str, str]) -> list[dict[str, Any]]:
    """Return the rows of district.xlsx: one per school, dates as dates; a school not built for its input
    errors shows its readiness and its first error, and no progress."""
    return [{
        "school_id": r.school_id, "school": r.school, "designation": r.designation,
        "readiness": r.readiness + (f": {r.input_errors[0]}" if r.input_errors else ""),
        "status": r.status, "tasks": _count(r, r.tasks), "done": _count(r, r.done), "due": _count(r, r.due),
        "overdue": _count(r, r.overdue), "not_scheduled": _count(r, r.not_scheduled),
        "next_deadline_date": r.next_deadline.date if r.next_deadline else None,
        "next_deadline": r.next_deadline.title if r.next_deadline else "",
        "review_stage": r.review_stage,
        "next_review_date": r.next_review.date if r.next_review else None,
        "next_review": r.next_review.title if r.next_review else "",
        "review_decision": r.review_decision,
        "grid_done": _count(r, r.grid_done), "grid_in_progress": _count(r, r.grid_in_progress),
        "overdue_tasks": "\n".join(r.overdue_tasks),
        "folder": folders.get(r.school_id, ""),
    } for r in rows]


def report_context(settings, rows: list[Rollup], folders: dict[str, str], built_at: dt.datetime) -> dict[str, Any]:
    """Return what templates/district.xlsx receives: the district, a one-line summary and a row per school."""
    counts = status_counts(rows)
    return {
        "district": {"name": settings.district_name}, "planning_year": settings.planning_year.label,
        "as_of": long_date(settings.as_of), "built_at": built_at,
        "summary": f"{len(rows)} school(s): " + ", ".join(f"{counts[s]} {s}" for s in SCHOOL_STATUSES)
                   + (f", {unknown} not built (input errors)" if (unknown := sum(not r.known for r in rows)) else ""),
        "rows": report_rows(rows, folders),
    }
