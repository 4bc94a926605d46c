"""Two engines, one specification: PACKETS_ENGINE=reference renders every document of a build with the
reference engines (render/docx.py, render/xlsx.py) and gives what the fast engines give; the adapters
holding the libraries' internals match the installed libraries, and say so clearly when they do not."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import re
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from test_prepared import content

from generator import render
from generator.findings import PacketsError
from generator.pipeline import build
from generator.render.fast.docx import PreparedDocx
from generator.render.fast.xlsx import PreparedXlsx
from generator.render.template_data import SHIPPED
from generator.settings import load_settings

from conftest import AS_OF, ROOT, SAMPLE, workbook_content

ADAPTERS = {"docxtpl": "docxtpl_internals", "python-docx": "python_docx_internals",
            "openpyxl": "openpyxl_internals", "icalendar": "icalendar_internals"}


BUILT_AT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def without_times(found: Any) -> Any:
    """What a document holds, the times its build ran at aside (readiness.xlsx and district.xlsx show them)."""
    if isinstance(found, dt.datetime) and found.date() == dt.date.today():
        return "<time>"
    if isinstance(found, str):
        return BUILT_AT.sub("<time>", found)
    if isinstance(found, (list, tuple)):
        return type(found)(without_times(x) for x in found)
    if isinstance(found, dict):
        return {k: without_times(v) for k, v in found.items()}
    return found


def documents(folder: Path) -> dict[str, Any]:
    """Every Word and Excel document under a build's output folder, as a reader sees it, build times aside."""
    found: dict[str, Any] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".docx":
            found[path.relative_to(folder).as_posix()] = without_times(content(path.read_bytes()))
        elif path.suffix == ".xlsx":
            found[path.relative_to(folder).as_posix()] = without_times(workbook_content(path.read_bytes()))
    return found


def counted_build(monkeypatch, output: Path) -> dict[str, int]:
    """Build the sample district into `output` in this process; return how many documents each engine wrote."""
    calls = {"fast": 0, "reference": 0}

    def counting(engine, real):
        def spy(*args, **kwargs):
            calls[engine] += 1
            return real(*args, **kwargs)
        return spy
    with monkeypatch.context() as spied:
        spied.setattr(PreparedDocx, "render", counting("fast", PreparedDocx.render))
        spied.setattr(PreparedXlsx, "render", counting("fast", PreparedXlsx.render))
        for suffix, real in list(render.RENDERERS.items()):
            spied.setitem(render.RENDERERS, suffix, counting("reference", real))
        report = build(load_settings(SAMPLE, output, dt.date.fromisoformat(AS_OF)))
    assert not any(r.error for r in report.results)
    return calls


def test_the_reference_switch_renders_every_document_with_the_reference_engines_and_changes_no_content(
        tmp_path, monkeypatch):
    monkeypatch.delenv(render.ENGINE_ENV, raising=False)
    fast_calls = counted_build(monkeypatch, tmp_path / "fast")
    monkeypatch.setenv(render.ENGINE_ENV, "reference")
    reference_calls = counted_build(monkeypatch, tmp_path / "reference")

    fast, reference = documents(tmp_path / "fast"), documents(tmp_path / "reference")
    assert len(fast) == 9 * 6 + 2                 # six forms a school, readiness.xlsx and district.xlsx
    assert reference_calls == {"fast": 0, "reference": len(reference)}
    assert fast_calls["fast"] == len(fast) and fast_calls["reference"] == 0
    assert sorted(fast) == sorted(reference)
    for name in fast:
        assert fast[name] == reference[name], name


def fast_engine_wrote(docx: Path) -> bool:
    """The fast Word engine writes the template's unchanged parts first and appends the rendered ones
    ([Content_Types].xml among them); python-docx, under docxtpl, writes [Content_Types].xml first.
    (It told them apart by the chart picture's name until the plan's timeline became a table.)"""
    with zipfile.ZipFile(docx) as z:
        return z.namelist()[0] != "[Content_Types].xml"


