"""One school's bad row fails that school alone (issue 18 item 2), and `build --school` keeps the district's
view whole (item 6): whole runs of the CLI over small districts made by tests/factories.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import AS_OF, edit_sheet, find_row, header_column, packet_folders, run_cli, sheet_rows
from factories import district, write_inputs


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def build(inputs: Path, output: Path, *args: str):
    return run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1", *args)


def blank_goal_statement(inputs: Path, school_id: str) -> int:
    """Empty the SMART Goal cell of the school's first Goals row; return the row."""
    row = 0

    def edit(ws):
        nonlocal row
        row = find_row(ws, "School ID", school_id)
        ws.cell(row=row, column=header_column(ws, "SMART Goal")).value = None
    edit_sheet(inputs / "goals.xlsx", "Goals", edit)
    return row


def packet_folder(output: Path, school_id: str) -> Path:
    (folder,) = output.glob(f"{school_id}-*")
    return folder


def manifest_entries(output: Path) -> dict:
    return json.loads((output / "build-manifest.json").read_text(encoding="utf-8"))["schools"]


def test_an_empty_cell_in_one_schools_goals_row_fails_that_school_alone(tmp_path):
    inputs, output = write_inputs(tmp_path / "inputs", district(3)), tmp_path / "output"
    assert build(inputs, output).exit_code == 0
    earlier = snapshot(packet_folder(output, "0102"))
    entry = manifest_entries(output)["0102"]
    row = blank_goal_statement(inputs, "0102")
    # 0101 changes too, so the run must really build something while 0102 is left out.
    edit_sheet(inputs / "roster.xlsx", "Schools",
               lambda ws: ws.cell(row=2, column=header_column(ws, "School Name"), value="Renamed School 0101"))

    result = build(inputs, output)

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert f"error: goals.xlsx, sheet Goals, row {row}, column D (SMART Goal): SMART Goal is empty." in \
        "\n".join(lines)
    assert "0102 School 0102: NOT BUILT: input errors, its earlier packet is kept" in lines
    assert re.search(r"^Built 1, skipped 1 unchanged, failed 0, not built for input errors 1 in ", lines[-1], re.M)
    assert (output / "0101-renamed-school-0101").is_dir()                 # the others are built
    assert snapshot(packet_folder(output, "0102")) == earlier             # its earlier packet, as it was
    assert manifest_entries(output)["0102"] == entry                      # and its record
    # readiness.xlsx: the school's row says so, with its error; the Findings sheet has the cell to fix.
    rows = {r["School ID"]: r for r in sheet_rows(output / "readiness.xlsx", "Readiness")}
    assert rows["0102"]["Ready"] == "Not built: input errors"
    assert "SMART Goal is empty." in rows["0102"]["What is missing"]
    assert "its earlier packet" in rows["0102"]["What is missing"]
    assert rows["0102"]["Packet folder"] == packet_folder(output, "0102").name      # the earlier packet
    assert rows["0101"]["Ready"] == rows["0103"]["Ready"] == "Ready"
    (finding,) = [r for r in sheet_rows(output / "readiness.xlsx", "Findings") if r["School ID"] == "0102"]
    assert (finding["Severity"], finding["File"], finding["Sheet"], finding["Row"], finding["Column"]) == \
        ("Error", "goals.xlsx", "Goals", row, "D")
    # The dashboard and district.xlsx too.
    html = (output / "index.html").read_text(encoding="utf-8")
    school_row = html.split('data-school-id="0102"')[1].split("</tr>")[0]
    assert "Not built: input errors" in school_row and "SMART Goal is empty." in school_row
    (district_row,) = [r for r in sheet_rows(output / "district.xlsx", "Schools") if r["School ID"] == "0102"]
    assert district_row["Readiness"].startswith("Not built: input errors") and district_row["Tasks"] is None
    # validation.xlsx holds the same problems, a row each.
    problems = sheet_rows(inputs / "validation.xlsx", "Problems")
    assert [(p["School"], p["Row"]) for p in problems if p["Severity"] == "Error"] == [("0102", row)]

    # Fixed: the school is built again, and the run is whole.
    edit_sheet(inputs / "goals.xlsx", "Goals",
               lambda ws: ws.cell(row=row, column=header_column(ws, "SMART Goal"), value="Read more."))
    fixed = build(inputs, output)
    assert fixed.exit_code == 0, fixed.output
    assert {r["Ready"] for r in sheet_rows(output / "readiness.xlsx", "Readiness")} == {"Ready"}


def test_building_another_school_is_not_stopped_by_a_bad_row(tmp_path):
    inputs, output = write_inputs(tmp_path / "inputs", district(3)), tmp_path / "output"
    blank_goal_statement(inputs, "0102")
    result = build(inputs, output, "--school", "0103")
    assert result.exit_code == 0, result.output           # the school asked for is built
    assert [p.name for p in packet_folders(output)] == ["0103-school-0103"]
    assert "Also: 1 school(s) outside this run have input errors (0102)" in result.output
    rows = {r["School ID"]: r["Ready"] for r in sheet_rows(output / "readiness.xlsx", "Readiness")}
    assert rows == {"0101": "Not built", "0102": "Not built: input errors", "0103": "Ready"}
    # Asked for, the bad school fails alone, with exit 1 and its errors; nothing of it is written.
    again = build(inputs, output, "--school", "0102", "--school", "0103")
    assert again.exit_code == 1
    assert "0102 School 0102: NOT BUILT: input errors" in again.output
    assert not list(output.glob("0102-*"))


