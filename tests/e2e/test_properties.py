"""Property tests: arbitrary text, numbers, dates and blanks in any cell of a small district never crash
the pipeline and never leave a half-written output.

Each example starts from a minimal valid district written here with the exact headers of
generator.schema (two schools, their people, a few timeline rows, one row of every goals sheet),
then overwrites a few hypothesis-chosen cells (any sheet, any column, any data row, sometimes the
header row) with generated values; some sheets are written as `<workbook>_<sheet>.csv` instead,
which is the only way control characters can reach the pipeline (openpyxl refuses to write them).

Bugs these properties found are kept as regression tests at the end of the file.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import re
import signal
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import icalendar
import openpyxl
import pytest
from click.testing import CliRunner
from docx import Document
from hypothesis import HealthCheck, event, example, given, reject
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from generator.cli import main
from generator.findings import ERROR, InputError, PacketsError
from generator.inputs.normalize import DATE_YEARS, clean_text, format_time, is_blank, parse_date, parse_number
from generator.inputs.schema import (
    ACTIVITIES,
    DESIGNATIONS,
    GOAL_TYPES,
    ROLES,
    SCHOOLS,
    SHEETS,
    STAGES,
    SUPPORT_CATEGORIES,
    Sheet,
)
from generator.model.records import School
from generator.output.naming import MAX_NAME, document_name, packet_folder, safe_name, slugify
from generator.pipeline import build
from generator.render import FORMS
from generator.render.template_data import Templates, designations, state_profile
from generator.settings import PlanningYear, Settings, load_settings

from conftest import AS_OF

AS_OF_DATE = dt.date.fromisoformat(AS_OF)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
SETTINGS_TOML = '[district]\nname = "Property Test District"\nplanning_year = "2026-27"\n'
# PROPERTY_SCALE=20 runs twenty times the examples, for a longer hunt than the suite's.
SCALE = float(os.environ.get("PROPERTY_SCALE", "1"))
BUILD_TIME_LIMIT = 60          # seconds; one small build takes well under one
SPEC = {spec.name: spec for spec in SHEETS}

# --- the minimal valid district ----------------------------------------------------------------

D = dt.date
BASE: dict[str, list[dict[str, Any]]] = {
    "Schools": [
        {"school_id": "0101", "name": "Alpha Elementary School", "designation": "Comprehensive",
         "support_level": 2, "essa_status": "CSI", "grades": "K-5", "address": "1 Main St",
         "plan_date": D(2027, 5, 15)},
        {"school_id": "0102", "name": "Beta Middle School", "designation": "Targeted", "support_level": 1,
         "grades": "6-8"},
    ],
    "People": [
        {"school_id": "0101", "name": "Pat Lee", "role": "Principal", "title": "Principal",
         "email": "plee@example.org", "phone": "(309) 555-0142"},
        {"school_id": "0102", "name": "Kim Park", "role": "Principal", "email": "kpark@example.org"},
        {"school_id": None, "name": "Sam Ortiz", "role": "Superintendent", "email": "sortiz@example.org"},
    ],
    "Tasks": [
        {"stage": STAGES[0], "task": "Introductory Session with Superintendent", "responsibility": "Superintendent",
         "expected": D(2026, 9, 15), "completed": D(2026, 9, 14)},
        {"stage": STAGES[1], "task": "Complete the DF", "detail": "Draft focus areas", "responsibility": "DLT",
         "expected": D(2026, 12, 1)},
        {"stage": STAGES[1], "task": "Complete the DF", "detail": "Draft focus areas", "school_id": "0102",
         "responsibility": "Beta BLT", "expected": D(2026, 12, 5), "notes": "Own row for Beta"},
    ],
    "Stages": [
        {"stage": STAGES[0], "starts": D(2026, 8, 1)},
        {"stage": STAGES[1], "starts": D(2026, 9, 1)},
    ],
    "Meetings": [
        {"meeting": "Leadership Team Meeting", "date": D(2026, 9, 16), "time": "3:30 PM", "location": "Library"},
    ],
    "Review": [
        {"step": "First Draft", "title": "First draft due", "reviewer": "Principal", "due": D(2027, 4, 23)},
        {"step": "Check-in", "reviewer": "Superintendent", "due": D(2026, 9, 15), "repeats": "monthly",
         "until": D(2026, 12, 15), "skip": "2026-10-15"},
    ],
    "Holidays": [
        {"name": "Thanksgiving break", "date": D(2026, 11, 26), "through": D(2026, 11, 27)},
    ],
    "Grid Progress": [
        {"school_id": "0101", "month": "January", "key_activity": "Submit the IQFSR", "role": "ISBE",
         "status": "In progress", "completed": None, "notes": "Drafted"},
    ],
    "Review Decisions": [
        {"school_id": "0101", "round": "Feedback round 1", "decision": "Approve with revisions",
         "strengths": "Clear goals", "revisions": "Tie S1 to P1"},
    ],
    "Problems": [
        {"school_id": "0101", "problem_id": "P1", "text": "Students do not read fluently.",
         "root_cause": "No daily fluency practice."},
    ],
    "Goals": [
        {"school_id": "0101", "goal_id": "G1", "goal_type": "Academic", "statement": "Raise ELA from 24% to 32%.",
         "measure": "IAR ELA", "baseline": "24%", "target": "32%", "target_date": D(2027, 5, 31)},
    ],
    "Benchmarks": [
        {"school_id": "0101", "goal_id": "G1", "term": "Short-term", "benchmark": "Winter MAP", "initial": "31%",
         "expected": "38%", "date": D(2027, 1, 31)},
    ],
    "Strategies": [
        {"school_id": "0101", "strategy_id": "S1", "text": "Daily fluency instruction", "evidence": "WWC",
         "problem_id": "P1", "goal_id": "G1"},
    ],
    "Activities": [
        {"school_id": "0101", "strategy_id": "S1", "activity": "Train teachers", "start": D(2026, 9, 1),
         "end": D(2026, 10, 30), "milestone": "All trained", "funding": "Title I", "owner": "Pat Lee"},
    ],
    "Monitoring": [
        {"school_id": "0101", "goal_id": "G1", "evidence": "MAP growth reports", "frequency": "Three times a year",
         "responsible": "Leadership team"},
    ],
    "Supports": [
        {"school_id": "0101", "category": "Professional Learning", "description": "Coaching cycles",
         "who": "Coach", "when": "Monthly"},
    ],
}


def base_grid(spec: Sheet) -> list[list[Any]]:
    """Return a sheet of the minimal district as rows of cells: the header row, then the data rows."""
    return [[c.name for c in spec.columns]] + [[row.get(c.key) for c in spec.columns] for row in BASE[spec.name]]


# --- cell values --------------------------------------------------------------------------------

SPECIAL_TEXT = [
    "& < > \" '", "Lincoln & Douglas <Academy>", "{{ x }}", "{{ school.name }}", "{% for x in y %}",
    "{%tr for row in rows %}", "{% endfor %}", "{#", "}}", "=SUM(A1)", "=1+1", "+1", "-1", "@x", "=", "\x00",
    "\x01\x08\x0b\x0c\x1f", "\x7f", "\ufffe", "\u00a0", "\u00a0x\u00a0", "\u2007\u202f", "\t", "\r", "\r\n", "\n",
    " lead", "trail ", "a\nb", " a \n\n b ", "😀", "𝔘𝔫𝔦", "José Martí", "日本語", "\u200b", "\u202e", "CON",
    "../..", "a/b\\c", "..", ".", "-", "0101", "0102", "0101 ", "0101.", "0101?", "01/01", "Pat Lee", "P1", "G1",
    "S1", "2026-11-15", "11/15/2026", "31/02/2026", "Nov 15, 2026", "0001-01-01", "9999-12-31", "1900-01-01",
    "20000", "99999", "45000.5", "3:30 PM", "15:30", "1", "2", "3", "4", "1.0", "nan", "inf", "-inf", "1e400",
    "True", "None", "N/A", "#VALUE!", "#REF!",
]
CHOICE_TEXT = [*DESIGNATIONS, *ROLES, *STAGES, *GOAL_TYPES, *SUPPORT_CATEGORIES, "Short-term", "Long-term",
               "stage 1", "supt", "intensive ", "ACADEMIC", "co-chair"]
HEADER_TEXT = sorted({t for spec in SHEETS for c in spec.columns for t in (c.name, c.key, *c.synonyms)})

plain_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=25)
texts = st.one_of(
    plain_text,
    st.sampled_from(SPECIAL_TEXT),
    st.sampled_from(CHOICE_TEXT),
    st.lists(st.one_of(plain_text, st.sampled_from(SPECIAL_TEXT)), min_size=2, max_size=4).map("".join),
    st.builds(lambda s, n: (s or "x") * n, st.sampled_from(["x", "é ", "😀", "&<", " \n", "ab "]),
              st.integers(100, 3000)),
)
numbers = st.one_of(
    st.integers(-(10 ** 20), 10 ** 20),
    st.sampled_from([0, 1, 2, 3, 4, -1, 20000, 45000, 80000, 80001, 2 ** 53]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1),                          # Excel times are day fractions
    st.floats(20000, 80000),                  # Excel date serials
)
dates = st.one_of(
    st.dates(D(2020, 1, 1), D(2035, 12, 31)),            # plausible plan dates
    st.dates(D(1900, 1, 1), D(9999, 12, 31)),
    st.sampled_from([D(1900, 1, 1), D(1900, 2, 28), D(1900, 3, 1), D(2100, 12, 31), D(2101, 1, 1),
                     D(9999, 12, 31), D(2026, 7, 1), D(2026, 6, 30), D(2027, 6, 30), D(2026, 11, 23)]),
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59)),
    st.times(),
)
cell_values = st.one_of(st.none(), st.booleans(), numbers, dates, texts, texts, texts)


def near(value: Any) -> st.SearchStrategy:
    """Values close to an existing one: the same, another case, or with one character added."""
    text = "" if value is None else str(value)
    return st.one_of(
        st.just(value),
        st.sampled_from([text.upper(), text.lower(), text.title()]),
        st.tuples(st.sampled_from([" ", ".", "?", "/", "-", "*", ":", "\u00a0", "_", "#"]), st.booleans())
          .map(lambda p: text + p[0] if p[1] else p[0] + text),
    )


COPY = -1             # an Edit whose col is COPY copies data row `value` into its row


@dataclass(frozen=True)
class Edit:
    sheet: str
    row: int          # 0 is the header row; len(BASE[sheet]) + 1 is a new row below the data
    col: int          # 0-based; len(columns) is a column beyond the schema's; COPY copies a whole row
    value: Any

    def __repr__(self) -> str:
        return f"Edit({self.sheet!r}, row={self.row}, col={self.col}, value={self.value!r})"


TEXT_COLUMNS = {spec.name: [i for i, c in enumerate(spec.columns) if c.kind in ("text", "email")] for spec in SHEETS}


@st.composite
def edits(draw) -> list[Edit]:
    """A few cell edits: mostly free text in text columns (which should still build), the rest any value
    in any column, a header cell, or a data row copied below the data (duplicates, overrides)."""
    out = []
    for _ in range(draw(st.integers(0, 5))):
        spec = draw(st.sampled_from(SHEETS))
        grid = base_grid(spec)
        kind = draw(st.sampled_from(["text"] * 9 + ["any"] * 8 + ["header", "copy"]))
        if kind == "text" and not TEXT_COLUMNS[spec.name]:
            kind = "any"
        if kind == "copy":
            out.append(Edit(spec.name, len(grid), COPY, draw(st.integers(1, len(grid) - 1))))
            continue
        if kind == "header":
            row = 0
        elif draw(st.integers(0, 9)) == 0:
            row = len(grid)                     # a new row below the data: mostly blanks, so mostly errors
        else:
            row = draw(st.integers(1, len(grid) - 1))
        col = draw(st.sampled_from(TEXT_COLUMNS[spec.name]) if kind == "text"
                   else st.integers(0, len(spec.columns)))
        column_values = [r[col] for r in grid[1:]] if col < len(spec.columns) else []
        if kind == "header":
            value = draw(st.one_of(st.sampled_from(HEADER_TEXT), cell_values))
        elif column_values:
            value = draw(st.one_of(texts if kind == "text" else cell_values,
                                   st.sampled_from(column_values).flatmap(near)))
        else:
            value = draw(cell_values)
        out.append(Edit(spec.name, row, col, value))
    return out


@dataclass(frozen=True)
class Case:
    """One generated district: the edits, the sheets kept as CSV, and how formula-like text is stored."""

    edits: tuple[Edit, ...]
    csv_sheets: frozenset[str]
    formulas_as_text: bool


cases = st.builds(Case, edits().map(tuple),
                  st.frozensets(st.sampled_from([s.name for s in SHEETS]), max_size=2),
                  st.booleans())


# --- writing and reading districts --------------------------------------------------------------

def grids_for(case: Case) -> dict[str, list[list[Any]]]:
    grids = {spec.name: base_grid(spec) for spec in SHEETS}
    for e in case.edits:
        grid = grids[e.sheet]
        while len(grid) <= e.row:
            grid.append([])
        if e.col == COPY:
            grid[e.row] = list(grid[e.value])
            continue
        cells = grid[e.row]
        cells.extend([None] * (e.col + 1 - len(cells)))
        cells[e.col] = e.value
    return grids


def _xlsx_value(cell, value: Any, formulas_as_text: bool) -> None:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)     # harness limit: openpyxl cannot write these
    cell.value = value
    if isinstance(value, str) and value.startswith("=") and formulas_as_text:
        cell.data_type = "s"                            # typed text, not a formula


def _csv_text(value: Any) -> str:
    return "" if value is None else str(value)


def write_district(folder: Path, case: Case) -> dict[str, list[list[Any]]]:
    """Write the case's district into folder; return the grids written. Rejects what the harness cannot write."""
    folder.mkdir(parents=True)
    (folder / "settings.toml").write_text(SETTINGS_TOML, encoding="utf-8")
    grids = grids_for(case)
    try:
        for workbook in ("roster", "timeline", "goals"):
            specs = [s for s in SHEETS if s.workbook == workbook]
            in_book = [s for s in specs if s.name not in case.csv_sheets]
            for spec in specs:
                if spec.name in case.csv_sheets:
                    with open(folder / spec.csv_name, "w", newline="", encoding="utf-8") as handle:
                        csv.writer(handle).writerows([[_csv_text(v) for v in row] for row in grids[spec.name]])
            if not in_book:
                continue
            wb = openpyxl.Workbook()
            wb.remove(wb.active)
            for spec in in_book:
                ws = wb.create_sheet(spec.name)
                for r, row in enumerate(grids[spec.name], start=1):
                    for c, value in enumerate(row, start=1):
                        if value is not None:
                            _xlsx_value(ws.cell(row=r, column=c), value, case.formulas_as_text)
            wb.save(folder / f"{workbook}.xlsx")
    except (ValueError, TypeError, OverflowError, UnicodeError, csv.Error):
        reject()        # a value openpyxl or csv cannot store: a limit of the harness, not of the product
    return grids


