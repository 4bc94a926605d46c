"""`packets remind`: one message a person, listing their approaching and overdue items at the schools whose
roster they are on, through the outbox, a dry run or a real SMTP server on loopback (as test_send.py).

The district is made by the test (tests/factories.py), so each item says what it is about:

- Sam Ortiz, the School Improvement Coordinator of 0101 and 0102 (one address, a row at each), is named
  on an overdue task at 0101, an approaching task and an activity ending soon at 0102, and on two tasks
  at 0103, whose roster he is not on;
- each school's principal (Pat Lee, a row of their own each) has a task done, one far off, and one due;
- the superintendent, a district-wide row, owns a district-wide task: one item, not one per school.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path

import openpyxl
import pytest
import test_send

from generator.delivery.remind import LEDGER, LISTING, OUTBOX
from generator.delivery.settings import load_email_settings
from generator.findings import PacketsError

from conftest import find_row, header_column, run_cli
from factories import D, activity, packet, person, school, strategy, task, write_inputs

# test_send's SMTP server on loopback, and its guard against reaching any other host (autouse).
Recorder = test_send.Recorder
smtp = test_send.smtp
loopback_only = test_send.loopback_only

AS_OF = "2026-11-23"
SAM = "sam.ortiz@example.org"
DANA = "dana.cho@example.org"
PRINCIPALS = {sid: f"pat.lee.{sid}@example.org" for sid in ("0101", "0102", "0103")}

EMAIL_TOML = """\
[email]
from = "School Improvement <school-improvement@example.org>"

[smtp]
host = "127.0.0.1"
security = "none"

[default]
to = ["Principal"]
subject = "{{ school.name }}"
body = "Hello"
"""


def _district() -> list:
    sam = {sid: person("Sam Ortiz", "School Improvement Coordinator", sid, email=SAM) for sid in ("0101", "0102")}
    superintendent = person("Dana Cho", "Superintendent", None, email=DANA)
    approve = task("Approve the plans", D(2026, 11, 30), responsibility="Superintendent")      # district-wide

    def people(sid):
        return [person("Pat Lee", "Principal", sid), *([sam[sid]] if sid in sam else []), superintendent]

    def principal_tasks(sid):
        return [task("Survey families", D(2026, 11, 2), completed=D(2026, 11, 1), responsibility="Principal",
                     school_id=sid),
                task("Board presentation", D(2027, 3, 1), responsibility="Principal", school_id=sid),
                task("Submit the DF", D(2026, 12, 1), responsibility="Principal", school_id=sid)]

    return [
        packet(school("0101", "Lincoln Elementary"), people=people("0101"), tasks=[
            approve, *principal_tasks("0101"),
            task("Draft focus areas", D(2026, 11, 20), responsibility="Sam Ortiz", school_id="0101")]),
        packet(school("0102", "Prairie View Middle"), people=people("0102"), tasks=[
            approve, *principal_tasks("0102"),
            task("Collect survey data", D(2026, 12, 1), responsibility="School Improvement Coordinator",
                 school_id="0102")],
            strategies=[strategy("S1", activities=[
                activity("S1", "Coach new teachers", start=D(2026, 9, 1), end=D(2026, 11, 30), owner="Sam Ortiz"),
                activity("S1", "Train aides", start=D(2026, 9, 1), end=D(2026, 10, 30), owner="Sam Ortiz")])]),
        packet(school("0103", "Eastview Early Learning"), people=people("0103"), tasks=[
            approve, *principal_tasks("0103"),
            task("Draft focus areas", D(2026, 11, 20), responsibility="Sam Ortiz", school_id="0103"),
            task("Collect survey data", D(2026, 12, 1), responsibility="Sam Ortiz", school_id="0103")]),
    ]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    folder = write_inputs(tmp_path_factory.mktemp("remind") / "inputs", _district())
    (folder / "email.toml").write_text(EMAIL_TOML, encoding="utf-8")
    return folder


@dataclass
class Run:
    inputs: Path
    output: Path

    def remind(self, *args: str, as_of: str = AS_OF):
        return run_cli("remind", "--inputs", str(self.inputs), "--output", str(self.output), "--as-of", as_of,
                       *args)

    def ledger(self) -> dict:
        """The journal's messages gathered by item: {key: {"title": ..., "sent": {state: {address, ...}}}}."""
        lines = (self.output / LEDGER).read_text(encoding="utf-8").splitlines()
        assert json.loads(lines[0]) == {"ledger": "packets remind", "version": 1}
        items: dict = {}
        for line in lines[1:]:
            message = json.loads(line)
            for item in message["items"]:
                entry = items.setdefault(item["key"], {"title": item["title"], "sent": {}})
                entry["sent"].setdefault(item["state"], set()).add(message["to"])
        return items

    def outbox(self) -> dict[str, object]:
        """Each outbox message, by its To address."""
        found = {}
        for path in (self.output / OUTBOX).glob("*.eml"):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            (to,) = message["To"].addresses
            found[to.addr_spec] = message
        return found

    def set_task_date(self, name: str, sid: str, date) -> None:
        path = self.inputs / "timeline.xlsx"
        wb = openpyxl.load_workbook(path)
        ws = wb["Tasks"]
        task_col, sid_col = header_column(ws, "Task"), header_column(ws, "School ID")
        row = next(r for r in range(2, ws.max_row + 1)
                   if ws.cell(r, task_col).value == name and str(ws.cell(r, sid_col).value) == sid)
        ws.cell(row, header_column(ws, "Expected Date")).value = date
        wb.save(path)


