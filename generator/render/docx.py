"""Word rendering, the reference engine: a docxtpl template filled with a strict, autoescaping Jinja
environment, through docxtpl's documented API only. The fast engine (render/fast/docx.py) must give
exactly what this gives."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import jinja2
from docx.shared import Inches
from docxtpl import DocxTemplate, InlineImage

from generator.findings import PacketsError
from generator.render.chart import Picture
from generator.render.jinja import jinja_env


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
        doc.render(with_pictures(doc, context), jinja_env=jinja_env(autoescape=True), autoescape=True)
    except jinja2.TemplateError as exc:
        raise PacketsError(f"{template.name}: the template does not fit its data ({exc}). "
                           f"Fix: compare its tags with `packets context`.") from None
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
