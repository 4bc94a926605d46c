"""What a build imports before it knows there is work: a run with nothing to rebuild reads no file and renders
nothing, so it must not pay for pandas, openpyxl or the Word libraries (together most of such a run at 5,000
schools). A refactor may move an import; the rule it guards (each library only where it is used) must hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from factories import AS_OF

SAMPLE = Path(__file__).resolve().parents[2] / "inputs"
DOCUMENT_LIBRARIES = {"pandas", "numpy", "openpyxl", "docx", "docxtpl", "lxml", "icalendar", "pypdf", "pikepdf"}


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(run.stdout.splitlines()[-1].split())         # the last line: what a build prints comes first


def libraries(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules} & DOCUMENT_LIBRARIES


def build_in_a_process(output: Path) -> str:
    return (f"from generator.cli import main; main(['build', '--inputs', {str(SAMPLE)!r}, "
            f"'--output', {str(output)!r}, '--as-of', {AS_OF.isoformat()!r}, '--jobs', '1'], standalone_mode=False)")


def test_the_pipeline_and_the_cli_import_no_document_library():
    assert libraries(imported_after("import generator.pipeline, generator.cli")) == set()


def test_a_build_with_nothing_to_rebuild_imports_no_document_library(tmp_path):
    first = imported_after(build_in_a_process(tmp_path / "output"))
    assert {"openpyxl", "docxtpl", "lxml"} <= libraries(first)      # the first build reads and renders
    assert "pandas" not in first        # every packet worker would import it (0.3 s, 30 MB): only .ods needs it
    again = imported_after(build_in_a_process(tmp_path / "output"))
    assert "generator.pipeline.packets" in again
    assert libraries(again) == set()
    assert "generator.pipeline.rebuild" not in again


def test_the_templates_data_files_are_read_without_pandas_their_workbook_too():
    assert "pandas" not in imported_after("from generator.render.template_data import designations, schedule_tasks, "
                                          "grid_activities; designations(); schedule_tasks(); grid_activities()")
