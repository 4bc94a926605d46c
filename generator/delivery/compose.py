"""Compose: a school's review email as an RFC 5322 message: the subject and body from email.toml's
Jinja templates, and its attachments (the documents, the combined PDF, or one zip of them).

Headers are built with the email package (Address objects, policy SMTP), and every value from the
spreadsheets is made one line first, so a name or subject can never add a header of its own. The
address headers are folded here, not by the email package (whose folding, in Python 3.11, drops the
quotes around a long display name, so that a comma in it starts another address), and every message
is read back before it is written or sent: one that would reach anyone but its own recipients is
refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import mimetypes
import re
import uuid
import zipfile
from dataclasses import dataclass
from email import policy as email_policy
from email import quoprimime
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from generator.delivery.recipients import Recipient, display_name, one_line
from generator.delivery.settings import EmailSettings
from generator.findings import PacketsError

_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".ics": "text/calendar",
}


class _Policy(EmailPolicy):
    """policy.SMTP (CRLF line ends, headers folded at 78 characters), except that a plain-text
    Subject too long for one line is folded between words, and From, To, Cc and Reply-To are folded
    by _fold_addresses. The email package would move a subject of 70 to 77 characters whole onto a
    second line ("Subject:" CRLF SP text), which is valid but which Python's own parser (3.11, among
    others) then reads back with a leading space."""

    def fold_binary(self, name: str, value) -> bytes:
        folded = self._fold_here(name, value)
        return folded.encode("ascii") if folded else super().fold_binary(name, value)

    def fold(self, name: str, value) -> str:
        return self._fold_here(name, value) or super().fold(name, value)

    def _fold_here(self, name: str, value) -> str:
        if name.lower() in _ADDRESS_FIELDS and getattr(value, "addresses", None):
            return _fold_addresses(name, value.addresses, self.max_line_length or 78, self.linesep)
        return _fold_words(name, str(value), self.max_line_length or 78, self.linesep)


def _fold_words(name: str, text: str, width: int, linesep: str) -> str:
    """Return `Name: text` folded before spaces into lines of at most `width`, or '' when the email
    package should fold it: not a Subject, short enough already, not plain ASCII, or holding what
    could read as an encoded word or a word too long for a line."""
    if (name.lower() != "subject" or len(name) + 2 + len(text) <= width or not text.isascii()
            or "=?" in text or any(len(word) > width // 2 for word in text.split(" "))):
        return ""
    lines = [f"{name}:"]
    for word in text.split(" "):
        if len(lines[-1]) + 1 + len(word) > width and len(lines[-1]) > len(name) + 1:
            lines.append("")
        lines[-1] += " " + word
    return linesep.join(lines) + linesep


_ADDRESS_FIELDS = {"from", "to", "cc", "reply-to"}
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")     # RFC 5322 atext: a word that needs no quotes
_LONGEST_WORD = 60            # a longer word is encoded, so that it can be split across lines
_ENCODED_WORD = 60            # RFC 2047 allows 75; 60 fits after "Reply-To: " on a 78-character line


def _encoded_words(text: str) -> list[str]:
    """Return text as RFC 2047 encoded words (UTF-8, Q encoding, which encodes every special such as
    a comma), each of whole characters and at most 60 long. A reader joins adjacent encoded words
    without the space between them, so text's own spaces are inside the words (as `_`)."""
    words, chunk = [], ""
    for ch in text:
        if chunk and len(quoprimime.header_encode((chunk + ch).encode("utf-8"), "utf-8")) > _ENCODED_WORD:
            words.append(quoprimime.header_encode(chunk.encode("utf-8"), "utf-8"))
            chunk = ""
        chunk += ch
    return words + [quoprimime.header_encode(chunk.encode("utf-8"), "utf-8")] if chunk else words


def _is_atom(word: str) -> bool:
    return bool(_ATOM.fullmatch(word)) and "=?" not in word and len(word) <= _LONGEST_WORD


def _name_words(name: str) -> list[str]:
    """Return a display name as the words of a header phrase, each a place the line may fold: plain
    words when it has no specials; one quoted string when it is ASCII with specials (a comma, a
    bracket); else plain words and encoded words (for letters beyond ASCII, a word too long for a
    line, or text a reader would take for an encoded word, `=?...?=`)."""
    words = name.split()
    if all(_is_atom(w) for w in words):
        return words
    if name.isascii() and "=?" not in name and all(len(w) <= _LONGEST_WORD for w in words):
        words = [w.replace("\\", "\\\\").replace('"', '\\"') for w in words]
        words[0] = '"' + words[0]
        words[-1] += '"'                      # the same word when the name is one word
        return words
    out: list[str] = []
    run: list[str] = []
    for word in words:
        if _is_atom(word):
            out += _encoded_words(" ".join(run)) if run else []
            out.append(word)
            run = []
        else:
            run.append(word)
    return out + (_encoded_words(" ".join(run)) if run else [])


