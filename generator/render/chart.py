"""Chart: the Plan for Improvement's timeline, a Gantt chart of each strategy's activities."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from dataclasses import dataclass
from functools import lru_cache

from ..model import Plan

# Colour-blind-safe palette (Okabe-Ito), one colour per strategy; prints distinguishably in grey too.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MONTH_LABELS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


@dataclass(frozen=True)
class Picture:
    """An image for a Word template: PNG bytes and the width to show it at."""

    png: bytes
    width_inches: float
    description: str = ""

    def __json__(self) -> dict:
        return {"picture": "png", "bytes": len(self.png), "width_inches": self.width_inches,
                "description": self.description}


MAX_YEARS = 3     # a plan spans a school year or a few; a later end date is drawn cut off at the edge


def school_year_span(starts: list[dt.date], ends: list[dt.date]) -> tuple[dt.date, dt.date]:
    """Return the school year (July 1 to June 30) holding the earliest start, stretched to the last end
    but to no more than MAX_YEARS school years."""
    first = min(starts)
    begin = dt.date(first.year if first.month >= 7 else first.year - 1, 7, 1)
    end = max(dt.date(begin.year + 1, 6, 30), max(ends))
    return begin, min(end, dt.date(begin.year + MAX_YEARS, 6, 30))


def timeline_chart(plan: Plan, as_of: dt.date, width_inches: float = 7.0) -> Picture | None:
    """Return a Gantt chart of the plan's activities across the school year, or None when no activity
    has a usable start and end. Activities whose dates are missing or reversed are left out (the
    readiness check reports them)."""
    bars = [(s, a) for s in plan.strategies for a in s.activities if a.start and a.end and a.end >= a.start]
    if not bars:
        return None
    begin, end = school_year_span([a.start for _, a in bars], [a.end for _, a in bars])
    strategies = tuple((s.strategy_id, s.text) for s in plan.strategies if any(b[0] is s for b in bars))
    rows = tuple((s.strategy_id, a.activity, a.start, a.end) for s, a in bars)
    today = as_of if begin <= as_of <= end else None
    png = _draw(strategies, rows, begin, end, today, width_inches)
    return Picture(png, width_inches, f"Timeline of {len(rows)} activities across {len(strategies)} strategies")


@lru_cache(maxsize=256)
def _draw(strategies: tuple[tuple[str, str], ...], rows: tuple[tuple[str, str, dt.date, dt.date], ...],
          begin: dt.date, end: dt.date, today: dt.date | None, width_inches: float) -> bytes:
    """Return the chart's PNG bytes; the same plan content draws once per process."""
    # A bare Figure on the Agg canvas: no screen, and none of pyplot's figure bookkeeping.
    import matplotlib.dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colours = {sid: PALETTE[i % len(PALETTE)] for i, (sid, _) in enumerate(strategies)}
    labels = [textwrap.shorten(f"{sid}: {activity}", 48, placeholder="...") for sid, activity, _, _ in rows]
    legend = [textwrap.shorten(f"{sid}: {text}", 60, placeholder="...") for sid, text in strategies]
    if today:
        legend.append(f"Today ({today:%b %d, %Y})")
    # Fixed margins, in inches, sized from the text: one draw, where a 'tight' layout draws twice.
    bar_area = 0.3 * len(rows) + 0.4
    legend_rows = -(-len(legend) // 2)
    top, bottom = 0.35, 0.55 + 0.17 * legend_rows
    height = bar_area + top + bottom
    left = min(0.06 * max(len(t) for t in labels) + 0.15, width_inches * 0.45)
    fig = Figure(figsize=(width_inches, height), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((left / width_inches, bottom / height, 1 - (left + 0.15) / width_inches, bar_area / height))
    for y, (sid, _, start, finish) in enumerate(rows):
        first = mdates.date2num(start)
        ax.barh(y, mdates.date2num(finish) - first + 1, left=first, height=0.6, color=colours[sid],
                edgecolor="black", linewidth=0.4)
    ax.set_yticks(range(len(rows)), labels, fontsize=6.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(mdates.date2num(begin), mdates.date2num(end) + 1)
    months = (end.year - begin.year) * 12 + end.month - begin.month + 1
    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, -(-months // 14))))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    ax.tick_params(axis="x", labelsize=6.5)
    ax.grid(axis="x", color="#cccccc", linewidth=0.5)
    ax.set_axisbelow(True)
    handles = [Patch(facecolor=colours[sid], edgecolor="black", linewidth=0.4, label=label)
               for (sid, _), label in zip(strategies, legend)]
    if today:
        ax.axvline(mdates.date2num(today), color="#C00000", linestyle="--", linewidth=1)
        handles.append(Line2D([], [], color="#C00000", linestyle="--", label=legend[-1]))
    fig.legend(handles=handles, fontsize=6.5, loc="lower center", bbox_to_anchor=(0.5, 0.02), ncol=2,
               frameon=False)
    ax.set_title(f"Activity timeline, {begin.year}-{(begin.year + 1) % 100:02d} school year", fontsize=9)
    buffer = io.BytesIO()
    # No creation-time metadata, so the same plan gives the same PNG bytes. The fastest compression:
    # the picture is stored in a zip package, and the best level took longer than the drawing.
    fig.savefig(buffer, format="png", metadata={"Software": None}, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()