def read_back(folder: Path, sheet: str) -> list[list[Any]]:
    """Return a sheet's cells as stored on disk (what the loader gets), independently of generator.load."""
    spec = SPEC[sheet]
    path = folder / spec.csv_name
    if path.exists():
        with open(path, newline="", encoding="utf-8") as handle:
            return [list(r) for r in csv.reader(handle)]
    wb = openpyxl.load_workbook(folder / f"{spec.workbook}.xlsx", data_only=True)
    return [list(r) for r in wb[sheet].iter_rows(values_only=True)]


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Return every file (bytes) and folder (None) under folder, by relative path."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")}


def seed_output(out: Path) -> None:
    """An output folder from an earlier run: a file of the user's and an old packet document."""
    (out / "0101-alpha-elementary-school").mkdir(parents=True)
    (out / "keep-me.txt").write_bytes(b"not the pipeline's\n")
    (out / "0101-alpha-elementary-school" / "0101-schedule.docx").write_bytes(b"an older schedule")


class TookTooLong(AssertionError):
    pass


@contextlib.contextmanager
def time_limit(seconds: int):
    """Fail an example whose run takes longer than seconds (a hang is a bug, not a slow test)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise TookTooLong(f"the run took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def docx_text(path: Path) -> str:
    """Return every paragraph of a Word document: body, table cells, headers and footers."""
    doc = Document(path)
    parts = [p.text for p in doc.paragraphs]
    parts += [p.text for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs]
    for section in doc.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def check_docx(path: Path) -> None:
    doc = Document(path)
    for tc in doc.element.body.iter(f"{W}tc"):
        assert tc.findall(f"{W}p"), f"{path.name}: a table cell has no paragraph"


def check_xlsx(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                # The templates hold no formulas, so any formula came from spreadsheet text.
                assert cell.data_type != "f", f"{path.name} {ws.title}!{cell.coordinate} is a formula: {cell.value!r}"


def check_findings(findings) -> None:
    for f in findings:
        assert isinstance(f.message, str) and f.message.strip(), f
        assert isinstance(f.file, str) and f.file.strip(), f"finding without a file: {f}"
        assert isinstance(f.line(), str)


# --- property 1: the library ----------------------------------------------------------------------

PROPERTY_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def school_forms(settings, designation: str) -> list:
    """Return the forms a school of this designation gets: its state's profile's, for its identification."""
    templates = Templates(settings.templates)
    identification = designations(templates).identification(designation)
    return [f for f in FORMS if state_profile(templates, settings.state).holds(f.key, identification)]


@pytest.mark.slow
@hsettings(max_examples=int(40 * SCALE), **PROPERTY_SETTINGS)
@given(case=cases)
@example(case=Case((), frozenset(), True))                                  # the minimal district itself
@example(case=Case((Edit("Schools", 1, 1, "Lincoln & Douglas <{{ x }}> =SUM(A1) \U0001F600"),), frozenset(), True))
@example(case=Case((Edit("Schools", 2, 1, " Beta\x01\x0b Middle\u00a0 School\r\n\tAnnex "),),
                   frozenset({"Schools"}), True))
@example(case=Case((Edit("Schools", 1, 1, "=HYPERLINK(\"http://x\")"), Edit("People", 1, 3, "+1 @x")),
                   frozenset(), True))
@example(case=Case((Edit("Tasks", 1, 5, "31/02/2026"),), frozenset(), True))           # an input error
@example(case=Case((Edit("Schools", 1, 2, None),), frozenset(), False))    # a blank designation: no ISBE grid
def test_build_either_builds_valid_documents_or_reports_problems(case):
    with tempfile.TemporaryDirectory() as tmp:
        inputs, out = Path(tmp) / "inputs", Path(tmp) / "output"
        write_district(inputs, case)
        seed_output(out)
        before = snapshot(out)
        settings = load_settings(inputs, out, AS_OF_DATE)
        try:
            with time_limit(BUILD_TIME_LIMIT):
                report = build(settings)
        except InputError as exc:
            event("InputError")
            assert exc.findings and any(f.severity == ERROR for f in exc.findings), exc.findings
            check_findings(exc.findings)
            assert snapshot(out) == before, "an input error changed the output folder"
            return
        except PacketsError as exc:
            event("PacketsError")
            assert str(exc).strip()
            assert snapshot(out) == before, "a failed build changed the output folder"
            return

        event("built" + (", a school left out" if report.blocked else ""))
        check_findings(report.input_findings)
        assert not report.failed, [r.error for r in report.failed]
        for r in report.blocked:            # its own rows' errors: nothing of its packet is written
            assert r.input_errors and all(f.school_id == r.school_id for f in r.input_errors)
            own = [p for p in before if p.startswith(f"{r.school_id}-")]
            assert {p: before[p] for p in own} == {p: v for p, v in snapshot(out).items() if p in own}
        leftovers = [p.name for p in out.rglob("*") if p.name.startswith((".tmp-", ".old-"))]
        assert not leftovers, leftovers
        assert (out / "keep-me.txt").read_bytes() == before["keep-me.txt"]
        check_xlsx(report.report)
        listed = {c for ws in openpyxl.load_workbook(report.report)
                  for row in ws.iter_rows(values_only=True) for c in row}
        assert {r.school_id for r in report.results} <= listed, "a school is missing from readiness.xlsx"
        folders = [r.folder for r in report.results if not r.blocked]
        assert len(set(folders)) == len(folders), f"two schools share a packet folder: {folders}"
        for r in (r for r in report.results if not r.blocked):
            assert r.folder.parent == out and r.folder.is_dir()
            # Every form its state gives a school of its identification (a school not identified for
            # support has no ISBE grid), and the school's calendar.
            assert len(r.documents) == len(school_forms(settings, r.designation)) + 1
            assert all(p.parent == r.folder and p.is_file() for p in r.documents)
            for path in r.documents:
                if path.suffix == ".docx":
                    check_docx(path)
                elif path.suffix == ".ics":
                    assert icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
                else:
                    check_xlsx(path)
            (schedule,) = [p for p in r.documents if p.name.endswith("schedule.docx")]
            assert r.school_name and r.school_name in docx_text(schedule)

        if not any(e.sheet == "Schools" and e.row == 0 for e in case.edits):
            # Every School Name cell as written, after clean_text's documented cleaning, is a school's name.
            rows = [row for row in read_back(inputs, "Schools")[1:] if not all(is_blank(v) for v in row)]
            written = sorted(clean_text(row[1]) for row in rows)
            assert written == sorted(r.school_name for r in report.results)


# --- property 2: the command line -----------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
@hsettings(max_examples=int(15 * SCALE), **PROPERTY_SETTINGS)
@given(case=cases)
@example(case=Case((Edit("Schools", 1, 0, None),), frozenset(), True))
def test_cli_exits_0_or_1_without_a_traceback(case):
    with tempfile.TemporaryDirectory() as tmp:
        inputs, out = Path(tmp) / "inputs", Path(tmp) / "output"
        write_district(inputs, case)
        seed_output(out)
        before = snapshot(out)
        runner = CliRunner()
        with time_limit(BUILD_TIME_LIMIT):
            checked = runner.invoke(main, ["validate", "--inputs", str(inputs), "--as-of", AS_OF])
            built = runner.invoke(main, ["build", "--inputs", str(inputs), "--output", str(out), "--as-of", AS_OF])
        event(f"validate exit {checked.exit_code}, build exit {built.exit_code}")
        for result in (checked, built):
            assert result.exception is None or isinstance(result.exception, SystemExit), \
                f"{type(result.exception).__name__}: {result.exception}\n{result.output}"
            assert result.exit_code in (0, 1), result.output
            assert "Traceback" not in result.output
        if "nothing was written" in built.output:
            assert built.exit_code == 1
            assert snapshot(out) == before
        if built.exit_code == 0:
            assert (out / "readiness.xlsx").is_file()


# --- property 3: cell parsing -----------------------------------------------------------------------

any_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(10 ** 400), 10 ** 400), st.floats(), dates,
    st.text(), texts, st.sampled_from(SPECIAL_TEXT), st.from_regex(r"\s*\d{1,5}[-/. ]\d{1,2}[-/. ]\d{1,5}\s*"),
    st.from_regex(r"\d{5}(\.\d+)?", fullmatch=True),
)


@hsettings(max_examples=int(300 * SCALE), deadline=None)
@given(value=any_scalar)
@example(value="0001-01-01")
@example(value="99999")
@example(value="٢٠٠٠٠")                      # Arabic-Indic digits: \d matches them, float() reads them
@example(value=float("nan"))
@example(value=float("inf"))
@example(value=True)
@example(value="31/02/2026")
def test_parse_date_returns_a_date_or_raises_value_error(value):
    try:
        parsed = parse_date(value)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(parsed, dt.date) and not isinstance(parsed, dt.datetime), repr(parsed)
        assert DATE_YEARS[0] <= parsed.year <= DATE_YEARS[1], parsed


@hsettings(max_examples=int(300 * SCALE), deadline=None)
@given(value=any_scalar)
@example(value=10 ** 400)                     # beyond float range: was an OverflowError
@example(value="1e400")
@example(value=20261115)                      # a date typed as a number
def test_parse_number_and_format_time_accept_any_cell(value):
    try:
        number = parse_number(value)
    except ValueError:
        pass
    else:
        assert isinstance(number, (int, float)) and not isinstance(number, bool)
    assert isinstance(format_time(value), str)


@hsettings(max_examples=int(400 * SCALE), deadline=None)
@given(value=any_scalar)
@example(value="a\r\x00\nb")
@example(value="\x01 \x01a\u00a0\u00a0b\t \n \n\u2003c ")
@example(value=" \r\n \r ")
def test_clean_text_is_xml_safe_trimmed_and_idempotent(value):
    text = clean_text(value)
    assert isinstance(text, str)
    assert not XML_ILLEGAL.search(text), repr(text)
    assert not re.search(r"[\x7f-\x9f\ufffe\uffff]", text)          # DEL, C1 controls, non-characters
    assert text == text.strip()
    assert "  " not in text and "\t" not in text and "\r" not in text and "\n\n" not in text
    assert clean_text(text) == text


# --- property 4: folder and file names ----------------------------------------------------------------

name_text = st.one_of(st.text(st.characters(exclude_categories=("Cs",)), max_size=120), texts,
                      st.sampled_from(["..", ".", "../..", "/", "\\", "CON", "con.docx", "LPT1", "  ", "a/../b"]))
FIELDS = ["{school_id}", "{slug}", "{form}", "{year}", "{district}"]
literal = st.one_of(st.sampled_from(["-", "/", "\\", "..", "../", "/..", ".", " ", "_", "C:", "~"]),
                    st.text(max_size=8).map(lambda t: t.replace("{", "{{").replace("}", "}}")))
patterns = st.lists(st.one_of(st.sampled_from(FIELDS), literal), min_size=1, max_size=5).map("".join)


def assert_one_safe_component(name: str) -> None:
    assert name and name not in (".", "..")
    assert not set(name) & set('/\\<>:"|?*'), name
    assert not re.search(r"[\x00-\x1f]", name), repr(name)
    assert not name.startswith((".", " ", "-")) and not name.endswith((".", " ")), repr(name)
    assert len(name) <= MAX_NAME + len(".docx")
    assert len(name.encode("utf-8")) <= 255, name                      # a file system's name limit
    assert name.upper().split(".")[0].strip() not in WINDOWS_RESERVED, name


@hsettings(max_examples=int(200 * SCALE), deadline=None)
@given(text=name_text)
def test_safe_name_is_one_portable_name(text):
    name = safe_name(text)
    assert_one_safe_component(name)
    assert len(name) <= MAX_NAME


@hsettings(max_examples=int(200 * SCALE), deadline=None)
@given(text=name_text)
def test_slugify_is_lower_case_ascii_words(text):
    slug = slugify(text)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), slug
    assert len(slug) <= MAX_NAME


@pytest.mark.slow
@hsettings(max_examples=int(200 * SCALE), deadline=None)
@given(school_id=name_text, name=name_text, district=name_text, folder=patterns, file=patterns,
       form=st.sampled_from(["schedule", "schedule-tracker", "isbe-grid", "isbe-grid-tracker", "plan"]))
@example(school_id="../..", name="../../etc", district="x", folder="{school_id}-{slug}", file="{school_id}-{form}",
         form="plan")
@example(school_id="..", name="x", district="x", folder="../{school_id}", file="{school_id}/../{form}", form="plan")
def test_packet_folder_stays_directly_inside_the_output_folder(school_id, name, district, folder, file, form):
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "output"
        settings = Settings(inputs=Path(tmp), output=output, district_name=district or "District",
                            planning_year=PlanningYear(2026), as_of=AS_OF_DATE, folder_pattern=folder,
                            file_pattern=file)
        school = School(school_id, name, "Comprehensive")
        where = packet_folder(settings, school)
        assert where.parent == output
        assert where.resolve().parent == output.resolve()
        assert_one_safe_component(where.name)
        document = document_name(settings, school, form, ".docx")
        assert_one_safe_component(document)
        assert document.endswith(".docx") and Path(document).name == document
        assert (where / document).resolve().parent == where.resolve()


# --- bugs found by these properties, kept as regression tests -------------------------------------

def _district_with(tmp_path: Path, *edits: Edit, csv_sheets=frozenset()) -> Settings:
    inputs = tmp_path / "inputs"
    write_district(inputs, Case(tuple(edits), frozenset(csv_sheets), True))
    return load_settings(inputs, tmp_path / "output", AS_OF_DATE)


ACT_START = ACTIVITIES.columns.index(ACTIVITIES.column("start"))
ACT_END = ACTIVITIES.columns.index(ACTIVITIES.column("end"))


def _blocked_alone(report, school_id: str) -> list:
    """The school's input errors, once the build left it out (and built the others)."""
    assert [r.school_id for r in report.blocked] == [school_id]
    assert all(r.documents for r in report.results if not r.blocked), "the other schools were built"
    return [f for f in report.input_findings if f.school_id == school_id and f.severity == ERROR]


