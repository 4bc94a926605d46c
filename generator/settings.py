"""Settings: the district's settings.toml plus command-line choices, as one frozen object."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import string
import sys
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from generator.findings import PacketsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SETTINGS_FILE = "settings.toml"

# Fields a file-name pattern may use; anything else is refused so a typo cannot silently vanish.
NAME_FIELDS = {"school_id", "slug", "form", "year", "district"}
# The keys settings.toml may hold, by table; anything else is refused so a misspelt key is not ignored.
SETTINGS_KEYS = {"district": {"name", "planning_year", "as_of", "state", "time_zone"}, "output": {"folder", "file"},
                 "templates": {"folder"}}
# Years every date the generator computes stays valid in (a series runs to June 30 after the end year).
FIRST_YEAR, LAST_YEAR = 1900, 2199
# How far the day overdue is judged by may lie from the planning year.
AS_OF_YEARS = 10


@dataclass(frozen=True)
class PlanningYear:
    """A school year such as 2026-27, which runs from July 1 to June 30."""

    start: int

    @property
    def end(self) -> int:
        return self.start + 1

    @property
    def label(self) -> str:
        return f"{self.start}-{self.end % 100:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.start, 7, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.end, 6, 30)

    @classmethod
    def parse(cls, text: str) -> "PlanningYear":
        """Return the planning year written as `2026-27`, `2026-2027` or `2026`."""
        m = re.fullmatch(r"\s*(\d{4})\s*(?:[-/\u2013]\s*(\d{2}|\d{4}))?\s*", str(text))
        if not m:
            raise ValueError(f"'{text}' is not a school year; write it as 2026-27")
        start = int(m.group(1))
        if m.group(2):
            end = int(m.group(2))
            if end < 100:                       # 2026-27, and 2099-00 across a century
                end += start // 100 * 100 + (100 if end < start % 100 else 0)
            if end != start + 1:
                raise ValueError(f"'{text}' does not span two consecutive years; "
                                 f"write it as {start}-{(start + 1) % 100:02d}")
        if not FIRST_YEAR <= start <= LAST_YEAR:
            raise ValueError(f"'{text}' is not a school year from {FIRST_YEAR} to {LAST_YEAR}")
        return cls(start)


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know besides the spreadsheets themselves."""

    inputs: Path
    output: Path
    district_name: str
    planning_year: PlanningYear
    as_of: dt.date
    folder_pattern: str = "{school_id}-{slug}"
    file_pattern: str = "{school_id}-{form}"
    schools: tuple[str, ...] = field(default=())   # limit a run to these school ids
    templates: Path | None = None     # the district's own templates, each used instead of the shipped one
    # The district's state, as settings.toml writes it ("IL", "California"): its profile in the templates
    # (states/<code>.toml) says which forms apply, where plans are submitted and what the state is called.
    # "": not set, read as Illinois with a warning (see README, "States and designations").
    state: str = ""
    time_zone: str = ""               # IANA name (America/Chicago) of the meetings' clock times; "": floating
    # How the run goes, as the command line asks (none is in settings.toml).
    strict: bool = False          # readiness warnings count as failures
    jobs: int = 1                 # processes building packets at once
    force: bool = False           # rebuild packets whose inputs have not changed
    pdf: bool = False             # also make each school's combined PDF


def _check_pattern(pattern: str, key: str, path: Path) -> str:
    where = f"{path}: [output] {key} = '{pattern}'"
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(pattern)
                  if name is not None]
    except ValueError as exc:
        raise PacketsError(f"{where} is not a valid pattern ({exc}).") from None
    unknown = sorted({n for n, _, _ in fields if n not in NAME_FIELDS and n.isidentifier()})
    if unknown:
        raise PacketsError(
            f"{path}: [output] {key} uses unknown field(s) {', '.join('{' + n + '}' for n in unknown)}. "
            f"Fix: use only {', '.join('{' + n + '}' for n in sorted(NAME_FIELDS))}.")
    # A format (:d), conversion (!r), attribute (.x), index ([0]) or number ({0}, {}) would fail or
    # quote the name at build time; only a field's plain name is a pattern.
    for name, spec, conversion in fields:
        if name not in NAME_FIELDS or spec or conversion:
            text = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            plain = next((n for n in sorted(NAME_FIELDS) if name.startswith(n)), "school_id")
            raise PacketsError(f"{where}: {text} is not a plain field. Fix: write fields as {{{plain}}}, without "
                               f"a format, conversion, attribute or index.")
    if key == "file" and "form" not in {n for n, _, _ in fields}:
        raise PacketsError(f"{where} does not use {{form}}, so every document of a packet would get the same "
                           f"name. Fix: add {{form}}, e.g. file = \"{Settings.file_pattern}\".")
    return pattern


def refuse_unknown(table: dict, allowed, path: Path, where: str = "") -> None:
    """Raise a PacketsError naming the first key of `table` not in `allowed`, and the known key nearest
    to it: a misspelt setting must stop the run, not be silently ignored. `where` is the table's name
    as written ("[district]"), or "" for the top level, whose keys are tables."""
    unknown = sorted(set(table) - set(allowed))
    if not unknown:
        return
    key = unknown[0]
    show = (lambda k: f"[{k}]") if not where else str
    kind = "table" if not where and isinstance(table[key], dict) else "key"
    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    hint = f"Did you mean {show(close[0])}?" if close else f"Use one of: {', '.join(map(show, sorted(allowed)))}."
    name = f"[{key}]" if kind == "table" else f"{where} {key}".strip()
    raise PacketsError(f"{path}: unknown {kind} {name}. {hint}")


