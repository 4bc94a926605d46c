"""Status: what a task, a school, a review step and a plan are called as of a day, in one place."""

from __future__ import annotations

import datetime as dt

from generator.model.records import Activity, Task

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


# --- A plan's activities, for the check-ins (model/checkin.py) ------------------------------------

# An activity has dates but no completion record: its status says where its dates put it as of a day,
# and the After Action Review asks what happened.
ACTIVITY_NOT_STARTED = "Not started"     # it starts after the day
UNDER_WAY = "Under way"                   # started, and it ends on or after the day
ENDED = "Ended"                           # its end date has passed: the check-in says whether it was done


def activity_due(activity: Activity) -> dt.date | None:
    """Return the day an activity is due: its end date, else its start date (a one-day activity); None
    without dates."""
    return activity.end or activity.start


def activity_status(activity: Activity, as_of: dt.date) -> str:
    """Return Not started, Under way, Ended or Not scheduled for an activity, from its dates as of a day."""
    due = activity_due(activity)
    if due is None:
        return NOT_SCHEDULED
    if activity.start is not None and activity.start > as_of:
        return ACTIVITY_NOT_STARTED
    return ENDED if due < as_of else UNDER_WAY


# --- A school's progress, for the district's view (model/rollup.py) ------------------------------

APPROACHING_DAYS = 14          # a deadline this close (that day included) makes a school "approaching"
SCHOOL_OVERDUE = "overdue"
APPROACHING = "approaching"
ON_TARGET = "on target"
SCHOOL_STATUSES = (SCHOOL_OVERDUE, APPROACHING, ON_TARGET)          # most urgent first


def is_approaching(date: dt.date | None, as_of: dt.date, within_days: int = APPROACHING_DAYS) -> bool:
    """Return True for a date from the as-of day to `within_days` days after it, both days included."""
    return date is not None and as_of <= date <= as_of + dt.timedelta(days=within_days)


def deadline_state(task: Task, as_of: dt.date, within_days: int = APPROACHING_DAYS) -> str:
    """Return OVERDUE for an open task past its expected date, APPROACHING for an open task due within
    `within_days` days (that day included), else '' (done, not scheduled, or further off)."""
    status = task_status(task, as_of)
    if status == OVERDUE:
        return OVERDUE
    return APPROACHING if status == UPCOMING and is_approaching(task.expected, as_of, within_days) else ""


# --- Review steps ------------------------------------------------------------------------------

CHECK_IN = "check-in"          # a routine meeting on the plan, not a step of its review
NOT_STARTED = "Not started"    # a school's review stage before its first step
REVIEW_LABELS = {"first-draft": "First draft due", "feedback": "Feedback", "final-review": "Final review",
                 "board-approval": "Board approval", CHECK_IN: "Check-in"}


# --- A school's packet -------------------------------------------------------------------------

# As readiness.xlsx, district.xlsx and the dashboard call a school after a build.
READY = "Ready"
NOT_READY = "Not ready"
FAILED = "Failed"
INPUT_ERRORS = "Not built: input errors"     # its own rows have errors: its earlier packet, if any, is kept
NOT_BUILT = "Not built"                      # never built (a `--school` run built others)


def packet_readiness(ready: bool, failed: bool = False, input_errors: bool = False, built: bool = True) -> str:
    """Return Ready, Not ready, Failed (its packet could not be written), Not built: input errors, or Not
    built, for a school after a build."""
    if input_errors:
        return INPUT_ERRORS
    if failed:
        return FAILED
    if not built:
        return NOT_BUILT
    return READY if ready else NOT_READY


def progress_word(ready: bool, failed: bool = False, unchanged: bool = False, input_errors: bool = False) -> str:
    """Return what a build's line for the school says: FAILED or NOT BUILT (in capitals, to stand out),
    unchanged (skipped), ready or not ready."""
    if input_errors:
        return "NOT BUILT: input errors"
    return "FAILED" if failed else "unchanged" if unchanged else packet_readiness(ready).lower()


def check_word(ready: bool, input_errors: bool = False) -> str:
    """Return what `packets validate` says of a school: ready, NOT READY, or NOT READY: input errors (in
    capitals, to stand out)."""
    if input_errors:
        return f"{NOT_READY.upper()}: input errors, not built until they are fixed"
    return "ready" if ready else NOT_READY.upper()