def test_activity_starting_in_year_1_is_reported_not_a_traceback(tmp_path):
    """Found while writing the properties: year 1 reached the chart and raised ValueError; now an input error
    of that school's row, which leaves the school out."""
    settings = _district_with(tmp_path, Edit("Activities", 1, ACT_START, "0001-01-01"))
    found = _blocked_alone(build(settings), "0101")
    assert any("year 1 is not plausible" in f.message for f in found)


def test_activity_in_year_9999_is_reported_not_a_traceback(tmp_path):
    """Found while writing the properties: year 9999 made the chart build year 10000; now an input error."""
    settings = _district_with(tmp_path, Edit("Activities", 1, ACT_START, "9999-08-01"),
                              Edit("Activities", 1, ACT_END, "9999-09-01"))
    found = _blocked_alone(build(settings), "0101")
    assert any("year 9999 is not plausible" in f.message for f in found)


def test_a_far_activity_end_date_does_not_stall_the_timeline():
    """Found while writing the properties: the old chart drew a tick per month of its span, so an end date
    in 2126 took seconds. The timeline table has twelve months whatever the span; a far end is clipped."""
    from generator.model.records import Activity, Plan, Strategy
    from generator.render.context import timeline

    plan = Plan(strategies=(Strategy("S1", "x", activities=(Activity("S1", "a", D(2026, 9, 1), D(9999, 10, 1)),)),))
    started = time.perf_counter()
    months = timeline(plan, PlanningYear(2026), AS_OF_DATE)["strategies"][0]["activities"][0]["cells"]
    assert time.perf_counter() - started < 0.1
    assert [c["span"] for c in months] == [False, False] + [True] * 10


