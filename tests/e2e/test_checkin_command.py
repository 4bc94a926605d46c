"""`packets checkin` end to end: a check-in day's After Action Reviews and the district's reflection workbook,
written from the input workbooks by the CLI; which day; forms kept; one-line errors; all or nothing."""

from __future__ import annotations

import datetime as dt
import errno
import io
import json
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from generator.model.records import ReviewEvent
from generator.output import atomic
from generator.output.lock import OutputLock

from conftest import edit_sheet, find_row, header_column, run_cli
from factories import activity, packet, school, strategy, task, write_inputs

D = dt.date
SEP, DEC, JAN = D(2027, 9, 14), D(2027, 12, 14), D(2028, 1, 18)
AS_OF = "2027-11-23"


def check_ins(*days: dt.date) -> list[ReviewEvent]:
    return [ReviewEvent("check-in", "", day, "District Staff") for day in days]


@pytest.fixture
def district(tmp_path) -> Path:
    """0101 and 0102 have check-ins in September and December, 0103 in January; 0101 has a task past due."""
    due = [activity("S1", "Due in the autumn", start=D(2027, 9, 20), end=D(2027, 10, 29)),
           activity("S1", "Due in the spring", start=D(2028, 2, 1), end=D(2028, 4, 9))]
    packets = [packet(school("0101", "Lincoln & Douglass <Academy>"), review=check_ins(SEP, DEC),
                      strategies=[strategy("S1", activities=due)],
                      tasks=[task("Late task", D(2027, 10, 1), school_id="0101")]),
               *(packet(school(sid), review=check_ins(*days), tasks=[task("Later", D(2028, 3, 1), school_id=sid)])
                 for sid, days in (("0102", (SEP, DEC)), ("0103", (JAN,))))]
    return write_inputs(tmp_path / "inputs", packets)


def run(district: Path, out: Path, *args: str):
    return run_cli("checkin", "--inputs", str(district), "--output", str(out), "--as-of", AS_OF, *args)


def form(out: Path, day: dt.date, folder: str, school_id: str) -> Path:
    return out / "checkins" / day.isoformat() / folder / f"{school_id}-after-action-review.docx"


def reflection_rows(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)["Schools"]
    return [tuple(c.value for c in row[:8]) for row in ws.iter_rows(min_row=5) if row[0].value]


def test_a_check_in_day_gets_each_schools_form_and_the_districts_reflection(district, tmp_path):
    out = tmp_path / "out"
    result = run(district, out, "--date", DEC.isoformat())
    assert result.exit_code == 0, result.output
    first = form(out, DEC, "0101-lincoln-douglass-academy", "0101")
    assert first.is_file() and form(out, DEC, "0102-school-0102", "0102").is_file()
    assert sorted(p.name for p in (out / "checkins").iterdir()) == [DEC.isoformat()]
    doc = Document(str(first))
    assert doc.paragraphs[1].text.replace("\u00a0", " ") == \
        "Lincoln & Douglass <Academy> \u00b7 Factory Unified School District \u00b7 Check-in 2, December 14, 2027"
    activities = [[c.text for c in r.cells] for t in doc.tables if t.rows[0].cells[0].text == "Activity"
                  for r in t.rows[1:]]
    assert [(r[0], r[4]) for r in activities] == [("Due in the autumn", "Ended")]
    rows = reflection_rows(out / "checkins" / DEC.isoformat() / "district-reflection.xlsx")
    assert [(r[0], r[1], r[7]) for r in rows] == [("0101", "Lincoln & Douglass <Academy>", "overdue"),
                                                  ("0102", "School 0102", "on target")]
    lines = result.output.splitlines()
    assert lines[0] == "Check-ins of 2027-12-14 (--date): 2 school(s)"
    assert "No check-in on 2027-12-14: 0103 School 0103." in lines
    assert lines[-1] == f"Wrote 2 of 2 After Action Review(s) and 1 reflection workbook(s) in {out}."


