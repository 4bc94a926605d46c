"""Excel rendering, the reference engine: an openpyxl template whose cells hold `{{ ... }}` placeholders,
filled through openpyxl's object model. The fast engine (render/fast/xlsx.py) must give exactly what
this gives.

The template convention, for staff who restyle templates:
- a cell holding exactly `{{ path.to.value }}` receives that value with its type (a date stays a date);
- a cell mixing text and placeholders receives the rendered text;
- the row whose first cell starts with `{% for row in rows %}` is repeated once per item of `rows`,
  keeping its styles; it must be the last row with content on its sheet. Conditional formats,
  data validations and auto-filters that cover it are stretched to every repeated row.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import jinja2
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from generator.findings import PacketsError
from generator.render.adapters import openpyxl_internals
from generator.render.jinja import jinja_env

_LOOP = re.compile(r"^\{%\s*for\s+(\w+)\s+in\s+([\w.]+)\s*%\}")
_SINGLE = re.compile(r"^\{\{\s*([\w.]+)\s*\}\}$")
# Text starting with these would be read by Excel as a formula if re-entered; it is kept as text.
FORMULA_STARTS = ("=", "+", "-", "@")


def _lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise PacketsError(f"the template names '{path}', which the data does not have "
                               f"(see `packets context` for what it has).")
    return value


EXCEL_CELL_LIMIT = 32767


def cell_data(value: Any) -> Any:
    """Return what a cell holds for a value: a list becomes lines, and text longer than Excel allows
    in a cell is cut with a visible marker instead of silently."""
    if isinstance(value, (list, tuple)):
        value = "\n".join(str(v) for v in value)
    if isinstance(value, str) and len(value) > EXCEL_CELL_LIMIT:
        marker = f"\n[... {len(value) - EXCEL_CELL_LIMIT + 80:,} more characters not shown: Excel's cell limit]"
        value = value[:EXCEL_CELL_LIMIT - len(marker)] + marker
    return value


def set_value(cell: Cell, value: Any) -> None:
    """Write a value into a cell as data: text that looks like a formula stays text."""
    value = cell_data(value)
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True


def _fill(cell: Cell, template: str, context: dict[str, Any], env: jinja2.Environment) -> None:
    single = _SINGLE.match(template.strip())
    if single:
        set_value(cell, _lookup(context, single.group(1)))
    else:
        set_value(cell, env.from_string(template).render(context))


def _stretch(ws: Worksheet, row: int, last: int) -> None:
    """Extend sheet features that cover the template row to cover rows row..last."""
    def grow(ref: str) -> str:
        parts = []
        for piece in ref.split():
            r = CellRange(piece)
            if r.min_row <= row <= r.max_row:
                r.expand(down=last - r.max_row if last > r.max_row else 0)
            parts.append(r.coord)
        return " ".join(parts)

    stretched = ConditionalFormattingList()
    for rng in ws.conditional_formatting:
        for rule in rng.rules:
            stretched.add(grow(str(rng.sqref)), rule)
    ws.conditional_formatting = stretched
    for dv in ws.data_validations.dataValidation:
        dv.sqref = MultiCellRange(grow(str(dv.sqref)))
    if ws.auto_filter.ref:
        ws.auto_filter.ref = grow(ws.auto_filter.ref)


def _wrapped_lines(text: str, width: float) -> int:
    chars = max(int(width * 1.1), 1)        # a column width is roughly a count of average characters
    return sum(max(1, -(-len(line) // chars)) for line in text.split("\n"))


def fit_row_height(ws: Worksheet, row: int, cells: list[Cell], line_height: float = 13.0) -> None:
    """Set a row's height to show all of its wrapped text: office suites do not reliably grow rows
    of a generated file on open, so long text would otherwise be cut off or overprint in print.
    (The row's cells are passed in: asking the sheet for a row makes openpyxl scan every cell.)"""
    lines = 1
    for cell in cells:
        if isinstance(cell.value, str) and cell.alignment.wrap_text:
            width = ws.column_dimensions[cell.column_letter].width or 8.43
            lines = max(lines, _wrapped_lines(cell.value, width))
    if lines > 1:
        ws.row_dimensions[row].height = min(lines * line_height, 409)   # Excel's maximum row height


def _render_sheet(ws: Worksheet, context: dict[str, Any], env: jinja2.Environment) -> None:
    loop_row = None
    for row in ws.iter_rows():
        first = row[0].value
        if isinstance(first, str) and _LOOP.match(first):
            loop_row = row[0].row
            break
    above = ws.max_row if loop_row is None else loop_row - 1
    # (openpyxl reads max_row=0 as "no limit": a repeating first row has no rows above it to fill)
    for row in ws.iter_rows(max_row=above) if above else ():
        for cell in row:
            if isinstance(cell.value, str) and "{{" in cell.value:
                _fill(cell, cell.value, context, env)
    if loop_row is None:
        return

    cells = list(ws[loop_row])
    match = _LOOP.match(cells[0].value)
    assert match is not None                    # the row was found by this match
    var, source = match.group(1), match.group(2)
    templates = [(c.column, (c.value[match.end():] if c is cells[0] else c.value), openpyxl_internals.style_of(c))
                 for c in cells]
    height = ws.row_dimensions[loop_row].height
    items = _lookup(context, source)
    for offset, item in enumerate(items):
        r = loop_row + offset
        scope = {**context, var: item}
        written = []
        for column, text, style in templates:
            cell = ws.cell(row=r, column=column)
            written.append(cell)
            openpyxl_internals.set_style(cell, style)
            if isinstance(text, str) and "{{" in text:
                _fill(cell, text, scope, env)
            else:
                set_value(cell, text)
        if height:
            ws.row_dimensions[r].height = height
        else:
            fit_row_height(ws, r, written)
    if not items:
        for column, _, _ in templates:
            ws.cell(row=loop_row, column=column).value = None
    _stretch(ws, loop_row, loop_row + max(len(items), 1) - 1)


def render_xlsx(template: Path, context: dict[str, Any]) -> bytes:
    """Return the bytes of an .xlsx made from an openpyxl template and a context."""
    openpyxl_internals.check()
    wb = load_workbook(template)
    env = jinja_env(autoescape=False)   # openpyxl escapes XML itself; escaping here would double it
    try:
        for ws in wb.worksheets:
            _render_sheet(ws, context, env)
    except (jinja2.TemplateError, PacketsError) as exc:
        raise PacketsError(f"{template.name}: {exc}") from None
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
