"""`packets send`: review emails to each school's own reviewers, through a real SMTP server on loopback.

The sample district is built once; each test works on its own copy. An aiosmtpd server started by the
test receives the messages, and the assertions are on what it received: envelope recipients, headers,
attachments and their bytes. A guard makes any connection to a host other than this machine fail.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import ipaddress
import json
import re
import shutil
import socket
import zipfile
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from hypothesis import example, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from generator.delivery.compose import build_message, checked_bytes, compile_templates, render
from generator.delivery.ledger import LEDGER, Ledger, SendLock
from generator.delivery.recipients import Recipient, display_name
from generator.delivery.send import review_due
from generator.delivery.settings import load_email_settings
from generator.findings import PacketsError
from generator.model.records import ReviewEvent
from generator.pipeline import load_district
from generator.settings import load_settings

from conftest import AS_OF, SAMPLE, edit_sheet, find_row, header_column, run_cli

SCHOOLS = ["0101", "0102", "0103", "0104", "0105", "0106", "0107", "0108", "0109"]
# The sample email.toml: the principal, and copies to these roles (Intensive schools add District Staff).
TO_ROLES = {"Principal"}
CC_ROLES = {"School Improvement Coordinator", "Leadership Team Chair", "Facilitator"}
INTENSIVE = {"0102", "0103", "0108"}


# --- no network but this machine ---------------------------------------------------------------

@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fail any connection to a host other than this machine, and keep real SMTP settings out."""
    real_connect = socket.socket.connect

    def connect(sock, address):
        if isinstance(address, tuple) and not ipaddress.ip_address(address[0].split("%")[0]).is_loopback:
            raise AssertionError(f"a test tried to reach {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getfqdn", lambda name="": "localhost")     # no DNS lookups either
    for key in ("HOST", "PORT", "USER", "PASSWORD", "SECURITY"):
        monkeypatch.delenv(f"PACKETS_SMTP_{key}", raising=False)


# --- a district built once, copied per test ----------------------------------------------------

NOT_READY = "0107"            # the sample's one school not ready as of AS_OF

@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("built")
    shutil.copytree(SAMPLE, base / "inputs")
    result = run_cli("build", "--inputs", str(base / "inputs"), "--output", str(base / "output"),
                     "--as-of", AS_OF, "--jobs", "1")
    assert result.exit_code == 0, result.output
    return base


@dataclass
class District:
    inputs: Path
    output: Path

    def send(self, *args: str):
        return run_cli("send", "--inputs", str(self.inputs), "--output", str(self.output), *args)

    def build(self, *args: str):
        result = run_cli("build", "--inputs", str(self.inputs), "--output", str(self.output), "--as-of", AS_OF,
                         "--jobs", "1", *args)
        assert result.exit_code == 0, result.output
        return result

    def ledger(self) -> dict:
        return json.loads((self.output / LEDGER).read_text(encoding="utf-8"))["schools"]

    def documents(self, sid: str) -> list[str]:
        """The file names the build manifest lists for the school."""
        manifest = json.loads((self.output / "build-manifest.json").read_text(encoding="utf-8"))
        return [Path(d).name for d in manifest["schools"][sid]["documents"]]

    def folder(self, sid: str) -> Path:
        return next(self.output.glob(f"{sid}-*/"))

    def email_toml(self, old: str, new: str) -> None:
        path = self.inputs / "email.toml"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def district(built, tmp_path) -> District:
    shutil.copytree(built / "inputs", tmp_path / "inputs")
    shutil.copytree(built / "output", tmp_path / "output")
    return District(tmp_path / "inputs", tmp_path / "output")


def roster_people(inputs: Path) -> list[dict]:
    """The People sheet read straight from the workbook, independent of the code under test."""
    ws = openpyxl.load_workbook(inputs / "roster.xlsx")["People"]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:] if any(r)]


def school_names(inputs: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(inputs / "roster.xlsx")["Schools"]
    return {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}


def review_due_dates(inputs: Path) -> dict[str, str]:
    """Each school's review due date as the issue defines it: its first first-draft or feedback step
    on or after the build day, else 14 days after the build."""
    built_on = dt.date.fromisoformat(AS_OF)
    district, _ = load_district(load_settings(inputs, None, built_on))
    dates = {}
    for packet in district.packets:
        due = next((e.due for e in packet.review if e.kind in ("first-draft", "feedback") and e.due >= built_on),
                   built_on + dt.timedelta(days=14))
        dates[packet.school.school_id] = f"{due:%B} {due.day}, {due.year}"
    return dates


def expected_recipients(inputs: Path, sid: str) -> tuple[set[str], set[str]]:
    people = [p for p in roster_people(inputs) if p["School ID"] == sid and p["Email"]]
    cc_roles = CC_ROLES | ({"District Staff"} if sid in INTENSIVE else set())
    to = {p["Email"] for p in people if p["Role"] in TO_ROLES}
    cc = {p["Email"] for p in people if p["Role"] in cc_roles} - to
    return to, cc


# --- the SMTP server ---------------------------------------------------------------------------

@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: object
    raw: bytes = b""                         # the message's bytes as the server received them

    @property
    def school(self) -> str:
        return self.attachments()[0][0][:4]

    def attachments(self) -> list[tuple[str, bytes]]:
        return [(a.get_filename(), a.get_payload(decode=True)) for a in self.message.iter_attachments()]


class Recorder:
    """An aiosmtpd handler that keeps what it accepts; it can refuse addresses, or die after N messages."""

    def __init__(self):
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.die_after: int | None = None
        self.die_before_reply = True          # die with message N+1 transmitted and unanswered
        self.controller: Controller | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.die_after is not None and len(self.received) >= self.die_after and self.die_before_reply:
            self._die(server)
            return "421 4.3.2 Shutting down"
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message,
                                      envelope.original_content))
        if self.die_after is not None and len(self.received) >= self.die_after and not self.die_before_reply:
            self.controller.loop.call_soon(self._die, server)      # right after this message's 250
        return "250 2.0.0 Accepted"

    def _die(self, server):
        """Stop listening and drop the open connection, as a server that is killed does."""
        self.controller.server.close()
        server.transport.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    """Start an SMTP server on loopback (again, for a restart) and point PACKETS_SMTP_HOST/PORT at it."""
    controllers = []

    def start(handler: Recorder | None = None, **kwargs) -> Recorder:
        handler = handler or Recorder()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs)
        controller.start()
        handler.controller = controller
        controllers.append(controller)
        monkeypatch.setenv("PACKETS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PACKETS_SMTP_PORT", str(port))
        return handler

    yield start
    for controller in controllers:
        controller.stop(no_assert=True)


