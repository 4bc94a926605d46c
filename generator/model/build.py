"""Build: the district model made from validated tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import lru_cache, partial
from typing import Any, Callable, Collection, Mapping

from generator.inputs.normalize import Row, Table
from generator.inputs.recurrence import row_dates
from generator.inputs.schema import (
    BENCHMARK_TERMS,
    REVIEW_STEPS,
    ROLE_SYNONYMS,
    ROLES,
    SERIES_DATE,
    STAGES,
    DesignationVocabulary,
    canonical_choice,
)
from generator.inputs.validate import closed_days
from generator.model.records import (
    NUMBERED_STEPS,
    REVIEW_KINDS,
    REVIEW_TITLES,
    Activity,
    Benchmark,
    District,
    Goal,
    GridProgress,
    Meeting,
    MonitoringItem,
    Packet,
    Person,
    Plan,
    ProblemOfPractice,
    ReviewDecision,
    ReviewEvent,
    School,
    Source,
    Strategy,
    Support,
    Task,
)

# --- building the model from validated tables -------------------------------------------------

def _source(table: Table, row: Row) -> Source:
    return Source(table.file, table.sheet, row.number, table.columns)


def _text(row: Row, key: str) -> str:
    value = row[key]
    return "" if value is None else str(value)


class _BySchool:
    """Each sheet's rows grouped by School ID once, so building a school's packet reads only its rows
    (scanning every sheet for every school made large districts quadratic)."""

    def __init__(self, tables: Mapping[str, Table]):
        self.groups: dict[str, dict[str | None, list[tuple[Table, Row]]]] = {}
        for name, table in tables.items():
            groups = self.groups.setdefault(name, {})
            for row in table.rows:
                groups.setdefault(row["school_id"], []).append((table, row))

    def rows(self, sheet: str, school_id: str | None, district_wide: bool = False) -> list[tuple[Table, Row]]:
        """Return the sheet's rows for a school (and its district-wide rows first, if asked), in sheet order."""
        groups = self.groups.get(sheet, {})
        own = groups.get(school_id, [])
        if not district_wide:
            return own
        return sorted(groups.get(None, []) + own, key=lambda pair: pair[1].number)


class _Calendar:
    """The dates of each timeline row: its own date, or its series when it repeats; worked out once per
    row, so a district-wide row's series serves every school."""

    def __init__(self, tables: Mapping[str, Table], planning_year):
        self.closed = closed_days(tables)
        self.default_until = planning_year.last_day
        self._dates: dict[tuple[str, str, int], tuple[dt.date, ...]] = {}

    def dates(self, table: Table, row: Row) -> tuple[dt.date, ...]:
        key = (table.file, table.sheet, row.number)
        if key not in self._dates:
            first, repeats = row[SERIES_DATE[table.spec.name]], row["repeats"]
            self._dates[key] = row_dates(first, repeats, row["until"], row["skip"] or (), self.closed,
                                         self.default_until)
        return self._dates[key]


class _Shared:
    """What district-wide rows make, made once: every school's packet holds the same records (frozen and
    equal, so nothing can tell), which keeps a large district's model, and the work sent to each
    process, from repeating a district-wide person, meeting or review step for every school."""

    def __init__(self):
        self._made: dict[tuple, Any] = {}

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = make()
        return found

    def record(self, make: Callable[..., Any], table: Table, row: Row, *args) -> Any:
        """Return make(table, row, *args): made anew for a school's own row, once for a district-wide row."""
        if row["school_id"] is not None:
            return make(table, row, *args)
        return self.get((make, table.file, table.sheet, row.number), lambda: make(table, row, *args))


def _timeline_key(task: Task) -> tuple[str, str, str]:
    return (task.stage, task.task.casefold(), task.detail.casefold())


