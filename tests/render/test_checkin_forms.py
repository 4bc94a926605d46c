"""The check-in forms as a reader sees them: the After Action Review (Word) pre-filled from one school's plan,
and the District Level Reflection workbook across the schools of a check-in day."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from docx import Document

from generator.findings import PacketsError
from generator.model.checkin import check_in_on
from generator.model.records import Benchmark, ReviewEvent
from generator.model.rollup import school_rollup
from generator.render import prepared, render_document
from generator.render.checkin import (
    AFTER_ACTION_TEMPLATE,
    DISTRICT_REFLECTION_TEMPLATE,
    after_action_review_context,
    latest_data,
    reflection_context,
)
from generator.render.docx import render_docx
from generator.render.template_data import SHIPPED, Templates, form_data
from generator.render.xlsx import render_xlsx

from conftest import workbook_content
from factories import activity, goal, packet, person, school, strategy, task

D = dt.date
SEP, DEC = D(2027, 9, 14), D(2027, 12, 14)
AS_OF = D(2027, 11, 23)
SPECIAL = 'R&D <pilot> "phase 1" & more'
FORMULA = "=HYPERLINK(\"http://x\",\"y\")"


def review():
    return [ReviewEvent("check-in", "Check-in 1", SEP, "Priya Raman (District Staff)"),
            ReviewEvent("check-in", "Check-in 2", DEC, "Priya Raman (District Staff)"),
            ReviewEvent("final-review", "Final review", D(2027, 5, 28), "District Leadership Team")]


def goals():
    return [goal("G1", "Raise grade 9 on-track from 71% to 80%.", benchmarks=(
                Benchmark("G1", "Short-term", "First-quarter grades", "68%", "78%", D(2027, 10, 22), actual="74%"),
                Benchmark("G1", "Long-term", "Freshman On-Track", "71%", "80%", D(2028, 5, 31)))),
            goal("G2", "Cut chronic absence from 38% to 30%.", baseline="38%", benchmarks=(
                Benchmark("G2", "Long-term", "Chronic absence", "38%", "30%", D(2028, 5, 31)),))]


def strategies():
    return [strategy("S1", "Ninth Grade Success Team", activities=[
                activity("S1", "Reviewed at the last check-in", start=D(2027, 8, 2), end=SEP),
                activity("S1", SPECIAL, start=D(2027, 8, 2), end=D(2027, 10, 29), owner="Jennifer Walsh"),
                activity("S1", "Advisory lessons all year", start=D(2027, 8, 9), end=D(2028, 5, 26))]),
            strategy("S2", "Structured math discourse", activities=[
                activity("S2", "Train Algebra I teachers", start=D(2027, 11, 1), end=D(2027, 12, 10)),
                activity("S2", "Not yet begun", start=D(2027, 12, 1), end=D(2027, 12, 12))]),
            strategy("S3", "Nothing due this time", activities=[
                activity("S3", "Spring tutoring", start=D(2028, 1, 10), end=D(2028, 4, 9))])]


def tasks():
    return [task("Collect fall data", D(2027, 10, 15), completed=D(2027, 10, 14)),
            task("Monthly indicator check", D(2027, 11, 12)),
            task("BLT data review", D(2027, 12, 3)),
            task("Submit the DF", D(2026, 12, 1))]


def the_packet(**options):
    options.setdefault("people", [
        person("Marcus Bell", "Principal", "0101", title="Principal"),
        person("Jennifer Walsh", "Leadership Team Chair", "0101", title="Assistant Principal"),
        person("Priya Raman", "District Staff", None)])
    return packet(school("0101", "Riverbend High School"), review=review(), tasks=tasks(), as_of=AS_OF,
                  goals=goals(), strategies=strategies(), **options)


def aar(p=None, day=DEC):
    context = after_action_review_context(check_in_on(p or the_packet(), day))
    return context, Document(io.BytesIO(render_document(SHIPPED.path(AFTER_ACTION_TEMPLATE), context)))


def plain(value: str) -> str:
    """Text as read: a written-out date's no-break spaces (they keep it on one line) as spaces."""
    return value.replace("\u00a0", " ")