# --- delivering ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_each_school_gets_one_message_with_only_its_recipients_and_documents(district, smtp):
    server = smtp()
    result = district.send("--smtp")
    assert result.exit_code == 0, result.output
    assert "9 sent" in result.output
    assert sorted(r.school for r in server.received) == SCHOOLS

    for got in server.received:
        sid = got.school
        to, cc = expected_recipients(district.inputs, sid)
        assert set(got.rcpt_tos) == to | cc                       # the envelope: this school's people only
        assert {a.addr_spec for a in got.message["To"].addresses} == to
        assert {a.addr_spec for a in got.message["Cc"].addresses} == cc
        assert got.mail_from == "school-improvement@rcusd117.example.org"
        folder = district.folder(sid)
        attached = dict(got.attachments())
        assert sorted(attached) == sorted(district.documents(sid))
        for name, data in attached.items():
            assert name.startswith(f"{sid}-")
            assert data == (folder / name).read_bytes()            # byte for byte the built document
        due = review_due_dates(district.inputs)[sid]
        if sid == NOT_READY:                          # a draft is not mailed "for review"
            assert re.fullmatch(rf"{re.escape(school_names(district.inputs)[sid])}: 2026-27 improvement plan "
                                rf"draft: \d+ items? missing, comments by {due}", got.message["Subject"])
        else:
            assert got.message["Subject"] == (f"{school_names(district.inputs)[sid]}: 2026-27 improvement "
                                              f"plan for review by {due}")
        body = got.message.get_body(("plain",)).get_content()
        assert f"School ID {sid}" in body
        assert f"by {due}" in body

    ledger = district.ledger()
    assert sorted(ledger) == SCHOOLS
    for sid, entry in ledger.items():
        (message,) = entry["messages"]
        got = next(r for r in server.received if r.school == sid)
        assert message["message_id"] == got.message["Message-ID"]
        assert sorted(message["delivered"]) == sorted(got.rcpt_tos)
        assert message["refused"] == {}
        for part in message["attachments"]:
            assert part["sha256"] == hashlib.sha256(dict(got.attachments())[part["name"]]).hexdigest()


@pytest.mark.slow
def test_not_ready_school_says_so_and_only_ready_skips_it(district, smtp):
    server = smtp()
    result = district.send("--smtp", "--only-ready")
    assert result.exit_code == 0, result.output
    assert "0107 Cedar Grove Elementary: skipped (not ready)" in result.output
    assert sorted(r.school for r in server.received) == [s for s in SCHOOLS if s != "0107"]

    result = district.send("--smtp", "--school", "0107")
    assert result.exit_code == 0, result.output
    body = server.received[-1].message.get_body(("plain",)).get_content()
    assert "NOT yet ready" in body and "[two-academic-goals]" in body


@pytest.mark.slow
def test_a_second_run_sends_nothing_and_a_changed_school_is_sent_again(district, smtp):
    server = smtp()
    assert district.send("--smtp").exit_code == 0
    assert len(server.received) == 9

    again = district.send("--smtp")
    assert again.exit_code == 0, again.output
    assert "9 already sent" in again.output
    assert len(server.received) == 9

    # A rebuild that changes nothing (even on another day) is not a new packet.
    run_cli("build", "--inputs", str(district.inputs), "--output", str(district.output), "--force",
            "--as-of", "2026-11-30", "--jobs", "1")
    assert district.send("--smtp").exit_code == 0
    assert len(server.received) == 9

    def edit(ws):
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, header_column(ws, "School ID")).value == "0104":
                cell = ws.cell(r, header_column(ws, "SMART Goal"))
                cell.value = f"{cell.value} (revised)"
                return
        raise AssertionError("no goal for 0104")

    edit_sheet(district.inputs / "goals.xlsx", "Goals", edit)
    district.build()
    result = district.send("--smtp")
    assert result.exit_code == 0, result.output
    assert [r.school for r in server.received[9:]] == ["0104"]
    entry = district.ledger()["0104"]
    assert len(entry["messages"]) == 1 and len(entry["earlier"]) == 1

    assert district.send("--smtp", "--school", "0101", "--resend").exit_code == 0
    assert [r.school for r in server.received[10:]] == ["0101"]


@pytest.mark.slow
@pytest.mark.parametrize("before_reply", [True, False], ids=["mid-message", "between-messages"])
def test_server_killed_halfway_ledger_lists_exactly_the_delivered(district, smtp, before_reply):
    first = Recorder()
    first.die_after = 4
    first.die_before_reply = before_reply
    smtp(first)
    result = district.send("--smtp")
    assert result.exit_code == 1
    assert len(first.received) == 4
    delivered = sorted(r.school for r in first.received)
    assert sorted(district.ledger()) == delivered                  # exactly what the server accepted
    assert "not sent" in result.output

    second = smtp()                                                # the server is back (on a new port)
    result = district.send("--smtp")
    assert result.exit_code == 0, result.output
    assert sorted(r.school for r in second.received) == sorted(set(SCHOOLS) - set(delivered))
    assert sorted(r.school for r in first.received + second.received) == SCHOOLS      # each exactly once
    assert sorted(district.ledger()) == SCHOOLS

    assert district.send("--smtp").exit_code == 0
    assert len(second.received) == 5


