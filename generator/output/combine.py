"""The combined PDF of a school's packet: a cover and contents, then each Word form, with bookmarks.

Reviewers and boards read one PDF; staff keep editing the Word and Excel files beside it. Each form
keeps its own page size and orientation (the ISBE grid stays legal landscape). The contents' page
numbers come from the converted forms' page counts, so the cover is rendered after the forms are
converted, and once more in the rare case the cover itself runs to a different number of pages.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from pikepdf import (
    AccessMode,
    Array,
    Dictionary,
    Name,
    NumberTree,
    ObjectStreamMode,
    OutlineItem,
    Page,
    Pdf,
    PikepdfError,
    String,
)

from generator import __version__
from generator.findings import ERROR, WARNING, Finding, PacketsError
from generator.model.records import Packet
from generator.output import atomic, naming
from generator.output.batch import worker_context
from generator.output.pdf import PdfConverter
from generator.output.processes import in_workers
from generator.render import FORMS, form_titles, packet_forms, render_document
from generator.render.context import common_context, long_date
from generator.render.template_data import SHIPPED, Templates, form_data, grid_activities

COVER_TEMPLATE = "cover.docx"
COVER_PAGES = 2                  # cover.docx as laid out: the cover page, then the contents page


def pdf_forms(packet: Packet | None = None, templates: Templates = SHIPPED):
    """Return the forms the combined PDF holds, in packet order: the Word forms (the Excel trackers are
    working copies, not submissions), of the packet's forms when a packet is given."""
    return tuple(form for form in (packet_forms(packet, templates) if packet else FORMS) if form.suffix == ".docx")


@dataclass(frozen=True)
class PdfJob:
    """What one school's combined PDF is made from, and where it goes."""

    school_id: str
    target: Path
    forms: tuple[tuple[str, Path], ...]      # (title, Word document) in packet order
    cover: dict[str, Any]                    # cover.docx's context, without the contents
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()    # (form title, labels bookmarked under it)


@dataclass(frozen=True)
class PdfOutcome:
    school_id: str
    path: Path | None
    error: str = ""


def _count(findings: Sequence[Finding], severity: str, word: str) -> str:
    n = sum(f.severity == severity for f in findings)
    return f"{n} {word}{'s' * (n != 1)}"


def cover_context(packet: Packet, ready: bool, findings: Sequence[Finding], built_at: dt.datetime,
                  templates: Templates = SHIPPED) -> dict[str, Any]:
    """Return what cover.docx shows, besides the contents: the school, its readiness and the build date."""
    counts = f"{_count(findings, ERROR, 'error')}, {_count(findings, WARNING, 'warning')}"
    if ready:
        detail = "Every readiness rule passes" + ("." if counts.startswith("0 errors, 0") else f" ({counts}).")
    else:
        # Written for the school's staff and reviewers, who read the PDF: no commands, no file jargon.
        detail = (f"{counts}. The district's readiness report (readiness.xlsx) lists each thing to fix "
                  "and where to fix it.")
    return {
        **common_context(packet, templates),
        "status": "Ready for submission" if ready else "Not ready",
        "status_detail": detail,
        "status_fill": form_data(templates).colours["ready" if ready else "not_ready"],
        "ready": ready,
        "built_on": long_date(built_at.date()),
    }


def pdf_job(settings, packet: Packet, folder: Path, ready: bool, findings: Sequence[Finding],
            built_at: dt.datetime) -> PdfJob:
    """Return the job for a school whose Word forms are in `folder`."""
    school = packet.school
    templates = Templates(settings.templates)
    titles = form_titles(templates)
    word_forms = pdf_forms(packet, templates)
    forms = tuple((titles[form.key], folder / naming.document_name(settings, school, form.key, form.suffix))
                  for form in word_forms)
    # The ISBE grid's month bands (as the grid prints them) become bookmarks under the grid's.
    months = tuple(dict.fromkeys(a.month.upper() for a in grid_activities(templates)
                                 if a.applies(school.identification)))
    return PdfJob(school.school_id, folder / naming.packet_pdf_name(settings, school), forms,
                  cover_context(packet, ready, findings, built_at, templates),
                  ((titles["isbe-grid"], months),) if any(f.key == "isbe-grid" for f in word_forms) else ())


