"""The fast Excel engine: read and lay out an openpyxl template once, then write each school's
workbook from it.

It must give exactly what the reference engine, render/xlsx.py's render_xlsx (openpyxl's load, fill,
save), gives: the same cells, values and their types, styles and sheet features. Tests hold it to that:
tests/render/test_prepared.py (test_prepared_workbook_matches_openpyxl_on_every_sample_school,
test_prepared_workbook_keeps_data_as_data_like_openpyxl,
test_a_template_the_prepared_path_cannot_reproduce_is_rendered_the_straightforward_way,
test_district_reports_take_the_prepared_path_and_match_openpyxl, test_remembered_cells_are_never_mixed_up,
test_a_long_run_holds_a_bounded_number_of_cells,
test_a_repeated_row_mixing_text_outside_fields_and_fixed_cells_matches_openpyxl,
test_rows_that_are_not_plain_dicts_are_read_as_openpyxl_reads_them,
test_control_characters_are_dropped_every_time_a_text_is_written). A difference is a bug here, never
a reason to change the reference; PACKETS_ENGINE=reference renders with the reference engine meanwhile.
It uses openpyxl's internals, and writes the XML openpyxl writes, only through
render/adapters/openpyxl_internals.py.

Per workbook, render_xlsx() loads the template, fills cells through openpyxl's object model and
serialises every part of the package again, though only the templated sheets change. Here openpyxl
writes the template once, with a marker where each templated cell, the repeated row and the
stretched ranges go; styles a value may need (a formula-like text kept as text, a date) are
registered in the stylesheet up front, so every other part of the package is the same for every
school and is compressed once into a base package. Each workbook is that base with its own sheets
appended, the markers replaced by the school's cells.

The repeated row is most of a workbook's cost, so its cells are written without per-cell work that
the same text needs only once: each column remembers the XML and wrapped-line count of the texts
and dates it has written (district text repeats from row to row and school to school), and a row
is its remembered pieces joined by its row number.

Templates using what this path does not reproduce (hyperlinks or comments in templated cells, rows
after the repeated row) raise Unprepared; render_document then uses render_xlsx for them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import jinja2
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from generator.findings import PacketsError
from generator.render import hyperlinks as linking
from generator.render.adapters import openpyxl_internals as written
from generator.render.jinja import utf8_blocks
from generator.render.xlsx import _LOOP, _SINGLE, FORMULA_STARTS, _lookup, _stretch, _wrapped_lines, cell_data

# Private-use characters never occur in a template's own XML, so they delimit markers safely.
_MARK = "\ue000{}\ue001"
_MARKED = re.compile("\ue000(\\w+)\ue001")
# The row number ranges are stretched to while preparing; replaced by each workbook's last row.
_SENTINEL_ROW = 1048571


class Unprepared(Exception):
    """The template uses something the prepared path does not reproduce."""


@dataclass(frozen=True)
class _Slot:
    """One templated cell: its text, and the style ids of each kind of value it may receive."""

    column: str                          # column letter
    text: Any                            # the template's value (the loop tag removed)
    single: str | None                   # dotted path when the text is exactly one placeholder
    compiled: jinja2.Template | None     # for text mixing words and placeholders
    style: int
    quoted: int                          # formula-like text, kept as text
    dated: dict[type, Any]               # a date/datetime/time in a cell whose format is not a date one
    wrap: bool
    width: float

    def value(self, scope: dict[str, Any]) -> Any:
        if self.single:
            return _lookup(scope, self.single)
        if self.compiled:
            return self.compiled.render(scope)
        return self.text

    def xml(self, ref: str, value: Any) -> str:
        return f'<c r="{ref}"{self.tail(value)}'

    def tail(self, value: Any) -> str:
        """The cell's XML after its reference `<c r="A5"`: style, type and value."""
        value = cell_data(value)
        if value is None or value == "":
            return written.empty_cell(self.style)
        if isinstance(value, bool):
            return written.boolean_cell(self.style, value)
        if isinstance(value, (dt.date, dt.time)):
            kind = dt.datetime if isinstance(value, dt.datetime) else type(value)
            return written.date_cell(self.dated.get(kind, self.style), value)
        if isinstance(value, (int, float)):
            return written.number_cell(self.style, value)
        text = written.cell_text(value)
        return written.text_cell(self.quoted if text.startswith(FORMULA_STARTS) else self.style, text)

    def lines(self, value: Any) -> int:
        """How many lines the cell's text takes when its row's height is fitted (1: no fitting)."""
        value = cell_data(value)
        return _wrapped_lines(value, self.width) if self.wrap and isinstance(value, str) else 1


