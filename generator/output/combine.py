"""The combined PDF of a school's packet: a cover and contents, then each Word form, with bookmarks.

Reviewers and boards read one PDF; staff keep editing the Word and Excel files beside it. Each form
keeps its own page size and orientation (the ISBE grid stays legal landscape). The contents' page
numbers come from the converted forms' page counts, so the cover is rendered after the forms are
converted, and once more in the rare case the cover itself runs to a different number of pages.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from generator import __version__
from generator.findings import ERROR, WARNING, Finding, PacketsError
from generator.model.records import Packet
from generator.output import atomic, naming
from generator.output.pdf import PdfConverter
from generator.render import FORMS, form_titles, render_document
from generator.render.context import common_context, long_date
from generator.render.template_data import SHIPPED, Templates, form_data

COVER_TEMPLATE = "cover.docx"
COVER_PAGES = 2                  # cover.docx as laid out: the cover page, then the contents page


def pdf_forms():
    """Return the forms the combined PDF holds, in packet order: the Word forms (the Excel trackers are
    working copies, not submissions)."""
    return tuple(form for form in FORMS if form.suffix == ".docx")


@dataclass(frozen=True)
class PdfJob:
    """What one school's combined PDF is made from, and where it goes."""

    school_id: str
    target: Path
    forms: tuple[tuple[str, Path], ...]      # (title, Word document) in packet order
    cover: dict[str, Any]                    # cover.docx's context, without the contents


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
        **common_context(packet),
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
    forms = tuple((titles[form.key], folder / naming.document_name(settings, school, form.key, form.suffix))
                  for form in pdf_forms())
    return PdfJob(school.school_id, folder / naming.packet_pdf_name(settings, school), forms,
                  cover_context(packet, ready, findings, built_at, templates))


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def contents(titles: Sequence[str], page_counts: Sequence[int], cover_pages: int) -> list[dict[str, Any]]:
    """Return the contents rows: each form's title, its first page in the combined PDF, its length."""
    rows, page = [], cover_pages + 1
    for title, count in zip(titles, page_counts):
        rows.append({"title": title, "page": page, "pages": count})
        page += count
    return rows


def combine(cover: bytes, forms: Sequence[tuple[str, bytes]], cover_context: dict[str, Any]) -> bytes:
    """Return one PDF: the cover pages, then each form's pages, with a bookmark per form (the form's own
    headings nested under it) and the packet's title and district in the document properties."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cover)), import_outline=False)
    writer.add_outline_item(title="Cover", page_number=0)
    if len(writer.pages) > 1:
        writer.add_outline_item(title="Contents", page_number=1)
    for title, data in forms:
        writer.append(PdfReader(io.BytesIO(data)), outline_item=title, import_outline=True)
    school, district, year = cover_context["school"], cover_context["district"], cover_context["planning_year"]
    writer.add_metadata({"/Title": f"{school['name']}: School Improvement Plan Packet {year}",
                         "/Author": district["name"], "/Subject": f"School {school['id']}, planning year {year}",
                         "/Creator": f"plan-packets {__version__}"})
    writer.page_mode = "/UseOutlines"        # open with the bookmarks showing
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_packet_pdfs(jobs: Sequence[PdfJob], converter: PdfConverter,
                     templates: Templates = SHIPPED) -> list[PdfOutcome]:
    """Make and write each job's combined PDF; return an outcome per job, in order.

    Every job's forms are converted in one LibreOffice batch, then every cover in another. A school
    whose form or cover fails gets an error and no PDF; the others are unaffected.
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
    outcomes = []
    for job in jobs:
        sid = job.school_id
        if sid in covers and sid not in errors:
            try:
                atomic.write_atomic(job.target, combine(covers[sid], form_pdfs[sid], job.cover))
            except (OSError, PacketsError, PyPdfError) as exc:
                errors[sid] = f"the PDF could not be written ({exc})"
        if sid in errors:
            outcomes.append(PdfOutcome(sid, None, errors[sid]))
        else:
            outcomes.append(PdfOutcome(sid, job.target))
    return outcomes


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