@pytest.fixture
def run(made, tmp_path) -> Run:
    shutil.copytree(made, tmp_path / "inputs")
    return Run(tmp_path / "inputs", tmp_path / "output")


def roster_addresses(inputs: Path) -> dict[str, set[str]]:
    """Each person's roster addresses, read straight from the workbook."""
    ws = openpyxl.load_workbook(inputs / "roster.xlsx")["People"]
    rows = list(ws.iter_rows(values_only=True))
    found: dict[str, set[str]] = {}
    for row in rows[1:]:
        entry = dict(zip(rows[0], row))
        if entry.get("Email"):
            found.setdefault(entry["Name"], set()).add(entry["Email"])
    return found


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


# --- what is reminded, and to whom -----------------------------------------------------------------

def test_the_outbox_by_default_one_message_a_person_across_schools_only_where_on_the_roster(run):
    result = run.remind()
    assert result.exit_code == 0, result.output
    messages = run.outbox()
    assert set(messages) == {SAM, DANA, *PRINCIPALS.values()}
    assert (run.output / OUTBOX / LISTING).is_file()
    assert not (run.output / LEDGER).exists()                 # the outbox records nothing: SMTP does

    sam = body(messages[SAM])
    assert "Lincoln Elementary: Draft focus areas" in sam
    assert "Prairie View Middle: Collect survey data" in sam
    assert "Coach new teachers (strategy S1) (ends November 30, 2026, in 7 days)" in sam
    assert "Train aides" not in sam                          # ended before the day: finished, not overdue
    assert "Eastview" not in sam                             # 0103's roster does not have him
    # The district hears of it once, with both items, and no traceback.
    told = [line for line in result.output.splitlines() if "'Sam Ortiz' names no one" in line]
    assert len(told) == 1 and "0103 Eastview Early Learning" in told[0] and "2 items" in told[0]
    assert "Traceback" not in result.output

    roster = roster_addresses(run.inputs)
    for message in messages.values():                       # each to its person alone, at their roster address
        (to,) = message["To"].addresses
        assert to.addr_spec in roster[to.display_name] and message["Cc"] is None
    for address in PRINCIPALS.values():
        text = body(messages[address])
        assert "Submit the DF" in text
        assert "Survey families" not in text                 # completed
        assert "Board presentation" not in text              # months off
    dana = body(messages[DANA])
    assert dana.count("Approve the plans") == 1              # a district-wide task: one item, not three


def test_overdue_and_approaching_are_worded_apart(run):
    result = run.remind()
    assert result.exit_code == 0, result.output
    sam = run.outbox()[SAM]
    text = body(sam)
    overdue, coming = text.split("Coming up in the next 14 days:")
    assert "Overdue:" in overdue
    assert "Draft focus areas (was due November 20, 2026, 3 days ago)" in overdue
    assert "Collect survey data (due December 1, 2026, in 8 days)" in coming
    assert sam["Subject"] == "Factory Unified School District: 1 overdue, 2 due within 14 days (school improvement)"


def test_every_to_read_back_is_a_roster_address_of_that_person(run, smtp):
    server = smtp()
    assert run.remind("--smtp").exit_code == 0
    roster = roster_addresses(run.inputs)
    assert len(server.received) == 5
    assert sorted(r.rcpt_tos[0] for r in server.received) == sorted({SAM, DANA, *PRINCIPALS.values()})
    for got in server.received:
        (to,) = got.message["To"].addresses
        assert to.addr_spec in roster[to.display_name]
        assert got.rcpt_tos == [to.addr_spec]
        assert got.message["Cc"] is None and got.message["Bcc"] is None


