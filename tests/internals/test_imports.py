"""What a build imports before it knows there is work: a run with nothing to rebuild reads no file, so it
must not pay for pandas (a third of such a run at 5,000 schools). A refactor may move the import; the
rule it guards (pandas only where a file is read) must hold."""

from __future__ import annotations

import subprocess
import sys


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(run.stdout.split())


def test_the_pipeline_and_the_cli_import_no_pandas():
    assert "pandas" not in imported_after("import generator.pipeline, generator.cli")


def test_reading_a_table_imports_pandas_then():
    loaded = imported_after("from generator.render.template_data import schedule_tasks; schedule_tasks()")
    assert "pandas" in loaded
