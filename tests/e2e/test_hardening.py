"""Hardening: file-system failures, odd terminals, far dates and damaged records each end in one located
line (or a warning and a rebuild), never a traceback, and never cost an earlier document."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from generator.findings import PacketsError
from generator.model.readiness import check_packet
from generator.model.records import Person, School
from generator.output import atomic, naming
from generator.render.context import names

from conftest import AS_OF, ROOT, edit_sheet, find_row, header_column, run_cli


def build(inputs, output, *extra, jobs="1"):
    return run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", jobs,
                   *extra)


def documents(folder: Path) -> dict[Path, bytes]:
    """Every file of an output folder by its path, hidden temporary files included (none may be left)."""
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def one_error_line(result) -> str:
    """Return the run's only `error:` line after checking there is no traceback."""
    assert "Traceback" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.fixture
def built(inputs, output):
    """The sample district built once into `output`, and its documents as they are."""
    result = build(inputs, output)
    assert result.exit_code == 0, result.output
    return documents(output)


# --- --as-of far from the planning year ---------------------------------------------------------

@pytest.mark.parametrize("command", ["build", "validate"])
def test_as_of_far_from_the_planning_year_is_refused_in_one_line(inputs, output, command):
    args = [command, "--inputs", str(inputs), "--as-of", "9999-12-31"]
    result = run_cli(*args + (["--output", str(output), "--jobs", "1"] if command == "build" else []))
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "--as-of 9999-12-31" in line and "2026-27" in line, line
    assert not output.exists()


def test_as_of_in_settings_far_from_the_planning_year_names_the_setting(inputs, output):
    path = inputs / "settings.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("# as_of = 2026-11-23", "as_of = 0001-01-01"),
                    encoding="utf-8")
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--jobs", "1")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "settings.toml: [district] as_of 0001-01-01" in line, line


@pytest.mark.slow
def test_as_of_years_from_the_planning_year_still_builds(inputs, output):
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", "2035-12-31",
                     "--jobs", "1")
    assert result.exit_code == 0, result.output


# --- the output folder and the files in it ------------------------------------------------------

def test_a_missing_output_folder_is_made_with_its_parents(inputs, tmp_path):
    output = tmp_path / "not" / "there" / "yet"
    result = build(inputs, output)
    assert result.exit_code == 0, result.output
    assert (output / "index.html").is_file()


@pytest.mark.parametrize("where", ["output", "parent"])
def test_an_output_path_that_is_a_file_is_one_line(inputs, tmp_path, where):
    a_file = tmp_path / "packets.txt"
    a_file.write_text("not a folder")
    output = a_file if where == "output" else a_file / "packets"
    result = build(inputs, output)
    assert result.exit_code == 1
    line = one_error_line(result)
    where = f"{output}" if output == a_file else f"{output}: {a_file}"
    assert line == f"error: --output {where} is a file, not a folder. Fix: choose a folder for --output.", line
    assert a_file.read_text() == "not a folder"


@pytest.mark.parametrize("name", ["index.html", "build-manifest.json", "readiness.xlsx"])
def test_an_output_file_that_is_a_folder_is_one_line_and_the_rest_is_kept(inputs, output, built, name):
    (output / name).unlink()
    (output / name).mkdir()
    before = documents(output)
    result = build(inputs, output, "--force")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert f"{output / name}: Is a directory" in line, line
    assert documents(output) == before


@pytest.mark.slow
def test_a_document_that_is_a_folder_fails_that_school_only_in_a_worker(inputs, output, built):
    target = next((output / "0103-jose-marti-elementary-school").glob("*-schedule.docx"))
    target.unlink()
    target.mkdir()
    before = documents(output)
    result = build(inputs, output, "--force", jobs="2")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    failed = [line for line in result.output.splitlines() if line.startswith("Error building")]
    assert failed == [f"Error building the packet for 0103 (José Martí Elementary School): {target}: Is a directory. "
                      "Fix: move or rename that folder; a file of that name goes there."], result.output
    assert "Built 8, skipped 0 unchanged, failed 1" in result.output
    after = documents(output)
    assert {p: b for p, b in after.items() if p.parts[0].startswith("0103")} == \
           {p: b for p, b in before.items() if p.parts[0].startswith("0103")}


