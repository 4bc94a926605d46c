"""Shared fixtures: a writable copy of the sample district, helpers to edit its workbooks, and what a reader
of a generated workbook sees (to compare two engines' output)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from copy import copy
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.output.pdf import find_soffice
from generator.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "inputs"
DATA = ROOT / "tests" / "data"     # excerpts of real state directories, the ISBE seed
AS_OF = "2026-11-23"          # the sample timeline's overdue tasks are judged as of this date
CHROMIUM = "/usr/bin/chromium"  # the Debian package CI installs; the dashboard tests drive it through playwright

# What the `office` and `browser` markers need. A test so marked is skipped on a machine without it, but
# fails under CI=1 (.ci/run sets it, and installs both), so CI never passes by skipping.
NEEDS = {
    "office": ("LibreOffice (soffice)", lambda: find_soffice() is not None),
    "browser": (CHROMIUM, lambda: Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None),
}


@pytest.hookimpl(tryfirst=True)       # before any fixture: a module-scoped build would run for nothing
def pytest_runtest_setup(item) -> None:
    for marker, (what, present) in NEEDS.items():
        if item.get_closest_marker(marker) and not present():
            if os.environ.get("CI"):
                pytest.fail(f"{what} is missing, but CI installs it: check .ci/run.")
            pytest.skip(f"{what} is not installed; CI runs this test.")


@pytest.fixture
def inputs(tmp_path) -> Path:
    """A private copy of the sample district's inputs that a test may edit."""
    folder = tmp_path / "inputs"
    shutil.copytree(SAMPLE, folder)
    return folder


@pytest.fixture
def output(tmp_path) -> Path:
    return tmp_path / "output"


@pytest.fixture
def drawn(monkeypatch) -> list[str]:
    """Record the School ID of each dashboard chart row drawn (its dates placed as markers)."""
    from generator.render import dashboard
    seen: list[str] = []
    real = dashboard._ChartRows.markers
    monkeypatch.setattr(dashboard._ChartRows, "markers",
                        lambda rows, school_id: seen.append(school_id) or real(rows, school_id))
    return seen


@pytest.fixture
def settings(inputs, output):
    return load_settings(inputs, output, dt.date.fromisoformat(AS_OF))


@pytest.fixture(scope="session")
def sample_output(tmp_path_factory) -> Path:
    """The sample district built once, for tests that only read what a build writes."""
    out = tmp_path_factory.mktemp("sample") / "output"
    result = run_cli("build", "--inputs", str(SAMPLE), "--output", str(out), "--as-of", AS_OF, "--jobs", "1")
    assert result.exit_code == 0, result.output
    return out


def run_cli(*args: str):
    """Run the packets CLI in-process and return click's Result."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def packet_folders(output: Path) -> list[Path]:
    """Return the packet folders of an output folder, in name order: its folders but the hidden one the
    inputs' cache is kept in (.packets-cache)."""
    return sorted(p for p in Path(output).iterdir() if p.is_dir() and not p.name.startswith("."))


def recorded_fingerprints(output: Path) -> dict[str, str]:
    """Return each school's packet fingerprint as the build manifest records it: the same packets, plans and all."""
    schools = json.loads((Path(output) / "build-manifest.json").read_text(encoding="utf-8"))["schools"]
    return {sid: entry["fingerprint"] for sid, entry in schools.items()}


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    """Return a district report's sheet (readiness.xlsx, district.xlsx) as dicts by the headers on row 4."""
    ws = openpyxl.load_workbook(path)[sheet]
    head = [c.value for c in ws[4]]
    return [dict(zip(head, r)) for r in ws.iter_rows(min_row=5, values_only=True) if r[0]]


def edit_sheet(path: Path, sheet: str, edit) -> None:
    """Open a workbook, let `edit(ws)` change one sheet, and save it."""
    wb = openpyxl.load_workbook(path)
    edit(wb[sheet])
    wb.save(path)


def header_column(ws, header: str) -> int:
    """Return the 1-based column index of a header in row 1."""
    for cell in ws[1]:
        if cell.value == header:
            return cell.column
    raise KeyError(header)


def find_row(ws, header: str, value) -> int:
    """Return the first row number whose cell under `header` equals `value`."""
    col = header_column(ws, header)
    for row in range(2, ws.max_row + 1):
        if ws.cell(row=row, column=col).value == value:
            return row
    raise KeyError(value)


def workbook_content(data: bytes) -> list:
    """What a reader of each sheet sees: every cell's value and style, row heights, merged cells, the
    ranges of data validations, conditional formats and the auto-filter, panes, print setup and links."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    sheets = []
    for ws in wb.worksheets:
        # Style proxies only compare equal once unwrapped (a copy is the style itself).
        cells = [(c.coordinate, c.value, c.number_format, copy(c.font), copy(c.fill), copy(c.border),
                  copy(c.alignment), copy(c.protection), c.quotePrefix)
                 for row in ws.iter_rows() for c in row if c.value is not None or c.has_style]
        sheets.append({
            "title": ws.title, "dimension": ws.calculate_dimension(), "cells": cells,
            "heights": {r: d.height for r, d in ws.row_dimensions.items() if d.height},
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "validations": [(str(dv.sqref), dv.formula1) for dv in ws.data_validations.dataValidation],
            "conditional": [(str(cf.sqref), [r.formula for r in cf.rules]) for cf in ws.conditional_formatting],
            "filter": ws.auto_filter.ref, "panes": ws.freeze_panes, "titles": ws.print_title_rows,
            "page": (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToWidth),
            "links": {c.coordinate: c.hyperlink.target for row in ws.iter_rows() for c in row if c.hyperlink},
        })
    return sheets


class BrokenPool:
    """Stands in for a ProcessPoolExecutor whose process could not start or has ended (killed, out of
    memory): every piece of work handed to it fails as such a pool's does."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, *args, **kwargs):
        future: Future = Future()
        future.set_exception(BrokenProcessPool("A process in the process pool was terminated abruptly"))
        return future

    def shutdown(self, *args, **kwargs):
        pass
