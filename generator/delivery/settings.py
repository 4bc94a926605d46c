"""Email settings: inputs/email.toml (who receives each school's packet, what the message says, how
it is attached) and the SMTP server, which environment variables may override.

The SMTP password is never read from a file: only from PACKETS_SMTP_PASSWORD, at the moment of
logging in, and it is kept in no settings object, so it cannot end up in a message or a log line.
"""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import getaddresses
from pathlib import Path
from typing import Any, Mapping

from email_validator import EmailNotValidError, validate_email

from generator.findings import PacketsError
from generator.inputs.schema import IDENTIFICATIONS, ROLES
from generator.settings import read_toml, refuse_unknown

EMAIL_FILE = "email.toml"
ATTACH_MODES = ("documents", "pdf", "auto")
SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
ENV_PREFIX = "PACKETS_SMTP_"
PASSWORD_ENV = ENV_PREFIX + "PASSWORD"

_RULE_KEYS = {"to", "cc", "district_cc", "subject", "body"}
_EMAIL_KEYS = {"from", "reply_to", "attach", "zip_over_mb", "review_days"}
_SMTP_KEYS = {"host", "port", "security", "user", "timeout", "data_timeout", "helo"}
_REMIND_KEYS = {"within_days", "subject", "body"}
REMIND_DAYS = 14             # `packets remind`: an open item due this many days ahead (that day included)
# `packets remind`'s message when email.toml has no [remind] subject or body (written before reminders).
REMIND_SUBJECT = ("{{ district.name }}: {% if overdue %}{{ overdue | length }} overdue{% if approaching %}, "
                  "{% endif %}{% endif %}{% if approaching %}{{ approaching | length }} due within {{ within_days }} "
                  "day{{ '' if within_days == 1 else 's' }}{% endif %} (school improvement)")
REMIND_BODY = """\
Dear {{ person.name }},

This is a reminder of the school improvement plan items you are responsible for, as of {{ as_of }}.
{% if overdue %}

Overdue:
{% for item in overdue %}
  - {{ item.school.name }}: {{ item.title }} ({{ item.when }})
{% endfor %}
{% endif %}
{% if approaching %}

Coming up in the next {{ within_days }} day{{ '' if within_days == 1 else 's' }}:
{% for item in approaching %}
  - {{ item.school.name }}: {{ item.title }} ({{ item.when }})
{% endfor %}
{% endif %}

When a task is done, its Completion Date on the timeline stops these reminders.

Thank you,
{{ sender }}
{{ district.name }}
"""
# RFC 5321 4.5.3.2: a client waits at least 10 minutes for the reply to the end of a message. Giving up
# sooner leaves a message the server may well have delivered unrecorded, and the next run sends it again.
DATA_TIMEOUT = 600.0


@dataclass(frozen=True)
class Rules:
    """Who receives a school's review email and what it says: roles from the school's own roster rows
    (to, cc), roles of district-wide staff copied (district_cc), and Jinja templates."""

    to: tuple[str, ...]
    cc: tuple[str, ...]
    district_cc: tuple[str, ...]
    subject: str
    body: str


