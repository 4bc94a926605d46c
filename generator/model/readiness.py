"""Readiness: named rules a plan must meet before submission. Each finding names the school, sheet, row and column.

A packet is always built; a school with any error-level finding is marked "not ready".
Warnings are soft issues, which `--strict` turns into failures. `docs/readiness.md` is generated
from RULES, so the documentation lists exactly the rules that run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator

from generator.findings import ERROR, WARNING, Finding, quote, rows_text
from generator.inputs.schema import ROLE_SYNONYMS, ROLES, SHEETS, canonical_choice
from generator.model.dates import display_date
from generator.model.records import Packet

__all__ = ["RULES", "Rule", "check_packet", "is_ready", "quote", "rule"]     # quote: the findings' own

_QUANTITY = re.compile(r"\d")


@dataclass(frozen=True)
class Rule:
    name: str
    severity: str
    summary: str
    check: Callable[[Packet], Iterator[Finding]]


RULES: list[Rule] = []


def rule(name: str, severity: str, summary: str):
    """Register a readiness rule; its generator yields one Finding per problem."""
    def register(check):
        RULES.append(Rule(name, severity, summary, check))
        return check
    return register


def _finding(packet: Packet, name: str, message: str, source=None, key: str | None = None,
             value: str = "", fix: str = "", severity: str | None = None, sheet: str = "") -> Finding:
    """Return a finding of rule `name`, located at a record's cell, or (for something missing) at the
    sheet where it belongs."""
    if source is not None:
        where = source.at(key)
    else:
        spec = next((s for s in SHEETS if s.name == sheet), None)
        where = {"file": f"{spec.workbook}.xlsx", "sheet": spec.name} if spec else {}
    if severity is None:
        severity = next(r.severity for r in RULES if r.name == name)
    return Finding(severity, message, **where, value=value, fix=fix,
                   school_id=packet.school.school_id, rule=name)


@rule("two-academic-goals", ERROR, "The plan has at least two academic SMART goals (ISBE requirement).")
def _two_academic_goals(packet: Packet):
    academic = [g for g in packet.plan.goals if g.is_academic]
    if len(academic) < 2:
        yield _finding(packet, "two-academic-goals",
                       f"{packet.school.name} has {len(academic)} academic SMART goal(s); ISBE requires at least two.",
                       academic[0].source if academic else None, "goal_type" if academic else None,
                       fix="Add academic goals for this school on the Goals sheet of goals.xlsx.", sheet="Goals")


def _alternatives(labels: list[str], joiner: str = "or") -> str:
    """Return `A`, `A or B`, `A, B or C`: what a record lacks, named in one finding."""
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} {joiner} {labels[-1]}"


def _missing(record, fields: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return [(key, label) for key, label in fields if not getattr(record, key)]


@rule("goal-measurable", ERROR,
      "Each goal states its measure, baseline, target and target date, and the target is a quantity.")
def _goal_measurable(packet: Packet):
    for goal in packet.plan.goals:
        # One finding per goal for what it lacks, at the first empty cell: a goal with no measure, baseline,
        # target or date is one thing to fix, not four lines.
        missing = _missing(goal, (("measure", "Measure"), ("baseline", "Baseline"), ("target", "Target"),
                                  ("target_date", "Target Date")))
        if missing:
            labels = [label for _, label in missing]
            yield _finding(packet, "goal-measurable", f"Goal {goal.goal_id} has no {_alternatives(labels)}.",
                           goal.source, missing[0][0],
                           fix=f"Fill in {_alternatives(labels, 'and')} for goal {goal.goal_id}.")
        if goal.target and not _QUANTITY.search(goal.target):
            yield _finding(packet, "goal-measurable", f"Goal {goal.goal_id}'s target is not a quantity.",
                           goal.source, "target", value=goal.target,
                           fix="State the target as a number, percentage or scale score (e.g. 32%).")


@rule("goal-date-in-plan", WARNING, "No goal's target date falls before the planning year begins.")
def _goal_date_in_plan(packet: Packet):
    first_day = packet.planning_year.first_day
    for goal in packet.plan.goals:
        if goal.target_date is not None and goal.target_date < first_day:
            yield _finding(packet, "goal-date-in-plan",
                           f"Goal {goal.goal_id}'s target date, {display_date(goal.target_date)}, is before the "
                           f"{packet.planning_year.label} planning year begins ({display_date(first_day)}).",
                           goal.source, "target_date", value=goal.target_date.isoformat(),
                           fix="Correct the Target Date (a year typed wrong?), or update the goal for this plan.")


@rule("problem-of-practice", ERROR, "The plan states at least one problem of practice.")
def _problem_stated(packet: Packet):
    if not packet.plan.problems:
        yield _finding(packet, "problem-of-practice", "No problem of practice is stated.",
                       fix="Add the school's problem(s) of practice on the Problems sheet of goals.xlsx.",
                       sheet="Problems")


@rule("strategy-addresses-problem", ERROR, "Each high-leverage strategy addresses a stated problem of practice.")
def _strategy_problem(packet: Packet):
    stated = {p.problem_id for p in packet.plan.problems}
    for s in packet.plan.strategies:
        if s.problem_id not in stated:
            yield _finding(packet, "strategy-addresses-problem",
                           f"Strategy {s.strategy_id} does not address a stated problem of practice"
                           + (f" ('{quote(s.problem_id)}' is not on the Problems sheet)." if s.problem_id else "."),
                           s.source, "problem_id", value=s.problem_id,
                           fix=f"Set Problem ID to one of: {', '.join(sorted(stated)) or 'add a problem first'}.")


@rule("strategy-has-activities", ERROR, "Each strategy has at least one activity.")
def _strategy_activities(packet: Packet):
    for s in packet.plan.strategies:
        if not s.activities:
            yield _finding(packet, "strategy-has-activities", f"Strategy {s.strategy_id} has no activities.",
                           s.source, "strategy_id", value=s.strategy_id,
                           fix=f"Add activities with Strategy ID {s.strategy_id} on the Activities sheet.")


def _activity_lacks(packet: Packet, rule_name: str, a, fields) -> Iterator[Finding]:
    """One finding for an activity's missing fields, however many: at the first cell to fill."""
    missing = _missing(a, fields)
    if missing:
        labels = [label for _, label in missing]
        yield _finding(packet, rule_name, f"Activity '{quote(a.activity)}' has no {_alternatives(labels)}.",
                       a.source, missing[0][0], fix=f"Fill in the {_alternatives(labels, 'and')}.")


