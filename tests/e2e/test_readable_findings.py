"""Findings a person can work through (issue 18 item 3): a district of 200 schools with thousands of problems
gives a terminal report of a screen, the worst first; readiness.xlsx a row per finding in cells a person can
read; the Review form a line per finding quoted; and one missing thing one finding."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from generator.findings import ERROR, NOTE, WARNING
from generator.pipeline import validate
from generator.settings import load_settings

from conftest import AS_OF, run_cli
from factories import AS_OF as AS_OF_DATE
from factories import activity, goal, packet, person, school, strategy, task, write_inputs

pytestmark = pytest.mark.slow

SCHOOLS = 200
LONG_ACTIVITY = "Train grade 3-5 teachers in repeated-reading routines with weekly coaching cycles. " * 18
PROGRESS = re.compile(r"^\[\d+\] ")          # a build's line per school, for logs (a terminal shows a bar)


def troubled_school(i: int):
    """A school with problems of several kinds: activities lacking dates, details and a known owner; every
    tenth school an empty SMART Goal (an input error that leaves it out)."""
    sid = f"{1000 + i}"
    activities = [
        activity("S1", LONG_ACTIVITY if i % 7 == 0 else f"Activity A of {sid}", start=None, end=None),
        activity("S1", f"Activity B of {sid}", milestone="", funding=""),
        activity("S1", f"Activity C of {sid}", owner="Nobody Here"),
        activity("S1", f"Activity D of {sid}", owner="Nobody Here"),
    ]
    first = goal("G1")
    if i % 10 == 0:
        first = dataclasses.replace(first, statement="")      # the factory fills an empty statement in
    goals = [first, goal("G2", measure="", baseline="")]
    return packet(school(sid), people=[person("Pat Lee", "Principal", sid)],
                  tasks=[task("Complete the DF", AS_OF_DATE.replace(day=1))],          # overdue, every school
                  goals=goals, strategies=[strategy("S1", activities=activities)])


@pytest.fixture(scope="module")
def troubled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("troubled")
    inputs = write_inputs(folder / "inputs", [troubled_school(i) for i in range(SCHOOLS)])
    output = folder / "output"
    built = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "2")
    return inputs, output, built


def test_validate_prints_a_screen_the_worst_first_and_says_where_the_rest_is(troubled):
    inputs, _, _ = troubled
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) <= 30, "\n".join(lines)
    assert "too many for a line each here" in lines[0]
    by_rule = lines[lines.index("By rule (or input column):") + 1:lines.index("By school:")]
    counts = [int(re.match(r"\s+([\d,]+) error", line).group(1).replace(",", "")) for line in by_rule
              if re.match(r"\s+[\d,]+ error", line)]
    assert "column SMART Goal" in by_rule[0]              # the input errors that leave schools out, first
    assert counts[1:] == sorted(counts[1:], reverse=True) and counts[1] >= SCHOOLS - SCHOOLS // 10   # then most
    assert any("more kinds of problem" in line for line in by_rule) or len(by_rule) <= 8
    by_school = lines[lines.index("By school:") + 1:]
    assert "input errors" in by_school[0]                     # the schools left out come first
    assert any(re.search(r"and \d+ more schools", line) for line in by_school)
    assert any("--verbose" in line and "validation.xlsx" in line for line in lines)
    # --verbose prints each problem a line.
    verbose = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF, "--verbose").output.splitlines()
    report = validate(load_settings(inputs, None, AS_OF_DATE))
    assert sum(line.lstrip().startswith(("error:", "warning:", "note:")) for line in verbose) == len(report.findings)


def test_build_prints_a_screen_beside_its_line_per_school(troubled):
    _, _, built = troubled
    assert built.exit_code == 1                                  # schools were left out for input errors
    lines = [line for line in built.output.splitlines() if not PROGRESS.match(line)]
    assert len(lines) <= 30, "\n".join(lines)
    assert re.search(r"not built for input errors 20 in ", lines[-1])


def test_one_missing_thing_is_one_finding(troubled):
    inputs, _, _ = troubled
    report = validate(load_settings(inputs, None, AS_OF_DATE))
    judged = [s for s in report.schools if not s.input_errors]
    assert len(judged) == SCHOOLS - SCHOOLS // 10
    for s in judged:
        rules = [f.rule for f in s.findings]
        assert rules.count("activity-timeline") == 1          # start and end both missing: one finding
        assert rules.count("activity-details") == 1           # milestone and funding both missing: one
        assert rules.count("activity-owner-on-roster") == 1   # one person not on the roster, two activities
        assert rules.count("goal-measurable") == 1            # G2 lacks measure and baseline: one
    owner = next(f for f in judged[0].findings if f.rule == "activity-owner-on-roster")
    assert "named on 2 activities" in owner.message


def test_readiness_xlsx_has_a_row_per_finding_and_no_giant_cell(troubled):
    inputs, output, _ = troubled
    wb = openpyxl.load_workbook(output / "readiness.xlsx")
    assert len([r for r in wb["Readiness"].iter_rows(min_row=5, values_only=True) if r[0]]) == SCHOOLS
    longest = max((c for ws in wb for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)),
                  key=len)
    assert len(longest) <= 1000, f"{len(longest)} characters: {longest[:200]}"
    ws = wb["Findings"]
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if r[2]]
    report = validate(load_settings(inputs, None, AS_OF_DATE))
    expected = [f for f in report.findings if f.severity in (ERROR, WARNING)]
    assert len(rows) == len(expected)
    assert ws.auto_filter.ref == f"A4:L{4 + len(rows)}" and ws.freeze_panes == "A5"
    head = [c.value for c in ws[4]]
    assert head[:9] == ["School ID", "School", "Severity", "Rule", "File", "Sheet", "Row", "Column", "Header"]
    timeline = [dict(zip(head, r)) for r in rows if r[3] == "activity-timeline"]
    assert all(r["File"] == "goals.xlsx" and r["Sheet"] == "Activities" and r["Row"] and r["Column"]
               for r in timeline)                                    # the cell to fix
    assert not any(f.severity == NOTE for f in expected)


def test_the_review_form_quotes_at_most_a_line_of_an_activity(troubled):
    _, output, _ = troubled
    (folder,) = output.glob("1007-*")                       # 1007: its first activity is 1,500 characters
    doc = Document(next(Path(folder).glob("*-review.docx")))
    texts = [p.text for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs]
    texts += [p.text for p in doc.paragraphs]
    assert not any(LONG_ACTIVITY.strip()[:200] in t for t in texts)
    quoted = [t for t in texts if "Activity 'Train grade 3-5" in t]
    assert quoted and all(len(t) <= 160 for t in quoted), quoted
