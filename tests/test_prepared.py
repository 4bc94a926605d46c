"""Prepared Word templates write the same documents as docxtpl's own render-and-save."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document

from conftest import AS_OF, SAMPLE
from generator.pipeline import load_district
from generator.render import FORMS, packet_contexts, prepared_docx
from generator.render.docx import render_docx
from generator.render.reference import TEMPLATES
from generator.settings import load_settings


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
    }


@pytest.fixture(scope="module")
def packets():
    district, _ = load_district(load_settings(SAMPLE, None, dt.date.fromisoformat(AS_OF)))
    return district.packets


@pytest.mark.parametrize("form", [f for f in FORMS if f.suffix == ".docx"], ids=lambda f: f.key)
def test_prepared_template_matches_docxtpl_on_every_sample_school(packets, form):
    template = TEMPLATES / form.template
    prepared = prepared_docx(template)
    for packet in packets:
        context = packet_contexts(packet)[form.key]
        assert content(prepared.render(context)) == content(render_docx(template, context)), packet.school.school_id


def test_prepared_plan_embeds_the_chart(packets):
    context = packet_contexts(packets[0])["plan"]
    doc = content(prepared_docx(TEMPLATES / "plan.docx").render(context))
    assert len(doc["images"]) == 1 and doc["images"][0] == context["timeline_chart"].png


def test_a_changed_template_is_prepared_again(tmp_path):
    import shutil
    import time
    path = tmp_path / "schedule.docx"
    shutil.copy(TEMPLATES / "schedule.docx", path)
    first = prepared_docx(path)
    assert prepared_docx(path) is first
    time.sleep(0.01)
    path.write_bytes(path.read_bytes())
    import os
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert prepared_docx(path) is not first
