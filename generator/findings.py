"""Findings: every problem the pipeline reports, and the one exception family that carries them."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

ERROR = "error"
WARNING = "warning"
NOTE = "note"


@dataclass(frozen=True)
class Finding:
    """One problem, located as precisely as the input allows."""

    severity: str                 # error | warning | note
    message: str                  # what is wrong, in the user's terms
    file: str = ""                # roster.xlsx
    sheet: str = ""               # People
    row: int | None = None        # the Excel row number (1-based, as Excel shows it)
    column: str = ""              # the column letter, C
    header: str = ""              # the header as written in the sheet, Role
    value: str = ""               # the offending value, as text
    fix: str = ""                 # how to fix it
    school_id: str = ""           # the school concerned, when there is one
    rule: str = ""                # the readiness rule's name, for plan findings

    def location(self) -> str:
        """Return where the problem is, e.g. `roster.xlsx, sheet People, row 14, column C (Role)`;
        a readiness finding starts with its school."""
        parts = [f"school {self.school_id}"] if self.rule and self.school_id else []
        parts += [p for p in (self.file, f"sheet {self.sheet}" if self.sheet else "") if p]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}" + (f" ({self.header})" if self.header else ""))
        elif self.header:
            parts.append(f"column {self.header}")
        return ", ".join(parts)

    def line(self) -> str:
        """Return the finding as one line of a report."""
        head = f"{self.severity}: "
        where = self.location()
        if where:
            head += where + ": "
        text = self.message
        if self.rule:
            text = f"[{self.rule}] {text}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return head + text


def errors(findings) -> list[Finding]:
    """Return the error findings."""
    return [f for f in findings if f.severity == ERROR]


def district_errors(findings) -> list[Finding]:
    """Return the errors that stop a build: those that belong to no one school (a setting, the roster's
    Schools sheet, a missing sheet or column, a file that cannot be read, a district-wide row). An error
    on a row that names a school (its School ID) fails that school alone."""
    return [f for f in findings if f.severity == ERROR and not f.school_id]


def errors_by_school(findings) -> dict[str, list[Finding]]:
    """Return each school's errors, keyed by School ID, in the order found."""
    found: dict[str, list[Finding]] = {}
    for f in findings:
        if f.severity == ERROR and f.school_id:
            found.setdefault(f.school_id, []).append(f)
    return found


QUOTE_CHARS = 80                 # a quoted text is at most about a line of a form's findings column


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """Return text as a finding quotes it: whole when short, else its first words up to `limit`
    characters and an ellipsis. A finding names the activity or task it is about; quoting a
    1,500-character activity whole made one finding fill a review form's row past the page foot.
    The whole text stays in the inputs (and in Finding.value where the finding is about that cell)."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit + 1].rsplit(" ", 1)[0] if " " in text[:limit + 1] else text[:limit]
    return cut.rstrip(" ,;:.-") + "\u2026"


def rows_text(rows) -> str:
    """Return Excel row numbers as a finding lists them: `rows 4, 9 and 12`, or the first few and a count."""
    rows = sorted(set(rows))
    if len(rows) == 1:
        return f"row {rows[0]}"
    shown = [str(r) for r in rows[:3]]
    if len(rows) > 4:
        return f"rows {', '.join(shown)} and {len(rows) - 3} more"
    return f"rows {', '.join(str(r) for r in rows[:-1])} and {rows[-1]}"


def summary(findings, nothing_written: bool = False) -> str:
    """Return one line counting errors and warnings, e.g. `3 errors, 2 warnings in 2 schools`."""
    n_err = sum(f.severity == ERROR for f in findings)
    n_warn = sum(f.severity == WARNING for f in findings)
    schools = {f.school_id for f in findings if f.school_id and f.severity in (ERROR, WARNING)}
    text = f"{n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)}"
    if schools:
        text += f" in {len(schools)} school{'s' * (len(schools) != 1)}"
    if nothing_written:
        text += "; nothing was written"
    return text


class PacketsError(Exception):
    """A problem the user can fix; the CLI prints it without a traceback."""


class InputError(PacketsError):
    """The inputs have errors; carries every finding so all can be reported at once."""

    def __init__(self, findings):
        self.findings = list(findings)
        super().__init__(summary(self.findings, nothing_written=True))

    def __reduce__(self):
        # Made again from its findings, not its message: one raised in a pool worker must reach the
        # building process whole (unpickled from the message, it broke the pool).
        return (type(self), (self.findings,))


_OS_FIXES = {
    errno.ENOSPC: "free space on that disk, then run again",
    errno.EDQUOT: "free space within your disk quota, then run again",
    errno.EACCES: "make it writable for you, or choose another folder",
    errno.EPERM: "make it writable for you, or choose another folder",
    errno.EROFS: "choose a folder on a disk that is not read-only",
    errno.EISDIR: "move or rename that folder; a file of that name goes there",
    errno.ENOTDIR: "move that file away, or choose another path",
}


def os_error_text(exc: OSError) -> str:
    """Return a file-system error as `<path>: <reason>. Fix: ...`, the file named rather than our own
    temporary copy of it (os.replace names both)."""
    path = exc.filename
    if exc.filename2 and Path(str(path)).name.startswith((".tmp-", ".old-")):
        path = exc.filename2
    text = f"{path}: {exc.strerror or exc}" if path else str(exc.strerror or exc)
    fix = _OS_FIXES.get(exc.errno) if exc.errno is not None else None
    return f"{text}. Fix: {fix}." if fix else text
