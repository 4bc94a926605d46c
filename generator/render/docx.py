"""Word rendering, the reference engine: a docxtpl template filled with a strict, autoescaping Jinja
environment, through docxtpl's documented API only. The fast engine (render/fast/docx.py) must give
exactly what this gives."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import jinja2
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.shared import Inches
from docxtpl import DocxTemplate, InlineImage

from generator.findings import PacketsError
from generator.render.chart import Picture
from generator.render.jinja import jinja_env

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# A cell's properties in CT_TcPr's sequence (ECMA-376 Part 1, 17.4.70). Word and the Open XML SDK reject
# a cell whose properties are out of this order; docxtpl's `{% cellbg %}` puts its w:shd first, before w:tcW.
CELL_PROPERTY_ORDER = ("cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
                       "textDirection", "tcFitText", "vAlign", "hideMark", "headers", "cellIns", "cellDel",
                       "cellMerge", "tcPrChange")
_CELL_PROPERTY_RANK = {_W + name: rank for rank, name in enumerate(CELL_PROPERTY_ORDER)}
_STORIES = (RELATIONSHIP_TYPE.HEADER, RELATIONSHIP_TYPE.FOOTER)


def order_cell_properties(root) -> None:
    """Put every table cell's properties under `root` (an lxml element) in the schema's order.

    The sort is stable and only moves the elements the schema names (an element it does not name, such
    as a future extension, stays after them), so a cell already in order is left exactly as it is."""
    for properties in root.iter(_W + "tcPr"):
        children = list(properties)
        ranks = [_CELL_PROPERTY_RANK.get(child.tag, len(CELL_PROPERTY_ORDER)) for child in children]
        if ranks != sorted(ranks):
            properties[:] = [child for _, child in sorted(zip(ranks, children), key=lambda pair: pair[0])]


def with_pictures(host, context: dict[str, Any]) -> dict[str, Any]:
    """Return the context with each Picture among its values made into a docxtpl InlineImage placed
    through `host` (a DocxTemplate, or anything with the `current_rendering_part` docxtpl draws into).

    Pictures are top-level values (a template places `{{ timeline_chart }}`): looking through every
    row of every table for them cost a millisecond a packet. A Picture put anywhere else fails with a
    clear error when the template reaches it (Picture.__html__), rather than printing as text."""
    return {k: InlineImage(host, io.BytesIO(v.png), width=Inches(v.width_inches)) if isinstance(v, Picture) else v
            for k, v in context.items()}


def render_docx(template: Path, context: dict[str, Any]) -> bytes:
    """Return the bytes of a .docx made from a docxtpl template and a context.

    Autoescaping matters: spreadsheet text such as `Lincoln & Douglas <Academy>` must reach Word
    as text, never as XML, and it is never evaluated as template code.
    """
    doc = DocxTemplate(str(template))
    try:
        doc.render(with_pictures(doc, context), jinja_env=jinja_env(autoescape=True, typeset=True), autoescape=True)
    except jinja2.TemplateError as exc:
        raise PacketsError(f"{template.name}: the template does not fit its data ({exc}). "
                           f"Fix: compare its tags with `packets context`.") from None
    # The body, then each header and footer docxtpl rendered (each is a part of its own).
    order_cell_properties(doc.docx.element)
    for rel in doc.docx.part.rels.values():
        if rel.reltype in _STORIES:
            order_cell_properties(rel.target_part.element)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