class _Timeline:
    """The district-wide Tasks rows, each a series of tasks (a repeating row gives several, one per date),
    keyed and ordered once, with each school's own rows merged in (merge)."""

    def __init__(self, district: list[tuple[Task, ...]]):
        self.district = district
        self.keys = [_timeline_key(s[0]) for s in district]
        self.first_seen: dict[tuple[str, str], int] = {}
        for i, s in enumerate(district):
            self.first_seen.setdefault((s[0].stage, s[0].task.casefold()), i)
        self.orders = [self._order(s[0], {}) for s in district]
        self.alone = self._flat(list(zip(self.orders, district)))      # a school with no rows of its own

    def _order(self, task: Task, own_first_seen: dict[tuple[str, str], int]) -> tuple[int, int]:
        """Stage, then where the task (by stage and name) first appears: district rows, then the school's."""
        name = (task.stage, task.task.casefold())
        return STAGES.index(task.stage), self.first_seen[name] if name in self.first_seen else own_first_seen[name]

    @staticmethod
    def _flat(ordered: list[tuple[tuple[int, int], tuple[Task, ...]]]) -> tuple[Task, ...]:
        return tuple(t for _, s in sorted(ordered, key=lambda pair: pair[0]) for t in s)

    def merge(self, own: list[tuple[Task, ...]]) -> tuple[Task, ...]:
        """Return a school's timeline: the district-wide rows, each replaced by the school's own row for the
        same stage, task and detail; the school's extra rows added. Ordered by stage, then by first
        appearance; a row's dates stay together."""
        if not own:
            return self.alone
        replacing = {_timeline_key(s[0]): s for s in own}
        merged = [(order, replacing.pop(key, s)) for key, s, order in zip(self.keys, self.district, self.orders)]
        own_first_seen: dict[tuple[str, str], int] = {}
        for i, s in enumerate(own, start=len(self.district)):
            own_first_seen.setdefault((s[0].stage, s[0].task.casefold()), i)
        merged += [(self._order(s[0], own_first_seen), s) for s in own if _timeline_key(s[0]) in replacing]
        return self._flat(merged)


def _task(table: Table, row: Row) -> Task:
    return Task(stage=row["stage"], task=_text(row, "task"), responsibility=_text(row, "responsibility"),
                expected=row["expected"], completed=row["completed"], detail=_text(row, "detail"),
                notes=_text(row, "notes"), school_id=row["school_id"], source=_source(table, row))


def _task_series(table: Table, row: Row, calendar: _Calendar) -> tuple[Task, ...]:
    """Return a Tasks row as tasks: one, or one per date of its series. A repeating row's Completion Date
    marks every date up to it as done (each on its own date)."""
    task = _task(table, row)
    if row["repeats"] is None:
        return (task,)
    done = row["completed"]
    return tuple(replace(task, expected=d, completed=d if done and d <= done else None)
                 for d in calendar.dates(table, row))


def _person(table: Table, row: Row) -> Person:
    return Person(_text(row, "name"), row["role"], _text(row, "title"), _text(row, "email"), _text(row, "phone"),
                  row["school_id"], _source(table, row))


def _meetings(table: Table, row: Row, calendar: _Calendar) -> tuple[Meeting, ...]:
    """Return a Meetings row as meetings: one, or one per date of its series (all pointing at the row)."""
    name, time, location = _text(row, "meeting"), _text(row, "time"), _text(row, "location")
    school_id, source = row["school_id"], _source(table, row)
    return tuple(Meeting(name, d, time, location, school_id, source) for d in calendar.dates(table, row))


@lru_cache(maxsize=1024)
def _role(text: str) -> str | None:
    return canonical_choice(text, ROLES, ROLE_SYNONYMS) if text else None


def _reviewer(text: str, people: tuple[Person, ...]) -> str:
    """Return a Reviewer cell for one school: a roster role becomes the names of the school's people in it
    (`Priya Raman (District Staff)`); a name, or a role nobody fills, stays as written."""
    role = _role(text)
    found = sorted((p for p in people if p.role == role), key=lambda p: p.school_id is None)
    named = list(dict.fromkeys(p.name for p in found))
    return f"{'; '.join(named)} ({role})" if named else text


def _review(index: _BySchool, calendar: _Calendar, shared: _Shared, school_id: str,
            people: tuple[Person, ...]) -> tuple[ReviewEvent, ...]:
    """Return the school's review cycle in date order: the district's default rows, except for the steps the
    school has rows of its own for, which replace them."""
    own = index.rows("Review", school_id)
    own_steps = {r["step"] for _, r in own}
    rows = [(t, r) for t, r in index.rows("Review", None) if r["step"] not in own_steps] + own
    dated = sorted(((d, REVIEW_STEPS.index(r["step"]), r.number, t, r) for t, r in rows for d in calendar.dates(t, r)),
                   key=lambda item: item[:3])
    counts: dict[str, int] = {}
    events = []
    for due, _, _, table, row in dated:
        step = row["step"]
        title = _text(row, "title")
        if not title:
            counts[step] = counts.get(step, 0) + 1
            title = REVIEW_TITLES[step] + (f" {counts[step]}" if step in NUMBERED_STEPS else "")
        reviewer = _reviewer(_text(row, "reviewer"), people)
        # A district-wide step reads the same for most schools: those schools share one event. (get calls
        # the lambda at once, if at all, so it sees this iteration's values.)
        events.append(shared.get((ReviewEvent, table.file, table.sheet, row.number, due, title, reviewer),
                                 lambda: ReviewEvent(REVIEW_KINDS[step], title, due, reviewer,  # noqa: B023
                                                     shared.record(_source, table, row))))  # noqa: B023
    return tuple(events)


