"""Send: email each school's finished packet to its reviewers (`packets send`).

Everything is planned and checked before the first message goes: the build manifest says which
documents each school has; the roster says who reviews them; email.toml says what the message
says. A school with a problem (no reviewer, a bad address, a packet older than its inputs) is held
back and reported; the others go. Then each message is written to the outbox, or sent over SMTP
and recorded in the ledger the moment the server accepts it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Protocol, TypeVar

from generator.delivery.compose import (
    AttachmentPlan,
    MisaddressedMessage,
    Templates,
    attachment_parts,
    build_message,
    checked_bytes,
    compile_templates,
    new_message_id,
    plan_attachments,
    render,
)
from generator.delivery.ledger import LEDGER, Ledger, SendLock, now
from generator.delivery.recipients import Recipient, school_recipients
from generator.delivery.settings import EmailSettings, SmtpConfig, smtp_config, smtp_password
from generator.delivery.transport import LinkedPath, NotDelivered, ServerUnavailable, SmtpSender, refuse_link, write_eml
from generator.findings import ERROR, WARNING, Finding, PacketsError
from generator.model.readiness import check_packet, is_ready
from generator.model.records import District, Packet
from generator.output import atomic, naming
from generator.output.build_record import Manifest, packet_fingerprint, templates_digest
from generator.render.context import long_date
from generator.render.template_data import Templates as TemplateFiles
from generator.settings import Settings

OUTBOX = "outbox"
LISTING = "recipients.txt"
REVIEW_KINDS = ("first-draft", "feedback")
PDF_FORM = "packet"

class _Settled(Protocol):
    """What send_in_turn reads of an outcome: what became of the item, and why."""

    @property
    def status(self) -> str: ...

    @property
    def detail(self) -> str: ...


T = TypeVar("T")
R = TypeVar("R", bound=_Settled)

# What became of a school in a run.
WRITTEN, SENT, PARTLY_SENT, ALREADY_SENT = "written to outbox", "sent", "partly sent", "already sent"
HELD, FAILED, NOT_SENT, NOT_READY = "HELD", "FAILED", "not sent", "skipped (not ready)"
WOULD_WRITE, WOULD_SEND = "would be written to outbox", "would be sent"
PROBLEMS = (HELD, FAILED, PARTLY_SENT, NOT_SENT)


@dataclass(frozen=True)
class Delivery:
    """One school's review email, planned: who, what, and what is still to send."""

    school_id: str
    school_name: str
    designation: str
    ready: bool
    version: str                               # changes only when what the packet is made of changes
    name: str                                  # the packet folder's name; the outbox file's name
    built_at: str = ""
    to: tuple[Recipient, ...] = ()
    cc: tuple[Recipient, ...] = ()
    subject: str = ""
    body: str = ""
    attachments: AttachmentPlan | None = None
    problems: tuple[Finding, ...] = ()
    delivered: frozenset[str] = frozenset()    # addresses this version of the packet already reached
    sent_at: str = ""

    @property
    def held(self) -> bool:
        return any(f.severity == ERROR for f in self.problems)

    @property
    def pending(self) -> tuple[Recipient, ...]:
        return tuple(r for r in self.to + self.cc if r.key not in self.delivered)

    def headers(self) -> tuple[tuple[Recipient, ...], tuple[Recipient, ...]]:
        """Return (To, Cc) for the next message: only the people it is still to reach."""
        to = tuple(r for r in self.to if r.key not in self.delivered)
        cc = tuple(r for r in self.cc if r.key not in self.delivered)
        return (to, cc) if to else (cc, ())


@dataclass(frozen=True)
class Outcome:
    delivery: Delivery
    status: str
    detail: str = ""
    path: Path | None = None
    message_id: str = ""

    @property
    def problem(self) -> bool:
        return self.status in PROBLEMS


# --- planning ----------------------------------------------------------------------------------

def _problem(packet: Packet, message: str, fix: str = "", severity: str = ERROR) -> Finding:
    return Finding(severity, message, school_id=packet.school.school_id, fix=fix)