def read_toml(path: Path) -> dict:
    """Return a settings file's tables; a file that is not TOML is one PacketsError naming it."""
    try:
        # utf-8-sig: Notepad and some editors start the file with a byte-order mark, which TOML refuses.
        return tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PacketsError(f"{path}: not valid TOML ({exc}).") from None


def load_settings(inputs: Path, output: Path | None = None, as_of: dt.date | None = None,
                  schools: tuple[str, ...] = (), templates: Path | None = None, strict: bool = False,
                  jobs: int = 1, force: bool = False, pdf: bool = False) -> Settings:
    """Return the settings for a run from `inputs/settings.toml` and the command line's choices."""
    inputs = Path(inputs)
    if not inputs.is_dir():
        raise PacketsError(f"The inputs folder '{inputs}' does not exist. Fix: pass --inputs with the folder "
                           f"that holds roster.xlsx, timeline.xlsx, goals.xlsx and {SETTINGS_FILE}.")
    path = inputs / SETTINGS_FILE
    if not path.is_file():
        raise PacketsError(f"{path}: not found. Fix: create it with [district] name and planning_year "
                           f"(see README, 'Settings').")
    data = read_toml(path)
    refuse_unknown(data, SETTINGS_KEYS, path)

    district = data.get("district", {})
    out = data.get("output", {})
    own = data.get("templates", {})
    for table, value in (("district", district), ("output", out), ("templates", own)):
        if not isinstance(value, dict):
            raise PacketsError(f"{path}: [{table}] must be a table of settings (a [{table}] line followed by "
                               f"name = value lines), not a single value.")
        refuse_unknown(value, SETTINGS_KEYS[table], path, f"[{table}]")
    name = str(district.get("name", "")).strip()
    if not name:
        raise PacketsError(f"{path}: [district] name is missing. Fix: add name = \"Your District\".")
    try:
        year = PlanningYear.parse(str(district.get("planning_year", "")))
    except ValueError as exc:
        raise PacketsError(f"{path}: [district] planning_year: {exc}.") from None

    state = district.get("state", "")
    if not isinstance(state, str):
        raise PacketsError(f"{path}: [district] state must be text naming the district's state, such as "
                           f"state = \"IL\" or state = \"CA\".")

    when = as_of or district.get("as_of") or dt.date.today()
    if isinstance(when, dt.datetime):
        when = when.date()
    if not isinstance(when, dt.date):
        raise PacketsError(f"{path}: [district] as_of must be a date such as 2026-11-23.")
    if (as_of or district.get("as_of")) and abs(when.year - year.start) > AS_OF_YEARS:
        # A date given that far off is a typing slip, and one near 9999 overflows the dates counted from it.
        where = "--as-of" if as_of else f"{path}: [district] as_of"
        raise PacketsError(f"{where} {when.isoformat()} is more than {AS_OF_YEARS} years from the planning year "
                           f"{year.label}. Fix: give a date within the planning year, or correct planning_year.")

    return Settings(
        inputs=inputs,
        output=Path(output) if output else Path("output"),
        district_name=name,
        planning_year=year,
        as_of=when,
        folder_pattern=_check_pattern(str(out.get("folder", Settings.folder_pattern)), "folder", path),
        file_pattern=_check_pattern(str(out.get("file", Settings.file_pattern)), "file", path),
        schools=tuple(schools),
        templates=_templates_folder(templates, own, inputs, path),
        state=state.strip(),
        time_zone=_time_zone(district.get("time_zone"), path),
        strict=strict, jobs=jobs, force=force, pdf=pdf,
    )


def _time_zone(value, path: Path) -> str:
    """Return [district] time_zone as an IANA time zone name zoneinfo knows ("" when not set)."""
    if value is None:
        return ""
    name = str(value).strip()
    example = "America/Chicago (Illinois) or America/Los_Angeles (California)"
    if not isinstance(value, str) or not name:
        raise PacketsError(f"{path}: [district] time_zone must be a time zone name such as {example}.")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        known = sorted(zoneinfo.available_timezones())
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) or \
            [z for z in known if z.casefold() == name.casefold()]
        hint = f"Did you mean {close[0]}? " if close else ""
        raise PacketsError(f"{path}: [district] time_zone '{name}' is not a time zone name. {hint}Fix: use an IANA "
                           f"name such as {example}.") from None
    return name


def _templates_folder(option: Path | None, table: dict, inputs: Path, path: Path) -> Path | None:
    """Return the district's own templates folder: --templates, else [templates] folder (relative to the
    inputs folder), else None (only the shipped templates)."""
    if option is not None:
        folder, where = Path(option), f"--templates {option}"
    elif "folder" in table:
        folder, where = inputs / str(table["folder"]), f"{path}: [templates] folder = '{table['folder']}'"
    else:
        return None
    if not folder.is_dir():
        raise PacketsError(f"{where}: no such folder. Fix: give the folder that holds the district's own "
                           f"templates, or leave it out to use the shipped ones.")
    return folder
