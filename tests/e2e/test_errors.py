"""Bad input: every problem reported at once, located to the cell, no traceback, nothing written."""

from __future__ import annotations

import json

import icalendar
import openpyxl
import pytest
from docx import Document

from conftest import AS_OF, edit_sheet, find_row, header_column, packet_folders, run_cli


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


def break_inputs(inputs):
    """Three distinct problems: an unknown school id, an impossible date, a missing required column."""
    def unknown_school(ws):
        ws.cell(row=find_row(ws, "Name", "Siobhan O'Brien"), column=header_column(ws, "School ID")).value = "0199"
    edit_sheet(inputs / "roster.xlsx", "People", unknown_school)

    def bad_date(ws):
        ws.cell(row=3, column=header_column(ws, "Expected Date")).value = "31/02/2026"
    edit_sheet(inputs / "timeline.xlsx", "Tasks", bad_date)

    def drop_designation(ws):
        ws.delete_cols(header_column(ws, "Designation"))
    edit_sheet(inputs / "roster.xlsx", "Schools", drop_designation)


@pytest.mark.parametrize("command", ["validate", "build"])
def test_each_problem_is_one_located_line_and_nothing_is_written(inputs, output, command):
    break_inputs(inputs)
    output.mkdir()
    (output / "keep.txt").write_text("an earlier run's file")
    before = snapshot(output)
    args = [command, "--inputs", str(inputs), "--as-of", AS_OF]
    if command == "build":
        args += ["--output", str(output)]
    result = run_cli(*args)

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    people_row = find_row(openpyxl.load_workbook(inputs / "roster.xlsx")["People"], "School ID", "0199")
    assert any(line.startswith(f"error: roster.xlsx, sheet People, row {people_row}, column A (School ID): "
                               "Unknown School ID '0199'") for line in lines), lines
    assert any(line.startswith("error: timeline.xlsx, sheet Tasks, row 3, column F (Expected Date): "
                               "'31/02/2026' looks like day/month/year") for line in lines), lines
    assert any(line.startswith("error: roster.xlsx, sheet Schools, row 1: Missing required column 'Designation'")
               for line in lines), lines
    # The unknown School ID is the one "school" here; the missing column stops the whole run.
    assert lines[-1] == "3 errors, 0 warnings in 1 school; nothing was written"
    assert snapshot(output) == before
    # Grouped by file and sheet, each group under its heading.
    headings = [line for line in lines if line.startswith("== ")]
    assert headings == ["== roster.xlsx, sheet Schools ==", "== timeline.xlsx, sheet Tasks ==",
                        "== roster.xlsx, sheet People =="]
    # The same report for staff who do not read terminals.
    ws = openpyxl.load_workbook(inputs / "validation.xlsx")["Problems"]
    head = [c.value for c in ws[4]]
    rows = [dict(zip(head, r)) for r in ws.iter_rows(min_row=5, values_only=True)]
    assert len(rows) == 3 and all(r["Severity"] == "Error" for r in rows)
    by_file = {(r["File"], r["Sheet"]): r for r in rows}
    assert by_file[("timeline.xlsx", "Tasks")]["Row"] == 3
    assert by_file[("timeline.xlsx", "Tasks")]["Column"] == "F"
    assert by_file[("timeline.xlsx", "Tasks")]["Value"] == "31/02/2026"
    assert by_file[("roster.xlsx", "People")]["Value"] == "0199"
    assert "Designation" in by_file[("roster.xlsx", "Schools")]["Problem"]
    assert all(r["How to fix"] for r in rows)
    assert ws["A2"].value.startswith("3 errors, 0 warnings in 1 school; nothing was written")


def test_missing_inputs_folder_is_one_clear_line(tmp_path):
    result = run_cli("validate", "--inputs", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: The inputs folder")
    assert "Traceback" not in result.output


def test_corrupt_workbook_is_one_clear_line(inputs):
    (inputs / "roster.xlsx").write_bytes(b"this is not a zip file")
    result = run_cli("validate", "--inputs", str(inputs))
    assert result.exit_code == 1
    assert "error: roster.xlsx: Not a readable workbook" in result.output
    assert "Traceback" not in result.output


def test_unknown_school_filter_is_an_error(inputs, output):
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--school", "9999")
    assert result.exit_code == 1
    assert "No school with ID '9999'" in result.output
    assert not output.exists()


def all_text(path):
    if path.suffix == ".docx":
        doc = Document(path)
        parts = [p.text for p in doc.paragraphs]
        parts += [c.text for t in doc.tables for r in t.rows for c in r.cells]
        parts += [p.text for s in doc.sections for p in s.footer.paragraphs]
        return "\n".join(parts)
    if path.suffix == ".json":                 # the packet's manifest.json
        return json.loads(path.read_text(encoding="utf-8"))["school"]
    if path.suffix == ".ics":                  # names are in event text; long lines are folded
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        return "\n".join(str(c.get(key, "")) for c in calendar.walk() for key in ("X-WR-CALNAME", "SUMMARY",
                                                                                  "DESCRIPTION"))
    wb = openpyxl.load_workbook(path)
    return "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)


def test_xml_special_characters_and_template_syntax_stay_text(inputs, output):
    name = "Lincoln & Douglas <Academy> \"Q\" 'A' {{ 7*7 }}"
    def rename(ws):
        ws.cell(row=find_row(ws, "School ID", "0101"), column=header_column(ws, "School Name")).value = name
    edit_sheet(inputs / "roster.xlsx", "Schools", rename)
    def formula_like(ws):
        cell = ws.cell(row=2, column=header_column(ws, "Responsibility"))
        cell.value = "=HYPERLINK(\"http://x\",\"y\")"
        cell.data_type = "s"                 # text that looks like a formula, as Excel keeps '=...
    edit_sheet(inputs / "timeline.xlsx", "Tasks", formula_like)

    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--school", "0101",
                     "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    (folder,) = packet_folders(output)
    assert folder.name == "0101-lincoln-douglas-academy-q-a-7-7"
    for path in folder.iterdir():
        assert name in all_text(path), path.name                # escaped for XML, never evaluated
    tracker = openpyxl.load_workbook(folder / "0101-schedule-tracker.xlsx")["Schedule"]
    cell = tracker.cell(row=5, column=4)
    assert cell.value == "=HYPERLINK(\"http://x\",\"y\")" and cell.data_type == "s"
    readiness = openpyxl.load_workbook(output / "readiness.xlsx")["Readiness"]
    assert readiness.cell(row=5, column=2).value == name


def test_a_failed_render_keeps_the_earlier_packet(inputs, output, monkeypatch):
    assert run_cli("build", "--inputs", str(inputs), "--output", str(output), "--school", "0102",
                   "--as-of", AS_OF).exit_code == 0
    before = snapshot(output / "0102-prairie-view-middle-school")

    from generator.findings import PacketsError
    from generator.render import forms

    real = forms.render_document

    def broken(template, context):          # the Word documents render; the workbooks then fail
        if template.suffix == ".xlsx":
            raise PacketsError("the template does not fit its data")
        return real(template, context)
    monkeypatch.setattr(forms, "render_document", broken)
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--school", "0102",
                     "--as-of", AS_OF, "--force", "--jobs", "1")
    assert result.exit_code == 1
    assert "0102 (Prairie View Middle School)" in result.output
    assert snapshot(output / "0102-prairie-view-middle-school") == before