# The day a packet's version is computed with: what "overdue" is judged by changes every day, what
# the reviewers are sent to read does not, so a packet rebuilt only because the day changed is the same.
_VERSION_DAY = dt.date(2000, 1, 1)


def packet_version(packet: Packet, settings: Settings, entry: dict, templates: str) -> tuple[Packet | None, str]:
    """Return the packet as it was built (with the as-of day the build recorded) and its version for
    the ledger, which changes only when the school's inputs, the templates or the generator change;
    (None, '') when the documents were built from other inputs than today's."""
    recorded = entry.get("as_of")
    if not recorded:
        return None, ""                       # built before the manifest recorded the day: rebuild
    candidate = dataclasses.replace(packet, as_of=dt.date.fromisoformat(recorded))
    if packet_fingerprint(candidate, settings, templates) != entry.get("fingerprint"):
        return None, ""
    return candidate, packet_fingerprint(dataclasses.replace(packet, as_of=_VERSION_DAY), settings, templates)


def _documents(settings: Settings, packet: Packet, entry: dict) -> tuple[list[Path], list[Finding]]:
    """Return the school's built documents, each checked to be a file inside the school's own folder."""
    folder = naming.packet_folder(settings, packet.school).resolve()
    output = Path(settings.output)
    documents, problems = [], []
    if (output / entry.get("folder", "")).resolve() != folder:
        return [], [_problem(packet, f"The manifest puts this school's packet in '{entry.get('folder')}', not "
                                     f"in {folder.name}.", "Run `packets build` again.")]
    for name in entry.get("documents", ()):
        path = output / name
        if path.resolve().parent != folder:
            problems.append(_problem(packet, f"'{name}' is not in the school's own folder, so it is not sent.",
                                     "Run `packets build` again."))
        elif not path.is_file():
            problems.append(_problem(packet, f"{name} is missing from {output}.", "Run `packets build` again."))
        else:
            documents.append(path)
    if not documents and not problems:
        problems.append(_problem(packet, "The last build recorded no documents for this school.",
                                 "Run `packets build` again."))
    return documents, problems


def review_due(packet: Packet, built_on: dt.date, review_days: int) -> tuple[dt.date, str]:
    """Return when the review is due and what step it is: the first draft or feedback step of the
    school's review schedule on or after the build, else `review_days` after the build."""
    for event in getattr(packet, "review", ()):
        if event.kind in REVIEW_KINDS and event.due >= built_on:
            return event.due, event.title
    return built_on + dt.timedelta(days=review_days), ""


def message_context(packet: Packet, findings: list[Finding], ready: bool, due: tuple[dt.date, str],
                    recipients, attachments: AttachmentPlan | None, built_on: dt.date,
                    email: EmailSettings) -> dict:
    """Return what the subject and body templates may use (listed in README)."""
    school = packet.school
    lines = [f.line() for f in findings if f.severity in (ERROR, WARNING)]
    errors = sum(f.severity == ERROR for f in findings)
    warnings = sum(f.severity == WARNING for f in findings)
    return {
        "school": {"id": school.school_id, "name": school.name, "designation": school.designation,
                   "identification": school.identification, "support_level": school.support_level,
                   "essa_status": school.essa_status, "grades": school.grades, "address": school.address},
        "district": {"name": packet.district_name},
        "planning_year": packet.planning_year.label,
        "ready": ready,
        "findings": lines,
        "errors": errors,
        "warnings": warnings,
        # What keeps a draft from being ready: its errors, or (under --strict) its warnings.
        "missing": 0 if ready else errors or warnings,
        "review": {"due": long_date(due[0]), "date": due[0].isoformat(), "title": due[1]},
        "built": long_date(built_on),
        "attachments": attachments.names if attachments else [],
        "zipped": bool(attachments and attachments.zip_name),
        "to": [r.name for r in recipients.to],
        "cc": [r.name for r in recipients.cc],
        "sender": email.sender.display_name or email.sender.addr_spec,
    }


