"""Import a state school directory as the district's roster (`packets import-directory`).

A new roster is the workbook `packets init` writes (Instructions sheet, header notes, dropdowns, text
IDs), filled with the directory's schools and people (setup/authoring.py writes both). An existing
roster is never replaced: the directory is merged into it (setup/roster_update.py), which is also how
a newer directory becomes next year's roster. Reading the directory is inputs/directory.py's.
"""

from __future__ import annotations

from pathlib import Path

from generator.findings import PacketsError
from generator.inputs.directory import ImportReport, read_directory
from generator.inputs.schema import PEOPLE, SCHOOLS
from generator.output.atomic import write_atomic
from generator.settings import SETTINGS_FILE, PlanningYear, read_toml
from generator.setup.authoring import workbook_bytes
from generator.setup.roster_update import RosterUpdate, update_roster

ROSTER_SUFFIXES = (".xlsx", ".xlsm")


def roster_bytes(schools: list[dict], people: list[dict], district: str = "Your District Name",
                 planning_year: str | None = None) -> bytes:
    """Return a roster workbook, the one `packets init` writes, holding these Schools and People rows."""
    return workbook_bytes("roster", district, planning_year, {SCHOOLS.name: schools, PEOPLE.name: people})


def write_roster(schools: list[dict], people: list[dict], path: Path, district: str = "Your District Name",
                 planning_year: str | None = None) -> None:
    """Write the roster workbook to `path` atomically: readers see the old file or the whole new one."""
    write_atomic(Path(path), roster_bytes(schools, people, district, planning_year))


def district_settings(folder: Path) -> tuple[str | None, str | None]:
    """Return the district's name and planning year from settings.toml in `folder`, where it is there and
    says them (the roster's Instructions sheet names both); (None, None) otherwise."""
    path = Path(folder) / SETTINGS_FILE
    try:
        table = read_toml(path).get("district", {})
    except (OSError, PacketsError):
        return None, None
    if not isinstance(table, dict):
        return None, None
    name = " ".join(str(table.get("name", "")).split()) or None
    try:
        year: str | None = PlanningYear.parse(str(table.get("planning_year", ""))).label
    except ValueError:
        year = None
    return name, year


def import_directory(directory_file: Path, target: Path, district: str | None = None, charters: bool = False,
                     dry_run: bool = False) -> tuple[ImportReport, RosterUpdate]:
    """Read a state directory (only `district`'s schools, when given; charter schools with `charters`)
    into the roster workbook `target`: a new roster when there is none, else merged into it. Return what
    the directory held and what the roster got. With `dry_run`, nothing is written."""
    target = Path(target)
    if target.suffix.lower() not in ROSTER_SUFFIXES:
        raise PacketsError(f"--output {target}: a roster is an Excel workbook. Fix: give a name ending in .xlsx, "
                           f"such as {target.with_suffix('.xlsx').name}.")
    if target.is_dir():
        raise PacketsError(f"--output {target} is a folder. Fix: give the roster's file name, such as "
                           f"{target / 'roster.xlsx'}.")
    schools, people, report = read_directory(Path(directory_file), district, charters)
    if target.exists():
        return report, update_roster(target, schools, people, report, dry_run)
    name, year = district_settings(target.parent)
    label = name or report.district or (report.districts_found[0] if len(report.districts_found) == 1
                                        else "Your District Name")
    if not dry_run:
        write_roster(schools, people, target, label, year)
    return report, RosterUpdate(target, True, not dry_run, dry_run, len(schools), len(people))
