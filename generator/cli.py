"""The `packets` command: a thin click layer over generator.pipeline."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import NoReturn

import click

from generator.findings import InputError, PacketsError, os_error_text

INPUTS_HELP = "Folder holding settings.toml, roster.xlsx, timeline.xlsx and goals.xlsx."


def _settings(inputs, output=None, as_of=None, schools=(), templates=None, **options):
    """Return the run's Settings; `options` are the command's strict, jobs, force and pdf."""
    from generator.settings import load_settings
    if output:
        _check_output_folder(Path(output))
    return load_settings(Path(inputs), Path(output) if output else None, as_of.date() if as_of else None,
                         tuple(schools), Path(templates) if templates else None, **options)


def _check_output_folder(folder: Path) -> None:
    """Refuse an --output that is, or lies inside, a file; a folder not there yet is made by the build."""
    for path in (folder, *folder.parents):
        if path.exists():
            if not path.is_dir():
                where = f"{folder}" if path == folder else f"{folder}: {path}"
                raise PacketsError(f"--output {where} is a file, not a folder. Fix: choose a folder for --output.")
            return


def _tolerant_output() -> None:
    """Make stdout and stderr write what their encoding cannot show as escapes (`\\u5317`): a log
    redirected on Windows is cp1252, and a school's name must not stop the build that prints it."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):       # a stream already written to in a way that cannot change
                pass


def _echo_lines(lines) -> None:
    for line in lines:
        click.echo(line, err=line.lstrip().startswith("error:"))


def _echo_findings(findings, verbose: bool = False, schools=(), details: str = "", lead=()) -> None:
    """Print the findings (and each school's state): a line each while they fit on a screen, or with
    --verbose; else a summary by rule and by school, the worst first, saying where the details are."""
    from generator.render.validation import summary_lines, verbose_lines
    _echo_lines(verbose_lines(findings, schools) if verbose else summary_lines(findings, schools, details, lead=lead))


def _report_path(inputs, report) -> Path:
    return Path(report) if report else Path(inputs) / "validation.xlsx"


def _write_report(path: Path, findings, summary_line: str) -> None:
    """Write validation.xlsx for staff who do not read terminals; failing to write it is only a warning."""
    from generator.pipeline import write_validation_report
    try:
        write_validation_report(path, findings, summary_line)
        click.echo(f"The same report, a row per problem: {path}")
    except OSError as exc:
        click.echo(f"warning: could not write the report: {os_error_text(exc)}", err=True)
    except PacketsError as exc:
        click.echo(f"warning: could not write {path} ({exc}).", err=True)


def _run(func, report: Path | None = None, doing: str = "running the command", stopped: int = 1,
         interrupted: str = ""):
    """Run a command body; a problem the user can fix is printed as plain lines, never a traceback,
    and exits `stopped`. A file-system failure (a full disk, a folder that cannot be written, a folder
    where a file goes) is one line: what was being done, the path, and why; it exits 1. With
    `interrupted`, Ctrl-C prints that line and exits 130."""
    try:
        return func()
    except OSError as exc:
        click.echo(f"error: {doing}: {os_error_text(exc)}", err=True)
        sys.exit(1)
    except InputError as exc:
        from generator.findings import district_errors
        _echo_findings(exc.findings, details=str(report) if report is not None else "",
                       lead=district_errors(exc.findings))
        if report is not None:
            _write_report(report, exc.findings, str(exc))
        click.echo(str(exc), err=True)
        sys.exit(stopped)
    except PacketsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(stopped)
    except KeyboardInterrupt:
        if not interrupted:
            raise
        click.echo(interrupted, err=True)
        sys.exit(130)


common_inputs = click.option("--inputs", "inputs", default="inputs", show_default=True,
                             type=click.Path(file_okay=False), help=INPUTS_HELP)
common_as_of = click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
                            help="Judge overdue tasks as of this date (YYYY-MM-DD) instead of today.")
common_strict = click.option("--strict", is_flag=True, help="Treat readiness warnings as failures.")
common_templates = click.option(
    "--templates", "templates", type=click.Path(), metavar="DIR",
    help="The district's own templates: each file there replaces the shipped one of its name "
         "(default: [templates] folder in settings.toml, else only the shipped templates).")
common_report = click.option("--report", "report", type=click.Path(dir_okay=False),
                             help="Where to write validation.xlsx (default: inside the inputs folder).")