def require_build(output: Path) -> Manifest:
    """Return the output folder's build manifest; a folder no build has written is a PacketsError."""
    manifest = Manifest.load(output)
    if not manifest.entries:
        raise PacketsError(f"No build found in {output}. Fix: run `packets build` first; "
                           f"`packets send` sends what the last build made.")
    return manifest


def plan(settings: Settings, email: EmailSettings, district: District, strict: bool = False,
         resend: bool = False) -> list[Delivery]:
    """Return every selected school's planned email, in roster order, each with its problems."""
    compiled: dict[str | None, Templates] = compile_templates(email)
    manifest = require_build(settings.output)
    ledger = Ledger.load(settings.output)
    templates = templates_digest(TemplateFiles(settings.templates))
    return [_plan_one(settings, email, compiled, manifest, ledger, templates, packet, strict, resend)
            for packet in district.packets]


def _plan_one(settings, email, compiled, manifest, ledger, templates, packet, strict, resend) -> Delivery:
    school = packet.school
    sid = school.school_id
    name = naming.packet_folder(settings, school).name
    entry = manifest.entry(sid)
    findings = check_packet(packet)
    base = Delivery(sid, school.name, school.designation, is_ready(findings, strict), "", name)
    if not entry:
        return dataclasses.replace(base, problems=(_problem(
            packet, "This school's packet has not been built.", f"Run `packets build --school {sid}`."),))
    if sid in manifest.pending:
        return dataclasses.replace(base, problems=(_problem(
            packet, "The last build of this packet was interrupted, so its documents may be part old and part new.",
            f"Run `packets build --school {sid}` (or the whole build again), then send."),))
    built, version = packet_version(packet, settings, entry, templates)
    if built is None:
        return dataclasses.replace(base, problems=(_problem(
            packet, "The inputs (or templates) have changed since this packet was built, so its documents are "
                    "out of date.", "Run `packets build` (with the same --as-of, if any), then send."),))
    base = dataclasses.replace(base, version=version, built_at=entry["built_at"])
    findings = check_packet(built)          # judged as of the build's day, as its documents were
    ready = is_ready(findings, strict)
    documents, problems = _documents(settings, packet, entry)
    rules = email.rules_for(school.identification)
    recipients = school_recipients(packet, rules)
    problems += recipients.problems
    built_at = dt.datetime.fromisoformat(entry["built_at"])
    attachments = None
    if documents:
        pdf_name = naming.document_name(settings, school, PDF_FORM, ".pdf")
        chosen = plan_attachments(documents, pdf_name, email.attach, email.zip_over_bytes, name + ".zip",
                                  built_at)
        if isinstance(chosen, str):
            problems.append(_problem(packet, chosen))
        else:
            attachments = chosen
    due = review_due(built, built_at.date(), email.review_days)
    context = message_context(built, findings, ready, due, recipients, attachments, built_at.date(), email)
    templates_for = compiled.get(school.identification if school.identification in email.by_designation else None)
    subject, body = render(templates_for, context)
    delivered = frozenset() if resend else frozenset(ledger.delivered(sid, version))
    return dataclasses.replace(base, ready=ready, to=recipients.to, cc=recipients.cc, subject=subject, body=body,
                               attachments=attachments, problems=tuple(problems), delivered=delivered,
                               sent_at=ledger.last_sent(sid) if delivered else "")


# --- listing -----------------------------------------------------------------------------------

def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def listing(deliveries: list[Delivery]) -> list[str]:
    """Return a plain listing of who receives what, school by school."""
    lines = []
    for d in deliveries:
        lines.append(f"{d.school_id} {d.school_name} ({d.designation}), {'ready' if d.ready else 'NOT READY'}")
        for r in d.to + d.cc:
            done = " - already sent" if r.key in d.delivered else ""
            lines.append(f"  {r.field}: {r.name} <{r.address}> ({r.role}; {r.where}){done}")
        if d.subject:
            lines.append(f"  Subject: {d.subject}")
        if d.attachments:
            how = f" (zipped: {', '.join(p.name for p in d.attachments.files)})" if d.attachments.zip_name else ""
            lines.append(f"  Attached: {', '.join(d.attachments.names)}{how}, {_size(d.attachments.size)}")
        for f in d.problems:
            lines.append(f"  {f.line()}")
        lines.append("")
    return lines