@pytest.mark.slow
def test_a_refused_address_is_recorded_and_only_it_is_tried_again(district, smtp):
    server = smtp()
    server.refuse = {"jennifer.walsh@rcusd117.example.org"}
    result = district.send("--smtp", "--school", "0101", "--school", "0102")
    assert result.exit_code == 1
    assert "partly sent" in result.output
    assert "Jennifer Walsh <jennifer.walsh@rcusd117.example.org> (roster.xlsx, sheet People, row 9) refused: 550" \
        in result.output
    (message,) = district.ledger()["0101"]["messages"]
    assert "jennifer.walsh@rcusd117.example.org" in message["refused"]
    assert "jennifer.walsh@rcusd117.example.org" not in message["delivered"]
    assert len(message["delivered"]) == 3

    server.refuse = set()
    result = district.send("--smtp", "--school", "0101", "--school", "0102")
    assert result.exit_code == 0, result.output
    assert len(server.received) == 3
    assert server.received[-1].rcpt_tos == ["jennifer.walsh@rcusd117.example.org"]
    assert [a.addr_spec for a in server.received[-1].message["To"].addresses] == ["jennifer.walsh@rcusd117.example.org"]
    assert len(district.ledger()["0101"]["messages"]) == 2

    district.send("--smtp", "--school", "0101")
    assert len(server.received) == 3


@pytest.mark.slow
def test_a_packet_older_than_its_inputs_is_held_until_rebuilt(district, smtp):
    district.build("--force", "--as-of", "2026-12-20", "--school", "0101", "--school", "0102")   # not today
    server = smtp()
    result = district.send("--smtp", "--school", "0101")
    assert result.exit_code == 0, result.output                  # the build recorded its day: still current

    _set_person(district.inputs, "marcus.bell@rcusd117.example.org", "Phone", "(309) 555-9999")   # 0101's principal
    result = district.send("--smtp", "--school", "0101", "--school", "0102")
    assert result.exit_code == 1
    assert "0101 Riverbend High School: HELD" in result.output
    assert "have changed since this packet was built" in result.output
    assert [r.school for r in server.received] == ["0101", "0102"]          # 0102's packet is still current

    district.build("--school", "0101", "--school", "0102")
    result = district.send("--smtp", "--school", "0101", "--school", "0102")
    assert result.exit_code == 0, result.output
    assert [r.school for r in server.received] == ["0101", "0102", "0101"]  # only 0101's packet changed


@pytest.mark.slow
def test_a_school_whose_last_build_was_interrupted_is_held_until_rebuilt(district, smtp):
    """A build killed midway leaves its schools pending in the build manifest: their folders may hold
    part of the old packet and part of the new, which must not be mailed as either."""
    path = district.output / "build-manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["pending"] = ["0102"]                  # as build() saves it before replacing anything
    path.write_text(json.dumps(manifest), encoding="utf-8")
    server = smtp()
    result = district.send("--smtp", "--school", "0101", "--school", "0102")
    assert result.exit_code == 1
    assert "0102 " in result.output and "interrupted" in result.output
    assert [r.school for r in server.received] == ["0101"]

    district.build("--school", "0102")
    result = district.send("--smtp", "--school", "0102")
    assert result.exit_code == 0, result.output
    assert [r.school for r in server.received] == ["0101", "0102"]


# --- safe addresses ----------------------------------------------------------------------------

def _set_person(inputs: Path, email: str, column: str, value) -> int:
    holder = {}

    def edit(ws):
        row = find_row(ws, "Email", email)
        ws.cell(row, header_column(ws, column)).value = value
        holder["row"] = row
    edit_sheet(inputs / "roster.xlsx", "People", edit)
    return holder["row"]


@pytest.mark.slow
def test_a_bad_address_holds_its_school_and_names_the_roster_row(district, smtp):
    row = _set_person(district.inputs, "jennifer.walsh@rcusd117.example.org", "Email", "jennifer.walsh@@rcusd117")
    district.build()
    server = smtp()
    result = district.send("--smtp")
    assert result.exit_code == 1
    assert "0101 Riverbend High School: HELD" in result.output
    assert f"roster.xlsx, sheet People, row {row}, column E (Email)" in result.output
    assert "'jennifer.walsh@@rcusd117' is not a valid email address" in result.output
    assert sorted(r.school for r in server.received) == [s for s in SCHOOLS if s != "0101"]
    assert "0101" not in district.ledger()


@pytest.mark.slow
def test_a_school_with_no_reviewer_is_reported_not_skipped(district, smtp):
    _set_person(district.inputs, "douglas.whitaker@rcusd117.example.org", "Email", None)
    district.build()
    server = smtp()
    result = district.send("--smtp")
    assert result.exit_code == 1
    assert "0107 Cedar Grove Elementary: HELD" in result.output
    assert "No reviewer" in result.output
    assert "Douglas Whitaker (Principal) has no email address" in result.output
    assert "0107" not in {r.school for r in server.received}
    assert "1 HELD" in result.output


def test_line_breaks_in_a_name_cannot_add_headers(district, smtp):
    evil = "Marcus Bell\r\nBcc: spy@evil.example.org\r\nX-Evil: 1"
    _set_person(district.inputs, "marcus.bell@rcusd117.example.org", "Name", evil)
    district.build()
    server = smtp()
    result = district.send("--smtp", "--school", "0101")
    assert result.exit_code == 0, result.output
    (got,) = server.received
    assert got.message["Bcc"] is None and got.message["X-Evil"] is None
    assert not any("evil" in a for a in got.rcpt_tos)
    assert "Bcc: spy@evil.example.org X-Evil: 1" in str(got.message["To"])      # kept, as part of the name
    raw_headers = got.message.as_bytes().split(b"\r\n\r\n", 1)[0].lower()
    assert b"\nbcc:" not in raw_headers and b"\nx-evil:" not in raw_headers


def _draft_context(ready: bool, missing: int) -> dict:
    return {"school": {"name": "Cedar Grove Elementary", "id": "0107", "designation": "Comprehensive"},
            "planning_year": "2026-27", "review": {"due": "December 7, 2026", "title": ""}, "to": ["A"],
            "built": "November 23, 2026", "ready": ready, "warnings": 0, "errors": missing, "missing": missing,
            "findings": [], "attachments": [], "zipped": False, "sender": "S", "district": {"name": "D"}}


