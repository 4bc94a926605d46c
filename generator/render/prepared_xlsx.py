"""Prepared Excel templates: read and lay out an openpyxl template once, then write each school's
workbook from it. The output holds the same cells, styles and sheet features as render_xlsx().

Per workbook, render_xlsx() loads the template, fills cells through openpyxl's object model and
serialises every part of the package again, though only the templated sheets change. Here openpyxl
writes the template once, with a marker where each templated cell, the repeated row and the
stretched ranges go; styles a value may need (a formula-like text kept as text, a date) are
registered in the stylesheet up front, so every other part of the package is the same for every
school and is compressed once into a base package. Each workbook is that base with its own sheets
appended, the markers replaced by the school's cells.

Templates using what this path does not reproduce (hyperlinks or comments in templated cells, rows
after the repeated row) raise Unprepared; render_document then uses render_xlsx for them.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TIME_FORMATS, Cell
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.worksheet import Worksheet
from xml.sax.saxutils import escape

from ..findings import PacketsError
from .xlsx import _LOOP, _SINGLE, FORMULA_STARTS, _lookup, _stretch, _wrapped_lines, cell_data

# Private-use characters never occur in a template's own XML, so they delimit markers safely.
_MARK = "\ue000{}\ue001"
_MARKED = re.compile("\ue000(\\w+)\ue001")
# The row number ranges are stretched to while preparing; replaced by each workbook's last row.
_SENTINEL_ROW = 1048571


class Unprepared(Exception):
    """The template uses something the prepared path does not reproduce."""


@dataclass(frozen=True)
class _Slot:
    """One templated cell: its text, and the style ids of each kind of value it may receive."""

    column: str                          # column letter
    text: Any                            # the template's value (the loop tag removed)
    single: str | None                   # dotted path when the text is exactly one placeholder
    compiled: jinja2.Template | None     # for text mixing words and placeholders
    style: int
    quoted: int                          # formula-like text, kept as text
    dated: dict[type, int]               # a date/datetime/time in a cell whose format is not a date one
    wrap: bool
    width: float

    def value(self, scope: dict[str, Any]) -> Any:
        if self.single:
            return _lookup(scope, self.single)
        if self.compiled:
            return self.compiled.render(scope)
        return self.text

    def xml(self, ref: str, value: Any) -> str:
        value = cell_data(value)
        style = self.style
        if value is None or value == "":
            return f'<c r="{ref}"{_s(style)}/>'
        if isinstance(value, bool):
            return f'<c r="{ref}"{_s(style)} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, (dt.date, dt.time)):
            kind = dt.datetime if isinstance(value, dt.datetime) else type(value)
            return f'<c r="{ref}"{_s(self.dated.get(kind, style))} t="n"><v>{to_excel(value)}</v></c>'
        if isinstance(value, (int, float)):
            return f'<c r="{ref}"{_s(style)} t="n"><v>{value!r}</v></c>'
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        if text.startswith(FORMULA_STARTS):
            style = self.quoted
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f'<c r="{ref}"{_s(style)} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def _s(style: int) -> str:
    return f' s="{style}"' if style else ""


@dataclass(frozen=True)
class _Loop:
    var: str
    source: str
    row: int
    slots: tuple[_Slot, ...]
    height: float | None


@dataclass(frozen=True)
class _Sheet:
    part: str                            # zip entry, e.g. xl/worksheets/sheet1.xml
    xml: str                             # the sheet as openpyxl wrote it, with markers
    cells: dict[str, tuple[str, _Slot]]  # marker -> (cell reference, slot)
    loop: _Loop | None
    dimension: str                       # e.g. "A1:H" (the last row is added per workbook)

    def render(self, context: dict[str, Any]) -> str:
        cells = {mark: slot.xml(ref, slot.value(context)) for mark, (ref, slot) in self.cells.items()}
        last = self.loop.row if self.loop else 0
        if self.loop:
            items = _lookup(context, self.loop.source)
            cells["loop"] = "".join(self._rows(context, items))
            last = self.loop.row + max(len(items), 1) - 1
        cells["last"] = str(last)
        cells["dimension"] = f"{self.dimension}{last}" if self.loop else self.dimension
        return _MARKED.sub(lambda m: cells[m.group(1)], self.xml)

    def _rows(self, context: dict[str, Any], items) -> list[str]:
        loop = self.loop
        if not items:
            height = f' ht="{loop.height}" customHeight="1"' if loop.height else ""
            return [f'<row r="{loop.row}"{height}>'
                    + "".join(s.xml(f"{s.column}{loop.row}", None) for s in loop.slots) + "</row>"]
        rows = []
        for offset, item in enumerate(items):
            r = loop.row + offset
            scope = {**context, loop.var: item}
            values = [cell_data(slot.value(scope)) for slot in loop.slots]
            height = loop.height or _fitted_height(loop.slots, values)
            attrs = f' ht="{height}" customHeight="1"' if height else ""
            rows.append(f'<row r="{r}"{attrs}>'
                        + "".join(s.xml(f"{s.column}{r}", v) for s, v in zip(loop.slots, values)) + "</row>")
        return rows


def _fitted_height(slots: tuple[_Slot, ...], values: list[Any], line_height: float = 13.0) -> float | None:
    """The height render_xlsx's fit_row_height gives a row holding these values, or None to leave it."""
    lines = max((_wrapped_lines(v, s.width) for s, v in zip(slots, values) if s.wrap and isinstance(v, str)),
                default=1)
    return min(lines * line_height, 409) if lines > 1 else None


