"""readiness.xlsx's folder and PDF cells are hyperlinks to the relative paths they show, added to the
rendered workbook's XML by render/hyperlinks.py: over either engine's output (inline strings from the fast
engine, shared strings from openpyxl), valid by the SDK's rules, every other cell and part kept."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openxml_audit import OpenXmlValidator

from generator.render import prepared
from generator.render.hyperlinks import link_paths
from generator.render.xlsx import render_xlsx

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
    path = tmp_path / "linked.xlsx"
    path.write_bytes(after)
    problems = [e.description for e in OpenXmlValidator(max_errors=0).validate(path).errors
                if "inline-string" not in e.description and "/xl/styles.xml" != e.part_uri]
    assert problems == []


def test_a_workbook_without_link_columns_is_returned_as_it_is(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["{% for row in rows %}{{ row.name }}"])
    path = tmp_path / "plain.xlsx"
    wb.save(path)
    data = render_xlsx(path, {"rows": ROWS})
    assert link_paths(data, path, FIELDS) is data