@pytest.mark.parametrize("shipped", [SAMPLE / "email.toml", Path(__file__).parents[2] / "templates" / "email.toml"])
def test_a_packet_not_ready_is_mailed_as_a_draft_saying_how_much_is_missing(tmp_path, shipped):
    (tmp_path / "email.toml").write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    templates = compile_templates(load_email_settings(tmp_path))[None]
    assert render(templates, _draft_context(True, 0))[0] == \
        "Cedar Grove Elementary: 2026-27 improvement plan for review by December 7, 2026"
    assert render(templates, _draft_context(False, 3))[0] == \
        "Cedar Grove Elementary: 2026-27 improvement plan draft: 3 items missing, comments by December 7, 2026"
    assert "draft: 1 item missing," in render(templates, _draft_context(False, 1))[0]


def test_an_older_email_toml_still_marks_a_draft(tmp_path):
    """An email.toml written before drafts were told apart: its one subject gets the draft's words."""
    text = (SAMPLE / "email.toml").read_text(encoding="utf-8")
    text = re.sub(r'^subject = .*$', 'subject = "{{ school.name }}: {{ planning_year }} improvement plan for review '
                                     'by {{ review.due }}"', text, count=1, flags=re.M)
    (tmp_path / "email.toml").write_text(text, encoding="utf-8")
    templates = compile_templates(load_email_settings(tmp_path))[None]
    assert render(templates, _draft_context(True, 0))[0] == \
        "Cedar Grove Elementary: 2026-27 improvement plan for review by December 7, 2026"
    assert render(templates, _draft_context(False, 2))[0] == \
        "Cedar Grove Elementary: 2026-27 improvement plan for review by December 7, 2026 (draft: 2 items missing)"


def test_line_breaks_in_a_subject_from_the_data_cannot_add_headers(tmp_path):
    (tmp_path / "email.toml").write_text((SAMPLE / "email.toml").read_text(encoding="utf-8"), encoding="utf-8")
    email = load_email_settings(tmp_path)
    templates = compile_templates(email)[None]
    context = {"school": {"name": "Riverbend High\r\nBcc: spy@evil.example.org\nX-Evil: 1", "id": "0101",
                          "designation": "Comprehensive"},
               "planning_year": "2026-27", "review": {"due": "December 7, 2026", "title": ""}, "to": ["A"],
               "built": "November 23, 2026", "ready": True, "warnings": 0, "errors": 0, "findings": [],
               "attachments": [], "zipped": False, "sender": "S", "district": {"name": "D"}}
    subject, body = render(templates, context)
    to = Recipient("Eve\nBcc: spy@evil.example.org", "Principal", "eve@rcusd117.example.org", "To", "row 2")
    message = build_message(email, (to,), (), subject, body, [], "<1@rcusd117.example.org>",
                            dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc))
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert parsed["Subject"] == ("Riverbend High Bcc: spy@evil.example.org X-Evil: 1: 2026-27 improvement "
                                         "plan for review by December 7, 2026")
    assert [a.addr_spec for a in parsed["To"].addresses] == ["eve@rcusd117.example.org"]


# Names a spreadsheet may hold, and what each must read as in a header: no quote, angle bracket,
# backslash or line break survives, so none can close the display name early and add an address.
HOSTILE_NAMES = {
    "marcus.bell@rcusd117.example.org": (       # 0101's principal (To)
        'Marcus Bell <attacker@evil.example>, "Principal of Riverbend High School, Building 1',
        "Marcus Bell (attacker@evil.example), Principal of Riverbend High School, Building 1"),
    "jennifer.walsh@rcusd117.example.org": (    # 0101's leadership team chair (Cc)
        'Robert "Bob" Smith <Assistant Superintendent>', "Robert Bob Smith (Assistant Superintendent)"),
    "hannah.schultz@rcusd117.example.org": (    # 0101's facilitator (Cc)
        "Schultz, Hannah; Coach\\Facilitator (acting)\r\nBcc: spy@evil.example",
        "Schultz, Hannah; Coach/Facilitator (acting) Bcc: spy@evil.example"),
    "yolanda.pierce@rcusd117.example.org": (    # 0102's principal: a name that looks like an encoded word
        "Yolanda =?utf-8?q?Pierce?= <attacker@evil.example>", "Yolanda =?utf-8?q?Pierce?= (attacker@evil.example)"),
    "maria.pena@rcusd117.example.org": (        # 0103's principal: long, not ASCII, with specials
        'María José Peña, Directora "Escuela" <Primaria> José Martí, Edificio 2, Sala 14',
        "María José Peña, Directora Escuela (Primaria) José Martí, Edificio 2, Sala 14"),
    "cedric.johnson@rcusd117.example.org": (    # 0104's principal
        '"Johnson, Cedric" <cedric.johnson@evil.example>', "Johnson, Cedric (cedric.johnson@evil.example)"),
    "latoya.greene@rcusd117.example.org": (     # 0104's chair: one word too long for a header line
        "Latoya" + "x" * 90, "Latoya" + "x" * 90),
}


def _hostile_district(district: District) -> District:
    def edit(ws):
        for address, (name, _) in HOSTILE_NAMES.items():
            ws.cell(find_row(ws, "Email", address), header_column(ws, "Name")).value = name
    edit_sheet(district.inputs / "roster.xlsx", "People", edit)
    district.build()
    return district


def _school_addresses(inputs: Path, sid: str) -> set[str]:
    return {p["Email"] for p in roster_people(inputs) if p["School ID"] == sid and p["Email"]}


def _decoded_header(raw: bytes, field: str) -> str:
    """The header as a reader sees it (RFC 2047 decoding, with the folding undone)."""
    from email.header import decode_header, make_header
    parsed = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    value = parsed[field] or ""
    return str(make_header(decode_header(value.replace("\r\n", "").replace("\n", ""))))


