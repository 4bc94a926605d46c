"""Word rendering: a docxtpl template filled with a strict, autoescaping Jinja environment."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import jinja2
from docx.shared import Inches
from docxtpl import DocxTemplate, InlineImage

from ..findings import PacketsError
from .chart import Picture


def jinja_env(autoescape: bool) -> jinja2.Environment:
    """Return the project's Jinja environment: undefined names fail loudly; values are escaped for XML."""
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=autoescape)


def _with_pictures(doc: DocxTemplate, value: Any) -> Any:
    """Return the context with each Picture made into an image docxtpl can place in this document."""
    if isinstance(value, Picture):
        return InlineImage(doc, io.BytesIO(value.png), width=Inches(value.width_inches))
    if isinstance(value, dict):
        return {k: _with_pictures(doc, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_pictures(doc, v) for v in value]
    return value


def render_docx(template: Path, context: dict[str, Any]) -> bytes:
    """Return the bytes of a .docx made from a docxtpl template and a context.

    Autoescaping matters: spreadsheet text such as `Lincoln & Douglas <Academy>` must reach Word
    as text, never as XML, and it is never evaluated as template code.
    """
    doc = DocxTemplate(str(template))
    try:
        doc.render(_with_pictures(doc, context), jinja_env=jinja_env(autoescape=True), autoescape=True)
    except jinja2.TemplateError as exc:
        raise PacketsError(f"{template.name}: the template does not fit its data ({exc}). "
                           f"Fix: compare its tags with `packets context`.") from None
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
