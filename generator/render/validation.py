"""Validation report: findings for people, as terminal lines, as validation.xlsx, and as the rows and
summaries readiness.xlsx shows.

A district's findings run to thousands, so the terminal shows them one line each only while they fit on a
screen; beyond that, a summary by rule and by school, the worst first, saying how many more there are and
where each is listed (`--verbose`, validation.xlsx, readiness.xlsx's Findings sheet, a row per finding).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import groupby
from typing import Iterable, Mapping, Sequence

from generator import render
from generator.findings import ERROR, NOTE, WARNING, Finding, quote
from generator.render.template_data import SHIPPED, Templates

VALIDATION_REPORT = "validation.xlsx"
_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, NOTE: 2}
SCREEN_LINES = 25           # the terminal's report fits on a screen: beyond this it is a summary
SUMMARY_GROUPS = 8          # rules, and schools, listed by the summary; the rest are counted
CELL_CHARS = 1000           # a report cell holds at most about this much: the whole text is in the inputs
MISSING_LINES = 3           # findings a school's readiness row quotes; more are counted by rule


def _group_key(f: Finding) -> tuple[str, str]:
    return (f.file, f.sheet)


def grouped(findings) -> list[tuple[str, list[Finding]]]:
    """Return findings grouped by file and sheet (in order of first appearance), each group sorted by
    row, with a title such as `roster.xlsx, sheet People`."""
    findings = list(findings)
    order: dict[tuple[str, str], int] = {}
    for f in findings:
        order.setdefault(_group_key(f), len(order))
    ordered = sorted(findings, key=lambda f: (order[_group_key(f)], f.row or 0, _SEVERITY_ORDER[f.severity]))
    groups = []
    for (file, sheet), items in groupby(ordered, key=_group_key):
        title = ", ".join(p for p in (file, f"sheet {sheet}" if sheet else "") if p) or "settings and options"
        groups.append((title, list(items)))
    return groups


def text_lines(findings, verbose: bool = False) -> list[str]:
    """Return the report as lines: a heading per file and sheet, then one line per finding."""
    lines = []
    for title, items in grouped(f for f in findings if verbose or f.severity != NOTE):
        lines.append(f"== {title} ==")
        lines += [f.line() for f in items]
    return lines


# --- the summary: by rule and by school, the worst first ---------------------------------------------

@dataclass(frozen=True)
class SchoolState:
    """What a report says of one school beside its findings: `0107 Cedar Grove Elementary: NOT READY`."""

    school_id: str
    name: str
    state: str                          # ready, NOT READY, NOT BUILT: input errors, ...
    findings: tuple[Finding, ...] = ()  # its readiness findings (its input findings are among the others)
    stopped: bool = False               # not built or not judged: its own rows have errors


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (n != 1)}"


def _counts(findings: Sequence[Finding]) -> str:
    n_err = sum(f.severity == ERROR for f in findings)
    n_warn = sum(f.severity == WARNING for f in findings)
    return ", ".join(p for p in (_plural(n_err, "error") if n_err else "",
                                 _plural(n_warn, "warning") if n_warn else "") if p) or "no problems"


def kind_of(f: Finding) -> str:
    """Return what kind of problem a finding is, for counting like with like: its readiness rule, or the
    column (or sheet) of the inputs it is in."""
    if f.rule:
        return f"[{f.rule}]"
    where = ", ".join(p for p in (f.file, f"sheet {f.sheet}" if f.sheet else "") if p) or "settings and options"
    return f"{where}, column {f.header}" if f.header else where


def _worst_first(groups: Mapping[str, list[Finding]]) -> list[tuple[str, list[Finding]]]:
    """Return the groups the worst first: input errors (they keep a school from being built, or the whole
    run), then the most errors, then the most findings; ties stay in the order found (readiness rules in
    their own order, the ISBE requirements first)."""
    def rank(item):
        found = item[1]
        stops = any(f.severity == ERROR and not f.rule for f in found)
        return (not stops, -sum(f.severity == ERROR for f in found), -len(found))
    return sorted(groups.items(), key=rank)


def by_kind(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """Return the findings counted by kind_of, the kinds with the most errors first."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(kind_of(f), []).append(f)
    return _worst_first(groups)


def _rule_line(kind: str, found: list[Finding]) -> str:
    schools = {f.school_id for f in found if f.school_id}
    where = f" in {_plural(len(schools), 'school')}" if schools else ""
    example = quote(found[0].message, 70)
    return f"  {_counts(found)}{where}: {kind} (e.g. {example})"


LEAD_LINES = 6              # the errors that stopped a run, listed a line each before the summary


