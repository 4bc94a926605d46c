"""Readiness rules on small packets made for the purpose (tests/factories.py): each rule names what is
missing, and nothing else, so a rule's test does not depend on what the sample district happens to hold."""

from __future__ import annotations

import dataclasses

from generator.findings import ERROR, WARNING
from generator.model.readiness import check_packet, is_ready

from factories import activity, goal, packet, person, school, strategy, task


def rules_of(findings) -> list[str]:
    return [f.rule for f in findings]


def test_the_factorys_packet_meets_every_rule():
    """The other tests break one rule each from here; a new rule the factory does not meet fails here first."""
    assert check_packet(packet()) == []


def test_a_school_with_three_strategies_and_a_long_goal_is_ready():
    findings = check_packet(packet(strategies=3, goal_statement="Raise reading to 32%. " * 70))
    assert findings == [] and is_ready(findings, strict=True)


def test_each_strategy_without_activities_is_named_once():
    broken = packet(strategies=[strategy("S1"), strategy("S2", activities=0), strategy("S3", activities=0)])
    findings = check_packet(broken)
    assert rules_of(findings) == ["strategy-has-activities"] * 2
    assert [f.message for f in findings] == ["Strategy S2 has no activities.", "Strategy S3 has no activities."]
    assert not is_ready(findings)


def test_one_academic_goal_is_not_enough_whatever_else_the_plan_has():
    goals = [goal("G1"), goal("G2", goal_type="Non-academic"), goal("G3", goal_type="Non-academic")]
    findings = check_packet(packet(school("0105", "O'Keeffe Arts Magnet School"), goals=goals))
    assert rules_of(findings) == ["two-academic-goals"]
    assert findings[0].message == \
        "O'Keeffe Arts Magnet School has 1 academic SMART goal(s); ISBE requires at least two."
    assert findings[0].school_id == "0105" and findings[0].severity == ERROR


def test_a_rule_the_state_waives_for_a_school_is_not_checked():
    """A state profile's [rules] (Illinois: two academic goals for identified schools) become the packet's
    waived rules; the others still run."""
    goals = [goal("G1"), goal("G2", goal_type="Non-academic")]
    waived = dataclasses.replace(packet(school("0104", designation="Commendable"), goals=goals),
                                 waived_rules=("two-academic-goals",))
    assert check_packet(waived) == []
    broken = dataclasses.replace(waived, people=())
    assert rules_of(check_packet(broken)) == ["activity-owner-on-roster", "principal-named", "reviewer-on-roster"]


def test_an_activity_owner_must_be_on_the_schools_roster_or_district_staff():
    def owned_by(owner):
        return packet(strategies=[strategy(activities=[activity(owner=owner)])],
                      people=[person("Pat Lee", "Principal", "0101"), person("Sam Ortiz", "Superintendent", None)])
    assert check_packet(owned_by("sam ortiz")) == []                       # district staff, any case
    (finding,) = check_packet(owned_by("Pat Kowalski"))
    assert finding.rule == "activity-owner-on-roster"
    assert finding.message == "Person Responsible 'Pat Kowalski' is not on the roster for School 0101."


def test_an_overdue_task_is_a_warning_that_only_strict_stops():
    late = packet(tasks=[task("Complete the DF", packet().as_of.replace(day=1))])
    findings = check_packet(late)
    assert rules_of(findings) == ["tasks-on-time"] and findings[0].severity == WARNING
    assert is_ready(findings) and not is_ready(findings, strict=True)
    done = dataclasses.replace(late.tasks[0], completed=late.as_of)
    assert check_packet(dataclasses.replace(late, tasks=(done,))) == []



# --- one missing thing, one finding (issue 18 item 3) --------------------------------------------------

def test_an_activity_lacking_both_dates_is_one_finding_naming_both():
    from generator.model.records import Source
    at = Source("goals.xlsx", "Activities", 5, {"start": ("C", "Start Date"), "end": ("D", "End Date")})
    undated = dataclasses.replace(activity(start=None, end=None), source=at)
    (finding,) = check_packet(packet(strategies=[strategy(activities=[undated])]))
    assert finding.rule == "activity-timeline" and (finding.row, finding.column) == (5, "C")   # the first to fill
    assert finding.message == "Activity 'Train teachers' has no Start Date or End Date."
    assert finding.fix == "Fill in the Start Date and End Date."


