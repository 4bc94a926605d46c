"""Reference data: the editable files in templates/ that describe each form's fixed content."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from generator.findings import PacketsError
from generator.inputs.normalize import clean_text, is_blank
from generator.inputs.schema import ROLES, STAGES, header_key
from generator.model.readiness import RULES

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"

GRID_MONTHS = ("Designation release", "November", "December", "January", "February", "March", "April",
               "May", "June", "July")


@dataclass(frozen=True)
class GridColumn:
    key: str
    title: str                 # may hold {designation}
    roles: tuple[str, ...]


@dataclass(frozen=True)
class RubricCriterion:
    """One row of the plan review's quality rubric."""

    criterion: str
    question: str
    rules: tuple[str, ...]                      # readiness rules that check it automatically, if any
    levels: tuple[tuple[str, str], ...]         # (level, what it looks like at that level), lowest first


@dataclass(frozen=True)
class GridActivity:
    month: str
    cells: dict[str, tuple[str, ...]]   # "key_activity" and each GridColumn.key -> lines


def _read_table(path: Path, **kwargs) -> pd.DataFrame:
    try:
        if path.suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        # Named: pandas warns that its default engine (openpyxl, which these files are read with) will change.
        return pd.read_excel(path, dtype=object, engine="openpyxl", **kwargs)
    except FileNotFoundError:
        raise PacketsError(f"{path}: the form's reference file is missing; restore it from git.") from None
    except Exception as exc:  # any reader failure means the file needs fixing, said in one line
        raise PacketsError(f"{path}: cannot be read ({exc}).") from None


@lru_cache(maxsize=None)
def schedule_tasks(folder: Path = TEMPLATES) -> tuple[tuple[str, str], ...]:
    """Return the Resource 6 (stage, task) pairs in form order, from schedule_tasks.csv."""
    path = folder / "schedule_tasks.csv"
    frame = _read_table(path)
    pairs = []
    for i, (stage, task) in enumerate(zip(frame["Stage"], frame["Task"]), start=2):
        if stage not in STAGES:
            raise PacketsError(f"{path}, row {i}: stage '{stage}' is not one of: {'; '.join(STAGES)}.")
        pairs.append((stage, clean_text(task)))
    return tuple(pairs)


@lru_cache(maxsize=None)
def grid_columns(folder: Path = TEMPLATES) -> tuple[GridColumn, ...]:
    """Return the ISBE grid's role columns and the roster roles that staff each, from isbe_grid_columns.csv."""
    path = folder / "isbe_grid_columns.csv"
    columns = []
    for i, row in enumerate(_read_table(path).to_dict("records"), start=2):
        roles = tuple(r.strip() for r in row["Roster Roles"].split(";") if r.strip())
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise PacketsError(f"{path}, row {i}: unknown role(s) {', '.join(unknown)}.")
        columns.append(GridColumn(row["Key"].strip(), row["Column"].strip(), roles))
    return tuple(columns)


@lru_cache(maxsize=None)
def grid_activities(folder: Path = TEMPLATES) -> tuple[GridActivity, ...]:
    """Return the ISBE grid's key activities in seed order, from isbe_grid_activities.xlsx."""
    path = folder / "isbe_grid_activities.xlsx"
    frame = _read_table(path, sheet_name="Activities")
    by_header = {header_key(h): h for h in frame.columns}
    wanted = {"month": "Month", "key_activity": "Key Activity"}
    for col in grid_columns(folder):
        wanted[col.key] = col.title.replace("{designation} School ", "")
    missing = [title for title in wanted.values() if header_key(title) not in by_header]
    if missing:
        raise PacketsError(f"{path}, sheet Activities: missing column(s) {', '.join(missing)}.")
    activities = []
    for i, row in enumerate(frame.to_dict("records"), start=2):
        month = clean_text(row[by_header["month"]])
        if all(is_blank(v) for v in row.values()):
            continue
        if month not in GRID_MONTHS:
            raise PacketsError(f"{path}, sheet Activities, row {i}: month '{month}' is not one of: "
                               f"{'; '.join(GRID_MONTHS)}.")
        cells = {}
        for key, title in wanted.items():
            if key == "month":
                continue
            text = clean_text(row[by_header[header_key(title)]])
            cells[key] = tuple(line for line in text.split("\n") if line)
        activities.append(GridActivity(month, cells))
    return tuple(activities)


RUBRIC_COLUMNS = ("Criterion", "Question", "Readiness Rules")


@lru_cache(maxsize=None)
def review_rubric(folder: Path = TEMPLATES) -> tuple[RubricCriterion, ...]:
    """Return the plan review's quality rubric from review_rubric.csv: a row per criterion; the columns after
    Criterion, Question and Readiness Rules are the levels, lowest first, each cell saying what that level
    looks like for the criterion."""
    path = folder / "review_rubric.csv"
    frame = _read_table(path)
    by_key = {header_key(h): h for h in frame.columns}
    missing = [c for c in RUBRIC_COLUMNS[:1] if header_key(c) not in by_key]
    if missing:
        raise PacketsError(f"{path}: missing column(s) {', '.join(missing)}.")
    fixed = {header_key(c) for c in RUBRIC_COLUMNS}
    levels = [h for h in frame.columns if header_key(h) not in fixed]
    if not levels or any(not header_key(h) or str(h).startswith("Unnamed:") for h in levels):
        raise PacketsError(f"{path}: after Criterion, Question and Readiness Rules, every column is a level of "
                           f"the rubric and needs a name (e.g. Not Evident, Emerging, Meets Expectations).")
    known = {r.name for r in RULES}
    criteria = []
    for i, row in enumerate(frame.to_dict("records"), start=2):
        name = clean_text(row[by_key["criterion"]])
        if not name:
            if all(is_blank(v) for v in row.values()):
                continue
            raise PacketsError(f"{path}, row {i}: the Criterion is empty.")
        rules = tuple(r.strip() for r in re.split(r"[;,\n]", clean_text(row.get(by_key.get("readinessrules"), "")))
                      if r.strip())
        unknown = [r for r in rules if r not in known]
        if unknown:
            raise PacketsError(f"{path}, row {i}: {', '.join(unknown)} is not a readiness rule; the rules are "
                               f"listed in docs/readiness.md.")
        criteria.append(RubricCriterion(name, clean_text(row.get(by_key.get("question"), "")), rules,
                                        tuple((clean_text(h), clean_text(row[h])) for h in levels)))
    if not criteria:
        raise PacketsError(f"{path}: the rubric has no criteria.")
    return tuple(criteria)
