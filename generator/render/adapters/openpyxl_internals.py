"""openpyxl's internals, as the Excel engines use them. Checked against openpyxl 3.1.5.

Used by both engines: a cell's style array (`Cell._style`), copied whole so a repeated row keeps every
style of the template row. Used by the fast engine (render/fast/xlsx.py): a sheet's zip entry
(`Worksheet.path`), the number formats openpyxl gives dates (`openpyxl.cell.cell.TIME_FORMATS`), the
characters it refuses in text, and the XML its writer (`openpyxl.cell._writer`, lxml_write_cell;
`openpyxl.worksheet._writer`) writes for a cell, a row height and a sheet's dimension, which the fast
engine writes itself. tests/render/test_prepared.py holds that engine's workbooks to what openpyxl writes.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from xml.sax.saxutils import escape

from openpyxl.cell import cell as cell_module
from openpyxl.cell.cell import Cell
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.worksheet import Worksheet

from generator.render.adapters import missing, require

CHECKED = "3.1.5"
_ABSENT = (missing(cell_module, "TIME_FORMATS", "ILLEGAL_CHARACTERS_RE")
           + tuple(f"Cell.{name}" for name in missing(Cell, "_style")))
TIME_FORMATS: Any = getattr(cell_module, "TIME_FORMATS", None)
ILLEGAL_CHARACTERS_RE: Any = getattr(cell_module, "ILLEGAL_CHARACTERS_RE", None)

__all__ = ["CHECKED", "ILLEGAL_CHARACTERS_RE", "TIME_FORMATS", "check", "is_date_format"]


def check() -> None:
    """Fail clearly when this openpyxl lacks an internal the Excel engines use."""
    require("openpyxl", CHECKED, _ABSENT)


# --- styles ------------------------------------------------------------------------------------

def style_of(cell: Cell) -> Any:
    """A copy of the cell's whole style (font, fill, border, alignment, number format, protection)."""
    return copy.copy(cell._style)


def set_style(cell: Cell, style: Any) -> None:
    cell._style = copy.copy(style)


def sheet_part(ws: Worksheet) -> str:
    """The zip entry openpyxl writes the sheet to, e.g. xl/worksheets/sheet1.xml."""
    return ws.path.lstrip("/")


# --- the XML openpyxl's writer writes ---------------------------------------------------------
# Each function returns a cell's XML after its reference (`<c r="A5"`): style, type and value.

def _s(style: int) -> str:
    return f' s="{style}"' if style else ""


def empty_cell(style: int) -> str:
    return f'{_s(style)}/>'


def boolean_cell(style: int, value: bool) -> str:
    return f'{_s(style)} t="b"><v>{int(value)}</v></c>'


def number_cell(style: int, value: int | float) -> str:
    return f'{_s(style)} t="n"><v>{value!r}</v></c>'


def date_cell(style: int, value: Any) -> str:
    """A date, datetime or time, written as Excel's serial number (openpyxl's default epoch)."""
    return f'{_s(style)} t="n"><v>{to_excel(value)}</v></c>'


def cell_text(value: Any) -> str:
    """The text a cell holds for a value, without the control characters openpyxl refuses."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def text_cell(style: int, text: str) -> str:
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'{_s(style)} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def row_height(height: float | None) -> str:
    """A row element's attributes for a set height ('' for none)."""
    return f' ht="{height}" customHeight="1"' if height else ""


def as_characters(xml: str, *characters: str) -> str:
    """The sheet XML with these characters as themselves: openpyxl writes those outside ASCII as references."""
    for character in characters:
        xml = xml.replace(f"&#{ord(character)};", character)
    return xml


def text_cell_pattern(text: str) -> str:
    """A regular expression matching the whole cell openpyxl wrote for a cell holding exactly `text`."""
    return r'<c r="[A-Z]+\d+"[^>]*><is><t[^>]*>' + re.escape(text) + "</t></is></c>"


def row_pattern(row: int, text: str) -> str:
    """A regular expression matching the whole row openpyxl wrote for row `row`, one of whose cells holds `text`."""
    return r'<row r="' + str(row) + r'"[^>]*>.*?' + re.escape(text) + ".*?</row>"


DIMENSION_PATTERN = r'<dimension ref="[^"]*"/>'


def dimension(ref: str) -> str:
    return f'<dimension ref="{ref}"/>'
