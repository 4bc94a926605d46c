"""Dates as people read them: one style for every form, the email, the dashboard and the readiness findings."""

from __future__ import annotations

import datetime as dt

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def display_date(value: dt.date | None) -> str:
    """Return a date as `November 15, 2026`, or '' when there is none.

    The one date style of the packets: written out, it cannot be misread as day/month, and the forms'
    date columns are measured to hold its longest form (`September 30, 2026`) on one line."""
    return f"{MONTHS[value.month - 1]} {value.day}, {value.year}" if value else ""