# --- running -----------------------------------------------------------------------------------

def _status_before_sending(d: Delivery, only_ready: bool) -> Outcome | None:
    """Return the outcome of a school that is not to be sent at all this run, else None."""
    if only_ready and not d.ready:
        return Outcome(d, NOT_READY)
    if d.held:
        return Outcome(d, HELD, "; ".join(f.line() for f in d.problems if f.severity == ERROR))
    if not d.pending:
        return Outcome(d, ALREADY_SENT, f"on {d.sent_at}" if d.sent_at else "")
    return None


def _message(d: Delivery, email: EmailSettings, parts, unsent: bool) -> tuple[bytes, str]:
    """Return the school's message as it is to be written or sent, and its Message-ID;
    MisaddressedMessage when, read back, it would not reach exactly its own recipients."""
    to, cc = d.headers()
    message_id = new_message_id(d.school_id, email.sender.domain)
    message = build_message(email, to, cc, d.subject, d.body, parts, message_id, now(), unsent)
    return checked_bytes(message, email, to, cc), message_id


def _misaddressed(d: Delivery, exc: MisaddressedMessage, what: str) -> Outcome:
    return Outcome(d, FAILED, f"{what}: {exc}. Fix: simplify these recipients' names on the People sheet "
                              f"of roster.xlsx")


def dry_run(deliveries: list[Delivery], only_ready: bool, smtp: bool) -> list[Outcome]:
    """Return what a run would do; nothing is written, nothing is sent."""
    return [_status_before_sending(d, only_ready) or Outcome(d, WOULD_SEND if smtp else WOULD_WRITE)
            for d in deliveries]


