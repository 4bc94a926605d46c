"""The year's cycle end to end, as the README walks it: build -> send -> collect -> build -> check in ->
remind, on the sample district, each step through the CLI and each step's result read from the files.

One school returns its schedule tracker with a task coming due marked done; after collect --apply the
next build rebuilds that school alone, its tracker shows the task Done, the check-in forms are written,
and the principal, reminded of the task before, is no longer reminded of it."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from pathlib import Path

import openpyxl
import pytest

from conftest import AS_OF, run_cli

pytestmark = pytest.mark.slow

SCHOOL = "0104"
SCHOOL_NAME = "Tubman & Douglass Academy"
DONE_ON = dt.datetime(2026, 11, 20)


def cli(command: str, inputs: Path, output: Path, *args: str):
    return run_cli(command, "--inputs", str(inputs), "--output", str(output), *args)


def tracker_rows(path: Path) -> dict[str, dict[str, object]]:
    """The schedule tracker's task rows by Row ID, each as header -> value."""
    ws = openpyxl.load_workbook(path)["Schedule"]
    headers = [c.value for c in ws[4]]
    rows = (dict(zip(headers, (c.value for c in row))) for row in ws.iter_rows(min_row=5))
    return {row["Row ID"]: row for row in rows if row.get("Row ID")}


def reminder_lines(output: Path) -> list[str]:
    """Every line of every reminder in the outbox."""
    lines = []
    for eml in sorted((output / "outbox" / "reminders").glob("*.eml")):
        message = message_from_bytes(eml.read_bytes(), policy=policy.default)
        lines += message.get_body(("plain",)).get_content().splitlines()
    return lines


def test_build_send_collect_build_check_in_remind(inputs, output, tmp_path):
    # 1. Build, and 2. send (the outbox: .eml files staff open in their mail program).
    built = cli("build", inputs, output, "--as-of", AS_OF, "--jobs", "1")
    assert built.exit_code == 0, built.output
    sent = cli("send", inputs, output)
    assert sent.exit_code in (0, 1), sent.output                 # 0107 is not ready: mailed as a draft
    assert list((output / "outbox").glob(f"{SCHOOL}*.eml")), sent.output

    (tracker,) = output.glob(f"{SCHOOL}-*/{SCHOOL}-schedule-tracker.xlsx")
    rows = tracker_rows(tracker)
    day = dt.datetime.fromisoformat(AS_OF)
    coming = [(rid, row) for rid, row in rows.items()
              if row["Date of Completion"] is None and row["Responsibility"] == "Principal"
              and row["Expected Date of Completion"] is not None
              and day <= row["Expected Date of Completion"] <= day + dt.timedelta(days=14)]
    assert coming, "the sample's 0104 has a task of its principal's coming due"
    row_id, row = coming[0]
    title = (row["Detail"] or row["Tasks"])[:20]

    before = cli("remind", inputs, output, "--as-of", AS_OF)
    assert before.exit_code in (0, 1), before.output
    assert any(SCHOOL_NAME in line and title in line for line in reminder_lines(output)), before.output

    # 3. The school returns its tracker, renamed, with the task done; collect shows it, then applies it.
    returned = tmp_path / "returned"
    returned.mkdir()
    wb = openpyxl.load_workbook(tracker)
    ws = wb["Schedule"]
    headers = {c.value: c.column for c in ws[4]}
    (r,) = [r for r in range(5, ws.max_row + 1) if ws.cell(r, headers["Row ID"]).value == row_id]
    ws.cell(r, headers["Date of Completion"]).value = DONE_ON
    wb.save(returned / "Tubman schedule (done).xlsx")

    shown = cli("collect", inputs, output, str(returned))
    assert shown.exit_code == 0, shown.output
    assert "to apply" in shown.output and "November 20, 2026" in shown.output
    timeline = (inputs / "timeline.xlsx").read_bytes()
    assert (inputs / "timeline.xlsx").read_bytes() == timeline               # shown, not written
    applied = cli("collect", inputs, output, str(returned), "--apply")
    assert applied.exit_code == 0, applied.output
    assert list((inputs / "backups").glob("timeline-*.xlsx"))

    # 4. Build again: that school alone is rebuilt, its tracker shows the task Done.
    again = cli("build", inputs, output, "--as-of", AS_OF, "--jobs", "1")
    assert again.exit_code == 0, again.output
    assert "Built 1, skipped 8 unchanged" in again.output, again.output
    done = tracker_rows(tracker)[row_id]
    assert done["Date of Completion"] == DONE_ON and done["Status"] == "Done"

    # 5. Check in: the forms of the first check-in of the cycle.
    checked = cli("checkin", inputs, output, "--as-of", AS_OF)
    assert checked.exit_code == 0, checked.output
    assert list(output.glob(f"checkins/*/{SCHOOL}-*/{SCHOOL}-after-action-review.docx")), checked.output
    assert list(output.glob("checkins/*/district-reflection.xlsx"))

    # 6. Remind: the task done is no longer anyone's reminder.
    after = cli("remind", inputs, output, "--as-of", AS_OF)
    assert after.exit_code in (0, 1), after.output
    assert not any(SCHOOL_NAME in line and title in line for line in reminder_lines(output)), after.output