def test_an_activity_lacking_milestone_and_funding_is_one_finding():
    (finding,) = check_packet(packet(strategies=[strategy(activities=[activity(milestone="", funding="")])]))
    assert finding.message == "Activity 'Train teachers' has no Milestone or Funding Source."


def test_a_goal_lacking_several_parts_is_one_finding():
    (finding,) = check_packet(packet(goals=[goal("G1", measure="", baseline="", target=""), goal("G2")]))
    assert finding.message == "Goal G1 has no Measure, Baseline or Target."
    assert finding.fix == "Fill in Measure, Baseline and Target for goal G1."


def test_a_goal_with_no_benchmarks_is_one_finding():
    bare = dataclasses.replace(goal("G1"), benchmarks=())
    (finding,) = check_packet(packet(goals=[bare, goal("G2")]))
    assert finding.message == "Goal G1 has no short-term or long-term benchmark."


def test_a_person_missing_from_the_roster_is_one_finding_however_many_activities_name_them():
    from generator.model.records import Source
    named = [dataclasses.replace(activity(activity=f"Activity {i}", owner="Pat Kowalski"),
                                 source=Source("goals.xlsx", "Activities", 10 + i, {"owner": ("H", "Person")}))
             for i in range(3)]
    (finding,) = check_packet(packet(strategies=[strategy(activities=named)]))
    assert finding.message == ("Person Responsible 'Pat Kowalski' is not on the roster for School 0101 "
                               "(named on 3 activities: rows 10, 11 and 12).")
    assert (finding.row, finding.column) == (10, "H")


def test_a_repeating_task_row_overdue_on_several_dates_is_one_finding():
    from generator.model.records import Source
    row = Source("timeline.xlsx", "Tasks", 7, {"completed": ("G", "Completion Date")})
    monthly = [dataclasses.replace(task("Walkthrough", packet().as_of.replace(month=m, day=2)), source=row)
               for m in (9, 10, 11)]
    (finding,) = check_packet(packet(tasks=monthly))
    assert finding.rule == "tasks-on-time" and finding.row == 7
    assert finding.message == ("Task 'Walkthrough' was due September 2, 2026 (and 2 later dates of the series, "
                               "to November 2, 2026) and is not done.")


def test_a_review_role_nobody_holds_is_a_warning_once_per_row():
    """The model names a role's holders (`Priya Raman (District Staff)`); a role still written as a role
    is one nobody on the roster holds, which the review's approval block printed as a signer's name."""
    from generator.model.records import ReviewEvent, Source
    row = Source("timeline.xlsx", "Review", 7, {"reviewer": ("D", "Reviewer")})
    check_ins = [ReviewEvent("check-in", f"Check-in {n}", task().expected.replace(month=m), "District Staff", row)
                 for n, m in enumerate((10, 11, 12), start=1)]
    drafted = [ReviewEvent("first-draft", "First draft due", task().expected, "Principal"), *check_ins]
    findings = check_packet(packet(review=drafted))
    assert rules_of(findings) == ["reviewer-on-roster"] and findings[0].severity == WARNING
    assert findings[0].message == ("'Check-in 1' is reviewed by the District Staff, and no one on the roster is the "
                                   "District Staff for School 0101.")
    assert (findings[0].sheet, findings[0].row, findings[0].column) == ("Review", 7, "D")
    liaison = person("Priya Raman", "District Staff", None)
    assert check_packet(packet(review=drafted, people=[person(), liaison])) == []
    named = [dataclasses.replace(e, reviewer="Priya Raman (District Staff)") for e in check_ins]
    assert check_packet(packet(review=[drafted[0], *named])) == []          # resolved by the model: no finding


def test_a_goal_target_date_before_the_planning_year_is_a_warning():
    late = packet(goals=[goal("G1"), goal("G2", target_date=packet().planning_year.first_day.replace(year=2025))])
    (finding,) = check_packet(late)
    assert finding.rule == "goal-date-in-plan" and finding.severity == WARNING
    assert finding.message == ("Goal G2's target date, July 1, 2025, is before the 2026-27 planning year begins "
                               "(July 1, 2026).")
    on_the_day = packet(goals=[goal("G1"), goal("G2", target_date=packet().planning_year.first_day)])
    assert check_packet(on_the_day) == []