@rule("activity-timeline", ERROR, "Each activity has a start date and an end date after it.")
def _activity_timeline(packet: Packet):
    for s in packet.plan.strategies:
        for a in s.activities:
            yield from _activity_lacks(packet, "activity-timeline", a, (("start", "Start Date"), ("end", "End Date")))
            if a.start and a.end and a.end < a.start:
                yield _finding(packet, "activity-timeline",
                               f"Activity '{quote(a.activity)}' ends ({display_date(a.end)}) before it starts "
                               f"({display_date(a.start)}).",
                               a.source, "end", value=a.end.isoformat(), fix="Correct the start or end date.")


@rule("activity-details", ERROR, "Each activity has a milestone and a funding source.")
def _activity_details(packet: Packet):
    for s in packet.plan.strategies:
        for a in s.activities:
            yield from _activity_lacks(packet, "activity-details", a,
                                       (("milestone", "Milestone"), ("funding", "Funding Source")))


@rule("activity-owner-on-roster", ERROR,
      "Each activity names a person responsible who is on the school's roster (or district staff).")
def _activity_owner(packet: Packet):
    names = {p.name.casefold() for p in packet.people}
    unknown: dict[str, list] = {}           # one person missing from the roster is one finding, however many
    for s in packet.plan.strategies:        # activities name them
        for a in s.activities:
            if not a.owner:
                yield _finding(packet, "activity-owner-on-roster",
                               f"Activity '{quote(a.activity)}' has no person responsible.",
                               a.source, "owner", fix="Name the person responsible, as written on the roster.")
            elif a.owner.casefold() not in names:
                unknown.setdefault(a.owner.casefold(), []).append(a)
    for named in unknown.values():
        first = named[0]
        rows = [a.source.row for a in named if a.source is not None and a.source.row is not None]
        where = f" (named on {len(named)} activities: {rows_text(rows)})" if len(named) > 1 else ""
        yield _finding(packet, "activity-owner-on-roster",
                       f"Person Responsible '{quote(first.owner)}' is not on the roster for {packet.school.name}"
                       f"{where}.", first.source, "owner", value=first.owner,
                       fix="Use the name exactly as on the People sheet of roster.xlsx, or add the person there.")