def output_folder(help: str):
    # An --output that is a file is refused by _check_output_folder, in the one-line form of every error.
    return click.option("--output", "output", default="output", show_default=True,
                        type=click.Path(), help=help)


def school_filter(help: str):
    return click.option("--school", "schools", multiple=True, metavar="ID", help=help)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Build school-improvement plan packets from a district's spreadsheets.

    Start with `packets validate` to see what is missing, then `packets build`.
    """
    _tolerant_output()


@main.command()
@common_inputs
@output_folder("Folder the packets are written to (one sub-folder per school).")
@school_filter("Build only this school (repeat for several). Default: every school on the roster.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Build in this many processes at once. Default: the machine's cores.")
@click.option("--force", is_flag=True, help="Rebuild every packet, even those whose inputs have not changed.")
@click.option("--pdf", is_flag=True,
              help="Also make each school's combined PDF (cover, contents, every Word form) with LibreOffice.")
@common_as_of
@common_strict
@common_report
@common_templates
@click.option("--verbose", is_flag=True,
              help="Print every problem a line each, notes too (ignored columns, missing optional sheets), "
                   "instead of a summary by rule and by school.")
def build(inputs, output, schools, jobs, force, pdf, as_of, strict, report, templates, verbose):
    """Build a packet for every school: the Schedule for Plan Development (.docx and .xlsx),
    the ISBE planning-year grid (.docx and .xlsx), the Plan for Improvement, the Plan Review
    form and the school's calendar (.ics); then output/readiness.xlsx and the district's view
    (district.xlsx, district.ics, index.html).

    An input error of the district (settings, the roster's Schools sheet, a missing sheet or column, a
    file that cannot be read, a district-wide row) stops the run before anything is written. An error in
    a school's own rows fails that school alone: it is not built, its earlier packet stays as it was,
    readiness.xlsx and index.html list it as "Not built: input errors", and the run exits 1 once the
    others are built. A school whose plan is not ready still gets its packet; readiness.xlsx says what
    is missing (a row per finding on its Findings sheet). A school whose inputs, templates and generator
    have not changed since the last build is skipped (--force rebuilds it). With --school, readiness.xlsx
    and the district's view still show every school: the others as last built.

    With --pdf each packet also gets <id>-packet.pdf: a cover, the contents and every Word form, with
    bookmarks, converted by headless LibreOffice (which must be installed). If a PDF cannot be made the
    Word and Excel packet is still complete, and the run says why and exits 1.
    """
    import os
    import time

    from generator.pipeline import build as build_packets

    def body():
        settings = _settings(inputs, output, as_of, schools, templates, strict=strict,
                             jobs=jobs or os.cpu_count() or 1, force=force, pdf=pdf)
        started = time.perf_counter()
        if pdf:
            from generator.output.pdf import missing_fonts_warning
            if fonts := missing_fonts_warning():        # a warning: the PDFs are made all the same
                click.echo(f"warning: {fonts}", err=True)
        with _progress() as progress:
            result = build_packets(settings, progress=progress)
        _echo_build_findings(result, verbose, _report_path(inputs, report))
        ready = sum(r.ready for r in result.results)
        blocked = len(result.blocked)
        built = len(result.results) - len(result.failed) - len(result.skipped) - blocked
        click.echo(f"Built {built}, skipped {len(result.skipped)} unchanged, failed {len(result.failed)}"
                   + (f", not built for input errors {blocked}" if blocked else "")
                   + f" in {time.perf_counter() - started:.1f} s; {ready} of {len(result.results)} school(s) ready. "
                   f"Packets in {settings.output}; readiness: {result.report}")
        if pdf:
            made = sum(any(p.suffix == ".pdf" for p in r.documents) for r in result.results)
            click.echo(f"Packet PDFs: {made} of {len(result.results)} school(s).")
            _echo_pdf_errors(result.pdf_failed)
        if result.failed:
            for r in result.failed:
                click.echo(r.error, err=True)
        if result.failed or result.pdf_failed or result.input_problem:
            sys.exit(1)
    # On Ctrl-C the workers and LibreOffice were stopped on the way out; every document placed is whole.
    _run(body, _report_path(inputs, report), doing="building the packets",
         interrupted="Interrupted: the build stopped; earlier documents are intact; run the build again to finish it.")


def _echo_build_findings(result, verbose: bool, report: Path) -> None:
    """Print a build's input findings (the run's schools' and the district's) and name the schools not
    built for their input errors; write validation.xlsx when there were any."""
    from generator.findings import errors, summary
    from generator.render.validation import SchoolState
    findings = [f for f in result.input_findings if result.in_run(f)]
    blocked = [SchoolState(r.school_id, r.school_name, "NOT BUILT: input errors, its earlier packet is kept"
                           if r.built_at else "NOT BUILT: input errors", stopped=True) for r in result.blocked]
    details = f"{report} and {result.report} (its Findings sheet)" if result.input_problem else \
        f"{result.report} (its Findings sheet)"
    _echo_findings(findings, verbose, blocked, details)
    if result.input_problem:
        _write_report(report, [f for f in findings if f.severity != "note"], summary(findings))
    others = sorted({f.school_id for f in errors(result.input_findings) if not result.in_run(f)})
    if others:
        shown = ", ".join(others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
        click.echo(f"Also: {len(others)} school(s) outside this run have input errors ({shown}); "
                   f"{result.report} lists them.")


def _echo_pdf_errors(failed) -> None:
    """Print why PDFs were not made, each reason once with the schools it stopped (LibreOffice missing
    stops them all)."""
    by_reason: dict[str, list[str]] = {}
    for r in failed:
        by_reason.setdefault(r.pdf_error, []).append(r.school_id)
    for reason, ids in by_reason.items():
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        click.echo(f"error: no PDF for {shown} (the Word and Excel packet is complete): {reason}", err=True)


class _progress:
    """Progress of a build: a bar with count, rate and time left on a terminal; a line per school
    otherwise (logs, CI, make), so either way a long run shows it is moving."""

    def __enter__(self):
        self.count = 0
        self.bar = None
        if sys.stdout.isatty():
            from tqdm import tqdm
            self.bar = tqdm(unit="school", dynamic_ncols=True)
        return self

    def __call__(self, result) -> None:
        from generator.model.status import progress_word
        self.count += 1
        status = progress_word(result.ready, bool(result.error), result.skipped, result.blocked)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"{result.school_id} {status}", refresh=False)
            if result.error:
                self.bar.write(result.error)
        else:
            where = result.error or (("earlier packet kept: " + str(result.folder)) if result.blocked and result.folder
                                     else "no packet" if result.blocked else result.folder)
            click.echo(f"[{self.count}] {result.school_id} {result.school_name}: {status} -> {where}")

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False


@main.command()
@common_inputs
@common_as_of
@common_strict
@common_report
@click.option("--verbose", is_flag=True,
              help="Print every problem a line each, notes too (ignored columns, missing optional sheets), "
                   "instead of a summary by rule and by school.")
def validate(inputs, as_of, strict, report, verbose):
    """Check the inputs and every school's readiness without writing anything.

    Exits 0 when every school is ready for submission, 1 with the report otherwise. What fits on a
    screen is listed a line each, more as a summary by rule and by school, the worst first (--verbose
    lists everything). The same report, a row per problem, is written as validation.xlsx (in the inputs
    folder unless --report says where).
    """
    from generator.model.status import check_word
    from generator.pipeline import validate as validate_inputs
    from generator.render.validation import SchoolState

    def body():
        result = validate_inputs(_settings(inputs, as_of=as_of, strict=strict))
        path = _report_path(inputs, report)
        states = [SchoolState(s.school_id, s.name, check_word(s.ready, bool(s.input_errors)), s.findings,
                              stopped=bool(s.input_errors)) for s in result.schools]
        _echo_findings(result.input_findings, verbose, states, str(path))
        _write_report(path, result.reported, result.summary)
        click.echo(result.summary)
        sys.exit(0 if result.all_ready else 1)
    _run(body, _report_path(inputs, report), doing="validating the inputs")


@main.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--district", default="Your District Name", show_default=True, help="The district's name.")
@click.option("--planning-year", default="2026-27", show_default=True, help="The planning year, e.g. 2026-27.")
@click.option("--force", is_flag=True, help="Overwrite existing input workbooks in FOLDER.")
def init(folder, district, planning_year, force):
    """Write blank input workbooks (roster, timeline, goals), settings.toml and email.toml into FOLDER.

    The workbooks have the exact headers, an Instructions sheet, comments on every header,
    dropdowns for designations, roles and stages, and date formats. Fill them in, then run
    `packets validate --inputs FOLDER` and `packets build --inputs FOLDER`.
    """
    from generator.setup.authoring import init_inputs

    def body():
        for path in init_inputs(Path(folder), district, planning_year, overwrite=force):
            click.echo(f"wrote {path}")
        click.echo(f"Next: fill in the workbooks, then `packets validate --inputs {folder}`.")
    _run(body, doing="writing the input workbooks")


@main.command("import-directory")
@click.argument("directory_file", type=click.Path(dir_okay=False, exists=True))
@click.option("--district", help="Import only this district's schools (e.g. \"Los Angeles Unified\").")
@click.option("--output", "output", default="roster.xlsx", show_default=True, type=click.Path(dir_okay=False),
              help="The roster workbook: written new, or updated when it exists.")
@click.option("--charters", is_flag=True, help="Import charter schools too (left out by default).")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.option("--force", is_flag=True,      # it used to replace the roster; kept so old scripts still run
              help="No longer needed: an existing roster is updated, never replaced.")
def import_directory(directory_file, district, output, charters, dry_run, force):
    """Start or update the roster workbook (Schools and People sheets) from a state school directory.

    Reads the California Department of Education "pubschls" file or the Illinois RCDTS
    directory (told apart by their headers). Codes keep their leading zeros; closed schools,
    district rows and (without --charters) charter schools are left out; principals and the
    superintendent become people where the file names them. A new roster is the workbook
    `packets init` writes. An existing roster is updated, never replaced: new schools are added,
    changed names, addresses and principals are updated, and the designations and people staff
    entered are kept; each change is listed. Run it again with next year's directory to update.
    """
    from generator.inputs.directory import CHARTER
    from generator.setup.directory import import_directory as import_roster

    def body():
        if force:
            click.echo("note: --force is no longer needed: an existing roster is updated, never replaced.", err=True)
        target = Path(output)
        report, update = import_roster(Path(directory_file), target, district, charters=charters, dry_run=dry_run)
        click.echo(f"Read {report.source_format} directory {directory_file}"
                   + (f", district {report.district}" if report.district else "")
                   + f": {report.schools} school(s) and {report.people} person row(s).")
        for reason, count in report.skipped.items():
            hint = " (--charters imports them)" if reason == CHARTER else ""
            click.echo(f"Skipped {count}: {reason}{hint}.")
        click.echo(update.summary())
        for line in update.lines():
            click.echo(f"  {line}")
        for note in (*update.notes, *report.notes):
            click.echo(f"Note: {note}")
    _run(body, doing="importing the directory")


@main.command()
@click.argument("school_id")
@common_inputs
@common_as_of
@click.option("--form", "form", help="Print only this form's context (schedule, isbe-grid, plan, ...; "
                                    "after-action-review: the school's next check-in from --as-of).")
@common_templates
def context(school_id, inputs, as_of, form, templates):
    """Print as JSON exactly the data each template receives for SCHOOL_ID, for template authors."""
    from generator.pipeline import school_context

    def body():
        contexts = school_context(_settings(inputs, as_of=as_of, templates=templates), school_id, form)
        click.echo(json.dumps(contexts, indent=2, ensure_ascii=False, default=_json_default))
    _run(body, doing="reading the inputs")


@main.command()
@common_inputs
@output_folder("The folder `packets build` wrote the packets to.")
@school_filter("Send only this school's packet (repeat for several). Default: every school.")
@click.option("--only-ready", is_flag=True, help="Send only the packets of schools whose plan is ready.")
@click.option("--smtp", is_flag=True,
              help="Send through the SMTP server ([smtp] in email.toml, or PACKETS_SMTP_HOST, _PORT, _USER, "
                   "_PASSWORD, _SECURITY). Without it, messages are written to output/outbox/.")
@click.option("--dry-run", is_flag=True, help="Print who would receive what; write and send nothing.")
@click.option("--resend", is_flag=True, help="Send again packets already sent (with --school, only those).")
@common_strict
@common_templates
def send(inputs, output, schools, only_ready, smtp, dry_run, resend, strict, templates):
    """Email each school's finished packet to its reviewers, as inputs/email.toml says.

    Sends what the last `packets build` made (it does not build). By default each message is written
    as an .eml file into output/outbox/ with a listing of who receives what; --smtp sends them. A
    packet already sent is not sent again until it changes; output/send-ledger.json records every
    message delivered. Exit 0 when all went, 1 when a school was held back or not (fully) sent, 2
    when the settings or inputs stop the run.
    """
    from generator.delivery.send import outcome_lines
    from generator.pipeline import send as send_packets

    def progress(outcome, number, total):
        for line in outcome_lines(outcome, number, total):
            click.echo(line, err=outcome.problem and line.startswith("  error"))

    def body():
        try:
            # No --as-of: each packet is judged by the day its build recorded (see delivery.send).
            settings = _settings(inputs, output, schools=schools, templates=templates, strict=strict)
        except OSError as exc:          # as pipeline.send reports one before the first message
            raise PacketsError(f"reading the build: {os_error_text(exc)}") from None
        _mailed(send_packets(settings, _mailer(dry_run, smtp), only_ready, resend, progress))
    _run(body, doing="sending the packets", stopped=2,
         interrupted="Interrupted: every message already sent or written is recorded; run send again for the rest.")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(), metavar="FILE|FOLDER...")
@common_inputs
@output_folder("The output folder the packets were built in (to tell an outdated tracker).")
@school_filter("Accept only this school's trackers (repeat for several); another school's is refused.")
@click.option("--apply", "apply", is_flag=True,
              help="Write the changes into the district's workbooks (a dated copy kept in backups/).")
def collect(paths, inputs, output, schools, apply):
    """Read the trackers and Plan Review forms schools returned, and show what they change.

    Schedule trackers, ISBE grid trackers (.xlsx, .ods) and Plan Review forms (.docx), as files or folders
    of them. Each row is matched to its task by its Row ID (a review round by its Round ID), however the
    school sorted, filtered or renamed it. The
    table lists each value the school changed: to apply, already in the inputs, or a CONFLICT (the
    district changed it too since the packet was built: never overwritten). A tracker of another school,
    or of a packet rebuilt since, is refused by name. Nothing is written without --apply. Exit 0 when
    every tracker was read whole with no conflict, 1 otherwise.
    """
    from generator.pipeline import collect as collect_trackers

    def body():
        result = collect_trackers(_settings(inputs, output, schools=schools), paths, apply)
        _echo_lines(f.line() for f in result.findings)
        table = result.table()
        if len(table) > 1:
            widths = [min(max(len(row[i]) for row in table), 44) for i in range(len(table[0]))]
            for row in table:
                click.echo("  ".join(cell[:w].ljust(w) for cell, w in zip(row, widths)).rstrip())
        click.echo(result.summary)
        sys.exit(1 if result.problem else 0)
    _run(body, doing="collecting the trackers")


@main.command()
@common_inputs
@output_folder("Folder the check-in forms are written to (in checkins/<date>/).")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="The check-in day. Default: each school's next check-in on or after today (or --as-of).")
@click.option("--all", "every", is_flag=True, help="Every check-in of each school's cycle, instead of one day.")
@school_filter("Only this school (repeat for several). Default: every school with a check-in that day.")
@click.option("--force", is_flag=True, help="Replace check-in forms already written (staff may have written "
                                            "in them; by default they are kept).")
@common_as_of
@common_templates
def checkin(inputs, output, day, every, schools, force, as_of, templates):
    """Write the check-in forms (the district's routine check-ins on each school's plan): for each school
    with a check-in that day, an After Action Review pre-filled from its plan (each goal with its
    benchmarks and latest data, the activities and tasks due since the last check-in with their status,
    the check-in schedule with each person's role), and for the district a reflection workbook across
    those schools (on target, approaching, overdue; columns for the district's next steps).

    Check-ins are the Review sheet's Check-in rows of timeline.xlsx; --all writes every one of each
    school's cycle. The forms go to
    output/checkins/<date>/<school folder>/<id>-after-action-review.docx and
    output/checkins/<date>/district-reflection.xlsx. Exit 0 when every school of the run was prepared;
    1 when a school's own rows have input errors (the others are written) or nothing could be written.
    """
    from generator.pipeline import checkin as write_checkins

    def body():
        settings = _settings(inputs, output, as_of, schools, templates, force=force)
        result = write_checkins(settings, day.date() if day else None, every)
        for line in _checkin_lines(result, settings.output):
            click.echo(line)
        for sid, name, count in result.blocked:
            click.echo(f"error: {sid} {name}: not prepared: its own rows have {count} input error"
                       f"{'s' * (count != 1)}; `packets validate --inputs {inputs}` lists them.", err=True)
        sys.exit(1 if result.blocked else 0)
    _run(body, doing="writing the check-in forms")


def _checkin_lines(result, output) -> list[str]:
    """Return what `packets checkin` prints: the day(s) used and why, each school's form, each day's
    reflection workbook, the schools without a check-in, and a closing count."""
    lines = []
    for day in result.days:
        why = "--date" if result.asked else "--all" if result.every else \
            f"the next check-in on or after {result.as_of.isoformat()}"
        lines.append(f"Check-ins of {day.date.isoformat()} ({why}): {len(day.forms)} school(s)")
        for form in day.forms:
            state = "kept (already there; --force replaces it)" if form.kept else "written"
            lines.append(f"  {form.school_id} {form.school_name}: {state}: {form.path}")
        state = "kept (already there; --force replaces it)" if day.reflection_kept else "written"
        lines.append(f"  District Level Reflection: {state}: {day.reflection}")
    if result.without:
        shown = ", ".join(f"{sid} {name}" for sid, name in result.without[:10])
        more = f" and {len(result.without) - 10} more" if len(result.without) > 10 else ""
        when = f"on {result.asked.isoformat()}" if result.asked else "at all" if result.every else \
            f"on or after {result.as_of.isoformat()}"
        lines.append(f"No check-in {when}: {shown}{more}.")
    forms = sum(len(d.forms) for d in result.days)
    lines.append(f"Wrote {result.written} of {forms} After Action Review(s) and "
                 f"{sum(not d.reflection_kept for d in result.days)} reflection workbook(s) in {output}.")
    return lines


@main.command()
@common_inputs
@output_folder("The folder the reminders' outbox and ledger are in (the same as `packets build` writes).")
@school_filter("Remind only of this school's items (repeat for several). Default: every school.")
@click.option("--smtp", is_flag=True,
              help="Send through the SMTP server ([smtp] in email.toml, or PACKETS_SMTP_HOST, _PORT, _USER, "
                   "_PASSWORD, _SECURITY). Without it, messages are written to output/outbox/reminders/.")
@click.option("--dry-run", is_flag=True, help="Print who would be reminded of what; write and send nothing.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Judge what is approaching or overdue as of this date (YYYY-MM-DD) instead of today.")
@common_templates
def remind(inputs, output, schools, smtp, dry_run, as_of, templates):
    """Email each person responsible for a task or activity approaching or overdue: one message a person,
    listing their items at every school whose roster they are on.

    A task (timeline.xlsx) is reminded while open (no Completion Date): as it comes within [remind]
    within_days of the day (email.toml, default 14), and once it is overdue. An activity (goals.xlsx) is
    reminded as its Start Date and its End Date come near. With --smtp, output/remind-ledger.jsonl records
    every reminder the server accepted, so each item goes once per due date as it approaches and once
    when overdue. Exit 0 when all went, 1 when a reminder was held back or not sent (or a school's rows
    have input errors), 2 when the settings or inputs stop the run.
    """
    from generator.delivery.remind import outcome_lines
    from generator.pipeline import remind as remind_people

    def progress(outcome, number, total):
        for line in outcome_lines(outcome, number, total):
            click.echo(line, err=outcome.problem)

    def body():
        settings = _settings(inputs, output, as_of, schools, templates)
        result = remind_people(settings, _mailer(dry_run, smtp), progress)
        for finding in result.notices:
            click.echo(finding.line(), err=True)
        _mailed(result)
    _run(body, doing="sending the reminders", stopped=2,
         interrupted="Interrupted: every reminder already sent is recorded; run remind again for the rest.")


def _mailer(dry_run: bool, smtp: bool):
    """Return the mailer `send` and `remind` deliver through: --dry-run's, --smtp's, else the outbox folder."""
    from generator.delivery.send import DryRun, Outbox, Smtp
    return DryRun(smtp) if dry_run else Smtp() if smtp else Outbox()


def _mailed(report) -> NoReturn:
    """Print what a `send` or `remind` run says at its end, and exit 1 when something did not go."""
    for line in report.notes:
        click.echo(line)
    click.echo(report.summary)
    sys.exit(1 if report.problem else 0)


def _json_default(value):
    if hasattr(value, "__json__"):
        return value.__json__()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


if __name__ == "__main__":  # pragma: no cover
    main()
