"""Identity: what a returned tracker's row is, whatever position it has been sorted or filtered to.

A generated tracker carries, beside each row a school may fill, a Row ID made from what the row is (its
school, and a task's stage, task and detail, with the occurrence's date for a repeating row; an ISBE grid
row's month, key activity and role), never from its position; and, on a hidden sheet, the packet's identity
(the school, the form, a version of what the rows were made from) and the values each row was built with.
`packets collect` matches a returned row to its task by this ID, and tells a value the school changed from
one the district changed since by the values as built.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Iterable

from generator.inputs.schema import header_key
from generator.model.records import Task

ID_SEPARATOR = ":"           # a Row ID is `<school ID>:<hash>`, so another school's row names its school


def _digest(parts: Iterable[str], length: int = 10) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


def task_key(task: Task) -> tuple[str, str, str]:
    """Return what makes a task the same task from one build to the next: stage, task and detail (case
    ignored), as a school's own row overrides the district's."""
    return (task.stage, task.task.casefold(), task.detail.casefold())


def task_row_id(school_id: str, task: Task, repeating: bool) -> str:
    """Return a schedule row's Row ID: the school, the task's stage, task and detail, and for one date of a
    repeating row its date."""
    occurrence = task.expected.isoformat() if repeating and task.expected else ""
    return f"{school_id}{ID_SEPARATOR}{_digest((school_id, *task_key(task), occurrence))}"


PRINCIPAL_COLUMN = "schoolprincipal"


@lru_cache(maxsize=4096)        # every school's grid has the same months, activities and roles
def grid_key(month: str, key_activity: str, role: str) -> tuple[str, str, str]:
    """Return what makes an ISBE grid tracker row the same row: its month, key activity and role, in any case,
    spacing or punctuation (a Grid Progress row typed by hand matches the tracker's). The principal's
    column is titled by the school's designation ("Intensive School Principal"), which may change from one
    year to the next: any such title is the one principal's role."""
    role_key = header_key(role)
    if role_key.endswith(PRINCIPAL_COLUMN):
        role_key = PRINCIPAL_COLUMN
    return (header_key(month), header_key(key_activity), role_key)


def grid_row_id(school_id: str, month: str, key_activity: str, role: str) -> str:
    """Return an ISBE grid tracker row's Row ID: the school, the activity's month and text, and the role."""
    return f"{school_id}{ID_SEPARATOR}{_digest((school_id, *grid_key(month, key_activity, role)))}"


def school_of(row_id: str) -> str:
    """Return the School ID a Row ID names ('' when it names none)."""
    head, separator, _ = str(row_id).rpartition(ID_SEPARATOR)
    return head if separator else ""


def repeating_keys(tasks: Iterable[Task]) -> set[tuple[str, str, str]]:
    """Return the keys of the tasks that come several times: the dates of a repeating row."""
    seen: set[tuple[str, str, str]] = set()
    repeated: set[tuple[str, str, str]] = set()
    for t in tasks:
        key = task_key(t)
        (repeated if key in seen else seen).add(key)
    return repeated


def version(rows: Iterable[Iterable[object]]) -> str:
    """Return a form's version: a hash of what its rows were made from (never the day they were judged by),
    so a packet rebuilt from the same inputs on another day is the same version, and one rebuilt from
    changed inputs is not."""
    return _digest(("\x1e".join("" if v is None else str(v) for v in row) for row in rows), 16)


def review_row_id(school_id: str, round_title: str) -> str:
    """Return a Plan Review round's Round ID: the school and the round's title."""
    return f"{school_id}{ID_SEPARATOR}{_digest((school_id, 'review', header_key(round_title)))}"


def value_digest(value: object) -> str:
    """Return a short hash of a value as a form showed it: what the Plan Review form records of each value
    it was built with (a Word form keeps no hidden sheet), enough to tell whether it changed."""
    return _digest((" ".join(("" if value is None else str(value)).split()),), 6)
