"""Issue 17 (d): a date written in running text never wraps over two lines of a Word form. Its spaces are
typeset as no-break spaces, through either engine, with the text still escaped; a spreadsheet keeps plain
spaces, which Excel's search and filters match."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from docx import Document

from generator import render
from generator.model.dates import keep_dates_whole
from generator.pipeline import load_district
from generator.render import packet_contexts, render_document
from generator.render.template_data import SHIPPED_FOLDER as TEMPLATES
from generator.settings import load_settings

from conftest import AS_OF, SAMPLE

NB = "\u00a0"


def load():
    district, _ = load_district(load_settings(SAMPLE, None, dt.date.fromisoformat(AS_OF)))
    return {p.school.school_id: p for p in district.packets}


@pytest.mark.parametrize("text,expected", [
    ("The IQFSR is due January 31, 2027.", f"The IQFSR is due January{NB}31,{NB}2027."),
    ("Meet Sept. 15 and Oct 3, 2026", f"Meet Sept.{NB}15 and Oct{NB}3,{NB}2026"),
    ("was due October 29, 2026 and is not done", f"was due October{NB}29,{NB}2026 and is not done"),
    ("September 10, 2026", "September 10, 2026"),          # a date alone fills a column measured for it
    ("Monthly review of 3 grades", "Monthly review of 3 grades"),
    ("", ""),
])
def test_written_dates_are_bound_by_no_break_spaces(text, expected):
    assert keep_dates_whole(text) == expected


@pytest.mark.parametrize("engine", ["reference", "prepared"])
def test_a_findings_date_on_the_review_form_is_kept_whole(engine, monkeypatch):
    if engine == "reference":
        monkeypatch.setenv(render.ENGINE_ENV, "reference")
    packet = load()["0102"]
    context = packet_contexts(packet)["review"]
    text = " ".join(p.text for t in Document(io.BytesIO(render_document(TEMPLATES / "review.docx", context))).tables
                    for r in t.rows for c in r.cells for p in c.paragraphs)
    assert f"was due October{NB}30,{NB}2026" in text and "was due October 30" not in text


def test_spreadsheets_keep_plain_spaces_in_dates():
    packet = load()["0104"]
    data = render_document(TEMPLATES / "isbe_grid.xlsx", packet_contexts(packet)["isbe-grid-tracker"])
    values = [c for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)
              for c in row if isinstance(c, str)]
    assert any("January 31, 2027" in v for v in values) and not any(NB in v for v in values)