def summary_lines(findings: Sequence[Finding], schools: Sequence[SchoolState] = (),
                  details: str = "", budget: int = SCREEN_LINES, lead: Sequence[Finding] = ()) -> list[str]:
    """Return the report for a terminal: every problem a line, grouped, when it all fits in `budget`
    lines; else a summary by rule and by school, the worst first, saying how many more and where
    `details` (e.g. `validation.xlsx`) lists each. `findings` are the inputs' (notes left out); each
    school's readiness findings come with it; `lead` (the errors that stopped the run) are listed a
    line each before the summary."""
    shown = [f for f in findings if f.severity != NOTE]
    lines = text_lines(shown)
    for school in schools:
        lines.append(f"{school.school_id} {school.name}: {school.state}")
        lines += [f"  {f.line()}" for f in school.findings if f.severity in (ERROR, WARNING)]
    if len(lines) <= budget:
        return lines
    everything = shown + [f for school in schools for f in school.findings if f.severity in (ERROR, WARNING)]
    out = [f.line() for f in lead[:LEAD_LINES]]
    if len(lead) > LEAD_LINES:
        out.append(f"... and {len(lead) - LEAD_LINES} more such errors")
    out.append(f"{_counts(everything)}: too many for a line each here, so a summary, the worst first.")
    kinds = by_kind(everything)
    out.append("By rule (or input column):")
    out += [_rule_line(kind, found) for kind, found in kinds[:SUMMARY_GROUPS]]
    if len(kinds) > SUMMARY_GROUPS:
        out.append(f"  ... and {len(kinds) - SUMMARY_GROUPS} more kinds of problem")
    ranked = _ranked_schools(shown, schools)
    if ranked:
        out.append("By school:")
        out += [f"  {line}" for line in ranked[:SUMMARY_GROUPS]]
        if len(ranked) > SUMMARY_GROUPS:
            out.append(f"  ... and {len(ranked) - SUMMARY_GROUPS} more schools with problems")
    out.append("Each problem, a line each: run again with --verbose" + (f"; a row each: {details}" if details else "")
               + ".")
    return out


def _ranked_schools(findings: Sequence[Finding], schools: Sequence[SchoolState]) -> list[str]:
    """Return a line per school with problems (and one for rows that name no school), the worst first:
    the schools not built, then by errors, then by warnings."""
    states = {s.school_id: s for s in schools}
    own: dict[str, list[Finding]] = {}
    for f in findings:
        own.setdefault(f.school_id, []).append(f)
    for s in schools:
        own.setdefault(s.school_id, []).extend(f for f in s.findings if f.severity in (ERROR, WARNING))
    ranked = []
    for sid, found in own.items():
        state = states.get(sid)
        if not found and not (state and state.stopped):
            continue
        if not sid:
            label = "district-wide (rows with no School ID, settings)"
        elif state:
            label = f"{sid} {state.name}: {state.state}"
        else:
            label = f"{sid} (not on the roster)"
        stopped = bool(state and state.stopped) or (not state and bool(sid))
        ranked.append(((not stopped, -sum(f.severity == ERROR for f in found), -len(found), sid),
                       f"{label} ({_counts(found)})"))
    return [line for _, line in sorted(ranked)]


def verbose_lines(findings: Sequence[Finding], schools: Sequence[SchoolState] = ()) -> list[str]:
    """Return every finding, notes included, a line each: the inputs' grouped by file and sheet, then each
    school with its readiness findings."""
    lines = text_lines(findings, verbose=True)
    for school in schools:
        lines.append(f"{school.school_id} {school.name}: {school.state}")
        lines += [f"  {f.line()}" for f in school.findings]
    return lines


# --- rows of validation.xlsx and of readiness.xlsx's Findings sheet --------------------------------------

def cell_text(text, limit: int = CELL_CHARS) -> str:
    """Return text for a report's cell: whole when it fits, else cut at a word with an ellipsis (the whole
    text is in the inputs, at the cell the row names)."""
    text = "" if text is None else str(text)
    return text if len(text) <= limit else quote(text, limit)


def validation_rows(findings, names: Mapping[str, str] | None = None) -> list[dict]:
    """Return one row per finding for validation.xlsx and readiness.xlsx, errors first; `names` gives each
    school's name by ID."""
    names = names or {}
    ordered = sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], f.file, f.sheet, f.row or 0))
    return [{"severity": f.severity.capitalize(), "school": f.school_id, "school_id": f.school_id,
             "school_name": names.get(f.school_id, ""), "file": f.file, "sheet": f.sheet,
             "row": f.row, "column": f.column, "header": f.header, "value": cell_text(f.value, 200),
             "problem": cell_text(f.message), "fix": cell_text(f.fix), "rule": f.rule} for f in ordered]


def validation_report(findings, summary: str, templates: Templates = SHIPPED) -> bytes:
    """Return validation.xlsx: the same findings as the terminal report, a row per problem."""
    context = {"summary": summary, "checked_at": dt.datetime.now().replace(microsecond=0),
               "rows": validation_rows(findings)}
    return render.render_document(templates.path(VALIDATION_REPORT), context)   # the renderers load only here


def readiness_summary(findings: Sequence[Finding], first: Sequence[str] = ()) -> str:
    """Return what a school's row of readiness.xlsx says is missing: the lines `first` (why it was not
    built, its PDF), then its few findings, or beyond MISSING_LINES their count by rule, pointing to the
    Findings sheet, which has a row each. Never over CELL_CHARS characters."""
    shown = [f for f in findings if f.severity in (ERROR, WARNING)]
    lines = [cell_text(line, 300) for line in first]
    if len(shown) <= MISSING_LINES:
        lines += [cell_text((f"[{f.rule}] " if f.rule else "") + f.message, 200) for f in shown]
    else:
        kinds = by_kind(shown)
        lines += [f"{_counts(found)}: {cell_text(kind, 80)} (e.g. {quote(found[0].message, 90)})"
                  for kind, found in kinds[:5]]
        if len(kinds) > 5:
            lines.append(f"and {len(kinds) - 5} more kinds")
        lines.append(f"{_counts(shown)} in all: a row each on the Findings sheet.")
    return cell_text("\n".join(lines))