def test_a_name_cannot_add_a_header_or_a_recipient(run, smtp):
    evil = 'Pat "Lee" <attacker@evil.example>,\nBcc: attacker@evil.example\r\nCc: attacker@evil.example'
    path = run.inputs / "roster.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["People"]
    ws.cell(find_row(ws, "Email", PRINCIPALS["0101"]), header_column(ws, "Name")).value = evil
    wb.save(path)
    server = smtp()
    result = run.remind("--smtp")
    assert result.exit_code == 0, result.output
    got = next(r for r in server.received if PRINCIPALS["0101"] in r.rcpt_tos)
    assert got.rcpt_tos == [PRINCIPALS["0101"]]
    assert [a.addr_spec for a in got.message["To"].addresses] == [PRINCIPALS["0101"]]
    assert got.message["Bcc"] is None and got.message["Cc"] is None
    assert all("attacker@evil.example" not in r.rcpt_tos for r in server.received)
    assert b"attacker@evil.example>" not in got.raw


def test_text_from_the_spreadsheets_is_data_never_a_template(run):
    run.set_task_date("Submit the DF", "0101", D(2027, 5, 1))    # not due: the principal's message is not asserted
    path = run.inputs / "timeline.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["Tasks"]
    ws.cell(find_row(ws, "Task", "Draft focus areas"), header_column(ws, "Task")).value = "{{ 7 * 7 }} {% raw %}"
    wb.save(path)
    result = run.remind()
    assert result.exit_code == 0, result.output
    assert "Lincoln Elementary: {{ 7 * 7 }} {% raw %}" in body(run.outbox()[SAM])


# --- once each ---------------------------------------------------------------------------------------

