"""The fast Word engine: parse, patch and compile a docxtpl template once, then write each school's
document from it.

It must give exactly what the reference engine, render/docx.py's render_docx (DocxTemplate.render() +
save()), gives: the same text, tables, headers, footers, page setup and pictures. Tests hold it to that:
tests/render/test_prepared.py (test_prepared_template_matches_docxtpl_on_every_sample_school,
test_prepared_plan_embeds_the_chart) and tests/render/test_prepared_tables.py (every test: tables that may
change shape, column loops, broken XML, line breaks and tabs). A difference is a bug here, never a
reason to change the reference; PACKETS_ENGINE=reference renders with the reference engine meanwhile.
It calls docxtpl's and python-docx's internals only through render/adapters/.

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
from lxml import etree

from generator.findings import PacketsError
from generator.render.adapters import docxtpl_internals
from generator.render.adapters.python_docx_internals import IMAGE_RELATIONSHIP, picture_inline
from generator.render.docx import with_pictures
from generator.render.jinja import compile_xml

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


# An XML element's tag in a template's text; a `<` or `>` anywhere else (a tag cut by a block tag, a comment,
# a processing instruction) makes always_well_formed answer False.
_XML_TAG = re.compile(r"<(/?)([A-Za-z_][\w:.-]*)(?:\s[^<>]*?)?(/?)>", re.DOTALL)


def _effect(xml: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Return what a piece of XML does to the elements around it: the tags it closes that it did not open,
    and those it leaves open, in order; None when a tag is cut or closes another than the one open."""
    opened: list[str] = []
    closed: list[str] = []
    at = 0
    for tag in _XML_TAG.finditer(xml):
        if "<" in xml[at:tag.start()] or ">" in xml[at:tag.start()]:
            return None
        at = tag.end()
        closing, name, empty = tag.groups()
        if empty:
            continue
        if not closing:
            opened.append(name)
        elif not opened:
            closed.append(name)
        elif opened.pop() != name:
            return None
    if "<" in xml[at:] or ">" in xml[at:]:
        return None
    return tuple(closed), tuple(opened)


def _as_xml(effect: tuple[tuple[str, ...], tuple[str, ...]]) -> str:
    closed, opened = effect
    return "".join(f"</{name}>" for name in closed) + "".join(f"<{name}>" for name in opened)