def write_outbox(deliveries: list[Delivery], output: Path, email: EmailSettings, only_ready: bool = False,
                 progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Write one .eml per school still to be sent into output/outbox/, and the listing beside them.
    A school not written this run (already sent, held, not ready) has any older outbox file of its
    removed, so a stale message cannot be sent by hand."""
    with SendLock(output):               # not while a build (or another send) is writing the folder
        return _write_outbox(deliveries, output, email, only_ready, progress)


def _write_outbox(deliveries: list[Delivery], output: Path, email: EmailSettings, only_ready: bool,
                  progress: Callable[[Outcome], None] | None) -> list[Outcome]:
    folder = Path(output) / OUTBOX
    refuse_link(folder)
    refuse_link(folder / LISTING)
    outcomes = []
    for d in deliveries:
        outcome = _status_before_sending(d, only_ready)
        if outcome is None:
            try:
                data, message_id = _message(d, email, attachment_parts(d.attachments), unsent=True)
                path = write_eml(folder, d.name, data)
                outcome = Outcome(d, WRITTEN, str(path), path, message_id)
            except MisaddressedMessage as exc:
                (folder / f"{d.name}.eml").unlink(missing_ok=True)
                outcome = _misaddressed(d, exc, "not written")
            except LinkedPath as exc:
                outcome = Outcome(d, FAILED, str(exc))
            except OSError as exc:
                outcome = Outcome(d, FAILED, f"could not write the message ({exc})")
        else:
            (folder / f"{d.name}.eml").unlink(missing_ok=True)
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    atomic.write_atomic(folder / LISTING, "\n".join(listing(deliveries)).encode("utf-8"))
    return outcomes


def _ledger_message(d: Delivery, message_id: str, server: str, parts, accepted, to, cc) -> dict:
    return {
        "message_id": message_id,
        "sent_at": now().isoformat(),
        "server": server,
        "built_at": d.built_at,
        "subject": d.subject,
        "to": [f"{r.name} <{r.address}>" for r in to],
        "cc": [f"{r.name} <{r.address}>" for r in cc],
        "delivered": list(accepted.delivered),
        "refused": accepted.refused,
        "attachments": [{"name": p.name, "sha256": p.sha256, "bytes": len(p.data)} for p in parts],
    }


def send_smtp(deliveries: list[Delivery], output: Path, email: EmailSettings, sender: SmtpSender,
              only_ready: bool = False, resend: bool = False,
              progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Send each school's email through the server, recording each accepted message in the ledger
    before the next is sent. A server that cannot be reached stops the run; the rest wait for the
    next run."""
    with SendLock(output):
        ledger = Ledger.load(output)          # again, under the lock: another run may have just sent

        def as_recorded(d: Delivery) -> Delivery:
            if resend:
                return d
            return dataclasses.replace(d, delivered=frozenset(ledger.delivered(d.school_id, d.version)),
                                       sent_at=ledger.last_sent(d.school_id))
        with sender:
            return send_in_turn((as_recorded(d) for d in deliveries),
                                lambda d: _status_before_sending(d, only_ready),
                                lambda d: _send_one(d, email, sender, ledger),
                                lambda d, why: Outcome(d, NOT_SENT, why), progress)


def send_in_turn(items: Iterable[T], before: Callable[[T], R | None], send_one: Callable[[T], R],
                 not_sent: Callable[[T, str], R], progress: Callable[[R], None] | None = None) -> list[R]:
    """Send the items one after another, each as the ledger stands once the one before is recorded (`items`
    may be a generator reading it), and return each one's outcome. An item `before` settles (already sent,
    held back) is not sent; once the server cannot be reached (an outcome NOT_SENT), every later item is
    not sent either, for the same reason, and waits for the next run."""
    outcomes = []
    stopped = ""
    for item in items:
        outcome = before(item)
        if outcome is None and stopped:
            outcome = not_sent(item, stopped)
        if outcome is None:
            outcome = send_one(item)
            if outcome.status == NOT_SENT:
                stopped = outcome.detail
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    return outcomes


def _send_one(d: Delivery, email: EmailSettings, sender: SmtpSender, ledger: Ledger) -> Outcome:
    try:
        parts = attachment_parts(d.attachments)
    except OSError as exc:
        return Outcome(d, FAILED, f"could not read the documents ({exc})")
    try:
        data, message_id = _message(d, email, parts, unsent=False)
    except MisaddressedMessage as exc:
        return _misaddressed(d, exc, "not sent")
    to, cc = d.headers()
    by_address = {r.address: r for r in to + cc}
    try:
        accepted = sender.send(email.sender.addr_spec, list(by_address), data)
    except ServerUnavailable as exc:
        return Outcome(d, NOT_SENT, str(exc))
    except NotDelivered as exc:
        return Outcome(d, FAILED, str(exc))
    if accepted.delivered:
        try:
            ledger.record(d.school_id, d.school_name, d.version,
                          _ledger_message(d, message_id, sender.config.where, parts, accepted, to, cc))
        except OSError as exc:
            # Going on would leave the ledger short of what was sent, and the next run would send it twice.
            raise PacketsError(f"{d.school_id} {d.school_name} was delivered ({message_id}, to "
                               f"{', '.join(accepted.delivered)}), but {ledger.path} could not be written "
                               f"({exc}). Stopped, so nothing more goes unrecorded. Fix the disk space or "
                               f"permissions; the next run sends {d.school_id} once more, since the ledger "
                               f"does not show it.") from None
    refused = "; ".join(f"{by_address[a].name} <{a}> ({by_address[a].where}) refused: {why}"
                        for a, why in accepted.refused.items())
    if not accepted.delivered:
        return Outcome(d, FAILED, f"every recipient was refused: {refused}")
    detail = f"to {len(accepted.delivered)} recipient(s), {message_id}"
    if refused:
        return Outcome(d, PARTLY_SENT, f"{detail}; {refused}; the next run sends to them again", message_id=message_id)
    return Outcome(d, SENT, detail, message_id=message_id)


# --- where the messages go --------------------------------------------------------------------

class Mailer(Protocol):
    """Where a run's planned messages go: the outbox, an SMTP server, or nowhere (a dry run)."""

    holds_folder: bool        # True when it writes or sends: the output folder is held from planning on

    def prepare(self, email: EmailSettings) -> None:
        """Check, before anything is planned, what the messages need in order to go (a server's settings)."""

    def deliver(self, deliveries: list[Delivery], output: Path, email: EmailSettings, only_ready: bool,
                resend: bool, progress: Callable[[Outcome], None] | None) -> list[Outcome]:
        """Write or send each school's message; progress hears each school's outcome as it is known."""
        ...

    def notes(self, deliveries: list[Delivery], output: Path) -> list[str]:
        """Return the lines telling the user where the messages went, shown after them."""
        ...


class Outbox:
    """Each message written as an .eml file into output/outbox/, for staff to open and send."""

    holds_folder = True

    def prepare(self, email: EmailSettings) -> None:
        pass

    def deliver(self, deliveries: list[Delivery], output: Path, email: EmailSettings, only_ready: bool,
                resend: bool, progress: Callable[[Outcome], None] | None) -> list[Outcome]:
        return write_outbox(deliveries, output, email, only_ready, progress)

    def notes(self, deliveries: list[Delivery], output: Path) -> list[str]:
        return [f"Outbox: {Path(output) / OUTBOX} (who receives what: {LISTING}). Open an .eml file to send it, "
                f"or run with --smtp."]


class DryRun:
    """Who would receive what, for the outbox or (smtp) the server; nothing is written or sent."""

    holds_folder = False

    def __init__(self, smtp: bool = False):
        self.smtp = smtp

    def prepare(self, email: EmailSettings) -> None:
        if self.smtp:
            smtp_config(email)          # a mistake in the server's settings shows now, not at the real run

    def deliver(self, deliveries: list[Delivery], output: Path, email: EmailSettings, only_ready: bool,
                resend: bool, progress: Callable[[Outcome], None] | None) -> list[Outcome]:
        return dry_run(deliveries, only_ready, self.smtp)

    def notes(self, deliveries: list[Delivery], output: Path) -> list[str]:
        return listing(deliveries) + ["Dry run: nothing was written or sent."]


class Smtp:
    """Each message sent through the SMTP server and recorded in the ledger once the server accepts it."""

    holds_folder = True

    def __init__(self) -> None:
        self.config: SmtpConfig | None = None
        self._password = ""

    def prepare(self, email: EmailSettings) -> None:
        self.config = smtp_config(email)
        self._password = smtp_password(self.config)

    def deliver(self, deliveries: list[Delivery], output: Path, email: EmailSettings, only_ready: bool,
                resend: bool, progress: Callable[[Outcome], None] | None) -> list[Outcome]:
        return send_smtp(deliveries, output, email, self.sender(), only_ready, resend, progress)

    def sender(self) -> SmtpSender:
        """Return a connection to the server (opened on first use); `packets remind` sends through it too."""
        if self.config is None:
            raise PacketsError("Smtp.sender was called before prepare: the server's settings are not read.")
        return SmtpSender(self.config, self._password)

    def notes(self, deliveries: list[Delivery], output: Path) -> list[str]:
        return [f"Ledger of what was sent: {Path(output) / LEDGER}"]


# --- reporting ---------------------------------------------------------------------------------

def outcome_lines(outcome: Outcome, number: int, total: int) -> list[str]:
    """Return a school's progress line, and under it each of its problems."""
    d = outcome.delivery
    head = f"[{number}/{total}] {d.school_id} {d.school_name}: {outcome.status}"
    detail = "" if outcome.status == HELD else outcome.detail
    lines = [head + (f" {detail}" if detail else "")]
    if outcome.status not in (NOT_READY, ALREADY_SENT):
        lines += [f"  {f.line()}" for f in d.problems]
    return lines


def summary_line(outcomes: list[Outcome]) -> str:
    """Return one line counting what became of the schools, e.g. `9 school(s): 8 sent, 1 HELD`."""
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return f"{len(outcomes)} school(s): " + (", ".join(f"{n} {status}" for status, n in counts.items()) or "none")