def test_dry_run_writes_and_sends_nothing(run, smtp):
    server = smtp()
    result = run.remind("--smtp", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would be sent" in result.output and "Dry run: nothing was written or sent." in result.output
    assert server.received == []
    assert not run.output.exists()
    result = run.remind("--dry-run")
    assert result.exit_code == 0 and "would be written to outbox" in result.output
    assert not run.output.exists()


@pytest.mark.slow
def test_a_second_run_sends_nothing_and_a_changed_due_date_reminds_again(run, smtp):
    server = smtp()
    first = run.remind("--smtp")
    assert first.exit_code == 0, first.output
    assert len(server.received) == 5 and "5 sent" in first.output
    recorded = run.ledger()
    assert all(SAM in entry["sent"].get("overdue", {}) or SAM in entry["sent"].get("approaching", {})
               for entry in recorded.values() if entry["title"].startswith(("Draft", "Collect", "Coach")))

    again = run.remind("--smtp")
    assert again.exit_code == 0, again.output
    assert len(server.received) == 5 and "5 already reminded" in again.output

    run.set_task_date("Collect survey data", "0102", D(2026, 12, 3))
    moved = run.remind("--smtp")
    assert moved.exit_code == 0, moved.output
    assert len(server.received) == 6
    latest = server.received[-1]
    assert latest.rcpt_tos == [SAM]
    text = body(latest.message)
    assert "Collect survey data (due December 3, 2026, in 10 days)" in text
    assert "Draft focus areas" not in text and "Coach new teachers" not in text       # reminded already


@pytest.mark.slow
def test_an_approaching_item_left_open_is_reminded_once_more_when_overdue(run, smtp):
    server = smtp()
    assert run.remind("--smtp").exit_code == 0
    later = run.remind("--smtp", as_of="2026-12-02")
    assert later.exit_code == 0, later.output
    to_principal = [r for r in server.received if r.rcpt_tos == [PRINCIPALS["0102"]]]
    assert len(to_principal) == 2
    assert "Submit the DF (was due December 1, 2026, 1 day ago)" in body(to_principal[1].message)
    assert "Overdue:" in body(to_principal[1].message)
    assert run.remind("--smtp", as_of="2026-12-03").output.count("already reminded") == 1


@pytest.mark.slow
def test_a_server_lost_midway_leaves_the_ledger_true_and_the_next_run_sends_the_rest(run, smtp):
    handler = Recorder()
    handler.die_after = 2
    smtp(handler)
    first = run.remind("--smtp")
    assert first.exit_code == 1
    assert "Traceback" not in first.output and "not sent" in first.output
    sent_first = {r.rcpt_tos[0] for r in handler.received}
    assert len(sent_first) == 2
    in_ledger = {a for entry in run.ledger().values() for sent in entry["sent"].values() for a in sent}
    assert in_ledger == sent_first

    server = smtp()                                          # the server is back
    second = run.remind("--smtp")
    assert second.exit_code == 0, second.output
    sent_second = [r.rcpt_tos[0] for r in server.received]
    assert len(sent_second) == 3 and not set(sent_second) & sent_first
    assert set(sent_second) | sent_first == {SAM, DANA, *PRINCIPALS.values()}


# --- settings and mistakes ---------------------------------------------------------------------------

def test_remind_settings_are_checked_like_every_other(run):
    path = run.inputs / "email.toml"
    assert load_email_settings(run.inputs).remind.within_days == 14          # no [remind]: the shipped ones
    path.write_text(EMAIL_TOML + "\n[remind]\nwithin_day = 3\n", encoding="utf-8")
    with pytest.raises(PacketsError, match=r"unknown key \[remind\] within_day. Did you mean within_days\?"):
        load_email_settings(run.inputs)
    path.write_text(EMAIL_TOML + "\n[remind]\nwithin_days = -1\n", encoding="utf-8")
    with pytest.raises(PacketsError, match=r"\[remind\] within_days: '-1' must be a whole number"):
        load_email_settings(run.inputs)
    path.write_text(EMAIL_TOML + '\n[remind]\nsubject = "{{ persn.name }}"\n', encoding="utf-8")
    result = run.remind()
    assert result.exit_code == 2 and "[remind] subject" in result.output and "persn" in result.output
    assert "README, 'Reminders'" in result.output and "Traceback" not in result.output
    assert not run.output.exists() or not any((run.output / OUTBOX).glob("*.eml"))


def test_within_days_sets_what_is_approaching(run):
    (run.inputs / "email.toml").write_text(EMAIL_TOML + "\n[remind]\nwithin_days = 5\n", encoding="utf-8")
    result = run.remind()
    assert result.exit_code == 0, result.output
    messages = run.outbox()
    assert set(messages) == {SAM}                            # only his overdue task; the rest are 7+ days off
    assert "Coming up" not in body(messages[SAM])


def test_an_invalid_address_holds_that_person_back_and_names_the_row(run):
    path = run.inputs / "roster.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["People"]
    row = find_row(ws, "Email", DANA)
    ws.cell(row, header_column(ws, "Email")).value = "dana.cho@"
    wb.save(path)
    result = run.remind()
    assert result.exit_code == 1
    assert f"roster.xlsx, sheet People, row {row}, column" in result.output and "HELD" in result.output
    assert DANA not in run.outbox() and SAM in run.outbox()


def test_a_person_without_an_address_is_reported_once_and_the_others_go(run):
    path = run.inputs / "roster.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["People"]
    row = find_row(ws, "Email", DANA)
    ws.cell(row, header_column(ws, "Email")).value = None
    wb.save(path)
    result = run.remind()
    assert result.exit_code == 0, result.output
    told = [line for line in result.output.splitlines() if "Dana Cho (Superintendent) has no email address" in line]
    assert len(told) == 1 and f"row {row}" in told[0]
    assert set(run.outbox()) == {SAM, *PRINCIPALS.values()}


def test_a_school_whose_rows_have_errors_is_left_out_and_named(run):
    path = run.inputs / "timeline.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["Tasks"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, header_column(ws, "School ID")).value == "0102")
    ws.cell(row, header_column(ws, "Expected Date")).value = "not a date"
    wb.save(path)
    result = run.remind()
    assert result.exit_code == 1
    assert "0102 Prairie View Middle: its own rows have 1 input error(s), so its items are not reminded" \
        in result.output
    assert "Traceback" not in result.output
    messages = run.outbox()
    assert PRINCIPALS["0102"] not in messages and PRINCIPALS["0101"] in messages
    assert "Prairie View" not in body(messages[SAM])


def test_an_activity_is_reminded_as_it_starts_and_as_it_ends(run):
    result = run.remind(as_of="2026-08-25")
    assert result.exit_code == 0, result.output
    text = body(run.outbox()[SAM])
    assert "Coach new teachers (strategy S1) (starts September 1, 2026, in 7 days)" in text
    assert "Train aides (strategy S1) (starts September 1, 2026, in 7 days)" in text


def test_an_unreadable_ledger_stops_the_run_before_anything_is_sent(run, smtp):
    server = smtp()
    run.output.mkdir()
    (run.output / LEDGER).write_text('{"items": []}', encoding="utf-8")
    result = run.remind("--smtp")
    assert result.exit_code == 2
    assert "is not a reminder ledger" in result.output and "Traceback" not in result.output
    assert server.received == []


def test_the_shipped_email_toml_spells_out_the_default_reminder(tmp_path):
    from generator.delivery.settings import REMIND_BODY, REMIND_SUBJECT
    from generator.setup.authoring import init_inputs
    init_inputs(tmp_path / "new", "Test District", "2026-27")
    remind = load_email_settings(tmp_path / "new").remind
    assert (remind.within_days, remind.subject, remind.body) == (14, REMIND_SUBJECT, REMIND_BODY)


def test_school_chooses_whose_items_are_reminded(run):
    result = run.remind("--school", "0101")
    assert result.exit_code == 0, result.output
    messages = run.outbox()
    assert set(messages) == {SAM, DANA, PRINCIPALS["0101"]}
    assert "Prairie View" not in body(messages[SAM]) and "Lincoln Elementary" in body(messages[SAM])


def test_no_reminder_is_written_while_a_send_or_build_holds_the_folder(run):
    from generator.delivery.ledger import SendLock
    run.output.mkdir()
    with SendLock(run.output):
        result = run.remind()
    assert result.exit_code == 2 and "Another `packets send` is running" in result.output
    assert not (run.output / OUTBOX).exists()


def test_a_repeating_row_is_reminded_date_by_date_up_to_its_completion_date(run):
    path = run.inputs / "timeline.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["Tasks"]
    row = ws.max_row + 1
    for header, value in {"Stage": ws.cell(2, header_column(ws, "Stage")).value, "Task": "Monthly data review",
                          "School ID": "0101", "Responsibility": "Principal", "Expected Date": D(2026, 9, 15),
                          "Completion Date": D(2026, 10, 15), "Repeats": "monthly", "Until": D(2027, 1, 31)}.items():
        ws.cell(row, header_column(ws, header)).value = value
    wb.save(path)
    result = run.remind()
    assert result.exit_code == 0, result.output
    text = body(run.outbox()[PRINCIPALS["0101"]])
    assert text.count("Monthly data review") == 1              # September and October done; December is 22 days off
    assert "Monthly data review (was due November 15, 2026, 8 days ago)" in text
    later = run.remind(as_of="2026-12-05")
    assert later.exit_code == 0, later.output
    text = body(run.outbox()[PRINCIPALS["0101"]])
    assert "Monthly data review (due December 15, 2026, in 10 days)" in text


def test_the_sample_district_dry_run(tmp_path):
    from conftest import SAMPLE
    result = run_cli("remind", "--inputs", str(SAMPLE), "--output", str(tmp_path / "output"), "--as-of", AS_OF,
                     "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would be written to outbox" in result.output and "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    assert lines and all(": would be written to outbox" in line for line in lines)
    assert result.output.splitlines()[-1] == (f"{len(lines)} person(s) with items due as of November 23, 2026: "
                                              f"{len(lines)} would be written to outbox")
    assert not (tmp_path / "output").exists()


def test_a_name_without_latin_letters_is_matched_on_the_roster(run):
    path = run.inputs / "roster.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["People"]
    ws.append({header_column(ws, "School ID"): "0101", header_column(ws, "Name"): "王伟",
               header_column(ws, "Role"): "Leadership Team Member", header_column(ws, "Email"): "wang.wei@example.org"})
    wb.save(path)
    path = run.inputs / "timeline.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["Tasks"]
    ws.cell(find_row(ws, "Task", "Draft focus areas"), header_column(ws, "Responsibility")).value = "王伟 & Sam Ortiz"
    wb.save(path)
    result = run.remind()
    assert result.exit_code == 0, result.output
    assert "Lincoln Elementary: Draft focus areas" in body(run.outbox()["wang.wei@example.org"])
    assert "Lincoln Elementary: Draft focus areas" in body(run.outbox()[SAM])


@pytest.mark.slow
def test_a_line_torn_by_a_killed_run_counts_as_not_sent_and_is_cut_off(run, smtp):
    server = smtp()
    assert run.remind("--smtp").exit_code == 0
    path = run.output / LEDGER
    data = path.read_bytes()
    last = json.loads(data.splitlines()[-1])
    path.write_bytes(data[:-40])                          # the last message's line torn mid-write
    again = run.remind("--smtp")
    assert again.exit_code == 0, again.output
    assert [r.rcpt_tos for r in server.received[5:]] == [[last["to"]]]    # that one goes again, once
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 5 and all(json.loads(line) for line in lines)
    assert run.remind("--smtp").exit_code == 0 and len(server.received) == 6


def test_a_ledger_that_is_a_link_is_not_written_through(run, smtp, tmp_path):
    server = smtp()
    elsewhere = tmp_path / "elsewhere.jsonl"
    run.output.mkdir()
    (run.output / LEDGER).symlink_to(elsewhere)
    result = run.remind("--smtp")
    assert result.exit_code == 2 and "is a symbolic link" in result.output and "Traceback" not in result.output
    assert not elsewhere.exists()
    assert server.received == []                           # refused before the first message