def _assert_only_the_schools_roster(raw: bytes, sid: str, inputs: Path) -> None:
    """Every To and Cc address of the message is one of the school's roster addresses, and they are
    exactly the ones chosen; every hostile name reads as its safe form; no line is too long."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    own = _school_addresses(inputs, sid)
    to, cc = expected_recipients(inputs, sid)
    for field, expected in (("To", to), ("Cc", cc)):
        got = [a.addr_spec for a in message[field].addresses]
        assert set(got) <= own, (sid, field, got)
        assert sorted(got) == sorted(expected), (sid, field, got)
        shown = _decoded_header(raw, field)
        for address, (_, safe) in HOSTILE_NAMES.items():
            if address in expected:
                assert f"{safe} <{address}>" in shown or f'"{safe}" <{address}>' in shown, shown
    assert message["Bcc"] is None
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n")), head.decode()
    assert [a.addr_spec for a in message["From"].addresses] == ["school-improvement@rcusd117.example.org"]


@pytest.mark.slow
def test_a_name_cannot_add_a_recipient_to_an_outbox_message(district):
    _hostile_district(district)
    result = district.send()
    assert result.exit_code == 0, result.output
    files = sorted((district.output / "outbox").glob("*.eml"))
    assert [f.name[:4] for f in files] == SCHOOLS
    for path in files:
        _assert_only_the_schools_roster(path.read_bytes(), path.name[:4], district.inputs)
    message = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert [a.display_name for a in message["To"].addresses] == [HOSTILE_NAMES["marcus.bell@rcusd117.example.org"][1]]


@pytest.mark.slow
def test_a_name_cannot_add_a_recipient_to_a_sent_message(district, smtp):
    _hostile_district(district)
    server = smtp()
    result = district.send("--smtp")
    assert result.exit_code == 0, result.output
    assert sorted(r.school for r in server.received) == SCHOOLS
    for got in server.received:
        assert set(got.rcpt_tos) <= _school_addresses(district.inputs, got.school)
        _assert_only_the_schools_roster(got.raw, got.school, district.inputs)
    for entry in district.ledger().values():
        for line in entry["messages"][0]["to"] + entry["messages"][0]["cc"]:
            assert line.count("<") == 1 and line.endswith(">")


@pytest.mark.slow
def test_the_listing_names_only_the_schools_roster_addresses(district):
    _hostile_district(district)
    assert district.send().exit_code == 0
    listing = (district.output / "outbox" / "recipients.txt").read_text(encoding="utf-8")
    sid, seen = None, 0
    for line in listing.splitlines():
        if line[:4].isdigit():
            sid = line[:4]
        elif line.startswith(("  To: ", "  Cc: ")):
            addresses = re.findall(r"<([^<>]*)>", line)
            assert len(addresses) == 1 and addresses[0] in _school_addresses(district.inputs, sid), line
            seen += 1
    assert seen > 9
    assert ("  To: Marcus Bell (attacker@evil.example), Principal of Riverbend High School, Building 1 "
            "<marcus.bell@rcusd117.example.org> (Principal;") in listing


@pytest.mark.slow
@pytest.mark.parametrize("smtp_run", [False, True], ids=["outbox", "smtp"])
def test_a_message_whose_recipients_read_back_wrong_is_refused(district, smtp, monkeypatch, smtp_run):
    """Whatever the email package does to a header: were the names not made safe (and the headers
    folded by Python), 0101's message would reach attacker@evil.example; it is refused, the others go."""
    from email.policy import EmailPolicy

    from generator.delivery import compose, recipients
    monkeypatch.setattr(recipients, "display_name", recipients.one_line)
    monkeypatch.setattr(compose, "display_name", recipients.one_line)
    monkeypatch.setattr(compose._Policy, "fold_binary", EmailPolicy.fold_binary)
    monkeypatch.setattr(compose._Policy, "fold", EmailPolicy.fold)
    _hostile_district(district)
    server = smtp()
    result = district.send(*(["--smtp"] if smtp_run else []))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("[1/9] 0101"))
    assert "0101 Riverbend High School: FAILED" in line
    assert "attacker@evil.example" in line and "marcus.bell@rcusd117.example.org" in line
    assert "not sent" in line or "not written" in line
    if smtp_run:
        assert "0101" not in {r.school for r in server.received}
        assert "0101" not in district.ledger()
        for got in server.received:
            _assert_addresses_only(got.message, district.inputs, got.school)
    else:
        assert not list((district.output / "outbox").glob("0101-*.eml"))
        for path in (district.output / "outbox").glob("*.eml"):
            _assert_addresses_only(BytesParser(policy=policy.default).parsebytes(path.read_bytes()),
                                   district.inputs, path.name[:4])


def _assert_addresses_only(message, inputs: Path, sid: str) -> None:
    for field in ("To", "Cc"):
        if message[field] is not None:
            assert {a.addr_spec for a in message[field].addresses} <= _school_addresses(inputs, sid)


def test_the_sender_from_email_toml_is_one_safe_address(district):
    sample_from = 'from = "Riverbend CUSD 117 School Improvement <school-improvement@rcusd117.example.org>"'
    district.email_toml(sample_from, 'from = "School <school-improvement@rcusd117.example.org>, spy@evil.example"')
    result = district.send()
    assert result.exit_code == 2
    assert "[email] from" in result.output and "one address" in result.output
    assert "Traceback" not in result.output

    district.email_toml('from = "School <school-improvement@rcusd117.example.org>, spy@evil.example"',
                        'from = \'"Improvement, School \\\\ \\"Riverbend\\"" '
                        '<school-improvement@rcusd117.example.org>\'')
    result = district.send("--school", "0101")
    assert result.exit_code == 0, result.output
    raw = next((district.output / "outbox").glob("0101-*.eml")).read_bytes()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    (sender,) = message["From"].addresses
    assert sender.addr_spec == "school-improvement@rcusd117.example.org"
    assert sender.display_name == "Improvement, School / Riverbend"


_NAME_CHARACTERS = st.sampled_from(list(' ,;:"<>()[]\\@.=?_-\'\tab\r\nZéñ漢'))


@pytest.mark.slow
@hyp_settings(max_examples=300, deadline=None)
@example(names=[","])                                  # one word that must be quoted
@example(names=["", "", "000000:){¡¡¡¡¡¡¡¡"])         # an encoded word right after "Cc: "
@given(names=st.lists(st.lists(_NAME_CHARACTERS, max_size=100).map("".join) | st.text(max_size=120),
                      min_size=1, max_size=4))
