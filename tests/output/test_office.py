"""A real office suite opens every file: LibreOffice converts each .docx and .xlsx the sample district's
build writes, all in one batch, and each PDF has the pages and page size its form is laid out for.

Marked office: skipped when LibreOffice is missing on a developer's machine; in CI (which installs it) that
fails (tests/conftest.py).
"""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from pypdf import PdfReader

from generator.output.pdf import PdfConverter

from conftest import AS_OF, SAMPLE, packet_folders, run_cli

pytestmark = pytest.mark.office

LETTER, LETTER_LANDSCAPE, LEGAL_LANDSCAPE = (612, 792), (792, 612), (1008, 612)

# The sample district's files, by name without the school id: page size (points) and page-count range.
EXPECTED = {
    "schedule.docx": (LETTER, 2, 10),
    "isbe-grid.docx": (LEGAL_LANDSCAPE, 5, 10),          # the ISBE grid prints on legal paper, landscape
    "plan.docx": (LETTER, 3, 10),
    "schedule-tracker.xlsx": (LETTER_LANDSCAPE, 1, 5),
    "isbe-grid-tracker.xlsx": (LEGAL_LANDSCAPE, 5, 14),
    "readiness.xlsx": (LETTER_LANDSCAPE, 1, 6),
}
# Forms whose footer says "Page X of Y" and whose header names the school.
NUMBERED = ("schedule.docx", "isbe-grid.docx", "plan.docx")


def form_name(path) -> str:
    return re.sub(r"^\d+-", "", path.name)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Every .docx and .xlsx of a fresh build of the sample district, with its PDF from one LibreOffice run."""
    output = tmp_path_factory.mktemp("office") / "output"
    result = run_cli("build", "--inputs", str(SAMPLE), "--output", str(output), "--as-of", AS_OF, "--jobs", "2")
    assert result.exit_code == 0, result.output
    files = sorted(p for p in output.rglob("*") if p.suffix in (".docx", ".xlsx"))
    with PdfConverter() as converter:
        conversions = converter.convert_files(files)
    return output, dict(zip(files, conversions))


def test_every_docx_and_xlsx_converts_without_error(converted):
    output, done = converted
    schools = [p for p in packet_folders(output)]
    assert len(done) >= len(schools) * 5 + 1                      # five documents per school, readiness.xlsx
    failed = [c.error for c in done.values() if c.pdf is None]
    assert not failed, failed


def test_each_file_has_its_forms_page_size_and_a_plausible_page_count(converted):
    _, done = converted
    seen = set()
    for path, conversion in done.items():
        reader = PdfReader(io.BytesIO(conversion.pdf))
        assert len(reader.pages) >= 1, path.name
        expected = EXPECTED.get(form_name(path))
        if expected is None:                      # a document added later: it must open, at least
            continue
        seen.add(form_name(path))
        page_size, fewest, most = expected
        assert fewest <= len(reader.pages) <= most, (path.name, len(reader.pages))
        sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}
        assert sizes == {page_size}, (path.name, sizes)
    assert seen == set(EXPECTED)


def test_word_forms_number_their_pages_and_name_the_school_on_every_page(converted):
    """The PAGE and NUMPAGES fields in the footers, and the school's name in the headers, as a real
    office suite lays them out."""
    _, done = converted
    checked = 0
    for path, conversion in done.items():
        if form_name(path) not in NUMBERED:
            continue
        header = Document(path).sections[0].header.paragraphs[0].text
        school, district = header.split(" \u00b7 ")
        assert district == "Riverbend Community Unit School District 117" and "{" not in school
        reader = PdfReader(io.BytesIO(conversion.pdf))
        total = len(reader.pages)
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text()
            assert f"Page {number} of {total}" in text, (path.name, number)
            assert school in text, (path.name, number)
        checked += 1
    assert checked >= 3 * 9
