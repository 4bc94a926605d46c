"""`packets collect`: returned schedule trackers, matched by Row ID, shown, applied, rebuilt."""

from __future__ import annotations

import datetime as dt
import random
import subprocess
from pathlib import Path

import openpyxl
import pytest

from generator.inputs.returned import NotATracker, read_returned
from generator.output.input_update import apply_changes
from generator.output.pdf import find_soffice

from conftest import AS_OF, run_cli
from factories import D, packet, school, task, write_inputs

pytestmark = pytest.mark.slow

DONE_ON = D(2026, 11, 20)


def district_folder(tmp_path: Path) -> tuple[Path, Path]:
    """Two schools: a district-wide task each gets, and 0101's own task with a detail and a note."""
    shared = [task("DLT Orientation", D(2026, 11, 10)), task("Complete the DF", D(2026, 12, 1))]
    own = task("Collect, Organize and Summarize Data", D(2026, 10, 9), detail="Attendance data", school_id="0101",
               notes="From the SIS")
    inputs = write_inputs(tmp_path / "inputs", [packet(school("0101"), tasks=[*shared, own]),
                                                packet(school("0102"), tasks=shared)])
    output = tmp_path / "output"
    build(inputs, output)
    return inputs, output


def build(inputs: Path, output: Path):
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1")
    assert result.exit_code == 0, result.output
    return result


def collect(inputs: Path, output: Path, *args: str):
    return run_cli("collect", *args, "--inputs", str(inputs), "--output", str(output))


def tracker(output: Path, school_id: str) -> Path:
    (found,) = output.glob(f"{school_id}-*/{school_id}-schedule-tracker.xlsx")
    return found


def rows_by_task(ws) -> dict[tuple[str, str], int]:
    """The tracker's rows of tasks by (task, detail): the task is named on each row of the tracker; a heading
    row (a task of the form the timeline has no row for) has no Row ID."""
    headers = {c.value: c.column for c in ws[4]}
    return {(ws.cell(r, headers["Tasks"]).value, ws.cell(r, headers["Detail"]).value or ""): r
            for r in range(5, ws.max_row + 1) if ws.cell(r, headers["Row ID"]).value}


def fill_in(source: Path, target: Path, edits: dict[tuple[str, str], dict[str, object]], shuffle: bool = True) -> Path:
    """Return the tracker filled in as a school might: values typed under their headers, the rows re-sorted,
    a column of its own added in front, saved under another name."""
    wb = openpyxl.load_workbook(source)
    ws = wb["Schedule"]
    headers = {c.value: c.column for c in ws[4]}
    rows = rows_by_task(ws)
    for key, values in edits.items():
        for header, value in values.items():
            ws.cell(rows[key], headers[header]).value = value
    if shuffle:
        table = [[c.value for c in ws[r]] for r in range(5, ws.max_row + 1)]
        random.Random(4).shuffle(table)
        table.reverse()
        for r, values in enumerate(table, start=5):
            for c, value in enumerate(values, start=1):
                ws.cell(r, c).value = value
    ws.insert_cols(1)
    ws.cell(4, 1).value = "Our own column"
    ws.cell(5, 1).value = "anything"
    wb.save(target)
    return target


def task_rows(inputs: Path) -> list[dict]:
    ws = openpyxl.load_workbook(inputs / "timeline.xlsx")["Tasks"]
    headers = [c.value for c in ws[1]]
    return [dict(zip(headers, r)) for r in ws.iter_rows(min_row=2, values_only=True) if any(r)]