def _plan(index: _BySchool, school_id: str) -> Plan:
    def rows(sheet):
        return index.rows(sheet, school_id)

    # Each goal's benchmarks and each strategy's activities, in sheet order, gathered once: looking
    # through every activity for each strategy was quadratic in a plan (40 strategies, 500 activities).
    term_order = {term: i for i, term in enumerate(BENCHMARK_TERMS)}
    benchmarks: dict[Any, list[Benchmark]] = {}
    for t, r in rows("Benchmarks"):
        benchmarks.setdefault(r["goal_id"], []).append(
            Benchmark(r["goal_id"], r["term"], _text(r, "benchmark"), _text(r, "initial"), _text(r, "expected"),
                      r["date"], _text(r, "actual"), _source(t, r)))
    goals = tuple(
        Goal(r["goal_id"], r["goal_type"], _text(r, "statement"), _text(r, "measure"), _text(r, "baseline"),
             _text(r, "target"), r["target_date"], _text(r, "target_year2"), _text(r, "target_year3"),
             _text(r, "student_group"),
             tuple(sorted(benchmarks.get(r["goal_id"], ()), key=lambda b: term_order[b.term])), _source(t, r))
        for t, r in rows("Goals"))
    activities: dict[Any, list[Activity]] = {}
    for t, r in rows("Activities"):
        activities.setdefault(r["strategy_id"], []).append(
            Activity(r["strategy_id"], _text(r, "activity"), r["start"], r["end"], _text(r, "milestone"),
                     _text(r, "funding"), _text(r, "owner"), _source(t, r)))
    strategies = tuple(
        Strategy(r["strategy_id"], _text(r, "text"), _text(r, "evidence"), _text(r, "problem_id"),
                 _text(r, "goal_id"), tuple(activities.get(r["strategy_id"], ())), _source(t, r))
        for t, r in rows("Strategies"))
    return Plan(
        problems=tuple(ProblemOfPractice(r["problem_id"], _text(r, "text"), _text(r, "root_cause"), _source(t, r))
                       for t, r in rows("Problems")),
        goals=goals,
        strategies=strategies,
        monitoring=tuple(MonitoringItem(r["goal_id"], _text(r, "evidence"), _text(r, "frequency"),
                                        _text(r, "responsible"), _source(t, r)) for t, r in rows("Monitoring")),
        supports=tuple(Support(r["category"], _text(r, "description"), _text(r, "who"), _text(r, "when"),
                               _source(t, r)) for t, r in rows("Supports")),
    )


class _PlanNotModelled(Plan):
    """The plan of a packet modelled without it (build_district_lazily). Reading it is a mistake in
    the code, so it fails at once instead of passing for an empty plan."""

    __slots__ = ()

    def _not_modelled(self):
        raise RuntimeError("This packet's plan was not modelled (build_district_lazily); "
                           "model it with the function that returned it first.")

    problems = goals = strategies = monitoring = supports = property(_not_modelled)

    def __reduce__(self):
        # Handed to a worker, which models the plan (batch.Work), as the one object it is there too.
        return "PLAN_NOT_MODELLED"


PLAN_NOT_MODELLED: Plan = object.__new__(_PlanNotModelled)


def build_district(tables: Mapping[str, Table], settings, designations: DesignationVocabulary | None = None,
                   rule_scope: Mapping[str, tuple[str, ...]] | None = None, only: Collection[str] | None = None,
                   skip: Collection[str] = ()) -> District:
    """Return the district model from validated tables: every school on the roster, and a packet for each
    school in `only` (default: settings.schools, else every school) but those in `skip`, the schools whose
    own rows have errors (their rows are not read). `designations` says what each designation is
    identified for (designations.csv; None: only the identifications' own words are known); `rule_scope`
    names the readiness rules that concern only schools of some identifications (the state profile's
    [rules])."""
    chosen = set(settings.schools if only is None else only)
    skipped = set(skip)
    modeller = _Modeller(tables, settings, designations, rule_scope)
    packets = tuple(modeller.packet(school, plans=True) for school in modeller.schools
                    if not (chosen and school.school_id not in chosen) and school.school_id not in skipped)
    return District(settings.district_name, settings.planning_year, settings.as_of, modeller.schools, packets)


