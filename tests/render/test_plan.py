"""The Plan for Improvement form, its timeline table, and the readiness check."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from docx import Document

from generator.model.records import Activity, Plan, Strategy
from generator.render import packet_contexts, render_document
from generator.render.chart import Picture
from generator.render.template_data import SHIPPED, state_profile
from generator.setup import docs

import factories
from conftest import AS_OF, SAMPLE, find_row, run_cli
from factories import packet, school, task, write_inputs


def sheet_rows(book, sheet, school_id):
    ws = openpyxl.load_workbook(SAMPLE / book)[sheet]
    head = [c.value for c in ws[1]]
    return [dict(zip(head, r)) for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == school_id]


@pytest.fixture(scope="module")
def plan_doc(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan") / "output"
    result = run_cli("build", "--inputs", str(SAMPLE), "--output", str(out), "--school", "0104", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    (folder,) = out.glob("0104-*")
    return Document(folder / "0104-plan.docx")


def doc_text(doc):
    """The document's words as read: a no-break space (which keeps a date in running text on one line)
    reads as a space."""
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
                     ).replace("\u00a0", " ")


def short(value):
    # The one date style of every form (generator/model/dates.py), narrow columns included.
    return f"{value:%B} {value.day}, {value.year}"


def test_each_activity_appears_with_its_dates_funding_and_owner(plan_doc):
    activity_rows = [tuple(c.text for c in r.cells) for t in plan_doc.tables if t.rows[0].cells[0].text == "Activity"
                     for r in t.rows[1:]]
    expected = sheet_rows("goals.xlsx", "Activities", "0104")
    assert len(activity_rows) == len(expected)
    for row in expected:
        assert (row["Activity"], short(row["Start Date"]), short(row["End Date"]), row["Milestone"],
                row["Funding Source"], row["Person Responsible"]) in activity_rows


def test_goals_strategies_benchmarks_and_sections_are_shown(plan_doc):
    text = doc_text(plan_doc)
    for goal in sheet_rows("goals.xlsx", "Goals", "0104"):
        for key in ("SMART Goal", "Measure", "Baseline", "Target", "Year 2 Target"):
            assert goal[key] in text
    for strategy in sheet_rows("goals.xlsx", "Strategies", "0104"):
        assert f"Strategy {strategy['Strategy ID']}: {strategy['High-Leverage Strategy']}" in text
        assert strategy["Evidence Base"] in text
    for benchmark in sheet_rows("goals.xlsx", "Benchmarks", "0104"):
        assert benchmark["Benchmark"] in text
    for support in sheet_rows("goals.xlsx", "Supports", "0104"):
        assert support["Description"] in text
    for heading in ("Problem(s) of Practice", "SMART Goals", "Benchmarks", "High-Leverage Strategies",
                    "Oversight Responsibilities", "Professional Learning Needs", "Local Assessments",
                    "Monitoring Plan", "Communication Plan", "Signatures"):
        assert heading in [p.text for p in plan_doc.paragraphs]
    # The sample district is Illinois's (settings.toml: state = "IL"): ISBE's route, no California wording.
    assert "Submitted to" in text and "ISBE, through IWAS" in text
    assert "CDE" not in text and "SELPA" not in text
    assert "Local board approval date: " in text


def test_a_long_goal_and_every_strategy_are_shown_whole():
    long_goal = "By May 2027 the share of grade 3-5 students reading at grade level rises from 24% to 32%. " * 17
    assert len(long_goal) >= 1500
    one = packet(strategies=3, goal_statement=long_goal)
    doc = Document(io.BytesIO(render_document(SHIPPED.path("plan.docx"), packet_contexts(one)["plan"])))
    text = doc_text(doc)
    assert long_goal.strip() in text
    for s in one.plan.strategies:
        assert f"Strategy {s.strategy_id}: {s.text}" in text
        assert all(a.activity in text for a in s.activities)


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
LONG = ("By May 2027 the share of grade 3-5 students reading at grade level rises from 24% to 32%. " * 17).strip()


def timeline_table(doc):
    (table,) = [t for t in doc.tables if t.rows[0].cells[0].text == "Strategy and activity"]
    return table


def row_has(row, tag):
    return row._tr.find(f"{W}trPr/{W}{tag}") is not None


def test_plan_has_a_timeline_table_not_a_picture(plan_doc):
    assert not plan_doc.element.body.xpath(".//a:blip")
    table = timeline_table(plan_doc)
    head = table.rows[0]
    assert [c.text for c in head.cells][1:] == "Jul Aug Sep Oct Nov Dec Jan Feb Mar Apr May Jun".split()
    tbl_header = head._tr.find(f"{W}trPr/{W}tblHeader")
    assert tbl_header is not None and tbl_header.get(f"{W}val") is None      # bare: the SDK refuses "true"
    names = {c.text for r in table.rows[1:] for c in r.cells[:1]}
    for activity in sheet_rows("goals.xlsx", "Activities", "0104"):
        assert any(n.startswith(activity["Activity"][:40]) for n in names)
    # The sample's activities run August 2027 to June 2028: those months' cells are shaded.
    fills = [[c._tc.find(f"{W}tcPr/{W}shd").get(f"{W}fill") for c in r.cells[1:]] for r in table.rows[1:]
             if len(r._tr.findall(f"{W}tc")) == 13]
    assert fills and all(any(f != "auto" for f in row) for row in fills)
    assert all(row[0] == "auto" for row in fills)                             # none starts in July
    assert "Shaded months" in "\n".join(p.text for p in plan_doc.paragraphs)    # the legend
    # Its narrow cell margins sit where CT_TblPr's sequence puts them (openxml-audit rejected tblLook first).
    order = [el.tag.split("}")[1] for el in table._tbl.tblPr]
    assert order[-3:] == ["tblLayout", "tblCellMar", "tblLook"]


def _context(one):
    return packet_contexts(one)["plan"]


def test_timeline_flags_each_month_a_milestone_and_today():
    plan = Plan(strategies=(Strategy("S1", "Tutoring", activities=(
        Activity("S1", "Train tutors", dt.date(2027, 8, 20), dt.date(2027, 10, 1)),
        Activity("S1", "Launch day", dt.date(2027, 9, 15), dt.date(2027, 9, 15)),
        Activity("S1", "Undated"),
        Activity("S1", "Into next year", dt.date(2028, 5, 1), dt.date(2029, 3, 1)))),))
    timeline = _context(packet(plan_=plan, as_of=dt.date(2027, 11, 2)))["timeline"]
    assert timeline["school_year"] == "2027-28" and timeline["today"] == "November 2027"
    assert [m["today"] for m in timeline["months"]].index(True) == 4
    train, launch, undated, later = timeline["strategies"][0]["activities"]
    assert [c["span"] for c in train["cells"]] == [False, True, True, True] + [False] * 8
    assert [c["milestone"] for c in launch["cells"]].index(True) == 2 and not any(c["span"] for c in launch["cells"])
    assert not any(c["span"] for c in undated["cells"]) and undated["dates"] == "No dates yet"
    assert [c["span"] for c in later["cells"]][-2:] == [True, True]         # clipped at June, dates kept
    assert later["dates"] == "May 1, 2028 to March 1, 2029"
    assert all(c["today"] == (i == 4) for i, c in enumerate(train["cells"]))


@pytest.fixture(scope="module")
def long_plan(tmp_path_factory):
    """A district of long plans: 39 strategies with 1,500-character names, a 1,500-character goal and
    baseline, and a school with no supports and no benchmarks."""
    long_strategies = [factories.strategy(f"S{i}", f"S{i} " + LONG, activities=2) for i in range(1, 40)]
    goals = [factories.goal("G1", LONG, baseline=LONG), factories.goal("G2", benchmarks=())]
    first = packet(school("0101"), strategies=long_strategies, goals=goals)
    bare = packet(school("0102"), goals=[factories.goal("G1", benchmarks=()), factories.goal("G2", benchmarks=())],
                  supports=())
    inputs = write_inputs(tmp_path_factory.mktemp("long") / "inputs", [first, bare])
    out = inputs.parent / "output"
    result = run_cli("build", "--inputs", str(inputs), "--output", str(out), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    return {sid: Document(next(out.glob(f"{sid}-*")) / f"{sid}-plan.docx") for sid in ("0101", "0102")}


def test_a_long_plan_keeps_every_activity_and_every_text_whole(long_plan):
    doc = long_plan["0101"]
    text = doc_text(doc)
    table = timeline_table(doc)
    assert len(table.columns) == 13
    titles = [r for r in table.rows[1:] if len(r._tr.findall(f"{W}tc")) == 1]
    activities = [r for r in table.rows[1:] if len(r._tr.findall(f"{W}tc")) == 13]
    assert len(titles) == 39 and len(activities) == 78
    for i in range(1, 40):
        assert f"S{i} {LONG}" in text                                         # the whole strategy name
    assert text.count(LONG) >= 39 + 2                                          # ... and the goal and baseline
    # A strategy's heading is a line; its full name follows in the body text's weight.
    headings = [p for p in doc.paragraphs if p.style.name == "Heading 2" and p.text.startswith("Strategy S")]
    assert len(headings) == 39 and all(len(p.text) < 110 and p.text.endswith("\u2026") for p in headings)
    full = [p for p in doc.paragraphs if p.text == f"S1 {LONG}"]
    assert full and full[0].style.name == "Normal" and not any(r.bold for r in full[0].runs)


def test_long_plan_pagination_rules(long_plan):
    doc = long_plan["0101"]
    table = timeline_table(doc)
    assert all(row_has(r, "cantSplit") for r in table.rows)                    # short rows stay whole
    for title in (r for r in table.rows[1:] if len(r._tr.findall(f"{W}tc")) == 1):
        assert title.cells[0].paragraphs[0].paragraph_format.keep_with_next     # a strategy title keeps with its rows
    for heading in (p for p in doc.paragraphs if p.style.name.startswith("Heading")):
        assert heading.paragraph_format.keep_with_next
    (goals,) = [t for t in doc.tables if t.rows[0].cells[0].text == "Goal" and t.rows[0].cells[1].text == "SMART Goal"]
    long_row, short_row = goals.rows[1], goals.rows[2]
    assert not row_has(long_row, "cantSplit") and row_has(short_row, "cantSplit")   # a long goal may split
    for t in doc.tables:
        header = t._tbl.find(f"{W}tr/{W}trPr/{W}tblHeader")
        assert t.rows[0].cells[0].text in ("School",) or header is not None        # every grid's header repeats
        if header is not None:                                                      # ... and keeps with its first row
            assert all(p.paragraph_format.keep_with_next for c in t.rows[0].cells for p in c.paragraphs)
    # The strategies begin a page: LibreOffice strands a heading chain that follows a table at the page foot.
    (section,) = [p for p in doc.paragraphs if p.text == "High-Leverage Strategies"]
    assert section.paragraph_format.page_break_before
    # The Baseline column gets the room; IDs are narrow and dates only as wide as one long date.
    widths = [c.width.inches for c in goals.rows[0].cells]
    assert widths[3] >= 1.5 > widths[5] and widths[0] <= 0.6 and widths[5] <= 1.3


def test_empty_sections_say_none_recorded(long_plan):
    doc = long_plan["0102"]
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs.count("None recorded.") >= 5         # benchmarks and the four support sections
    heads = [t.rows[0].cells[0].text for t in doc.tables]
    assert "Description" not in heads and ("Goal", "Term") not in [
        tuple(c.text for c in t.rows[0].cells[:2]) for t in doc.tables]


def test_benchmarks_show_the_expected_value_and_the_actual_once_known(tmp_path):
    known = factories.goal("G1", benchmarks=(factories.Benchmark("G1", "Short-term", "Winter MAP", "31%", "38%",
                                                                 dt.date(2027, 1, 31), "36%"),
                                             factories.Benchmark("G1", "Long-term", "Spring IAR", "24%", "32%")))
    inputs = write_inputs(tmp_path / "inputs", [packet(goals=[known, factories.goal("G2")])])
    out = tmp_path / "out"
    assert run_cli("build", "--inputs", str(inputs), "--output", str(out), "--as-of", AS_OF).exit_code == 0
    doc = Document(next(out.glob("0101-*")) / "0101-plan.docx")
    (table,) = [t for t in doc.tables if [c.text for c in t.rows[0].cells][:2] == ["Goal", "Term"]]
    assert [c.text for c in table.rows[0].cells] == ["Goal", "Term", "Benchmark", "Initial Data Point",
                                                    "Expected Value", "Actual", "Date"]
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert ["G1", "Short-term", "Winter MAP", "31%", "38%", "36%", "January 31, 2027"] in rows
    assert ["G1", "Long-term", "Spring IAR", "24%", "32%", "\u2014", ""] in rows


# A 1x1 PNG: the picture path is still how a template places an image, though the plan has none now.
TINY_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763"
                         "f8ffff3f0005fe02fea7d6a2ea0000000049454e44ae426082")


def test_a_picture_below_the_top_of_a_context_fails_clearly_rather_than_printing(tmp_path):
    """Pictures are placed from a context's top level; one nested in a table's rows is an error that
    says so, in both Word paths, never a Python repr printed into the document."""
    from generator.findings import PacketsError
    from generator.render import prepared
    from generator.render.docx import render_docx

    doc = Document()
    doc.add_paragraph("{{ chart }}{% for r in rows %}{{ r.chart }}{% endfor %}")
    doc.save(tmp_path / "t.docx")
    picture = Picture(TINY_PNG, 1.0, "a dot")
    placed = prepared(tmp_path / "t.docx").render({"chart": picture, "rows": []})
    assert len(Document(io.BytesIO(placed)).inline_shapes) == 1
    for render in (prepared(tmp_path / "t.docx").render, lambda c: render_docx(tmp_path / "t.docx", c)):
        with pytest.raises(PacketsError, match="top-level value"):
            render({"chart": picture, "rows": [{"chart": picture}]})


@pytest.mark.parametrize("state,designation,identification,level,route", [
    ("CA", "Intensive", "Intensive", 1, "CDE FMTA"), ("CA", "Comprehensive", "Comprehensive", 3, "CDE FMTA"),
    ("CA", "Targeted", "Targeted", 3, "CDE FMTA"), ("CA", "Targeted", "Targeted", 1, "SELPA"),
    ("CA", "Additional Targeted", "Targeted", 2, "SELPA"), ("CA", "Not identified", "Not identified", 2, "SPSA"),
    ("IL", "Intensive", "Intensive", 1, "ISBE, through IWAS"), ("IL", "Targeted", "Targeted", 1, "ISBE, through IWAS"),
    ("IL", "Commendable", "Not identified", None, "local board of education"),
    ("Illinois", "Exemplary", "Not identified", None, "local board of education")])
def test_where_the_plan_is_submitted(state, designation, identification, level, route):
    assert route in state_profile(SHIPPED, state).submitted_to(designation, identification, level)


def test_a_school_with_one_academic_goal_is_not_ready_and_the_finding_names_its_cell(tmp_path):
    one_goal = packet(school("0105", "O'Keeffe Arts Magnet School"),
                      goals=[factories.goal("G1"), factories.goal("G2", goal_type="Non-academic")])
    inputs = write_inputs(tmp_path / "inputs", [packet(school("0101")), one_goal])

    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "0101 School 0101: ready" in result.output
    assert "0105 O'Keeffe Arts Magnet School: NOT READY" in result.output
    # Goals rows are written school by school: 0101's G1 and G2 (rows 2, 3), then 0105's G1 (row 4).
    assert "  error: school 0105, goals.xlsx, sheet Goals, row 4, column C (Goal Type): [two-academic-goals] " \
        "O'Keeffe Arts Magnet School has 1 academic SMART goal(s); ISBE requires at least two." in result.output
    output = tmp_path / "output"
    assert run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF).exit_code == 0
    ws = openpyxl.load_workbook(output / "readiness.xlsx")["Readiness"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=5, values_only=True)}
    assert rows["0101"][3] == "Ready"
    assert rows["0105"][3] == "Not ready" and "two-academic-goals" in rows["0105"][6]


def test_owner_not_on_roster_is_reported_with_sheet_row_and_column():
    result = run_cli("validate", "--inputs", str(SAMPLE), "--as-of", AS_OF)
    row = find_row(openpyxl.load_workbook(SAMPLE / "goals.xlsx")["Activities"], "Person Responsible", "Pat Kowalski")
    expected = (f"error: school 0107, goals.xlsx, sheet Activities, row {row}, column H (Person Responsible): "
                f"[activity-owner-on-roster] Person Responsible 'Pat Kowalski' is not on the roster")
    assert any(line.strip().startswith(expected) for line in result.output.splitlines()), result.output


def test_incomplete_school_is_built_but_every_gap_is_listed(tmp_path):
    result = run_cli("validate", "--inputs", str(SAMPLE), "--as-of", AS_OF)
    section = result.output.split("0107 Cedar Grove Elementary: NOT READY")[1].split("\n0108")[0]
    for rule in ("two-academic-goals", "strategy-has-activities", "activity-timeline", "activity-details",
                 "activity-owner-on-roster", "monitoring-covers-goals", "communication-plan", "board-approval"):
        assert f"[{rule}]" in section


def test_strict_makes_warnings_fail(tmp_path):
    overdue = task("Complete the DF", dt.date.fromisoformat(AS_OF) - dt.timedelta(days=1), school_id="0102")
    inputs = write_inputs(tmp_path / "inputs", [packet(school("0101")), packet(school("0102"), tasks=[overdue])])
    plain = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF)
    strict = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF, "--strict")
    assert plain.exit_code == 0 and "0102 School 0102: ready" in plain.output
    assert "[tasks-on-time] Task 'Complete the DF' was due November 22, 2026 and is not done." in plain.output
    assert strict.exit_code == 1 and "0102 School 0102: NOT READY" in strict.output
    assert "0101 School 0101: ready" in strict.output


@pytest.mark.parametrize("page", sorted(docs.PAGES))
def test_generated_docs_are_current(page):
    assert (docs.DOCS / page).read_text(encoding="utf-8") == docs.PAGES[page](), "run `make docs`"


@pytest.mark.parametrize("phone, email, shown", [
    ("", "pat.lee@example.org", "Pat Lee \u00b7 pat.lee@example.org"),
    ("(309) 555-0142", "", "Pat Lee \u00b7 (309) 555-0142"),
    ("(309) 555-0142", "pat.lee@example.org", "Pat Lee \u00b7 pat.lee@example.org \u00b7 (309) 555-0142"),
    ("", "", "Pat Lee"),
])
def test_the_principals_contact_line_has_no_stray_separator(phone, email, shown):
    """A principal with no phone (every imported roster's) was shown as `Pat Lee · pat@... · `."""
    one = packet(people=[factories.person("Pat Lee", "Principal", "0101", email=email, phone=phone)])
    doc = Document(io.BytesIO(render_document(SHIPPED.path("plan.docx"), packet_contexts(one)["plan"])))
    (row,) = [r for t in doc.tables for r in t.rows if r.cells[0].text == "Principal and contact"]
    assert row.cells[1].text == shown


def test_no_principal_leaves_the_contact_cell_empty():
    one = packet(people=[factories.person("Sam Rivera", "School Improvement Coordinator", None)])
    assert packet_contexts(one)["plan"]["school"]["principal_contact"] == ""