def page_count(pdf: bytes) -> int:
    # Without pushing inherited page attributes down, which reads the whole file: 30 times quicker.
    with Pdf.open(io.BytesIO(pdf), inherit_page_attributes=False) as document:
        return len(document.pages)


def contents(titles: Sequence[str], page_counts: Sequence[int], cover_pages: int) -> list[dict[str, Any]]:
    """Return the contents rows: each form's title, its first page in the combined PDF, its length."""
    rows, page = [], cover_pages + 1
    for title, count in zip(titles, page_counts):
        rows.append({"title": title, "page": page, "pages": count})
        page += count
    return rows


LANGUAGE = "en-US"                # the forms' language (w:lang in their styles): the PDF's /Lang

# What a part that cannot be combined raises: pikepdf's own errors (qpdf could not read or copy it) and,
# from a part whose objects are not of the types the PDF format gives them, the built-in ones.
UNREADABLE = (PikepdfError, KeyError, TypeError, ValueError, AttributeError)


@dataclass
class _Part:
    title: str
    data: bytes                  # the part's PDF as LibreOffice made it (read again only for extract_text)
    pdf: Pdf
    first: int                   # the index of its first page in the combined PDF


def combine(cover: bytes, forms: Sequence[tuple[str, bytes]], cover_context: dict[str, Any],
            sections: dict[str, Sequence[str]] | None = None) -> bytes:
    """Return one PDF: the cover pages, then each form's pages, with a bookmark per form (the form's own
    headings nested under it, and `sections[title]`'s labels, e.g. the ISBE grid's months, at the first
    page showing each) and the packet's title and district in the document properties.

    The parts are LibreOffice's tagged PDF/A-2 exports. pikepdf (qpdf) copies their pages and the
    bookmarks leading to them; each part's structure tree (the tags a screen reader reads) is copied
    under one Document element here, its marked-content keys renumbered, and the language, title and
    PDF/A identification written again for the whole. A part that cannot be read raises PacketsError
    naming it."""
    with ExitStack() as opened:
        out = opened.enter_context(Pdf.new())
        parts: list[_Part] = []
        for title, data in [("Cover", cover), *forms]:
            try:
                pdf = _open(data, opened)
                parts.append(_Part(title, data, pdf, len(out.pages)))
                out.pages.extend(pdf.pages)
            except UNREADABLE as exc:
                raise PacketsError(f"the {_named(title)} PDF that LibreOffice made cannot be read: {exc}") from exc
        try:
            return _combined(out, parts, cover_context, sections or {})
        except UNREADABLE as exc:
            raise PacketsError(f"the forms' pages, bookmarks and tags could not be combined: {exc}") from exc


def _combined(out: Pdf, parts: Sequence[_Part], cover_context: dict[str, Any],
              sections: dict[str, Sequence[str]]) -> bytes:
    """Return the combined PDF: `out`, which holds the parts' pages, with their bookmarks and tags and
    the packet's metadata."""
    _outline(out, parts, sections)
    _merge_structure(out, parts)
    school, district, year = cover_context["school"], cover_context["district"], cover_context["planning_year"]
    producer = parts[0].pdf.docinfo.get("/Producer")
    stamp = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    root = out.Root
    # PDF/A: /Info and the XMP metadata say the same; open_metadata writes both.
    with out.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["pdfaid:part"] = "2"
        meta["pdfaid:conformance"] = "B"
        meta["dc:format"] = "application/pdf"
        meta["dc:title"] = f"{school['name']}: School Improvement Plan Packet {year}"
        meta["dc:creator"] = [district["name"]]
        meta["dc:description"] = f"School {school['id']}, planning year {year}"
        meta["dc:language"] = [LANGUAGE]
        meta["pdf:Producer"] = f"pikepdf, from LibreOffice {_producer(producer)}"
        meta["xmp:CreatorTool"] = f"plan-packets {__version__}"
        meta["xmp:CreateDate"] = meta["xmp:ModifyDate"] = stamp.isoformat()
    root.Lang = String(LANGUAGE)
    root.MarkInfo = Dictionary(Marked=True)
    # A reader's title bar shows the document's title, not its file name (PDF/UA, WCAG PDF18).
    root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
    intents = parts[0].pdf.Root.get("/OutputIntents")
    if isinstance(intents, Array):          # PDF/A: the colour profile the parts were written for
        root.OutputIntents = out.copy_foreign(parts[0].pdf.make_indirect(intents))
    root.PageMode = Name.UseOutlines        # open with the bookmarks showing
    buffer = io.BytesIO()
    # Object streams (PDF 1.5, allowed by PDF/A-2) hold the thousands of small structure elements:
    # a third of the size, and quicker to write.
    out.save(buffer, object_stream_mode=ObjectStreamMode.generate,
             min_version=max(part.pdf.pdf_version for part in parts))
    return buffer.getvalue()


