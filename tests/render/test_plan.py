"""The Plan for Improvement form, its timeline chart, and the readiness check."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import PIL.Image
import pytest
from docx import Document

from generator.model.records import Activity, Plan, Strategy
from generator.render import packet_contexts, render_document
from generator.render.chart import PALETTE, month_ticks, timeline_chart
from generator.render.template_data import SHIPPED, form_data
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
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


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
    assert "Submitted to" in text and "CDE FMTA Consultant" in text
    assert "Local board approval date: " in text


def test_plan_contains_the_timeline_chart_image(plan_doc):
    blips = plan_doc.element.body.xpath(".//a:blip/@r:embed")
    assert len(blips) == 1
    part = plan_doc.part.related_parts[blips[0]]
    assert part.content_type == "image/png" and part.blob.startswith(b"\x89PNG")


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


def _plan(*activities):
    return Plan(strategies=(Strategy("S1", "Tutoring", activities=tuple(activities)),))


def test_chart_leaves_out_undated_activities_and_draws_today_only_within_the_year():
    dated = Activity("S1", "Train tutors", dt.date(2027, 8, 20), dt.date(2027, 10, 1))
    assert timeline_chart(_plan(Activity("S1", "No dates")), dt.date(2027, 9, 1)) is None
    inside = timeline_chart(_plan(dated), dt.date(2027, 9, 1))
    outside = timeline_chart(_plan(dated), dt.date(2026, 11, 23))
    later = timeline_chart(_plan(dated), dt.date(2026, 12, 1))
    assert inside.png.startswith(b"\x89PNG")
    assert inside.png != outside.png                    # the today line is drawn
    assert outside.png == later.png                     # ... and not when today is outside the year
    assert timeline_chart(_plan(dated, Activity("S1", "Reversed", dt.date(2027, 9, 1), dt.date(2027, 8, 1))),
                          dt.date(2026, 11, 23)).png == outside.png


def _pixels(picture):
    image = PIL.Image.open(io.BytesIO(picture.png))
    return image.convert("RGB"), image.info.get("dpi")


def _colour_count(image, hex_colour):
    rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return sum(count for count, colour in image.getcolors(1 << 20) if colour == rgb)


def _activities(count, start=dt.date(2027, 8, 1), end=dt.date(2028, 5, 1)):
    return [Activity("S1", f"Activity {n}", start, end) for n in range(count)]


def test_chart_picture_is_print_sized_and_grows_a_row_per_activity():
    one, five = (timeline_chart(_plan(*_activities(n)), dt.date(2026, 11, 23)) for n in (1, 5))
    (small, dpi), (tall, _) = _pixels(one), _pixels(five)
    assert dpi == pytest.approx((150, 150), abs=0.1)       # so Word and viewers size it at 7 inches
    assert small.width == tall.width == 7 * 150
    assert tall.height - small.height == 4 * 0.3 * 150      # 0.3 inch a bar


def test_chart_draws_each_strategy_in_its_own_colour_and_today_in_red():
    plan = Plan(strategies=(Strategy("S1", "Tutoring", activities=tuple(_activities(2))),
                            Strategy("S2", "Attendance", activities=(
                                Activity("S2", "Home visits", dt.date(2027, 9, 1), dt.date(2029, 12, 1)),))))
    inside, _ = _pixels(timeline_chart(plan, dt.date(2027, 9, 1)))
    outside, _ = _pixels(timeline_chart(plan, dt.date(2026, 11, 23)))
    for strategy_colour in PALETTE[:2]:
        assert _colour_count(inside, strategy_colour) > 1000 and _colour_count(outside, strategy_colour) > 1000
    assert _colour_count(inside, "#C00000") > 100                 # today's dashed line, and its legend entry
    assert _colour_count(outside, "#C00000") == 0
    assert _colour_count(outside, PALETTE[2]) == 0                # no third strategy, no third colour


def test_chart_ticks_each_month_of_the_school_year_and_fewer_over_years():
    year = month_ticks(dt.date(2027, 7, 1), dt.date(2028, 6, 30))
    assert year == [dt.date(2027 + (6 + k) // 12, (6 + k) % 12 + 1, 1) for k in range(13)]     # Jul to Jul
    three_years = month_ticks(dt.date(2027, 7, 1), dt.date(2030, 6, 30))
    assert len(three_years) <= 14 and three_years[0] == dt.date(2027, 7, 1)
    assert three_years[-1] == dt.date(2030, 7, 1)
    stretched = month_ticks(dt.date(2027, 7, 1), dt.date(2028, 8, 15))
    assert stretched[-1] == dt.date(2028, 8, 1)                  # none past the chart's right edge


def test_chart_is_the_same_picture_whatever_was_drawn_before():
    """The process reuses one Figure for every chart: nothing of one chart may show in the next."""
    from generator.render import chart

    first = _plan(*_activities(3))
    other = Plan(strategies=tuple(Strategy(f"S{n}", "A strategy " * 9, activities=(
        Activity(f"S{n}", "A long activity name " * 5, dt.date(2026, 9, 1), dt.date(2029, 1, 1)),))
        for n in range(1, 10)))
    chart._blank.cache_clear()                                   # a fresh Figure, as a new process has
    chart._draw.cache_clear()
    fresh = timeline_chart(first, dt.date(2027, 9, 1)).png
    timeline_chart(other, dt.date(2027, 3, 1))
    chart._draw.cache_clear()
    assert timeline_chart(first, dt.date(2027, 9, 1)).png == fresh
    canvas, ax = chart._blank()
    assert not (ax.lines or ax.collections or ax.patches or ax.texts or canvas.figure.texts
                or canvas.figure.legends)                         # each chart's artists were removed


def test_a_picture_below_the_top_of_a_context_fails_clearly_rather_than_printing(tmp_path):
    """Pictures are placed from a context's top level; one nested in a table's rows is an error that
    says so, in both Word paths, never a Python repr printed into the document."""
    from generator.findings import PacketsError
    from generator.render import prepared
    from generator.render.docx import render_docx

    doc = Document()
    doc.add_paragraph("{{ chart }}{% for r in rows %}{{ r.chart }}{% endfor %}")
    doc.save(tmp_path / "t.docx")
    picture = timeline_chart(_plan(*_activities(2)), dt.date(2027, 9, 1))
    placed = prepared(tmp_path / "t.docx").render({"chart": picture, "rows": []})
    assert len(Document(io.BytesIO(placed)).inline_shapes) == 1
    for render in (prepared(tmp_path / "t.docx").render, lambda c: render_docx(tmp_path / "t.docx", c)):
        with pytest.raises(PacketsError, match="top-level value"):
            render({"chart": picture, "rows": [{"chart": picture}]})


@pytest.mark.parametrize("designation,level,route", [
    ("Intensive", 1, "CDE FMTA"), ("Intensive", 3, "CDE FMTA"), ("Targeted", 3, "CDE FMTA"),
    ("Targeted", 1, "SELPA"), ("Targeted", 2, "SELPA")])
def test_where_the_plan_is_submitted(designation, level, route):
    assert route in form_data().submitted_to(designation, level)


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