def test_a_returned_completion_date_is_shown_applied_with_a_backup_and_rebuilds_only_its_school(tmp_path):
    inputs, output = district_folder(tmp_path)
    before = (inputs / "timeline.xlsx").read_bytes()
    returned = fill_in(tracker(output, "0101"), tmp_path / "our schedule (final).xlsx",
                       {("Complete the DF", ""): {"Date of Completion": dt.datetime(2026, 11, 20)},
                        ("Collect, Organize and Summarize Data", "Attendance data"): {"Notes": "Pulled 10/8"}})

    shown = collect(inputs, output, str(returned))
    assert shown.exit_code == 0, shown.output
    assert "Complete the DF" in shown.output and "November 20, 2026" in shown.output and "to apply" in shown.output
    assert "Pulled 10/8" in shown.output
    assert (inputs / "timeline.xlsx").read_bytes() == before           # nothing written without --apply

    applied = collect(inputs, output, str(returned), "--apply")
    assert applied.exit_code == 0, applied.output
    assert "applied" in applied.output and "0101" in applied.output
    (backup,) = (inputs / "backups").iterdir()
    assert backup.name.startswith("timeline-") and backup.read_bytes() == before
    rows = task_rows(inputs)
    district_row = [r for r in rows if r["Task"] == "Complete the DF" and not r["School ID"]]
    own_copy = [r for r in rows if r["Task"] == "Complete the DF" and r["School ID"] == "0101"]
    assert district_row[0]["Completion Date"] is None                 # 0102's task is not marked done
    assert own_copy[0]["Completion Date"].date() == DONE_ON
    assert own_copy[0]["Expected Date"].date() == D(2026, 12, 1)      # the rest of the row copied
    attendance = next(r for r in rows if r["Detail"] == "Attendance data")
    assert attendance["Notes"] == "Pulled 10/8" and attendance["School ID"] == "0101"

    rebuilt = build(inputs, output)
    assert "Built 1, skipped 1" in rebuilt.output
    ws = openpyxl.load_workbook(tracker(output, "0101"))["Schedule"]
    row = rows_by_task(ws)[("Complete the DF", "")]
    assert ws.cell(row, 6).value.date() == DONE_ON and ws.cell(row, 7).value == "Done"
    other = openpyxl.load_workbook(tracker(output, "0102"))["Schedule"]
    assert other.cell(rows_by_task(other)[("Complete the DF", "")], 7).value != "Done"
    view = openpyxl.load_workbook(output / "district.xlsx").worksheets[0]
    headers = {c.value: c.column for r in view.iter_rows(max_row=6) for c in r if isinstance(c.value, str)}
    school_row = next(r for r in range(1, view.max_row + 1) if view.cell(r, 1).value == "0101")
    assert view.cell(school_row, headers["Done"]).value == 1


def test_a_value_the_district_changed_since_the_build_is_a_conflict_and_is_not_overwritten(tmp_path):
    inputs, output = district_folder(tmp_path)
    returned = fill_in(tracker(output, "0101"), tmp_path / "returned.xlsx",
                       {("Collect, Organize and Summarize Data", "Attendance data"): {"Notes": "School's note"},
                        ("DLT Orientation", ""): {"Date of Completion": dt.datetime(2026, 11, 9)}})
    wb = openpyxl.load_workbook(inputs / "timeline.xlsx")
    ws = wb["Tasks"]
    headers = {c.value: c.column for c in ws[1]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, headers["Detail"]).value == "Attendance data")
    ws.cell(row, headers["Notes"]).value = "District's note"
    wb.save(inputs / "timeline.xlsx")

    result = collect(inputs, output, str(returned), "--apply")
    assert result.exit_code == 1, result.output
    assert "CONFLICT" in result.output and "District's note" in result.output and "School's note" in result.output
    rows = task_rows(inputs)
    assert next(r for r in rows if r["Detail"] == "Attendance data")["Notes"] == "District's note"
    # The value without a conflict is applied all the same.
    assert any(r["Task"] == "DLT Orientation" and r["School ID"] == "0101" and r["Completion Date"] for r in rows)


def test_another_schools_tracker_is_refused_by_name_and_nothing_is_written(tmp_path):
    inputs, output = district_folder(tmp_path)
    before = (inputs / "timeline.xlsx").read_bytes()
    edits = {("Complete the DF", ""): {"Date of Completion": dt.datetime(2026, 11, 20)}}
    as_other = fill_in(tracker(output, "0101"), tmp_path / "0102-schedule-tracker.xlsx", edits)

    result = collect(inputs, output, str(as_other), "--apply")
    assert result.exit_code == 1
    assert "0102-schedule-tracker.xlsx" in result.output and "Refused" in result.output
    assert "named for school 0102" in result.output and "school 0101" in result.output

    plain = fill_in(tracker(output, "0101"), tmp_path / "returned.xlsx", edits)
    chosen = collect(inputs, output, str(plain), "--school", "0102", "--apply")
    assert chosen.exit_code == 1 and "not 0102's" in chosen.output
    assert (inputs / "timeline.xlsx").read_bytes() == before
    assert not (inputs / "backups").exists()


