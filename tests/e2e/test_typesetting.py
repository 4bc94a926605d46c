"""Issue 17's acceptance checks on the packet PDFs LibreOffice renders, for the sample district and for the
long-plan district (tests/long_district.py: 30-40 strategies, 1,500-character texts, empty sections, a
school with no goals):

(a) no text of the inputs is missing from a packet PDF;
(b) no heading, strategy title, month band or table header ends a page;
(c) no word breaks mid-word at a line end;
(d) no date wraps over two lines;
(e) every packet PDF is tagged (/MarkInfo /Marked true, /StructTreeRoot) and names its /Lang.

What counts as a heading is read from the Word documents the PDF was made from (Title/Subtitle/Heading
styles, repeated header rows, and single-cell rows that span a table: the grid's month bands), so the
checks follow the forms as they change. The lines of each page come from `pdftotext -bbox-layout`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import docx
import pytest
from long_district import write_long_district
from pypdf import PdfReader

from generator.pipeline import load_district
from generator.settings import load_settings

from conftest import AS_OF, SAMPLE, run_cli

pytestmark = [pytest.mark.office, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")]

DISTRICTS = ("sample", "long")


MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
# A date whose parts sit on two lines ("\n" marks the line end): "September\n10, 2026", "Sep 10,\n2026",
# "9/10/\n2026", "2026-09-\n10".
DATE_WRAP = re.compile(rf"\b{MONTHS}\n\d{{1,2}}\b|\b{MONTHS} \d{{1,2}},?\n\d{{4}}\b"
                       r"|\b\d{1,2}/\d{1,2}/?\n\d{2,4}\b|\b\d{4}-\d{2}-?\n\d{2}\b", re.I)
LETTERS = re.compile(r"[^\W\d_]+")


# --- building the districts once ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Each district's inputs folder and output folder, built with --pdf."""
    found = {}
    for name in DISTRICTS:
        root = tmp_path_factory.mktemp(name)
        inputs = SAMPLE if name == "sample" else write_long_district(root / "inputs")
        result = run_cli("build", "--inputs", str(inputs), "--output", str(root / "output"), "--as-of", AS_OF,
                         "--pdf")
        assert result.exit_code == 0, result.output
        found[name] = (inputs, root / "output")
    return found


@dataclasses.dataclass
class Line:
    text: str
    y: float            # top
    x: float
    block: int          # pdftotext's block: lines of one block belong to one paragraph or cell


@dataclasses.dataclass
class Page:
    number: int         # 1-based, in the combined PDF
    height: float
    lines: list[Line]


def pdf_pages(pdf: Path) -> list[Page]:
    """The text lines of every page, each with its position and block."""
    html = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    body = ET.fromstring(html[html.index("<body>"):html.index("</body>") + 7])
    pages, block = [], 0
    for number, page in enumerate(body.iter("page"), 1):
        lines = []
        for b in page.iter("block"):
            block += 1
            for ln in b.iter("line"):
                lines.append(Line(" ".join(w.text or "" for w in ln), float(ln.get("yMin", 0)),
                                  float(ln.get("xMin", 0)), block))
        pages.append(Page(number, float(page.get("height", 0)), lines))
    return pages


def body_lines(pages: list[Page]) -> dict[int, list[Line]]:
    """Each page's lines without its running header and footer: a line in the top or bottom 10% of the page
    whose text, digits aside ("Page 3 of 47"), recurs on another page."""
    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", line.text)

    def in_margin(page: Page, line: Line) -> bool:
        return line.y < page.height * 0.1 or line.y > page.height * 0.9

    seen: dict[str, int] = {}
    for page in pages:
        for k in {key(ln) for ln in page.lines if in_margin(page, ln)}:
            seen[k] = seen.get(k, 0) + 1
    return {p.number: [ln for ln in p.lines if not (in_margin(p, ln) and seen.get(key(ln), 0) > 1)]
            for p in pages}


