"""Recurrence: a timeline row that repeats ("monthly", "2nd Tuesday", "twice monthly") expanded into its dates.

Staff type the pattern in a Repeats column as they would say it; `parse_repeats` reads it into a
`Repeats` (raising ValueError with a sentence for the user), and `series` turns a Repeats, the row's
first date, an end date and the days to skip into the dates of the series, with dateutil's rrule.
Pure functions on plain values: the loader and the model call them, nothing here reads a sheet.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Iterable

from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday

MAX_OCCURRENCES = 400          # a series longer than this is a slip (Until in the wrong decade), not a plan
MAX_DAYS_OFF = 366             # one Holidays row may cover a break, not years

EXAMPLES = ("monthly", "twice monthly", "2nd Tuesday", "1st and 3rd Wednesday", "last Friday",
            "weekly", "every 2 weeks", "quarterly")
FIX = (f"Write how it repeats, for example: {'; '.join(EXAMPLES)}; or leave Repeats blank for a single date.")

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NAMES = {name: i for i, name in enumerate(_WEEKDAYS)}
_WEEKDAY_NAMES.update({name[:3]: i for i, name in enumerate(_WEEKDAYS)})
_WEEKDAY_NAMES.update({"tues": 1, "wednes": 2, "thur": 3, "thurs": 3})
_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "other": 2}
_FILLER = {"on", "the", "of", "and", "a", "an", "per", "in", "at", "day", "days", "each", "every", "month",
           "months", "week", "weeks", "meets", "meeting", "repeats"}
_ORDINAL = re.compile(r"^(\d{1,2})(st|nd|rd|th)?$")


@dataclass(frozen=True)
class Repeats:
    """How a row repeats. Where a part is empty, it comes from the series' first date."""

    text: str                                  # as typed, for messages
    frequency: str                             # "weekly" | "monthly"
    interval: int = 1                          # every `interval` weeks or months
    weekdays: tuple[int, ...] = ()             # 0 = Monday
    ordinals: tuple[int, ...] = ()             # which of the month's weekdays (-1: the last); or days of the month
    twice_monthly: bool = False                # two of the month's weekdays, two weeks apart

    def __str__(self) -> str:
        return self.text


def _weekday(token: str) -> int | None:
    word = token[:-1] if token.endswith("s") and token[:-1] in _WEEKDAY_NAMES else token
    return _WEEKDAY_NAMES.get(word)


def _ordinal(token: str) -> int | None:
    if token in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[token]
    m = _ORDINAL.match(token)
    return int(m.group(1)) if m else None


def parse_repeats(text: str) -> Repeats:
    """Return the Repeats a Repeats cell means; raise ValueError saying what is not understood."""
    typed = " ".join(str(text).split())
    words = re.sub(r"[^a-z0-9]+", " ", typed.lower().replace("&", " and ")).split()
    frequency = None
    interval = 1
    twice = False
    weekdays: list[int] = []
    ordinals: list[int] = []
    i = 0
    while i < len(words):
        word, following = words[i], words[i + 1] if i + 1 < len(words) else ""
        step = 1
        if word in ("every", "each") and (following.isdigit() or following in _NUMBER_WORDS):
            count = int(following) if following.isdigit() else _NUMBER_WORDS[following]
            unit = words[i + 2] if i + 2 < len(words) else ""
            if unit not in ("week", "weeks", "month", "months") or not 1 <= count <= 12:
                raise ValueError(f"'{typed}': say 'every 2 weeks' or 'every 3 months'")
            frequency, interval, step = ("weekly" if unit.startswith("week") else "monthly"), count, 3
        elif word == "twice" or (word == "semi" and following == "monthly") or word == "semimonthly":
            twice, frequency = True, "monthly"
            step = 2 if word == "semi" else 1
        elif word == "monthly":
            frequency = frequency or "monthly"
        elif word in ("weekly",) or (word in ("every", "each") and following == "week"):
            frequency = frequency or "weekly"
        elif word in ("biweekly", "fortnightly") or (word == "bi" and following == "weekly"):
            frequency, interval, step = "weekly", 2, (2 if word == "bi" else 1)
        elif word == "quarterly":
            frequency, interval = "monthly", 3
        elif word in ("every", "each") and following == "month":
            frequency = frequency or "monthly"
        elif (weekday := _weekday(word)) is not None:
            weekdays.append(weekday)
        elif (ordinal := _ordinal(word)) is not None:
            ordinals.append(ordinal)
        elif word not in _FILLER:
            raise ValueError(f"'{typed}' is not a way of repeating that is understood ('{word}' is not known)")
        i += step
    if frequency is None and not weekdays and not ordinals:
        raise ValueError(f"'{typed}' does not say how often")

    weekdays_, ordinals_ = tuple(dict.fromkeys(weekdays)), tuple(dict.fromkeys(ordinals))
    if ordinals_ and frequency == "weekly":
        raise ValueError(f"'{typed}' names a day of the month but repeats weekly; say e.g. '2nd Tuesday'")
    if frequency is None:
        frequency = "monthly" if ordinals_ else "weekly"           # "2nd Tuesday"; "Tuesdays"
    if frequency == "monthly" and weekdays_ and not ordinals_ and not twice:
        raise ValueError(f"'{typed}': say which {_WEEKDAYS[weekdays_[0]].title()} of the month, "
                         f"e.g. '2nd {_WEEKDAYS[weekdays_[0]].title()}'")
    for n in ordinals_:
        if weekdays_ and not (1 <= n <= 5 or n == -1):
            raise ValueError(f"'{typed}': a month has at most five of each weekday")
        if not weekdays_ and not (1 <= n <= 31 or n == -1):
            raise ValueError(f"'{typed}': a month has at most 31 days")
    return Repeats(typed, frequency, interval, weekdays_, ordinals_, twice)


