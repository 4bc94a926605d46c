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
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from generator import __version__
from generator.findings import ERROR, WARNING, Finding, PacketsError
from generator.model.records import Packet
from generator.output import atomic, naming
from generator.output.batch import stop_workers, worker_context, worker_init
from generator.output.pdf import PdfConverter
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
    return len(PdfReader(io.BytesIO(pdf)).pages)


def contents(titles: Sequence[str], page_counts: Sequence[int], cover_pages: int) -> list[dict[str, Any]]:
    """Return the contents rows: each form's title, its first page in the combined PDF, its length."""
    rows, page = [], cover_pages + 1
    for title, count in zip(titles, page_counts):
        rows.append({"title": title, "page": page, "pages": count})
        page += count
    return rows


LANGUAGE = "en-US"                # the forms' language (w:lang in their styles): the PDF's /Lang


def combine(cover: bytes, forms: Sequence[tuple[str, bytes]], cover_context: dict[str, Any],
            sections: dict[str, Sequence[str]] | None = None) -> bytes:
    """Return one PDF: the cover pages, then each form's pages, with a bookmark per form (the form's own
    headings nested under it, and `sections[title]`'s labels, e.g. the ISBE grid's months, at the first
    page showing each) and the packet's title and district in the document properties.

    The parts are LibreOffice's tagged PDF/A-2 exports. pypdf's append keeps pages and bookmarks but
    not the structure tree (the tags a screen reader reads), so each part's tree is copied under one
    Document element here, its marked-content keys renumbered, and the language, title and PDF/A
    identification written again for the whole."""
    writer = PdfWriter()
    parts: list[tuple[str, PdfReader, int]] = []         # (title, reader, index of its first page)
    cover_reader = PdfReader(io.BytesIO(cover))
    parts.append(("Cover", cover_reader, 0))
    writer.append(cover_reader, import_outline=False)
    writer.add_outline_item(title="Cover", page_number=0)
    if len(writer.pages) > 1:
        writer.add_outline_item(title="Contents", page_number=1)
    for title, data in forms:
        reader = PdfReader(io.BytesIO(data))
        first = len(writer.pages)
        parts.append((title, reader, first))
        writer.append(reader, outline_item=title, import_outline=True)
        _bookmark_sections(writer, reader, first, title, (sections or {}).get(title, ()))
    _merge_structure(writer, parts)
    school, district, year = cover_context["school"], cover_context["district"], cover_context["planning_year"]
    info = {"/Title": f"{school['name']}: School Improvement Plan Packet {year}",
            "/Author": district["name"], "/Subject": f"School {school['id']}, planning year {year}",
            "/Creator": f"plan-packets {__version__}",
            "/Producer": f"pypdf, from LibreOffice {_producer(cover_reader)}"}
    stamp = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    writer.add_metadata({**info, "/CreationDate": stamp.strftime("D:%Y%m%d%H%M%SZ"),
                         "/ModDate": stamp.strftime("D:%Y%m%d%H%M%SZ")})
    root = writer._root_object
    root[NameObject("/Lang")] = TextStringObject(LANGUAGE)
    root[NameObject("/MarkInfo")] = DictionaryObject({NameObject("/Marked"): BooleanObject(True)})
    # A reader's title bar shows the document's title, not its file name (PDF/UA, WCAG PDF18).
    root[NameObject("/ViewerPreferences")] = DictionaryObject(
        {NameObject("/DisplayDocTitle"): BooleanObject(True)})
    source_root: Any = cover_reader.trailer["/Root"]
    intents = source_root.get("/OutputIntents")
    if intents is not None:              # PDF/A: the colour profile the parts were written for
        root[NameObject("/OutputIntents")] = intents.clone(writer)
    metadata = StreamObject()
    metadata.set_data(_xmp(info, stamp).encode("utf-8"))
    metadata.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    root[NameObject("/Metadata")] = writer._add_object(metadata)
    writer.page_mode = "/UseOutlines"        # open with the bookmarks showing
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _producer(reader: PdfReader) -> str:
    metadata: Any = reader.metadata or {}
    produced = str(metadata.get("/Producer", ""))
    return produced.removeprefix("LibreOffice").strip() or "?"


def _bookmark_sections(writer: PdfWriter, reader: PdfReader, first: int, title: str, labels: Sequence[str]) -> None:
    """Add a bookmark under the form's for each label (a month band of the ISBE grid), at the first page
    from the previous label's on whose text has the label as a line of its own. Labels the form's own
    headings already bookmark are left alone."""
    if not labels:
        return
    outlines: Any = writer._root_object["/Outlines"]
    parent = next((item for item in outlines.children() if item.get("/Title") == title), None)
    if parent is None:
        return
    have = {str(child.get("/Title", "")).strip().casefold() for child in parent.children()}
    maps: dict[Any, tuple[int, dict[bytes, str]] | None] = {}
    quick = [_quick_lines(page, maps) for page in reader.pages]
    slow: dict[int, set[str]] = {}

    def lines(i: int) -> set[str]:              # pypdf's lines, when the quick reading cannot tell
        if i not in slow:
            slow[i] = {_squeezed(line) for line in (reader.pages[i].extract_text() or "").splitlines()}
        return slow[i]
    at = 0
    for label in labels:
        if label.casefold() in have:
            continue
        wanted = _squeezed(label)
        found = next((i for i in range(at, len(quick)) if wanted in (quick[i] or lines(i))), None)
        if found is None:
            continue
        at = found
        writer.add_outline_item(title=label, page_number=first + found, parent=parent)