def _open(data: bytes, opened: ExitStack) -> Pdf:
    """Return the PDF in `data`, open until `opened` closes. qpdf reads a Python stream such as BytesIO
    a call at a time; from a memory-mapped file it parses a part two to three times quicker. The page
    attributes a page inherits from the page tree (its size, orientation, resources) are pushed down to
    it when its page is copied, not all at once when the file is opened."""
    file = opened.enter_context(tempfile.TemporaryFile())
    file.write(data)
    file.seek(0)
    return opened.enter_context(Pdf.open(file, access_mode=AccessMode.mmap, inherit_page_attributes=False))


def _named(title: str) -> str:
    return "cover's" if title == "Cover" else f"{title} form's"


def _producer(produced: object) -> str:
    return str(produced or "").removeprefix("LibreOffice").strip() or "?"


def _outline(out: Pdf, parts: Sequence[_Part], sections: dict[str, Sequence[str]]) -> None:
    """Give the combined PDF its bookmarks: the cover and contents (the cover's own are left out), then
    one per form, holding the form's own and a bookmark for each of `sections[title]`'s labels."""
    with out.open_outline() as outline:
        cover = parts[0]
        items = [OutlineItem("Cover", 0)] + ([OutlineItem("Contents", 1)] if len(cover.pdf.pages) > 1 else [])
        for part in parts[1:]:
            item = OutlineItem(part.title, part.first)
            item.children = _carried(out, part)
            item.children += _section_bookmarks(part, sections.get(part.title, ()),
                                                {child.title.strip().casefold() for child in item.children})
            items.append(item)
        outline.root = items


def _carried(out: Pdf, part: _Part) -> list[OutlineItem]:
    """Return the part's own bookmarks (the form's headings), each leading to the copy of its page in
    `out`; one leading elsewhere is left out, or kept without a destination when it holds some that are
    kept. (pikepdf 10.18's add_pages_from carries bookmarks too, but to the top level only, and Python
    3.10 gets pikepdf 10.13.)"""
    copies = {page.obj.objgen: out.pages[part.first + i].obj for i, page in enumerate(part.pdf.pages)}

    def carry(items: Sequence[OutlineItem]) -> list[OutlineItem]:
        kept = []
        for item in items:
            children = carry(item.children)
            target = _page_destination(item)
            copy = copies.get(target[0].objgen) if target is not None else None
            if copy is None and not children:
                continue
            carried = OutlineItem(item.title, None if target is None or copy is None else
                                  Array([copy, *list(target)[1:]]))
            carried.is_closed = item.is_closed
            carried.children = children
            kept.append(carried)
        return kept
    try:
        return carry(part.pdf.open_outline().root)
    except UNREADABLE:                  # bookmarks too damaged to read: the form's own are left out
        return []


def _page_destination(item: OutlineItem) -> Array | None:
    """Return the destination an item leads to, [page, how to show it...], whether given as its
    destination or a go-to action; None for any other (a named destination, another action)."""
    target: object = item.destination
    if target is None and isinstance(item.action, Dictionary) and item.action.get("/S") == Name.GoTo:
        target = item.action.get("/D")
    if isinstance(target, Array) and len(target) and isinstance(target[0], Dictionary):
        return target
    return None


