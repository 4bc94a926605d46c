"""The district's review cycle (seed 003): the Review sheet, each school's dated review steps in the model,
the readiness rules about them, the quality rubric file, and the review form in every packet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from generator.findings import WARNING, PacketsError
from generator.model.readiness import RULES, check_packet
from generator.model.records import REVIEW_KINDS
from generator.pipeline import load_district
from generator.render import FORMS, packet_contexts, render_document
from generator.render.template_data import SHIPPED_FOLDER as TEMPLATES
from generator.render.template_data import Templates, review_rubric
from generator.settings import load_settings

from conftest import AS_OF, SAMPLE, edit_sheet, header_column, packet_folders, run_cli

RUBRIC = TEMPLATES / "review_rubric.csv"


def review_rows(folder=SAMPLE) -> list[dict]:
    ws = openpyxl.load_workbook(folder / "timeline.xlsx")["Review"]
    head = [c.value for c in ws[1]]
    return [dict(zip(head, r), row=i) for i, r in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2)
            if any(r)]


def roster_people() -> list[dict]:
    ws = openpyxl.load_workbook(SAMPLE / "roster.xlsx")["People"]
    head = [c.value for c in ws[1]]
    return [dict(zip(head, r)) for r in ws.iter_rows(min_row=2, values_only=True) if any(r)]


def load(folder=SAMPLE, *schools):
    district, _ = load_district(load_settings(folder, None, dt.date.fromisoformat(AS_OF), tuple(schools)))
    return {p.school.school_id: p for p in district.packets}


@pytest.fixture(scope="module")
def sample():
    return load()


def full_date(d: dt.date) -> str:
    return f"{d:%B} {d.day}, {d.year}"


# --- the model -----------------------------------------------------------------------------------------

def test_a_school_without_rows_of_its_own_gets_the_district_default(sample):
    default = sorted((r for r in review_rows() if r["School ID"] is None and not r["Repeats"]),
                     key=lambda r: r["Due Date"])
    review = [e for e in sample["0101"].review if e.kind != "check-in"]
    assert [(e.kind, e.title, e.due) for e in review] == [
        (REVIEW_KINDS[r["Step"]], r["Title"], r["Due Date"].date()) for r in default]
    assert [e.source.row for e in review] == [r["row"] for r in default]
    assert all(e.source.sheet == "Review" and e.source.file == "timeline.xlsx" for e in review)


def test_review_events_are_in_date_order_and_check_ins_repeat(sample):
    for packet in sample.values():
        assert [e.due for e in packet.review] == sorted(e.due for e in packet.review)
    (row,) = [r for r in review_rows() if r["Step"] == "Check-in" and r["School ID"] is None]
    check_ins = [e for e in sample["0101"].review if e.kind == "check-in"]
    assert len(check_ins) > 1 and check_ins[0].due == row["Due Date"].date()
    assert [e.title for e in check_ins] == [f"Check-in {n}" for n in range(1, len(check_ins) + 1)]
    assert {e.source.row for e in check_ins} == {row["row"]}


def test_a_schools_own_rows_replace_the_districts_rows_for_that_step(sample):
    own = [r for r in review_rows() if r["School ID"] == "0104"]
    own_steps = {r["Step"] for r in own}
    assert own_steps and len([r for r in own if r["Step"] == "Feedback Round"]) == 3
    review = sample["0104"].review
    for step, kind in REVIEW_KINDS.items():
        rows = [r for r in review_rows() if r["School ID"] == ("0104" if step in own_steps else None)
                and r["Step"] == step]
        got = [e for e in review if e.kind == kind]
        assert {e.source.row for e in got} == {r["row"] for r in rows}, step
    feedback = [e for e in review if e.kind == "feedback"]
    assert [e.title for e in feedback] == ["Feedback round 1", "Feedback round 2", "Feedback round 3"]
    assert [e.due for e in feedback] == sorted(r["Due Date"].date() for r in own if r["Step"] == "Feedback Round")
    # Other schools keep the district's two rounds.
    assert len([e for e in sample["0101"].review if e.kind == "feedback"]) == 2


def test_a_reviewer_role_names_the_schools_people_in_it(sample):
    people = roster_people()
    for sid, packet in sample.items():
        (draft,) = [e for e in packet.review if e.kind == "first-draft"]
        coordinator = [p["Name"] for p in people
                       if p["School ID"] == sid and p["Role"] == "School Improvement Coordinator"]
        assert draft.reviewer == f"{'; '.join(coordinator)} (School Improvement Coordinator)"
        (final,) = [e for e in packet.review if e.kind == "final-review"]
        assert final.reviewer == "District Leadership Team"          # not a roster role: kept as written


# --- validation and readiness -----------------------------------------------------------------------------

def test_review_rows_are_checked_and_named_by_cell(inputs):
    def bad(ws):
        ws.append(["0199", "Feedback Round", None, None, dt.datetime(2027, 5, 1)])          # unknown school
        ws.append([None, "Board Approval", "Again", None, dt.datetime(2027, 6, 30)])       # a second one
        ws.append(["0101", "First Draft", None, None, dt.datetime(2027, 4, 1), "monthly"])  # cannot repeat
        ws.append(["0101", "Feedback Rnd", None, None, dt.datetime(2027, 4, 1)])          # not a step
    edit_sheet(inputs / "timeline.xlsx", "Review", bad)
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF)
    assert result.exit_code == 1
    last = len(review_rows(inputs)) + 1
    assert f"sheet Review, row {last - 3}, column A (School ID): Unknown School ID '0199'" in result.output
    assert f"sheet Review, row {last - 2}, column B (Step): A second Board Approval row for the district's " \
           f"default cycle" in result.output
    assert f"sheet Review, row {last - 1}, column F (Repeats): A First Draft happens once" in result.output
    assert f"sheet Review, row {last}, column B (Step): 'Feedback Rnd' is not a known step" in result.output
    assert "Traceback" not in result.output


def test_no_first_draft_date_is_a_readiness_warning(inputs):
    def drop_drafts(ws):
        col = header_column(ws, "Step")
        for r in range(ws.max_row, 1, -1):
            if ws.cell(row=r, column=col).value == "First Draft":
                ws.delete_rows(r)
    edit_sheet(inputs / "timeline.xlsx", "Review", drop_drafts)
    for packet in load(inputs).values():
        (finding,) = [f for f in check_packet(packet) if f.rule == "review-first-draft"]
        assert finding.severity == WARNING
        assert (finding.file, finding.sheet) == ("timeline.xlsx", "Review")


def test_steps_out_of_order_are_a_readiness_warning_at_the_cell(inputs):
    rows = review_rows(inputs)
    (approval,) = [r for r in rows if r["Step"] == "Board Approval"]
    (draft,) = [r for r in rows if r["Step"] == "First Draft" and r["School ID"] is None]

    def early_approval(ws):
        due = ws.cell(row=approval["row"], column=header_column(ws, "Due Date"))
        due.value = draft["Due Date"] - dt.timedelta(days=1)
    edit_sheet(inputs / "timeline.xlsx", "Review", early_approval)
    findings = [f for f in check_packet(load(inputs, "0101")["0101"]) if f.rule == "review-in-order"]
    assert findings and all(f.severity == WARNING for f in findings)
    assert (findings[0].sheet, findings[0].row, findings[0].column) == ("Review", approval["row"], "E")
    assert approval["Title"] in findings[0].message


def test_the_sample_review_cycle_is_in_order(sample):
    for packet in sample.values():
        assert not [f for f in check_packet(packet) if f.rule.startswith("review-")]


# --- the rubric file ----------------------------------------------------------------------------------------

def test_the_rubric_names_only_real_readiness_rules_and_covers_the_plan_rules():
    criteria = review_rubric()
    rules = {r for c in criteria for r in c.rules}
    assert rules <= {r.name for r in RULES}
    review_cycle = {"board-approval", "review-first-draft", "review-in-order", "reviewer-on-roster"}
    plan_rules = {r.name for r in RULES} - review_cycle
    assert plan_rules <= rules
    with open(RUBRIC, encoding="utf-8-sig") as f:
        head = next(csv.reader(f))
    assert [level for level, _ in criteria[0].levels] == head[3:]
    questions = " ".join(c.question for c in criteria)
    for seed_question in ("LEA", "ESSER", "ATSI, TSI or Priority", "revisions or monitoring throughout the year"):
        assert seed_question in questions


def rubric_in(folder: Path, rows: list[list[str]]) -> Templates:
    """Return templates whose review_rubric.csv (in `folder`, made for it) holds `rows`; the rest shipped."""
    folder.mkdir(exist_ok=True)
    with open(folder / "review_rubric.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return Templates(folder)


def test_the_rubric_file_is_data_staff_can_edit(tmp_path):
    with open(RUBRIC, encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    rows[0].append("Beyond")
    rows[1].append("Beyond all expectations")
    rows.append(["Equity", "Does the plan close gaps?", "", "", "", "", "", ""])
    criteria = review_rubric(rubric_in(tmp_path, rows))
    assert [level for level, _ in criteria[0].levels][-1] == "Beyond"
    assert criteria[0].levels[-1] == ("Beyond", "Beyond all expectations")
    assert criteria[-1].criterion == "Equity" and criteria[-1].rules == ()

    rows[2][2] = "two-academic-goals; no-such-rule"
    with pytest.raises(PacketsError, match=r"review_rubric.csv, row 3: no-such-rule is not a readiness rule"):
        review_rubric(rubric_in(tmp_path / "bad", rows))

    rows[0][4] = ""                                  # a level without a name
    rows[2][2] = ""
    with pytest.raises(PacketsError, match=r"every column is a level of the rubric and needs a name"):
        review_rubric(rubric_in(tmp_path / "unnamed", rows))


# --- the review form -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("review") / "output"
    result = run_cli("build", "--inputs", str(SAMPLE), "--output", str(out), "--as-of", AS_OF,
                     "--school", "0104", "--school", "0107")
    assert result.exit_code == 0, result.output
    return {p.name[:4]: p for p in packet_folders(out)}


def cells(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def find_table(doc, first_header: str):
    return next(t for t in doc.tables if t.rows[0].cells[0].text == first_header)


def test_every_packet_has_a_review_form():
    assert "review" in {f.key for f in FORMS}


def test_the_form_lists_the_schools_review_cycle_and_check_ins(built, sample):
    doc = Document(built["0104"] / "0104-review.docx")
    review = sample["0104"].review
    cycle = cells(find_table(doc, "Step"))
    assert cycle[0] == ["Step", "Due", "Reviewer", "Date completed"]
    assert cycle[1:] == [[e.title, full_date(e.due), e.reviewer, ""] for e in review if e.kind != "check-in"]
    check_ins = cells(find_table(doc, "Check-in"))
    assert check_ins[1:] == [[e.title, full_date(e.due), e.reviewer, ""] for e in review if e.kind == "check-in"]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Plan Review" in text and "Tubman & Douglass Academy" in text


def test_the_form_holds_the_rubric_with_every_level_and_the_plans_findings(built):
    doc = Document(built["0107"] / "0107-review.docx")
    table = find_table(doc, "Criterion")
    assert cells(table)[0] == ["Criterion", "Level (tick one)", "Evidence and comments"]
    rows = cells(table)[1:]
    criteria = review_rubric()
    assert len(rows) == len(criteria)
    for (criterion_cell, levels_cell, comments), criterion in zip(rows, criteria):
        assert criterion_cell.startswith(criterion.criterion) and criterion.question in criterion_cell
        for level, descriptor in criterion.levels:
            assert f"\u2610 {level}: {descriptor}" in levels_cell
        assert comments == ""
    (smart,) = [r for r in rows if r[0].startswith("SMART goals")]
    assert "Automatic check: 1 finding" in smart[0]
    assert "Cedar Grove Elementary has 1 academic SMART goal(s)" in smart[0]
    (alignment,) = [r for r in rows if r[0].startswith("Alignment")]
    assert "Automatic check" not in alignment[0]                  # no rule checks it: left to the reviewer


def test_the_form_has_a_comment_space_per_round_and_the_approval_block(built, sample):
    doc = Document(built["0104"] / "0104-review.docx")
    rounds = [e for e in sample["0104"].review if e.kind in ("feedback", "final-review")]
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert [h for h in headings if h != "Check-ins on the Plan"] == [e.title for e in rounds]
    boxes = [t for t in doc.tables if t.rows[0].cells[0].text == "Strengths"]
    assert len(boxes) == len(rounds)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "\u2610 Approve" in text and "\u2610 Revise and resubmit" in text
    signatures = cells(find_table(doc, "Role"))
    assert signatures[0] == ["Role", "Name", "Signature", "Date"]
    people = roster_people()
    principal = next(p["Name"] for p in people if p["School ID"] == "0104" and p["Role"] == "Principal")
    board = next(p["Name"] for p in people if p["School ID"] is None and p["Role"] == "Board of Education")
    # Issue 17: the principal signs first, then the whole leadership team (a row each), then the
    # district's reviewers, superintendent and board.
    team_roles = ("Leadership Team Chair", "Leadership Team Co-Chair", "Facilitator", "Leadership Team Member")
    team = [(r, p["Name"]) for r in team_roles for p in people if p["School ID"] == "0104" and p["Role"] == r]
    assert team, "the sample school has a leadership team"
    superintendent = next(p["Name"] for p in people if p["Role"] == "Superintendent")
    expected = ([("Principal", principal)] + team + [(e.title, e.reviewer) for e in rounds]
                + [("Superintendent", superintendent), ("Board of Education", board)])
    assert [tuple(r[:2]) for r in signatures[1:]] == expected
    assert all(r[2:] == ["", ""] for r in signatures[1:])
    assert doc.sections[0].footer.paragraphs[0].text == "Tubman & Douglass Academy \u00b7 Plan Review \u00b7 2026-27"


def test_review_rows_split_only_when_long_and_signature_rows_are_tall(built):
    """Issue 17 item 3: a rubric row (findings, every level) may split rather than be cut off at the
    page foot; short rows do not split; header rows repeat as the SDK accepts them; signature rows
    are 0.4 in tall."""
    doc = Document(built["0104"] / "0104-review.docx")
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    body = doc.element.body
    assert not [h for h in body.iter(w + "tblHeader") if h.get(w + "val") is not None]
    rubric = find_table(doc, "Criterion")
    for row in rubric.rows[1:]:
        assert row._tr.find(f"{w}trPr/{w}cantSplit") is None
    for title in ("Step", "Role"):
        for row in find_table(doc, title).rows:
            assert row._tr.find(f"{w}trPr/{w}cantSplit") is not None
    for row in find_table(doc, "Role").rows[1:]:
        height = row._tr.find(f"{w}trPr/{w}trHeight")
        assert (height.get(w + "val"), height.get(w + "hRule")) == ("576", "atLeast")
    assert all(row._tr.find(f"{w}trPr/{w}tblHeader") is not None for row in (rubric.rows[0],))


def test_findings_quote_at_most_a_line_of_a_long_activity(sample):
    """Issue 17 item 4: a readiness finding about a 1,500-character activity quotes its start, at a word."""
    import dataclasses
    packet = sample["0104"]
    strategy = packet.plan.strategies[0]
    long_text = "Teachers meet weekly to study student work " * 40
    activity = dataclasses.replace(strategy.activities[0], activity=long_text, milestone="")
    plan = dataclasses.replace(packet.plan, strategies=(dataclasses.replace(strategy, activities=(activity,)),
                                                        *packet.plan.strategies[1:]))
    findings = [f for f in check_packet(dataclasses.replace(packet, plan=plan)) if f.rule == "activity-details"]
    assert findings
    quoted = findings[0].message.split("'")[1]
    assert quoted.endswith("\u2026") and len(quoted) <= 81 and long_text.startswith(quoted[:-1])
    assert long_text.startswith(quoted[:-1] + " ")          # cut at a word boundary


def test_spreadsheet_text_in_the_review_sheet_stays_text(inputs):
    def odd(ws):
        ws.append(["0101", "Feedback Round", "Round <b>&</b> {{ school.id }}", "@Lee & <Park>",
                   dt.datetime(2027, 5, 8)])
    edit_sheet(inputs / "timeline.xlsx", "Review", odd)
    packet = load(inputs, "0101")["0101"]
    data = render_document(TEMPLATES / "review.docx", packet_contexts(packet)["review"])
    doc = Document(io.BytesIO(data))
    rows = cells(find_table(doc, "Step"))
    assert ["Round <b>&</b> {{ school.id }}", "May 8, 2027", "@Lee & <Park>", ""] in rows
    # The school's own feedback round replaced the district's two.
    assert sum(r[0].startswith("Feedback round") for r in rows) == 0


def test_a_district_without_a_review_sheet_still_gets_the_form(inputs, tmp_path):
    wb = openpyxl.load_workbook(inputs / "timeline.xlsx")
    del wb["Review"]
    wb.save(inputs / "timeline.xlsx")
    packet = load(inputs, "0103")["0103"]
    assert packet.review == ()
    assert [f.rule for f in check_packet(packet) if f.rule.startswith("review-")] == ["review-first-draft"]
    data = render_document(TEMPLATES / "review.docx", packet_contexts(packet)["review"])
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    # Empty sections say so once, with no header row over nothing (issue 17 item 3).
    assert text.count("None recorded.") == 2
    assert not [t for t in doc.tables if t.rows[0].cells[0].text in ("Step", "Check-in")]


def test_context_command_prints_the_review_forms_data():
    result = run_cli("context", "0104", "--inputs", str(SAMPLE), "--as-of", AS_OF, "--form", "review")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [e["title"] for e in data["cycle"]][:1] == ["First draft due (extended: discipline data delayed)"]
    assert len(data["rubric"]) == len(review_rubric())
    assert data["board_approval_scheduled"] == "June 17, 2027"


def test_blank_inputs_have_the_review_and_holidays_sheets(tmp_path):
    result = run_cli("init", str(tmp_path / "blank"))
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / "blank" / "timeline.xlsx")
    assert {"Review", "Holidays"} <= set(wb.sheetnames)
    assert [c.value for c in wb["Review"][1]] == ["School ID", "Step", "Title", "Reviewer", "Due Date", "Repeats",
                                                  "Until", "Skip Dates"]
    assert "Repeats" in [c.value for c in wb["Meetings"][1]] and "Repeats" in [c.value for c in wb["Tasks"][1]]
    shutil.rmtree(tmp_path / "blank")
