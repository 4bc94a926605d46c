"""The district as read and checked: the inputs loaded, normalized, validated and modelled, each error
with the school it belongs to; `packets validate`."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import groupby
from pathlib import Path
from typing import Callable

from generator.collector import collector_paused
from generator.findings import (
    ERROR,
    NOTE,
    WARNING,
    Finding,
    InputError,
    district_errors,
    errors,
    errors_by_school,
    summary,
)
from generator.inputs.cache import CACHE_FOLDER, Digests, SchoolRows
from generator.inputs.read import source_bytes
from generator.inputs.schema import PLAN_SHEETS, SHEETS, DesignationVocabulary, Sheet, with_designations
from generator.inputs.validate import owning_schools, plan_checks, unknown_school_rows, validate_tables
from generator.inputs.workbook import WorkbookRead, is_kept, read_apart, read_workbook_sheets
from generator.model.build import build_district, build_district_lazily
from generator.model.readiness import check_packet, is_ready
from generator.model.records import District, Packet, School
from generator.output import naming
from generator.output.processes import helper_process
from generator.render.template_data import StateProfile, Templates, designations, state_profile
from generator.settings import SETTINGS_FILE, Settings


@dataclass(frozen=True)
class SchoolCheck:
    """One school's readiness as `packets validate` finds it."""

    school_id: str
    name: str
    findings: tuple[Finding, ...]
    ready: bool
    input_errors: tuple[Finding, ...] = ()     # its own rows' errors: its packet would not be built


@dataclass(frozen=True)
class ValidationReport:
    """What `packets validate` found: the inputs' findings, then each school's readiness."""

    input_findings: tuple[Finding, ...]
    schools: tuple[SchoolCheck, ...]

    @property
    def findings(self) -> list[Finding]:
        """Every finding: the inputs', then school by school."""
        return [*self.input_findings, *(f for school in self.schools for f in school.findings)]

    @property
    def reported(self) -> list[Finding]:
        """The findings validation.xlsx lists: all but the notes."""
        return [f for f in self.findings if f.severity != NOTE]

    @property
    def all_ready(self) -> bool:
        return all(school.ready for school in self.schools) and not errors(self.input_findings)

    @property
    def summary(self) -> str:
        ready = sum(school.ready for school in self.schools)
        return summary(self.findings) + f"; {ready} of {len(self.schools)} school(s) ready"


@dataclass(frozen=True)
class LoadedDistrict:
    """The district as read: every school on the roster, a packet for each school asked for whose own rows
    have no errors, and the schools whose rows have errors (School ID -> those errors)."""

    district: District
    findings: list[Finding]             # every finding, the blocked schools' errors among them
    blocked: dict[str, list[Finding]]
    unkept: tuple[WorkbookRead, ...] = ()       # the workbooks read from their files, for keep_workbooks
    kept_digests: Digests = field(default_factory=dict)     # the group_digests of those taken from the cache
    # Read without plans: no packet modelled (district.packets is empty; every school not blocked has one),
    # a function modelling a school's packet without its plan (model), one giving it its plan (with_plan),
    # and where a school's plan rows are read from when goals.xlsx was left in its store (cache.SchoolRows).
    with_plan: Callable[[Packet], Packet] | None = None
    plan_rows: SchoolRows | None = None
    model: Callable[[School], Packet] | None = None


@dataclass(frozen=True)
class _Tables:
    """The validated tables with what reading them took: the designations' vocabulary and the state."""

    tables: dict
    findings: list[Finding]
    vocabulary: DesignationVocabulary
    profile: StateProfile
    books: tuple[WorkbookRead, ...] = ()


# Inputs at least this large are read two workbooks at once (see _read_sheets). Below it, starting the
# second process costs about what it saves.
PARALLEL_READ_BYTES = 8_000_000


