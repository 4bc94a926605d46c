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
    assert s.time_zone == "America/Chicago"


@pytest.mark.parametrize("zone", ["America/Chicago", "America/Los_Angeles", "UTC", " Europe/Dublin "])
def test_a_time_zone_is_an_iana_name(tmp_path, zone):
    folder = write(tmp_path, f'[district]\nname = "D"\nplanning_year = "2026-27"\ntime_zone = "{zone}"\n')
    assert load_settings(folder).time_zone == zone.strip()
    assert load_settings(write(tmp_path, '[district]\nname = "D"\nplanning_year = "2026-27"\n')).time_zone == ""


@pytest.mark.parametrize("zone, says", [
    ('"America/Chicgo"', r"time_zone 'America/Chicgo' is not a time zone name\. Did you mean America/Chicago\?"),
    ('"america/chicago"', r"Did you mean America/Chicago\?"),
    ('"Central Time"', r"time_zone 'Central Time' is not a time zone name\. .*Fix: use an IANA name"),
    ('"../../etc/passwd"', r"is not a time zone name"),
    ('-6', r"time_zone must be a time zone name such as America/Chicago"),
    ('""', r"time_zone must be a time zone name"),
])
def test_a_time_zone_that_is_not_one_is_refused_naming_the_file(tmp_path, zone, says):
    folder = write(tmp_path, f'[district]\nname = "D"\nplanning_year = "2026-27"\ntime_zone = {zone}\n')
    with pytest.raises(PacketsError, match=says) as caught:
        load_settings(folder)
    assert str(caught.value).startswith(str(folder / "settings.toml")) and "\n" not in str(caught.value)


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


# --- patterns that would lose documents or stop a build with a traceback ----------------------------

BASE = '[district]\nname = "D"\nplanning_year = "2026-27"\n'


@pytest.mark.parametrize("pattern", ["{school_id}", "{school_id}-{slug}", "packet", "{year}"])
def test_a_file_pattern_without_form_is_refused(tmp_path, pattern):
    with pytest.raises(PacketsError) as caught:
        load_settings(write(tmp_path, BASE + f'[output]\nfile = "{pattern}"\n'))
    message = str(caught.value)
    assert "settings.toml: [output] file" in message and "{form}" in message


@pytest.mark.parametrize("key", ["folder", "file"])
@pytest.mark.parametrize("pattern", ["{school_id:d}", "{school_id!r}", "{school_id.x}", "{school_id[0]}",
                                     "{}", "{0}", "{school_id:{form}}", "{form!s:>9}"])
def test_a_pattern_field_must_be_a_plain_name(tmp_path, key, pattern):
    other = "file" if key == "folder" else "folder"
    text = BASE + f'[output]\n{key} = "{pattern}-{{form}}"\n{other} = "{{school_id}}-{{form}}"\n'
    with pytest.raises(PacketsError) as caught:
        load_settings(write(tmp_path, text))
    assert f"settings.toml: [output] {key} " in str(caught.value)


@pytest.mark.parametrize("year", ["0000-01", "9999", "9999-00", "1899-1900", "2200-01", "0001"])
def test_a_planning_year_outside_the_range_is_refused(tmp_path, year):
    with pytest.raises(PacketsError, match=r"settings.toml: \[district\] planning_year: .*1900") as caught:
        load_settings(write(tmp_path, f'[district]\nname = "D"\nplanning_year = "{year}"\n'))
    assert year in str(caught.value)


@pytest.mark.parametrize("year", ["1900-01", "2198-99", "2199"])
def test_planning_years_at_the_ends_of_the_range_are_accepted(tmp_path, year):
    s = load_settings(write(tmp_path, f'[district]\nname = "D"\nplanning_year = "{year}"\n'))
    assert s.planning_year.last_day.year == s.planning_year.start + 1


@pytest.mark.parametrize("edit, says", [
    (('file = "{school_id}-{form}"', 'file = "{school_id}"'), "[output] file"),
    (('folder = "{school_id}-{slug}"', 'folder = "{school_id:d}"'), "[output] folder"),
    (('folder = "{school_id}-{slug}"', 'folder = "{school_id!r}"'), "[output] folder"),
    (('planning_year = "2026-27"', 'planning_year = "9999"'), "[district] planning_year"),
    (('planning_year = "2026-27"', 'planning_year = "0000-01"'), "[district] planning_year"),
    (('[output]', '[outptu]'), "[outptu]"),
])
def test_the_build_refuses_bad_settings_with_one_line(inputs, output, edit, says):
    from conftest import AS_OF, run_cli
    path = inputs / "settings.toml"
    text = path.read_text(encoding="utf-8")
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "settings.toml" in lines[0], result.output
    assert says in lines[0] and "Traceback" not in result.output
    assert not output.exists()


# --- unknown keys and tables, and a byte-order mark ------------------------------------------------

@pytest.mark.parametrize("text, says", [
    (BASE + "as_off = 2026-11-23\n", "settings.toml: unknown key [district] as_off. Did you mean as_of?"),
    (BASE + '[outptu]\nfile = "{school_id}-{form}"\n', "settings.toml: unknown table [outptu]. Did you mean [output]?"),
    (BASE + '[output]\nfiles = "{school_id}-{form}"\n',
     "settings.toml: unknown key [output] files. Did you mean file?"),
    ('title = "x"\n' + BASE, "settings.toml: unknown key title."),
    (BASE + "[output]\ncolour = 3\n", "settings.toml: unknown key [output] colour. Use one of: file, folder."),
])
def test_unknown_settings_are_refused_with_the_nearest_known_one(tmp_path, text, says):
    with pytest.raises(PacketsError) as caught:
        load_settings(write(tmp_path, text))
    assert says in str(caught.value)


def test_a_byte_order_mark_is_accepted(tmp_path):
    folder = write(tmp_path, "")
    (folder / "settings.toml").write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert load_settings(folder).district_name == "Riverbend CUSD 117"


def test_email_toml_accepts_a_byte_order_mark_and_refuses_unknown_keys_by_name(tmp_path):
    from generator.delivery.settings import load_email_settings
    sample = (Path(__file__).resolve().parent.parent / "inputs" / "email.toml").read_text(encoding="utf-8")
    folder = write(tmp_path, GOOD)
    (folder / "email.toml").write_bytes(b"\xef\xbb\xbf" + sample.encode("utf-8"))
    assert load_email_settings(folder).attach in ("documents", "pdf", "auto")

    assert "\n[email]\n" in sample
    (folder / "email.toml").write_text(sample.replace("\n[email]\n", "\n[email]\nreplyto = \"a@b.org\"\n"),
                                       encoding="utf-8")
    with pytest.raises(PacketsError) as caught:
        load_email_settings(folder)
    assert "email.toml: unknown key [email] replyto. Did you mean reply_to?" in str(caught.value)