def planned(packet: Packet, plan_tables: Mapping[str, Table]) -> Packet:
    """Return a packet modelled without its plan (build_district_lazily) with its plan, modelled from
    the plan sheets' tables: the school's own rows are enough (cache.SchoolRows gives them)."""
    if packet.plan is not PLAN_NOT_MODELLED:
        return packet
    return replace(packet, plan=_plan(_BySchool(plan_tables), packet.school.school_id))


def build_district_lazily(tables: Mapping[str, Table], settings, designations: DesignationVocabulary | None = None,
                          rule_scope: Mapping[str, tuple[str, ...]] | None = None,
                          plan_rows: Callable[[str], Mapping[str, Table]] | None = None
                          ) -> tuple[District, Callable[[School], Packet], Callable[[Packet], Packet]]:
    """Return build_district's district with no packet modelled, a function modelling a school's packet
    without its plan, and one giving such a packet with its plan (any other as it is): a rebuild models the
    schools whose inputs have changed, and of those the plans of the schools it builds or checks. The plan
    sheets are among the tables, or not, and `plan_rows` gives a school's tables of them (cache.SchoolRows)."""
    modeller = _Modeller(tables, settings, designations, rule_scope)
    district = District(settings.district_name, settings.planning_year, settings.as_of, modeller.schools, ())
    return district, partial(modeller.packet, plans=False), _with_plan(modeller.index, plan_rows)


def _with_plan(index: _BySchool, plan_rows: Callable[[str], Mapping[str, Table]] | None) -> Callable[[Packet], Packet]:
    def with_plan(packet: Packet) -> Packet:
        if packet.plan is not PLAN_NOT_MODELLED:
            return packet
        sid = packet.school.school_id
        return replace(packet, plan=_plan(index, sid)) if plan_rows is None else planned(packet, plan_rows(sid))
    return with_plan


class _Modeller:
    """What modelling any school's packet reads, made once for the district: every school on the roster, the
    rows by school, the timeline rows' dates, the district-wide timeline and records."""

    def __init__(self, tables: Mapping[str, Table], settings, designations: DesignationVocabulary | None,
                 rule_scope: Mapping[str, tuple[str, ...]] | None):
        def identification(name: str) -> str:
            return designations.identification(name) if designations else ""

        self.settings = settings
        self.schools = tuple(
            School(r["school_id"], _text(r, "name"), r["designation"], r["support_level"], _text(r, "essa_status"),
                   _text(r, "grades"), _text(r, "address"), r["plan_date"], r["last_updated"], r["board_approval"],
                   _source(t, r), identification(r["designation"]))
            for t, r in ((tables["Schools"], r) for r in tables["Schools"].rows))
        self.scope = dict(rule_scope or {})
        self.index = _BySchool(tables)
        self.calendar = _Calendar(tables, settings.planning_year)
        self.shared = _Shared()
        self.timeline = _Timeline([_task_series(t, r, self.calendar) for t, r in self.index.rows("Tasks", None)])

    def packet(self, school: School, plans: bool) -> Packet:
        """Return the school's packet, its plan modelled or not (PLAN_NOT_MODELLED)."""
        settings, index, calendar, shared = self.settings, self.index, self.calendar, self.shared
        sid = school.school_id
        people = tuple(shared.record(_person, t, r) for t, r in index.rows("People", sid, district_wide=True))
        meetings = tuple(sorted(
            (m for t, r in index.rows("Meetings", sid, district_wide=True)
             for m in shared.record(_meetings, t, r, calendar)),
            key=lambda m: m.date))
        tasks = self.timeline.merge([_task_series(t, r, calendar) for t, r in index.rows("Tasks", sid)])
        waived = tuple(sorted(rule for rule, concerned in self.scope.items()
                              if school.identification not in concerned))
        progress = tuple(GridProgress(_text(r, "month"), _text(r, "key_activity"), _text(r, "role"),
                                      r["status"] or "Not started", r["completed"], _text(r, "notes"), _source(t, r))
                         for t, r in index.rows("Grid Progress", sid))
        decisions = tuple(ReviewDecision(_text(r, "round"), r["decision"] or "", _text(r, "strengths"),
                                         _text(r, "revisions"), _source(t, r))
                          for t, r in index.rows("Review Decisions", sid))
        return Packet(school, settings.district_name, settings.planning_year, settings.as_of, people,
                      tasks, meetings, _plan(index, sid) if plans else PLAN_NOT_MODELLED,
                      review=_review(index, calendar, shared, sid, people),
                      state=settings.state, waived_rules=waived, time_zone=settings.time_zone,
                      grid_progress=progress, review_decisions=decisions)