def _read_sheets(folder: Path, specs: list[Sheet], jobs: int, cache: Path | None, apart: bool = False,
                 scratch: Path | None = None) -> list[WorkbookRead]:
    """Return each workbook's sheets read and normalized (or as kept in `cache`), in the schema's order.

    With jobs > 1 and large workbooks to read, the largest is read here while one other process reads the
    others: reading is the main process's longest step before any packet can be built, with the other
    core idle (at 5,000 schools, goals.xlsx takes 4.6 s, roster and timeline 1.5 s; handing their tables
    back costs about 0.5 s). Workbooks kept in the cache are loaded here: handing them back would cost
    what loading them does. What is found, and in what order, is the same either way. The reader is a
    fresh interpreter importing only the readers (spawned, not forked from the packet workers' fork
    server, which holds the renderers), so it neither starts that server for a build that needs none nor
    carries the renderers' memory.

    With `apart`, the plan sheets' workbook is loaded apart when kept (read_workbook_sheets), and, when read
    with a `scratch` folder, read by the other process, whatever the others' size, and kept there for the
    run (read_apart): this process then never holds the plans."""
    books = [tuple(group) for _, group in groupby(specs, key=lambda spec: spec.workbook)]
    plans = [i for i, book in enumerate(books) if apart and all(spec.name in PLAN_SHEETS for spec in book)]

    def read(book: tuple[Sheet, ...]) -> WorkbookRead:
        return read_workbook_sheets(folder, book, cache, books.index(book) in plans)

    unread = {i: source_bytes(folder, book) for i, book in enumerate(books) if not is_kept(folder, book, cache)}
    if unread and len(unread) < len(books):
        # Some kept, some changed (a rebuild): the changed ones are read in a thread while the kept ones load
        # here. Inflating and parsing a workbook is compiled code that lets go of the GIL (calamine).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reading") as reading:
            changed = {i: reading.submit(read, books[i]) for i in unread}
            done = {i: read(book) for i, book in enumerate(books) if i not in unread}
            done.update((i, future.result()) for i, future in changed.items())
        return [done[i] for i in range(len(books))]
    if jobs < 2 or len(unread) < 2 or sum(unread.values()) < PARALLEL_READ_BYTES:
        return [read(book) for book in books]
    work: list[tuple[Callable[..., WorkbookRead], tuple]]
    if scratch is not None and plans and plans[0] in unread:
        # A first build: the plans' workbook is read, and kept for the run, by the other process alone.
        elsewhere = plans[:1]
        work = [(read_apart, (folder, books[plans[0]], scratch))]
    else:
        largest = max(unread, key=lambda i: unread[i])
        elsewhere = [i for i in unread if i != largest]
        work = [(read_workbook_sheets, (folder, books[i], cache)) for i in elsewhere]
    with helper_process(multiprocessing.get_context("spawn")) as helper:
        mine, theirs = helper.beside(work, lambda: {i: read(b) for i, b in enumerate(books) if i not in elsewhere})
    done = {**mine, **dict(zip(elsewhere, theirs))}
    return [done[i] for i in range(len(books))]


def _read_tables(settings: Settings, cache: Path | None = None, apart: bool = False,
                 scratch: Path | None = None) -> _Tables:
    """Return the validated tables and every finding, each with the school it belongs to. With a cache
    folder, a workbook unchanged since it was kept there is not read again (inputs/cache.py); with `apart`
    too, the plan sheets' workbook is then loaded without its rows (read_workbook_sheets), its checks as
    kept, while every school it names is on the roster."""
    templates = Templates(settings.templates)
    vocabulary = designations(templates)
    profile = state_profile(templates, settings.state, f"{Path(settings.inputs) / SETTINGS_FILE}: [district] state")
    books = _read_sheets(Path(settings.inputs), [with_designations(spec, vocabulary) for spec in SHEETS],
                         settings.jobs, cache, apart, scratch)
    schools = next((book.tables["Schools"] for book in books if "Schools" in book.tables), None)
    roster = {row["school_id"] for row in schools.rows} if schools is not None else set()
    # A school the roster lacks is reported at the rows naming it, so those must be loaded.
    books = [read_workbook_sheets(Path(settings.inputs), book.specs, cache)
             if book.school_rows and not {school for _, school in book.digests or ()} <= roster | {None} else book
             for book in books]
    tables = {name: table for book in books for name, table in book.tables.items()}
    findings = [f for book in books for f in book.loading]
    if not settings.state:
        findings.append(unset_state(profile))
    findings += [f for book in books for f in book.normalizing]
    books, checked = _plan_checked(books, tables)
    findings += validate_tables(tables, settings.planning_year, checked)
    unknown = [sid for sid in settings.schools
               if "Schools" in tables and sid not in {r["school_id"] for r in tables["Schools"].rows}]
    for sid in unknown:
        findings.append(Finding(ERROR, f"No school with ID '{sid}' is on the roster.", file="roster.xlsx",
                                sheet="Schools", value=sid,
                                fix="Check the --school value against the School ID column."))
    return _Tables(tables, owning_schools(tables, findings), vocabulary, profile, tuple(books))


def _plan_checked(books: list[WorkbookRead], tables: dict) -> tuple[list[WorkbookRead], list[Finding]]:
    """Return the books, the plan sheets' workbook read from its file given its checks to keep (as if
    every school it names were on the roster: kept, they are used only while that is so), and the plan
    sheets' checks for this run: as kept with a workbook loaded apart, or made now."""
    apart = [book for book in books if book.school_rows is not None]
    if apart:
        return books, [f for book in apart for f in book.checked or ()]
    unknown = unknown_school_rows(tables)
    checked = plan_checks(tables, unknown)
    alone = checked if not any(sheet in PLAN_SHEETS for sheet, _ in unknown) else plan_checks(tables, set())
    return [replace(book, checked=alone) if book.digests is None and set(book.tables) & PLAN_SHEETS else book
            for book in books], checked