def test_a_tracker_of_a_packet_rebuilt_from_changed_inputs_is_refused_as_outdated(tmp_path):
    inputs, output = district_folder(tmp_path)
    old = fill_in(tracker(output, "0101"), tmp_path / "old.xlsx",
                  {("Complete the DF", ""): {"Date of Completion": dt.datetime(2026, 11, 20)}})
    wb = openpyxl.load_workbook(inputs / "timeline.xlsx")
    ws = wb["Tasks"]
    ws.cell(ws.max_row, 8).value = "A note the district added"            # 0101's own task: its packet changes
    wb.save(inputs / "timeline.xlsx")
    build(inputs, output)

    result = collect(inputs, output, str(old))
    assert result.exit_code == 1
    assert "old.xlsx" in result.output and "outdated" in result.output and "0101" in result.output
    # The same day's rebuild of unchanged inputs (another as-of day) does not make a tracker outdated.
    fresh = fill_in(tracker(output, "0101"), tmp_path / "fresh.xlsx",
                    {("Complete the DF", ""): {"Date of Completion": dt.datetime(2026, 11, 20)}})
    later = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", "2026-11-30",
                    "--jobs", "1")
    assert later.exit_code == 0, later.output
    assert collect(inputs, output, str(fresh)).exit_code == 0


def test_a_folder_is_searched_and_files_that_are_not_trackers_are_skipped(tmp_path):
    inputs, output = district_folder(tmp_path)
    result = collect(inputs, output, str(output))           # the whole output folder: nothing filled in
    assert result.exit_code == 0, result.output
    assert "6 tracker(s) read: 0 change(s)" in result.output    # each school's schedule and grid trackers, review form
    named = collect(inputs, output, str(output / "readiness.xlsx"))
    assert named.exit_code == 1 and "No hidden Packet sheet" in named.output


def test_marked_done_without_a_date_and_a_row_id_twice_are_findings_not_guesses(tmp_path):
    inputs, output = district_folder(tmp_path)
    wb = openpyxl.load_workbook(tracker(output, "0101"))
    ws = wb["Schedule"]
    rows = rows_by_task(ws)
    ws.cell(rows[("DLT Orientation", "")], 7).value = "Done"
    copied = rows[("Complete the DF", "")]
    for c in range(1, 10):
        ws.cell(ws.max_row + (1 if c == 1 else 0), c).value = ws.cell(copied, c).value
    wb.save(tmp_path / "returned.xlsx")
    result = collect(inputs, output, str(tmp_path / "returned.xlsx"))
    assert result.exit_code == 1
    assert "marked Done with no Date of Completion" in result.output
    assert "is on rows" in result.output
    assert "0 change(s)" in result.output


def test_a_tracker_without_its_packet_sheet_is_not_a_tracker(tmp_path):
    inputs, output = district_folder(tmp_path)
    wb = openpyxl.load_workbook(tracker(output, "0101"))
    del wb["Packet"]
    wb.save(tmp_path / "copied-into-a-new-workbook.xlsx")
    with pytest.raises(NotATracker):
        read_returned(tmp_path / "copied-into-a-new-workbook.xlsx")


def test_apply_refuses_a_timeline_open_in_excel(tmp_path):
    inputs, output = district_folder(tmp_path)
    returned = fill_in(tracker(output, "0101"), tmp_path / "returned.xlsx",
                       {("Complete the DF", ""): {"Date of Completion": dt.datetime(2026, 11, 20)}})
    (inputs / "~$timeline.xlsx").write_bytes(b"lock")
    result = collect(inputs, output, str(returned), "--apply")
    assert result.exit_code == 1 and "open in Excel" in result.output
    assert not (inputs / "backups").exists()
    assert apply_changes(inputs, []) == []                  # nothing accepted: no workbook is touched


def _round_trip(path: Path, suffix: str, work: Path) -> Path:
    """Open and save a workbook in LibreOffice (to .xlsx or .ods), as a school using it would."""
    soffice = find_soffice()
    assert soffice
    filters = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "ods": "ods"}
    out = work / f"lo-{suffix}"
    subprocess.run([soffice, f"-env:UserInstallation=file://{work / 'profile'}", "--headless", "--convert-to",
                    filters[suffix], "--outdir", str(out), str(path)], check=True, capture_output=True, timeout=180)
    return out / f"{path.stem}.{suffix}"


