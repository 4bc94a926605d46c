"""Every generated Word and Excel file is valid by the rules Word and Excel apply: openxml-audit (a port of
the Open XML SDK's validator) reports nothing about it but the KNOWN findings below, each of which a plain
python-docx or openpyxl file gets too (test_every_known_finding_is_the_libraries_own proves it)."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import docx
import openpyxl
import pytest
from openpyxl.styles import Font
from openxml_audit import OpenXmlValidator

from generator.findings import Finding
from generator.output import pdf
from generator.output.combine import COVER_TEMPLATE, cover_context
from generator.output.pdf import missing_fonts_warning
from generator.pipeline import load_district
from generator.render import packet_contexts, prepared, render_document
from generator.render.docx import CELL_PROPERTY_ORDER, render_docx
from generator.render.template_data import SHIPPED
from generator.render.validation import validation_report
from generator.settings import load_settings

from conftest import AS_OF, SAMPLE, run_cli
from factories import activity, goal, packet, school, strategy, write_inputs


@dataclass(frozen=True)
class Known:
    suffix: str          # the kind of file: .docx or .xlsx
    part: str            # the package part the finding is about
    description: str     # a regular expression matching the whole description
    why: str


KNOWN = (
    Known(".xlsx", "/xl/styles.xml", r"Unexpected element '(color|u)' found",
          "openpyxl writes a font's children in its own order (name, family, color, sz, u), not the SDK's "
          "(u, sz, color, name, family): every workbook it saves, even an empty one, gets this"),
    Known(".xlsx", r"/xl/worksheets/sheet\d+\.xml",
          r"Worksheet sheet\d+\.xml has \d+ inline-string cell\(s\) .*",
          "a warning, not an error: openpyxl 3.1 writes every text as an inline string, which Excel reads "
          "and moves to a shared-strings table when it saves"),
    Known(".docx", "/word/stylesWithEffects.xml",
          r"docDefaults differ between styles.xml and stylesWithEffects .*",
          "python-docx's default template, which the templates start from, carries a stylesWithEffects part "
          "that Word 2010 wrote and never updates it"),
    Known(".docx", "/word/stylesWithEffects.xml",
          r"styles.xml contains 4 style\(s\) not in stylesWithEffects: Footer, FooterChar, Header, HeaderChar",
          "python-docx adds the Header and Footer styles to styles.xml only, when a header or footer is used"),
)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_VALIDATOR = OpenXmlValidator(max_errors=0)


def findings(path: Path) -> list[tuple[str, str]]:
    """openxml-audit's findings about a file, errors and warnings: (part, description) each."""
    return [(e.part_uri, e.description) for e in _VALIDATOR.validate(path).errors]


def written(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """The files (name: bytes) written into folder, for the validator, which reads files."""
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in files]


def known(suffix: str, part: str, description: str) -> Known | None:
    return next((k for k in KNOWN if k.suffix == suffix and re.fullmatch(k.part, part)
                 and re.fullmatch(k.description, description, re.DOTALL)), None)


def unlisted(path: Path) -> list[str]:
    return [f"{path.name} {part}: {description}" for part, description in findings(path)
            if not known(path.suffix, part, description)]

LONG = ("The school's baseline, as its plan states it at length: " + "students read below grade level, " * 45)[:1500]


def long_district(folder: Path) -> Path:
    """A small district of long plans: 36 strategies with 1,500-character names and three activities
    each, 1,500-character goals, and a school with no supports."""
    goals = [goal(f"G{i}", LONG, baseline=LONG) for i in (1, 2)]
    strategies = [strategy(f"S{i}", f"S{i} {LONG}", goal_id=f"G{1 + i % 2}",
                           activities=[activity(f"S{i}", f"Activity {n} of S{i}: {LONG[:400]}",
                                                start=dt.date(2026, 8 + n, 1), end=dt.date(2027, 1 + n, 15))
                                       for n in (1, 2, 3)])
                  for i in range(1, 37)]
    return write_inputs(folder, [packet(school("0101"), goals=goals, strategies=strategies),
                                 packet(school("0102"), goals=goals, strategies=strategies[:3], supports=())])


@pytest.mark.slow
@pytest.mark.parametrize("district", ["sample", "long"])
def test_every_generated_file_is_valid_by_the_sdks_rules(tmp_path, district):
    inputs = SAMPLE if district == "sample" else long_district(tmp_path / "inputs")
    out = tmp_path / "output"
    result = run_cli("build", "--inputs", str(inputs), "--output", str(out), "--as-of", AS_OF, "--jobs", "1")
    assert result.exit_code == 0, result.output
    files = sorted(p for p in out.rglob("*") if p.suffix in (".docx", ".xlsx"))
    kinds = {p.name.split("-", 1)[1] if p.name[0].isdigit() else p.name for p in files}
    assert {"plan.docx", "review.docx", "schedule.docx", "isbe-grid.docx", "isbe-grid-tracker.xlsx",
            "schedule-tracker.xlsx", "readiness.xlsx", "district.xlsx"} <= kinds
    problems = [line for path in files for line in unlisted(path)]
    assert not problems, f"{len(problems)} finding(s) not in KNOWN:\n" + "\n".join(sorted(set(problems))[:40])


