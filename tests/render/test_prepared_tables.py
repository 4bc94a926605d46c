"""The prepared Word path skips docxtpl's fix_tables only when rendering cannot change a table's shape;
otherwise it runs it, and the document matches docxtpl's own either way."""

from __future__ import annotations

import io

import pytest
from docx import Document

from generator.render import FORMS, prepared
from generator.render.docx import render_docx
from generator.render.template_data import SHIPPED_FOLDER as TEMPLATES


def grid_columns(data: bytes) -> list[int]:
    return [len(t._tbl.tblGrid.gridCol_lst) for t in Document(io.BytesIO(data)).tables]


def grid_widths(data: bytes) -> list[list[int]]:
    return [[g.w for g in t._tbl.tblGrid.gridCol_lst] for t in Document(io.BytesIO(data)).tables]


def cells(data: bytes) -> list[list[list[str]]]:
    return [[[c.text for c in r.cells] for r in t.rows] for t in Document(io.BytesIO(data)).tables]


def template(path, rows: list[list[str]], columns: int = 3):
    """A .docx with one table of `columns` grid columns and the given rows of cell texts."""
    doc = Document()
    table = doc.add_table(rows=0, cols=columns)
    for texts in rows:
        row = table.add_row()
        for cell, text in zip(row.cells, texts):
            cell.text = text
        for extra in row.cells[len(texts):]:
            extra._tc.getparent().remove(extra._tc)        # a row with fewer cells than the grid
    doc.save(path)
    return path


# The ISBE grid's columns are the school's (the needs-assessment vendor's is an Intensive school's only), so
# its grid is fitted to the columns shown (fit_tables: fix_tables' column removal, done on the text).
COLUMNS_CHANGE = {"isbe-grid"}


@pytest.mark.parametrize("form", [f for f in FORMS if f.suffix == ".docx"], ids=lambda f: f.key)
def test_the_packet_templates_take_the_path_without_fix_tables(form):
    assert prepared(TEMPLATES / form.template).tables_keep_their_shape == (form.key not in COLUMNS_CHANGE)


FIXED = {
    "column loop": [["{%tc for c in cols %}", "{{ c }}", "{%tc endfor %}"], ["{{ school }}", "b", "c"]],
    "row loop first": [["{%tr for c in cols %}"], ["{{ c }}", "b", "c"], ["{%tr endfor %}"]],
    "if across cells": [["{% if school %}a", "b", "c{% endif %}"], ["1", "2", "3"]],
    "short row": [["a", "b", "c"], ["{{ school }}", "only two"]],
}


@pytest.mark.parametrize("case", FIXED, ids=str)
def test_a_table_that_may_change_shape_goes_through_fix_tables_like_docxtpl(tmp_path, case):
    path = template(tmp_path / "t.docx", FIXED[case])
    ready = prepared(path)
    assert not ready.tables_keep_their_shape
    context = {"school": "Lincoln & Douglas <Academy>", "cols": ["x", "y", "z", "w"]}
    ours, theirs = ready.render(context), render_docx(path, context)
    assert cells(ours) == cells(theirs)
    assert grid_columns(ours) == grid_columns(theirs)
    assert grid_widths(ours) == grid_widths(theirs)


def test_a_column_loop_widens_the_grid_as_docxtpl_does(tmp_path):
    path = template(tmp_path / "t.docx", [["{%tc for c in cols %}", "{{ c }}", "{%tc endfor %}"]])
    data = prepared(path).render({"cols": ["a", "b", "c", "d", "e"]})
    assert cells(data) == [[["a", "b", "c", "d", "e"]]]
    assert grid_columns(data) == [5]


def test_row_loops_and_cell_tags_keep_the_shape(tmp_path):
    path = template(tmp_path / "t.docx", [["Name", "When", "Who"], ["{%tr for c in cols %}"],
                                         ["{{ c }}", "{% if c %}yes{% endif %}", "z"], ["{%tr endfor %}"]])
    ready = prepared(path)
    assert ready.tables_keep_their_shape
    data = ready.render({"cols": ["a", "b"]})
    assert cells(data) == cells(render_docx(path, {"cols": ["a", "b"]}))
    assert cells(data) == [[["Name", "When", "Who"], ["a", "yes", "z"], ["b", "yes", "z"]]]


def test_a_body_that_is_not_well_formed_is_recovered_as_docxtpl_recovers_it(tmp_path):
    """Only a template can make the XML malformed (values are escaped); such a body goes through
    lxml's recovering parse as in docxtpl, and the document reads the same."""
    path = template(tmp_path / "t.docx", [["{{ a }}", "b", "c"]])
    doc = Document(path)
    doc.add_paragraph("{{ raw|safe }} after")
    doc.save(path)
    context = {"a": "x & y", "raw": "</w:r>"}          # closes a run inside its text: malformed
    ours = Document(io.BytesIO(prepared(path).render(context)))
    theirs = Document(io.BytesIO(render_docx(path, context)))
    assert [p.text for p in ours.paragraphs] == [p.text for p in theirs.paragraphs]
    assert cells(prepared(path).render(context)) == [[["x & y", "b", "c"]]]