@pytest.mark.office
@pytest.mark.parametrize("suffix", ["xlsx", "ods"])
def test_a_tracker_saved_by_libreoffice_is_collected_applied_and_the_rebuilt_tracker_shows_it_done(tmp_path, suffix):
    inputs, output = district_folder(tmp_path)
    edited = fill_in(tracker(output, "0101"), tmp_path / "edited.xlsx",
                     {("Complete the DF", ""): {"Date of Completion": dt.datetime(2026, 11, 20)}})
    returned = _round_trip(edited, suffix, tmp_path)
    applied = collect(inputs, output, str(returned), "--apply")
    assert applied.exit_code == 0, applied.output
    assert "1 change(s) applied" in applied.output
    build(inputs, output)
    ws = openpyxl.load_workbook(tracker(output, "0101"))["Schedule"]
    row = rows_by_task(ws)[("Complete the DF", "")]
    assert ws.cell(row, 6).value.date() == DONE_ON and ws.cell(row, 7).value == "Done"


@pytest.mark.office
def test_libreoffice_keeps_the_packet_sheet_hidden_and_the_row_ids(tmp_path):
    inputs, output = district_folder(tmp_path)
    returned = _round_trip(tracker(output, "0101"), "xlsx", tmp_path)
    wb = openpyxl.load_workbook(returned)
    assert wb["Packet"].sheet_state == "hidden"
    assert read_returned(returned).rows.keys() == read_returned(tracker(output, "0101")).rows.keys()


def test_a_repeating_tasks_dates_marked_done_become_done_through_the_last_one(tmp_path):
    inputs, output = district_folder(tmp_path)
    wb = openpyxl.load_workbook(inputs / "timeline.xlsx")
    ws = wb["Tasks"]
    headers = {c.value: c.column for c in ws[1]}
    row = ws.max_row + 1
    for header, value in {"Stage": "Stage 1: Identify Critical Needs", "Task": "Monthly data review",
                          "Responsibility": "Principal", "Expected Date": dt.datetime(2026, 9, 8),
                          "Repeats": "monthly", "Until": dt.datetime(2026, 12, 31)}.items():
        ws.cell(row, headers[header]).value = value
    wb.save(inputs / "timeline.xlsx")
    build(inputs, output)
    wb = openpyxl.load_workbook(tracker(output, "0101"))
    ws = wb["Schedule"]
    monthly = sorted((ws.cell(r, 5).value, r) for r in range(5, ws.max_row + 1)
                     if ws.cell(r, 2).value == "Monthly data review" and ws.cell(r, 9).value)
    assert [d.date() for d, _ in monthly] == [D(2026, 9, 8), D(2026, 10, 8), D(2026, 11, 8), D(2026, 12, 8)]
    for when, r in monthly[:2]:
        ws.cell(r, 6).value = when + dt.timedelta(days=1)
    wb.save(tmp_path / "returned.xlsx")

    result = collect(inputs, output, str(tmp_path / "returned.xlsx"), "--apply")
    assert result.exit_code == 0, result.output
    assert "done through" in result.output and "October 8, 2026" in result.output
    own = [r for r in task_rows(inputs) if r["Task"] == "Monthly data review" and r["School ID"] == "0101"]
    assert own[0]["Completion Date"].date() == D(2026, 10, 8) and own[0]["Repeats"] == "monthly"
    build(inputs, output)
    ws = openpyxl.load_workbook(tracker(output, "0101"))["Schedule"]
    statuses = [ws.cell(r, 7).value for r in range(5, ws.max_row + 1) if ws.cell(r, 2).value == "Monthly data review"]
    assert statuses[:2] == ["Done", "Done"] and "Done" not in statuses[2:]


def grid_tracker(output: Path, school_id: str) -> Path:
    (found,) = output.glob(f"{school_id}-*/{school_id}-isbe-grid-tracker.xlsx")
    return found


def grid_rows(inputs: Path) -> list[dict]:
    wb = openpyxl.load_workbook(inputs / "timeline.xlsx")
    ws = wb["Grid Progress"]
    headers = [c.value for c in ws[1]]
    return [dict(zip(headers, r)) for r in ws.iter_rows(min_row=2, values_only=True) if any(r)]


