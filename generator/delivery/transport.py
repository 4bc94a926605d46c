"""Transport: where a composed message goes. The outbox writes it as an .eml file; SmtpSender hands
it to a mail server and says exactly which recipients the server accepted.

A message counts as delivered only when the server answers 250 to its data (RFC 5321: that reply
is where the server takes responsibility for it). A connection lost before that reply means not
delivered: it is not recorded, and the next run sends it.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from generator.delivery.settings import PASSWORD_ENV, SmtpConfig
from generator.findings import PacketsError
from generator.output import atomic, naming


class ServerUnavailable(PacketsError):
    """The server cannot be reached, or will not let us send at all: the run stops here."""


class NotDelivered(PacketsError):
    """This message was not accepted (refused, or the connection was lost before the server confirmed);
    the run goes on with the next school."""


@dataclass(frozen=True)
class Accepted:
    delivered: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)      # address -> the server's reply


class LinkedPath(PacketsError):
    """A path the outbox would write is a symbolic link, which could lead outside the output folder."""


def refuse_link(path: Path) -> None:
    """Raise LinkedPath when `path` is a symbolic link (even one to nothing): the outbox is written
    only where it lies, never through a link to elsewhere."""
    if Path(path).is_symlink():
        raise LinkedPath(f"{path} is a symbolic link (to {os.readlink(path)}), so nothing is written through "
                         f"it. Fix: remove the link; `packets send` makes what it needs in its place.")


def write_eml(folder: Path, name: str, data: bytes) -> Path:
    """Write one message's bytes as an .eml file (atomically) and return its path."""
    path = Path(folder) / (naming.safe_name(name, "message") + ".eml")
    refuse_link(path)
    atomic.write_atomic(path, data)
    return path


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(str(text).split())}"


class SmtpSender:
    """One connection to the server, opened on first use and opened again after it drops."""

    def __init__(self, config: SmtpConfig, password: str = ""):
        self.config = config
        self._password = password
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpSender":
        return self

    def __exit__(self, *exc) -> Literal[False]:
        self.close()
        return False

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def _drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def connect(self) -> smtplib.SMTP:
        """Return a connection that is ready to send (TLS and login done); ServerUnavailable if not."""
        if self.smtp is not None:
            return self.smtp
        cfg = self.config
        smtp: smtplib.SMTP
        try:
            if cfg.security == "ssl":
                smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, local_hostname=cfg.helo or None, timeout=cfg.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, local_hostname=cfg.helo or None, timeout=cfg.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise ServerUnavailable(f"Cannot connect to the SMTP server {cfg.where} ({exc}).") from None
        try:
            self._secure_and_login(smtp)
        except BaseException:
            smtp.close()
            raise
        self.smtp = smtp
        return smtp

    def _secure_and_login(self, smtp: smtplib.SMTP) -> None:
        cfg = self.config
        encrypted = cfg.security == "ssl"
        try:
            smtp.ehlo()
            if cfg.security == "starttls":
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                    encrypted = True
                elif not cfg.is_loopback:
                    # Only a server on this machine may go without TLS: its traffic never leaves it.
                    raise ServerUnavailable(
                        f"The SMTP server {cfg.where} does not offer STARTTLS, so nothing is sent over an "
                        f"unencrypted connection. Fix: use its TLS port with security = \"ssl\", or ask "
                        f"for STARTTLS.")
            if cfg.user:
                if not encrypted and not cfg.is_loopback:
                    raise ServerUnavailable(f"Not logging in to {cfg.where} as {cfg.user} without encryption. "
                                            f"Fix: set security to \"starttls\" or \"ssl\".")
                if not self._password:
                    raise ServerUnavailable(f"The SMTP user is {cfg.user} and no password is set. Fix: set "
                                            f"{PASSWORD_ENV} in the environment (never in a file).")
                smtp.login(cfg.user, self._password)
        except smtplib.SMTPAuthenticationError as exc:
            raise ServerUnavailable(f"The SMTP server {cfg.where} refused the login for {cfg.user} "
                                    f"({_reply(exc.smtp_code, exc.smtp_error)}). Fix: check {PASSWORD_ENV} "
                                    f"and the user name.") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ServerUnavailable(f"The SMTP server {cfg.where} could not be used ({exc}).") from None

    def send(self, sender: str, recipients: list[str], data: bytes) -> Accepted:
        """Send one message to these envelope recipients and return whom the server accepted.

        A connection that was open from an earlier message and turns out closed before any of this
        message was sent is opened again once (servers close idle connections)."""
        reused = self.smtp is not None
        try:
            return self._send(sender, recipients, data)
        except _ClosedBeforeData:
            self._drop()
            if not reused:
                raise ServerUnavailable(f"The SMTP server {self.config.where} closed the connection.") from None
        try:
            return self._send(sender, recipients, data)
        except _ClosedBeforeData:
            self._drop()
            raise ServerUnavailable(f"The SMTP server {self.config.where} closed the connection.") from None

    def _send(self, sender: str, recipients: list[str], data: bytes) -> Accepted:
        smtp = self.connect()
        try:
            code, text = smtp.mail(sender)
            if code == 421:
                raise _ClosedBeforeData()
            if code != 250:
                smtp.rset()
                raise ServerUnavailable(f"The SMTP server {self.config.where} refused the sender {sender} "
                                        f"({_reply(code, text)}). Fix: check [email] from in email.toml.")
            accepted, refused = [], {}
            for address in recipients:
                code, text = smtp.rcpt(address)
                if code == 421:
                    raise _ClosedBeforeData()
                if code in (250, 251):
                    accepted.append(address)
                else:
                    refused[address] = _reply(code, text)
            if not accepted:
                smtp.rset()
                return Accepted((), refused)
        except (smtplib.SMTPServerDisconnected, OSError):
            raise _ClosedBeforeData() from None
        try:
            # The reply to the end of the message may take minutes (RFC 5321 4.5.3.2: wait 10); given up
            # on sooner, a message the server delivers is not recorded and the next run sends it again.
            if smtp.sock is not None:         # connected: the reply to MAIL and RCPT came over it
                smtp.sock.settimeout(self.config.data_timeout)
            try:
                code, text = smtp.data(data)
            finally:
                if smtp.sock is not None:             # None once smtplib has closed it
                    smtp.sock.settimeout(self.config.timeout)
        except smtplib.SMTPDataError as exc:          # the server said no to DATA itself: nothing sent
            if exc.smtp_code == 421:
                self._drop()
                raise NotDelivered(f"the server closed the connection ({_reply(exc.smtp_code, exc.smtp_error)})") \
                    from None
            self._reset()
            raise NotDelivered(f"the server refused the message ({_reply(exc.smtp_code, exc.smtp_error)})") \
                from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            if _timed_out(exc):
                raise NotDelivered(f"no reply within {self.config.data_timeout:g} s to the end of the message "
                                   f"(data_timeout): the server may or may not have delivered it. It is not "
                                   f"recorded as sent, so the next run sends it again; ask the recipients "
                                   f"whether it arrived first, or they may get it twice") from None
            raise NotDelivered(f"the connection was lost before the server confirmed the message ({exc}); "
                               f"it is not recorded as sent") from None
        if code != 250:
            if code == 421:
                self._drop()
            else:
                self._reset()
            raise NotDelivered(f"the server refused the message ({_reply(code, text)})")
        return Accepted(tuple(accepted), refused)

    def _reset(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()


def _timed_out(exc: BaseException) -> bool:
    """Return True when the error is a timeout, also one smtplib reports as a lost connection."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


class _ClosedBeforeData(Exception):
    """The connection went away before the message itself was sent: certainly not delivered."""