def test_line_breaks_and_tabs_in_values_become_word_breaks_as_in_docxtpl(tmp_path):
    path = template(tmp_path / "t.docx", [["{{ a }}", "b", "c"]])
    doc = Document(path)
    doc.add_paragraph("{{ text }}")
    doc.save(path)
    for text in ("one line", "line one\nline two\tand a tab", "page\fbreak"):
        context = {"a": "cell\nbreak", "text": text}
        ours, theirs = prepared(path).render(context), render_docx(path, context)
        body = Document(io.BytesIO(ours)).element.body
        assert [p.text for p in Document(io.BytesIO(ours)).paragraphs] == \
            [p.text for p in Document(io.BytesIO(theirs)).paragraphs]
        assert cells(ours) == cells(theirs)
        assert len(body.xpath(".//w:br")) == text.count("\n") + text.count("\f") + 1     # + the cell's
        assert len(body.xpath(".//w:tab")) == text.count("\t")


@pytest.mark.parametrize("shown", [["x", "y", "z"], ["x", "y"], ["x"]])
def test_cells_left_out_narrow_the_grid_as_fix_tables_does_without_it(tmp_path, shown):
    """Cells an if leaves out (the ISBE grid's vendor column, for a school not Intensive): fit_tables drops
    the grid columns no row reaches and shares their width out as fix_tables does, on the text."""
    from generator.render.fast.docx import fit_tables
    y, z = "{% if 'y' in cols %}", "{% endif %}{% if 'z' in cols %}"
    path = template(tmp_path / "t.docx", [[f"a{y}", f"b{z}", "c{% endif %}"], [f"1{y}", f"2{z}", "3{% endif %}"]])
    context = {"cols": shown}
    ours, theirs = prepared(path).render(context), render_docx(path, context)
    assert cells(ours) == cells(theirs) and grid_widths(ours) == grid_widths(theirs)
    assert fit_tables("<w:tbl><w:tblGrid><w:gridCol w:w=\"10\"/></w:tblGrid><w:tr><w:tc></w:tc><w:tc></w:tc>"
                      "</w:tr></w:tbl>") is None          # a row wider than the grid: fix_tables' to do


@pytest.mark.parametrize("school_id", ["0102", "0104", "0107"])    # Intensive, Comprehensive, Targeted
def test_the_isbe_grid_fitted_to_its_columns_matches_docxtpl(school_id):
    import datetime as dt

    from generator.pipeline import load_district
    from generator.render import packet_contexts
    from generator.settings import load_settings

    from conftest import AS_OF, SAMPLE
    district, _ = load_district(load_settings(SAMPLE, None, dt.date.fromisoformat(AS_OF), (school_id,)))
    context = packet_contexts(district.packets[0])["isbe-grid"]
    ours, theirs = prepared(TEMPLATES / "isbe_grid.docx").render(context), render_docx(TEMPLATES / "isbe_grid.docx",
                                                                                          context)
    assert cells(ours) == cells(theirs)
    assert grid_widths(ours) == grid_widths(theirs)
    assert len(grid_widths(ours)[1]) == (8 if school_id == "0102" else 7)


def test_a_malformed_tag_is_named_with_the_paragraph_it_is_in(tmp_path):
    """The fast engine compiles a body as one line; its error still quotes the paragraphs at fault."""
    from generator.findings import PacketsError
    path = template(tmp_path / "t.docx", [["{{ a }}", "b", "c"]])
    doc = Document(path)
    doc.add_paragraph("Before the fault")
    doc.add_paragraph("Owner: {{ owner.name ")
    doc.add_paragraph("After the fault")
    doc.save(path)
    with pytest.raises(PacketsError) as raised:
        prepared(path)
    message = str(raised.value)
    assert message.startswith("t.docx: a template tag is malformed (")
    assert "; near: " in message and "'Owner: {{ owner.name" in message


@pytest.mark.parametrize(("source", "always"), [
    ("<p>{% if x %}<r>a</r>{% endif %}</p>", True),
    ("<p>{% if a %}<x/>{% elif b %}<y></y>{% else %}t{% endif %}</p>", True),
    ('<p a="{{ v }}">{% for i in l %}<r/>{% endfor %}</p>', True),
    ("<p><r><t>a{% if x %}</t></r><r><b/><t>b{% endif %}</t></r></p>", True),    # a run split around a word
    ("<p>{% set y = 1 %}{{ y }}{# a note #}</p>", True),
    ("<p>{% if x %}<r>a{% endif %}</r></p>", False),               # the if leaves <r> open
    ("<p><r><t>a{% if x %}</t></r><u><t>b{% endif %}</t></r></p>", False),
    ("<p>{% if a %}<x>{% else %}<y>{% endif %}</p>", False),
    ("<p>{% for i in l %}<r>{% endfor %}</p>", False),              # a body that opens: repeated, it nests
    ('<p {% if x %}a="1"{% endif %}>t</p>', False),                  # a block inside a tag could cut it
    ('<p a="{% if x %}1{% endif %}">t</p>', False),
    ("<p>{{ v|safe }}</p>", False),                                  # a value printed as XML
    ("<p><!-- {% if x %} --></p>", False),
    ("</w:t></w:r>{% if x %}<w:r>{% endif %}", False),
    ("<p>{% macro m() %}<r>{% endmacro %}</p>", False),              # a block it does not look into
])
def test_a_template_is_known_to_render_well_formed_only_when_every_branch_keeps_it_so(source, always):
    """Each document is checked (expat) unless every rendering of its template is sure to be well formed;
    the analysis may say no to a safe template, never yes to an unsafe one."""
    from generator.render.fast.docx import always_well_formed
    from generator.render.jinja import jinja_env
    assert always_well_formed(jinja_env(autoescape=True), source) is always


def test_the_shipped_templates_need_no_check_of_each_document():
    for form in FORMS:
        if form.suffix == ".docx":
            assert prepared(TEMPLATES / form.template).always_well_formed, form.template
