"""Chart: the Plan for Improvement's timeline, a Gantt chart of each strategy's activities."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
import threading
from dataclasses import dataclass
from functools import lru_cache

from generator.findings import PacketsError
from generator.model.records import Plan

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

    def __html__(self) -> str:
        # Reached only when a template prints a Picture that with_pictures did not place.
        raise PacketsError(f"A picture ({self.description or 'image'}) must be a top-level value of a "
                           "template's context to be placed in a Word document.")

    __str__ = __html__


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
    begin, end = school_year_span([a.start for _, a in bars if a.start], [a.end for _, a in bars if a.end])
    strategies = tuple((s.strategy_id, s.text) for s in plan.strategies if any(b[0] is s for b in bars))
    rows = tuple((s.strategy_id, a.activity, a.start, a.end) for s, a in bars)
    today = as_of if begin <= as_of <= end else None
    png = _draw(strategies, rows, begin, end, today, width_inches)
    return Picture(png, width_inches, f"Timeline of {len(rows)} activities across {len(strategies)} strategies")


DPI = 150               # sharp enough for print at the 7-inch width a plan shows the chart at
FONT_SIZE = 6.5         # points: tick and legend labels
# Drawn without hinting: hinting snaps each glyph to a screen's pixel grid, which a picture for print has
# no use for, and it took a third of the drawing time.


def month_ticks(begin: dt.date, end: dt.date) -> list[dt.date]:
    """Return the first of each month from `begin` to the day after `end` (the chart's right edge), every
    few months when there would be more than 14."""
    months = (end.year - begin.year) * 12 + end.month - begin.month + 1
    step = max(1, -(-months // 14))
    firsts = (dt.date(begin.year + (begin.month - 1 + k) // 12, (begin.month - 1 + k) % 12 + 1, 1)
              for k in range(0, months + 1, step))
    return [d for d in firsts if begin <= d <= end + dt.timedelta(days=1)]


_blank_in_use = threading.Lock()


@lru_cache(maxsize=256)
def _draw(strategies: tuple[tuple[str, str], ...], rows: tuple[tuple[str, str, dt.date, dt.date], ...],
          begin: dt.date, end: dt.date, today: dt.date | None, width_inches: float) -> bytes:
    """Return the chart's PNG bytes; the same plan content draws once per process."""
    import matplotlib

    with _blank_in_use, matplotlib.rc_context({"text.hinting": "no_hinting"}):
        canvas, ax = _blank()
        try:
            _lay_out(canvas, ax, strategies, rows, begin, end, today, width_inches)
            canvas.draw()
            return _png(canvas)
        finally:
            _clear(canvas, ax)


@lru_cache(maxsize=1)
def _blank():
    """Return the process's one Agg canvas and Axes, which every chart is laid out on and then cleared
    from: making a Figure and Axes took longer than laying out a chart's bars, ticks and labels."""
    # A bare Figure on the Agg canvas: no screen, and none of pyplot's figure bookkeeping.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    canvas = FigureCanvasAgg(Figure(dpi=DPI))
    ax = canvas.figure.add_axes((0, 0, 1, 1))
    return canvas, ax


def _clear(canvas, ax) -> None:
    """Remove every artist a chart added, leaving the blank canvas and Axes as _blank made them."""
    fig = canvas.figure
    for artists in (ax.containers, ax.artists, ax.collections, ax.images, ax.lines, ax.patches, ax.tables,
                    ax.texts, fig.artists, fig.images, fig.legends, fig.lines, fig.patches, fig.texts):
        for artist in list(artists):
            artist.remove()


def _lay_out(canvas, ax, strategies, rows, begin, end, today, width_inches) -> None:
    """Lay the chart out on the blank canvas and Axes: bars, month ticks and grid, activity labels,
    today's line, legend and title."""
    import matplotlib.dates as mdates
    from matplotlib.artist import Artist
    from matplotlib.collections import PatchCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    colours = {sid: PALETTE[i % len(PALETTE)] for i, (sid, _) in enumerate(strategies)}
    labels = [textwrap.shorten(f"{sid}: {activity}", 48, placeholder="...") for sid, activity, _, _ in rows]
    legend = [textwrap.shorten(f"{sid}: {text}", 60, placeholder="...") for sid, text in strategies]
    if today:
        legend.append(f"Today ({MONTH_LABELS[today.month - 1]} {today.day:02d}, {today.year})")
    # Fixed margins, in inches, sized from the text: one draw, where a 'tight' layout draws twice.
    bar_area = 0.3 * len(rows) + 0.4
    legend_rows = -(-len(legend) // 2)
    top, bottom = 0.35, 0.55 + 0.17 * legend_rows
    height = bar_area + top + bottom
    left = min(0.06 * max(len(t) for t in labels) + 0.15, width_inches * 0.45)
    fig = canvas.figure
    fig.set_size_inches(width_inches, height)
    ax.set_position((left / width_inches, bottom / height, 1 - (left + 0.15) / width_inches, bar_area / height))
    ax.set_xlim(mdates.date2num(begin), mdates.date2num(end) + 1)
    ax.set_ylim(len(rows) - 0.5, -0.5)

    # The bars as one collection, not a patch each; the limits are set above, so not computed from them.
    bars = []
    for y, (_, _, start, finish) in enumerate(rows):
        first = mdates.date2num(start)
        bars.append(Rectangle((first, y - 0.3), mdates.date2num(finish) + 1 - first, 0.6))
    ax.add_collection(PatchCollection(bars, facecolors=[colours[sid] for sid, *_ in rows], edgecolors="black",
                                      linewidths=0.4), autolim=False)

    ticks = month_ticks(begin, end)
    ax.set_xticks([mdates.date2num(d) for d in ticks],
                  [f"{MONTH_LABELS[d.month - 1]}\n{d.year}" if i == 0 or d.year != ticks[i - 1].year
                   else MONTH_LABELS[d.month - 1] for i, d in enumerate(ticks)])   # the year where it starts or changes
    ax.set_yticks(range(len(rows)), labels)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.grid(axis="x", color="#cccccc", linewidth=0.5)
    ax.set_axisbelow(True)

    handles: list[Artist] = [Patch(facecolor=colours[sid], edgecolor="black", linewidth=0.4, label=label)
                             for (sid, _), label in zip(strategies, legend)]
    if today:
        ax.axvline(mdates.date2num(today), color="#C00000", linestyle="--", linewidth=1)
        handles.append(Line2D([], [], color="#C00000", linestyle="--", label=legend[-1]))
    fig.legend(handles=handles, fontsize=FONT_SIZE, loc="lower center", bbox_to_anchor=(0.5, 0.02), ncol=2,
               frameon=False)
    # At a fixed height (y=1): left to itself, the title is placed after measuring every tick label.
    ax.set_title(f"Activity timeline, {begin.year}-{(begin.year + 1) % 100:02d} school year", fontsize=9, y=1)


def _png(canvas) -> bytes:
    """Return the drawn canvas as PNG bytes: RGB, zlib's fastest level (the picture is stored, not
    deflated again, in the .docx), its dpi recorded, and no time stamp, so the same chart gives the
    same bytes. Encoded from the drawn pixels, as savefig would encode them after drawing again."""
    from PIL import Image

    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", dpi=(DPI, DPI), compress_level=1)
    return buffer.getvalue()
