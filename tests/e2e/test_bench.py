"""`make bench` itself: a small district runs through every step and prints a row of figures."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_bench_builds_cold_warm_and_after_one_edit_and_prints_its_figures():
    # The bench asserts, for each size, that every school is built cold, none warm, and only the
    # edited school after one timeline row changes; a failed assertion exits non-zero.
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "bench.py"), "--sizes", "12", "--distinct", "6",
                          "--baseline", "2"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    row = re.search(r"^\| 12 \| ([\d.]+) \| ([\d.]+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| (\d+) / (\d+) \|$",
                    run.stdout, re.M)
    assert row, run.stdout
    cold, _, documents_per_second, warm, one_edit, main, worker = map(float, row.groups())
    assert 0 <= warm < cold and one_edit > 0 and documents_per_second > 0 and main > 0 and worker > 0
    assert re.search(r"^\| 6, every plan different \| [\d.]+ \|", run.stdout, re.M), run.stdout
    ratios = re.findall(r"ms/packet \(([\d.]+)x\)", run.stdout)
    assert len(ratios) == 1 and all(float(r) > 1 for r in ratios), run.stdout
