"""Editing a staff workbook's sheet in place (the roster an import updates, the timeline `packets collect
--apply` writes): cells set so the loader reads them back as written, rows added under the last one, and
the sheet's filter, dropdowns and date checks stretched over them. Everything else on the sheet (its
formatting, extra columns, notes) is left as staff made it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange

from generator.inputs.normalize import HEADER_SEARCH_ROWS, clean_text
from generator.inputs.schema import Sheet
from generator.render.xlsx import FORMULA_STARTS

DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
SPARE_ROWS = 200        # dropdowns and date checks reach this many rows below the last one written


def header_row(ws, letter: str, header: str) -> int:
    """Return the number of the row holding a sheet's headers: the one of its first rows whose cell in
    column `letter` reads `header`, as the loader found it (1 when none does)."""
    return next((n for n in range(1, HEADER_SEARCH_ROWS + 1) if clean_text(ws[f"{letter}{n}"].value) == header), 1)


class SheetEditor:
    """One schema sheet of a workbook: its header row, each field's column, and the next free row."""

    def __init__(self, ws, spec: Sheet, columns: Mapping[str, int], header_row: int, next_row: int):
        self.ws, self.spec = ws, spec
        self.columns = dict(columns)
        self.header_row, self.next_row = header_row, next_row

    def column(self, key: str) -> int:
        """Return a field's column, adding its header after the last column when the sheet lacks it."""
        if key not in self.columns:
            j = max(self.ws.max_column, max(self.columns.values(), default=0)) + 1
            header = self.ws.cell(row=self.header_row, column=j, value=self.spec.column(key).name)
            before = self.ws.cell(row=self.header_row, column=j - 1) if j > 1 else None
            if before is not None and before.has_style:
                header._style = before._style
            else:
                header.font = Font(bold=True)
            self.columns[key] = j
        return self.columns[key]

    def set(self, row: int, key: str, value: Any) -> None:
        """Set a field's cell: an ID stays text (leading zeros), a date gets a date format, text that starts
        like a formula stays text, and characters a workbook cannot hold are dropped."""
        cell = self.ws.cell(row=row, column=self.column(key))
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value) or None
        cell.value = value
        if self.spec.column(key).kind == "id":
            cell.number_format = TEXT_FORMAT
        elif isinstance(value, dt.date) and not cell.is_date:
            cell.number_format = DATE_FORMAT
        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
            cell.data_type = "s"          # a name or note starting with = is text, never a formula

    def append(self, values: Mapping[str, Any]) -> int:
        """Write a new row, keyed by field, under the last one; return its number."""
        number = self.next_row
        self.next_row += 1
        for key, value in values.items():
            if value not in (None, ""):
                self.set(number, key, value)
        return number

    def copy_row(self, row: int, school_id: str) -> int:
        """Append a copy of a row (values and styles) with this School ID; return its number."""
        number = self.next_row
        self.next_row += 1
        for cell in self.ws[row]:
            new = self.ws.cell(row=number, column=cell.column, value=cell.value)
            if cell.has_style:
                new._style = cell._style
        self.set(number, "school_id", school_id)
        return number

    def finish(self) -> None:
        """Stretch the sheet's filter, dropdowns and date checks over the rows added below them."""
        last = self.next_row - 1
        if self.ws.auto_filter.ref:
            found = CellRange(self.ws.auto_filter.ref)
            if found.max_row < last:
                self.ws.auto_filter.ref = CellRange(min_col=found.min_col, min_row=found.min_row,
                                                    max_col=found.max_col, max_row=last).coord
        for dv in self.ws.data_validations.dataValidation:
            ranges = [CellRange(min_col=r.min_col, min_row=r.min_row, max_col=r.max_col, max_row=last + SPARE_ROWS)
                      if r.min_row == self.header_row + 1 and r.max_row < last else r for r in dv.sqref.ranges]
            dv.sqref = MultiCellRange(ranges)
