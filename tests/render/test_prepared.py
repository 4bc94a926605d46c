"""Prepared templates write the same documents as the straightforward path: docxtpl's own
render-and-save for Word, openpyxl's load-fill-save for Excel."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document
from openpyxl import load_workbook

from generator.pipeline import load_district
from generator.render import FORMS, packet_contexts, prepared
from generator.render.docx import render_docx
from generator.render.hyperlinks import link_paths
from generator.render.template_data import SHIPPED_FOLDER as TEMPLATES
from generator.render.xlsx import render_xlsx
from generator.settings import load_settings

from conftest import AS_OF, SAMPLE, workbook_content


def content(data: bytes) -> dict:
    """What a reader sees: text, tables, headers and footers, page setup, and the images' bytes."""
    doc = Document(io.BytesIO(data))
    return {
        "paragraphs": [(p.style.name, p.text) for p in doc.paragraphs],
        "tables": [[[c.text for c in r.cells] for r in t.rows] for t in doc.tables],
        "shading": [t._tbl.xpath(".//w:shd/@w:fill") for t in doc.tables],
        "sections": [(s.page_width, s.page_height, s.orientation, s.left_margin, s.top_margin,
                      [p.text for p in s.footer.paragraphs], [p.text for p in s.header.paragraphs])
                     for s in doc.sections],
        "images": [doc.part.related_parts[rid].blob for rid in doc.element.body.xpath(".//a:blip/@r:embed")],
        "repeat_header": [bool(t.rows[0]._tr.xpath("./w:trPr/w:tblHeader")) for t in doc.tables],
        # The order of each cell's properties: the schema fixes it, and both engines must keep to it.
        "cell_properties": [[child.tag for child in tc_pr] for tc_pr in doc.element.body.iter(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tcPr")],
    }


@pytest.fixture(scope="module")
def packets():
    district, _ = load_district(load_settings(SAMPLE, None, dt.date.fromisoformat(AS_OF)))
    return district.packets


@pytest.mark.slow
@pytest.mark.parametrize("form", [f for f in FORMS if f.suffix == ".docx"], ids=lambda f: f.key)
def test_prepared_template_matches_docxtpl_on_every_sample_school(packets, form):
    template = TEMPLATES / form.template
    ready = prepared(template)
    for packet in packets:
        context = packet_contexts(packet)[form.key]
        assert content(ready.render(context)) == content(render_docx(template, context)), packet.school.school_id


def test_prepared_plan_has_its_timeline_as_a_table_not_a_picture(packets):
    context = packet_contexts(packets[0])["plan"]
    doc = content(prepared(TEMPLATES / "plan.docx").render(context))
    assert doc["images"] == [] and content(render_docx(TEMPLATES / "plan.docx", context)) == doc


XLSX_FORMS = [f for f in FORMS if f.suffix == ".xlsx"]


@pytest.mark.slow
@pytest.mark.parametrize("form", XLSX_FORMS, ids=lambda f: f.key)
def test_prepared_workbook_matches_openpyxl_on_every_sample_school(packets, form):
    template = TEMPLATES / form.template
    ready = prepared(template)
    assert ready is not None, "the packet's Excel templates must take the prepared path"
    for packet in packets:
        context = packet_contexts(packet)[form.key]
        assert workbook_content(ready.render(context)) == workbook_content(render_xlsx(template, context)), \
            packet.school.school_id


@pytest.mark.parametrize("form", XLSX_FORMS, ids=lambda f: f.key)
def test_prepared_workbook_keeps_data_as_data_like_openpyxl(packets, form):
    """Formula-like text, XML specials, long text, dates, numbers and no rows at all: each written as
    the straightforward path writes it."""
    template = TEMPLATES / form.template
    context = packet_contexts(packets[0])[form.key]
    row = dict(context["rows"][0])
    texts = ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "Lincoln & Douglas <Academy> \"q\" 'a'",
             "  padded  ", "line one\nline two", "x" * 40000]
    rows = []
    for i, text in enumerate(texts):
        changed = {k: (text if isinstance(v, str) else v) for k, v in row.items()}
        first = next(k for k, v in row.items() if isinstance(v, str))
        changed[first] = dt.date(2027, 1, 2) if i == 0 else changed[first]
        rows.append(changed)
    for case in ({**context, "rows": rows}, {**context, "rows": []}):
        data = prepared(template).render(case)
        assert workbook_content(data) == workbook_content(render_xlsx(template, case))
    book = load_workbook(io.BytesIO(prepared(template).render({**context, "rows": rows})))
    cells = [c.value for ws in book.worksheets for r in ws.iter_rows() for c in r]
    assert "=HYPERLINK(\"http://x\")" in cells and "Lincoln & Douglas <Academy> \"q\" 'a'" in cells


def test_a_template_the_prepared_path_cannot_reproduce_is_rendered_the_straightforward_way(tmp_path, packets):
    from generator.render import render_document
    path = tmp_path / "schedule.xlsx"
    wb = load_workbook(TEMPLATES / "schedule.xlsx")
    ws = wb.worksheets[0]
    ws.cell(row=ws.max_row, column=2).hyperlink = "https://example.org/"
    wb.save(path)
    assert prepared(path) is None
    context = packet_contexts(packets[0])["schedule-tracker"]
    assert workbook_content(render_document(path, context)) == workbook_content(render_xlsx(path, context))


@pytest.mark.slow
def test_district_reports_take_the_prepared_path_and_match_openpyxl(tmp_path, monkeypatch):
    """readiness.xlsx, district.xlsx and validation.xlsx are rendered as the packet workbooks are."""
    from generator import pipeline, render
    from generator.findings import ERROR, Finding
    from generator.pipeline import rebuild
    seen = []

    def spy(template, context, links=()):
        seen.append((template, context, links))
        return real(template, context, links)
    real = rebuild.render_document
    monkeypatch.setattr(rebuild, "render_document", spy)
    monkeypatch.setattr(render, "render_document", spy)       # render.validation's, through the package
    settings = load_settings(SAMPLE, tmp_path / "output", dt.date.fromisoformat(AS_OF))
    pipeline.build(settings)
    broken = Finding(ERROR, "=A broken <cell> & more", file="roster.xlsx", sheet="Schools", row=3, column="B")
    pipeline.write_validation_report(tmp_path / "validation.xlsx", [broken], "1 error")
    assert sorted(t.name for t, _, _ in seen) == ["district.xlsx", "readiness.xlsx", "validation.xlsx"]
    for template, context, links in seen:
        ready = prepared(template)
        assert ready is not None and ready.writes_links(links), template.name
        # readiness.xlsx's folders and PDFs as links: written with the cells here, added after openpyxl
        assert workbook_content(ready.render(context, links)) == \
            workbook_content(link_paths(render_xlsx(template, context), template, links) if links
                             else render_xlsx(template, context))
    assert [bool(links) for t, _, links in seen if t.name == "readiness.xlsx"] == [True]


def tricky_rows(row: dict) -> list[dict]:
    """Rows giving every field of a schedule row values a remembered cell could be mixed up with:
    equal-looking values of other types, texts differing only in spaces, escapes or length."""
    values = ["1", 1, True, 1.0, "True", 0.0, -0.0, dt.date(2027, 1, 2), dt.datetime(2027, 1, 2),
              dt.datetime(2027, 1, 2, 15, 30), dt.time(9, 30), "=1", "1 ", " 1", "a & b", "a &amp; b",
              "x" * 50, "x" * 51, "word " * 30, ["one", "two"], "one\ntwo", None, "", "-", "@ home"]
    return [{key: value for key in row} for value in values]


@pytest.mark.slow
def test_remembered_cells_are_never_mixed_up(packets):
    """The same prepared template writes many rows and workbooks: a text or date is written in each
    column with that column's style and width, whatever other values came before it."""
    template = TEMPLATES / "schedule.xlsx"
    context = packet_contexts(packets[0])["schedule-tracker"]
    rows = tricky_rows(context["rows"][0])
    ready = prepared(template)
    for case in (rows, rows[::-1], rows[::2] + rows[1::2], context["rows"]):
        assert workbook_content(ready.render({**context, "rows": case})) == \
            workbook_content(render_xlsx(template, {**context, "rows": case}))


@pytest.mark.slow
def test_a_repeated_row_mixing_text_outside_fields_and_fixed_cells_matches_openpyxl(tmp_path, packets):
    path = tmp_path / "schedule.xlsx"
    wb = load_workbook(TEMPLATES / "schedule.xlsx")
    ws = wb.worksheets[0]
    ws["B5"] = "Task: {{ row.task }} ({{ row.status or 'open' }})"
    ws["C5"] = "{{ school.name }}"
    ws["D5"] = "fixed & kept"
    ws["H5"] = "{{ planning_year }}"
    wb.save(path)
    ready = prepared(path)
    assert ready is not None
    for packet in packets[:3]:
        context = packet_contexts(packet)["schedule-tracker"]
        assert workbook_content(ready.render(context)) == workbook_content(render_xlsx(path, context))


def test_rows_that_are_not_plain_dicts_are_read_as_openpyxl_reads_them(packets):
    from collections import OrderedDict

    from generator.findings import PacketsError
    template = TEMPLATES / "schedule.xlsx"
    context = packet_contexts(packets[0])["schedule-tracker"]
    case = {**context, "rows": [OrderedDict(r) for r in context["rows"][:3]] + context["rows"][3:5]}
    assert workbook_content(prepared(template).render(case)) == workbook_content(render_xlsx(template, case))
    for rows in ([{"stage": "only a stage"}], ["not a row"], [context["rows"][0], {}]):
        with pytest.raises(PacketsError) as fast:
            prepared(template).render({**context, "rows": rows})
        with pytest.raises(PacketsError) as plain:
            render_xlsx(template, {**context, "rows": rows})
        assert str(fast.value) == str(plain.value)


def test_control_characters_are_dropped_every_time_a_text_is_written(packets):
    """openpyxl refuses such text; the prepared path drops the characters, also for remembered text."""
    template = TEMPLATES / "schedule.xlsx"
    context = packet_contexts(packets[0])["schedule-tracker"]
    row = context["rows"][0]
    dirty = [{**row, "task": "bell\x07 and\x01 tab\tok", "notes": "=\x0bformula"}] * 3
    clean = [{**row, "task": "bell and tab\tok", "notes": "=formula"}] * 3
    for _ in range(2):
        assert workbook_content(prepared(template).render({**context, "rows": dirty})) == \
            workbook_content(render_xlsx(template, {**context, "rows": clean}))


def test_a_dictionarys_keys_are_read_first_and_missing_names_still_fail_loudly():
    from types import SimpleNamespace

    import jinja2

    from generator.render.jinja import jinja_env

    env = jinja_env(autoescape=True)
    # A column named like a dict method is the row's value, not the method; escaping still applies.
    page = env.from_string("{{ row.items }}|{{ row.name }}|{{ obj.name }}|{{ row.get('name') }}")
    assert page.render(row={"items": "Books & <pens>", "name": "Lincoln"}, obj=SimpleNamespace(name="Obj")) \
        == "Books &amp; &lt;pens&gt;|Lincoln|Obj|Lincoln"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ row.missing }}").render(row={"name": "Lincoln"})