def squash(text: str) -> str:
    """Text as compared for presence: NFKC (ligatures), straight quotes, no whitespace, no hyphens or soft
    hyphens (a long text may wrap and LibreOffice may hyphenate it)."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"[\s\-\u00ad\u2010\u2011]+", "", text.replace("\u201c", '"').replace("\u201d", '"'))


def spaced(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


@dataclasses.dataclass
class Packet:
    school: str
    pdf: Path
    documents: list[Path]       # the Word documents the PDF was made from


def packets(output: Path) -> list[Packet]:
    found = []
    for pdf in sorted(output.glob("*/*-packet.pdf")):
        found.append(Packet(pdf.name.split("-")[0], pdf, sorted(pdf.parent.glob("*.docx"))))
    assert found, f"no packet PDF in {output}"
    return found


def input_texts(inputs: Path) -> dict[str, list[str]]:
    """Every text cell of the inputs' goals, strategies, activities, benchmarks and tasks, by school."""
    settings = load_settings(inputs, inputs.parent / "unused-output", dt.date.fromisoformat(AS_OF))
    district, _ = load_district(settings)
    texts: dict[str, list[str]] = {}
    for p in district.packets:
        cells = texts.setdefault(p.school.school_id, [])
        for g in p.plan.goals:
            cells += [g.statement, g.measure, g.baseline, g.target]
            for b in g.benchmarks:
                cells += [b.benchmark, b.initial, b.expected]
        for s in p.plan.strategies:
            cells += [s.text, s.evidence]
            for a in s.activities:
                cells += [a.activity, a.milestone, a.funding, a.owner]
        for t in p.tasks:
            cells += [t.task, t.detail]
    return {sid: [c for c in cells if c and c.strip()] for sid, cells in texts.items()}


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def cell_text(tc) -> str:
    """A table cell's text, its paragraphs joined by spaces (string(.) would run them together)."""
    return spaced(" ".join(p.xpath("string(.)") for p in tc.iter(f"{W}p")))


def headings(document: Path) -> set[str]:
    """The texts a page must not end with: Title/Subtitle/Heading paragraphs, the cells of repeated
    header rows, and single-cell rows spanning a table of several columns (the grid's month bands)."""
    doc = docx.Document(str(document))
    found = {spaced(p.text) for p in doc.paragraphs
             if p.text.strip() and p.style is not None
             and str(p.style.name).startswith(("Heading", "Title", "Subtitle"))}
    for table in doc.tables:
        columns = len(table.columns)
        for row in table.rows:
            cells = row._tr.xpath("./w:tc")
            if row._tr.xpath("./w:trPr/w:tblHeader") or (columns > 1 and len(cells) == 1):
                found |= {cell_text(c) for c in cells}
    return {h for h in found if h}


def body_texts(document: Path, heading_texts: set[str]) -> set[str]:
    doc = docx.Document(str(document))
    texts = {spaced(p.text) for p in doc.paragraphs}
    for table in doc.tables:
        for row in table.rows:
            texts |= {cell_text(c) for c in row._tr.xpath("./w:tc")}
    return {t for t in texts if t and t not in heading_texts}


def words_of(documents: list[Path]) -> set[str]:
    """Every word of the documents' text (what the PDF renders), to tell a broken word from two words."""
    words: set[str] = set()
    for document in documents:
        body = docx.Document(str(document)).element.body
        words |= set(LETTERS.findall(" ".join(p.xpath("string(.)") for p in body.iter(f"{W}p"))))
    return words


def line_pairs(lines: list[Line]):
    """Each line with the next line of the same paragraph or cell: the same pdftotext block, starting within
    half an inch of the same left edge (a block may hold neighbouring cells) and at most two lines below."""
    for first, second in zip(lines, lines[1:]):
        if first.block == second.block and abs(first.x - second.x) < 36 and 0 < second.y - first.y < 30:
            yield first, second


# --- the checks --------------------------------------------------------------------------------------

