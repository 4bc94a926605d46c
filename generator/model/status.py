"""Status: what a task, a school, a review step and a plan are called as of a day, in one place."""

from __future__ import annotations

import datetime as dt

from generator.model.records import Task

DONE = "Done"
OVERDUE = "Overdue"
UPCOMING = "Upcoming"
NOT_SCHEDULED = "Not scheduled"


# --- Schedule for Plan Development ------------------------------------------------------------

def task_status(task: Task | None, as_of: dt.date) -> str:
    """Return Done, Overdue, Upcoming or Not scheduled for a schedule row."""
    if task is None or (task.expected is None and task.completed is None):
        return NOT_SCHEDULED
    if task.completed is not None:
        return DONE
    return OVERDUE if task.is_overdue(as_of) else UPCOMING