def test_any_name_reads_back_as_its_safe_form_beside_its_own_address(names):
    email = load_email_settings(SAMPLE)
    people = tuple(Recipient(n, "Principal", f"p{i}@rcusd117.example.org", "To", "row 2") for i, n in enumerate(names))
    to, cc = people[:2], people[2:]
    message = build_message(email, to, cc, "S", "b\n", [], "<1@rcusd117.example.org>",
                            dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc))
    raw = checked_bytes(message, email, to, cc)                   # refuses any other address
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert [a.addr_spec for a in parsed["To"].addresses] == [r.address for r in to]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n")), head
    shown = _decoded_header(raw, "To")
    for r in to:
        assert display_name(r.name) in shown
        assert not set('"<>\\\r\n') & set(display_name(r.name))


# --- the outbox ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_without_smtp_eml_files_are_written_and_parse(district):
    result = district.send()
    assert result.exit_code == 0, result.output
    outbox = district.output / "outbox"
    files = sorted(outbox.glob("*.eml"))
    assert [f.name[:4] for f in files] == SCHOOLS
    for path in files:
        message = BytesParser(policy=policy.default).parse(path.open("rb"))
        sid = path.name[:4]
        to, cc = expected_recipients(district.inputs, sid)
        assert {a.addr_spec for a in message["To"].addresses} == to
        assert {a.addr_spec for a in message["Cc"].addresses} == cc
        assert message["X-Unsent"] == "1"                      # Outlook opens it as a draft to send
        head = path.read_bytes().split(b"\r\n\r\n", 1)[0]
        assert all(len(line) <= 78 for line in head.split(b"\r\n"))     # RFC 5322's line length
        assert message["Subject"].startswith(school_names(district.inputs)[sid])
        assert message["Message-ID"].endswith("@rcusd117.example.org>")
        for part in message.iter_attachments():
            assert part.get_payload(decode=True) == (district.folder(sid) / part.get_filename()).read_bytes()
    listing = (outbox / "recipients.txt").read_text(encoding="utf-8")
    assert "To: Marcus Bell <marcus.bell@rcusd117.example.org> (Principal; roster.xlsx, sheet People, row 8)" \
        in listing
    assert not (district.output / LEDGER).exists()            # nothing was sent


def test_dry_run_writes_and_sends_nothing(district, smtp):
    server = smtp()
    before = sorted(p for p in district.output.rglob("*"))
    for args in ((), ("--smtp",)):
        result = district.send("--dry-run", *args)
        assert result.exit_code == 0, result.output
        assert "Dry run: nothing was written or sent." in result.output
        due = review_due_dates(district.inputs)["0101"]
        assert f"Subject: Riverbend High School: 2026-27 improvement plan for review by {due}" in result.output
    assert sorted(p for p in district.output.rglob("*")) == before
    assert server.received == []


@pytest.mark.slow
def test_outbox_leaves_out_schools_already_sent(district, smtp):
    district.send()
    assert (district.output / "outbox" / "0101-riverbend-high-school.eml").exists()
    smtp()
    assert district.send("--smtp", "--school", "0101").exit_code == 0
    result = district.send()
    assert "0101 Riverbend High School: already sent" in result.output
    assert not (district.output / "outbox" / "0101-riverbend-high-school.eml").exists()
    assert (district.output / "outbox" / "0102-prairie-view-middle-school.eml").exists()


# --- attachments ---------------------------------------------------------------------------------

def test_large_packets_go_as_one_zip_of_the_documents(district, smtp):
    district.email_toml("zip_over_mb = 10", "zip_over_mb = 0.05")
    server = smtp()
    assert district.send("--smtp", "--school", "0103").exit_code == 0
    (got,) = server.received
    ((name, data),) = got.attachments()
    assert name == "0103-jose-marti-elementary-school.zip"
    folder = district.folder("0103")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == sorted(district.documents("0103"))
        for member in archive.namelist():
            assert archive.read(member) == (folder / member).read_bytes()


def test_the_combined_pdf_is_attached_alone_when_built(district, smtp):
    folder = district.folder("0105")
    pdf = folder / "0105-packet.pdf"
    pdf.write_bytes(b"%PDF-1.7\n% a stand-in for the combined packet\n%%EOF\n")
    manifest_path = district.output / "build-manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["schools"]["0105"]["documents"].append(f"{folder.name}/0105-packet.pdf")
    manifest_path.write_text(json.dumps(manifest))
    server = smtp()
    assert district.send("--smtp", "--school", "0105", "--school", "0106").exit_code == 0
    by_school = {r.school: r.attachments() for r in server.received}
    assert by_school["0105"] == [("0105-packet.pdf", pdf.read_bytes())]
    assert sorted(n for n, _ in by_school["0106"]) == sorted(district.documents("0106"))   # no PDF: the documents

    district.email_toml('attach = "auto"', 'attach = "pdf"')
    result = district.send("--smtp", "--school", "0104", "--dry-run")
    assert result.exit_code == 1
    assert "packets build --pdf" in result.output


# --- settings and the server -------------------------------------------------------------------

def test_settings_mistakes_stop_before_anything_is_sent(district, smtp):
    server = smtp()
    district.email_toml('to = ["Principal"]', 'to = ["Principle"]')
    result = district.send("--smtp")
    assert result.exit_code == 2
    assert "[default] to: 'Principle' is not a role" in result.output
    assert "Traceback" not in result.output

    district.email_toml('to = ["Principle"]', 'to = ["Principal"]')
    district.email_toml("# user = ", 'password = "hunter2"\n# user = ')
    result = district.send("--smtp")
    assert result.exit_code == 2
    assert "passwords are never read from a file" in result.output and "hunter2" not in result.output

    district.email_toml('password = "hunter2"\n', "")
    district.email_toml("{{ school.name }}:", "{{ school.nmae }}:")
    result = district.send("--smtp")
    assert result.exit_code == 2
    assert "[default] subject" in result.output and "nmae" in result.output
    assert server.received == []