def test_a_huge_integer_cell_is_a_finding_not_a_traceback(tmp_path):
    """Found while writing the properties: parse_number raised OverflowError, which escaped build() as a traceback."""
    # openpyxl cannot write such a number, but a workbook from another tool can hold <v>100...0</v>;
    # openpyxl reads a number without '.' or 'E' as a Python int of any size.
    settings = _district_with(tmp_path, Edit("Schools", 1, SCHOOLS.columns.index(SCHOOLS.column("support_level")),
                                             987654))
    path = settings.inputs / "roster.xlsx"
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/") and b"987654" in parts[n])
    parts[sheet] = parts[sheet].replace(b"987654", b"1" + b"0" * 400)
    with zipfile.ZipFile(path, "w") as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    found = _blocked_alone(build(settings), "0101")       # Support Level 1e400 is not 1, 2 or 3
    assert any(f.header == "Support Level" for f in found)


def test_safe_name_never_returns_a_reserved_windows_name():
    """Found while writing the properties: the reserved-name check ran before truncation and stripping."""
    name = safe_name("con" + "-" * 77 + "x")
    assert name.upper().split(".")[0] not in WINDOWS_RESERVED, name


def test_schools_whose_ids_differ_only_in_punctuation_get_their_own_folders(tmp_path):
    """Found while writing the properties: the later school's packet silently replaced the earlier one's."""
    settings = _district_with(tmp_path, Edit("Schools", 3, COPY, 1), Edit("Schools", 3, 0, "0101?"))
    with pytest.raises(InputError) as caught:
        build(settings)
    assert any("would share the packet folder" in f.message for f in caught.value.findings)
    assert not settings.output.exists() or not any(settings.output.iterdir())


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
@hsettings(max_examples=int(8 * SCALE), **PROPERTY_SETTINGS)
@given(new_id=st.one_of(near("0101"), near("0101"), near("0101"), name_text))
@example(new_id="01/01")
@example(new_id="0101\u0301")
def test_a_second_school_of_the_same_name_gets_its_own_folder_or_an_input_error(new_id):
    """A copy of school 0101 (same name) under another ID: distinct folders, or an input error and no writes."""
    with tempfile.TemporaryDirectory() as tmp:
        inputs, out = Path(tmp) / "inputs", Path(tmp) / "output"
        write_district(inputs, Case((Edit("Schools", 3, COPY, 1), Edit("Schools", 3, 0, new_id)), frozenset(), True))
        seed_output(out)
        before = snapshot(out)
        try:
            report = build(load_settings(inputs, out, AS_OF_DATE))
        except InputError as exc:
            event("InputError")
            check_findings(exc.findings)
            assert snapshot(out) == before
            return
        event("built")
        assert not report.failed, [r.error for r in report.failed]
        folders = [r.folder.name.casefold() for r in report.results if not r.blocked]
        assert len(set(folders)) == len(folders), folders