def test_without_a_date_each_school_gets_its_next_check_in_and_the_output_says_which(district, tmp_path):
    out = tmp_path / "out"
    result = run(district, out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "checkins").iterdir()) == [DEC.isoformat(), JAN.isoformat()]
    assert form(out, JAN, "0103-school-0103", "0103").is_file()
    assert "Check-ins of 2027-12-14 (the next check-in on or after 2027-11-23): 2 school(s)" in result.output
    assert "Check-ins of 2028-01-18 (the next check-in on or after 2027-11-23): 1 school(s)" in result.output
    assert [r[0] for r in reflection_rows(out / "checkins" / JAN.isoformat() / "district-reflection.xlsx")] == \
        ["0103"]


def test_a_school_run_writes_its_form_and_the_reflection_still_has_every_school_of_the_day(district, tmp_path):
    out = tmp_path / "out"
    result = run(district, out, "--date", DEC.isoformat(), "--school", "0102")
    assert result.exit_code == 0, result.output
    assert form(out, DEC, "0102-school-0102", "0102").is_file()
    assert not form(out, DEC, "0101-lincoln-douglass-academy", "0101").exists()
    rows = reflection_rows(out / "checkins" / DEC.isoformat() / "district-reflection.xlsx")
    assert [r[0] for r in rows] == ["0101", "0102"]


def test_a_day_without_check_ins_is_one_line_naming_the_days_there_are_and_writes_nothing(district, tmp_path):
    out = tmp_path / "out"
    result = run(district, out, "--date", "2027-12-15")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "error: No school of this run has a check-in on 2027-12-15. Its check-in dates: 2027-09-14, 2027-12-14, "
        "2028-01-18. Fix: give --date one of them."]
    assert not (out / "checkins").exists()


def test_forms_already_there_are_kept_unless_forced(district, tmp_path):
    out = tmp_path / "out"
    assert run(district, out, "--date", DEC.isoformat()).exit_code == 0
    written = form(out, DEC, "0102-school-0102", "0102")
    written.write_bytes(b"staff wrote in this")
    result = run(district, out, "--date", DEC.isoformat())
    assert result.exit_code == 0
    assert written.read_bytes() == b"staff wrote in this"
    assert f"  0102 School 0102: kept (already there; --force replaces it): {written}" in result.output.splitlines()
    assert run(district, out, "--date", DEC.isoformat(), "--force").exit_code == 0
    assert Document(str(written)).paragraphs[0].text == "After Action Review"


def test_a_failure_while_writing_leaves_nothing_half_written_and_earlier_forms_whole(district, tmp_path,
                                                                                    monkeypatch):
    out = tmp_path / "out"
    assert run(district, out, "--date", DEC.isoformat(), "--school", "0102").exit_code == 0
    earlier = form(out, DEC, "0102-school-0102", "0102")
    before = earlier.read_bytes()
    stage = atomic._stage

    def full_disk(directory, suffix, data, flush=True):
        if suffix == ".xlsx":
            raise OSError(errno.ENOSPC, "No space left on device")
        return stage(directory, suffix, data, flush)
    monkeypatch.setattr(atomic, "_stage", full_disk)
    result = run(district, out, "--date", DEC.isoformat(), "--force")
    assert result.exit_code == 1
    reflection = out / "checkins" / DEC.isoformat() / "district-reflection.xlsx"
    assert result.output.splitlines() == [f"error: writing the check-in forms: {reflection}: No space left on device. "
                                          "Fix: free space on that disk, then run again."]
    assert earlier.read_bytes() == before                       # not replaced: all or nothing
    assert not form(out, DEC, "0101-lincoln-douglass-academy", "0101").exists()
    assert [p.name for p in out.rglob(".tmp-*")] == []