def _squeezed(text: str) -> str:
    return "".join(text.split()).casefold()


# What a line of text is made of in LibreOffice's content streams: BT, "x y Td" (or "1 0 0 1 x y Tm"),
# "/F1 8 Tf", then hex strings in Tj or TJ (kerning numbers between them), ET. Anything else showing text
# (literal strings, a scaled or turned Tm, T*, quotes) makes the page read by pypdf's extract_text instead;
# a marked-content property list (<< /ActualText <FEFF00A0> >>) is passed over.
_NUMBER = rb"(-?[\d.]+)\s+"
_TEXT = re.compile(rb"(?s:<<.*?>>)|\bBT\b|" + _NUMBER * 2 + rb"Td|" + _NUMBER * 6 + rb"Tm|/([^\s/\[\]<>()%{}]+)\s+"
                   + _NUMBER + rb"Tf|<([0-9A-Fa-f\s]*)>|\(|\bT[m*]\b|[\'\"]")


def _quick_lines(page, maps: dict[Any, tuple[int, dict[bytes, str]] | None]) -> set[str] | None:
    """Return a page's lines of text, squeezed (no white space, case folded), split much as pypdf's
    extract_text splits them (text shown on one baseline, give or take most of the font's height), read
    straight from the content stream with each font's ToUnicode map: about ten times quicker than
    extract_text. None when the page holds anything this reading does not know."""
    try:
        resources: Any = page.get("/Resources") or {}
        fonts: Any = resources.get("/Font") or {}
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
    except (PyPdfError, KeyError, ValueError):
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
            font = _font_map(fonts.raw_get(name) if name in fonts else None, maps)
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


def _font_map(font, maps: dict[Any, tuple[int, dict[bytes, str]] | None]) -> tuple[int, dict[bytes, str]] | None:
    """Return a font's code width in bytes and its codes' text, from its ToUnicode CMap (read once a
    font a PDF); None for a font without one, or one this reading does not know."""
    key = getattr(font, "idnum", None) or id(font)     # an indirect font is read once a PDF
    if key in maps:
        return maps[key]
    maps[key] = None
    try:
        font = font.get_object()
        cmap = font["/ToUnicode"].get_object().get_data()
    except (AttributeError, KeyError, PyPdfError, ValueError, TypeError):
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
    if width not in (1, 2) or font.get("/Subtype") == "/Type0" and width != 2:
        return None
    maps[key] = (width, codes)
    return maps[key]


def _merge_structure(writer: PdfWriter, parts: Sequence[tuple[str, PdfReader, int]]) -> None:
    """Give the combined PDF one structure tree: a Document holding a Sect per part (titled with the
    form's name) with that part's own elements; renumber each page's and annotation's StructParents
    past the earlier parts' keys and merge the parent trees, so every tag still finds its content."""
    document = _element("/Document")
    document_ref = writer._add_object(document)
    kids, nums, role_map = ArrayObject(), ArrayObject(), DictionaryObject()
    offset = 0
    for title, reader, first in parts:
        part_root: Any = reader.trailer["/Root"]
        source = part_root.get("/StructTreeRoot")
        if source is None:
            continue
        source = source.get_object()
        role_map.update(source.get("/RoleMap", DictionaryObject()).get_object())
        section = _element("/Sect")
        section.update({NameObject("/T"): TextStringObject(title), NameObject("/P"): document_ref})
        section_ref = writer._add_object(section)
        top = source.get("/K", ArrayObject())
        top = top.get_object() if isinstance(top, IndirectObject) else top
        top = top if isinstance(top, ArrayObject) else ArrayObject([top])
        # Each part's top element is usually its own Document: its children go in the part's Sect.
        inner = ArrayObject()
        for element in top:
            obj = element.get_object()
            if isinstance(obj, DictionaryObject) and obj.get("/S") == "/Document":
                children = obj.get("/K", ArrayObject())
                children = children.get_object() if isinstance(children, IndirectObject) else children
                inner.extend(children if isinstance(children, ArrayObject) else [children])
            else:
                inner.append(element)
        cloned = ArrayObject(kid.clone(writer, ignore_fields=("/P",)) for kid in inner)
        section[NameObject("/K")] = cloned
        _set_parents(section_ref, section)
        kids.append(section_ref)
        highest = -1
        for key, value in _number_tree(source.get("/ParentTree")):
            nums += [NumberObject(key + offset), value.clone(writer, ignore_fields=("/P",))]
            highest = max(highest, key)
        count = len(reader.pages)
        # pypdf leaves /StructParents off the pages it copies: take each page's key from its source.
        for page, original in zip(writer.pages[first:first + count], reader.pages):
            if "/StructParents" in original:
                parents: Any = original["/StructParents"]
                key = int(parents)
                page[NameObject("/StructParents")] = NumberObject(key + offset)
                highest = max(highest, key)
            for annot in page.get("/Annots", ArrayObject()):
                annot = annot.get_object()
                if "/StructParent" in annot:
                    annot[NameObject("/StructParent")] = NumberObject(annot["/StructParent"] + offset)
        offset += highest + 1
    document[NameObject("/K")] = kids
    parent_tree = writer._add_object(DictionaryObject({NameObject("/Nums"): nums}))
    tree = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot"), NameObject("/K"): document_ref,
                             NameObject("/ParentTree"): parent_tree,
                             NameObject("/ParentTreeNextKey"): NumberObject(offset)})
    if role_map:
        tree[NameObject("/RoleMap")] = role_map
    tree_ref = writer._add_object(tree)
    document[NameObject("/P")] = tree_ref
    writer._root_object[NameObject("/StructTreeRoot")] = tree_ref