@pytest.mark.slow
def test_the_cover_and_the_validation_report_are_valid_too(tmp_path):
    """Files a build writes only with --pdf (the cover, converted and dropped) or when inputs fail."""
    settings = load_settings(SAMPLE, None, dt.date.fromisoformat(AS_OF))
    district, _ = load_district(settings)
    first = district.packets[0]
    context = {**cover_context(first, True, [], dt.datetime(2026, 11, 23, 9)),
               "contents": [{"title": "Plan", "page": 3, "pages": 4}]}
    cover = render_document(SHIPPED.path(COVER_TEMPLATE), context)
    report = validation_report([Finding("error", "No such school.", "timeline.xlsx", "Tasks", 4, "B", "School ID",
                                        "9999", "Use an ID from roster.xlsx.")], "1 error")
    problems = [line for path in written(tmp_path, {"cover.docx": cover, "validation.xlsx": report})
                for line in unlisted(path)]
    assert not problems, "\n".join(problems)


def plain_files() -> dict[str, bytes]:
    """A python-docx document with a table, header and footer, and an openpyxl workbook with a styled
    text: what the libraries write on their own."""
    document = docx.Document()
    document.add_paragraph("Text")
    document.add_table(rows=1, cols=2).cell(0, 0).text = "Cell"
    document.sections[0].header.paragraphs[0].text = "Header"
    document.sections[0].footer.paragraphs[0].text = "Footer"
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Text"
    workbook.active["A1"].font = Font(bold=True, color="FF0000", underline="single")
    files = {}
    for name, thing in (("plain.docx", document), ("plain.xlsx", workbook)):
        buffer = io.BytesIO()
        thing.save(buffer)
        files[name] = buffer.getvalue()
    return files


def test_every_known_finding_is_the_libraries_own(tmp_path):
    """Each KNOWN entry matches a finding about a file python-docx or openpyxl writes with nothing of ours:
    an entry no plain file needs any longer (a library fixed it) is to be removed, not kept as an excuse."""
    found = {path.suffix: findings(path) for path in written(tmp_path, plain_files())}
    for entry in KNOWN:
        assert any(known(entry.suffix, part, description) is entry for part, description in found[entry.suffix]), \
            entry


# --- fonts: the PDFs are laid out with the templates' fonts or their metric-compatible twins ---------------

def fake_fc_list(folder: Path, families: str) -> str:
    """A PATH whose only fc-list lists these families (one a line, as `fc-list : family` prints them)."""
    folder.mkdir()
    program = folder / "fc-list"
    program.write_text(f"#!/bin/sh\nprintf '{families}'\n")
    program.chmod(0o755)
    return str(folder)


def test_missing_template_fonts_are_named_with_the_packages_that_install_them(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", fake_fc_list(tmp_path / "bin", "DejaVu Sans\\nCarlito,Carlito Regular\\n"))
    warning = missing_fonts_warning()
    assert warning and "Cambria (or Caladea)" in warning and "apt-get install fonts-crosextra-caladea" in warning
    assert "Calibri" not in warning and "\n" not in warning
    assert missing_fonts_warning(["Calibri", "Cambria"]) is None
    assert missing_fonts_warning(["carlito", "Caladea"]) is None


def test_without_fontconfig_nothing_is_said(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert missing_fonts_warning() is None


@pytest.mark.slow
def test_build_with_pdf_warns_in_one_line_when_the_fonts_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "missing_fonts_warning", lambda: "the templates' fonts are not installed")
    monkeypatch.setenv(pdf.SOFFICE_ENV, str(tmp_path / "no-soffice"))      # no PDF: this test is about the line
    result = run_cli("build", "--inputs", str(SAMPLE), "--output", str(tmp_path / "out"), "--as-of", AS_OF,
                     "--jobs", "1", "--school", "0101", "--pdf")
    lines = [line for line in result.output.splitlines() if "fonts" in line]
    assert lines == ["warning: the templates' fonts are not installed"], result.output
    assert (tmp_path / "out" / "readiness.xlsx").is_file()       # a warning: the build went on


# --- {% cellbg %}: docxtpl puts the cell's w:shd first in its properties, where the SDK rejects it ------------

@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_shaded_cells_keep_their_properties_in_the_schemas_order(engine):
    """The schedule shades a cell per task ({% cellbg row.shade %}); both engines put the w:shd after
    w:tcW, in CT_TcPr's sequence (468 cells of the sample's schedules were out of it)."""
    settings = load_settings(SAMPLE, None, dt.date.fromisoformat(AS_OF))
    district, _ = load_district(settings)
    template = SHIPPED.path("schedule.docx")
    context = packet_contexts(district.packets[0])["schedule"]
    data = prepared(template).render(context) if engine == "fast" else render_docx(template, context)
    body = docx.Document(io.BytesIO(data)).element.body
    rank = {W + name: i for i, name in enumerate(CELL_PROPERTY_ORDER)}
    orders = [[rank[child.tag] for child in tc_pr] for tc_pr in body.iter(W + "tcPr")]
    assert any(W + "shd" in {c.tag for c in tc_pr} for tc_pr in body.iter(W + "tcPr"))
    assert all(order == sorted(order) for order in orders)