def test_a_schools_input_errors_leave_it_out_and_the_others_are_written(district, tmp_path):
    def blank_goal(ws):
        ws.cell(row=find_row(ws, "School ID", "0102"), column=header_column(ws, "SMART Goal")).value = None
    edit_sheet(district / "goals.xlsx", "Goals", blank_goal)
    out = tmp_path / "out"
    result = run(district, out, "--date", DEC.isoformat())
    assert result.exit_code == 1
    assert form(out, DEC, "0101-lincoln-douglass-academy", "0101").is_file()
    assert not form(out, DEC, "0102-school-0102", "0102").exists()
    assert ("error: 0102 School 0102: not prepared: its own rows have 1 input error; "
            f"`packets validate --inputs {district}` lists them.") in result.output.splitlines()


def test_a_build_running_on_the_output_folder_stops_the_check_in_run(district, tmp_path):
    out = tmp_path / "out"
    with OutputLock(out, "build"):
        result = run(district, out, "--date", DEC.isoformat())
    assert result.exit_code == 1
    assert result.output.startswith("error: Another `packets build` is running on ")
    assert not (out / "checkins").exists()


def test_xml_special_text_reaches_the_form_as_text(district, tmp_path):
    out = tmp_path / "out"
    assert run(district, out, "--date", DEC.isoformat(), "--school", "0101").exit_code == 0
    data = form(out, DEC, "0101-lincoln-douglass-academy", "0101").read_bytes()
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "Lincoln & Douglass <Academy>" in text


def test_what_a_killed_run_left_is_tidied_by_the_next(district, tmp_path):
    out = tmp_path / "out"
    assert run(district, out, "--date", DEC.isoformat()).exit_code == 0
    school = form(out, DEC, "0102-school-0102", "0102").parent
    (school / ".tmp-k1ll3d.docx").write_bytes(b"half")
    (school.parent / ".tmp-k1ll3d.xlsx").write_bytes(b"half")
    assert run(district, out, "--date", DEC.isoformat()).exit_code == 0
    assert [p.name for p in out.rglob(".tmp-*")] == []


def test_context_prints_what_the_after_action_review_receives_for_the_next_check_in(district):
    result = run_cli("context", "0101", "--inputs", str(district), "--as-of", AS_OF, "--form", "after-action-review")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["title"], shown["check_in"]["date"]) == ("After Action Review", "December 14, 2027")
    assert [a["activity"] for s in shown["strategies"] for a in s["activities"]] == ["Due in the autumn"]
    late = run_cli("context", "0101", "--inputs", str(district), "--as-of", "2027-12-15", "--form",
                   "after-action-review")
    assert late.exit_code == 1
    assert late.output.splitlines() == ["error: School 0101 has no check-in on or after 2027-12-15. Fix: give "
                                        "--as-of a day before one of its check-ins."]


def test_a_run_whose_only_school_has_input_errors_says_what_they_are(district, tmp_path):
    def blank_goal(ws):
        ws.cell(row=find_row(ws, "School ID", "0103"), column=header_column(ws, "SMART Goal")).value = None
    edit_sheet(district / "goals.xlsx", "Goals", blank_goal)
    result = run(district, tmp_path / "out", "--school", "0103")
    assert result.exit_code == 1
    assert "SMART Goal is empty" in result.output and "No school of this run" not in result.output
    assert not (tmp_path / "out" / "checkins").exists()


def test_all_writes_every_check_in_of_each_schools_cycle(district, tmp_path):
    out = tmp_path / "out"
    result = run(district, out, "--all")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "checkins").iterdir()) == [d.isoformat() for d in (SEP, DEC, JAN)]
    assert sorted(p.relative_to(out / "checkins").as_posix() for p in (out / "checkins").rglob("*.docx")) == [
        "2027-09-14/0101-lincoln-douglass-academy/0101-after-action-review.docx",
        "2027-09-14/0102-school-0102/0102-after-action-review.docx",
        "2027-12-14/0101-lincoln-douglass-academy/0101-after-action-review.docx",
        "2027-12-14/0102-school-0102/0102-after-action-review.docx",
        "2028-01-18/0103-school-0103/0103-after-action-review.docx"]
    assert "Check-ins of 2027-09-14 (--all): 2 school(s)" in result.output.splitlines()
    assert run(district, out, "--all", "--date", DEC.isoformat()).output.splitlines() == [
        "error: Give --date or --all, not both."]
