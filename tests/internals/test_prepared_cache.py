"""Internals of the prepared engines' caches: when a prepared template is reused, and how much the Excel
engine remembers. A rewrite of render/fast/ may rightly change these fields; the behaviour they guard
(a changed template is read again, memory stays bounded, output still equals openpyxl's) must hold."""

from __future__ import annotations

import os
import shutil
import time

from generator.render import packet_contexts, prepared
from generator.render.fast import xlsx
from generator.render.jinja import jinja_env
from generator.render.template_data import SHIPPED_FOLDER as TEMPLATES
from generator.render.xlsx import render_xlsx

from conftest import workbook_content
from factories import packet


def test_a_changed_template_is_prepared_again(tmp_path):
    path = tmp_path / "schedule.docx"
    shutil.copy(TEMPLATES / "schedule.docx", path)
    first = prepared(path)
    assert prepared(path) is first
    time.sleep(0.01)
    path.write_bytes(path.read_bytes())
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert prepared(path) is not first


def test_a_long_run_holds_a_bounded_number_of_cells(monkeypatch):
    monkeypatch.setattr(xlsx, "_REMEMBER_CHARS", 6400)
    template = TEMPLATES / "isbe_grid.xlsx"
    ready = xlsx.PreparedXlsx(template, jinja_env(autoescape=False))
    context = packet_contexts(packet())["isbe-grid-tracker"]
    for school in range(30):
        rows = [{**row, "person": f"Person {school}-{i}", "tasks": f"{row['tasks']} ({school})"}
                for i, row in enumerate(context["rows"])]
        data = ready.render({**context, "rows": rows})
        for column in ready.sheets[0].loop.columns:
            assert column.held <= 6400 and sum(len(x) for x, _ in column.known.values()) <= 6400
    assert workbook_content(data) == workbook_content(render_xlsx(template, {**context, "rows": rows}))