def _section_bookmarks(part: _Part, labels: Sequence[str], have: set[str]) -> list[OutlineItem]:
    """Return a bookmark for each label (a month band of the ISBE grid), at the first page from the
    previous label's on whose text has the label as a line of its own. Labels the form's own headings
    already bookmark (`have`, case folded) are left out."""
    if not labels:
        return []
    maps: dict[tuple[int, int], tuple[int, dict[bytes, str]] | None] = {}
    quick = [_quick_lines(page, maps) for page in part.pdf.pages]
    slow: dict[int, set[str]] = {}
    reader: list[Any] = []                      # pypdf's reader of the part, made when first needed

    def lines(i: int) -> set[str]:              # pypdf's lines, when the quick reading cannot tell
        if i not in slow:
            slow[i] = _extracted_lines(reader, part.data, i)
        return slow[i]
    at = 0
    bookmarks = []
    for label in labels:
        if label.casefold() in have:
            continue
        wanted = _squeezed(label)
        found = next((i for i in range(at, len(quick)) if wanted in (quick[i] or lines(i))), None)
        if found is None:
            continue
        at = found
        bookmarks.append(OutlineItem(label, part.first + found))
    return bookmarks


def _extracted_lines(reader: list[Any], data: bytes, index: int) -> set[str]:
    """Return page `index` of the PDF in `data` as pypdf's extract_text splits it into lines, squeezed;
    none for a page pypdf cannot read. `reader` keeps pypdf's reader for the next page. pypdf is
    imported only here: LibreOffice's pages all read the quick way."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    try:
        if not reader:
            reader.append(PdfReader(io.BytesIO(data)))
        text = reader[0].pages[index].extract_text() or ""
    except (PyPdfError, KeyError, ValueError, TypeError, IndexError):
        return set()
    return {_squeezed(line) for line in text.splitlines()}


def _squeezed(text: str) -> str:
    return "".join(text.split()).casefold()


# What a line of text is made of in LibreOffice's content streams: BT, "x y Td" (or "1 0 0 1 x y Tm"),
# "/F1 8 Tf", then hex strings in Tj or TJ (kerning numbers between them), ET. Anything else showing text
# (literal strings, a scaled or turned Tm, T*, quotes) makes the page read by pypdf's extract_text instead;
# a marked-content property list (<< /ActualText <FEFF00A0> >>) is passed over.
_NUMBER = rb"(-?[\d.]+)\s+"
_TEXT = re.compile(rb"(?s:<<.*?>>)|\bBT\b|" + _NUMBER * 2 + rb"Td|" + _NUMBER * 6 + rb"Tm|/([^\s/\[\]<>()%{}]+)\s+"
                   + _NUMBER + rb"Tf|<([0-9A-Fa-f\s]*)>|\(|\bT[m*]\b|[\'\"]")


def _quick_lines(page: Page, maps: dict[tuple[int, int], tuple[int, dict[bytes, str]] | None]) -> set[str] | None:
    """Return a page's lines of text, squeezed (no white space, case folded), split much as pypdf's
    extract_text splits them (text shown on one baseline, give or take most of the font's height), read
    straight from the content stream with each font's ToUnicode map: about ten times quicker than
    extract_text. None when the page holds anything this reading does not know."""
    try:
        resources = page.obj.get("/Resources")
        fonts = resources.get("/Font") if isinstance(resources, Dictionary) else None
        contents = page.obj.get("/Contents")
        streams = contents if isinstance(contents, Array) else [] if contents is None else [contents]
        data = b"\n".join(stream.read_bytes() for stream in streams)
    except UNREADABLE:
        return None
    lines: set[str] = set()
    current: list[str] = []
    span: tuple[float, float] | None = None          # the current line's lowest and highest baseline
    y = size = line_size = 0.0
    font: tuple[int, dict[bytes, str]] | None = None
    for m in _TEXT.finditer(data):
        token = m.group(0)
        if token.startswith(b"<<"):                  # a marked-content property list (its ActualText)
            continue
        if token == b"BT":
            y = 0.0
        elif m.group(2) is not None:
            y += float(m.group(2))
        elif m.group(8) is not None:
            if [float(n) for n in m.group(3, 4, 5, 6)] != [1, 0, 0, 1]:
                return None
            y = float(m.group(8))
        elif m.group(9) is not None:
            name = "/" + m.group(9).decode("latin-1")
            font = _font_map(fonts.get(name) if isinstance(fonts, Dictionary) else None, maps)
            size = abs(float(m.group(10)))
            if font is None:
                return None
        elif m.group(11) is not None:
            if font is None:
                return None
            if span is not None:
                low, high = span
                distance = 0.0 if low <= y <= high else min(abs(y - low), abs(y - high))
                if distance > 0.8 * min(line_size, size):
                    lines.add(_squeezed("".join(current)))
                    current, span = [], None
            span = (min(y, span[0]), max(y, span[1])) if span else (y, y)
            line_size = size
            width, codes = font
            raw = bytes.fromhex(m.group(11).decode("ascii"))
            current.append("".join(codes.get(raw[i:i + width], "") for i in range(0, len(raw), width)))
        else:
            return None
    lines.add(_squeezed("".join(current)))
    return lines


_CMAP_CHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>()()")
_CMAP_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(?:<([0-9A-Fa-f]+)>|\[([^\]]*)\])")


def _font_map(font, maps: dict[tuple[int, int], tuple[int, dict[bytes, str]] | None]
              ) -> tuple[int, dict[bytes, str]] | None:
    """Return a font's code width in bytes and its codes' text, from its ToUnicode CMap (an indirect
    font read once a PDF); None for a font without one, or one this reading does not know."""
    key = font.objgen if isinstance(font, Dictionary) and font.is_indirect else None
    if key is not None and key in maps:
        return maps[key]
    found = _read_font_map(font)
    if key is not None:
        maps[key] = found
    return found


def _read_font_map(font) -> tuple[int, dict[bytes, str]] | None:
    if not isinstance(font, Dictionary):
        return None
    try:
        cmap = font["/ToUnicode"].read_bytes()
    except UNREADABLE:
        return None
    codes: dict[bytes, str] = {}
    width = 0
    try:
        for section, body in re.findall(rb"begin(bfchar|bfrange)(.*?)end\1", cmap, re.S):
            for entry in (_CMAP_CHAR if section == b"bfchar" else _CMAP_RANGE).finditer(body):
                source, second, third, listed = entry.groups()
                width = width or len(source) // 2
                if section == b"bfchar":
                    codes[bytes.fromhex(source.decode())] = bytes.fromhex(second.decode()).decode("utf-16-be")
                    continue
                low, high = int(source, 16), int(second, 16)
                if listed is not None:
                    targets = [bytes.fromhex(t.decode()).decode("utf-16-be")
                               for t in re.findall(rb"<([0-9A-Fa-f]+)>", listed)]
                else:
                    base = bytes.fromhex(third.decode())
                    # A range's target counts up in its last UTF-16 unit.
                    targets = [(base[:-2] + (int.from_bytes(base[-2:], "big") + n).to_bytes(2, "big")).decode(
                        "utf-16-be", "replace") for n in range(high - low + 1)]
                for n, text in zip(range(low, high + 1), targets):
                    codes[n.to_bytes(len(source) // 2, "big")] = text
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    if width not in (1, 2) or font.get("/Subtype") == Name.Type0 and width != 2:
        return None
    return width, codes


def _merge_structure(out: Pdf, parts: Sequence[_Part]) -> None:
    """Give the combined PDF one structure tree: a Document holding a Sect per part (titled with the
    form's name) with that part's own elements; renumber each page's and annotation's StructParents
    past the earlier parts' keys and merge the parent trees, so every tag still finds its content.

    Each part's Sect is made in the part itself, from its top Document element, and copied with
    copy_foreign after its pages: qpdf then points the copied tags at the copied pages."""
    document = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document))
    tree = out.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=document))
    document.P = tree
    parent_tree = NumberTree.new(out)
    kids, role_map = Array(), Dictionary()
    offset = 0
    for part in parts:
        source = part.pdf.Root.get("/StructTreeRoot")
        if not isinstance(source, Dictionary):
            continue
        roles = source.get("/RoleMap")
        if isinstance(roles, Dictionary):
            for role, standard in roles.items():
                role_map[role] = standard
        section = out.copy_foreign(_section(part.pdf, source, part.title))
        section.P = document
        kids.append(section)
        highest = -1
        tree_source = source.get("/ParentTree")
        if isinstance(tree_source, Dictionary):
            entries = list(NumberTree(tree_source).items())
            # One copy for the part's entries (often direct arrays, which copy_foreign cannot take alone).
            copied = out.copy_foreign(part.pdf.make_indirect(Array([value for _, value in entries])))
            for (key, _), value in zip(entries, copied):
                parent_tree[key + offset] = value
                highest = max(highest, key)
        for page in out.pages[part.first:part.first + len(part.pdf.pages)]:
            if "/StructParents" in page.obj:
                key = int(page.obj.StructParents)
                page.obj.StructParents = key + offset
                highest = max(highest, key)
            annots = page.obj.get("/Annots")
            for annot in annots if isinstance(annots, Array) else ():
                if isinstance(annot, Dictionary) and "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + offset
        offset += highest + 1
    document.K = kids
    tree.ParentTree = parent_tree.obj
    tree.ParentTreeNextKey = offset
    if len(role_map):
        tree.RoleMap = role_map
    out.Root.StructTreeRoot = tree


def _section(pdf: Pdf, source: Dictionary, title: str) -> Dictionary:
    """Return, made in the part's own PDF, the Sect holding its structure elements, its /P left out:
    its top Document element, retitled, or a new Sect holding its top elements (the children of any
    Document among them). Nothing in it leads back to the part's tree root, so copying it copies the
    part's elements and nothing else."""
    top = list(_items(source.get("/K")))
    if len(top) == 1 and _is_element(top[0]) and top[0].get("/S") == Name.Document:
        section = pdf.make_indirect(top[0])          # as LibreOffice writes it, already indirect
        if "/P" in section:
            del section.P
    else:
        section = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Sect))
        inner = Array()
        for element in top:
            if _is_element(element) and element.get("/S") == Name.Document:
                children = list(_items(element.get("/K")))
                if "/P" in element:          # still held by the parent tree, perhaps: not by the old root
                    del element.P
            else:
                children = [element]
            for child in children:
                if _is_element(child):
                    child.P = section
                inner.append(child)
        section.K = inner
    section.S = Name.Sect
    section.T = String(title)
    return section


