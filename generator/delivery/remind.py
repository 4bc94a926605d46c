"""Remind: email each person responsible for a task or activity that is approaching or overdue
(`packets remind`), one message a person listing their items across every school they serve.

- The items: each timeline task (repeating rows as their dated occurrences) that is open (no
  Completion Date) and overdue, or due within [remind] within_days of the as-of day; and each
  activity whose Start Date or End Date falls within those days. An activity has no completion
  column, so it is never overdue: once its End Date has passed it counts as finished.
- The people: those a task's Responsibility or an activity's Person Responsible names (a role, a team,
  a name or a title, as the calendars resolve them: render.calendars.responsible_parties) among that
  school's own roster rows and the district-wide ones. Nobody on another school's roster is ever
  chosen; a name no one on the school's roster has is reported once, with every school and item it
  leaves out. People are told apart by their email address.
- Once each: output/remind-ledger.jsonl records, per item and due date, whom the server accepted its
  approaching and its overdue reminder for; a changed due date is a new item. The outbox and a dry
  run record nothing, as with `packets send`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import jinja2

from generator.delivery.compose import (
    MisaddressedMessage,
    Templates,
    build_message,
    checked_bytes,
    new_message_id,
    render,
    template_env,
)
from generator.delivery.ledger import now
from generator.delivery.recipients import TO, Recipient, check_address, display_name, one_line
from generator.delivery.send import DryRun, Mailer, Outbox, Smtp, send_in_turn
from generator.delivery.settings import EmailSettings
from generator.delivery.transport import (
    LinkedPath,
    NotDelivered,
    ServerUnavailable,
    SmtpSender,
    refuse_link,
    write_eml,
)
from generator.findings import ERROR, WARNING, Finding, PacketsError, quote
from generator.model.records import Activity, District, Packet, Person, Source, Task
from generator.model.rollup import task_title
from generator.model.status import APPROACHING, OVERDUE, deadline_state, is_approaching
from generator.output import atomic, naming
from generator.output.lock import OutputLock
from generator.render.calendars import responsible_parties
from generator.render.context import long_date
from generator.render.template_data import Templates as TemplateFiles

LEDGER = "remind-ledger.jsonl"
OUTBOX = Path("outbox") / "reminders"
LISTING = "reminders.txt"
VERSION = 1
STATES = {OVERDUE: "overdue", APPROACHING: "approaching"}

# What became of a person in a run.
WRITTEN, SENT, ALREADY = "written to outbox", "sent", "already reminded"
HELD, FAILED, NOT_SENT = "HELD", "FAILED", "not sent"
WOULD_WRITE, WOULD_SEND = "would be written to outbox", "would be sent"
PROBLEMS = (HELD, FAILED, NOT_SENT)


@dataclass(frozen=True)
class Item:
    """One dated thing someone is reminded of: a task occurrence, or an activity's start or end."""

    key: str                  # the ledger's name for it: its school, what it is and its date
    school_id: str            # "" for a district-wide task reminded to district-wide staff (all schools at once)
    school_name: str
    kind: str                 # task | activity
    title: str
    due: dt.date
    state: str                # "overdue" | "approaching"
    verb: str                 # "due", "starts", "ends"
    responsibility: str = ""
    where: str = ""           # its row, for the listing

    def context(self, as_of: dt.date) -> dict:
        days = (self.due - as_of).days
        if self.state == "overdue":
            when = f"was due {long_date(self.due)}, {-days} day{'' if days == -1 else 's'} ago"
        else:
            ahead = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
            when = f"{self.verb} {long_date(self.due)}, {ahead}"
        return {"school": {"id": self.school_id, "name": self.school_name}, "kind": self.kind, "title": self.title,
                "responsibility": self.responsibility, "state": self.state, "due": long_date(self.due),
                "date": self.due.isoformat(), "days": days, "when": when}


@dataclass(frozen=True)
class Reminder:
    """One person's reminder: who, and every item of theirs due now; what is still to go."""

    person: Recipient
    items: tuple[Item, ...]
    rows: tuple[str, ...] = ()                 # the roster rows the person is on
    delivered: frozenset[tuple[str, str]] = frozenset()       # (item key, state) already reminded
    subject: str = ""
    body: str = ""
    problems: tuple[Finding, ...] = ()

    @property
    def pending(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if (i.key, i.state) not in self.delivered)

    @property
    def held(self) -> bool:
        return any(f.severity == ERROR for f in self.problems)

    @property
    def name(self) -> str:
        """The outbox file's name."""
        return naming.safe_name(f"{self.person.name} ({self.person.address})", "reminder")