def test_a_packet_folder_that_is_a_file_fails_that_school_in_one_line(inputs, output, built):
    folder = output / "0102-prairie-view-middle-school"
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    folder.write_text("not a folder")
    result = build(inputs, output)
    assert result.exit_code == 1
    assert f"Error building the packet for 0102 (Prairie View Middle School): {folder}: a file, not a folder. " \
           "Fix: move that file away, or choose another path." in result.output.splitlines(), result.output
    assert "Built 0, skipped 8 unchanged, failed 1" in result.output
    assert folder.read_text() == "not a folder"


def test_a_report_or_document_is_never_moved_over_a_pipe_or_device(inputs, tmp_path):
    # As root, moving a file over /dev/null replaces the device: a pipe stands in for it here.
    pipe = tmp_path / "report.xlsx"
    os.mkfifo(pipe)
    with pytest.raises(FileExistsError, match="not a regular file"):
        atomic.write_atomic(pipe, b"data")
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF, "--report", str(pipe))
    assert "Traceback" not in result.output
    assert f"warning: could not write the report: {pipe}: not a regular file" in result.output, result.output
    assert pipe.is_fifo()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


class _FullDisk:
    """A file opened for writing whose writes fail as on a full disk."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()
        return False

    def write(self, data):
        if data:                            # as on a real disk, writing nothing never fails
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def writelines(self, blocks):
        for block in blocks:
            self.write(block)

    def __getattr__(self, name):
        return getattr(self.handle, name)


def fill_disk(monkeypatch, only_suffix: str = ""):
    """Make every staged write (or only those of files ending in only_suffix) fail with ENOSPC."""
    real_fdopen, real_mkstemp = os.fdopen, atomic.tempfile.mkstemp
    suffixes: dict[int, str] = {}

    def mkstemp(*args, suffix="", **kwargs):
        fd, path = real_mkstemp(*args, suffix=suffix, **kwargs)
        suffixes[fd] = suffix
        return fd, path

    def fdopen(fd, *args, **kwargs):
        suffix = suffixes.pop(fd, None)
        handle = real_fdopen(fd, *args, **kwargs)
        return _FullDisk(handle) if suffix is not None and suffix.endswith(only_suffix) else handle

    monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(atomic.os, "fdopen", fdopen)


def test_a_full_disk_stops_the_run_in_one_line_before_any_packet_is_replaced(inputs, output, built, monkeypatch):
    before = documents(output)
    fill_disk(monkeypatch)
    result = build(inputs, output, "--force")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    # The manifest is saved (saying the run is under way) before any packet is touched, so that is
    # where a full disk stops the run.
    line = one_error_line(result)
    assert line.startswith(f"error: building the packets: {output / 'build-manifest.json'}: No space left on device")
    assert documents(output) == before


def test_a_disk_that_fills_on_the_documents_fails_each_school_by_path(inputs, output, built, monkeypatch):
    before = documents(output)
    fill_disk(monkeypatch, ".docx")
    result = build(inputs, output, "--force")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    failed = [line for line in result.output.splitlines() if line.startswith("Error building")]
    assert len(failed) == 9 and all(": No space left on device. Fix: free space" in line for line in failed), failed
    assert str(output / "0101-riverbend-high-school") in failed[0]
    packets = lambda files: {p: data for p, data in files.items() if len(p.parts) > 1}     # noqa: E731
    assert packets(documents(output)) == packets(before)          # every school kept its earlier packet


def test_a_disk_that_fills_on_the_dashboard_keeps_the_earlier_district_view(inputs, output, built, monkeypatch):
    before = documents(output)
    fill_disk(monkeypatch, ".html")
    result = build(inputs, output, "--force")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert line.startswith(f"error: building the packets: {output / 'index.html'}: No space left on device"), line
    after = documents(output)
    for name in ("index.html", "district.xlsx", "district.ics"):
        assert after[Path(name)] == before[Path(name)]


def test_an_output_folder_that_cannot_be_written_is_one_line(inputs, output, built, monkeypatch):
    before = documents(output)

    def refused(*args, dir=None, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dir))
    monkeypatch.setattr(atomic.tempfile, "mkstemp", refused)
    result = build(inputs, output, "--force")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert line.startswith(f"error: building the packets: {output}: Permission denied"), line
    assert "Error building" not in result.output        # said once, not once per school
    assert documents(output) == before


# --- a terminal or log that cannot show every character ------------------------------------------

@pytest.mark.slow
def test_a_log_in_cp1252_does_not_stop_the_build_of_a_cjk_and_emoji_school(inputs, tmp_path):
    def rename(ws):
        ws.cell(row=find_row(ws, "School ID", "0101"), column=header_column(ws, "School Name")).value = \
            "北京 School 🎓"
    edit_sheet(inputs / "roster.xlsx", "Schools", rename)
    output, log = tmp_path / "output", tmp_path / "build.log"
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    with log.open("wb") as handle:
        done = subprocess.run([sys.executable, "-m", "generator.cli", "build", "--inputs", str(inputs),
                               "--output", str(output), "--as-of", AS_OF, "--jobs", "1"],
                              stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    text = log.read_bytes().decode("cp1252")
    assert done.returncode == 0, text
    assert "Traceback" not in text
    assert "0101 \\u5317\\u4eac School \\U0001f393: ready" in text, text
    assert "Built 9, skipped 0 unchanged, failed 0" in text
    manifest = json.loads((output / "0101-beijing-school" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["school"] == "北京 School 🎓"


# --- a damaged build-manifest.json or packet manifest.json ---------------------------------------

def _edit_manifest(output, edit):
    path = output / "build-manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data = edit(data)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")


def _set(path, value):
    def edit(data):
        *parents, last = path
        holder = data
        for key in parents:
            holder = holder[key]
        if value is KeyError:
            del holder[last]
        else:
            holder[last] = value
        return data
    return edit


WRONG_SHAPES = {
    "a list": lambda data: [],
    "schools a list": lambda data: {"schools": []},
    "an entry a number": lambda data: {"schools": {"0101": 5}},
    "last_run schools a number": lambda data: {"last_run": {"schools": 7}},
    "last_run schools a number with the run's digest": _set(("last_run", "schools"), 7),
    "an entry a list": _set(("schools", "0101"), []),
    "no documents": _set(("schools", "0101", "documents"), KeyError),
    "no built_at": _set(("schools", "0101", "built_at"), KeyError),
    "built_at a number": _set(("schools", "0101", "built_at"), 5),
    "built_at not a date": _set(("schools", "0101", "built_at"), "yesterday"),
    "no folder": _set(("schools", "0101", "folder"), KeyError),
    "folder a number": _set(("schools", "0101", "folder"), 5),
    "documents of numbers": _set(("schools", "0101", "documents"), [5]),
    "documents a string": _set(("schools", "0101", "documents"), "abc"),
    "a document outside the output": _set(("schools", "0101", "documents"), ["/etc/hostname"]),
    "a name a number": _set(("schools", "0101", "name"), 7),
    "not JSON": lambda data: "{\"schools\": {",
}


@pytest.mark.slow
@pytest.mark.parametrize("shape", WRONG_SHAPES)
def test_a_build_manifest_of_the_wrong_shape_is_a_warning_and_a_rebuild(inputs, output, built, shape):
    _edit_manifest(output, WRONG_SHAPES[shape])
    result = build(inputs, output)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")
                and "build-manifest.json" in line]
    assert len(warnings) == 1, result.output
    assert "Built 9, skipped 0 unchanged, failed 0" in result.output, result.output
    again = build(inputs, output)           # the manifest written is whole again
    assert again.exit_code == 0 and "Built 0, skipped 9 unchanged" in again.output, again.output
    assert "warning:" not in again.output


@pytest.mark.parametrize("damage", ["not json", "files a number", "a file missing", "a size changed",
                                    "a name changed, the file the same size"])
def test_a_damaged_packet_manifest_rebuilds_that_school_only(inputs, output, built, damage):
    folder = output / "0104-tubman-douglass-academy"
    manifest = folder / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    if damage == "not json":
        manifest.write_text('{"school_id": "0104", "files": [', encoding="utf-8")
    elif damage == "files a number":
        manifest.write_text(json.dumps({**data, "files": 3}), encoding="utf-8")
    elif damage == "a file missing":
        manifest.write_text(json.dumps({**data, "files": data["files"][1:]}), encoding="utf-8")
    elif damage == "a size changed":
        data["files"][0]["size"] += 1
        manifest.write_text(json.dumps(data), encoding="utf-8")
    else:           # the build recorded the manifest's size: only its modification time says it changed
        text = manifest.read_text(encoding="utf-8")
        name = data["files"][0]["file"]
        manifest.write_text(text.replace(f'"{name}"', f'"x{name[1:]}"', 1), encoding="utf-8")
        assert len(manifest.read_bytes()) == len(text.encode())
    result = build(inputs, output)
    assert result.exit_code == 0, result.output
    assert "Built 1, skipped 8 unchanged" in result.output, result.output
    assert "0104 Tubman & Douglass Academy: ready" in result.output
    rebuilt = json.loads(manifest.read_text(encoding="utf-8"))
    assert sorted(e["file"] for e in rebuilt["files"]) == sorted(p.name for p in folder.iterdir()
                                                                  if p.name != "manifest.json")


# --- names(): linear, and the same names as before ------------------------------------------------

class _CountedName(str):
    """A name that counts how often it is compared, to show names() does not compare every pair."""

    comparisons = 0

    def __eq__(self, other):
        _CountedName.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def _person(name: str, role: str = "Principal") -> Person:
    return Person(name, role)


def test_names_keeps_roster_order_and_each_name_once():
    people = tuple(_person(n) for n in ["Ana Ruiz", "Bo Li", "Ana Ruiz", "Cy Day", "Bo Li", ""])
    assert names(people) == "Ana Ruiz; Bo Li; Cy Day; "
    assert names(()) == ""


def _names_as_before(people) -> str:
    """names() as it was before it was made linear: the reference its output must still equal."""
    seen: list[str] = []
    for p in people:
        if p.name not in seen:
            seen.append(p.name)
    return "; ".join(seen)


def test_names_of_every_sample_role_are_as_before(settings):
    from generator.inputs.schema import ROLES
    from generator.pipeline import load_district
    district, _ = load_district(settings)
    for packet in district.packets:
        for role in ROLES:
            assert names(packet.people_in(role)) == _names_as_before(packet.people_in(role))
        assert names(packet.people) == _names_as_before(packet.people)
        assert names(packet.people + packet.people[::-1]) == _names_as_before(packet.people)


def test_names_of_many_people_compares_a_bounded_number_of_times_per_person():
    people = tuple(_person(_CountedName(f"Member {i}")) for i in range(3000))
    _CountedName.comparisons = 0
    shown = names(people + people[:10])
    assert shown == "; ".join(f"Member {i}" for i in range(3000))
    assert _CountedName.comparisons < 4 * 3000


# --- readiness wording ----------------------------------------------------------------------------

def test_no_readiness_message_doubles_an_article(settings, inputs):
    """The sample's incomplete school 0107, and a district whose plans are all empty."""
    from generator.pipeline import load_district
    district, _ = load_district(settings)
    messages = [f.message for packet in district.packets if packet.school.school_id == "0107"
                for f in check_packet(packet)]
    assert messages
    goals = openpyxl.load_workbook(inputs / "goals.xlsx")
    for ws in goals:
        ws.delete_rows(2, ws.max_row)
    goals.save(inputs / "goals.xlsx")
    empty, _ = load_district(settings)
    messages += [f.message for packet in empty.packets for f in check_packet(packet)]
    assert "The plan has no communication plan for all stakeholders." in messages
    assert "The plan has no local assessment measuring academic progress." in messages
    assert not [m for m in messages if " no a " in f" {m} " or " no an " in f" {m} "], messages


def test_a_packet_folder_that_is_a_link_out_of_the_output_folder_is_refused(settings, tmp_path):
    """A packet folder that is a link leading out of the output folder is refused, naming it; one that leads
    to another folder inside the output folder is used as it is."""
    school = School("0102", "Prairie View Middle School", "Targeted", 1)
    settings.output.mkdir(parents=True)
    folder = settings.output / "0102-prairie-view-middle-school"
    folder.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(PacketsError, match="'0102-prairie-view-middle-school' would leave the output folder"):
        naming.packet_folder(settings, school)
    folder.unlink()
    (settings.output / "moved").mkdir()
    folder.symlink_to(settings.output / "moved", target_is_directory=True)
    assert naming.packet_folder(settings, school) == folder
