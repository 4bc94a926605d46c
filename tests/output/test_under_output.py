"""A result's paths as the reports show them: inside the output folder, `/` between their parts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.output.naming import under_output


def test_a_document_is_named_from_the_output_folder(tmp_path):
    out = tmp_path / "output"
    assert under_output(out / "0101-lincoln" / "plan.docx", out) == "0101-lincoln/plan.docx"
    assert under_output(out / "0101-lincoln", Path(f"{out}{os.sep}")) == "0101-lincoln"


def test_a_folder_whose_name_only_begins_like_the_output_is_not_inside_it(tmp_path):
    with pytest.raises(ValueError):
        under_output(tmp_path / "output-old" / "plan.docx", tmp_path / "output")
