"""The findings as people read them (render/validation.py): a line each while they fit on a screen, else a
summary by rule and by school, the worst first; a readiness row's summary never a giant cell."""

from __future__ import annotations

from generator.findings import ERROR, WARNING, Finding
from generator.render.validation import SCREEN_LINES, SchoolState, readiness_summary, summary_lines


def found(n: int, rule: str = "activity-details", school: str = "0101", severity: str = ERROR) -> list[Finding]:
    return [Finding(severity, f"Activity {i} has no Milestone.", file="goals.xlsx", sheet="Activities", row=i + 2,
                    column="F", header="Milestone", school_id=school, rule=rule) for i in range(n)]


def test_what_fits_on_a_screen_is_listed_a_line_each():
    lines = summary_lines([], [SchoolState("0101", "Lincoln", "NOT READY", tuple(found(3)))])
    assert lines[0] == "0101 Lincoln: NOT READY"
    assert len(lines) == 4 and all(line.startswith("  error: school 0101, goals.xlsx") for line in lines[1:])


def test_more_is_a_summary_by_rule_and_by_school_the_worst_first():
    schools = [SchoolState(f"{i:04d}", f"School {i}", "NOT READY", tuple(found(i % 5 + 1, school=f"{i:04d}")
                                                                          + found(1, "tasks-on-time", f"{i:04d}",
                                                                                  WARNING)))
               for i in range(1, 41)]
    blocked = Finding(ERROR, "SMART Goal is empty.", file="goals.xlsx", sheet="Goals", row=9, column="D",
                      header="SMART Goal", school_id="0099")
    schools.append(SchoolState("0099", "Left Out", "NOT READY: input errors", (), stopped=True))
    lines = summary_lines([blocked], schools, details="validation.xlsx")
    assert len(lines) <= SCREEN_LINES
    assert lines[0] == "121 errors, 40 warnings: too many for a line each here, so a summary, the worst first."
    rules = lines[lines.index("By rule (or input column):") + 1:lines.index("By school:")]
    assert rules[0].startswith("  1 error in 1 school: goals.xlsx, sheet Goals, column SMART Goal")
    assert rules[1].startswith("  120 errors in 40 schools: [activity-details] (e.g. Activity 0 has no Milestone.)")
    assert rules[2].startswith("  40 warnings in 40 schools: [tasks-on-time]")
    by_school = lines[lines.index("By school:") + 1:-1]
    assert by_school[0] == "  0099 Left Out: NOT READY: input errors (1 error)"      # not built: first
    assert by_school[1].endswith("(5 errors, 1 warning)")                            # then the most errors
    assert by_school[-1] == "  ... and 33 more schools with problems"
    assert lines[-1] == "Each problem, a line each: run again with --verbose; a row each: validation.xlsx."


def test_a_readiness_row_quotes_a_few_findings_and_counts_many_by_rule():
    assert readiness_summary(found(2)) == "[activity-details] Activity 0 has no Milestone.\n" \
                                          "[activity-details] Activity 1 has no Milestone."
    many = readiness_summary(found(400) + found(30, "tasks-on-time", severity=WARNING), ["Not built: why."])
    assert many.splitlines() == [
        "Not built: why.",
        "400 errors: [activity-details] (e.g. Activity 0 has no Milestone.)",
        "30 warnings: [tasks-on-time] (e.g. Activity 0 has no Milestone.)",
        "400 errors, 30 warnings in all: a row each on the Findings sheet."]
    long_text = [Finding(ERROR, "x" * 5000, rule=f"rule-{i}") for i in range(3)]
    assert len(readiness_summary(long_text, ["y" * 5000])) <= 1000