def table_after(doc, header: str) -> list[list[str]]:
    """The rows of every table whose header row starts with `header`, header rows left out, in order."""
    return [[plain(c.text) for c in row.cells] for t in doc.tables if t.rows[0].cells[0].text == header
            for row in t.rows[1:]]


def text(doc) -> str:
    return "\n".join(plain(p.text) for p in doc.paragraphs)


def test_the_activities_due_since_the_last_check_in_and_only_those_with_their_status():
    _, doc = aar()
    assert table_after(doc, "Activity") == [
        [SPECIAL, "October 29, 2027", "Jennifer Walsh", "All teachers trained", "Ended"],
        ["Train Algebra I teachers", "December 10, 2027", "Pat Lee", "All teachers trained", "Under way"],
        ["Not yet begun", "December 12, 2027", "Pat Lee", "All teachers trained", "Not started"]]
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert "Strategy S1: Ninth Grade Success Team" in headings and "Strategy S2: Structured math discourse" in headings
    assert not any("S3" in h for h in headings)           # nothing of S3 was due


def test_each_goal_with_its_benchmarks_actual_values_and_latest_data():
    _, doc = aar()
    body = text(doc)
    assert "Goal G1: Raise grade 9 on-track from 71% to 80%." in body
    assert "Latest data: First-quarter grades: 74%, expected 78% (October 22, 2027)" in body
    assert "Latest data: No result recorded yet: the baseline is the latest" in body
    assert "Measure: IAR ELA proficiency \u00b7 Baseline: 38% \u00b7 Target: 32% by May 31, 2027" in body
    assert table_after(doc, "Term") == [
        ["Short-term", "First-quarter grades", "68%", "78%", "74%", "October 22, 2027"],
        ["Long-term", "Freshman On-Track", "71%", "80%", "\u2014", "May 31, 2028"],
        ["Long-term", "Chronic absence", "38%", "30%", "\u2014", "May 31, 2028"]]


def test_each_goal_has_the_after_action_questions_with_what_was_expected_filled_in():
    _, doc = aar()
    reviews = [t for t in doc.tables if t.rows[0].cells[0].text == "What was expected?"]
    assert len(reviews) == 2
    first = [[plain(c.text).strip() for c in row.cells] for row in reviews[0].rows]
    assert [r[0] for r in first] == ["What was expected?", "What happened?", "Why?", "What next?"]
    assert first[0][1] == "First-quarter grades: 78% by October 22, 2027"
    assert first[1][1] == "First-quarter grades: 74%"
    assert first[2][1] == first[3][1] == ""                         # space to write
    second = [[plain(c.text).strip() for c in row.cells] for row in reviews[1].rows]
    assert second[0][1] == "Next: Chronic absence: 30% by May 31, 2028"     # nothing was due: the next one
    assert all(row._tr.xpath("./w:trPr/w:trHeight") for row in reviews[0].rows)      # tall rows to write in
    kept = [all(p._p.xpath("./w:pPr/w:keepNext") for c in row.cells for p in c.paragraphs) for row in reviews[0].rows]
    assert kept == [True, True, True, False]            # the four questions stay on one page


def test_the_timeline_tasks_due_in_the_window_with_their_status():
    _, doc = aar()
    assert [[r[0], r[3]] for r in table_after(doc, "Task")] == [
        ["Collect fall data", "Done"], ["Monthly indicator check", "Overdue"], ["BLT data review", "Upcoming"]]


def test_the_check_in_schedule_and_who_attends_with_their_roles():
    context, doc = aar()
    assert table_after(doc, "Check-in") == [
        ["Check-in 1", "September 14, 2027", "Priya Raman (District Staff)", ""],
        ["Check-in 2", "December 14, 2027", "Priya Raman (District Staff)", "This check-in"]]
    people = table_after(doc, "Name")
    assert [r[:2] for r in people] == [["Priya Raman (District Staff)", "Reviewer"], ["Marcus Bell", "Principal"],
                                       ["Jennifer Walsh", "Assistant Principal"]]
    assert people[0][2].startswith("Leads the check-in") and people[2][2].startswith("Brings the latest data")
    assert "Check-in 2, December 14, 2027" in text(doc)
    assert context["check_in"]["window"] == "September 15, 2027 to December 14, 2027"