@rule("monitoring-covers-goals", ERROR, "The monitoring plan covers every SMART goal.")
def _monitoring(packet: Packet):
    covered = {m.goal_id for m in packet.plan.monitoring}
    for goal in packet.plan.goals:
        if goal.goal_id not in covered:
            yield _finding(packet, "monitoring-covers-goals", f"Goal {goal.goal_id} is not in the monitoring plan.",
                           goal.source, "goal_id", value=goal.goal_id,
                           fix=f"Add a row for goal {goal.goal_id} on the Monitoring sheet.")


def _support_rule(name: str, category: str, what: str):
    # "has no" takes the noun without its article: "no a communication plan" is not English.
    missing = re.sub(r"^(a|an) ", "", what)

    @rule(name, ERROR, f"The plan includes {what}.")
    def check(packet: Packet):
        if not packet.plan.supports_in(category):
            yield _finding(packet, name, f"The plan has no {missing}.",
                           fix=f"Add a row with Category '{category}' on the Supports sheet of goals.xlsx.",
                           sheet="Supports")
    return check


_support_rule("professional-learning", "Professional Learning", "professional learning needs")
_support_rule("local-assessment", "Local Assessment", "a local assessment measuring academic progress")
_support_rule("communication-plan", "Communication", "a communication plan for all stakeholders")


@rule("oversight", WARNING, "Oversight responsibilities (who monitors what) are stated.")
def _oversight(packet: Packet):
    if not packet.plan.supports_in("Oversight"):
        yield _finding(packet, "oversight", "No oversight responsibilities are listed.",
                       fix="Add rows with Category 'Oversight' on the Supports sheet.", sheet="Supports")


@rule("benchmarks", WARNING, "Each goal has a short-term and a long-term benchmark.")
def _benchmarks(packet: Packet):
    for goal in packet.plan.goals:
        terms = {b.term for b in goal.benchmarks}
        lacking = [term for term in ("Short-term", "Long-term") if term not in terms]
        if lacking:
            yield _finding(packet, "benchmarks",
                           f"Goal {goal.goal_id} has no {_alternatives([t.lower() for t in lacking])} benchmark.",
                           goal.source, "goal_id", value=goal.goal_id,
                           fix=f"Add a {_alternatives(lacking, 'and a')} row for goal {goal.goal_id} on the "
                               "Benchmarks sheet.")


@rule("principal-named", WARNING, "The roster names the school's principal.")
def _principal(packet: Packet):
    if not packet.people_in("Principal"):
        yield _finding(packet, "principal-named", f"No principal is listed for {packet.school.name}.",
                       fix="Add a row with Role 'Principal' and this School ID on the People sheet.",
                       sheet="People")


@rule("board-approval", WARNING, "The local board approval date is recorded (ISBE counts a plan complete only then).")
def _board_approval(packet: Packet):
    if packet.school.board_approval is None:
        yield _finding(packet, "board-approval", "No local board approval date is recorded.",
                       packet.school.source, "board_approval",
                       fix="Enter the Board Approval Date on the Schools sheet once the board approves the plan.")


