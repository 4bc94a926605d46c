"""icalendar's internals, as render/calendars.py uses them. Checked against icalendar 7.3.2.

A TEXT value (a summary, a description) is escaped by icalendar.parser._escape_char, the function
vText.to_ical calls: the public escape_char is deprecated since icalendar 7 ("use the private
_escape_char internally"), and making a vText for each of a school's thousand lines costs more than
the escaping. Without the private name, the escaping falls back to vText itself: slower, the same text.

render/calendars.py also folds lines itself, as icalendar.parser._foldline folds them;
tests/render/test_calendars.py holds the whole file to what Calendar.to_ical writes, byte for byte.
"""

from __future__ import annotations

from typing import Callable

from icalendar import parser, vText

CHECKED = "7.3.2"


def _escape_through_vtext(text: str) -> str:
    return vText(text).to_ical().decode("utf-8")


escape_text: Callable[[str], str] = getattr(parser, "_escape_char", None) or _escape_through_vtext
"""Return a TEXT value escaped as icalendar escapes it (backslash, semicolon, comma, line breaks)."""
