"""Prepared Word templates: parse, patch and compile a docxtpl template once, then write each school's
document from it. The output holds the same content as DocxTemplate.render() + save().

Per document, docxtpl re-reads the template, re-patches and re-compiles its XML, and re-compresses
every part of the package, though only the body, headers and footers change. Here the compiled
Jinja templates are kept, and the unchanging parts are compressed once into a base package; each
document is that base with its own parts appended (zip append mode keeps existing entries as they are).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

import jinja2
from docx.image.image import Image
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.shape import CT_Inline
from docxtpl import DocxTemplate
from lxml import etree

from generator.findings import PacketsError
from generator.render.docx import with_pictures

_PARAGRAPH_MARK = re.compile(r"<w:p([ >])")
# A text holding a character docxtpl's resolve_listing turns into a tab, line break, paragraph or page
# break: it changes only such text (`<w:t>` content; the XML of a picture has line breaks of its own).
_LISTING_TEXT = re.compile(r"<w:t(?: [^>]*)?>[^<]*[\t\a\n\f]")
_PNG_DEFAULT = '<Default Extension="png" ContentType="image/png"/>'
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Tags that change how many cells a row has: docxtpl's column loops, column spans and horizontal merges.
_CELL_COUNT_TAGS = re.compile(r"\{[%{]-?\s*(tc|colspan|hm)\b")
_ROW_TAG = re.compile(r"\{[%{]-?\s*tr\b")
_BLOCK_OPEN = re.compile(r"\{%-?\s*(?:p\s+|r\s+)?(?:if|for)\b")
_BLOCK_CLOSE = re.compile(r"\{%-?\s*(?:p\s+|r\s+)?(?:endif|endfor)\b")


def _text(element) -> str:
    return "".join(element.itertext())


def _well_formed(xml: str) -> bool:
    """Return True when the XML parses strictly (expat, which builds nothing, is a third of lxml's cost)."""
    try:
        expat.ParserCreate().Parse(xml, True)
    except expat.ExpatError:
        return False
    return True


def tables_keep_their_shape(xml: str) -> bool:
    """Return True when no rendering of this template body can leave a table whose rows and grid
    disagree, so docxtpl's fix_tables (which re-counts every cell of every table) has nothing to do.

    That holds when nothing changes a row's cell count (no tc, colspan or hm tags, and every if/for
    opened in a cell closes in it), every row already spans exactly the table's grid columns, and
    each table's first row is not a row tag, so rendering only repeats or drops whole rows and
    never empties a table. Counted as fix_tables counts: a row's gridSpans, every row under a table.
    """
    tree = etree.fromstring(xml.encode("utf-8"))
    if _CELL_COUNT_TAGS.search(_text(tree)):
        return False
    for table in tree.iter(_W + "tbl"):
        grid = table.find(_W + "tblGrid")
        rows = [r for r in table.iter(_W + "tr") if not _ROW_TAG.search(_text(r))]
        first = table.find(_W + "tr")
        if grid is None or first is None or _ROW_TAG.search(_text(first)):
            return False
        columns = len(grid.findall(_W + "gridCol"))
        for row in rows:
            span = 0
            for cell in row.findall(_W + "tc"):
                text = _text(cell)
                if len(_BLOCK_OPEN.findall(text)) != len(_BLOCK_CLOSE.findall(text)):
                    return False
                grid_span = cell.find(f"{_W}tcPr/{_W}gridSpan")
                span += 1 if grid_span is None else int(grid_span.get(_W + "val"))
            if span != columns:
                return False
    return True


@dataclass
class _Pictures:
    """Stands in for docxtpl's 'current rendering part': collects the images one document places."""

    next_number: int = 1
    placed: list[tuple[str, str, bytes]] = field(default_factory=list)     # (rId, media name, png)

    def new_pic_inline(self, image_descriptor, width=None, height=None):
        data = image_descriptor.getvalue()
        image = Image.from_blob(data)
        number = self.next_number
        self.next_number += 1
        rid, name = f"rIdPacketImage{number}", f"packet-image{number}.png"
        self.placed.append((rid, name, data))
        cx, cy = image.scaled_dimensions(width, height)
        return CT_Inline.new_pic_inline(number, rid, name, cx, cy)


@dataclass
class _ImageHost:
    """What docxtpl's InlineImage asks of its template: the part currently being rendered."""

    current_rendering_part: _Pictures


@dataclass(frozen=True)
class _Part:
    name: str                   # zip entry, e.g. word/footer1.xml
    template: jinja2.Template
    encoding: str = "utf-8"


class PreparedDocx:
    """A docxtpl template prepared once; `render(context)` returns one document's bytes."""

    def __init__(self, template: Path, env: jinja2.Environment):
        self.path = Path(template)
        self.tpl = DocxTemplate(str(template))
        self.tpl.render_init()
        document = self.tpl.docx.part
        self.document_name = document.partname.lstrip("/")
        self.rels_name = posixpath.join(posixpath.dirname(self.document_name), "_rels",
                                        posixpath.basename(self.document_name) + ".rels")
        self.media_dir = posixpath.join(posixpath.dirname(self.document_name), "media")
        with zipfile.ZipFile(self.path) as z:
            self.entries = {info.filename: z.read(info.filename) for info in z.infolist()}
        original = self.entries[self.document_name].decode("utf-8")
        body_start = original.index("<w:body")
        body_end = original.rindex("</w:body>") + len("</w:body>")
        self.document_head, self.document_tail = original[:body_start], original[body_end:]
        self.body = self._compile(env, self.tpl.get_xml())
        self.tables_keep_their_shape = tables_keep_their_shape(self.tpl.get_xml())
        self.parts = tuple(
            _Part(part.partname.lstrip("/"), self._compile(env, self.tpl.get_part_xml(part)),
                  self.tpl.get_headers_footers_encoding(self.tpl.get_part_xml(part)))
            for uri in (self.tpl.HEADER_URI, self.tpl.FOOTER_URI)
            for _, part in self.tpl.get_headers_footers(uri))
        for name in ("docProps/core.xml", "word/footnotes.xml"):
            data = self.entries.get(name, b"")
            if b"{{" in data or b"{%" in data:
                raise PacketsError(f"{self.path.name}: tags in {name} are not supported; keep tags in the body, "
                                   "headers and footers.")
        changing = {self.document_name, self.rels_name, "[Content_Types].xml", *(p.name for p in self.parts)}
        self.base = self._base_package(changing)
        types = self.entries["[Content_Types].xml"].decode("utf-8")
        if 'Extension="png"' not in types:
            types = types.replace("</Types>", _PNG_DEFAULT + "</Types>")
        self.content_types = types.encode("utf-8")

    def _compile(self, env: jinja2.Environment, xml: str) -> jinja2.Template:
        src = _PARAGRAPH_MARK.sub(r"\n<w:p\1", self.tpl.patch_xml(xml))
        try:
            return env.from_string(src)
        except jinja2.TemplateSyntaxError as exc:
            raise PacketsError(f"{self.path.name}: a template tag is malformed ({exc}).") from None

    def _base_package(self, changing: set[str]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in self.entries.items():
                if name not in changing:
                    z.writestr(name, data)
        return buffer.getvalue()

    def _finish(self, xml: str) -> str:
        """Apply docxtpl's post-processing to a rendered part, as DocxTemplate.render_xml_part does."""
        # Undo the line break _compile put before each paragraph (two plain replaces beat a regex here).
        xml = xml.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        if not _LISTING_TEXT.search(xml):
            return xml                 # resolve_listing would rewrite every paragraph to change nothing
        return self.tpl.resolve_listing(xml)

    def render(self, context: dict[str, Any]) -> bytes:
        """Return one document made from this template and a context."""
        pictures = _Pictures()
        host = _ImageHost(pictures)
        context = with_pictures(host, context)
        body = self._finish(self.body.render(context))
        if not self.tables_keep_their_shape:
            tree = self.tpl.fix_tables(body)
        elif "docPr" in body or not _well_formed(body):
            # Drawings to number, or XML to recover: parsed as fix_tables parses it.
            tree = etree.fromstring(body, parser=etree.XMLParser(recover=True))
        else:
            tree = None         # lxml would write it back with the same content; parsing took 1 ms
        if tree is not None:
            self.tpl.docx_ids_index = 1000
            self.tpl.fix_docpr_ids(tree)
            body = etree.tostring(tree, encoding="unicode")
        document = self.document_head + body + self.document_tail

        rels = self.entries[self.rels_name].decode("utf-8")
        added = []
        for rid, name, data in pictures.placed:
            added.append(f'<Relationship Id="{rid}" Type="{RT.IMAGE}" Target="media/{name}"/>')
        rels = rels.replace("</Relationships>", "".join(added) + "</Relationships>")

        buffer = io.BytesIO(self.base)
        with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            z.writestr("[Content_Types].xml", self.content_types if pictures.placed else
                       self.entries["[Content_Types].xml"])
            z.writestr(self.document_name, document.encode("utf-8"))
            z.writestr(self.rels_name, rels.encode("utf-8"))
            for part in self.parts:
                z.writestr(part.name, self._finish(part.template.render(context)).encode(part.encoding))
            for _, name, data in pictures.placed:
                # PNG data is compressed already: deflating it again costs time and saves nothing.
                z.writestr(posixpath.join(self.media_dir, name), data, compress_type=zipfile.ZIP_STORED)
        return buffer.getvalue()