def missing_texts(inputs: Path, output: Path) -> list[str]:
    """(a) Input text cells found nowhere in the school's packet PDF, whitespace and hyphens aside.

    pdftotext's reading order may interleave the lines of neighbouring cells, and a text continued over a
    page break has the running footer and header between its parts, so a text counts as found when it is
    the concatenation of lines of the PDF, in order, each within a few dozen lines of the one before."""
    texts = input_texts(inputs)
    problems = []
    for packet in packets(output):
        raw = subprocess.run(["pdftotext", str(packet.pdf), "-"], capture_output=True, text=True, check=True).stdout
        plain = squash(raw)
        lines = [squash(ln.text) for page in body_lines(pdf_pages(packet.pdf)).values() for ln in page]
        for text in texts.get(packet.school, []):
            wanted = squash(text)
            if wanted not in plain and not made_of_lines(wanted, lines):
                problems.append(f"{packet.school}: {len(text)} chars missing: {text[:70]!r}")
    return problems


def made_of_lines(wanted: str, lines: list[str], max_gap: int = 60) -> bool:
    """True when `wanted` is pieced together from lines of the PDF in order, each within `max_gap` lines of
    the one before: the end of a first line, then the starts of the lines after it. A line may end inside a
    word or a URL, and may go on with a neighbouring cell's text that pdftotext put on the same line."""
    for first, line in enumerate(lines):
        starts = [m.start() for m in re.finditer(re.escape(wanted[:8]), line)]
        starts += [len(line) - k for k in range(1, 8) if line.endswith(wanted[:k])]   # "... See" / "https://..."
        for at in starts:
            done = len(os.path.commonprefix([line[at:], wanted]))
            if done >= min(len(wanted), len(line) - at, 8) and _rest_follows(wanted, done, lines, first + 1, max_gap):
                return True
    return False


def _rest_follows(wanted: str, done: int, lines: list[str], at: int, max_gap: int) -> bool:
    """The rest of `wanted` from `done` on: each next piece is the line after `at` (within `max_gap`) that
    holds the most of it at its start, at least a whole line or 8 characters."""
    while done < len(wanted):
        rest = wanted[done:]
        best, best_at = 0, -1
        for i in range(at, min(at + max_gap, len(lines))):
            line = lines[i]
            shared = len(os.path.commonprefix([line, rest])) if line else 0
            if shared == len(line) or shared == len(rest):
                best, best_at = shared, i            # a whole line of the text, or its end: take it
                break
            if shared >= 8 and shared > best:
                best, best_at = shared, i
        if best_at < 0:
            return False
        done, at = done + best, best_at + 1
    return True


def is_heading(text: str, heads: set[str], others: set[str]) -> bool:
    """A line is (part of) a heading when it is in a heading's text and in no body text of its form."""
    text = spaced(text)
    return len(text) > 1 and any(text in h for h in heads) and not any(text in o for o in others)


def stranded_headings(output: Path) -> list[str]:
    """(b) Pages whose last row of text (every line within 3 pt of the lowest) is all heading: a heading, a
    strategy title, a month band or a table header left at the page foot, its content on the next page."""
    problems = []
    for packet in packets(output):
        forms = [(d, headings(d)) for d in packet.documents]
        titles = {}
        for d, _ in forms:
            title = next((spaced(p.text) for p in docx.Document(str(d)).paragraphs
                          if p.style is not None and p.style.name == "Title" and p.text.strip()), None)
            if title:
                titles[title] = d
        pages = pdf_pages(packet.pdf)
        lines = body_lines(pages)
        current: Path | None = None
        for page in pages:
            body = lines[page.number]
            if not body:
                continue
            top = sorted(body, key=lambda ln: ln.y)[:3]
            current = next((titles[spaced(ln.text)] for ln in top if spaced(ln.text) in titles), current)
            if current is None:
                continue                    # the cover and the contents, made by the combiner
            heads = dict(forms)[current]
            others = body_texts(current, heads)
            lowest = max(ln.y for ln in body)
            last = [ln for ln in body if ln.y > lowest - 3]
            if all(is_heading(ln.text, heads, others) for ln in last):
                shown = " | ".join(spaced(ln.text) for ln in sorted(last, key=lambda ln: ln.x))
                problems.append(f"{packet.school} p{page.number} ({current.stem}): ends with {shown[:90]!r}")
    return problems


