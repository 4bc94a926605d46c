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

from generator.findings import PacketsError
from generator.inputs.normalize import clean_text, is_blank
from generator.inputs.read import ReferenceTable, read_table
from generator.inputs.schema import (
    IDENTIFICATIONS,
    ROLES,
    STAGES,
    Designation,
    DesignationVocabulary,
    canonical_choice,
    header_key,
)
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
DESIGNATIONS_FILE = "designations.csv"
STATES_FOLDER = "states"                 # one profile per state: states/il.toml, states/ca.toml
DEFAULT_STATE = "il"                     # a district whose settings.toml names no state (see README)


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
        names (a district's file of another name is never read), and the state profiles a district adds."""
        names = {p.relative_to(SHIPPED_FOLDER).as_posix() for p in SHIPPED_FOLDER.rglob("*")
                 if p.is_file() and not p.name.startswith("~$") and "__pycache__" not in p.parts}
        names.update(f"{STATES_FOLDER}/{p.name}" for p in self._own_states())
        return [(name, self.path(name)) for name in sorted(names)]

    def _own_states(self) -> list[Path]:
        folder = self.folder / STATES_FOLDER if self.folder is not None else None
        return sorted(folder.glob("*.toml")) if folder is not None and folder.is_dir() else []

    def state_files(self) -> dict[str, Path]:
        """Return each state profile a run may read, by its code (the file's name: `il`), the district's
        own first."""
        found = {p.stem.casefold(): p for p in sorted((SHIPPED_FOLDER / STATES_FOLDER).glob("*.toml"))}
        found.update({p.stem.casefold(): p for p in self._own_states()})
        return found


SHIPPED = Templates()


def _identifications(text: str, where: str) -> tuple[str, ...]:
    """Return the identifications a cell such as `Intensive; Comprehensive` names; blank: ()."""
    found = []
    for part in (p.strip() for p in re.split(r"[;,\n]", text) if p.strip()):
        name = canonical_choice(part, IDENTIFICATIONS)
        if name is None:
            raise PacketsError(f"{where}: '{part}' is not an identification; use {'; '.join(IDENTIFICATIONS)}, "
                               f"or leave it blank for every school.")
        found.append(name)
    return tuple(found)


@dataclass(frozen=True)
class GridColumn:
    key: str
    title: str                 # may hold {designation}
    roles: tuple[str, ...]
    applies_to: tuple[str, ...] = ()     # the identifications whose grid has the column; (): every school's

    def applies(self, identification: str) -> bool:
        return not self.applies_to or identification in self.applies_to


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
    applies_to: tuple[str, ...] = ()     # the identifications whose grid has the row (ISI: Intensive); (): all

    def applies(self, identification: str) -> bool:
        return not self.applies_to or identification in self.applies_to


def _read_table(path: Path, **kwargs) -> ReferenceTable:
    try:
        return read_table(path, **kwargs)
    except FileNotFoundError:
        raise PacketsError(f"{path}: the form's reference file is missing; restore it from git.") from None
    except Exception as exc:  # any reader failure means the file needs fixing, said in one line
        raise PacketsError(f"{path}: cannot be read ({exc}).") from None


@lru_cache(maxsize=None)
def schedule_tasks(templates: Templates = SHIPPED) -> tuple[tuple[str, str], ...]:
    """Return the Resource 6 (stage, task) pairs in form order, from schedule_tasks.csv."""
    path = templates.path("schedule_tasks.csv")
    table = _read_table(path)
    pairs = []
    for i, (stage, task) in enumerate(zip(table.column("Stage"), table.column("Task")), start=2):
        if stage not in STAGES:
            raise PacketsError(f"{path}, row {i}: stage '{stage}' is not one of: {'; '.join(STAGES)}.")
        pairs.append((stage, clean_text(task)))
    return tuple(pairs)


@lru_cache(maxsize=None)
def grid_columns(templates: Templates = SHIPPED) -> tuple[GridColumn, ...]:
    """Return the ISBE grid's role columns and the roster roles that staff each, from isbe_grid_columns.csv."""
    path = templates.path("isbe_grid_columns.csv")
    columns = []
    for i, row in enumerate(_read_table(path).rows, start=2):
        roles = tuple(r.strip() for r in row["Roster Roles"].split(";") if r.strip())
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise PacketsError(f"{path}, row {i}: unknown role(s) {', '.join(unknown)}.")
        applies = _identifications(row.get("Applies To", ""), f"{path}, row {i}, column Applies To")
        columns.append(GridColumn(row["Key"].strip(), row["Column"].strip(), roles, applies))
    return tuple(columns)


@lru_cache(maxsize=None)
def grid_activities(templates: Templates = SHIPPED) -> tuple[GridActivity, ...]:
    """Return the ISBE grid's key activities in seed order, from isbe_grid_activities.xlsx."""
    path = templates.path("isbe_grid_activities.xlsx")
    table = _read_table(path, sheet_name="Activities")
    by_header = {header_key(h): h for h in table.columns}
    wanted = {"month": "Month", "key_activity": "Key Activity"}
    for col in grid_columns(templates):
        wanted[col.key] = col.title.replace("{designation} School ", "")
    missing = [title for title in wanted.values() if header_key(title) not in by_header]
    if missing:
        raise PacketsError(f"{path}, sheet Activities: missing column(s) {', '.join(missing)}.")
    months = form_data(templates).grid_months
    activities = []
    for i, row in enumerate(table.rows, start=2):
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
        applies = clean_text(row.get(by_header.get("appliesto"), ""))        # a sheet without the column: all
        activities.append(GridActivity(month, cells, _identifications(
            applies, f"{path}, sheet Activities, row {i}, column Applies To")))
    return tuple(activities)


RUBRIC_COLUMNS = ("Criterion", "Question", "Readiness Rules")


@lru_cache(maxsize=None)
def review_rubric(templates: Templates = SHIPPED) -> tuple[RubricCriterion, ...]:
    """Return the plan review's quality rubric from review_rubric.csv: a row per criterion; the columns after
    Criterion, Question and Readiness Rules are the levels, lowest first, each cell saying what that level
    looks like for the criterion."""
    path = templates.path("review_rubric.csv")
    table = _read_table(path)
    by_key = {header_key(h): h for h in table.columns}
    missing = [c for c in RUBRIC_COLUMNS[:1] if header_key(c) not in by_key]
    if missing:
        raise PacketsError(f"{path}: missing column(s) {', '.join(missing)}.")
    fixed = {header_key(c) for c in RUBRIC_COLUMNS}
    levels = [h for h in table.columns if header_key(h) not in fixed]
    if not levels or not all(header_key(h) for h in levels):
        raise PacketsError(f"{path}: after Criterion, Question and Readiness Rules, every column is a level of "
                           f"the rubric and needs a name (e.g. Not Evident, Emerging, Meets Expectations).")
    known = {r.name for r in RULES}
    criteria = []
    for i, row in enumerate(table.rows, start=2):
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
class CheckInRoles:
    """The roles of the people at a school's check-in (seed 003, Step 3: the schedule with each person's role)."""

    reviewer: str                              # the part of the check-in's reviewer (the Review sheet's Reviewer)
    roles: tuple[tuple[str, str], ...]         # (roster role, its part), in the order the form lists people


DEFAULT_CHECK_IN = CheckInRoles(
    "Leads the check-in: follows the After Action Review protocol, keeps time, and notes what the district "
    "will do to support the school",
    (("Principal", "Presents progress on each goal and the activities due; commits to the next steps"),
     ("Leadership Team Chair", "Brings the latest data on each goal and its benchmarks"),
     ("Leadership Team Co-Chair", "Records what was expected, what happened, why, and what next"),
     ("Facilitator", "Keeps the review on evidence and on the plan's goals"),
     ("Leadership Team Member", "Reports on the activities they lead")))


@dataclass(frozen=True)
class FormData:
    """What the forms say that is not drawn in their template files, from forms.toml."""

    path: Path
    titles: dict[str, str]                   # form key -> the form's title
    colours: dict[str, str]                  # overdue, ready, not_ready -> RRGGBB
    people: dict[str, tuple[str, ...]]       # leadership_team, signatories, review_signatures -> roster roles
    grid_months: tuple[str, ...]
    # Who attends a check-in and each one's part in it ([check_in]): the reviewer's part, then roster roles.
    check_in: CheckInRoles = DEFAULT_CHECK_IN

    def title(self, form_key: str) -> str:
        if form_key not in self.titles and form_key in OPTIONAL_TITLES:
            return OPTIONAL_TITLES[form_key]
        if form_key not in self.titles:
            raise PacketsError(f"{self.path}: [titles] has no title for the form '{form_key}'. Fix: add "
                               f"{form_key} = \"...\".")
        return self.titles[form_key]


# Titles a district's older copy of forms.toml may lack, and what they are then.
OPTIONAL_TITLES = {"after-action-review": "After Action Review", "district-reflection": "District Level Reflection"}
COLOURS = ("overdue", "ready", "not_ready")
PEOPLE_LISTS = ("leadership_team", "signatories", "review_signatures")
# Lists a district's older copy of forms.toml may lack, and what they are then.
OPTIONAL_PEOPLE_LISTS = {"calendar_organizer": ("School Improvement Coordinator", "District Staff", "Superintendent",
                                                "Principal")}
FORMS_KEYS = {"titles", "colours", "people", "isbe_grid", "check_in"}


def _table(data: dict, key: str, path: Path, shipped: str = FORMS_FILE) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        raise PacketsError(f"{path}: [{key}] is missing or not a table; restore it from the shipped {shipped}.")
    return value


def _texts(value, where: str, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise PacketsError(f"{path}: {where} must be a list of names, such as [\"Principal\", \"Superintendent\"].")
    return tuple(v.strip() for v in value)


@lru_cache(maxsize=None)
def form_data(templates: Templates = SHIPPED) -> FormData:
    """Return the forms' titles, colours, people lists and grid months from forms.toml."""
    path = templates.path(FORMS_FILE)
    if not path.is_file():
        raise PacketsError(f"{path}: the forms' reference file is missing; restore it from git.")
    data = read_toml(path)
    if "submission_routes" in data:          # an older copy: the routes are the state's now
        raise PacketsError(f"{path}: [[submission_routes]] is now part of the state profile "
                           f"({STATES_FOLDER}/il.toml, {STATES_FOLDER}/ca.toml, chosen by [district] state in "
                           f"settings.toml). Fix: remove it from this file; to change where plans are submitted, "
                           f"copy the state's profile into the same folder and edit its routes there.")
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
    grid = _table(data, "isbe_grid", path)
    refuse_unknown(grid, {"months"}, path, "[isbe_grid]")
    months = _texts(grid.get("months"), "[isbe_grid] months", path)
    return FormData(path, {str(k): str(v).strip() for k, v in titles.items()},
                    {key: str(colours[key]).upper() for key in COLOURS}, lists, months, _check_in(data, path))


def _check_in(data: dict, path: Path) -> CheckInRoles:
    """Return [check_in] of forms.toml: the reviewer's part and each roster role's part at a check-in (a
    district's older copy without it: the shipped parts)."""
    if "check_in" not in data:
        return DEFAULT_CHECK_IN
    table = _table(data, "check_in", path)
    refuse_unknown(table, {"reviewer", "roles"}, path, "[check_in]")
    reviewer = table.get("reviewer", DEFAULT_CHECK_IN.reviewer)
    roles = table.get("roles", dict(DEFAULT_CHECK_IN.roles))
    if not isinstance(reviewer, str) or not isinstance(roles, dict) or \
            not all(isinstance(v, str) for v in roles.values()):
        raise PacketsError(f"{path}: [check_in] reviewer is a text and [check_in.roles] a role = \"its part\" each, "
                           f"such as Principal = \"Presents progress on each goal\".")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise PacketsError(f"{path}: [check_in.roles]: unknown role(s) {', '.join(unknown)}.")
    return CheckInRoles(reviewer.strip(), tuple((str(k), str(v).strip()) for k, v in roles.items()))


# --- designations.csv: every designation a roster may give a school -----------------------------------------

DESIGNATION_COLUMNS = ("Designation", "Identification", "Synonyms")


@lru_cache(maxsize=None)
def designations(templates: Templates = SHIPPED) -> DesignationVocabulary:
    """Return the designations a roster may give a school, from designations.csv: each with what it is
    identified for (Intensive, Comprehensive, Targeted, Not identified) and its other spellings."""
    path = templates.path(DESIGNATIONS_FILE)
    table = _read_table(path)
    by_key = {header_key(h): h for h in table.columns}
    missing = [c for c in DESIGNATION_COLUMNS if header_key(c) not in by_key]
    if missing:
        raise PacketsError(f"{path}: missing column(s) {', '.join(missing)}.")
    found: list[Designation] = []
    spelled: dict[str, str] = {}             # every name and synonym, as matched -> the designation it is
    for i, row in enumerate(table.rows, start=2):
        name = clean_text(row[by_key["designation"]])
        meaning = clean_text(row[by_key["identification"]])
        if not name:
            if all(is_blank(v) for v in row.values()):
                continue
            raise PacketsError(f"{path}, row {i}: the Designation is empty.")
        identification = canonical_choice(meaning, IDENTIFICATIONS)
        if identification is None:
            raise PacketsError(f"{path}, row {i}: Identification '{meaning}' is not one of: "
                               f"{'; '.join(IDENTIFICATIONS)}.")
        synonyms = tuple(t.strip() for t in clean_text(row[by_key["synonyms"]]).split(";") if t.strip())
        for spelling in (name, *synonyms):
            other = spelled.setdefault(header_key(spelling), name)
            if other != name or not header_key(spelling):
                raise PacketsError(f"{path}, row {i}: '{spelling}' is also {other}'s; each spelling may name one "
                                   f"designation.")
        found.append(Designation(name, identification, tuple(s for s in synonyms if header_key(s) != header_key(name))))
    if not any(d.identification == "Not identified" for d in found):
        raise PacketsError(f"{path}: no designation is 'Not identified', which a blank Designation cell reads as. "
                           f"Fix: add a row such as: Not identified,Not identified,No Status.")
    return DesignationVocabulary(tuple(found), path.name)


# --- states/*.toml: each state's route, forms and wording ----------------------------------------------------

@dataclass(frozen=True)
class SubmissionRoute:
    """Where a Plan for Improvement is submitted, for the schools a route matches."""

    submitted_to: str
    designation: str = ""                    # a designation or identification; '' matches every school
    support_levels: tuple[int, ...] = ()     # () matches every support level, and none


@dataclass(frozen=True)
class StateProfile:
    """What a state's districts' packets hold and say, from states/<code>.toml: the forms that apply, the
    readiness rules' scope, where plans are submitted and the state's names."""

    path: Path
    code: str                                    # the file's name: "il"
    name: str                                    # "Illinois"
    agency: str                                  # "ISBE": the state education agency, as the forms name it
    agency_name: str                             # "Illinois State Board of Education"
    forms: dict[str, tuple[str, ...]]            # form key -> identifications whose packets hold it
    rules: dict[str, tuple[str, ...]]            # readiness rule -> identifications it concerns
    submission_routes: tuple[SubmissionRoute, ...]

    def holds(self, form_key: str, identification: str) -> bool:
        """Return True when a school of this identification gets the form (a form not listed: every school)."""
        return form_key not in self.forms or identification in self.forms[form_key]

    def submitted_to(self, designation: str, identification: str, level: int | None) -> str:
        """Return where the plan of a school of this designation and support level is submitted."""
        for route in self.submission_routes:
            if route.designation.casefold() in ("", designation.casefold(), identification.casefold()) \
                    and (not route.support_levels or level in route.support_levels):
                return route.submitted_to
        return ""

    @property
    def context(self) -> dict[str, str]:
        """What every form may show of the state: `state.name`, `state.agency`, ..."""
        return {"code": self.code.upper(), "name": self.name, "agency": self.agency, "agency_name": self.agency_name}


STATE_KEYS = {"name", "agency", "agency_name", "forms", "rules", "submission_routes"}


def _scopes(table: dict, known: set[str], what: str, path: Path, key: str) -> dict[str, tuple[str, ...]]:
    """Return a profile's [forms] or [rules] table: each form or rule with the identifications it is for."""
    scopes = {}
    for name, value in table.items():
        if name not in known:
            close = ", ".join(sorted(known))
            raise PacketsError(f"{path}: [{key}] {name} is not {what}. Use one of: {close}.")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PacketsError(f"{path}: [{key}] {name} must be a list of identifications, such as "
                               f"[\"Intensive\", \"Comprehensive\", \"Targeted\"] ([] for no school).")
        scopes[name] = _identifications(";".join(value), f"{path}: [{key}] {name}")
    return scopes


def _routes(data: dict, path: Path) -> tuple[SubmissionRoute, ...]:
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
    return tuple(routes)


@lru_cache(maxsize=None)
def _profile(templates: Templates, code: str) -> StateProfile:
    path = templates.state_files()[code]
    data = read_toml(path)
    refuse_unknown(data, STATE_KEYS, path)
    texts = {}
    for key in ("name", "agency", "agency_name"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise PacketsError(f"{path}: {key} is missing; it must be text, such as {key} = \"...\".")
        texts[key] = value.strip()
    forms = _scopes(data.get("forms", {}), set(form_data(templates).titles), "a form (forms.toml [titles])",
                    path, "forms")
    rules = _scopes(data.get("rules", {}), {r.name for r in RULES}, "a readiness rule (docs/readiness.md)",
                    path, "rules")
    return StateProfile(path, code, texts["name"], texts["agency"], texts["agency_name"], forms, rules,
                        _routes(data, path))


def state_names(templates: Templates = SHIPPED) -> dict[str, str]:
    """Return each state profile's code and name: {"ca": "California", "il": "Illinois"}."""
    return {code: _profile(templates, code).name for code in templates.state_files()}


def state_profile(templates: Templates = SHIPPED, state: str = "", where: str = "") -> StateProfile:
    """Return the profile of the state settings.toml names, by its code (`IL`) or name (`Illinois`), in
    any case; no state: Illinois's (DEFAULT_STATE). An unknown state is a PacketsError beginning with
    `where` (the setting)."""
    wanted = state.strip().casefold() or DEFAULT_STATE
    try:
        code = _state_code(templates, wanted)
    except LookupError:
        names = state_names(templates)
        known = ", ".join(f"\"{c.upper()}\" ({name})" for c, name in sorted(names.items()))
        raise PacketsError(f"{where or 'state'} = \"{state.strip()}\" is not a state the templates have a "
                           f"profile for. Fix: use one of {known}, or add {STATES_FOLDER}/<code>.toml to the "
                           f"district's templates folder (see README, 'States and designations').") from None
    return _profile(templates, code)


# Remembered as _profile is: each packet asks three times, and listing the states' folders each time was 1-2%
# of a packet's work. A state not found raises, which lru_cache does not remember: a file a district then adds
# is looked for again.
@lru_cache(maxsize=None)
def _state_code(templates: Templates, wanted: str) -> str:
    if wanted in templates.state_files():
        return wanted
    found = next((c for c, name in state_names(templates).items() if name.casefold() == wanted), None)
    if found is None:
        raise LookupError(wanted)
    return found