def test_building_one_school_never_replaces_another_schools_packet(tmp_path):
    """Found while writing the properties: `build --school '0101?'` wrote into school 0101's folder. A roster whose
    IDs give one folder name is now refused before anything is written, whichever schools are built."""
    settings = _district_with(tmp_path, Edit("Schools", 3, COPY, 1), Edit("Schools", 3, 0, "0101?"))
    for selected in (("0101",), ("0101?",)):
        with pytest.raises(InputError) as caught:
            build(Settings(**{**settings.__dict__, "schools": selected}))
        assert any("would share the packet folder" in f.message for f in caught.value.findings)
    assert not settings.output.exists() or not any(settings.output.iterdir())


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_readiness_report_lists_every_problem_a_row_each_in_cells_a_person_can_read(tmp_path):
    """Found while writing the properties: openpyxl silently cut the Missing cell at Excel's 32,767-character
    limit, mid-line, with no sign that anything was left out. Now each problem is a row of the Findings
    sheet, and no cell holds more than a thousand characters (the whole text is in the inputs)."""
    column = {c.key: i for i, c in enumerate(ACTIVITIES.columns)}
    long_activity = "Train grade 3-5 teachers in repeated-reading routines. " * 180     # 9,900 characters
    settings = _district_with(tmp_path, Edit("Activities", 1, column["activity"], long_activity),
                              *(Edit("Activities", 1, column[key], None)
                                for key in ("start", "end", "milestone", "funding", "owner")))
    report = build(settings)
    (alpha,) = [r for r in report.results if r.school_id == "0101"]
    wb = openpyxl.load_workbook(report.report)
    longest = max((c for ws in wb for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)),
                  key=len)
    assert len(longest) <= 1000, longest[:200]
    rows = [r for r in wb["Findings"].iter_rows(min_row=5, values_only=True) if r[0] == "0101"]
    assert len(rows) == sum(f.severity in (ERROR, "warning") for f in alpha.findings) > 0


def test_safe_name_fits_in_255_bytes():
    """Found by the properties: 80 four-byte characters made a 320-byte name (test_safe_name_is_one_portable_name
    checks the limit for any text)."""
    assert len(safe_name("0" + "\U0001F5FE" * 70).encode("utf-8")) <= 255


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_a_school_id_of_long_non_ascii_text_still_gets_a_packet(tmp_path):
    """Found by the properties: 70 emoji in a School ID made a folder name over 255 bytes, and the packet
    failed with '[Errno 36] File name too long'."""
    settings = _district_with(tmp_path, Edit("Schools", 3, COPY, 2), Edit("Schools", 3, 0, "0" + "\U0001F5FE" * 70))
    report = build(settings)
    assert not report.failed, [r.error for r in report.failed]