def district_view_row(output: Path, school_id: str) -> dict:
    """A school's row of district.xlsx, by header."""
    ws = openpyxl.load_workbook(output / "district.xlsx")["Schools"]
    headers = [c.value for c in ws[4]]
    rows = (dict(zip(headers, (c.value for c in row))) for row in ws.iter_rows(min_row=5))
    return next(row for row in rows if row["School ID"] == school_id)


def test_a_returned_isbe_grid_status_gets_a_grid_progress_row_and_the_rebuilt_tracker_shows_it(tmp_path):
    inputs, output = district_folder(tmp_path)
    wb = openpyxl.load_workbook(grid_tracker(output, "0101"))
    ws = wb["Activities"]
    headers = {c.value: c.column for c in ws[4]}
    first, second = 5, 6
    activity, role = ws.cell(first, headers["Key Activity"]).value, ws.cell(first, headers["Role"]).value
    ws.cell(first, headers["Status"]).value = "done"                    # any case: the dropdown's Done
    ws.cell(first, headers["Date Completed"]).value = dt.datetime(2026, 10, 2)
    ws.cell(second, headers["Status"]).value = "Finished"                # not a status: not read, said so
    ws.move_range(f"A{first}:J{first}", rows=ws.max_row - first + 1)     # the row moved to the end
    wb.save(tmp_path / "grid.xlsx")
    timeline = openpyxl.load_workbook(inputs / "timeline.xlsx")
    del timeline["Grid Progress"]                  # a district's timeline from before the sheet: it is added
    timeline.save(inputs / "timeline.xlsx")

    result = collect(inputs, output, str(tmp_path / "grid.xlsx"), "--apply")
    assert result.exit_code == 1, result.output                          # the row not read makes it 1
    assert "'Finished' is not one of" in result.output and "2 change(s) applied" in result.output
    (row,) = grid_rows(inputs)
    assert (row["School ID"], row["Key Activity"], row["Role"], row["Status"]) == ("0101", activity, role, "Done")
    assert row["Date Completed"].date() == D(2026, 10, 2)

    assert "Built 1, skipped 1" in build(inputs, output).output
    ws = openpyxl.load_workbook(grid_tracker(output, "0101"))["Activities"]
    rebuilt = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, headers["Key Activity"]).value == activity
                   and ws.cell(r, headers["Role"]).value == role)
    assert ws.cell(rebuilt, headers["Status"]).value == "Done"
    assert ws.cell(rebuilt, headers["Date Completed"]).value.date() == D(2026, 10, 2)
    view = district_view_row(output, "0101")                  # the district's view shows the school's progress
    assert (view["ISBE grid done"], view["ISBE grid in progress"]) == (1, 0)


def test_a_grid_status_the_district_typed_since_the_build_is_a_conflict(tmp_path):
    inputs, output = district_folder(tmp_path)
    wb = openpyxl.load_workbook(grid_tracker(output, "0101"))
    ws = wb["Activities"]
    month, activity, role = (ws.cell(5, c).value for c in (1, 2, 3))
    ws.cell(5, 7).value = "Done"
    wb.save(tmp_path / "grid.xlsx")
    timeline = openpyxl.load_workbook(inputs / "timeline.xlsx")
    timeline["Grid Progress"].append(["0101", month, activity, role, "In progress", None, None])
    timeline.save(inputs / "timeline.xlsx")

    result = collect(inputs, output, str(tmp_path / "grid.xlsx"), "--apply")
    assert result.exit_code == 1 and "CONFLICT" in result.output and "In progress" in result.output
    assert [r["Status"] for r in grid_rows(inputs)] == ["In progress"]


def test_filtered_rows_are_read_a_date_typed_as_text_too_and_a_row_pasted_from_another_school_is_not(tmp_path):
    inputs, output = district_folder(tmp_path)
    other = openpyxl.load_workbook(tracker(output, "0102"))["Schedule"]
    pasted = [c.value for c in other[rows_by_task(other)[("DLT Orientation", "")]]]
    wb = openpyxl.load_workbook(tracker(output, "0101"))
    ws = wb["Schedule"]
    rows = rows_by_task(ws)
    done = rows[("Complete the DF", "")]
    ws.cell(done, 6).value = "11/20/2026"                                 # as Google Sheets may keep a typed date
    ws.row_dimensions[done].hidden = True                                  # filtered out of view
    pasted[5] = dt.datetime(2026, 11, 1)
    for c, value in enumerate(pasted, start=1):
        ws.cell(ws.max_row + (1 if c == 1 else 0), c).value = value
    wb.save(tmp_path / "returned.xlsx")

    result = collect(inputs, output, str(tmp_path / "returned.xlsx"), "--apply")
    assert result.exit_code == 1, result.output
    assert "is school 0102's, not 0101's" in result.output
    assert "1 change(s) applied" in result.output
    rows_now = task_rows(inputs)
    assert [r["Completion Date"].date() for r in rows_now
            if r["Task"] == "Complete the DF" and r["School ID"] == "0101"] == [DONE_ON]
    assert not any(r["School ID"] == "0102" for r in rows_now)           # nothing of 0102's written