def test_empty_sections_say_none_recorded():
    bare = packet(school("0101"), review=review(), tasks=[], as_of=AS_OF, goals=[], strategies=strategies()[2:])
    _, doc = aar(bare)
    assert [p.text for p in doc.paragraphs].count("None recorded.") == 3       # goals, activities, tasks
    assert table_after(doc, "Activity") == [] and table_after(doc, "Task") == []


def test_the_fast_engine_writes_what_the_reference_engine_writes():
    context, _ = aar()
    template = SHIPPED.path(AFTER_ACTION_TEMPLATE)
    fast, reference = (Document(io.BytesIO(data)) for data in (render_document(template, context),
                                                                 render_docx(template, context)))
    assert [p.text for p in fast.paragraphs] == [p.text for p in reference.paragraphs]
    assert [[[c.text for c in r.cells] for r in t.rows] for t in fast.tables] == \
        [[[c.text for c in r.cells] for r in t.rows] for t in reference.tables]


# --- the District Level Reflection ---------------------------------------------------------------

def district():
    """Three schools with a check-in on DEC: one overdue (a task past due), one approaching (a task due in
    a week), one on target; and a fourth school whose check-in is another day."""
    overdue = the_packet()
    soon = packet(school("0102", FORMULA), review=review(), as_of=AS_OF, tasks=[task("Soon", D(2027, 11, 30))],
                  goals=goals(), strategies=strategies())
    fine = packet(school("0103", SPECIAL), review=review(), as_of=AS_OF, tasks=[task("Later", D(2028, 2, 1))],
                  goals=goals(), strategies=strategies())
    return [overdue, soon, fine]


def reflection(packets, engine=render_document):
    rows = [(check_in_on(p, DEC), school_rollup(p), f"{p.school.school_id}/aar.docx") for p in packets
            if check_in_on(p, DEC)]
    context = reflection_context("Riverbend CUSD 117", "2026-27", DEC, AS_OF, rows, "District Level Reflection",
                                 packets)
    return engine(SHIPPED.path(DISTRICT_REFLECTION_TEMPLATE), context)


def sheet_rows(data: bytes):
    ws = openpyxl.load_workbook(io.BytesIO(data))["Schools"]
    header = [c.value for c in ws[4]]
    return ws, [dict(zip(header, (c.value for c in row))) for row in ws.iter_rows(min_row=5) if row[0].value]


def test_the_reflection_has_a_row_per_school_with_its_status_from_the_roll_up():
    packets = district()
    ws, rows = sheet_rows(reflection(packets))
    assert [(r["School ID"], r["Status"]) for r in rows] == [("0101", "overdue"), ("0102", "approaching"),
                                                             ("0103", "on target")]
    assert [r["Status"] for r in rows] == [school_rollup(p).status for p in packets]
    assert ws["A3"].value == "3 school(s) with a check-in: 1 overdue, 1 approaching, 1 on target"
    first = rows[0]
    assert (first["Check-in"], first["Date"].date(), first["Since"].date()) == ("Check-in 2", DEC, D(2027, 9, 15))
    assert first["Overdue"] == 2 and first["Overdue tasks"] == "Monthly indicator check\nSubmit the DF"
    assert (first["Activities due"], first["Activities ended"]) == (3, 1)
    assert first["Goals: latest data"] == ("G1: First-quarter grades: 74%, expected 78% (October 22, 2027)\n"
                                           "G2: No result recorded yet; baseline 38%")
    assert first["Next steps for district support or intervention"] is None       # the district's to write
    assert first["After Action Review"] == "0101/aar.docx"
    assert "District Level Reflection protocol" == openpyxl.load_workbook(
        io.BytesIO(reflection(packets)))["Protocol"]["A1"].value


def test_formula_like_and_xml_special_text_stays_text_in_the_reflection():
    ws, rows = sheet_rows(reflection(district()))
    assert [r["School"] for r in rows][1:] == [FORMULA, SPECIAL]
    cell = ws["B6"]
    assert cell.value == FORMULA and cell.data_type == "s" and cell.quotePrefix