def test_the_password_comes_from_the_environment_and_is_never_printed(district, smtp, monkeypatch):
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"pa55-w0rd"
        logins.append((auth_data.login, ok))
        return AuthResult(success=ok, handled=ok)       # a failure not handled: the server answers 535

    server = smtp(Recorder(), authenticator=authenticator, auth_require_tls=False)
    monkeypatch.setenv("PACKETS_SMTP_USER", "school-improvement")
    result = district.send("--smtp", "--school", "0101")
    assert result.exit_code == 2
    assert "PACKETS_SMTP_PASSWORD" in result.output

    monkeypatch.setenv("PACKETS_SMTP_PASSWORD", "wrong-pa55")
    result = district.send("--smtp", "--school", "0101")
    assert result.exit_code == 1 and "refused the login" in result.output
    assert "wrong-pa55" not in result.output

    monkeypatch.setenv("PACKETS_SMTP_PASSWORD", "pa55-w0rd")
    result = district.send("--smtp", "--school", "0101")
    assert result.exit_code == 0, result.output
    assert "pa55-w0rd" not in result.output
    assert logins[-1] == (b"school-improvement", True)
    assert len(server.received) == 1
    assert "pa55-w0rd" not in (district.output / LEDGER).read_text()


class SlowReply(Recorder):
    """A server that takes `delay` seconds to answer the end of the first message(s): it has the
    message, and is still working on it (a virus scan, a slow disk)."""

    def __init__(self, delay: float, slow: int = 1):
        super().__init__()
        self.delay, self.slow, self.answered = delay, slow, 0

    async def handle_DATA(self, server, session, envelope):
        self.answered += 1
        if self.answered <= self.slow:
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.slow
def test_a_final_reply_slower_than_the_command_timeout_is_waited_for_and_recorded(district, smtp):
    """The end-of-data wait is RFC 5321's 10 minutes by default, not the 1 s command timeout set here:
    with the short wait, the message was delivered, not recorded, and sent again by the next run."""
    district.email_toml("port = 587", "port = 587\ntimeout = 1")
    server = smtp(SlowReply(delay=2.5))
    result = district.send("--smtp", "--school", "0101", "--school", "0102")
    assert result.exit_code == 0, result.output
    assert "2 sent" in result.output
    assert sorted(district.ledger()) == ["0101", "0102"]
    assert district.send("--smtp", "--school", "0101", "--school", "0102").exit_code == 0
    assert sorted(r.school for r in server.received) == ["0101", "0102"]          # each once


@pytest.mark.slow
def test_a_final_reply_slower_than_the_data_timeout_is_reported_as_perhaps_delivered(district, smtp):
    district.email_toml("port = 587", "port = 587\ntimeout = 1\ndata_timeout = 1.5")
    server = smtp(SlowReply(delay=3))
    result = district.send("--smtp", "--school", "0101", "--school", "0102")
    assert result.exit_code == 1
    line = next(ln for ln in result.output.splitlines() if "0101 Riverbend High School" in ln)
    assert "FAILED" in line and "no reply within 1.5 s" in line
    assert "may or may not have delivered it" in line and "sends it again" in line
    assert "Traceback" not in result.output
    assert sorted(district.ledger()) == ["0102"]                  # the next message still went, and is recorded
    assert "0102" in {r.school for r in server.received}


@pytest.mark.parametrize("old, new, where", [
    ("zip_over_mb = 10", "zip_over_mb = nan", "[email] zip_over_mb"),
    ("zip_over_mb = 10", "zip_over_mb = inf", "[email] zip_over_mb"),
    ("zip_over_mb = 10", "zip_over_mb = -1", "[email] zip_over_mb"),
    ("zip_over_mb = 10", "zip_over_mb = 1e300", "[email] zip_over_mb"),
    ("review_days = 14", "review_days = nan", "[email] review_days"),
    ("review_days = 14", "review_days = inf", "[email] review_days"),
    ("review_days = 14", "review_days = -3", "[email] review_days"),
    ("review_days = 14", "review_days = 1e12", "[email] review_days"),
    ("review_days = 14", "review_days = 2.5", "[email] review_days"),
    ("port = 587", "port = nan", "[smtp] port"),
    ("port = 587", "port = inf", "[smtp] port"),
    ("port = 587", "port = 70000", "[smtp] port"),
    ("port = 587", "port = 0", "[smtp] port"),
    ("port = 587", "port = 587.5", "[smtp] port"),
    ("port = 587", "port = 587\ntimeout = nan", "[smtp] timeout"),
    ("port = 587", "port = 587\ntimeout = inf", "[smtp] timeout"),
    ("port = 587", "port = 587\ntimeout = -1", "[smtp] timeout"),
    ("port = 587", "port = 587\ndata_timeout = nan", "[smtp] data_timeout"),
    ("port = 587", "port = 587\ndata_timeout = inf", "[smtp] data_timeout"),
    ("port = 587", "port = 587\ndata_timeout = 0", "[smtp] data_timeout"),
])
def test_a_number_in_email_toml_that_is_not_a_finite_number_in_range_stops_the_run(district, old, new, where):
    district.email_toml(old, new)
    for args in ((), ("--smtp",)):
        result = district.send(*args)
        assert result.exit_code == 2, result.output
        errors = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1 and f"email.toml: {where}:" in errors[0], result.output
        assert "Traceback" not in result.output
    assert not (district.output / "outbox").exists()


def test_no_build_or_unreachable_server_is_reported_plainly(district, tmp_path, monkeypatch):
    result = run_cli("send", "--inputs", str(district.inputs), "--output", str(tmp_path / "empty"))
    assert result.exit_code == 2 and "run `packets build` first" in result.output

    monkeypatch.setenv("PACKETS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PACKETS_SMTP_PORT", str(free_port()))           # nothing listens there
    result = district.send("--smtp")
    assert result.exit_code == 1
    assert "Cannot connect to the SMTP server 127.0.0.1" in result.output
    assert "9 not sent" in result.output
    assert not (district.output / LEDGER).exists() or district.ledger() == {}