def _reduced(effect: tuple[tuple[str, ...], tuple[str, ...]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return an effect without the elements it closes only to open again (`</w:t></w:r><w:r><w:t>`: a
    run split around a bold word), which leave the elements around it as they were."""
    closed, opened = effect
    while closed and opened and closed[-1] == opened[0]:
        closed, opened = closed[:-1], opened[1:]
    return closed, opened


def _one_effect(effects: list) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Return the effect standing for a block's branches when any of them may be rendered in its place, or
    None: each must do the same once reduced, and those closing more must close what the others close
    first (then the one closing most, checked where it stands, vouches for all)."""
    if any(effect is None for effect in effects) or len({_reduced(effect) for effect in effects}) != 1:
        return None
    widest = max(effects, key=lambda effect: len(effect[0]))
    if any(effect[0] != widest[0][:len(effect[0])] for effect in effects):
        return None
    return widest


def _in_tag(state: str, text: str) -> str:
    """Return where `text` leaves a reader of XML who was at `state`: outside a tag (""), inside one
    ("<"), or inside one's attribute value (its quote character)."""
    for char in text:
        if not state:
            state = "<" if char == "<" else ""
        elif state == "<":
            state = char if char in "\"'" else "" if char == ">" else "<"
        elif char == state:
            state = "<"
    return state


def always_well_formed(env: jinja2.Environment, source: str) -> bool:
    """Return True when every rendering of this template source is well-formed XML, whatever its values.

    Whether XML is well formed depends only on what each piece does to the elements around it (the
    tags it closes that it did not open, and those it leaves open). So it holds for every rendering
    when every branch of an if does the same as the others (as nothing, without an else), a for's
    body does nothing (it may repeat or not run), both up to elements closed and opened again, no
    block tag cuts an XML tag, the template is well formed with the branches standing for each block,
    and every printed value is escaped text. Anything else (another kind of block, `safe`, a comment
    or raw block) answers False, and each document is checked. Values cannot break it: they are
    escaped, or whole elements (pictures); a tab, line or page break in a value is rewritten
    afterwards (docxtpl's resolve_listing), which render() looks out for itself."""
    nothing: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    branches: list[list[str]] = [[]]            # the text of the branch being read, block by block
    blocks: list[tuple[str, list]] = []          # each open block: its keyword, its branches' effects
    state = ""                                  # where the source read so far stands: see _in_tag
    stream = env.lexer.tokenize(source)
    for token in stream:
        if token.type == "data":
            branches[-1].append(token.value)
            state = _in_tag(state, token.value)
        elif token.type == "variable_begin":
            for inner in stream:
                if inner.type == "variable_end":
                    break
                if inner.type == "name" and inner.value == "safe":
                    return False
            branches[-1].append("x")
        elif token.type == "block_begin":
            if state:
                return False                    # inside an XML tag: a branch could cut it
            keyword = next(stream)
            rest = []
            for inner in stream:
                if inner.type == "block_end":
                    break
                rest.append(inner)
            word = keyword.value if keyword.type == "name" else ""
            if word in ("if", "for"):
                blocks.append((word, []))
                branches.append([])
            elif word in ("elif", "else") and blocks:
                blocks[-1][1].append(_effect("".join(branches.pop())))
                blocks[-1] = ("else" if word == "else" else blocks[-1][0], blocks[-1][1])
                branches.append([])
            elif blocks and word in ("endif", "endfor"):
                kind, effects = blocks.pop()
                effects.append(_effect("".join(branches.pop())))
                if kind != "else":
                    effects.append(nothing)     # an if without else, or a for that does not run
                if word == "endfor":
                    effects.append(nothing)     # a for's body may repeat: it must do nothing
                effect = _one_effect(effects)
                if effect is None:
                    return False
                branches[-1].append(_as_xml(effect))
            elif word == "set" and any(t.type == "assign" for t in rest):
                continue                        # an assignment prints nothing
            else:
                return False
        else:
            return False                        # a comment, raw block or line statement: not looked into
    return not blocks and _effect("".join(branches[0])) == nothing


_GRID = re.compile(r"<w:tblGrid>(.*?)</w:tblGrid>", re.DOTALL)
_GRID_COLUMN = re.compile(r'<w:gridCol w:w="(\d+)"/>')
_SPAN = re.compile(r'<w:gridSpan w:val="(\d+)"/>')


def fit_tables(body: str) -> str | None:
    """Return the rendered body with each table's grid fitted to its rows as docxtpl's fix_tables fits it
    when rendering left out cells (the ISBE grid's vendor column for a school not Intensive): the grid
    columns no row reaches are removed and their width shared out evenly, in whole twips, over the
    others. Done on the text, it costs a fraction of fix_tables' parse and write; None when the body holds
    anything else fix_tables would handle (a row wider than the grid, a nested table, a cell inside a
    content control, a grid column without a plain width), for the caller to use fix_tables itself."""
    if "<w:tbl " in body:                                 # a table tag with attributes: not looked for
        return None
    parts, at = [], 0
    while (start := body.find("<w:tbl>", at)) >= 0:
        end = body.find("</w:tbl>", start)
        if end < 0:
            return None
        table = body[start:end]
        if table.count("<w:tbl>") != 1 or "<w:sdt" in table or "<w:customXml" in table:
            return None
        grid = _GRID.search(table)
        if grid is None:
            return None
        widths = _GRID_COLUMN.findall(grid.group(1))
        if len(widths) != grid.group(1).count("<w:gridCol"):
            return None
        widest = 0
        for row in table.split("</w:tr>")[:-1]:          # each row's XML (after the table's properties)
            cells = row.count("<w:tc>") + row.count("<w:tc ")
            if cells > len(widths):                      # fix_tables would add grid columns
                return None
            spans = sum(int(n) - 1 for n in _SPAN.findall(row)) if "<w:gridSpan" in row else 0
            widest = max(widest, cells + spans)
        surplus = len(widths) - widest
        parts.append(body[at:start])
        if surplus > 0:
            kept = widths[:-surplus]
            extra = int(sum(float(w) for w in widths[-surplus:]) / len(kept)) if kept else 0
            columns = "".join(f'<w:gridCol w:w="{int(float(w) + extra)}"/>' for w in kept)
            table = table[:grid.start(1)] + columns + table[grid.end(1):]
        parts.append(table)
        at = end
    return "".join(parts) + body[at:]


@dataclass
class _Pictures:
    """Stands in for the part docxtpl renders (python-docx's StoryPart): collects the images one
    document places, for render() to add to the package."""

    next_number: int = 1
    placed: list[tuple[str, str, bytes]] = field(default_factory=list)     # (rId, media name, png)

    def new_pic_inline(self, image_descriptor, width=None, height=None):
        data = image_descriptor.getvalue()
        number = self.next_number
        self.next_number += 1
        rid, name = f"rIdPacketImage{number}", f"packet-image{number}.png"
        self.placed.append((rid, name, data))
        return picture_inline(number, rid, name, data, width, height)


@dataclass(frozen=True)
class _Part:
    name: str                   # zip entry, e.g. word/footer1.xml
    template: jinja2.Template
    encoding: str = "utf-8"


class PreparedDocx:
    """A docxtpl template prepared once; `render(context)` returns one document's bytes."""

    def __init__(self, template: Path, env: jinja2.Environment):
        self.path = Path(template)
        self.tpl = docxtpl_internals.load(self.path)
        self.document_name = docxtpl_internals.document_part_name(self.tpl)
        self.rels_name = posixpath.join(posixpath.dirname(self.document_name), "_rels",
                                        posixpath.basename(self.document_name) + ".rels")
        self.media_dir = posixpath.join(posixpath.dirname(self.document_name), "media")
        with zipfile.ZipFile(self.path) as z:
            self.entries = {info.filename: z.read(info.filename) for info in z.infolist()}
        original = self.entries[self.document_name].decode("utf-8")
        body_start = original.index("<w:body")
        body_end = original.rindex("</w:body>") + len("</w:body>")
        self.document_head, self.document_tail = original[:body_start], original[body_end:]
        body = docxtpl_internals.body_xml(self.tpl)
        self.body = self._compile(env, body)
        self.tables_keep_their_shape = tables_keep_their_shape(body)
        # Then a document needs no check of its own (a third of rendering a long plan), unless a value
        # held a character resolve_listing turns into a paragraph or page break.
        self.always_well_formed = always_well_formed(env, docxtpl_internals.template_source(self.tpl, body))
        self.parts = tuple(_Part(name, self._compile(env, xml), encoding)
                           for name, xml, encoding in docxtpl_internals.header_footer_parts(self.tpl))
        for name in ("docProps/core.xml", "word/footnotes.xml"):
            data = self.entries.get(name, b"")
            if b"{{" in data or b"{%" in data:
                raise PacketsError(f"{self.path.name}: tags in {name} are not supported; keep tags in the body, "
                                   "headers and footers.")
        changing = {self.document_name, *(p.name for p in self.parts)}
        self.base = self._base_package(changing | {self.rels_name, "[Content_Types].xml"})
        # A document placing no picture has the template's own content types and relationships: compressed
        # once here, not in each document (starting a compressor is most of deflating a small part).
        self.base_without_pictures = self._base_package(changing)
        types = self.entries["[Content_Types].xml"].decode("utf-8")
        if 'Extension="png"' not in types:
            types = types.replace("</Types>", _PNG_DEFAULT + "</Types>")
        self.content_types = types.encode("utf-8")

    def _compile(self, env: jinja2.Environment, xml: str) -> jinja2.Template:
        try:
            return compile_xml(env, docxtpl_internals.template_source(self.tpl, xml))
        except jinja2.TemplateSyntaxError as exc:
            error = exc
        # Again as docxtpl compiles it, a paragraph a line, so the error can quote the paragraphs at fault
        # (the one the error was found in, and the one before: an unclosed tag is found in the next).
        source = docxtpl_internals.template_source(self.tpl, xml, lines=True)
        near = ""
        try:
            env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            error = exc
            lines = source.splitlines()[max(exc.lineno - 2, 0):exc.lineno]
            texts = [re.sub(r"<[^>]+>", "", line).strip() for line in lines]
            near = "; near: " + " / ".join(f"'{text}'" for text in texts if text) if any(texts) else ""
        raise PacketsError(f"{self.path.name}: a template tag is malformed ({error}{near}).")

    def _base_package(self, changing: set[str]) -> bytes:
        # The content types and relationships after the other parts, where documents placing a picture have
        # theirs: every document this engine writes begins as the template's parts do, not as python-docx's.
        last = ("[Content_Types].xml", self.rels_name)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for name in sorted((name for name in self.entries if name not in changing), key=last.__contains__):
                z.writestr(name, self.entries[name])
        return buffer.getvalue()

    def _well_formed(self, body: str) -> bool:
        if self.always_well_formed and "\a" not in body and "\f" not in body:
            return True
        return _well_formed(body)

    def render(self, context: dict[str, Any]) -> bytes:
        """Return one document made from this template and a context."""
        pictures = _Pictures()
        context = with_pictures(docxtpl_internals.ImageHost(pictures), context)
        body = docxtpl_internals.finish(self.tpl, self.body.render(context))
        fitted = None if self.tables_keep_their_shape else fit_tables(body)
        # (fit_tables rewrites only each grid's columns: a well-formed body stays so)
        if not self.tables_keep_their_shape and (fitted is None or not self._well_formed(fitted)):
            tree = docxtpl_internals.fix_tables(self.tpl, body)
        elif "docPr" in (fitted or body) or (fitted is None and not self._well_formed(body)):
            # Drawings to number, or XML to recover: parsed as fix_tables parses it.
            tree = etree.fromstring(fitted or body, parser=etree.XMLParser(recover=True))
        else:
            body = fitted or body
            tree = None         # lxml would write it back with the same content; parsing took 1 ms
        if tree is not None:
            docxtpl_internals.number_drawings(self.tpl, tree)
            body = etree.tostring(tree, encoding="unicode")
        document = self.document_head + body + self.document_tail

        buffer = io.BytesIO(self.base if pictures.placed else self.base_without_pictures)
        with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            if pictures.placed:
                added = "".join(f'<Relationship Id="{rid}" Type="{IMAGE_RELATIONSHIP}" Target="media/{name}"/>'
                                for rid, name, _ in pictures.placed)
                rels = self.entries[self.rels_name].decode("utf-8").replace("</Relationships>",
                                                                              added + "</Relationships>")
                z.writestr("[Content_Types].xml", self.content_types)
                z.writestr(self.rels_name, rels.encode("utf-8"))
            z.writestr(self.document_name, document.encode("utf-8"))
            for part in self.parts:
                xml = docxtpl_internals.finish(self.tpl, part.template.render(context))
                z.writestr(part.name, xml.encode(part.encoding))
            for _, name, data in pictures.placed:
                # PNG data is compressed already: deflating it again costs time and saves nothing.
                z.writestr(posixpath.join(self.media_dir, name), data, compress_type=zipfile.ZIP_STORED)
        return buffer.getvalue()
