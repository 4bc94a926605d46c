"""Docs: the reference pages generated from the code that enforces them, so they cannot drift."""

from __future__ import annotations

import sys
from pathlib import Path

from generator.inputs.schema import SHEETS, Sheet, with_designations
from generator.model.readiness import RULES
from generator.render.template_data import SHIPPED, designations

DOCS = Path(__file__).resolve().parents[2] / "docs"


def readiness_markdown() -> str:
    """Return docs/readiness.md: every readiness rule with its name, severity and meaning."""
    lines = [
        "# Readiness rules",
        "",
        "<!-- Generated from generator/model/readiness.py by `make docs`; edit the rules there. -->",
        "",
        "`packets validate` and `readiness.xlsx` check each school's plan against these rules. A school",
        "with any **error** is *not ready*; its packet is still built. **Warnings** are soft issues;",
        "`--strict` makes them fail too. Each finding names the school, sheet, row and column to fix.",
        "",
        "| rule | severity | what it checks |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{r.name}` | {r.severity} | {r.summary} |" for r in RULES]
    return "\n".join(lines) + "\n"


def _sheet_section(sheet: Sheet) -> list[str]:
    where = f"`{sheet.workbook}.xlsx`, sheet **{sheet.name}** (or `{sheet.csv_name}`)"
    lines = [f"## {sheet.name}", "", f"{where}. {'Required' if sheet.required else 'Optional'}. {sheet.help}", "",
             "| column | type | required | also accepted as | example |", "| --- | --- | --- | --- | --- |"]
    for c in sheet.columns:
        kind = f"one of: {'; '.join(c.choices)}" if c.choices else c.kind
        note = f" {c.help}" if c.help else ""
        lines.append(f"| {c.name} | {kind}{note} | {'yes' if c.required else ''} | "
                     f"{', '.join(c.synonyms)} | {c.example} |")
    return lines + [""]


def inputs_markdown() -> str:
    """Return docs/inputs.md: every input sheet and column, from the schema the loader uses."""
    lines = [
        "# Input contract",
        "",
        "<!-- Generated from generator/inputs/schema.py by `make docs`; edit the schema there. -->",
        "",
        "Headers are matched ignoring case, spaces and punctuation; the names under *also accepted as*",
        "work too. Dates may be Excel dates, `2026-11-15`, `11/15/2026` or `Nov 15, 2026`. Blank rows are",
        "skipped; columns not listed here are ignored (reported as a note).",
        "",
    ]
    for sheet in SHEETS:
        lines += _sheet_section(with_designations(sheet, designations(SHIPPED)))
    return "\n".join(lines)


PAGES = {"readiness.md": readiness_markdown, "inputs.md": inputs_markdown}


def main() -> None:
    for name, make in PAGES.items():
        (DOCS / name).write_text(make(), encoding="utf-8")
        print(f"wrote docs/{name}", file=sys.stderr)


if __name__ == "__main__":
    main()