@dataclass(frozen=True)
class RemindSettings:
    """`packets remind`: how far ahead an item counts as approaching, and the message's Jinja templates."""

    within_days: int = REMIND_DAYS
    subject: str = REMIND_SUBJECT
    body: str = REMIND_BODY


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to connect; no password here (see smtp_password)."""

    host: str = ""
    port: int = 587
    security: str = "starttls"
    user: str = ""
    timeout: float = 60.0                # seconds: connecting, and each command's reply
    helo: str = ""                       # the name given in EHLO; default: this machine's name
    data_timeout: float = DATA_TIMEOUT   # seconds: sending a message, and the reply to its end

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        """Return True for a server on this machine, whose traffic never crosses a network."""
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False


@dataclass(frozen=True)
class EmailSettings:
    path: Path
    sender: Address
    reply_to: Address | None
    attach: str
    zip_over_bytes: int
    review_days: int
    default: Rules
    by_designation: Mapping[str, Rules] = field(default_factory=dict)
    smtp: SmtpConfig = SmtpConfig()
    remind: RemindSettings = RemindSettings()

    def rules_for(self, identification: str) -> Rules:
        """Return the rules for a school identified for this (Intensive, ..., Not identified)."""
        return self.by_designation.get(identification, self.default)


def _fail(path: Path, where: str, problem: str, fix: str = "") -> PacketsError:
    return PacketsError(f"{path}: {where}: {problem}" + (f" Fix: {fix}" if fix else ""))


def parse_address(text: str, path: Path, where: str) -> Address:
    """Return 'Name <addr>' or a bare address as an Address, the address checked and the name made
    safe for a header (recipients.display_name)."""
    from generator.delivery.recipients import display_name
    parsed = getaddresses([str(text)])
    if len(parsed) > 1:
        raise _fail(path, where, f"'{text}' is more than one address; it must be one address.",
                    "Write it as \"Name <name@example.org>\" (a comma in the name goes inside quotes).")
    name, addr = parsed[0] if parsed else ("", "")
    if not addr or "\n" in text or "\r" in text:
        raise _fail(path, where, f"'{text}' is not an email address.", "Write it as \"Name <name@example.org>\".")
    try:
        valid = validate_email(addr, check_deliverability=False, allow_smtputf8=False)
        checked = valid.ascii_email or valid.normalized        # ASCII always, as SMTPUTF8 is not allowed
    except EmailNotValidError as exc:
        raise _fail(path, where, f"'{addr}' is not a valid email address ({exc}).") from None
    user, domain = checked.rsplit("@", 1)
    return Address(display_name=display_name(name), username=user, domain=domain)


def _roles(value, path: Path, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, where, "must be a list of roles.", 'Write it as ["Principal", "Facilitator"].')
    canonical = {r.casefold(): r for r in ROLES}
    roles = []
    for role in value:
        if role.strip().casefold() not in canonical:
            raise _fail(path, where, f"'{role}' is not a role on the People sheet.",
                        f"Use one of: {', '.join(ROLES)}.")
        roles.append(canonical[role.strip().casefold()])
    return tuple(dict.fromkeys(roles))


def _table(data: dict, key: str, path: Path) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _fail(path, f"[{key}]", "must be a table of settings, not a single value.")
    return value


def _check_keys(table: dict, allowed: set[str], path: Path, where: str) -> None:
    refuse_unknown(table, allowed, path, "" if where == "top level" else where)


def _rules(table: dict, base: Rules | None, path: Path, where: str) -> Rules:
    _check_keys(table, _RULE_KEYS, path, where)
    values: dict[str, Any] = {}
    for key in ("to", "cc", "district_cc"):
        if key in table:
            values[key] = _roles(table[key], path, f"{where} {key}")
        else:
            values[key] = getattr(base, key) if base else ()
    for key in ("subject", "body"):
        text = table.get(key, getattr(base, key) if base else "")
        if not isinstance(text, str) or not text.strip():
            raise _fail(path, f"{where} {key}", "is missing or empty.",
                        f"Give a {key} template, e.g. {key} = \"{{{{ school.name }}}} ...\".")
        values[key] = text
    return Rules(**values)


def _number(table: dict, key: str, default, path: Path, where: str, low=0, high=1_000_000, whole=False):
    """Return a number setting, checked to be finite and from `low` to `high` (a whole number if
    `whole`): nan or inf would pass a `< low` test and fail later with a traceback, or never time out."""
    value = table.get(key, default)
    kind = "a whole number" if whole else "a number"
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or not low <= value <= high or (whole and value != int(value))):
        raise _fail(path, f"{where} {key}", f"'{value}' must be {kind} from {low:,} to {high:,}.")
    return value


def _smtp(table: dict, path: Path) -> SmtpConfig:
    _check_keys(table, _SMTP_KEYS, path, "[smtp]")
    security = str(table.get("security", "starttls")).lower()
    if security not in SECURITY_MODES:
        raise _fail(path, "[smtp] security", f"'{security}' is not one of {', '.join(SECURITY_MODES)}.")
    port = int(_number(table, "port", DEFAULT_PORTS[security], path, "[smtp]", 1, 65535, whole=True))
    day = 24 * 3600
    return SmtpConfig(str(table.get("host", "")).strip(), port, security, str(table.get("user", "")).strip(),
                      float(_number(table, "timeout", 60, path, "[smtp]", 1, day)), str(table.get("helo", "")).strip(),
                      float(_number(table, "data_timeout", DATA_TIMEOUT, path, "[smtp]", 1, day)))


def _remind(table: dict, path: Path) -> RemindSettings:
    _check_keys(table, _REMIND_KEYS, path, "[remind]")
    days = int(_number(table, "within_days", REMIND_DAYS, path, "[remind]", 0, 366, whole=True))
    texts = {}
    for key in ("subject", "body"):
        text = table.get(key, getattr(RemindSettings, key))
        if not isinstance(text, str) or not text.strip():
            raise _fail(path, f"[remind] {key}", "is empty.", f"Give a {key} template, or remove the key to use "
                                                             f"the shipped one.")
        texts[key] = text
    return RemindSettings(days, texts["subject"], texts["body"])


def load_email_settings(inputs: Path) -> EmailSettings:
    """Return inputs/email.toml as EmailSettings; any mistake is one PacketsError naming the setting."""
    path = Path(inputs) / EMAIL_FILE
    if not path.is_file():
        raise PacketsError(f"{path}: not found. Fix: create it (the sample district's inputs/{EMAIL_FILE} "
                           f"is a starting point; see README, 'Emailing packets for review').")
    data = read_toml(path)
    smtp_table = _table(data, "smtp", path)
    if "password" in smtp_table:
        raise _fail(path, "[smtp] password", "passwords are never read from a file.",
                    f"Remove it and set {PASSWORD_ENV} in the environment instead.")
    _check_keys(data, {"email", "smtp", "default", "designation", "remind"}, path, "top level")

    email = _table(data, "email", path)
    _check_keys(email, _EMAIL_KEYS, path, "[email]")
    if not email.get("from"):
        raise _fail(path, "[email] from", "is missing.",
                    'Add from = "School Improvement <improvement@your-district.org>".')
    sender = parse_address(email["from"], path, "[email] from")
    reply_to = parse_address(email["reply_to"], path, "[email] reply_to") if email.get("reply_to") else None
    attach = str(email.get("attach", "auto")).lower()
    if attach not in ATTACH_MODES:
        raise _fail(path, "[email] attach", f"'{attach}' is not one of {', '.join(ATTACH_MODES)}.")
    zip_over = _number(email, "zip_over_mb", 10, path, "[email]", 0, 1_000_000)
    review_days = int(_number(email, "review_days", 14, path, "[email]", 0, 3660, whole=True))

    default = _rules(_table(data, "default", path), None, path, "[default]")
    by_designation = {}
    # Keyed by what a designation is identified for, so [designation.Targeted] covers ATSI and TSI too.
    canonical = {d.casefold(): d for d in IDENTIFICATIONS}
    for name, table in _table(data, "designation", path).items():
        if name.casefold() not in canonical:
            raise _fail(path, f"[designation.{name}]", f"'{name}' is not what a designation is identified for.",
                        f"Use one of: {', '.join(IDENTIFICATIONS)} (templates/designations.csv says what each "
                        f"designation is identified for: a Commendable school's table is [designation.\"Not "
                        f"identified\"]).")
        if not isinstance(table, dict):
            raise _fail(path, f"[designation.{name}]", "must be a table of settings.")
        by_designation[canonical[name.casefold()]] = _rules(table, default, path, f"[designation.{name}]")

    return EmailSettings(path, sender, reply_to, attach, int(zip_over * 1024 * 1024), review_days, default,
                         by_designation, _smtp(smtp_table, path), _remind(_table(data, "remind", path), path))


def smtp_config(settings: EmailSettings, environ: Mapping[str, str] = os.environ) -> SmtpConfig:
    """Return the SMTP server to use: email.toml's [smtp], each field overridden by PACKETS_SMTP_HOST,
    _PORT, _USER and _SECURITY when set."""
    base = settings.smtp
    security = environ.get(ENV_PREFIX + "SECURITY", "").strip().lower() or base.security
    if security not in SECURITY_MODES:
        raise PacketsError(f"{ENV_PREFIX}SECURITY='{security}' is not one of {', '.join(SECURITY_MODES)}.")
    port_text = environ.get(ENV_PREFIX + "PORT", "").strip()
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise PacketsError(f"{ENV_PREFIX}PORT='{port_text}' is not a port number.")
        port = int(port_text)
    elif security != base.security and base.port == DEFAULT_PORTS[base.security]:
        port = DEFAULT_PORTS[security]
    else:
        port = base.port
    host = environ.get(ENV_PREFIX + "HOST", "").strip() or base.host
    if not host:
        raise PacketsError(f"No SMTP server is named. Fix: set host under [smtp] in {settings.path}, "
                           f"or {ENV_PREFIX}HOST in the environment.")
    user = environ.get(ENV_PREFIX + "USER", "").strip() or base.user
    return SmtpConfig(host, port, security, user, base.timeout, base.helo, base.data_timeout)


def smtp_password(config: SmtpConfig, environ: Mapping[str, str] = os.environ) -> str:
    """Return the SMTP password from the environment: '' when no user is set; an error when one is
    and the password is not."""
    password = environ.get(PASSWORD_ENV, "")
    if config.user and not password:
        raise PacketsError(f"The SMTP user is {config.user} and no password is set. Fix: set {PASSWORD_ENV} "
                           f"in the environment (it is never read from a file).")
    return password