# Values whose cells a column remembers. Keys of these kinds never compare equal across kinds (a date
# is never equal to a datetime), unlike 1, 1.0 and True, whose cells differ and are never remembered.
_REMEMBERED = frozenset({str, dt.date, dt.datetime, dt.time})
# Characters of text and XML a column holds before it starts afresh: bounds memory over a statewide
# run (a few MB a column at most), while the district's recurring text is back within a workbook.
_REMEMBER_CHARS = 200_000
_NO_FIELD = object()        # a column that reads no field of the item directly


class _Column:
    """One cell of the repeated row, set up to write many rows fast: the item field it reads, and the
    XML and line count of each text or date it has written. District text (stages, roles, activities,
    dates) repeats from row to row and school to school; it is escaped and measured once."""

    __slots__ = ("slot", "field", "fixed", "after", "known", "held", "blank")

    def __init__(self, slot: _Slot, var: str, after: str):
        self.slot = slot
        path = slot.single.split(".") if slot.single else ()
        self.field = path[1] if len(path) == 2 and path[0] == var else _NO_FIELD
        self.fixed = not (slot.single or slot.compiled)     # the template's own value, no placeholder
        self.after = after            # what follows this cell's XML: the next cell up to its row number
        self.known: dict[Any, tuple[str, int]] = {}
        self.held = 0                 # characters in `known`
        self.blank = self.entry(None)

    def entry(self, value: Any) -> tuple[str, int]:
        """The cell's XML from after its row number up to the next cell's row number, and its lines."""
        return f'"{self.slot.tail(value)}{self.after}', self.slot.lines(value)

    def remember(self, value: Any) -> tuple[str, int]:
        """The entry of a text or date, kept for its next use unless it is too long to be worth it."""
        found = self.entry(value)
        size = len(found[0]) + (len(value) if isinstance(value, str) else 0)
        if size > _REMEMBER_CHARS // 64:
            return found
        if self.held + size > _REMEMBER_CHARS:
            self.known.clear()
            self.held = 0
        self.known[value] = found
        self.held += size
        return found


def _columns(slots: tuple[_Slot, ...], var: str) -> tuple[_Column, ...]:
    """The repeated row's columns; each one's XML ends where the next cell's row number goes."""
    afters = [f'<c r="{s.column}' for s in slots[1:]] + ["</row>"]
    return tuple(_Column(slot, var, after) for slot, after in zip(slots, afters))


@dataclass(frozen=True)
class _Loop:
    var: str
    source: str
    row: int
    slots: tuple[_Slot, ...]
    height: float | None
    columns: tuple[_Column, ...]

    def opening(self, lines: int) -> str:
        """A row's XML from after its row number up to its first cell's row number."""
        return f'"{written.row_height(self.height or _fitted_height(lines))}><c r="{self.slots[0].column}'