def broken_words(output: Path) -> list[str]:
    """(c) Line ends that split a word: the end of a line and the start of the next line of the same cell
    make a word of the form, and they are not both words themselves. A URL may break (it is one token
    wider than any column)."""
    problems = []
    for packet in packets(output):
        words = words_of(packet.documents)
        for number, lines in body_lines(pdf_pages(packet.pdf)).items():
            for first, second in line_pairs(lines):
                end_token, start_token = first.text.split()[-1:], second.text.split()[:1]
                if not end_token or not start_token or "/" in end_token[0] or "." in end_token[0][:-1]:
                    continue
                tail = LETTERS.findall(end_token[0].rstrip("-\u00ad"))
                head = LETTERS.findall(start_token[0])
                if not tail or not head or not end_token[0].rstrip("-\u00ad")[-1:].isalpha() \
                        or not start_token[0][:1].isalpha():
                    continue
                a, b = tail[-1], head[0]
                if a + b in words and len(a + b) > 3 and not (a in words and b in words):
                    problems.append(f"{packet.school} p{number}: {a}|{b} ({first.text[-40:]!r} / {second.text[:30]!r})")
    return problems


def wrapped_dates(output: Path) -> list[str]:
    """(d) Dates split over two lines of one cell or paragraph."""
    problems = []
    for packet in packets(output):
        for number, lines in body_lines(pdf_pages(packet.pdf)).items():
            for first, second in line_pairs(lines):
                joined = f"{first.text}\n{second.text}"
                for match in DATE_WRAP.finditer(joined):
                    problems.append(f"{packet.school} p{number}: {match.group(0)!r}")
    return problems


def untagged(output: Path) -> list[str]:
    """(e) Packet PDFs without a structure tree, the Marked flag, or a document language."""
    problems = []
    for packet in packets(output):
        root = PdfReader(packet.pdf).trailer["/Root"]
        mark = root.get("/MarkInfo")
        mark = mark.get_object() if mark is not None else {}
        lacks = [what for what, ok in (("/MarkInfo /Marked true", bool(mark.get("/Marked", False))),
                                       ("/StructTreeRoot", "/StructTreeRoot" in root),
                                       ("/Lang", bool(str(root.get("/Lang", "")).strip())))
                 if not ok]
        if lacks:
            problems.append(f"{packet.school}: no {', '.join(lacks)}")
    return problems


def report(problems: list[str], what: str) -> str:
    return f"{len(problems)} {what}:\n" + "\n".join(problems[:25])


# --- the tests ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("district", DISTRICTS)
def test_no_input_text_is_missing_from_a_packet_pdf(built, district):
    inputs, output = built[district]
    problems = missing_texts(inputs, output)
    assert not problems, report(problems, "input texts missing from the PDFs")


@pytest.mark.parametrize("district", DISTRICTS)
def test_no_heading_band_or_table_header_ends_a_page(built, district):
    problems = stranded_headings(built[district][1])
    assert not problems, report(problems, "pages ending with a heading")


@pytest.mark.parametrize("district", DISTRICTS)
def test_no_word_breaks_mid_word(built, district):
    problems = broken_words(built[district][1])
    assert not problems, report(problems, "words broken at a line end")


@pytest.mark.parametrize("district", DISTRICTS)
def test_no_date_wraps_over_two_lines(built, district):
    problems = wrapped_dates(built[district][1])
    assert not problems, report(problems, "dates wrapped")


@pytest.mark.parametrize("district", DISTRICTS)
def test_every_packet_pdf_is_tagged_with_a_language(built, district):
    problems = untagged(built[district][1])
    assert not problems, report(problems, "untagged packet PDFs")


def test_the_missing_text_check_finds_a_cut_text_and_accepts_a_wrapped_one():
    """The check (a) itself: a text wrapped mid-URL, split by a neighbouring cell's line and a page's
    furniture, is found; the same text with a line lost is not."""
    text = "See https://www.isbe.net/Documents/IL-EMPOWER-Framework.pdf for the guidance on tutoring."
    lines = ["Baseline 24%. See", "https://www.isbe.net/Do", "Target", "30%", "cuments/IL-EMPOWER-",
             "Framework.pdf for the", "guidance on tutoring. (Academic)"]
    assert made_of_lines(squash(text), [squash(ln) for ln in lines])
    cut = lines[:4] + lines[5:]
    assert not made_of_lines(squash(text), [squash(ln) for ln in cut])
