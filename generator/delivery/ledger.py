"""Send ledger: output/send-ledger.json, what was delivered to whom, for which version of each packet.

It is rewritten atomically after every message the server accepts, so a run that dies midway
leaves it true: what it lists was delivered; whatever it does not list is sent by the next run.
A packet counts as the same while its version is the same (send.packet_version: it changes with the
school's inputs, the templates or the generator, not with the day it was built); a new version's
sends start afresh, and the earlier ones move to `earlier`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from generator.findings import PacketsError
from generator.output import atomic
from generator.output.lock import OutputLock

LEDGER = "send-ledger.json"
VERSION = 1


@dataclass
class Ledger:
    path: Path
    schools: dict[str, dict] = field(default_factory=dict)
    # Each school's entry as one line of JSON, made again only when that school changes: the file is
    # rewritten after every message, and re-encoding thousands of unchanged schools each time made a
    # large district's run quadratic.
    _lines: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, output: Path) -> "Ledger":
        """Return the output folder's ledger; none yet is an empty one. An unreadable ledger stops the
        run: treating it as empty would send every packet a second time."""
        path = Path(output) / LEDGER
        if not path.exists():
            return cls(path)
        fix = ("It records what was already sent, so nothing is sent without it. Fix: restore it from a "
               "backup, or move it away to send every packet again.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PacketsError(f"{path} cannot be read ({exc}). {fix}") from None
        problem = _shape_problem(data)
        if problem:
            raise PacketsError(f"{path} is not a send ledger: {problem}. {fix}")
        return cls(path, data["schools"])

    def delivered(self, school_id: str, version: str) -> set[str]:
        """Return the addresses (lower case) this version of the school's packet was delivered to."""
        entry = self.schools.get(school_id, {})
        if entry.get("version") != version:
            return set()
        return {a.lower() for m in entry.get("messages", ()) for a in m.get("delivered", ())}

    def last_sent(self, school_id: str) -> str:
        messages = self.schools.get(school_id, {}).get("messages", ())
        return messages[-1].get("sent_at", "") if messages else ""

    def record(self, school_id: str, name: str, version: str, message: dict) -> None:
        """Add one accepted message for a school and write the ledger to disk at once."""
        entry = self.schools.get(school_id)
        if entry and entry.get("version") != version:
            earlier = entry.get("earlier", [])
            earlier.append({"version": entry.get("version"), "messages": entry.get("messages", [])})
            entry = {"earlier": earlier}
        entry = entry or {}
        entry.update(name=name, version=version)
        entry["messages"] = entry.get("messages", []) + [message]
        self.schools[school_id] = {k: entry[k] for k in ("name", "version", "messages", "earlier") if k in entry}
        self._lines.pop(school_id, None)
        self.save()

    def save(self) -> None:
        """Write the ledger atomically: valid JSON, one line per school."""
        for sid in self.schools.keys() - self._lines.keys():
            self._lines[sid] = f"{json.dumps(sid)}: {json.dumps(self.schools[sid], ensure_ascii=False)}"
        text = (f'{{"version": {VERSION}, "schools": {{\n'
                + ",\n".join(self._lines[sid] for sid in sorted(self.schools)) + "\n}}\n")
        atomic.write_atomic(self.path, text.encode("utf-8"))


def _shape_problem(data) -> str:
    """Return what is wrong with the shape of a ledger read as JSON, or '' when nothing is. Valid JSON
    of another shape would otherwise fail, mid-run, with a traceback (or read "abc" as three addresses)."""
    if not isinstance(data, dict) or not isinstance(data.get("schools"), dict):
        return "it has no \"schools\" object"
    for sid, entry in data["schools"].items():
        where = f"school {sid}"
        if not isinstance(entry, dict):
            return f"{where} is not an object"
        for key in ("name", "version"):
            if key in entry and not isinstance(entry[key], str):
                return f"{where}: \"{key}\" is not text"
        for key in ("messages", "earlier"):
            if not isinstance(entry.get(key, []), list) or not all(isinstance(m, dict) for m in entry.get(key, [])):
                return f"{where}: \"{key}\" is not a list of objects"
        for number, message in enumerate(entry.get("messages", []), 1):
            delivered = message.get("delivered", [])
            if not isinstance(delivered, list) or not all(isinstance(a, str) for a in delivered):
                return f"{where}, message {number}: \"delivered\" is not a list of addresses"
            if not isinstance(message.get("sent_at", ""), str):
                return f"{where}, message {number}: \"sent_at\" is not text"
    return ""


def now() -> dt.datetime:
    return dt.datetime.now().astimezone().replace(microsecond=0)


class SendLock(OutputLock):
    """Hold the output folder's lock while sending, so two runs at once cannot both send a packet, and
    no send reads a packet a build is still writing. The operating system releases it if the process
    dies, so a crash never leaves it stuck."""

    def __init__(self, output: Path):
        super().__init__(output, "send")