@dataclass(frozen=True)
class _Sheet:
    part: str                            # zip entry, e.g. xl/worksheets/sheet1.xml
    pieces: tuple[str, ...]              # the sheet as openpyxl wrote it, split at markers: text, marker, text...
    cells: dict[str, tuple[str, _Slot]]  # marker -> (cell reference, slot)
    loop: _Loop | None
    dimension: str                       # e.g. "A1:H" (the last row is added per workbook)
    rels: str = ""                       # its relationships' zip entry, when it can have hyperlinks written

    def link_columns(self, fields: Sequence[str]) -> list[tuple[str, _Column]]:
        """The repeated row's columns filled from exactly one of `fields` (`{{ row.folder }}`), by letter."""
        if self.loop is None:
            return []
        return [(c.slot.column, c) for c in self.loop.columns
                if c.field in fields and c.slot.single == f"{self.loop.var}.{c.field}"]

    def render(self, context: dict[str, Any], linked: Sequence[tuple[str, _Column]] = (),
               targets: list[tuple[str, str]] | None = None) -> Iterator[str]:
        """Yield the sheet's XML a piece at a time, its repeated rows a row at a time: a district's report of
        thousands of rows is never one string (joined, then encoded, it was held three times over). Each text
        the `linked` columns (link_columns) show is a hyperlink to the path it holds, listed in `targets` as
        (cell, target) in the order render/hyperlinks.py's link_paths numbers them."""
        cells = {mark: slot.xml(ref, slot.value(context)) for mark, (ref, slot) in self.cells.items()}
        last = self.loop.row if self.loop else 0
        rows: Iterable[str] = ()
        if self.loop:
            items = _lookup(context, self.loop.source)
            rows = self._rows(context, items, linked, targets)
            last = self.loop.row + max(len(items), 1) - 1
        cells["last"] = str(last)
        cells["dimension"] = f"{self.dimension}{last}" if self.loop else self.dimension
        for i, piece in enumerate(self.pieces):
            if i % 2 == 0:
                yield piece
            elif piece == "loop":
                yield from rows
            elif piece == "links":                   # after the rows: every link is known by now
                yield linking.hyperlinks_element(targets) if targets else ""
            else:
                yield cells[piece]

    def _rows(self, context: dict[str, Any], items, linked: Sequence[tuple[str, _Column]] = (),
              targets: list[tuple[str, str]] | None = None) -> Iterator[str]:
        loop = self.loop
        assert loop is not None                 # called only for a sheet with a repeated row
        if not items:
            yield (f'<row r="{loop.row}"{written.row_height(loop.height)}>'
                   + "".join(s.xml(f"{s.column}{loop.row}", None) for s in loop.slots) + "</row>")
            return
        # Each row is its pieces joined by its row number: one join, not a string per cell.
        columns, var, remembered = loop.columns, loop.var, _REMEMBERED
        openings: dict[int, str] = {}
        for number, item in enumerate(items, start=loop.row):
            fields = item if item.__class__ is dict else {}      # others are read as _lookup reads them
            scope = None
            pieces = ['<row r="', ""]
            lines = 1
            for column in columns:
                value = fields.get(column.field, _NO_FIELD)
                if value is _NO_FIELD:
                    if column.fixed:
                        value = column.slot.text
                    else:
                        if scope is None:
                            scope = {**context, var: item}
                        value = column.slot.value(scope)
                if value.__class__ in remembered:
                    found = column.known.get(value) or column.remember(value)
                elif value is None:
                    found = column.blank
                else:
                    found = column.entry(value)
                pieces.append(found[0])
                if found[1] > lines:
                    lines = found[1]
            opening = openings.get(lines)
            if opening is None:
                opening = openings[lines] = loop.opening(lines)
            pieces[1] = opening
            if linked:
                assert targets is not None
                for letter, column in linked:
                    value = fields.get(column.field, _NO_FIELD)
                    if value is _NO_FIELD:
                        value = column.slot.value({**context, var: item})
                    value = cell_data(value)
                    if isinstance(value, str) and (text := written.cell_text(value)):
                        targets.append((f"{letter}{number}", linking.link_target(text)))
            yield str(number).join(pieces)


def _fitted_height(lines: int, line_height: float = 13.0) -> float | None:
    """The height render_xlsx's fit_row_height gives a row whose text takes this many lines, or None
    to leave it."""
    return min(lines * line_height, 409) if lines > 1 else None


