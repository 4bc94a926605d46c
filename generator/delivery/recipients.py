"""Recipients: a school's reviewers, taken from that school's own roster rows only.

A school's packet reaches only people whose People row carries its School ID. District-wide staff
(no School ID) are copied only when email.toml names their role under district_cc; no one with
another school's ID can ever be chosen, since the Packet holds only its own school's people.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from generator.delivery.settings import Rules
from generator.findings import ERROR, WARNING, Finding
from generator.model.records import Packet, Person

TO = "To"
CC = "Cc"


def one_line(text: str) -> str:
    """Return text as one header-safe line: line breaks, tabs and other control characters become
    single spaces, so a value from a spreadsheet can never start a header of its own."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in str(text))
    return " ".join(cleaned.split())


# A quote or an angle bracket in a name could end the display name early and start an address of its
# own: Python 3.11 drops the quotes around a long name when it folds the header. Round brackets and a
# slash keep what the name said readable.
_NAME_SAFE = str.maketrans({'"': None, "<": "(", ">": ")", "\\": "/"})


def display_name(text: str) -> str:
    """Return a name as it may stand in a To, Cc or From header: one line, with no quote, angle
    bracket or backslash, e.g. `Robert "Bob" Smith <Assistant>` -> `Robert Bob Smith (Assistant)`."""
    return " ".join(one_line(text).translate(_NAME_SAFE).split())


@dataclass(frozen=True)
class Recipient:
    name: str
    role: str
    address: str             # validated, ASCII, as it is given to the server
    field: str               # To | Cc
    where: str               # the roster row it came from, e.g. "roster.xlsx, sheet People, row 8"

    @property
    def key(self) -> str:
        return self.address.lower()


@dataclass(frozen=True)
class Recipients:
    to: tuple[Recipient, ...]
    cc: tuple[Recipient, ...]
    problems: tuple[Finding, ...]           # errors hold the school back; warnings are reported

    @property
    def all(self) -> tuple[Recipient, ...]:
        return self.to + self.cc


def _where(person: Person) -> dict:
    return person.source.at("email") if person.source else {}


def _row_text(person: Person) -> str:
    return Finding("", "", **(person.source.at() if person.source else {})).location()


def check_address(text: str) -> tuple[str, str]:
    """Return (the address as sent, '') for a good address, or ('', why) for a bad one."""
    try:
        valid = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False)
        return valid.ascii_email or valid.normalized, ""          # ASCII always, as SMTPUTF8 is not allowed
    except EmailNotValidError as exc:
        return "", str(exc)


def school_recipients(packet: Packet, rules: Rules) -> Recipients:
    """Return who receives this school's review email, and every problem with their addresses."""
    sid = packet.school.school_id
    chosen: dict[str, Recipient] = {}
    problems: list[Finding] = []

    def take(people, field):
        for person in people:
            if not person.email.strip():
                problems.append(Finding(
                    WARNING, f"{one_line(person.name)} ({person.role}) has no email address, so is not sent "
                             f"the packet.", **_where(person), school_id=sid,
                    fix="Add their address in the Email column."))
                continue
            address, why = check_address(person.email)
            if not address:
                problems.append(Finding(
                    ERROR, f"{one_line(person.name)} ({person.role}): '{person.email}' is not a valid email "
                           f"address ({why}); nothing is sent for this school until it is fixed.",
                    **_where(person), value=person.email, school_id=sid,
                    fix="Correct the address in the Email column."))
                continue
            # A person listed under several roles (or for To and Cc) receives one copy, To first.
            chosen.setdefault(address.lower(), Recipient(display_name(person.name), person.role, address, field,
                                                         _row_text(person)))

    own = [p for p in packet.people if p.school_id == sid]
    district = [p for p in packet.people if p.school_id is None]
    take([p for role in rules.to for p in own if p.role == role], TO)
    take([p for role in rules.cc for p in own if p.role == role], CC)
    take([p for role in rules.district_cc for p in district if p.role == role], CC)

    to = tuple(r for r in chosen.values() if r.field == TO)
    cc = tuple(r for r in chosen.values() if r.field == CC)
    if not to:
        problems.append(Finding(
            ERROR, f"No reviewer: no one with role {' or '.join(rules.to) or '(none)'} and a valid email "
                   f"address is on the roster for {packet.school.name}, so its packet is not sent.",
            file="roster.xlsx", sheet="People", school_id=sid,
            fix=f"Add a row with School ID {sid}, one of those roles and an Email, "
                f"or change 'to' in email.toml."))
    return Recipients(to, cc, tuple(problems))
