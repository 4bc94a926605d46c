"""Dashboard: output/index.html, the district's roll-up as one static page that opens from disk.

The page is templates/dashboard.html (Jinja, autoescaped: school names are text, never markup) filled
with plain data from here: a row per school with links relative to index.html, only to files that exist,
and the timeline chart's geometry (an inline SVG the template draws: a row per school, a marker per
task and review date, a line at the as-of date). All CSS and script are inline; nothing is fetched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence
from urllib.parse import quote

import jinja2
import markupsafe

from generator.findings import PacketsError
from generator.inputs.cache import source_digest
from generator.model.rollup import Deadline, Rollup, status_counts
from generator.model.status import APPROACHING_DAYS, CHECK_IN, DONE, OVERDUE, SCHOOL_STATUSES
from generator.render.context import long_date, short_date
from generator.render.jinja import jinja_env, utf8_blocks
from generator.render.template_data import SHIPPED

DASHBOARD_TEMPLATE = "dashboard.html"
CHART_ROW_BLOCK = "chart_row"        # the template's block drawing a school's row of the chart, from `row` and `chart`
SHIPPED_DASHBOARD = SHIPPED.path(DASHBOARD_TEMPLATE)

# The timeline chart's geometry, in SVG user units (CSS pixels at 100%).
LABEL_WIDTH = 230
PLOT_WIDTH = 860
ROW_HEIGHT = 26
AXIS_HEIGHT = 46
MONTH_LABEL_WIDTH = 30
INPUT_ERRORS_SHOWN = 3       # a school not built lists this many of its errors; readiness.xlsx has them all
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def href(*parts: str) -> str:
    """Return a link relative to index.html, each path part percent-encoded (`#` or `%` in a name)."""
    return "/".join(quote(p) for p in parts)


def school_links(folder: str | None, documents: Sequence[str]) -> dict[str, str]:
    """Return links to a school's packet folder, its PDF and its calendar, from what the build wrote
    (paths relative to the output folder); '' for what it did not write."""
    # By their text, not PurePosixPath: 0.15 s of a 5,000-school district view.
    links = {"folder": href(*_parts(folder)) + "/" if folder else "", "pdf": "", "calendar": ""}
    for document in documents:
        key = "pdf" if document.endswith(".pdf") else "calendar" if document.endswith(".ics") else ""
        if key:
            links[key] = href(*_parts(document))
    return links


def _parts(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


def _month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


@dataclass(frozen=True, slots=True)
class Marker:
    """A task or review date on the timeline chart: where it goes, its symbol and its tooltip."""

    x: float
    shape: str                 # done | due | overdue | review | checkin (the symbols the template defines)
    label: str


@dataclass(frozen=True, slots=True)
class ChartRow:
    """One school's row of the timeline chart: what the template's chart_row block draws it from, or
    (`html`) the row as drawn, by this build or an earlier one (KeptChartRows), its markers then not made."""

    school_id: str
    label: str
    y: float
    status: str
    markers: tuple[Marker, ...]
    html: markupsafe.Markup | None = None


class ChartDates(Protocol):
    """What the chart needs of a school: the first and last of its dates, and (for a row drawn anew) the
    dates themselves (rollup.SchoolDates, or a school's kept view)."""

    @property
    def span(self) -> tuple[dt.date, dt.date] | None: ...

    @property
    def dates(self) -> Sequence[Deadline]: ...


# What a chart row's markup is drawn by, besides the template (which each school's inputs digest covers).
_DRAWING_CODE = ("render/dashboard.py", "render/context.py")


@dataclass
class KeptChartRows:
    """The chart rows an earlier build drew (School ID -> (key, markup as UTF-8)), each taken as it is for a school
    whose row would be drawn from the same things, and every row this build has, for the next (`drawn`).

    A row's key covers all it is drawn from: the school's inputs digest (its packet, the templates, the
    settings: `inputs`), its place and label in the chart, the chart's scale, and the drawing code. At
    5,000 schools the rows are 19 MB of the dashboard's 26, and drawing them all took 0.3 s of a one-school
    edit."""

    inputs: Mapping[str, str]
    earlier: Mapping[str, tuple[str, bytes]] = field(default_factory=dict)
    drawn: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def key(self, row: ChartRow, scale: _Scale) -> str | None:
        """Return the row's key; None for a school without an inputs digest (its row is drawn each time)."""
        inputs = self.inputs.get(row.school_id)
        if inputs is None:
            return None
        drawn_by = (_drawing_code(), inputs, row.school_id, row.label, row.y, row.status, scale.start.isoformat(),
                    scale.span, LABEL_WIDTH, PLOT_WIDTH)
        return hashlib.blake2b(repr(drawn_by).encode("utf-8"), digest_size=16).hexdigest()


@lru_cache(maxsize=1)
def _drawing_code() -> str:
    return source_digest(*_DRAWING_CODE)


class _Scale:
    """Where a day falls along the chart, in SVG units."""

    def __init__(self, start: dt.date, end: dt.date):
        self.start, self.span = start, (end - start).days

    def x(self, day: dt.date) -> float:
        return round(LABEL_WIDTH + (day - self.start).days / self.span * PLOT_WIDTH, 1)


class _ChartRows:
    """The chart's rows, each made as the template reaches it: a statewide district's markers (some forty a
    school, each with its tooltip) are never all held at once. Iterable again, like a list.

    Given a way to draw a row (`draw`: the template's chart_row block, dashboard_chunks), each comes drawn
    (ChartRow.html): as an earlier build drew it when `kept` has it under its key now, else drawn here."""

    def __init__(self, rows: Sequence[Rollup], dates: Mapping[str, ChartDates], scale: _Scale,
                 kept: KeptChartRows | None = None):
        self.rows, self.dates, self.scale, self.kept = rows, dates, scale, kept
        self.draw: Callable[[ChartRow], markupsafe.Markup] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def markers(self, school_id: str) -> tuple[Marker, ...]:
        """Return a school's markers: its dates placed on the chart (made only for a row drawn anew)."""
        return tuple(_marker(d, self.scale) for d in self.dates[school_id].dates)

    def __iter__(self) -> Iterator[ChartRow]:
        kept, draw = self.kept, self.draw
        for i, r in enumerate(self.rows):
            row = ChartRow(r.school_id, f"{r.school_id} {r.school}", AXIS_HEIGHT + i * ROW_HEIGHT + ROW_HEIGHT / 2,
                           r.status, ())
            key = kept.key(row, self.scale) if kept is not None and draw is not None else None
            earlier = kept.earlier.get(r.school_id) if kept is not None and key is not None else None
            if earlier is not None and earlier[0] == key:
                row = replace(row, html=markupsafe.Markup(earlier[1].decode("utf-8")))
            else:
                row = replace(row, markers=self.markers(r.school_id))
                if draw is not None:
                    html = draw(row)
                    row = replace(row, html=html)
                    # Kept as UTF-8: as text, a row with one dash in it takes two bytes a character.
                    earlier = (key, html.encode("utf-8")) if key is not None else None
            if kept is not None and earlier is not None:
                kept.drawn[r.school_id] = earlier
            yield row


_TASK_SHAPES = {DONE: "done", OVERDUE: "overdue"}        # any other task is due
_marker_words = {"done": "done", "due": "due", "overdue": "overdue", "review": "review date",
                 "checkin": "check-in"}


def _marker(d: Deadline, scale: _Scale) -> Marker:
    if d.kind == "task":
        shape = _TASK_SHAPES.get(d.state, "due")
    else:
        shape = "checkin" if d.kind == CHECK_IN else "review"
    return Marker(scale.x(d.date), shape, f"{d.title}: {long_date(d.date)} ({_marker_words[shape]})")


def chart(rows: Sequence[Rollup], dates: Mapping[str, ChartDates], as_of: dt.date, planning_year,
          kept: KeptChartRows | None = None) -> dict[str, Any]:
    """Return the timeline chart's geometry: months along the top, a row per school (its dates keyed by
    school ID), a marker per date; rows drawn before taken from `kept` where they would be the same."""
    spans = [span for r in rows if (span := dates[r.school_id].span)]
    days = [day for span in spans for day in span] + [as_of, planning_year.first_day, planning_year.last_day]
    months = _month_starts(min(days), max(days))
    start = months[0]
    end = (months[-1] + dt.timedelta(days=32)).replace(day=1)
    scale = _Scale(start, end)
    x = scale.x
    bottom = AXIS_HEIGHT + len(rows) * ROW_HEIGHT + 4
    every = max(1, math.ceil(MONTH_LABEL_WIDTH / (PLOT_WIDTH / len(months))))   # labels must not overlap
    today = x(as_of)
    return {
        "width": LABEL_WIDTH + PLOT_WIDTH + 20, "height": bottom + 24, "left": LABEL_WIDTH,
        "right": LABEL_WIDTH + PLOT_WIDTH, "top": AXIS_HEIGHT - 4, "bottom": bottom,
        "months": [{"x": x(m), "label": MONTHS[m.month - 1] if i % every == 0 else "",
                    "year": str(m.year) if i == 0 or m.month == 1 else ""} for i, m in enumerate(months)],
        "today": {"x": today, "label": f"As of {short_date(as_of)}",
                  "anchor": "end" if today > LABEL_WIDTH + PLOT_WIDTH - 90 else "start"},
        "rows": _ChartRows(rows, dates, scale, kept),
        "first": long_date(start), "last": long_date(end - dt.timedelta(days=1)),
    }


def _row(r: Rollup, links: dict[str, str]) -> dict[str, Any]:
    return {
        "school_id": r.school_id, "school": r.school, "designation": r.designation, "readiness": r.readiness,
        "status": r.status, "tasks": r.tasks, "done": r.done, "due": r.due, "overdue": r.overdue,
        "not_scheduled": r.not_scheduled,
        "next_deadline": r.next_deadline.title if r.next_deadline else "",
        "next_deadline_date": long_date(r.next_deadline.date) if r.next_deadline else "",
        "next_deadline_sort": r.next_deadline.date.isoformat() if r.next_deadline else "9999-12-31",
        "review_stage": r.review_stage, "review_decision": r.review_decision,
        "grid_done": r.grid_done, "grid_in_progress": r.grid_in_progress,
        "next_review": r.next_review.title if r.next_review else "",
        "next_review_date": long_date(r.next_review.date) if r.next_review else "",
        "next_review_sort": r.next_review.date.isoformat() if r.next_review else "9999-12-31",
        "overdue_tasks": list(r.overdue_tasks),
        "known": r.known,                      # False: not built for its input errors, no progress to show
        "input_errors": list(r.input_errors[:INPUT_ERRORS_SHOWN]),
        "more_errors": max(0, len(r.input_errors) - INPUT_ERRORS_SHOWN),
        "links": links,
    }


def dashboard_context(settings, dates: Mapping[str, ChartDates], rows: Sequence[Rollup],
                      built_at: dt.datetime, district_files: Sequence[str] = (),
                      links: Mapping[str, dict[str, str]] | None = None,
                      kept: KeptChartRows | None = None) -> dict[str, Any]:
    """Return what templates/dashboard.html receives: a row per roll-up row, and the chart of each school's
    dates (`dates`, by School ID: rollup.SchoolDates, or its kept view);
    `district_files` are the files written beside index.html (with it, or before it) to link from its header,
    `links` each school's school_links, from the build's results (none: no links), and `kept` the chart rows
    an earlier build drew (none: every row is drawn)."""
    links = links or {}
    no_links = school_links(None, ())
    charted = [r for r in rows if r.known and r.school_id in dates]       # a school not built has no dates
    return {
        "district": {"name": settings.district_name},
        "planning_year": settings.planning_year.label,
        "as_of": long_date(settings.as_of),
        "built_at": built_at.strftime("%Y-%m-%d %H:%M"),
        "approaching_days": APPROACHING_DAYS,
        "statuses": SCHOOL_STATUSES,
        "counts": status_counts(list(rows)),
        "rows": [_row(r, links.get(r.school_id, no_links)) for r in rows],
        "files": [{"name": name, "href": href(name)} for name in district_files],
        "chart": chart(charted, dates, settings.as_of, settings.planning_year, kept) if charted else None,
    }


def dashboard_chunks(context: dict[str, Any], template: Path = SHIPPED_DASHBOARD) -> Iterator[bytes]:
    """Return index.html made from the dashboard template and its context, as UTF-8 blocks made as they
    are read: a statewide page (8 MB a thousand schools) is written out piece by piece, never whole."""
    try:
        text = template.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PacketsError(f"{template}: the dashboard template is missing; restore it from git.") from None
    try:
        compiled = jinja_env(autoescape=True).from_string(text)
    except jinja2.TemplateError as exc:
        raise PacketsError(f"{template.name}: the template does not fit its data ({exc}).") from None
    chart_rows = context["chart"]["rows"] if context.get("chart") else None
    if isinstance(chart_rows, _ChartRows) and CHART_ROW_BLOCK in compiled.blocks:
        # Each row drawn by the block alone, so it can be kept: a template without the block (a district's own,
        # made before it) draws every row itself.
        block = compiled.blocks[CHART_ROW_BLOCK]
        chart_rows.draw = lambda row: markupsafe.Markup("".join(
            block(compiled.new_context({"row": row, "chart": context["chart"]}))))
    return _utf8_blocks(compiled.generate(context), template.name)


def _utf8_blocks(pieces: Iterator[str], name: str) -> Iterator[bytes]:
    """Yield the page in UTF-8 blocks (utf8_blocks: 4,096 pieces held 28 MB at 1,000 schools, a kept chart
    row being one piece of thousands of characters), a template error said as the template's."""
    try:
        yield from utf8_blocks(pieces)
    except jinja2.TemplateError as exc:
        raise PacketsError(f"{name}: the template does not fit its data ({exc}).") from None


def render_dashboard(context: dict[str, Any], template: Path = SHIPPED_DASHBOARD) -> bytes:
    """Return index.html made from the dashboard template and its context."""
    return b"".join(dashboard_chunks(context, template))
