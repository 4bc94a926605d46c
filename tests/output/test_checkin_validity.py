"""The check-in forms are valid by the rules Word and Excel apply, as the packet's are (test_validity.py): openxml-audit
reports nothing about them but the KNOWN findings every python-docx or openpyxl file gets."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from long_district import long_packets
from test_validity import unlisted

from generator.model.records import ReviewEvent

from conftest import SAMPLE, run_cli
from factories import write_inputs

LONG_CHECK_IN = dt.date(2027, 5, 31)


@pytest.mark.slow
@pytest.mark.parametrize("district", ["sample", "long"])
def test_every_check_in_form_is_valid_by_the_sdks_rules(tmp_path, district):
    if district == "sample":
        inputs, day = SAMPLE, "2027-12-14"
    else:
        packets = [dataclasses.replace(p, review=p.review + (ReviewEvent("check-in", "", LONG_CHECK_IN, "Renée"),))
                   for p in long_packets()]
        inputs, day = write_inputs(tmp_path / "inputs", packets), LONG_CHECK_IN.isoformat()
    out = tmp_path / "output"
    result = run_cli("checkin", "--inputs", str(inputs), "--output", str(out), "--date", day, "--as-of", "2027-03-01")
    assert result.exit_code == 0, result.output
    files = sorted(p for p in (out / "checkins").rglob("*") if p.suffix in (".docx", ".xlsx"))
    assert {p.name.split("-", 1)[1] for p in files} == {"after-action-review.docx", "reflection.xlsx"}
    problems = [line for path in files for line in unlisted(path)]
    assert not problems, f"{len(problems)} finding(s) not in KNOWN:\n" + "\n".join(sorted(set(problems))[:40])