class PreparedXlsx:
    """An Excel template prepared once; `render(context)` returns one workbook's bytes."""

    def __init__(self, template: Path, env: jinja2.Environment):
        written.check()
        self.path = Path(template)
        wb = load_workbook(self.path)
        self.env = env
        prepared = [(ws, self._prepare(ws)) for ws in wb.worksheets]
        buffer = io.BytesIO()
        wb.save(buffer)
        with zipfile.ZipFile(buffer) as z:
            entries = {info.filename: z.read(info.filename) for info in z.infolist()}
        self.sheets = []
        for ws, (cells, loop, dimension) in prepared:
            if not cells and not loop:
                continue
            part = written.sheet_part(ws)
            marked = self._marked(entries[part].decode("utf-8"), cells, loop)
            # Hyperlinks go where the schema puts them, into a sheet that has none and no relationships yet.
            rels = linking.rels_part(part)
            with_links = None if rels in entries or loop is None else linking.with_marker(marked, _MARK.format("links"))
            self.sheets.append(_Sheet(part, tuple(_MARKED.split(with_links or marked)), cells, loop, dimension,
                                      rels if with_links else ""))
        changing = {sheet.part for sheet in self.sheets}
        base = io.BytesIO()
        with zipfile.ZipFile(base, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in entries.items():
                if name not in changing:
                    z.writestr(name, data)
        self.base = base.getvalue()

    def _slot(self, ws: Worksheet, cell: Cell, text: Any) -> _Slot:
        if cell.hyperlink or cell.comment:
            raise Unprepared(f"{ws.title}!{cell.coordinate} has a hyperlink or comment")
        variant = Cell(ws)           # not placed on the sheet: only its style is registered
        written.set_style(variant, written.style_of(cell))
        variant.quotePrefix = True
        quoted = variant.style_id    # registers the style in the workbook's stylesheet
        dated: dict[type, Any] = {}
        if not written.is_date_format(cell.number_format):
            # The number format openpyxl gives a date, datetime or time written into such a cell.
            for kind in (dt.datetime, dt.date, dt.time):
                written.set_style(variant, written.style_of(cell))
                variant.number_format = written.TIME_FORMATS[kind]
                dated[kind] = variant.style_id
        single = compiled = None
        if isinstance(text, str) and "{{" in text:
            match = _SINGLE.match(text.strip())
            if match:
                single = match.group(1)
            else:
                try:
                    compiled = self.env.from_string(text)
                except jinja2.TemplateError as exc:
                    raise PacketsError(f"{self.path.name}: {exc}") from None
        return _Slot(cell.column_letter, text, single, compiled, cell.style_id, quoted, dated,
                     bool(cell.alignment.wrap_text), ws.column_dimensions[cell.column_letter].width or 8.43)

    def _prepare(self, ws: Worksheet) -> tuple[dict[str, tuple[str, _Slot]], _Loop | None, str]:
        """Put markers into the sheet where each workbook's own cells go; return what fills them."""
        loop_row = next((row[0].row for row in ws.iter_rows()
                         if isinstance(row[0].value, str) and _LOOP.match(row[0].value)), None)
        dimension = ws.calculate_dimension()
        cells: dict[str, tuple[str, _Slot]] = {}
        above = ws.max_row if loop_row is None else loop_row - 1
        # (openpyxl reads max_row=0 as "no limit": a repeating first row has no rows above it to fill)
        for row in ws.iter_rows(max_row=above) if above else ():
            for cell in row:
                if isinstance(cell.value, str) and "{{" in cell.value:
                    mark = f"c{len(cells)}"
                    cells[mark] = (cell.coordinate, self._slot(ws, cell, cell.value))
                    cell.value = _MARK.format(mark)
        if loop_row is None:
            return cells, None, dimension

        if ws.max_row > loop_row:
            raise Unprepared(f"{ws.title} has rows after the repeated row")
        row = list(ws[loop_row])
        match = _LOOP.match(row[0].value)
        assert match is not None                # the row was found by this match
        slots = tuple(self._slot(ws, c, c.value[match.end():] if c is row[0] else c.value) for c in row)
        var = match.group(1)
        loop = _Loop(var, match.group(2), loop_row, slots, ws.row_dimensions[loop_row].height,
                     _columns(slots, var))
        row[0].value = _MARK.format("loop")      # the whole row is replaced by the repeated rows
        _stretch(ws, loop_row, _SENTINEL_ROW)
        return cells, loop, re.sub(r"\d+$", "", dimension)

    def _marked(self, xml: str, cells: dict, loop: _Loop | None) -> str:
        """Turn the markers openpyxl wrote into markers for whole cells, the repeated row and ranges."""
        def whole(pattern: str, replacement: str, text: str) -> str:
            text, found = re.subn(pattern, replacement, text, count=1)
            if not found:
                raise Unprepared(f"could not find {replacement} in the sheet openpyxl wrote")
            return text

        # openpyxl writes characters outside ASCII as references; the markers are wanted as characters.
        xml = written.as_characters(xml, "\ue000", "\ue001")
        for mark in cells:
            xml = whole(written.text_cell_pattern(_MARK.format(mark)), _MARK.format(mark), xml)
        if loop:
            xml = whole(written.row_pattern(loop.row, _MARK.format("loop")), _MARK.format("loop"), xml)
            xml = xml.replace(str(_SENTINEL_ROW), _MARK.format("last"))
        return whole(written.DIMENSION_PATTERN, written.dimension(_MARK.format("dimension")), xml)

    def writes_links(self, fields: Sequence[str]) -> bool:
        """True when render(context, fields) can make the cells of `fields` hyperlinks as it writes them: every
        sheet whose repeated row shows one of them has room for them (render/hyperlinks.py does it otherwise)."""
        return all(sheet.rels for sheet in self.sheets if sheet.link_columns(fields))

    def render(self, context: dict[str, Any], links: Sequence[str] = ()) -> bytes:
        """Return one workbook made from this template and a context; each non-empty text the repeated rows'
        cells of the fields `links` show a hyperlink to the relative path it holds, as link_paths makes them
        (only where writes_links says so)."""
        buffer = io.BytesIO(self.base)
        try:
            with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
                for sheet in self.sheets:
                    linked = sheet.link_columns(links) if links and sheet.rels else []
                    targets: list[tuple[str, str]] = []
                    with z.open(sheet.part, "w") as part:
                        for block in utf8_blocks(sheet.render(context, linked, targets)):
                            part.write(block)
                    if targets:
                        z.writestr(sheet.rels, linking.relationships(targets))
        except (jinja2.TemplateError, PacketsError) as exc:
            raise PacketsError(f"{self.path.name}: {exc}") from None
        return buffer.getvalue()