def _items(value) -> Iterable:
    """An array's items, or a single value as one item; nothing for none."""
    if value is None:
        return ()
    return value if isinstance(value, Array) else (value,)


def _is_element(value) -> bool:
    """Whether a /K entry is a structure element (not a marked-content id or reference)."""
    return isinstance(value, Dictionary) and "/S" in value and value.get("/Type", Name.StructElem) == Name.StructElem


def make_packet_pdfs(jobs: Sequence[PdfJob], converter: PdfConverter,
                     templates: Templates = SHIPPED) -> list[PdfOutcome]:
    """Make and write each job's combined PDF; return an outcome per job, in order.

    Every job's forms are converted in one LibreOffice batch, then every cover in another; then the
    parts are combined in as many processes as the converter has LibreOffice processes. A school whose form or
    cover fails gets an error and no PDF; the others are unaffected.
    """
    errors: dict[str, str] = {}
    documents: list[tuple[str, bytes]] = []
    waiting: list[PdfJob] = []
    for job in jobs:
        try:
            documents += [(path.name, path.read_bytes()) for _, path in job.forms]
            waiting.append(job)
        except OSError as exc:
            errors[job.school_id] = f"a form to convert could not be read ({exc})"
    converted = iter(converter.convert(documents))
    form_pdfs: dict[str, list[tuple[str, bytes]]] = {}
    counts: dict[str, list[int]] = {}
    for job in waiting:
        results = [next(converted) for _ in job.forms]
        failed = [c.error for c in results if c.pdf is None]
        if failed:
            errors[job.school_id] = " ".join(failed)
            continue
        pdfs = [c.pdf for c in results if c.pdf is not None]       # every one, as none failed
        try:
            counts[job.school_id] = [page_count(pdf) for pdf in pdfs]
            form_pdfs[job.school_id] = [(title, pdf) for (title, _), pdf in zip(job.forms, pdfs)]
        except UNREADABLE as exc:
            errors[job.school_id] = f"LibreOffice made a PDF that cannot be read ({exc})"

    covers = _covers([j for j in waiting if j.school_id in form_pdfs], counts, converter, templates, errors)
    ready = [job for job in jobs if job.school_id in covers and job.school_id not in errors]
    written = _write_all([(job, covers[job.school_id], form_pdfs.pop(job.school_id)) for job in ready],
                         converter.processes)
    for job, problem in zip(ready, written):
        if problem:
            errors[job.school_id] = problem
    outcomes = []
    for job in jobs:
        sid = job.school_id
        if sid in errors:
            outcomes.append(PdfOutcome(sid, None, errors[sid]))
        else:
            outcomes.append(PdfOutcome(sid, job.target))
    return outcomes