def _element(kind: str) -> DictionaryObject:
    return DictionaryObject({NameObject("/Type"): NameObject("/StructElem"), NameObject("/S"): NameObject(kind)})


def _set_parents(parent_ref: IndirectObject, parent: DictionaryObject) -> None:
    """Point each structure element under `parent` at its parent (the copy left /P out, which would
    otherwise have dragged in each part's old tree root)."""
    stack = [(parent_ref, parent)]
    while stack:
        ref, element = stack.pop()
        children = element.get("/K")
        if children is None:
            continue
        children = children.get_object()
        for child in children if isinstance(children, ArrayObject) else [children]:
            if not isinstance(child, IndirectObject):
                continue
            obj = child.get_object()
            if isinstance(obj, DictionaryObject) and obj.get("/Type", "/StructElem") == "/StructElem" and "/S" in obj:
                obj[NameObject("/P")] = ref
                stack.append((child, obj))


def _number_tree(node) -> list[tuple[int, Any]]:
    """Return a number tree's (key, value) pairs, its kids' included."""
    if node is None:
        return []
    node = node.get_object()
    pairs = []
    nums = node.get("/Nums", ArrayObject())
    for i in range(0, len(nums) - 1, 2):
        pairs.append((int(nums[i]), nums[i + 1]))
    for kid in node.get("/Kids", ArrayObject()):
        pairs += _number_tree(kid)
    return pairs


def _xmp(info: dict[str, str], stamp: dt.datetime) -> str:
    """Return the XMP metadata for the combined PDF: PDF/A-2 identification, and the same title, author,
    subject, tools and dates as /Info (PDF/A requires the two to agree)."""
    from xml.sax.saxutils import escape
    when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(info["/Title"])}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{escape(info["/Author"])}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(info["/Subject"])}</rdf:li></rdf:Alt></dc:description>
   <dc:language><rdf:Bag><rdf:li>{LANGUAGE}</rdf:li></rdf:Bag></dc:language>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdf:Producer>{escape(info["/Producer"])}</pdf:Producer>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:CreatorTool>{escape(info["/Creator"])}</xmp:CreatorTool>
   <xmp:CreateDate>{when}</xmp:CreateDate>
   <xmp:ModifyDate>{when}</xmp:ModifyDate>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def make_packet_pdfs(jobs: Sequence[PdfJob], converter: PdfConverter,
                     templates: Templates = SHIPPED) -> list[PdfOutcome]:
    """Make and write each job's combined PDF; return an outcome per job, in order.

    Every job's forms are converted in one LibreOffice batch, then every cover in another; then the
    parts are combined in as many processes as the converter has LibreOffice processes (pypdf takes
    about as long over a school's parts as LibreOffice takes to convert them). A school whose form or
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
        except PyPdfError as exc:
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
    except (OSError, PacketsError, PyPdfError) as exc:
        return f"the PDF could not be written ({exc})"
    return ""


def _write_all(work: Iterable[tuple[PdfJob, bytes, Sequence[tuple[str, bytes]]]], processes: int) -> list[str]:
    """Return write_packet_pdf's answer for each (job, cover, forms), in order, made in `processes`
    pool workers at once (a few schools in flight a worker, so the parts are not all queued at once)."""
    work = list(work)
    if processes <= 1 or len(work) <= 1:
        return [write_packet_pdf(*item) for item in work]
    answers: list[str] = []
    with ProcessPoolExecutor(max_workers=min(processes, len(work)), mp_context=worker_context(),
                             initializer=worker_init) as pool:
        pending: deque = deque()
        try:
            for item in work:
                pending.append(pool.submit(write_packet_pdf, *item))
                if len(pending) >= processes * 2:
                    answers.append(pending.popleft().result())
            answers += [future.result() for future in pending]
        except BaseException:          # Ctrl-C: the workers stop now, not once the queue is done
            stop_workers(pool)
            raise
    return answers


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
            except PyPdfError as exc:
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