def test_one_run_at_a_time(tmp_path):
    import subprocess
    import sys
    other_run = [sys.executable, "-c", "import sys; from generator.delivery.ledger import SendLock\n"
                 "with SendLock(sys.argv[1]): pass", str(tmp_path)]
    with SendLock(tmp_path):
        refused = subprocess.run(other_run, capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and "Another `packets send` is running" in refused.stderr
        with SendLock(tmp_path):            # this run's own nested hold (send's planning, then sending)
            pass
        assert subprocess.run(other_run, capture_output=True, timeout=60).returncode != 0   # still held
    assert subprocess.run(other_run, capture_output=True, timeout=60).returncode == 0      # released


@pytest.mark.slow
def test_a_send_holds_the_folder_from_planning_to_the_last_message(district, monkeypatch):
    """A build that finished between send's planning and its sending would change the packets under
    the plan: the folder is held from the start, so such a build is refused."""
    import subprocess
    import sys

    from generator.delivery import send as delivery
    planned = delivery.plan
    refused = []

    def plan_then_try_a_build(*args, **kwargs):
        deliveries = planned(*args, **kwargs)
        build = subprocess.run([sys.executable, "-m", "generator.cli", "build", "--inputs", str(district.inputs),
                                "--output", str(district.output), "--force", "--jobs", "1"],
                               capture_output=True, text=True, timeout=120)
        refused.append((build.returncode, build.stderr))
        return deliveries

    monkeypatch.setattr(delivery, "plan", plan_then_try_a_build)
    result = district.send()
    assert result.exit_code == 0, result.output
    (code, stderr), = refused
    assert code == 1 and "Another `packets send` is running" in stderr and "Traceback" not in stderr, stderr
    assert len(list((district.output / "outbox").glob("*.eml"))) == 9


def test_an_unreadable_ledger_stops_rather_than_sending_twice(tmp_path):
    (tmp_path / LEDGER).write_text("{not json")
    with pytest.raises(PacketsError, match="nothing is sent without it"):
        Ledger.load(tmp_path)


def test_a_symlinked_outbox_is_refused_not_followed_outside_output(district, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outbox = district.output / "outbox"
    outbox.symlink_to(elsewhere, target_is_directory=True)
    result = district.send()
    assert result.exit_code == 2
    errors = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and f"{outbox} is a symbolic link" in errors[0], result.output
    assert list(elsewhere.iterdir()) == []

    outbox.unlink()
    outbox.mkdir()
    (outbox / "recipients.txt").symlink_to(elsewhere / "listing.txt")
    result = district.send()
    assert result.exit_code == 2 and f"{outbox / 'recipients.txt'} is a symbolic link" in result.output
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_eml_is_refused_for_its_school_and_the_others_are_written(district, tmp_path):
    target = tmp_path / "elsewhere.eml"
    target.write_bytes(b"keep me")
    outbox = district.output / "outbox"
    outbox.mkdir()
    link = outbox / "0101-riverbend-high-school.eml"
    link.symlink_to(target)
    result = district.send()
    assert result.exit_code == 1
    line = next(ln for ln in result.output.splitlines() if "0101 Riverbend High School" in ln)
    assert "FAILED" in line and f"{link} is a symbolic link" in line
    assert target.read_bytes() == b"keep me" and link.is_symlink()
    assert len(list(outbox.glob("*.eml"))) == 9                     # the link, and the other eight written
    assert "Traceback" not in result.output


@pytest.mark.parametrize("text", [
    "[]", "null", '"schools"', '{"version": 1}', '{"schools": 5}', '{"schools": {"0101": "x"}}',
    '{"schools": {"0101": {"version": 5, "messages": []}}}',
    '{"schools": {"0101": {"version": "v", "messages": 5}}}',
    '{"schools": {"0101": {"version": "v", "messages": [5]}}}',
    '{"schools": {"0101": {"version": "v", "messages": [{"delivered": "a@rcusd117.example.org"}]}}}',
    '{"schools": {"0101": {"version": "v", "messages": [{"delivered": [1], "sent_at": ""}]}}}',
    '{"schools": {"0101": {"version": "v", "messages": [{"delivered": [], "sent_at": 3}]}}}',
    '{"schools": {"0101": {"version": "v", "messages": [], "earlier": {}}}}',
])
def test_a_ledger_of_the_wrong_shape_stops_the_run_with_one_line(district, smtp, text):
    server = smtp()
    (district.output / LEDGER).write_text(text, encoding="utf-8")
    for args in ((), ("--smtp",)):
        result = district.send(*args)
        assert result.exit_code == 2, result.output
        errors = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1 and str(district.output / LEDGER) in errors[0], result.output
        assert "is not a send ledger" in errors[0] and "nothing is sent without it" in errors[0]
    assert server.received == [] and not (district.output / "outbox").exists()
    assert (district.output / LEDGER).read_text(encoding="utf-8") == text


def test_review_due_is_the_next_draft_or_feedback_step_else_review_days_after_the_build():
    built_on = dt.date(2026, 11, 23)

    class Packet:
        review = (ReviewEvent("first-draft", "First draft", dt.date(2026, 11, 1)),
                  ReviewEvent("check-in", "Check-in", dt.date(2026, 12, 1)),
                  ReviewEvent("feedback", "Feedback round 1", dt.date(2027, 1, 15), "Siobhan O'Brien"),
                  ReviewEvent("first-draft", "Second draft", dt.date(2027, 2, 1)))

    assert review_due(Packet(), built_on, 14) == (dt.date(2027, 1, 15), "Feedback round 1")
    Packet.review = ()
    assert review_due(Packet(), built_on, 14) == (dt.date(2026, 12, 7), "")


def test_email_tables_go_by_what_a_designation_is_identified_for(tmp_path):
    """[designation.Targeted] is an ATSI school's too; a school not identified has [designation."Not identified"]."""
    shipped = (SAMPLE / "email.toml").read_text(encoding="utf-8")
    (tmp_path / "email.toml").write_text(
        shipped + '\n[designation.targeted]\nto = ["Facilitator"]\n\n[designation."Not identified"]\n'
                  'to = ["Leadership Team Chair"]\n', encoding="utf-8")
    email = load_email_settings(tmp_path)
    from factories import school
    atsi = school("0103", designation="Additional Targeted", identification="Targeted")
    commendable = school("0104", designation="Commendable")
    assert email.rules_for(atsi.identification).to == ("Facilitator",)
    assert email.rules_for(commendable.identification).to == ("Leadership Team Chair",)
    assert email.rules_for("Comprehensive") == email.default
    (tmp_path / "email.toml").write_text(shipped + '\n[designation.Commendable]\nto = ["Principal"]\n',
                                         encoding="utf-8")
    with pytest.raises(PacketsError, match=r"'Commendable' is not what a designation is identified for.*Not ident"):
        load_email_settings(tmp_path)
