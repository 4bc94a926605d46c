"""Settings: the planning year and settings.toml, with one clear error per mistake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generator.findings import PacketsError
from generator.settings import PlanningYear, Settings, load_settings


@pytest.mark.parametrize("text", ["2026-27", "2026-2027", "2026", " 2026 - 27 ", "2026/27", "2026\u201327"])
def test_planning_year_parse(text):
    year = PlanningYear.parse(text)
    assert year == PlanningYear(2026)
    assert year.start == 2026 and year.end == 2027


@pytest.mark.parametrize("text, says", [
    ("2026-28", "does not span two consecutive years; write it as 2026-27"),
    ("2026-2028", "does not span two consecutive years"),
    ("2026-26", "does not span two consecutive years"),
    ("abc", "'abc' is not a school year; write it as 2026-27"),
    ("", "is not a school year"),
    ("26-27", "is not a school year"),
    ("2026-7", "is not a school year"),
])
def test_planning_year_parse_rejects(text, says):
    with pytest.raises(ValueError, match=says):
        PlanningYear.parse(text)


def test_planning_year_labels_and_days():
    year = PlanningYear.parse("2026-27")
    assert year.label == "2026-27"
    assert year.first_day == dt.date(2026, 7, 1)
    assert year.last_day == dt.date(2027, 6, 30)
    assert PlanningYear(2009).label == "2009-10"
    assert PlanningYear.parse(PlanningYear(2031).label) == PlanningYear(2031)


def test_planning_year_label_round_trips_across_a_century():
    assert PlanningYear.parse(PlanningYear(2099).label) == PlanningYear(2099)


GOOD = """
[district]
name = "Riverbend CUSD 117"
planning_year = "2026-27"
as_of = 2026-11-23

[output]
folder = "{school_id}-{slug}"
file = "{school_id}-{form}-{year}"
"""


def write(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir(exist_ok=True)
    (folder / "settings.toml").write_text(text, encoding="utf-8")
    return folder


def test_load_settings_reads_everything(tmp_path):
    s = load_settings(write(tmp_path, GOOD), tmp_path / "out", schools=("0101",))
    assert s == Settings(inputs=tmp_path / "inputs", output=tmp_path / "out", district_name="Riverbend CUSD 117",
                         planning_year=PlanningYear(2026), as_of=dt.date(2026, 11, 23),
                         folder_pattern="{school_id}-{slug}", file_pattern="{school_id}-{form}-{year}",
                         schools=("0101",))


def test_load_settings_defaults_and_command_line_as_of(tmp_path):
    folder = write(tmp_path, '[district]\nname = "D"\nplanning_year = 2026\n')
    s = load_settings(folder, as_of=dt.date(2027, 1, 5))
    assert (s.output, s.as_of, s.planning_year.label) == (Path("output"), dt.date(2027, 1, 5), "2026-27")
    assert (s.folder_pattern, s.file_pattern) == ("{school_id}-{slug}", "{school_id}-{form}")
    assert load_settings(folder).as_of == dt.date.today()


def test_sample_settings_load():
    sample = Path(__file__).resolve().parent.parent / "inputs"
    s = load_settings(sample)
    assert s.planning_year == PlanningYear(2026)
    assert s.district_name.startswith("Riverbend")


@pytest.mark.parametrize("text, says", [
    ('[district]\nplanning_year = "2026-27"\n', r"\[district\] name is missing"),
    ('[district]\nname = "  "\nplanning_year = "2026-27"\n', r"\[district\] name is missing"),
    ('[district]\nname = "D"\n', r"\[district\] planning_year: '' is not a school year"),
    ('[district]\nname = "D"\nplanning_year = "2026-28"\n', r"planning_year: '2026-28' does not span"),
    ('[district]\nname = "D"\nplanning_year = "next year"\n', r"planning_year: 'next year' is not a school year"),
    ('[district]\nname = "D"\nplanning_year = "2026-27"\n[output]\nfolder = "{nope}-{slug}"\n',
     r"\[output\] folder uses unknown field\(s\) \{nope\}"),
    ('[district]\nname = "D"\nplanning_year = "2026-27"\n[output]\nfile = "{school_id}-{Form}"\n',
     r"\[output\] file uses unknown field\(s\) \{Form\}"),
    ('[district]\nname = "D"\nplanning_year = "2026-27"\n[output]\nfile = "{school_id"\n',
     r"\[output\] file = '\{school_id' is not a valid pattern"),
    ('[district]\nname = "D"\nplanning_year = "2026-27"\nas_of = "soon"\n', r"as_of must be a date"),
    ('[district\nname = "D"\n', r"not valid TOML"),
])
def test_load_settings_errors_name_the_file(tmp_path, text, says):
    with pytest.raises(PacketsError, match=says) as caught:
        load_settings(write(tmp_path, text))
    assert "settings.toml" in str(caught.value)


def test_unknown_field_error_lists_the_allowed_fields(tmp_path):
    folder = write(tmp_path, '[district]\nname = "D"\nplanning_year = "2026-27"\n[output]\nfolder = "{nope}"\n')
    with pytest.raises(PacketsError) as caught:
        load_settings(folder)
    assert str(caught.value).endswith("Fix: use only {district}, {form}, {school_id}, {slug}, {year}.")


def test_missing_settings_file(tmp_path):
    folder = tmp_path / "inputs"
    folder.mkdir()
    with pytest.raises(PacketsError) as caught:
        load_settings(folder)
    assert str(caught.value).startswith(f"{folder / 'settings.toml'}: not found.")


def test_missing_inputs_folder(tmp_path):
    with pytest.raises(PacketsError, match="does not exist") as caught:
        load_settings(tmp_path / "nowhere")
    assert "settings.toml" in str(caught.value)


def test_district_written_as_a_string_is_a_clear_error(tmp_path):
    with pytest.raises(PacketsError, match="settings.toml"):
        load_settings(write(tmp_path, 'district = "Riverbend"\n'))