@pytest.mark.parametrize("engine", [render_document, render_xlsx], ids=["fast", "reference"])
def test_the_reflection_is_the_same_from_either_engine(engine):
    assert workbook_content(reflection(district(), engine)) == workbook_content(reflection(district(), render_xlsx))


# --- forms.toml [check_in]: who attends and their roles ------------------------------------------------

def own_forms(tmp_path, text: str) -> Templates:
    """A district's templates folder whose forms.toml is the shipped one with `text` in place of [check_in]."""
    shipped = SHIPPED.path("forms.toml").read_text(encoding="utf-8")
    (tmp_path / "forms.toml").write_text(shipped[:shipped.index("[check_in]")] + text, encoding="utf-8")
    return Templates(tmp_path)


def test_a_districts_roles_at_the_check_in_are_its_own(tmp_path):
    templates = own_forms(tmp_path, '[check_in]\nreviewer = "Chairs it"\n[check_in.roles]\n'
                                    '"Leadership Team Chair" = "Presents the data"\nPrincipal = "Listens"\n')
    rows = after_action_review_context(check_in_on(the_packet(), DEC), templates)["attendees"]
    assert [(r["name"], r["part"]) for r in rows] == [("Priya Raman (District Staff)", "Chairs it"),
                                                      ("Jennifer Walsh", "Presents the data"),
                                                      ("Marcus Bell", "Listens")]


def test_an_older_forms_toml_without_check_ins_gets_the_shipped_roles_and_titles(tmp_path):
    templates = own_forms(tmp_path, "")
    data = form_data(templates)
    assert data.check_in == form_data(SHIPPED).check_in
    assert data.title("after-action-review") == "After Action Review"


def test_an_unknown_role_at_the_check_in_is_one_line_naming_the_file(tmp_path):
    templates = own_forms(tmp_path, '[check_in.roles]\nCoach = "Coaches"\n')
    with pytest.raises(PacketsError, match=r"forms.toml: \[check_in.roles\]: unknown role\(s\) Coach"):
        form_data(templates)


def test_a_long_baseline_is_quoted_to_a_line_in_the_reflection():
    long = goal("G1", baseline="Students read below grade level in every grade and subject " * 20, benchmarks=())
    latest = latest_data(long, DEC)
    assert latest.startswith("No result recorded yet; baseline Students read below") and latest.endswith("\u2026")
    assert len(latest) < 130


def test_a_school_with_many_overdue_tasks_lists_five_and_counts_the_rest():
    late = [task(f"Late task {i}", D(2027, 10, i), school_id="0101") for i in range(1, 9)]
    _, rows = sheet_rows(reflection([packet(school("0101"), review=review(), as_of=AS_OF, tasks=late)]))
    assert rows[0]["Overdue"] == 8
    assert rows[0]["Overdue tasks"].splitlines() == [*(f"Late task {i}" for i in range(1, 6)),
                                                     "and 3 more (district.xlsx lists them)"]


def test_the_reflection_holds_the_districts_check_in_schedule_with_this_day_marked():
    packets = district()
    later = packet(school("0104"), review=[ReviewEvent("check-in", "Check-in 1", D(2028, 1, 18), "Ana Ruiz")],
                   as_of=AS_OF)
    ws = openpyxl.load_workbook(io.BytesIO(reflection(packets + [later])))["Check-in schedule"]
    rows = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=5) if row[0].value]
    assert [(r[0], r[2], r[3].date(), r[5]) for r in rows] == [
        ("0101", "Check-in 1", SEP, None), ("0102", "Check-in 1", SEP, None), ("0103", "Check-in 1", SEP, None),
        ("0101", "Check-in 2", DEC, "This day"), ("0102", "Check-in 2", DEC, "This day"),
        ("0103", "Check-in 2", DEC, "This day"), ("0104", "Check-in 1", D(2028, 1, 18), None)]
    assert rows[-1][4] == "Ana Ruiz"
    assert prepared(SHIPPED.path(DISTRICT_REFLECTION_TEMPLATE)) is not None       # the fast engine's path