@dataclass(frozen=True)
class Outcome:
    reminder: Reminder
    status: str
    detail: str = ""
    path: Path | None = None
    message_id: str = ""

    @property
    def problem(self) -> bool:
        return self.status in PROBLEMS


@dataclass(frozen=True)
class Plan:
    reminders: tuple[Reminder, ...]
    notices: tuple[Finding, ...]          # names no one on a school's roster has, people without an address


# --- the ledger --------------------------------------------------------------------------------

@dataclass
class RemindLedger:
    """output/remind-ledger.jsonl: a journal, a line per message the server accepted (when, its
    Message-ID, to whom, and each item with its school, title, due date and state), after a first line
    naming the file. A line is appended and put on disk the moment the server accepts a message, so
    recording one costs the same however long the journal grows (rewriting it whole after every
    message, as send's ledger is, took minutes a run for a statewide district's tens of thousands of
    items). A run that dies mid-write leaves at most a torn last line: it is read as not sent (that
    message goes again, once), and cut off before the next line is appended."""

    path: Path
    sent: dict[tuple[str, str], set[str]] = field(default_factory=dict)    # (item key, state) -> addresses
    _good: int = 0                 # bytes up to the end of the last whole line

    @classmethod
    def load(cls, output: Path) -> "RemindLedger":
        """Return the output folder's ledger; none yet is an empty one. An unreadable ledger stops the
        run: treating it as empty would send every reminder again."""
        path = Path(output) / LEDGER
        if path.is_symlink():              # refused before anything is sent, not after the first message
            raise LinkedPath(f"{path} is a symbolic link (to {os.readlink(path)}), so the reminders' ledger is "
                             f"not written through it. Fix: remove the link; `packets remind` makes the file.")
        ledger = cls(path)
        if not path.exists():
            return ledger
        fix = ("It records which reminders went, so none is sent without it. Fix: restore it from a backup, "
               "or move it away to send every reminder due again.")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PacketsError(f"{path} cannot be read ({exc}). {fix}") from None
        whole = data[:data.rfind(b"\n") + 1]        # a torn last line is a message not recorded
        if not whole and not (json.dumps(HEADER) + "\n").encode().startswith(data):
            raise PacketsError(f"{path} is not a reminder ledger: its first line does not name it. {fix}")
        lines = whole.decode("utf-8", "replace").splitlines()
        for number, line in enumerate(lines, 1):
            problem = _line_problem(line, number)
            if problem:
                raise PacketsError(f"{path} is not a reminder ledger: {problem}. {fix}")
            if number > 1:
                message = json.loads(line)
                for item in message["items"]:
                    ledger.sent.setdefault((item["key"], item["state"]), set()).add(message["to"].lower())
        ledger._good = len(whole)
        return ledger

    def delivered(self, key: str, state: str) -> set[str]:
        """Return the addresses (lower case) this item's reminder in this state reached."""
        return self.sent.get((key, state), set())

    def record(self, items: tuple[Item, ...], address: str, message_id: str, server: str = "") -> None:
        """Append one accepted message, with its items, and put it on disk before returning."""
        message = {"sent_at": now().isoformat(), "message_id": message_id, "server": server, "to": address,
                   "items": [{"key": i.key, "state": i.state, "school": i.school_id, "title": i.title,
                              "due": i.due.isoformat()} for i in items]}
        head = json.dumps(HEADER) + "\n" if self._good == 0 else ""
        line = (head + json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")
        # O_NOFOLLOW: the journal is written where it lies, never through a link to elsewhere.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), atomic.FILE_MODE)
        try:
            os.ftruncate(fd, self._good)             # a torn line left by a killed run goes first
            os.lseek(fd, self._good, os.SEEK_SET)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._good += len(line)
        for item in items:
            self.sent.setdefault((item.key, item.state), set()).add(address.lower())


HEADER = {"ledger": "packets remind", "version": VERSION}


def _line_problem(line: str, number: int) -> str:
    """Return what is wrong with one line of the journal, or ''."""
    try:
        data = json.loads(line)
    except ValueError:
        return f"line {number} is not JSON"
    if number == 1:
        return "" if isinstance(data, dict) and data.get("ledger") == HEADER["ledger"] else \
            "its first line does not name it"
    if not isinstance(data, dict) or not isinstance(data.get("to"), str) or not isinstance(data.get("items"), list):
        return f"line {number} is not a message with \"to\" and \"items\""
    if not all(isinstance(i, dict) and isinstance(i.get("key"), str) and isinstance(i.get("state"), str)
               for i in data["items"]):
        return f"line {number}: an item has no \"key\" or \"state\""
    return ""


class RemindLock(OutputLock):
    """The output folder's lock while reminders are written or sent (see output/lock.py)."""

    def __init__(self, output: Path):
        super().__init__(output, "remind")


# --- planning ----------------------------------------------------------------------------------

def _key(*parts: str) -> str:
    text = "\x1f".join(" ".join(str(p).split()).casefold() for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _row(source: Source | None) -> str:
    return Finding("", "", **source.at()).location() if source else ""


@dataclass(frozen=True)
class _Due:
    """An item of one school, before it is known whose it is."""

    item: Item
    named: str                # the Responsibility or Person Responsible, as written
    district_wide: bool       # a district-wide timeline row (the same at every school)
    source: Source | None
    column: str
    district_key: str = ""    # the ledger's name for a district-wide task as one item for district-wide staff


def _school_items(packet: Packet, as_of: dt.date, within: int) -> list[_Due]:
    """Return the school's tasks and activities due a reminder as of the day."""
    sid, name = packet.school.school_id, packet.school.name
    found = []
    for task in packet.tasks:
        state = deadline_state(task, as_of, within)
        if state and task.expected is not None:
            found.append(_task_item(task, sid, name, STATES[state]))
    for strategy in packet.plan.strategies:
        for activity in strategy.activities:
            for verb, date in (("starts", activity.start), ("ends", activity.end)):
                if is_approaching(date, as_of, within) and date is not None:
                    found.append(_activity_item(activity, sid, name, verb, date))
    return found


def _task_item(task: Task, sid: str, name: str, state: str) -> _Due:
    assert task.expected is not None
    item = Item(_key(sid, "task", task.stage, task.task, task.detail, task.expected.isoformat()), sid, name,
                "task", task_title(task), task.expected, state, "due", task.responsibility, _row(task.source))
    return _Due(item, task.responsibility, task.school_id is None, task.source, "responsibility",
                _key("", "task", task.stage, task.task, task.detail, task.expected.isoformat()))


def _activity_item(activity: Activity, sid: str, name: str, verb: str, date: dt.date) -> _Due:
    item = Item(_key(sid, "activity", activity.strategy_id, activity.activity, verb, date.isoformat()), sid, name,
                "activity", f"{activity.activity} (strategy {activity.strategy_id})",
                date, "approaching", verb, activity.owner, _row(activity.source))
    return _Due(item, activity.owner, False, activity.source, "owner")


def _district_wide(due: _Due, district_name: str) -> Item:
    """Return a district-wide task as one item for district-wide staff: the same row at every school is
    one thing to do, not one line per school."""
    i = due.item
    return dataclasses.replace(i, key=due.district_key, school_id="",
                               school_name=f"{district_name} (every school)")


class _People:
    """Who is reminded of what, gathered school by school, and what could not be."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Item]] = {}          # address -> item key -> item
        self.recipient: dict[str, Recipient] = {}
        self.rows: dict[str, list[str]] = {}
        self.unnamed: dict[str, tuple[str, list[tuple[str, _Due]]]] = {}  # a party -> as written, (school, item)
        self.problems: dict[str, Finding] = {}               # by roster row
        self.held: dict[str, list[Finding]] = {}             # address -> errors
        self.bad_rows: set[str] = set()

    def add(self, packet: Packet, due: _Due, district_name: str, templates: TemplateFiles) -> None:
        named = due.named.strip()
        parties = responsible_parties(packet, named, templates) if named else (("", ()),)
        for part, people in parties:
            if not people:
                written = " ".join(part.split())
                self.unnamed.setdefault(written.casefold(), (written, []))[1].append((packet.school.school_id, due))
            for person in people:
                item = (_district_wide(due, district_name) if due.district_wide and person.school_id is None
                        else due.item)
                self._take(person, item)

    def _take(self, person: Person, item: Item) -> None:
        row = _row(person.source)
        where = person.source.at("email") if person.source else {}
        if not person.email.strip():
            self.problems.setdefault(row or person.name, Finding(
                WARNING, f"{one_line(person.name)} ({person.role}) has no email address, so is not reminded of "
                         f"'{quote(item.title)}' or any other item of theirs.", **where,
                school_id=person.school_id or "", fix="Add their address in the Email column."))
            return
        address, why = check_address(person.email)
        if not address:                     # held back: their reminder lists the row to fix
            address = person.email.strip()
            if (row or person.name) not in self.bad_rows:
                self.bad_rows.add(row or person.name)
                self.held.setdefault(address.lower(), []).append(Finding(
                    ERROR, f"{one_line(person.name)} ({person.role}): '{person.email}' is not a valid email "
                           f"address ({why}); they are not reminded until it is fixed.", **where,
                    value=person.email, school_id=person.school_id or "",
                    fix="Correct the address in the Email column."))
        key = address.lower()
        self.recipient.setdefault(key, Recipient(display_name(person.name), person.role, address, TO, row))
        if row and row not in self.rows.setdefault(key, []):
            self.rows[key].append(row)
        self.items.setdefault(key, {}).setdefault(item.key, item)

    def notices(self, names: dict[str, str]) -> list[Finding]:
        """Return each party no one on a school's roster answers to, once, with the schools and items."""
        found = []
        for part, due_list in self.unnamed.values():
            school_ids = list(dict.fromkeys(sid for sid, _ in due_list))
            first_sid, first = due_list[0]
            shown = ", ".join(f"{sid} {names.get(sid, '')}".strip() for sid in school_ids[:5])
            more = f" and {len(school_ids) - 5} more" if len(school_ids) > 5 else ""
            items = len({d.item.key for _, d in due_list})
            written = first.named.strip()
            what = (f"'{quote(part)}' names no one on the roster" if part else "No one is named responsible")
            found.append(Finding(
                WARNING, f"{what} of {shown}{more}, so {items} item{'' if items == 1 else 's'} due "
                         f"(e.g. '{quote(first.item.title)}') {'is' if items == 1 else 'are'} reminded to no one "
                         f"for {'that school' if len(school_ids) == 1 else 'those schools'}.",
                **(first.source.at(first.column) if first.source else {}), value=written,
                school_id=first_sid if len(school_ids) == 1 else "",
                fix="Name the person, role or team as on the People sheet of roster.xlsx (that school's rows or "
                    "a district-wide row), or add them there."))
        return found + list(self.problems.values())


def compile_reminder(email: EmailSettings) -> Templates:
    """Return [remind]'s templates, each tried on an example so a misspelt field stops the run first."""
    env = template_env()
    where = f"{email.path} [remind]"
    parts = {}
    for key in ("subject", "body"):
        try:
            parts[key] = env.from_string(getattr(email.remind, key))
        except jinja2.TemplateSyntaxError as exc:
            raise PacketsError(f"{where} {key}: template error on line {exc.lineno}: {exc.message}.") from None
    templates = Templates(parts["subject"], parts["body"], where, fields="Reminders")
    day = dt.date(2026, 1, 1)
    examples = (Item("a", "0000", "Example School", "task", "Example", day, "overdue", "due"),
                Item("b", "0000", "Example School", "activity", "Example", day, "approaching", "ends"))
    person = Recipient("Example Person", "Principal", "example@example.org", TO, "")
    render(templates, message_context(person, examples, day, "Example District", "2026-27", email))
    return templates


def message_context(person: Recipient, items: tuple[Item, ...], as_of: dt.date, district: str, year: str,
                    email: EmailSettings) -> dict:
    """Return what [remind]'s subject and body may use (listed in README, "Reminders")."""
    shown = [i.context(as_of) for i in items]
    return {
        "person": {"name": person.name, "role": person.role, "address": person.address},
        "district": {"name": district},
        "planning_year": year,
        "as_of": long_date(as_of),
        "within_days": email.remind.within_days,
        "items": shown,
        "overdue": [i for i in shown if i["state"] == "overdue"],
        "approaching": [i for i in shown if i["state"] == "approaching"],
        "schools": list(dict.fromkeys(i["school"]["name"] for i in shown)),
        "sender": email.sender.display_name or email.sender.addr_spec,
    }


def plan(district: District, email: EmailSettings, ledger: RemindLedger, as_of: dt.date, templates: TemplateFiles,
         blocked: dict[str, list[Finding]] | None = None) -> Plan:
    """Return each person's reminder (in name order), with what is still to go, and the notices. `templates`
    are the district's (responsibility_names.csv says which roles a team's name means)."""
    message = compile_reminder(email)
    within = email.remind.within_days
    people = _People()
    for packet in district.packets:
        for due in _school_items(packet, as_of, within):
            people.add(packet, due, district.name, templates)
    names = {s.school_id: s.name for s in district.schools}
    notices = people.notices(names)
    for sid, found in (blocked or {}).items():
        school = f"{sid} {names[sid]}" if names.get(sid) else sid
        first = f" (the first: {found[0].location()}: {found[0].message})" if found else ""
        notices.append(Finding(ERROR, f"{school}: its own rows have {len(found)} input error(s), so its items are "
                                      f"not reminded{first}.", school_id=sid,
                               fix="Run `packets validate` and fix them."))
    reminders = []
    for key, by_key in people.items.items():
        person = people.recipient[key]
        items = tuple(sorted(by_key.values(), key=lambda i: (i.state != "overdue", i.due, i.school_id, i.title)))
        delivered = frozenset((i.key, i.state) for i in items if key in ledger.delivered(i.key, i.state))
        reminder = Reminder(person, items, tuple(people.rows.get(key, ())), delivered,
                            problems=tuple(people.held.get(key, ())))
        if reminder.pending and not reminder.held:
            context = message_context(person, reminder.pending, as_of, district.name,
                                      district.planning_year.label, email)
            subject, body = render(message, context)
            reminder = dataclasses.replace(reminder, subject=subject, body=body)
        reminders.append(reminder)
    reminders.sort(key=lambda r: (r.person.name.casefold(), r.person.key))
    return Plan(tuple(reminders), tuple(notices))


# --- listing -----------------------------------------------------------------------------------

def listing(reminders: tuple[Reminder, ...] | list[Reminder]) -> list[str]:
    """Return who is reminded of what, person by person."""
    lines = []
    for r in reminders:
        lines.append(f"{r.person.name} <{r.person.address}> ({'; '.join(r.rows) or r.person.where})")
        if r.subject:
            lines.append(f"  Subject: {r.subject}")
        for i in r.items:
            done = " - already reminded" if (i.key, i.state) in r.delivered else ""
            lines.append(f"  {i.state}: {i.school_id + ' ' if i.school_id else ''}{i.school_name}: {i.title}, "
                         f"{i.verb} {i.due.isoformat()}{done}")
        for f in r.problems:
            lines.append(f"  {f.line()}")
        lines.append("")
    return lines


# --- delivering --------------------------------------------------------------------------------

def _before_sending(r: Reminder) -> Outcome | None:
    if r.held:
        return Outcome(r, HELD, "; ".join(f.line() for f in r.problems if f.severity == ERROR))
    if not r.pending:
        return Outcome(r, ALREADY)
    return None


def _message(r: Reminder, email: EmailSettings, unsent: bool) -> tuple[bytes, str]:
    """Return the person's message, read back to be addressed to them alone, and its Message-ID."""
    message_id = new_message_id("remind", email.sender.domain)
    message = build_message(email, (r.person,), (), r.subject, r.body, [], message_id, now(), unsent)
    return checked_bytes(message, email, (r.person,), ()), message_id


def _misaddressed(r: Reminder, exc: MisaddressedMessage, what: str) -> Outcome:
    return Outcome(r, FAILED, f"{what}: {exc}. Fix: simplify this person's name on the People sheet of roster.xlsx")


def deliver(mailer: Mailer, plan_: Plan, output: Path, email: EmailSettings,
            progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Write, send or (a dry run) only list each person's reminder, as the mailer of `packets send` does."""
    if isinstance(mailer, DryRun):
        return _dry_run(plan_.reminders, mailer.smtp, progress)
    if isinstance(mailer, Smtp):
        return send_smtp(plan_.reminders, output, email, mailer.sender(), progress)
    if isinstance(mailer, Outbox):
        return write_outbox(plan_.reminders, output, email, progress)
    raise PacketsError(f"reminders cannot go through {type(mailer).__name__}")


def _dry_run(reminders, smtp: bool, progress) -> list[Outcome]:
    outcomes = []
    for r in reminders:
        outcome = _before_sending(r) or Outcome(r, WOULD_SEND if smtp else WOULD_WRITE)
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    return outcomes


def write_outbox(reminders, output: Path, email: EmailSettings,
                 progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Write one .eml per person with a reminder still to go into output/outbox/reminders/, and the
    listing beside them; an older message for anyone else is removed, so a stale one is not sent."""
    with RemindLock(output):
        folder = Path(output) / OUTBOX
        refuse_link(folder.parent)
        refuse_link(folder)
        refuse_link(folder / LISTING)
        outcomes = []
        written: set[str] = set()
        for r in reminders:
            outcome = _before_sending(r)
            if outcome is None:
                try:
                    data, message_id = _message(r, email, unsent=True)
                    path = write_eml(folder, r.name, data)
                    written.add(path.name)
                    outcome = Outcome(r, WRITTEN, str(path), path, message_id)
                except MisaddressedMessage as exc:
                    outcome = _misaddressed(r, exc, "not written")
                except LinkedPath as exc:
                    outcome = Outcome(r, FAILED, str(exc))
                except OSError as exc:
                    outcome = Outcome(r, FAILED, f"could not write the message ({exc})")
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.eml"):
            if old.name not in written:
                old.unlink(missing_ok=True)
        atomic.write_atomic(folder / LISTING, "\n".join(listing(reminders)).encode("utf-8"))
        return outcomes


def send_smtp(reminders, output: Path, email: EmailSettings, sender: SmtpSender,
              progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Send each person's reminder, recording it in the ledger the moment the server accepts it. A server
    that cannot be reached stops the run; the rest wait for the next run."""
    with RemindLock(output):
        ledger = RemindLedger.load(output)          # again, under the lock

        def as_recorded(r: Reminder) -> Reminder:
            return dataclasses.replace(r, delivered=frozenset(
                (i.key, i.state) for i in r.items if r.person.key in ledger.delivered(i.key, i.state)))
        with sender:
            return send_in_turn((as_recorded(r) for r in reminders), _before_sending,
                                lambda r: _send_one(r, email, sender, ledger),
                                lambda r, why: Outcome(r, NOT_SENT, why), progress)


def _send_one(r: Reminder, email: EmailSettings, sender: SmtpSender, ledger: RemindLedger) -> Outcome:
    try:
        data, message_id = _message(r, email, unsent=False)
    except MisaddressedMessage as exc:
        return _misaddressed(r, exc, "not sent")
    try:
        accepted = sender.send(email.sender.addr_spec, [r.person.address], data)
    except ServerUnavailable as exc:
        return Outcome(r, NOT_SENT, str(exc))
    except NotDelivered as exc:
        return Outcome(r, FAILED, str(exc))
    if not accepted.delivered:
        why = "; ".join(accepted.refused.values())
        return Outcome(r, FAILED, f"{r.person.address} was refused: {why}")
    try:
        ledger.record(r.pending, r.person.address, message_id, sender.config.where)
    except OSError as exc:
        raise PacketsError(f"The reminder to {r.person.name} <{r.person.address}> was delivered ({message_id}), "
                           f"but {ledger.path} could not be written ({exc}). Stopped, so nothing more goes "
                           f"unrecorded. Fix the disk space or permissions; the next run sends it once more.") \
            from None
    return Outcome(r, SENT, f"{len(r.pending)} item(s), {message_id}", message_id=message_id)


# --- reporting ---------------------------------------------------------------------------------

def outcome_lines(outcome: Outcome, number: int, total: int) -> list[str]:
    r = outcome.reminder
    items = len(r.pending)
    head = f"[{number}/{total}] {r.person.name} <{r.person.address}>: {outcome.status}"
    if outcome.status not in (ALREADY, HELD):
        head += f", {items} item{'' if items == 1 else 's'}"
    detail = "" if outcome.status == HELD else outcome.detail
    lines = [head + (f" ({detail})" if detail else "")]
    if outcome.status == HELD:
        lines += [f"  {f.line()}" for f in r.problems]
    return lines


def notes(mailer: Mailer, plan_: Plan, output: Path) -> list[str]:
    if isinstance(mailer, DryRun):
        return listing(plan_.reminders) + ["Dry run: nothing was written or sent."]
    if isinstance(mailer, Smtp):
        return [f"Ledger of the reminders sent: {Path(output) / LEDGER}"]
    return [f"Outbox: {Path(output) / OUTBOX} (who is reminded of what: {LISTING}). Open an .eml file to send "
            f"it, or run with --smtp (which sends each reminder once)."]


def summary_line(outcomes: list[Outcome], as_of: dt.date | None = None) -> str:
    """Return one line counting what became of the people, e.g. `5 person(s) with items due as of ...: 5 sent`."""
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    day = f" as of {long_date(as_of)}" if as_of else ""
    return f"{len(outcomes)} person(s) with items due{day}: " + (
        ", ".join(f"{n} {status}" for status, n in counts.items()) or "none")