@collector_paused()          # millions of objects, no cycles: see collector.py
def read_district(settings: Settings, only: tuple[str, ...] | None = None, cache: Path | None = None,
                  plans: bool = True, scratch: Path | None = None) -> LoadedDistrict:
    """Return the district with a packet for each school of `only` (default: settings.schools, else every
    school) whose own rows have no errors, its unchanged workbooks taken from `cache` if given; without
    `plans`, no packet modelled until asked for, every school's (`model`, without its plan; with_plan gives
    its plan), a first build's plan sheets read and kept for its run in `scratch`, if given, by another
    process. Raise
    InputError listing every finding when an error belongs to the district (a setting, the roster's
    Schools sheet, a missing sheet or column, a file that cannot be read, a district-wide row), for then
    no school can be built."""
    read = _read_tables(settings, cache, apart=not plans, scratch=scratch)
    if district_errors(read.findings):
        raise InputError(read.findings)
    blocked = errors_by_school(read.findings)
    with_plan, plan_rows, model = None, None, None
    if plans:
        district = build_district(read.tables, settings, read.vocabulary, read.profile.rules, only, skip=blocked)
    else:
        plan_rows = next((book.school_rows for book in read.books if book.school_rows), None)
        district, model, with_plan = build_district_lazily(read.tables, settings, read.vocabulary,
                                                           read.profile.rules, plan_rows)
    if cache is None:           # nothing to keep, and no digests to tell unchanged schools by
        return LoadedDistrict(district, read.findings, blocked, with_plan=with_plan, model=model)
    return LoadedDistrict(district, read.findings, blocked, tuple(b for b in read.books if b.digests is None),
                          {group: d for b in read.books if b.digests for group, d in b.digests.items()}, with_plan,
                          plan_rows, model)


@collector_paused()
def load_district(settings: Settings) -> tuple[District, list[Finding]]:
    """Return the district model and the non-blocking findings; raise InputError listing every finding
    when there is any error, a school's or the district's (`packets send` sends only from whole inputs)."""
    read = _read_tables(settings)
    if errors(read.findings):
        raise InputError(read.findings)
    return build_district(read.tables, settings, read.vocabulary, read.profile.rules), read.findings


def unset_state(profile: StateProfile) -> Finding:
    """Return the warning for a settings.toml that names no state: the default state's forms are used."""
    return Finding(WARNING, f"[district] state is not set, so the packets are {profile.name}'s: its forms, "
                            f"wording and submission route ({profile.agency}).", file=SETTINGS_FILE,
                   fix='Add state = "IL" (Illinois) or state = "CA" (California) under [district] in settings.toml.')


def validate(settings: Settings) -> ValidationReport:
    """Return the inputs' findings and every school's readiness; nothing is written. A school whose own
    rows have errors is listed with them, not judged. Raise InputError listing every finding when an
    error keeps the district from being read. Workbooks unchanged since a build kept them are taken from
    its cache, which is only read: validating writes nothing."""
    loaded = replace(read_district(settings, cache=Path(settings.output) / CACHE_FOLDER), unkept=())
    district = loaded.district
    packets = {p.school.school_id: p for p in district.packets}
    checks = []
    for school in district.schools:
        sid = school.school_id
        if sid in loaded.blocked:
            checks.append(SchoolCheck(sid, school.name, (), False, tuple(loaded.blocked[sid])))
        elif sid in packets:
            found = tuple(check_packet(packets[sid]))
            checks.append(SchoolCheck(sid, school.name, found, is_ready(found, settings.strict)))
    return ValidationReport(tuple(loaded.findings), tuple(checks))


def of_run(settings: Settings, school_id: str) -> bool:
    """True for a school this run builds: every school, or those --school names."""
    return not settings.schools or school_id in settings.schools


def folder_clashes(settings: Settings, district: District) -> list[Finding]:
    """Return an error for each school whose packet folder name another school already has: IDs that
    differ only in characters a file name cannot hold ('01/01' and '01-01') would share a folder."""
    seen: dict[str, School] = {}
    findings = []
    for school in district.schools:          # every school on the roster, not only those being built
        name = naming.packet_folder(settings, school).name.casefold()
        other = seen.setdefault(name, school)
        if other is not school:
            findings.append(Finding(
                ERROR, f"School IDs '{other.school_id}' and '{school.school_id}' would share "
                       f"the packet folder '{name}'.", **(school.source.at("school_id") if school.source else {}),
                value=school.school_id, school_id=school.school_id,
                fix="Give each school an ID that differs in letters or digits, not only in punctuation."))
    return findings