def _rule(first: dt.date, repeats: Repeats, until: dt.date) -> rrule:
    start = dt.datetime.combine(first, dt.time())
    end = dt.datetime.combine(until, dt.time())
    if repeats.frequency == "weekly":
        return rrule(WEEKLY, dtstart=start, until=end, interval=repeats.interval,
                     byweekday=repeats.weekdays or (first.weekday(),))
    if repeats.weekdays and repeats.ordinals:
        return rrule(MONTHLY, dtstart=start, until=end, interval=repeats.interval,
                     byweekday=[weekday(d)(n) for d in repeats.weekdays for n in repeats.ordinals])
    if repeats.twice_monthly and not repeats.ordinals:
        # The first date's weekday, in its week of the month and the week two weeks away: a meeting
        # on the 1st Tuesday repeats on the 1st and 3rd Tuesdays, one on the 2nd on the 2nd and 4th.
        nth = (first.day - 1) // 7 + 1
        ordinals = (1, 3) if nth % 2 else (2, 4)
        return rrule(MONTHLY, dtstart=start, until=end, interval=repeats.interval,
                     byweekday=[weekday(d)(n) for d in repeats.weekdays or (first.weekday(),) for n in ordinals])
    days = repeats.ordinals or (first.day,)
    if len(days) == 1 and days[0] > 28:
        # The 29th-31st: the month's last day where the month is shorter, as calendars do.
        return rrule(MONTHLY, dtstart=start, until=end, interval=repeats.interval,
                     bymonthday=(days[0], -1), bysetpos=1)
    return rrule(MONTHLY, dtstart=start, until=end, interval=repeats.interval, bymonthday=days)


def series(first: dt.date, repeats: Repeats, until: dt.date, skip: Iterable[dt.date] = ()) -> tuple[dt.date, ...]:
    """Return the dates of a repeating row, from its first date through `until`, without the days in `skip`.

    The first date starts the series; it is one of the dates only when it fits the pattern ("2nd
    Tuesday" from a 1st Tuesday starts a week later). Raises ValueError when the series is empty or
    longer than MAX_OCCURRENCES."""
    if until < first:
        raise ValueError(f"Until ({until:%m/%d/%Y}) is before the first date ({first:%m/%d/%Y})")
    dates = [d.date() for d in islice(_rule(first, repeats, until), MAX_OCCURRENCES + 1)]
    if len(dates) > MAX_OCCURRENCES:
        raise ValueError(f"'{repeats}' from {first:%m/%d/%Y} to {until:%m/%d/%Y} gives more than "
                         f"{MAX_OCCURRENCES} dates")
    skipped = set(skip)
    kept = tuple(d for d in dates if d not in skipped)
    if not kept:
        raise ValueError(f"'{repeats}' gives no date from {first:%m/%d/%Y} to {until:%m/%d/%Y}"
                         + (" that is not skipped" if dates else ""))
    return kept


def days_off(spans: Iterable[tuple[dt.date, dt.date | None]]) -> frozenset[dt.date]:
    """Return every day of the given holidays: each a single date, or a break from one date through another."""
    days: set[dt.date] = set()
    for start, through in spans:
        end = through or start
        if end < start or (end - start).days >= MAX_DAYS_OFF:
            continue                       # reported by validation; nothing sensible to skip
        days.update(start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return frozenset(days)


@lru_cache(maxsize=4096)
def row_dates(first: dt.date, repeats: Repeats | None, until: dt.date | None, skip: tuple[dt.date, ...],
              closed: frozenset[dt.date], default_until: dt.date) -> tuple[dt.date, ...]:
    """Return the dates of one timeline row: its own date, or, when it repeats, its series through Until
    (or `default_until`), leaving out its Skip Dates and the days the district is `closed`. Remembered:
    a large district's rows repeat the same patterns from the same dates, and validation and the model
    both need each row's dates."""
    if repeats is None:
        return (first,)
    return series(first, repeats, until or default_until, set(skip or ()) | closed)