class PreparedXlsx:
    """An Excel template prepared once; `render(context)` returns one workbook's bytes."""

    def __init__(self, template: Path, env: jinja2.Environment):
        self.path = Path(template)
        wb = load_workbook(self.path)
        self.env = env
        prepared = [(ws, self._prepare(ws)) for ws in wb.worksheets]
        buffer = io.BytesIO()
        wb.save(buffer)
        with zipfile.ZipFile(buffer) as z:
            entries = {info.filename: z.read(info.filename) for info in z.infolist()}
        self.sheets = []
        for ws, (cells, loop, dimension) in prepared:
            if not cells and not loop:
                continue
            part = ws.path.lstrip("/")
            self.sheets.append(_Sheet(part, self._marked(entries[part].decode("utf-8"), cells, loop),
                                      cells, loop, dimension))
        changing = {sheet.part for sheet in self.sheets}
        base = io.BytesIO()
        with zipfile.ZipFile(base, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in entries.items():
                if name not in changing:
                    z.writestr(name, data)
        self.base = base.getvalue()

    def _slot(self, ws: Worksheet, cell: Cell, text: Any) -> _Slot:
        if cell.hyperlink or cell.comment:
            raise Unprepared(f"{ws.title}!{cell.coordinate} has a hyperlink or comment")
        styles = ws.parent._cell_styles
        variant = Cell(ws)           # not placed on the sheet: only its style is registered
        variant._style = copy.copy(cell._style)
        variant.quotePrefix = True
        quoted = styles.add(variant._style)
        dated = {}
        if not is_date_format(cell.number_format):
            # The number format openpyxl gives a date, datetime or time written into such a cell.
            for kind in (dt.datetime, dt.date, dt.time):
                number_format = TIME_FORMATS[kind]
                variant._style = copy.copy(cell._style)
                variant.number_format = number_format
                dated[kind] = styles.add(variant._style)
        single = compiled = None
        if isinstance(text, str) and "{{" in text:
            match = _SINGLE.match(text.strip())
            if match:
                single = match.group(1)
            else:
                try:
                    compiled = self.env.from_string(text)
                except jinja2.TemplateError as exc:
                    raise PacketsError(f"{self.path.name}: {exc}") from None
        return _Slot(cell.column_letter, text, single, compiled, styles.add(cell._style), quoted, dated,
                     bool(cell.alignment.wrap_text), ws.column_dimensions[cell.column_letter].width or 8.43)

    def _prepare(self, ws: Worksheet) -> tuple[dict[str, tuple[str, _Slot]], _Loop | None, str]:
        """Put markers into the sheet where each workbook's own cells go; return what fills them."""
        loop_row = next((row[0].row for row in ws.iter_rows()
                         if isinstance(row[0].value, str) and _LOOP.match(row[0].value)), None)
        dimension = ws.calculate_dimension()
        cells = {}
        for row in ws.iter_rows(max_row=(loop_row - 1) if loop_row else ws.max_row):
            for cell in row:
                if isinstance(cell.value, str) and "{{" in cell.value:
                    mark = f"c{len(cells)}"
                    cells[mark] = (cell.coordinate, self._slot(ws, cell, cell.value))
                    cell.value = _MARK.format(mark)
        if loop_row is None:
            return cells, None, dimension

        if ws.max_row > loop_row:
            raise Unprepared(f"{ws.title} has rows after the repeated row")
        row = list(ws[loop_row])
        match = _LOOP.match(row[0].value)
        slots = tuple(self._slot(ws, c, c.value[match.end():] if c is row[0] else c.value) for c in row)
        loop = _Loop(match.group(1), match.group(2), loop_row, slots, ws.row_dimensions[loop_row].height)
        row[0].value = _MARK.format("loop")      # the whole row is replaced by the repeated rows
        _stretch(ws, loop_row, _SENTINEL_ROW)
        return cells, loop, re.sub(r"\d+$", "", dimension)

    def _marked(self, xml: str, cells: dict, loop: _Loop | None) -> str:
        """Turn the markers openpyxl wrote into markers for whole cells, the repeated row and ranges."""
        def whole(pattern: str, replacement: str, text: str) -> str:
            text, found = re.subn(pattern, replacement, text, count=1)
            if not found:
                raise Unprepared(f"could not find {replacement} in the sheet openpyxl wrote")
            return text

        # openpyxl writes characters outside ASCII as references; the markers are wanted as characters.
        xml = xml.replace("&#57344;", "\ue000").replace("&#57345;", "\ue001")
        for mark in cells:
            xml = whole(r'<c r="[A-Z]+\d+"[^>]*><is><t[^>]*>' + re.escape(_MARK.format(mark)) + "</t></is></c>",
                        _MARK.format(mark), xml)
        if loop:
            xml = whole(r'<row r="' + str(loop.row) + r'"[^>]*>.*?' + re.escape(_MARK.format("loop")) + ".*?</row>",
                        _MARK.format("loop"), xml)
            xml = xml.replace(str(_SENTINEL_ROW), _MARK.format("last"))
        return whole(r'<dimension ref="[^"]*"/>', f'<dimension ref="{_MARK.format("dimension")}"/>', xml)

    def render(self, context: dict[str, Any]) -> bytes:
        """Return one workbook made from this template and a context."""
        try:
            sheets = [(sheet.part, sheet.render(context)) for sheet in self.sheets]
        except (jinja2.TemplateError, PacketsError) as exc:
            raise PacketsError(f"{self.path.name}: {exc}") from None
        buffer = io.BytesIO(self.base)
        with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as z:
            for part, xml in sheets:
                z.writestr(part, xml.encode("utf-8"))
        return buffer.getvalue()