def _fold_addresses(name: str, addresses, width: int, linesep: str) -> str:
    """Return an address header, `Name: a, b`, folded only between an address's words: each address
    kept whole on a line when it fits, and a display name never split inside a word."""
    units = []
    for i, address in enumerate(addresses):
        words = (_name_words(address.display_name) + [f"<{address.addr_spec}>"] if address.display_name
                 else [address.addr_spec])
        if i < len(addresses) - 1:
            words[-1] += ","
        units.append(words)
    lines = [f"{name}:"]

    def started() -> bool:
        return len(lines) > 1 or lines[0] != f"{name}:"

    for words in units:
        unit = " ".join(words)
        if len(lines[-1]) + 1 + len(unit) > width and started() and 1 + len(unit) <= width:
            lines.append("")
        if len(lines[-1]) + 1 + len(unit) <= width:
            lines[-1] += " " + unit
            continue
        for word in words:
            if len(lines[-1]) + 1 + len(word) > width and started() and lines[-1]:
                lines.append("")
            lines[-1] += " " + word
    return linesep.join(lines) + linesep


POLICY = _Policy(linesep="\r\n")


def template_env() -> jinja2.Environment:
    """Return the environment for email.toml's templates: sandboxed (the file is staff-edited), plain
    text (no HTML escaping), and strict, so a misspelt field fails before anything is sent."""
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True,
                                lstrip_blocks=True, keep_trailing_newline=True)


@dataclass(frozen=True)
class Templates:
    subject: jinja2.Template
    body: jinja2.Template
    where: str                # e.g. "inputs/email.toml [designation.Intensive]"
    fields: str = "Emailing packets for review"      # the README section listing the fields they may use


def compile_templates(settings: EmailSettings) -> dict[str | None, Templates]:
    """Return each rule set's compiled templates, keyed by designation (None: [default]); a syntax
    error is a PacketsError naming the table and key."""
    env = template_env()
    compiled = {}
    for designation, rules in [(None, settings.default), *settings.by_designation.items()]:
        where = f"{settings.path} [{'designation.' + designation if designation else 'default'}]"
        parts = {}
        for key in ("subject", "body"):
            try:
                parts[key] = env.from_string(getattr(rules, key))
            except jinja2.TemplateSyntaxError as exc:
                raise PacketsError(f"{where} {key}: template error on line {exc.lineno}: {exc.message}.") from None
        compiled[designation] = Templates(parts["subject"], parts["body"], where)
    return compiled


def render(templates: Templates, context: dict[str, Any]) -> tuple[str, str]:
    """Return (subject, body) for one school; a template that does not fit the data is a PacketsError."""
    out = {}
    for key in ("subject", "body"):
        try:
            out[key] = getattr(templates, key).render(context)
        except jinja2.TemplateError as exc:
            raise PacketsError(f"{templates.where} {key}: {exc}. Fix: use only the fields listed in README, "
                               f"'{templates.fields}'.") from None
    body = out["body"].replace("\r\n", "\n").replace("\r", "\n").strip("\n") + "\n"
    return one_line(_draft_subject(templates, context, out["subject"])), body


def _draft_subject(templates: Templates, context: dict[str, Any], subject: str) -> str:
    """Return the subject of a packet that is not ready so that it says it is a draft: an email.toml
    whose subject does not depend on `ready` (every one written before drafts were told apart) would
    mail a draft under the same "for review" subject as a packet ready to submit."""
    if context.get("ready", True):
        return subject
    try:
        as_ready = templates.subject.render({**context, "ready": True})
    except jinja2.TemplateError:
        return subject                 # the template tells the two apart by more than `ready`
    if one_line(as_ready) != one_line(subject):
        return subject
    missing = context.get("missing") or context.get("errors") or 0
    return f"{subject} (draft: {missing} item{'' if missing == 1 else 's'} missing)"


# --- attachments -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttachmentPlan:
    """What a school's email carries: `files` attached one by one, or zipped into `zip_name`."""

    files: tuple[Path, ...]
    kind: str                 # documents | pdf | zip
    size: int                 # bytes of the files, before any zip
    zip_name: str = ""
    zip_time: tuple = (1980, 1, 1, 0, 0, 0)

    @property
    def names(self) -> list[str]:
        return [self.zip_name] if self.zip_name else [p.name for p in self.files]


