"""Dates as people read them: one style for every form, the email, the dashboard and the readiness findings."""

from __future__ import annotations

import datetime as dt
import re

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def display_date(value: dt.date | None) -> str:
    """Return a date as `November 15, 2026`, or '' when there is none.

    The one date style of the packets: written out, it cannot be misread as day/month, and the forms'
    date columns are measured to hold its longest form (`September 30, 2026`) on one line."""
    return f"{MONTHS[value.month - 1]} {value.day}, {value.year}" if value else ""


# A date written out in running text ("due January 31, 2027", "October 29"), its month abbreviated or
# not; its spaces become no-break spaces when typeset, so a line never ends inside it.
_WRITTEN_DATE = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2}\b(?:, \d{4}\b)?")


def keep_dates_whole(text: str) -> str:
    """Return `text` with the spaces inside each written-out date made no-break (U+00A0).

    Word and LibreOffice wrap a line at any space, so a finding's "was due October 29, 2026" or the ISBE
    grid's "due January 31, 2027" could print its month on one line and its day on the next. A date alone
    is left as it is: it fills a date column, measured to hold the longest date on one line."""
    if " " not in text or _WRITTEN_DATE.fullmatch(text):
        return text
    return _WRITTEN_DATE.sub(lambda m: m.group(0).replace(" ", "\u00a0"), text)
