"""Excel output: text that looks like a formula is written as text, never as a formula; dates stay dates."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from generator.render.xlsx import set_value

FORMULA_LIKE = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "=1+1", '=cmd|" /C calc"!A0', "- bullet point"]


def round_trip(values):
    """Write values into A1, A2, ... with set_value; return (cells before saving, sheet after reloading)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    cells = []
    for i, value in enumerate(values, start=1):
        cell = ws.cell(row=i, column=1)
        set_value(cell, value)
        cells.append(cell)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return cells, openpyxl.load_workbook(buffer).active


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_formula_like_text_is_written_as_text(text):
    (cell,), reloaded = round_trip([text])
    assert cell.data_type == "s"
    assert cell.value == text
    again = reloaded["A1"]
    assert again.value == text
    assert again.data_type == "s"
    assert again.quotePrefix is True       # Excel shows it as text and keeps it text if the cell is edited


def test_saved_xml_has_no_formula_element():
    wb = openpyxl.Workbook()
    for i, text in enumerate(FORMULA_LIKE, start=1):
        set_value(wb.active.cell(row=i, column=1), text)
    buffer = io.BytesIO()
    wb.save(buffer)
    sheet_xml = zipfile.ZipFile(io.BytesIO(buffer.getvalue())).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    assert sheet_xml.count("<c ") == len(FORMULA_LIKE)


def test_formula_like_items_of_a_list_are_text():
    (cell,), reloaded = round_trip([["=1+1", "plain"]])
    assert reloaded["A1"].value == "=1+1\nplain"
    assert reloaded["A1"].data_type == "s"


def test_ordinary_values_keep_their_types():
    _, ws = round_trip(["plain text", 42, 2.5, dt.date(2026, 11, 15), dt.datetime(2026, 11, 15, 15, 30), None])
    assert (ws["A1"].value, ws["A1"].data_type, ws["A1"].quotePrefix) == ("plain text", "s", False)
    assert (ws["A2"].value, ws["A2"].data_type) == (42, "n")
    assert (ws["A3"].value, ws["A3"].data_type) == (2.5, "n")
    assert ws["A4"].is_date and ws["A4"].value == dt.datetime(2026, 11, 15)
    assert ws["A5"].is_date and ws["A5"].value == dt.datetime(2026, 11, 15, 15, 30)
    assert ws["A6"].value is None


def test_date_cell_before_saving_is_a_date():
    (cell,), _ = round_trip([dt.date(2026, 11, 15)])
    assert cell.data_type == "d"
    assert cell.value == dt.date(2026, 11, 15)


def test_text_beyond_excels_cell_limit_is_cut_visibly():
    from openpyxl import Workbook

    from generator.render.xlsx import EXCEL_CELL_LIMIT, set_value
    cell = Workbook().active["A1"]
    set_value(cell, "x" * 40000)
    assert len(cell.value) == EXCEL_CELL_LIMIT
    assert cell.value.endswith("more characters not shown: Excel's cell limit]")
    set_value(cell, "short")
    assert cell.value == "short"
