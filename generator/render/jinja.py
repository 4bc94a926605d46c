"""The one Jinja environment every template is rendered with: strict, and escaping for XML or HTML."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Iterator

import jinja2
import markupsafe
from jinja2 import nodes

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


# What makes a template's output more than its printed values, each escaped on its own: text rendered by the
# template and printed again (a macro, a call, a block `set`, a filter block), a value joined to another
# (`~`, a filter such as join, which escape markup and text apart), another template, an autoescape block.
_MORE_THAN_VALUES = (nodes.Macro, nodes.CallBlock, nodes.AssignBlock, nodes.FilterBlock, nodes.Concat, nodes.Filter,
                     nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends, nodes.EvalContextModifier,
                     nodes.ScopedEvalContextModifier, nodes.MarkSafe, nodes.MarkSafeIfAutoescape)


@lru_cache(maxsize=8192)
def _escaped_typeset_text(value: str) -> str:
    return str(markupsafe.escape(keep_dates_whole(value)))


def _escaped_typeset(value: Any) -> str:
    """A printed value as an autoescaping, typesetting environment prints it (escape(_typeset(value))), text
    from a cache: most printed values recur."""
    if type(value) is str:
        return _escaped_typeset_text(value)
    return str(markupsafe.escape(_typeset(value)))


def compile_xml(env: jinja2.Environment, source: str) -> jinja2.Template:
    """Return `source` (a Word part's XML with its tags) compiled by `env`, an autoescaping environment of
    jinja_env's with `typeset`; unless the template only prints values (none of _MORE_THAN_VALUES), which an
    environment escaping them as it finalizes them prints as the same text. Autoescape calls markupsafe's
    escape on each printed value, and then makes it Markup: a third of rendering a long plan's body."""
    if not (env.autoescape is True and env.finalize is _typeset and isinstance(env, DataEnvironment)):
        return env.from_string(source)
    parsed = env.parse(source)          # the same for both: parsing knows nothing of escaping
    if next(parsed.find_all(_MORE_THAN_VALUES), None) is not None:
        return env.from_string(parsed)
    return _escaping_twin(env.undefined).from_string(parsed)


_TWINS: dict[type[jinja2.Undefined], jinja2.Environment] = {}


def _escaping_twin(undefined: type[jinja2.Undefined]) -> jinja2.Environment:
    if undefined not in _TWINS:
        _TWINS[undefined] = DataEnvironment(undefined=undefined, autoescape=False, finalize=_escaped_typeset)
    return _TWINS[undefined]


def utf8_blocks(pieces: Iterable[str], size: int = 1 << 16) -> Iterator[bytes]:
    """Yield rendered pieces joined and encoded about `size` characters at a time: written a block at a time,
    not a piece at a time (a write to a zip entry or a file costs more than the piece's text), and never much
    of a long document in memory. (By length, not by count: one piece can be thousands of characters.)"""
    block: list[str] = []
    length = 0
    for piece in pieces:
        block.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(block).encode("utf-8")
            block, length = [], 0
    if block:
        yield "".join(block).encode("utf-8")