@rule("review-first-draft", WARNING, "The district's review cycle gives the school a first-draft due date.")
def _review_first_draft(packet: Packet):
    if not any(e.kind == "first-draft" for e in packet.review):
        yield _finding(packet, "review-first-draft", f"No first-draft due date is set for {packet.school.name}.",
                       fix="Add a First Draft row on the Review sheet of timeline.xlsx (School ID blank for every "
                           "school).", sheet="Review")


@rule("reviewer-on-roster", WARNING,
      "A review step whose Reviewer is a roster role (District Staff) has someone on the roster in that role.")
def _reviewer_on_roster(packet: Packet):
    # The model turns a role into the names of those who hold it (`Priya Raman (District Staff)`); a role
    # still written as a role is one nobody holds, which the review form would print as a signer's name.
    seen = set()
    for event in packet.review:
        role = canonical_choice(event.reviewer, ROLES, ROLE_SYNONYMS) if event.reviewer else None
        where = (event.source.file, event.source.sheet, event.source.row) if event.source else None
        if role is None or packet.people_in(role) or (where, role) in seen:
            continue                      # a repeating row (monthly check-ins) is one finding
        seen.add((where, role))
        yield _finding(packet, "reviewer-on-roster",
                       f"'{quote(event.title)}' is reviewed by the {role}, and no one on the roster is the "
                       f"{role} for {packet.school.name}.", event.source, "reviewer", value=event.reviewer,
                       fix=f"Add the {role} to the People sheet of roster.xlsx (School ID blank for district-wide "
                           f"staff), or name the reviewer on the Review sheet.")


# The review steps that must come in this order; check-ins may fall anywhere.
_REVIEW_ORDER = {"first-draft": 0, "feedback": 1, "final-review": 2, "board-approval": 3}


@rule("review-in-order", WARNING,
      "The review cycle runs in order: first draft, feedback rounds, final review, board approval.")
def _review_in_order(packet: Packet):
    steps = [e for e in packet.review if e.kind in _REVIEW_ORDER]
    for event in steps:
        later = [e for e in steps if _REVIEW_ORDER[e.kind] < _REVIEW_ORDER[event.kind] and e.due > event.due]
        if later:
            first = min(later, key=lambda e: e.due)
            yield _finding(packet, "review-in-order",
                           f"'{quote(event.title)}' is due {display_date(event.due)}, before "
                           f"'{quote(first.title)}' ({display_date(first.due)}).", event.source, "due",
                           value=event.due.isoformat(),
                           fix="Correct the Due Date on the Review sheet so the steps follow each other.")


@rule("tasks-on-time", WARNING, "No schedule task is overdue.")
def _overdue(packet: Packet):
    # A repeating row's dates are one row to fix: one finding per row, at its first overdue date.
    by_row: dict[object, list] = {}
    for task in packet.tasks:
        if task.is_overdue(packet.as_of):
            key = (task.source.file, task.source.sheet, task.source.row) if task.source else id(task)
            by_row.setdefault(key, []).append(task)
    for tasks in by_row.values():
        task = tasks[0]
        label = task.task + (f" ({task.detail})" if task.detail else "")
        more = (f" (and {len(tasks) - 1} later date{'s' * (len(tasks) > 2)} of the series, to "
                f"{display_date(tasks[-1].expected)})") if len(tasks) > 1 else ""
        yield _finding(packet, "tasks-on-time",
                       f"Task '{quote(label)}' was due {display_date(task.expected)}{more} and is not done.",
                       task.source, "completed",
                       fix="Enter the Completion Date when it is done, or a new Expected Date.")


def check_packet(packet: Packet) -> list[Finding]:
    """Return every readiness finding for one school's packet, in rule order: the rules that concern it
    (a state's profile may limit a rule to schools of some designations)."""
    return [finding for r in RULES if r.name not in packet.waived_rules for finding in r.check(packet)]


def is_ready(findings, strict: bool = False) -> bool:
    """Return True when no finding stops submission (with strict, no warning either)."""
    stopping = {ERROR, WARNING} if strict else {ERROR}
    return not any(f.severity in stopping for f in findings)