def review_form(output: Path, school_id: str) -> Path:
    (found,) = output.glob(f"{school_id}-*/{school_id}-review.docx")
    return found


def district_with_rounds(tmp_path: Path) -> tuple[Path, Path]:
    """The two-school district, with two feedback rounds on the district's review cycle."""
    from factories import ReviewEvent
    rounds = [ReviewEvent("feedback", "Feedback round 1", D(2027, 5, 7), "District Staff"),
              ReviewEvent("feedback", "Feedback round 2", D(2027, 5, 14), "District Staff")]
    inputs = write_inputs(tmp_path / "inputs", [packet(school("0101"), review=rounds),
                                                packet(school("0102"), review=rounds)])
    output = tmp_path / "output"
    build(inputs, output)
    return inputs, output


def fill_review(source: Path, target: Path, tick: str, strengths: str, revisions: str) -> Path:
    """Return the Plan Review form with its second round's decision ticked (an X typed over its box) and its
    comments written, as a reviewer would in Word."""
    from docx import Document
    doc = Document(str(source))
    decisions = [p for p in doc.paragraphs if p.text.startswith("Decision")]
    for run in decisions[1].runs:
        run.text = run.text.replace(f"\u2610 {tick}", f"X {tick}", 1)    # the first: Approve, not Approve with...
    boxes = [t for t in doc.tables if t.rows[0].cells[0].text == "Strengths"]
    boxes[1].rows[0].cells[1].paragraphs[0].add_run(strengths)
    boxes[1].rows[1].cells[1].paragraphs[0].add_run(revisions)
    doc.save(str(target))
    return target


def decision_rows(inputs: Path) -> list[dict]:
    ws = openpyxl.load_workbook(inputs / "timeline.xlsx")["Review Decisions"]
    headers = [c.value for c in ws[1]]
    return [dict(zip(headers, r)) for r in ws.iter_rows(min_row=2, values_only=True) if any(r)]


def test_a_plan_review_forms_decision_and_comments_are_applied_and_shown_on_the_rebuilt_form(tmp_path):
    from docx import Document
    inputs, output = district_with_rounds(tmp_path)
    returned = fill_review(review_form(output, "0101"), tmp_path / "review (signed).docx",
                           "Approve with revisions", "Goals are measurable.", "Tie S2 to a problem.")
    result = collect(inputs, output, str(returned), "--apply")
    assert result.exit_code == 0, result.output
    assert "3 change(s) applied" in result.output and "Feedback round 2" in result.output
    (row,) = decision_rows(inputs)
    assert (row["School ID"], row["Round"], row["Decision"], row["Strengths"], row["Revisions Requested"]) == (
        "0101", "Feedback round 2", "Approve with revisions", "Goals are measurable.", "Tie S2 to a problem.")

    assert "Built 1, skipped 1" in build(inputs, output).output
    doc = Document(str(review_form(output, "0101")))
    decisions = [p.text for p in doc.paragraphs if p.text.startswith("Decision")]
    assert "\u2612 Approve with revisions" in decisions[1] and "\u2612" not in decisions[0]
    boxes = [t for t in doc.tables if t.rows[0].cells[0].text == "Strengths"]
    assert boxes[1].rows[0].cells[1].text == "Goals are measurable."
    assert district_view_row(output, "0101")["Review decision"] == "Approve with revisions (Feedback round 2)"
    # Collected again from the rebuilt form: nothing changes.
    again = collect(inputs, output, str(review_form(output, "0101")))
    assert again.exit_code == 0 and "0 change(s)" in again.output


