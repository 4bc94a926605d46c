"""`packets send` and `packets remind`: the district's inputs and the last build, through a mailer."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from generator.delivery import remind as reminding
from generator.delivery import send as delivery
from generator.delivery.ledger import SendLock
from generator.delivery.send import Delivery, Mailer, Outcome
from generator.delivery.settings import load_email_settings
from generator.findings import (
    ERROR,
    Finding,
    PacketsError,
    os_error_text,
)
from generator.pipeline.district import load_district, read_district
from generator.render.template_data import Templates
from generator.settings import Settings


@dataclass(frozen=True)
class SendReport:
    """What `packets send` did: each school's planned message and what became of it."""

    deliveries: tuple[Delivery, ...]
    outcomes: tuple[Outcome, ...]
    notes: tuple[str, ...] = ()       # the mailer's word on where the messages went

    @property
    def problem(self) -> bool:
        """True when a school was held back or not (fully) sent."""
        return any(o.problem for o in self.outcomes)

    @property
    def summary(self) -> str:
        return delivery.summary_line(list(self.outcomes))


@dataclass(frozen=True)
class RemindReport:
    """What `packets remind` did: each person's reminder, what became of it, and what was not reminded."""

    reminders: tuple[reminding.Reminder, ...]
    outcomes: tuple[reminding.Outcome, ...]
    notices: tuple[Finding, ...] = ()    # names no one on a school's roster has; people without an address
    notes: tuple[str, ...] = ()          # the mailer's word on where the messages went
    as_of: dt.date | None = None         # the day the items were judged by

    @property
    def problem(self) -> bool:
        """True when a reminder was held back or not sent, or a school's items could not be read."""
        return any(o.problem for o in self.outcomes) or any(f.severity == ERROR for f in self.notices)

    @property
    def summary(self) -> str:
        return reminding.summary_line(list(self.outcomes), self.as_of)


def send(settings: Settings, mailer: Mailer, only_ready: bool = False, resend: bool = False,
         progress: Callable[[Outcome, int, int], None] | None = None) -> SendReport:
    """Email each selected school's packet, as the last build made it, through `mailer` (the outbox,
    a dry run, an SMTP server); progress hears each school's outcome with its number and the count.

    Everything that can stop the run (email.toml, the mailer's settings, a folder no build has
    written, the inputs) raises PacketsError before the first message. A mailer that writes or sends
    holds the output folder from planning to the last message: a build finishing in between would
    change the packets under the plan."""
    with contextlib.ExitStack() as held:
        try:
            email = load_email_settings(Path(settings.inputs))
            mailer.prepare(email)
            if mailer.holds_folder:
                held.enter_context(SendLock(settings.output))
            delivery.require_build(settings.output)     # before the inputs are read
            district, _ = load_district(settings)
            deliveries = delivery.plan(settings, email, district, strict=settings.strict, resend=resend)
        except OSError as exc:
            raise PacketsError(f"reading the build: {os_error_text(exc)}") from None
        count = 0

        def numbered(outcome: Outcome) -> None:
            nonlocal count
            count += 1
            if progress:
                progress(outcome, count, len(deliveries))
        outcomes = mailer.deliver(deliveries, settings.output, email, only_ready, resend, numbered)
    return SendReport(tuple(deliveries), tuple(outcomes), tuple(mailer.notes(deliveries, settings.output)))


def remind(settings: Settings, mailer: Mailer,
           progress: Callable[[reminding.Outcome, int, int], None] | None = None) -> RemindReport:
    """Remind each person responsible for a task or activity approaching or overdue as of settings.as_of,
    one message a person, through `mailer` (the outbox, a dry run, an SMTP server), as `send` does.

    Everything that can stop the run (email.toml, the mailer's settings, the ledger, the district's
    inputs) raises PacketsError before the first message; a school whose own rows have errors is left
    out and reported. A mailer that writes or sends holds the output folder from planning on."""
    with contextlib.ExitStack() as held:
        email = load_email_settings(Path(settings.inputs))
        mailer.prepare(email)
        if mailer.holds_folder:
            held.enter_context(reminding.RemindLock(settings.output))
        ledger = reminding.RemindLedger.load(settings.output)
        loaded = read_district(settings)
        planned = reminding.plan(loaded.district, email, ledger, settings.as_of, Templates(settings.templates),
                                 loaded.blocked)
        count = 0
        due = [r for r in planned.reminders if r.pending or r.held]

        def numbered(outcome: reminding.Outcome) -> None:
            nonlocal count
            if not (outcome.reminder.pending or outcome.reminder.held):
                return
            count += 1
            if progress:
                progress(outcome, count, len(due))
        outcomes = reminding.deliver(mailer, planned, settings.output, email, numbered)
    return RemindReport(planned.reminders, tuple(outcomes), planned.notices,
                        tuple(reminding.notes(mailer, planned, settings.output)), settings.as_of)