@pytest.mark.parametrize("engine", [None, "reference", " Reference "])
def test_build_workers_follow_the_switch_they_inherit(tmp_path, engine):
    env = {k: v for k, v in os.environ.items() if k != render.ENGINE_ENV}
    if engine is not None:
        env[render.ENGINE_ENV] = engine
    output = tmp_path / "output"
    run = subprocess.run([sys.executable, "-m", "generator.cli", "build", "--inputs", str(SAMPLE), "--output",
                          str(output), "--as-of", AS_OF, "--jobs", "2", "--report", str(tmp_path / "v.xlsx")],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    plans = sorted(output.glob("*/*plan.docx"))
    assert len(plans) == 9
    assert {fast_engine_wrote(p) for p in plans} == {engine is None}


def test_an_unknown_engine_is_one_clear_error_before_anything_is_written(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from generator.cli import main
    monkeypatch.setenv(render.ENGINE_ENV, "quick")
    output = tmp_path / "output"
    result = CliRunner().invoke(main, ["build", "--inputs", str(SAMPLE), "--output", str(output),
                                       "--as-of", AS_OF, "--report", str(tmp_path / "v.xlsx")])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == ["error: PACKETS_ENGINE='quick' is not an engine. Fix: set it to 'reference' (every "
                      "document rendered by the reference engines) or 'fast', or unset it."]
    assert not output.exists()
    with pytest.raises(PacketsError, match="PACKETS_ENGINE='quick'"):
        render.render_document(SHIPPED.path("schedule.xlsx"), {})


@pytest.mark.parametrize("library", ADAPTERS)
def test_the_installed_libraries_have_every_internal_the_adapters_use(library):
    """A new release may move an internal: this and the equality tests (tests/test_prepared*.py,
    tests/test_calendars.py) run against whatever pip installed within pyproject's ranges; when one
    fails, fix the adapter and move its CHECKED (and its docstring) to the new version."""
    adapter = importlib.import_module(f"generator.render.adapters.{ADAPTERS[library]}")
    assert f"Checked against {library} {adapter.CHECKED}." in adapter.__doc__
    assert not getattr(adapter, "_ABSENT", ()), f"{library} {version(library)} lacks {adapter._ABSENT}"


def test_a_missing_internal_is_one_error_naming_the_library_and_the_reference_engine_still_works(
        tmp_path, monkeypatch):
    from generator.render.adapters import docxtpl_internals
    from generator.render.docx import render_docx
    template = tmp_path / "schedule.docx"
    template.write_bytes((SHIPPED.path("schedule.docx")).read_bytes())
    monkeypatch.setattr(docxtpl_internals, "_ABSENT", ("patch_xml",))
    monkeypatch.delenv(render.ENGINE_ENV, raising=False)
    context = {"school": {}}
    with pytest.raises(PacketsError) as failed:
        render.render_document(template, context)
    installed = version("docxtpl")
    assert str(failed.value) == (
        f"docxtpl {installed} lacks patch_xml, which the document renderers use (checked against docxtpl "
        f"{docxtpl_internals.CHECKED}). Fix: install docxtpl {docxtpl_internals.CHECKED}, or set "
        "PACKETS_ENGINE=reference if only the fast engines need it.")

    from generator.pipeline import load_district
    from generator.render import packet_contexts
    district, _ = load_district(load_settings(SAMPLE, None, dt.date.fromisoformat(AS_OF)))
    context = packet_contexts(district.packets[0])["schedule"]
    monkeypatch.setenv(render.ENGINE_ENV, "reference")
    assert content(render.render_document(template, context)) == content(render_docx(template, context))


@pytest.mark.parametrize("text", ["plain", "a, b; c\\d", "line\nbreak\r\nand\rreturn", "\\N upper", "", "é \u2014 ☃"])
def test_icalendar_text_escaping_without_the_private_name_is_the_same(text):
    from icalendar.parser import _escape_char

    from generator.render.adapters import icalendar_internals
    assert icalendar_internals.escape_text(text) == _escape_char(text)
    assert icalendar_internals._escape_through_vtext(text) == _escape_char(text)