def test_an_error_that_belongs_to_the_district_still_stops_the_run(tmp_path):
    """A district-wide timeline row (no School ID) is every school's: its error leaves nothing written."""
    inputs, output = write_inputs(tmp_path / "inputs", district(2)), tmp_path / "output"
    edit_sheet(inputs / "timeline.xlsx", "Tasks",
               lambda ws: ws.cell(row=2, column=header_column(ws, "Expected Date"), value="31/02/2026"))
    result = build(inputs, output)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].endswith("nothing was written")
    assert not output.exists()


def test_a_row_naming_a_school_not_on_the_roster_leaves_the_roster_schools_built(tmp_path):
    inputs, output = write_inputs(tmp_path / "inputs", district(2)), tmp_path / "output"
    # A support row of 0101's typed under an ID no school has (a Goals row would also leave 0101's
    # benchmarks naming a goal it lacks, and so fail 0101).
    edit_sheet(inputs / "goals.xlsx", "Supports", lambda ws: ws.cell(row=2, column=1, value="0199"))
    result = build(inputs, output)
    assert result.exit_code == 1                            # an input error: said, though nothing is left out
    assert "Unknown School ID '0199'" in result.output
    assert {r["Ready"] for r in sheet_rows(output / "readiness.xlsx", "Readiness")} <= {"Ready", "Not ready"}
    findings = sheet_rows(output / "readiness.xlsx", "Findings")
    assert any(f["School ID"] == "0199" and f["Severity"] == "Error" for f in findings)


def test_validate_lists_every_school_with_the_bad_one_among_them(tmp_path):
    inputs = write_inputs(tmp_path / "inputs", district(3))
    row = blank_goal_statement(inputs, "0102")
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "0101 School 0101: ready" in lines and "0103 School 0103: ready" in lines
    assert any(line.startswith("0102 School 0102: NOT READY: input errors") for line in lines)
    assert any(line.startswith(f"error: goals.xlsx, sheet Goals, row {row}, column D") for line in lines)
    assert lines[-1] == "1 error, 0 warnings in 1 school; 2 of 3 school(s) ready"


def test_context_of_a_school_with_input_errors_names_them_and_others_still_work(tmp_path):
    inputs = write_inputs(tmp_path / "inputs", district(2))
    blank_goal_statement(inputs, "0102")
    bad = run_cli("context", "0102", "--inputs", str(inputs), "--as-of", AS_OF)
    assert bad.exit_code == 1 and "SMART Goal is empty." in bad.output
    good = run_cli("context", "0101", "--inputs", str(inputs), "--as-of", AS_OF, "--form", "plan")
    assert good.exit_code == 0 and json.loads(good.output)["school"]["id"] == "0101"


# --- build --school keeps the district's view whole (item 6) -------------------------------------------

def test_building_one_school_keeps_the_others_in_the_district_view_as_last_built(tmp_path):
    inputs, output = write_inputs(tmp_path / "inputs", district(3)), tmp_path / "output"
    assert build(inputs, output).exit_code == 0
    first = {r["School ID"]: r for r in sheet_rows(output / "readiness.xlsx", "Readiness")}
    untouched = snapshot(packet_folder(output, "0103"))
    # 0101 is renamed and rebuilt alone; 0102's inputs change too, but it is not rebuilt.
    edit_sheet(inputs / "roster.xlsx", "Schools",
               lambda ws: ws.cell(row=2, column=header_column(ws, "School Name"), value="Renamed School 0101"))
    edit_sheet(inputs / "goals.xlsx", "Goals",
               lambda ws: ws.cell(row=find_row(ws, "School ID", "0102"), column=header_column(ws, "Target"),
                                  value="more"))

    result = build(inputs, output, "--school", "0101")

    assert result.exit_code == 0, result.output
    rows = {r["School ID"]: r for r in sheet_rows(output / "readiness.xlsx", "Readiness")}
    assert list(rows) == ["0101", "0102", "0103"]
    assert rows["0101"]["School"] == "Renamed School 0101" and rows["0101"]["Built"] >= first["0101"]["Built"]
    for sid in ("0102", "0103"):                           # as last built: their build time, folder, documents
        assert (rows[sid]["Ready"], rows[sid]["Built"], rows[sid]["Packet folder"], rows[sid]["Documents"]) == \
            (first[sid]["Ready"], first[sid]["Built"], first[sid]["Packet folder"], first[sid]["Documents"])
    assert rows["0103"]["What is missing"].startswith("As last built ")
    assert "its inputs have changed since" in rows["0102"]["What is missing"]
    assert snapshot(packet_folder(output, "0103")) == untouched
    district_rows = sheet_rows(output / "district.xlsx", "Schools")
    assert [r["School ID"] for r in district_rows] == ["0101", "0102", "0103"]
    html = (output / "index.html").read_text(encoding="utf-8")
    assert all(f'data-school-id="{sid}"' in html for sid in ("0101", "0102", "0103"))
    assert "Showing 3 of 3 schools" in html
    assert "0103-school-0103/" in html                       # its packet's link, as last built
    calendar = (output / "district.ics").read_text(encoding="utf-8")
    assert "School 0103" in calendar or "0103" in calendar
