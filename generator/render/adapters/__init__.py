"""Adapters: every use the renderers make of a library's internals (names outside its documented API,
or behaviour the fast engines reproduce instead of calling), one module per library:

- docxtpl_internals: DocxTemplate's rendering steps, called one by one by the fast Word engine;
- python_docx_internals: the picture element docxtpl's InlineImage asks for;
- openpyxl_internals: cell styles, and the XML openpyxl's writer writes (reproduced by the fast Excel engine);
- icalendar_internals: icalendar's TEXT escaping.

Each module names the library version it was checked against (CHECKED) and lists the names it needs;
`require` turns a missing one into one clear error naming the library and both versions, instead of an
AttributeError deep inside a render. tests/render/test_engines.py checks that the installed versions
still have every internal used.
"""

from __future__ import annotations

from importlib.metadata import version

from generator.findings import PacketsError


def missing(owner: object, *names: str) -> tuple[str, ...]:
    """Return the names `owner` (a class or module) lacks."""
    return tuple(name for name in names if not hasattr(owner, name))


def require(library: str, checked: str, absent: tuple[str, ...]) -> None:
    """Raise a PacketsError when an internal the renderers rely on is gone from the installed library."""
    if absent:
        raise PacketsError(
            f"{library} {version(library)} lacks {', '.join(absent)}, which the document renderers use "
            f"(checked against {library} {checked}). Fix: install {library} {checked}, or set "
            f"PACKETS_ENGINE=reference if only the fast engines need it.")
