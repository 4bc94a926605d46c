"""Links in a rendered workbook: cells the template fills from `{{ row.<field> }}` become hyperlinks to
the path they show (readiness.xlsx links each school to its packet folder and PDF).

The links are relative to the workbook, so they keep working wherever the output folder goes: a
shared drive, a zip file, another machine. The Excel renderer writes values only; this is a second,
separate step over its result.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

from openpyxl import load_workbook

_LOOP = re.compile(r"^\{%\s*for\s+(\w+)\s+in\s+[\w.]+\s*%\}")


def _link_columns(template: Path, fields: Sequence[str]) -> dict[str, tuple[int, list[int]]]:
    """Return, per sheet, the template's repeating row and the columns it fills from the fields."""
    found = {}
    for ws in load_workbook(template).worksheets:
        for row in ws.iter_rows():
            first = row[0].value
            loop = _LOOP.match(first) if isinstance(first, str) else None
            if loop:
                tag = re.compile(r"\{\{\s*" + re.escape(loop.group(1)) + r"\.(" + "|".join(map(re.escape, fields))
                                 + r")\s*\}\}")
                columns = [c.column for c in row
                           if isinstance(c.value, str) and tag.fullmatch(c.value[loop.end():] if c is row[0]
                                                                         else c.value.strip())]
                found[ws.title] = (row[0].row, columns)
                break
    return found


def link_paths(workbook: bytes, template: Path, fields: Sequence[str]) -> bytes:
    """Return the workbook with each non-empty cell filled from one of `fields` made a hyperlink to
    the relative path it holds."""
    columns = _link_columns(template, fields)
    if not any(cols for _, cols in columns.values()):
        return workbook
    wb = load_workbook(io.BytesIO(workbook))
    for title, (first_row, cols) in columns.items():
        ws = wb[title]
        for row in ws.iter_rows(min_row=first_row, max_row=ws.max_row):
            for cell in row:
                if cell.column in cols and isinstance(cell.value, str) and cell.value:
                    cell.hyperlink = quote(cell.value.replace("\\", "/"), safe="/")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
