"""Templates: where a run's template files are, and the reference data among them (each form's fixed content).

The generator ships its templates (templates/ in the repository, installed as the package data
generator/templates). A district may keep its own folder ([templates] folder in settings.toml, or
--templates): each file it holds is used instead of the shipped one of that name, and every file it
does not hold is the shipped one, so a district keeps only the forms it restyled.
"""

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
from generator.settings import read_toml, refuse_unknown


def _shipped_folder() -> Path:
    """Return the folder of the templates shipped with the generator: the package data of an installed
    generator, or a source checkout's templates/ (an editable install, the tests)."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


SHIPPED_FOLDER = _shipped_folder()
FORMS_FILE = "forms.toml"


@dataclass(frozen=True)
class Templates:
    """The template files a run reads: each from the district's own folder when it holds a file of that
    name, else the shipped one."""

    folder: Path | None = None           # the district's own templates; None: only the shipped ones

    def path(self, name: str) -> Path:
        """Return the file a run reads for the template `name` (e.g. plan.docx)."""
        if self.folder is not None:
            own = self.folder / name
            if own.is_file():
                return own
        return SHIPPED_FOLDER / name

    def files(self) -> list[tuple[str, Path]]:
        """Return every template a run may read, by name, with the file read for it: the shipped set's
        names (a district's file of another name is never read)."""
        names = sorted(p.relative_to(SHIPPED_FOLDER).as_posix() for p in SHIPPED_FOLDER.rglob("*")
                       if p.is_file() and not p.name.startswith("~$") and "__pycache__" not in p.parts)
        return [(name, self.path(name)) for name in names]


SHIPPED = Templates()


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
def schedule_tasks(templates: Templates = SHIPPED) -> tuple[tuple[str, str], ...]:
    """Return the Resource 6 (stage, task) pairs in form order, from schedule_tasks.csv."""
    path = templates.path("schedule_tasks.csv")
    frame = _read_table(path)
    pairs = []
    for i, (stage, task) in enumerate(zip(frame["Stage"], frame["Task"]), start=2):
        if stage not in STAGES:
            raise PacketsError(f"{path}, row {i}: stage '{stage}' is not one of: {'; '.join(STAGES)}.")
        pairs.append((stage, clean_text(task)))
    return tuple(pairs)


@lru_cache(maxsize=None)
def grid_columns(templates: Templates = SHIPPED) -> tuple[GridColumn, ...]:
    """Return the ISBE grid's role columns and the roster roles that staff each, from isbe_grid_columns.csv."""
    path = templates.path("isbe_grid_columns.csv")
    columns = []
    for i, row in enumerate(_read_table(path).to_dict("records"), start=2):
        roles = tuple(r.strip() for r in row["Roster Roles"].split(";") if r.strip())
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise PacketsError(f"{path}, row {i}: unknown role(s) {', '.join(unknown)}.")
        columns.append(GridColumn(row["Key"].strip(), row["Column"].strip(), roles))
    return tuple(columns)


@lru_cache(maxsize=None)
def grid_activities(templates: Templates = SHIPPED) -> tuple[GridActivity, ...]:
    """Return the ISBE grid's key activities in seed order, from isbe_grid_activities.xlsx."""
    path = templates.path("isbe_grid_activities.xlsx")
    frame = _read_table(path, sheet_name="Activities")
    by_header = {header_key(h): h for h in frame.columns}
    wanted = {"month": "Month", "key_activity": "Key Activity"}
    for col in grid_columns(templates):
        wanted[col.key] = col.title.replace("{designation} School ", "")
    missing = [title for title in wanted.values() if header_key(title) not in by_header]
    if missing:
        raise PacketsError(f"{path}, sheet Activities: missing column(s) {', '.join(missing)}.")
    months = form_data(templates).grid_months
    activities = []
    for i, row in enumerate(frame.to_dict("records"), start=2):
        month = clean_text(row[by_header["month"]])
        if all(is_blank(v) for v in row.values()):
            continue
        if month not in months:
            raise PacketsError(f"{path}, sheet Activities, row {i}: month '{month}' is not one of: "
                               f"{'; '.join(months)} ([isbe_grid] months in {FORMS_FILE}).")
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
def review_rubric(templates: Templates = SHIPPED) -> tuple[RubricCriterion, ...]:
    """Return the plan review's quality rubric from review_rubric.csv: a row per criterion; the columns after
    Criterion, Question and Readiness Rules are the levels, lowest first, each cell saying what that level
    looks like for the criterion."""
    path = templates.path("review_rubric.csv")
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


@dataclass(frozen=True)
class SubmissionRoute:
    """Where a Plan for Improvement is submitted, for the schools a route matches."""

    submitted_to: str
    designation: str = ""                    # '' matches every designation
    support_levels: tuple[int, ...] = ()     # () matches every support level, and none


@dataclass(frozen=True)
class FormData:
    """What the forms say that is not drawn in their template files, from forms.toml."""

    path: Path
    titles: dict[str, str]                   # form key -> the form's title
    colours: dict[str, str]                  # overdue, ready, not_ready -> RRGGBB
    people: dict[str, tuple[str, ...]]       # leadership_team, signatories, ... -> roster roles
    submission_routes: tuple[SubmissionRoute, ...]
    grid_months: tuple[str, ...]

    def title(self, form_key: str) -> str:
        if form_key not in self.titles:
            raise PacketsError(f"{self.path}: [titles] has no title for the form '{form_key}'. Fix: add "
                               f"{form_key} = \"...\".")
        return self.titles[form_key]

    def submitted_to(self, designation: str, level: int | None) -> str:
        """Return where the plan of a school of this designation and support level is submitted."""
        for route in self.submission_routes:
            if route.designation in ("", designation) and (not route.support_levels or level in route.support_levels):
                return route.submitted_to
        return ""


COLOURS = ("overdue", "ready", "not_ready")
PEOPLE_LISTS = ("leadership_team", "signatories", "review_signatures")
# Lists a district's older copy of forms.toml may lack, and what they are then.
OPTIONAL_PEOPLE_LISTS = {"calendar_organizer": ("School Improvement Coordinator", "District Staff", "Superintendent",
                                                "Principal")}
FORMS_KEYS = {"titles", "colours", "people", "submission_routes", "isbe_grid"}


def _table(data: dict, key: str, path: Path) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        raise PacketsError(f"{path}: [{key}] is missing or not a table; restore it from the shipped {FORMS_FILE}.")
    return value


def _texts(value, where: str, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise PacketsError(f"{path}: {where} must be a list of names, such as [\"Principal\", \"Superintendent\"].")
    return tuple(v.strip() for v in value)


@lru_cache(maxsize=None)
def form_data(templates: Templates = SHIPPED) -> FormData:
    """Return the forms' titles, colours, people lists, submission routes and grid months from forms.toml."""
    path = templates.path(FORMS_FILE)
    if not path.is_file():
        raise PacketsError(f"{path}: the forms' reference file is missing; restore it from git.")
    data = read_toml(path)
    refuse_unknown(data, FORMS_KEYS, path)
    titles = _table(data, "titles", path)
    if not all(isinstance(v, str) and v.strip() for v in titles.values()):
        raise PacketsError(f"{path}: each title in [titles] must be text, such as plan = \"Plan for Improvement\".")
    colours = _table(data, "colours", path)
    refuse_unknown(colours, COLOURS, path, "[colours]")
    for key in COLOURS:
        if not re.fullmatch(r"[0-9A-Fa-f]{6}", str(colours.get(key, ""))):
            raise PacketsError(f"{path}: [colours] {key} must be a colour as six hex digits (RRGGBB), "
                               f"such as \"F4CCCC\".")
    people = _table(data, "people", path)
    refuse_unknown(people, (*PEOPLE_LISTS, *OPTIONAL_PEOPLE_LISTS), path, "[people]")
    lists = {key: _texts(people.get(key), f"[people] {key}", path) for key in PEOPLE_LISTS}
    lists.update({key: _texts(people[key], f"[people] {key}", path) if key in people else default
                  for key, default in OPTIONAL_PEOPLE_LISTS.items()})
    for key, roles in lists.items():
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise PacketsError(f"{path}: [people] {key}: unknown role(s) {', '.join(unknown)}.")
    routes = []
    for i, route in enumerate(data.get("submission_routes") or (), start=1):
        where = f"{path}: [[submission_routes]] number {i}"
        if not isinstance(route, dict):
            raise PacketsError(f"{where} must be a table.")
        refuse_unknown(route, {"designation", "support_levels", "submitted_to"}, path, "[[submission_routes]]")
        levels = route.get("support_levels", [])
        if not isinstance(levels, list) or not all(isinstance(n, int) for n in levels):
            raise PacketsError(f"{where}: support_levels must be a list of numbers, such as [1, 2].")
        if not str(route.get("submitted_to", "")).strip():
            raise PacketsError(f"{where}: submitted_to is missing.")
        routes.append(SubmissionRoute(str(route["submitted_to"]).strip(), str(route.get("designation", "")).strip(),
                                      tuple(levels)))
    if not routes or routes[-1].designation or routes[-1].support_levels:
        raise PacketsError(f"{path}: the last [[submission_routes]] must name no designation or support levels, "
                           f"so every school's plan has a route.")
    grid = _table(data, "isbe_grid", path)
    refuse_unknown(grid, {"months"}, path, "[isbe_grid]")
    months = _texts(grid.get("months"), "[isbe_grid] months", path)
    return FormData(path, {str(k): str(v).strip() for k, v in titles.items()},
                    {key: str(colours[key]).upper() for key in COLOURS}, lists, tuple(routes), months)
