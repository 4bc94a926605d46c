"""The `packets` command as a thin layer: every command's help, `python -m generator`, and
pipeline.send with a mailer of the test's own (no outbox, no server)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from generator import pipeline
from generator.cli import main
from generator.delivery.send import SENT, Outcome
from generator.findings import PacketsError
from generator.settings import load_settings

from conftest import AS_OF, ROOT, SAMPLE

SCHOOLS = ["0101", "0102", "0103", "0104", "0105", "0106", "0107", "0108", "0109"]


# --- help ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_naming_its_usage_and_each_of_its_options(name):
    command = main.commands[name]
    result = CliRunner().invoke(main, [name, "--help"], prog_name="packets", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    arguments = [p.human_readable_name for p in command.params if p.param_type_name == "argument"]
    assert result.output.splitlines()[0] == " ".join(["Usage: packets", name, "[OPTIONS]", *arguments])
    first_words = " ".join(command.help.split("\n\n")[0].split()[:8])        # the help wraps lines anew
    assert first_words in " ".join(result.output.split())
    for option in (p for p in command.params if p.param_type_name == "option"):
        assert option.opts[0] in result.output, f"{name} --help does not show {option.opts[0]}"


def test_python_dash_m_generator_is_the_packets_command(tmp_path):
    shown = subprocess.run([sys.executable, "-m", "generator", "--help"], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "Usage: packets [OPTIONS] COMMAND [ARGS]..."
    listed = {line.split()[0] for line in shown.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(main.commands)

    checked = subprocess.run([sys.executable, "-m", "generator", "validate", "--inputs", str(SAMPLE),
                              "--as-of", AS_OF, "--report", str(tmp_path / "validation.xlsx")],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 1                   # the sample has one school not ready
    assert checked.stdout.splitlines()[-1] == "7 errors, 5 warnings in 3 schools; 8 of 9 school(s) ready"
    assert openpyxl.load_workbook(tmp_path / "validation.xlsx").worksheets[0].max_row > 1


# --- pipeline.send with the test's own mailer ----------------------------------------------------

class RecordingMailer:
    """A mailer that sends nothing: it keeps what pipeline.send gave it and calls each school sent."""

    holds_folder = True

    def __init__(self):
        self.email = None
        self.given: list = []
        self.options: tuple = ()

    def prepare(self, email):
        self.email = email

    def deliver(self, deliveries, output, email, only_ready, resend, progress):
        assert email is self.email                   # prepared with the settings it delivers with
        self.given, self.options = list(deliveries), (Path(output), only_ready, resend)
        outcomes = [Outcome(d, SENT, "to the test") for d in deliveries]
        for outcome in outcomes:
            progress(outcome)
        return outcomes

    def notes(self, deliveries, output):
        return [f"recorded {len(deliveries)}"]


@pytest.fixture
def built(sample_output, tmp_path) -> tuple[Path, Path]:
    shutil.copytree(SAMPLE, tmp_path / "inputs")
    shutil.copytree(sample_output, tmp_path / "output")
    return tmp_path / "inputs", tmp_path / "output"


def principals(inputs: Path) -> dict[str, tuple[str, str]]:
    """Each school's principal (name, address), read straight from the roster's People sheet."""
    rows = list(openpyxl.load_workbook(inputs / "roster.xlsx")["People"].iter_rows(values_only=True))
    people = [dict(zip(rows[0], r)) for r in rows[1:] if any(r)]
    return {p["School ID"]: (p["Name"], p["Email"]) for p in people if p["Role"] == "Principal"}


def test_pipeline_send_hands_the_mailer_every_school_with_its_recipients_and_documents(built):
    inputs, output = built
    mailer = RecordingMailer()
    heard = []
    report = pipeline.send(load_settings(inputs, output), mailer, only_ready=True, resend=True,
                           progress=lambda outcome, number, total: heard.append((outcome.delivery.school_id,
                                                                                 number, total)))
    assert [d.school_id for d in mailer.given] == SCHOOLS
    assert mailer.options == (output, True, True)
    expected = principals(inputs)
    for d in mailer.given:
        assert [(r.name, r.address) for r in d.to] == [expected[d.school_id]]
        assert {r.role for r in d.cc} >= {"School Improvement Coordinator"}
        recorded = json.loads((output / "build-manifest.json").read_text())["schools"][d.school_id]["documents"]
        assert sorted(d.attachments.names) == sorted(Path(name).name for name in recorded)
    assert heard == [(sid, n, 9) for n, sid in enumerate(SCHOOLS, start=1)]
    assert report.summary == "9 school(s): 9 sent" and not report.problem
    assert report.notes == ("recorded 9",)
    assert not (output / "outbox").exists() and not (output / "send-ledger.json").exists()


def test_pipeline_send_plans_only_the_schools_asked_for(built):
    inputs, output = built
    mailer = RecordingMailer()
    pipeline.send(load_settings(inputs, output, schools=("0102",)), mailer)
    (given,) = mailer.given
    assert given.school_id == "0102" and given.to[0].address == principals(inputs)["0102"][1]
    assert mailer.options == (output, False, False)


def test_pipeline_send_stops_before_the_mailer_without_a_build(inputs, tmp_path):
    mailer = RecordingMailer()
    with pytest.raises(PacketsError, match="No build found"):
        pipeline.send(load_settings(inputs, tmp_path / "empty"), mailer)
    assert mailer.given == []
