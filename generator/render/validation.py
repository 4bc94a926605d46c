"""Validation report: findings for people, as grouped terminal lines and as validation.xlsx."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from generator.findings import ERROR, NOTE, WARNING, Finding
from generator.render import render_document
from generator.render.template_data import SHIPPED, Templates

VALIDATION_REPORT = "validation.xlsx"
_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, NOTE: 2}


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


def validation_rows(findings) -> list[dict]:
    """Return one row per finding for validation.xlsx, errors first."""
    ordered = sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], f.file, f.sheet, f.row or 0))
    return [{"severity": f.severity.capitalize(), "school": f.school_id, "file": f.file, "sheet": f.sheet,
             "row": f.row, "column": f.column, "header": f.header, "value": f.value, "problem": f.message,
             "fix": f.fix, "rule": f.rule} for f in ordered]


def validation_report(findings, summary: str, templates: Templates = SHIPPED) -> bytes:
    """Return validation.xlsx: the same findings as the terminal report, a row per problem."""
    context = {"summary": summary, "checked_at": dt.datetime.now().replace(microsecond=0),
               "rows": validation_rows(findings)}
    return render_document(templates.path(VALIDATION_REPORT), context)
