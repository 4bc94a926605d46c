"""Chart: the Plan for Improvement's timeline, a Gantt chart of each strategy's activities."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from dataclasses import dataclass

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
    import matplotlib
    matplotlib.use("Agg")                      # no screen: draw to memory only
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    begin, end = school_year_span([a.start for _, a in bars], [a.end for _, a in bars])
    colours = {s.strategy_id: PALETTE[i % len(PALETTE)] for i, s in enumerate(plan.strategies)}
    height = max(2.2, 0.32 * len(bars) + 1.3)
    fig, ax = plt.subplots(figsize=(width_inches, height), dpi=150)
    try:
        labels = []
        for y, (strategy, activity) in enumerate(bars):
            start = mdates.date2num(activity.start)
            ax.barh(y, mdates.date2num(activity.end) - start + 1, left=start, height=0.6,
                    color=colours[strategy.strategy_id], edgecolor="black", linewidth=0.4)
            labels.append(textwrap.shorten(f"{strategy.strategy_id}: {activity.activity}", 48, placeholder="..."))
        ax.set_yticks(range(len(bars)), labels, fontsize=6.5)
        ax.invert_yaxis()
        ax.set_xlim(mdates.date2num(begin), mdates.date2num(end) + 1)
        months = (end.year - begin.year) * 12 + end.month - begin.month + 1
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=max(1, -(-months // 14))))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
        ax.tick_params(axis="x", labelsize=6.5)
        ax.grid(axis="x", color="#cccccc", linewidth=0.5)
        ax.set_axisbelow(True)
        handles = [Patch(facecolor=colours[s.strategy_id], edgecolor="black", linewidth=0.4,
                         label=textwrap.shorten(f"{s.strategy_id}: {s.text}", 60, placeholder="..."))
                   for s in plan.strategies if any(b[0] is s for b in bars)]
        if begin <= as_of <= end:
            ax.axvline(mdates.date2num(as_of), color="#C00000", linestyle="--", linewidth=1)
            handles.append(plt.Line2D([], [], color="#C00000", linestyle="--", label=f"Today ({as_of:%b %d, %Y})"))
        ax.legend(handles=handles, fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.6 / height),
                  ncol=2, frameon=False)
        ax.set_title(f"Activity timeline, {begin.year}-{(begin.year + 1) % 100:02d} school year", fontsize=9)
        fig.tight_layout()
        buffer = io.BytesIO()
        # Fixed metadata keeps the PNG bytes the same for the same plan (no creation-time stamp).
        fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return Picture(buffer.getvalue(), width_inches,
                   f"Timeline of {len(bars)} activities across {len(colours)} strategies")