@dataclass(frozen=True)
class Part:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def plan_attachments(documents: list[Path], pdf_name: str, mode: str, limit: int, zip_name: str,
                     built_at: dt.datetime) -> AttachmentPlan | str:
    """Return what to attach, or why nothing can be: mode `pdf` with no combined PDF built."""
    pdf = [d for d in documents if d.name == pdf_name]
    others = [d for d in documents if d.name != pdf_name]
    if mode == "pdf" or (mode == "auto" and pdf):
        if not pdf:
            return (f"email.toml asks for the combined PDF ({pdf_name}), and the last build made none. "
                    f"Fix: build it with `packets build --pdf`, or set attach = \"auto\".")
        files, kind = pdf, "pdf"
    else:
        files, kind = others, "documents"
    size = sum(f.stat().st_size for f in files)
    if limit and size > limit and len(files) > 0:
        return AttachmentPlan(tuple(files), "zip", size, zip_name, built_at.timetuple()[:6])
    return AttachmentPlan(tuple(files), kind, size)


def attachment_parts(plan: AttachmentPlan | None) -> list[Part]:
    """Return the attachments' bytes: each file, or one zip of them all (none without a plan). The zip
    is the same bytes for the same documents (fixed times and order), so its hash says whether the
    packet changed."""
    if plan is None:
        return []
    if not plan.zip_name:
        return [Part(f.name, f.read_bytes()) for f in plan.files]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in plan.files:
            info = zipfile.ZipInfo(f.name, date_time=plan.zip_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, f.read_bytes())
    return [Part(plan.zip_name, buffer.getvalue())]


def _content_type(name: str) -> tuple[str, str]:
    suffix = Path(name).suffix.lower()
    kind = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    main, sub = kind.split("/", 1)
    return main, sub


# --- the message -------------------------------------------------------------------------------

def new_message_id(school_id: str, domain: str) -> str:
    """Return a new, unique Message-ID naming the school, e.g. `<3f9c...e1.0104@district.org>`. Shorter
    than make_msgid's, so that `Message-ID: <...>` fits on one line (see _Policy)."""
    tag = re.sub(r"[^A-Za-z0-9-]", "", school_id)[:16]
    return f"<{uuid.uuid4().hex[:20]}{'.' + tag if tag else ''}@{domain}>"


def header_address(recipient: Recipient) -> Address:
    user, domain = recipient.address.rsplit("@", 1)
    return Address(display_name=display_name(recipient.name), username=user, domain=domain)


def build_message(settings: EmailSettings, to: tuple[Recipient, ...], cc: tuple[Recipient, ...], subject: str,
                  body: str, parts: list[Part], message_id: str, date: dt.datetime,
                  unsent: bool = False) -> EmailMessage:
    """Return the message. `unsent` marks an outbox draft, which Outlook then opens ready to send."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = settings.sender
    msg["To"] = [header_address(r) for r in to]
    if cc:
        msg["Cc"] = [header_address(r) for r in cc]
    if settings.reply_to:
        msg["Reply-To"] = settings.reply_to
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if unsent:
        msg["X-Unsent"] = "1"
    msg.set_content(body, subtype="plain", charset="utf-8", cte="quoted-printable")
    for part in parts:
        main, sub = _content_type(part.name)
        # Always as bytes (base64), text files too, so each arrives exactly as built.
        msg.add_attachment(part.data, maintype=main, subtype=sub, filename=part.name)
    return msg


class MisaddressedMessage(PacketsError):
    """A composed message that, read back, is not from the sender and to exactly its recipients."""


def checked_bytes(message: EmailMessage, settings: EmailSettings, to: tuple[Recipient, ...],
                  cc: tuple[Recipient, ...]) -> bytes:
    """Return the message as it is to be written or sent, once its bytes, read back as a mail program
    reads them, have exactly the intended From, To, Cc and Reply-To addresses and no Bcc; else
    MisaddressedMessage. Whatever the email package does to a header, no one else can be reached."""
    data = message.as_bytes()
    parsed = BytesParser(policy=email_policy.default).parsebytes(data, headersonly=True)
    intended = {"From": [settings.sender.addr_spec], "To": [r.address for r in to], "Cc": [r.address for r in cc],
                "Reply-To": [settings.reply_to.addr_spec] if settings.reply_to else [], "Bcc": []}
    for field, want in intended.items():
        headers = parsed.get_all(field) or []
        got = [one_line(a.addr_spec) for header in headers for a in getattr(header, "addresses", ())]
        if len(headers) > 1 or got != want or (want and not headers):
            raise MisaddressedMessage(f"read back, its {field} header would name {', '.join(got) or 'no one'} "
                                      f"instead of {', '.join(want) or 'no one'}")
    return data
