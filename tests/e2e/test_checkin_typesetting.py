"""Issue 17's typesetting checks on the After Action Review as LibreOffice renders it, for the long-plan district
(tests/long_district.py) given two check-ins, the second reviewing some seventy activities of 1,500-character
plans: no text of a due activity or goal missing, no heading or table header ending a page, no word broken,
no date wrapped. The checks are test_typesetting.py's, run on the check-in forms laid out as packets."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from long_district import long_packets
from test_typesetting import (
    body_lines,
    broken_words,
    made_of_lines,
    pdf_pages,
    report,
    squash,
    stranded_headings,
    wrapped_dates,
)

from generator.model.checkin import check_in_on
from generator.model.records import ReviewEvent
from generator.output.pdf import PdfConverter

from conftest import run_cli
from factories import write_inputs

pytestmark = [pytest.mark.office, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")]

D = dt.date
FIRST, SECOND = D(2027, 1, 12), D(2027, 5, 31)


def with_check_ins():
    return [dataclasses.replace(p, review=p.review + (ReviewEvent("check-in", "", FIRST, "Renée Beaulieu"),
                                                      ReviewEvent("check-in", "", SECOND, "Renée Beaulieu")))
            for p in long_packets()]


@pytest.fixture(scope="module")
def day_folder(tmp_path_factory) -> Path:
    """The second check-in's folder, each school's After Action Review beside its PDF named as a packet's."""
    root = tmp_path_factory.mktemp("long-checkin")
    inputs = write_inputs(root / "inputs", with_check_ins())
    result = run_cli("checkin", "--inputs", str(inputs), "--output", str(root / "output"), "--date",
                     SECOND.isoformat(), "--as-of", "2027-03-01")
    assert result.exit_code == 0, result.output
    folder = root / "output" / "checkins" / SECOND.isoformat()
    forms = sorted(folder.glob("*/*-after-action-review.docx"))
    assert len(forms) == 4
    with PdfConverter() as converter:
        for path, made in zip(forms, converter.convert_files(forms)):
            assert made.pdf, made.error
            (path.parent / f"{path.name.split('-')[0]}-packet.pdf").write_bytes(made.pdf)
    return folder


def test_the_activities_and_goals_of_a_long_plan_are_all_there(day_folder):
    problems = []
    for packet in with_check_ins():
        check_in = check_in_on(packet, SECOND)
        wanted = [a.activity for s in packet.plan.strategies for a in check_in.activities_due(s)]
        wanted += [g.statement for g in packet.plan.goals] + [b.benchmark for g in packet.plan.goals
                                                              for b in g.benchmarks]
        pdf = next(day_folder.glob(f"{packet.school.school_id}-*/*-packet.pdf"))
        raw = squash(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                    check=True).stdout)
        lines = [squash(ln.text) for page in body_lines(pdf_pages(pdf)).values() for ln in page]
        problems += [f"{packet.school.school_id}: {text[:70]!r}" for text in wanted
                     if squash(text) not in raw and not made_of_lines(squash(text), lines)]
    assert sum(len(check_in_on(p, SECOND).activities_due(s)) for p in with_check_ins()
               for s in p.plan.strategies) > 100
    assert not problems, report(problems, "texts missing")


def test_no_heading_or_table_header_ends_a_page(day_folder):
    problems = stranded_headings(day_folder)
    assert not problems, report(problems, "pages ending with a heading")


def test_no_word_breaks_mid_word_and_no_date_wraps(day_folder):
    problems = broken_words(day_folder) + wrapped_dates(day_folder)
    assert not problems, report(problems, "broken words or wrapped dates")