def test_a_review_comment_the_district_typed_since_the_build_is_a_conflict(tmp_path):
    inputs, output = district_with_rounds(tmp_path)
    returned = fill_review(review_form(output, "0101"), tmp_path / "review.docx", "Approve", "Strong plan.", "")
    timeline = openpyxl.load_workbook(inputs / "timeline.xlsx")
    timeline["Review Decisions"].append(["0101", "Feedback round 2", None, "The district's own note", None])
    timeline.save(inputs / "timeline.xlsx")
    result = collect(inputs, output, str(returned), "--apply")
    assert result.exit_code == 1 and "CONFLICT" in result.output
    (row,) = decision_rows(inputs)
    assert row["Strengths"] == "The district's own note" and row["Decision"] == "Approve"


def test_two_decisions_ticked_are_not_read(tmp_path):
    inputs, output = district_with_rounds(tmp_path)
    returned = fill_review(review_form(output, "0101"), tmp_path / "review.docx", "Approve", "", "")
    from docx import Document
    doc = Document(str(returned))
    decision = [p for p in doc.paragraphs if p.text.startswith("Decision")][1]
    for run in decision.runs:
        run.text = run.text.replace("\u2610 Revise", "\u2612 Revise")
    doc.save(str(returned))
    result = collect(inputs, output, str(returned))
    assert result.exit_code == 1 and "several decisions are ticked" in result.output
    assert "0 change(s)" in result.output


@pytest.mark.office
def test_a_plan_review_form_saved_by_libreoffice_is_collected(tmp_path):
    inputs, output = district_with_rounds(tmp_path)
    edited = fill_review(review_form(output, "0101"), tmp_path / "edited.docx", "Revise and resubmit",
                         "Clear problem of practice.", "Add a second academic goal.")
    soffice = find_soffice()
    assert soffice
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to",
                    "docx:MS Word 2007 XML", "--outdir", str(tmp_path / "lo"), str(edited)],
                   check=True, capture_output=True, timeout=180)
    result = collect(inputs, output, str(tmp_path / "lo" / "edited.docx"), "--apply")
    assert result.exit_code == 0, result.output
    (row,) = decision_rows(inputs)
    assert (row["Decision"], row["Revisions Requested"]) == ("Revise and resubmit", "Add a second academic goal.")


@pytest.mark.office
def test_a_grid_tracker_saved_by_libreoffice_is_collected_and_a_timelines_filter_reaches_the_new_rows(tmp_path):
    inputs, output = district_folder(tmp_path)
    timeline = openpyxl.load_workbook(inputs / "timeline.xlsx")
    tasks = timeline["Tasks"]
    tasks.auto_filter.ref = f"A1:K{tasks.max_row}"
    timeline.save(inputs / "timeline.xlsx")
    wb = openpyxl.load_workbook(grid_tracker(output, "0101"))
    ws = wb["Activities"]
    ws.cell(5, 7).value = "In progress"
    ws.cell(5, 9).value = "Meeting booked"
    wb.save(tmp_path / "grid.xlsx")
    schedule = fill_in(tracker(output, "0101"), tmp_path / "schedule.xlsx",
                       {("Complete the DF", ""): {"Date of Completion": dt.datetime(2026, 11, 20)}})
    returned = [_round_trip(path, "xlsx", tmp_path) for path in (tmp_path / "grid.xlsx", schedule)]
    result = collect(inputs, output, *map(str, returned), "--apply")
    assert result.exit_code == 0, result.output
    assert "3 change(s) applied" in result.output
    (row,) = grid_rows(inputs)
    assert (row["Status"], row["Notes"]) == ("In progress", "Meeting booked")
    tasks = openpyxl.load_workbook(inputs / "timeline.xlsx")["Tasks"]
    assert tasks.auto_filter.ref == f"A1:K{tasks.max_row}"        # the school's new row is inside the filter


def test_a_date_typed_on_a_heading_row_is_pointed_out_not_read(tmp_path):
    inputs, output = district_folder(tmp_path)
    wb = openpyxl.load_workbook(tracker(output, "0101"))
    ws = wb["Schedule"]
    heading = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 2).value and not ws.cell(r, 9).value)
    ws.cell(heading, 6).value = dt.datetime(2026, 11, 2)
    wb.save(tmp_path / "returned.xlsx")
    result = collect(inputs, output, str(tmp_path / "returned.xlsx"))
    assert result.exit_code == 1
    assert f"row {heading}: This row has a Date of Completion but no Row ID" in result.output