def write_packet_pdf(job: PdfJob, cover: bytes, forms: Sequence[tuple[str, bytes]]) -> str:
    """Combine and write one school's PDF; return "" when written, else why not."""
    try:
        atomic.write_atomic(job.target, combine(cover, forms, job.cover, dict(job.sections)))
    except (OSError, PacketsError) as exc:
        return f"the PDF could not be written ({exc})"
    return ""


def _write_all(work: Iterable[tuple[PdfJob, bytes, Sequence[tuple[str, bytes]]]], processes: int) -> list[str]:
    """Return write_packet_pdf's answer for each (job, cover, forms), in order, made in `processes`
    pool workers at once."""
    work = list(work)
    if processes <= 1 or len(work) <= 1:
        return [write_packet_pdf(*item) for item in work]
    # A few schools in flight a worker: the parts are not all queued at once.
    return list(in_workers(write_packet_pdf, work, min(processes, len(work)), worker_context(), processes * 2,
                           "a process combining the PDFs ended unexpectedly (the computer may have run out of "
                           "memory, or it was stopped); build again with --pdf to make them"))


def _covers(jobs: Sequence[PdfJob], counts: dict[str, list[int]], converter: PdfConverter,
            templates: Templates, errors: dict[str, str]) -> dict[str, bytes]:
    """Return each job's converted cover, its contents numbered from the forms' page counts."""
    cover_pages = {job.school_id: COVER_PAGES for job in jobs}
    covers: dict[str, bytes] = {}
    todo = list(jobs)
    for _ in range(2):                   # the second round only for covers longer than expected
        rendered = []
        for job in todo:
            sid = job.school_id
            rows = contents([title for title, _ in job.forms], counts[sid], cover_pages[sid])
            try:
                rendered.append((job, render_document(templates.path(COVER_TEMPLATE), {**job.cover, "contents": rows})))
            except PacketsError as exc:
                errors[sid] = f"the cover could not be made ({exc})"
        again = []
        for (job, _), done in zip(rendered, converter.convert([(f"{j.school_id}-cover.docx", data)
                                                                for j, data in rendered])):
            sid = job.school_id
            if done.pdf is None:
                errors[sid] = done.error
                continue
            try:
                pages = page_count(done.pdf)
            except UNREADABLE as exc:
                errors[sid] = f"LibreOffice made a cover PDF that cannot be read ({exc})"
                continue
            covers[sid] = done.pdf
            if pages != cover_pages[sid]:
                cover_pages[sid] = pages
                again.append(job)
        todo = again
        if not todo:
            break
    return covers
