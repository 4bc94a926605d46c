"""The one Jinja environment every template is rendered with: strict, and escaping for XML or HTML."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
import markupsafe

from generator.model.dates import keep_dates_whole


class DataEnvironment(jinja2.Environment):
    """A Jinja environment for contexts of plain data, where `row.field` is a dictionary's key.

    Jinja reads `row.field` as an attribute first and a key second, so on a dictionary every lookup
    raised and caught an AttributeError: some 2,000 a packet. Here a dictionary's key comes first; a
    name it lacks is looked up as Jinja always does."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


# Most printed values recur (roles, statuses, dates, a goal's text in two forms): each typeset once a process.
_typeset_text = lru_cache(maxsize=8192)(keep_dates_whole)


def _typeset(value: Any) -> Any:
    """A value as it is printed in a Word document: its written-out dates never wrap over two lines."""
    if type(value) is str:
        return _typeset_text(value)
    if isinstance(value, markupsafe.Markup):
        return markupsafe.Markup(keep_dates_whole(str(value)))   # already escaped; the spaces it changes are not markup
    return value


def jinja_env(autoescape: bool, *, typeset: bool = False) -> jinja2.Environment:
    """Return the project's Jinja environment: undefined names fail loudly; values are escaped for XML.

    `typeset` is for documents laid out in lines (the Word forms): every printed value keeps its dates
    whole. A spreadsheet's cells and the dashboard's HTML keep plain spaces, which search and filters match."""
    return DataEnvironment(undefined=jinja2.StrictUndefined, autoescape=autoescape,
                           finalize=_typeset if typeset else None)
