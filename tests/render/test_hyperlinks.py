"""readiness.xlsx's folder and PDF cells are hyperlinks to the relative paths they show, added to the
rendered workbook's XML by render/hyperlinks.py: over either engine's output (inline strings from the fast
engine, shared strings from openpyxl), valid by the SDK's rules, every other cell and part kept."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from openxml_audit import OpenXmlValidator

from generator.render import prepared, render_document
from generator.render.hyperlinks import link_paths
from generator.render.xlsx import render_xlsx

from conftest import workbook_content

FIELDS = ("folder", "pdf")
ROWS = [
    {"name": "Tubman & Douglass <Academy>", "folder": "0104-tubman-douglass-academy", "pdf": "0104/0104 packet.pdf"},
    {"name": "No PDF yet", "folder": "0105-o-keeffe", "pdf": ""},
    {"name": "=HYPERLINK(\"http://evil.example\")", "folder": "0106\\lakeside", "pdf": None},
]


@pytest.fixture
def template(tmp_path) -> Path:
    """A report template like readiness.xlsx: a title, a header row, the repeating row, and a second sheet
    whose repeating row shows no path."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Readiness"
    ws.append(["Report {{ title }}"])
    ws.append(["School", "Packet folder", "Packet PDF"])
    ws.append(["{% for row in rows %}{{ row.name }}", "{{ row.folder }}", "{{ row.pdf }}"])
    other = wb.create_sheet("Notes")
    other.append(["{% for row in rows %}{{ row.name }}"])
    path = tmp_path / "report.xlsx"
    wb.save(path)
    return path


def rendered(template: Path, engine: str) -> bytes:
    context = {"title": "T", "rows": ROWS}
    if engine == "reference":
        return render_xlsx(template, context)
    ready = prepared(template)
    assert ready is not None, "the fast engine should prepare this template"
    return ready.render(context)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_link_cells_become_relative_hyperlinks_and_nothing_else_changes(template, tmp_path, engine):
    before = rendered(template, engine)
    after = link_paths(before, template, FIELDS)
    linked = openpyxl.load_workbook(io.BytesIO(after))
    plain = openpyxl.load_workbook(io.BytesIO(before))
    ws = linked["Readiness"]
    links = {c.coordinate: c.hyperlink.target for row in ws.iter_rows() for c in row if c.hyperlink}
    assert links == {"B3": "0104-tubman-douglass-academy", "C3": "0104/0104%20packet.pdf",
                     "B4": "0105-o-keeffe", "B5": "0106/lakeside"}
    assert not any(c.hyperlink for row in linked["Notes"].iter_rows() for c in row)    # no path field there
    for title in ("Readiness", "Notes"):
        assert [[c.value for c in row] for row in linked[title].iter_rows()] == \
               [[c.value for c in row] for row in plain[title].iter_rows()]
    assert ws["A5"].value.startswith("=HYPERLINK") and ws["A5"].data_type == "s"      # still text
    with zipfile.ZipFile(io.BytesIO(before)) as a, zipfile.ZipFile(io.BytesIO(after)) as b:
        changed = {n for n in b.namelist() if n not in a.namelist() or a.read(n) != b.read(n)}
    assert changed == {"xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels"}
    assert sdk_problems(after, tmp_path) == []


def sdk_problems(workbook: bytes, tmp_path: Path) -> list[str]:
    """What the Open XML SDK's rules find in the workbook, but for what openpyxl writes in every workbook
    (its inline strings' and stylesheet's known findings)."""
    path = tmp_path / "checked.xlsx"
    path.write_bytes(workbook)
    return [e.description for e in OpenXmlValidator(max_errors=0).validate(path).errors
            if "inline-string" not in e.description and "/xl/styles.xml" != e.part_uri]


def test_a_workbook_without_link_columns_is_returned_as_it_is(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["{% for row in rows %}{{ row.name }}"])
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    data = render_xlsx(path, {"rows": ROWS})
    assert link_paths(data, path, FIELDS) is data


def links_of(data: bytes) -> dict[str, dict[str, str]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: {c.coordinate: c.hyperlink.target for row in ws.iter_rows() for c in row if c.hyperlink}
            for ws in book.worksheets}


def test_the_fast_engine_writes_the_links_link_paths_would_add(template, tmp_path):
    # What readiness.xlsx is rendered with: the links written with the cells, not added by a second pass.
    ready = prepared(template)
    assert ready is not None and ready.writes_links(FIELDS)
    written = render_document(template, {"title": "T", "rows": ROWS}, FIELDS)
    added = link_paths(rendered(template, "fast"), template, FIELDS)
    assert links_of(written) == links_of(added) == {
        "Readiness": {"B3": "0104-tubman-douglass-academy", "C3": "0104/0104%20packet.pdf", "B4": "0105-o-keeffe",
                      "B5": "0106/lakeside"}, "Notes": {}}
    assert workbook_content(written) == workbook_content(added)
    with zipfile.ZipFile(io.BytesIO(written)) as a, zipfile.ZipFile(io.BytesIO(added)) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        rels = "xl/worksheets/_rels/sheet1.xml.rels"
        assert etree.tostring(etree.fromstring(a.read(rels)), method="c14n") == \
            etree.tostring(etree.fromstring(b.read(rels)), method="c14n")
    assert sdk_problems(written, tmp_path) == []


def test_no_rows_and_no_paths_mean_no_links_and_no_relationships(template):
    for rows in ([], [{"name": "x", "folder": "", "pdf": None}]):
        written = render_document(template, {"title": "T", "rows": rows}, FIELDS)
        assert links_of(written) == {"Readiness": {}, "Notes": {}}
        with zipfile.ZipFile(io.BytesIO(written)) as package:
            assert not [n for n in package.namelist() if n.endswith(".rels") and "worksheets" in n]
            assert b"hyperlinks" not in package.read("xl/worksheets/sheet1.xml")


def test_a_sheet_with_links_of_its_own_has_them_added_to_after_it_is_written(template, tmp_path):
    # A district's own template linking a cell itself: the fast engine leaves the links to link_paths, which
    # adds to the sheet's own.
    wb = openpyxl.load_workbook(template)
    wb["Readiness"]["D1"] = "Help"
    wb["Readiness"]["D1"].hyperlink = "https://example.org/help"
    own = tmp_path / "own.xlsx"
    wb.save(own)
    ready = prepared(own)
    assert ready is not None and not ready.writes_links(FIELDS)
    written = render_document(own, {"title": "T", "rows": ROWS}, FIELDS)
    assert links_of(written)["Readiness"] == {"D1": "https://example.org/help", "B3": "0104-tubman-douglass-academy",
                                              "C3": "0104/0104%20packet.pdf", "B4": "0105-o-keeffe",
                                              "B5": "0106/lakeside"}
