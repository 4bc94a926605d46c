"""docxtpl's internals, as the fast Word engine (render/fast/docx.py) uses them. Checked against docxtpl 0.20.2.

DocxTemplate.render() re-reads, re-patches and re-compiles the template for every document; the fast
engine calls its steps one by one instead (render_init, patch_xml, the post-processing of
render_xml_part, resolve_listing, fix_tables, fix_docpr_ids), none of which is documented API.

Also reproduced rather than called, so to be checked again with a new docxtpl:
- render_xml_part's source and result rewriting (`template_source`, `finish` here);
- InlineImage's use of its template: `tpl.current_rendering_part.new_pic_inline(descriptor, width,
  height).xml` (ImageHost here stands in for the template);
- fix_tables' way of counting a row's cells (render/fast/docx.py's tables_keep_their_shape).
tests/render/test_prepared.py and tests/render/test_prepared_tables.py hold the result to
DocxTemplate.render() + save().
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from docxtpl import DocxTemplate

from generator.render.adapters import missing, require

CHECKED = "0.20.2"
_ABSENT = missing(DocxTemplate, "render_init", "get_xml", "get_part_xml", "get_headers_footers",
                  "get_headers_footers_encoding", "patch_xml", "resolve_listing", "fix_tables", "fix_docpr_ids",
                  "HEADER_URI", "FOOTER_URI")

_PARAGRAPH_MARK = re.compile(r"<w:p([ >])")
# The w:shd docxtpl's patch_xml puts first in a cell's properties for `{% cellbg %}`, and the properties the
# schema puts before it (CT_TcPr: cnfStyle, tcW, gridSpan, hMerge, vMerge, tcBorders, then shd): moved
# behind those, the cell is valid by the Open XML SDK's rules, as render/docx.py's order_cell_properties
# orders the reference engine's documents after rendering.
_CELLBG_SHADING = re.compile(
    r'(<w:tcPr\b[^>]*>)(<w:shd w:val="clear" w:color="auto" w:fill="\{\{[^}]*\}\}"/>)'
    r"((?:<w:(?:cnfStyle|tcW|gridSpan|hMerge|vMerge)\b[^>]*/>|<w:tcBorders\b[^>]*/>"
    r"|<w:tcBorders\b[^>]*>.*?</w:tcBorders>)*)", re.DOTALL)
# The w:gridSpan docxtpl's patch_xml puts first in a cell's properties for `{% colspan %}` (the ISBE grid's
# bands), and the properties the schema puts before it (cnfStyle, tcW): moved behind those, likewise.
_COLSPAN_SPAN = re.compile(
    r'(<w:tcPr\b[^>]*>)(<w:gridSpan w:val="\{\{[^}]*\}\}"/>)((?:<w:(?:cnfStyle|tcW)\b[^>]*/>)*)')
# A text holding a character resolve_listing turns into a tab, line break, paragraph or page break:
# it changes only such text (`<w:t>` content; the XML of a picture has line breaks of its own).
_LISTING_TEXT = re.compile(r"<w:t(?: [^>]*)?>[^<]*[\t\a\n\f]")
# docxtpl's escapes for a template's literal braces, and what each stands for.
_BRACES = {"{_{": "{{", "}_}": "}}", "{_%": "{%", "%_}": "%}"}
_ESCAPED_BRACES = re.compile("|".join(re.escape(escape) for escape in _BRACES))


def load(template: Path) -> DocxTemplate:
    """Return the template opened and set up for rendering, as DocxTemplate.render() sets it up."""
    require("docxtpl", CHECKED, _ABSENT)
    tpl = DocxTemplate(str(template))
    tpl.render_init()
    return tpl


def document_part_name(tpl: DocxTemplate) -> str:
    """The zip entry of the main document, e.g. word/document.xml."""
    return tpl.docx.part.partname.lstrip("/")


def body_xml(tpl: DocxTemplate) -> str:
    """The document's XML as docxtpl renders it (the body and what surrounds it)."""
    return tpl.get_xml()


def header_footer_parts(tpl: DocxTemplate) -> Iterator[tuple[str, str, str]]:
    """Each header and footer docxtpl renders: (zip entry, XML, the encoding it is written back in)."""
    for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
        for _, part in tpl.get_headers_footers(uri):
            xml = tpl.get_part_xml(part)
            yield part.partname.lstrip("/"), xml, tpl.get_headers_footers_encoding(xml)


def template_source(tpl: DocxTemplate, xml: str, lines: bool = False) -> str:
    """The Jinja source docxtpl compiles for a part: its tags patched, each cellbg's shading and colspan's
    span where the schema puts them.

    docxtpl also puts a line break before each paragraph, and takes it out of the result, only so that a
    template error can quote the paragraph at fault: `lines` does that, for the error message. The
    result is the same without (values are escaped, so only the template's own paragraphs follow one),
    and the break cost two passes over every document."""
    source = _COLSPAN_SPAN.sub(r"\1\3\2", _CELLBG_SHADING.sub(r"\1\3\2", tpl.patch_xml(xml)))
    return _PARAGRAPH_MARK.sub(r"\n<w:p\1", source) if lines else source


def finish(tpl: DocxTemplate, xml: str) -> str:
    """Apply docxtpl's post-processing to a rendered part, as DocxTemplate.render_xml_part does (the line
    breaks it takes out are never put in: see template_source)."""
    if "_" in xml:      # in every escape; a one-character search is a fraction of the pattern's
        xml = _ESCAPED_BRACES.sub(lambda m: _BRACES[m.group(0)], xml)
    # resolve_listing rewrites every paragraph; it changes only a text holding a tab, line or page break
    # (looked for first as characters: one quick pass each, where the pattern is a slow one).
    if not any(c in xml for c in "\t\n\a\f") or not _LISTING_TEXT.search(xml):
        return xml
    return tpl.resolve_listing(xml)


def fix_tables(tpl: DocxTemplate, xml: str) -> Any:
    """The rendered body parsed (recovering from broken XML) with each table's grid fitted to its rows."""
    return tpl.fix_tables(xml)


def number_drawings(tpl: DocxTemplate, tree: Any) -> None:
    """Number the drawings of a rendered body as render() numbers them, from 1001 in every document."""
    tpl.docx_ids_index = 1000
    tpl.fix_docpr_ids(tree)


@dataclass
class ImageHost:
    """Stands in for a DocxTemplate where docxtpl's InlineImage is made: it reads only the part being
    rendered, and asks it for `new_pic_inline(descriptor, width, height)`."""

    current_rendering_part: Any
