"""Package: safe names, folders that cannot leave the output folder, writes that never leave a broken file."""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import pytest
from anyascii import anyascii
from hypothesis import given
from hypothesis import strategies as st

from generator.output import atomic, naming
from generator.output.atomic import write_atomic, write_files
from generator.output.naming import MAX_NAME, document_name, packet_folder, safe_name, slugify

from conftest import packet_folders


@pytest.mark.parametrize("text, slug", [
    ("José Martí & Co.", "jose-marti-co"),
    ("Riverbend High School", "riverbend-high-school"),
    ("  --Ünïcödé--  ", "unicode"),
    ("../../etc/passwd", "etc-passwd"),
    ("St. Mary's K-8", "st-mary-s-k-8"),
    ("Nguyễn Thị Định Community School", "nguyen-thi-dinh-community-school"),     # Đ does not decompose
    ("Łódź Straße Ørsted", "lodz-strasse-orsted"),
    ("北京市第一中学", "beijingshidiyizhongxue"),
    ("北京 School 🎓", "beijing-school"),         # a symbol is not spelled out
    ("😀", "school"),
    ("", "school"),
])
def test_slugify(text, slug):
    assert slugify(text) == slug


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_slugs_as_a_character_at_a_time(text):
    """slugify takes ASCII text as it is: what transliterating it a character at a time would give."""
    one_by_one = "".join(anyascii(c) if unicodedata.category(c)[0] in "LMN" else " " for c in text)
    assert slugify(text) == (re.sub(r"[^a-z0-9]+", "-", one_by_one.lower()).strip("-")[:MAX_NAME].rstrip("-")
                             or "school")


def test_slugify_is_capped_without_trailing_dash():
    slug = slugify("a" * (MAX_NAME - 1) + " bbbb")
    assert slug == "a" * (MAX_NAME - 1)
    assert len(slugify("x" * 500)) == MAX_NAME


@pytest.mark.parametrize("text, name", [
    ("0101-riverbend", "0101-riverbend"),
    ("a/b\\c", "a-b-c"),
    ("..", "file"),
    ("../x", "x"),
    ("..\\..\\x", "x"),
    ("../../etc/passwd", "etc-passwd"),
    ("CON", "_CON"),
    ("con.docx", "_con.docx"),
    ("LPT1", "_LPT1"),
    ("nul.tar.gz", "_nul.tar.gz"),
    ("CONTOSO", "CONTOSO"),
    ("tab\there\x00nul\x1fus", "tab-here-nul-us"),
    ('what?<>:"|*', "what"),
    ("  .hidden.  ", "hidden"),
    ("", "file"),
])
def test_safe_name(text, name):
    assert safe_name(text) == name


def test_safe_name_never_contains_separators_or_controls():
    nasty = "".join(chr(c) for c in range(0, 128))
    name = safe_name(nasty * 3)
    assert not set(name) & set('/\\<>:"|?*' + "".join(chr(c) for c in range(32)))
    assert not name.startswith(".") and len(name) <= MAX_NAME


@pytest.fixture
def out_settings(tmp_path):
    import datetime as dt

    from generator.settings import PlanningYear, Settings
    return Settings(inputs=tmp_path / "inputs", output=tmp_path / "output", district_name="Riverbend CUSD",
                    planning_year=PlanningYear(2026), as_of=dt.date(2026, 11, 23))


def school(school_id="0101", name="Lincoln Elementary"):
    return SimpleNamespace(school_id=school_id, name=name)


@pytest.mark.parametrize("sid, name, folder_name", [
    ("0101", "José Martí Elementary", "0101-jose-marti-elementary"),
    ("0101", "../../etc/passwd", "0101-etc-passwd"),
    ("../x", "Lincoln", "x-lincoln"),
    ("..", "..", "school-school"),
    ("/", "/", "school-school"),
    ("CON", "", "_CON-school"),
])
def test_packet_folder_stays_directly_inside_output(out_settings, sid, name, folder_name):
    folder = packet_folder(out_settings, school(sid, name))
    assert folder.name == folder_name
    assert folder.parent == out_settings.output
    assert folder.resolve().parent == out_settings.output.resolve()


@pytest.mark.parametrize("pattern", ["{school_id}", "{slug}", "../{school_id}", "{school_id}/../../{slug}", ".."])
def test_packet_folder_pattern_cannot_climb_out(out_settings, pattern):
    settings = dataclasses.replace(out_settings, folder_pattern=pattern)
    folder = packet_folder(settings, school("../..", "../../etc"))
    assert folder.resolve().parent == out_settings.output.resolve()
    assert folder.parent == out_settings.output
    assert folder.name not in ("", ".", "..") and not folder.name.startswith(".")
    assert "/" not in folder.name and "\\" not in folder.name


def test_document_name(out_settings):
    assert document_name(out_settings, school("0101"), "schedule", ".docx") == "0101-schedule.docx"
    assert document_name(out_settings, school("../0101"), "grid", ".xlsx") == "0101-grid.xlsx"
    settings = dataclasses.replace(out_settings, file_pattern="{district}_{year}_{form}")
    assert document_name(settings, school(), "plan", ".docx") == "riverbend-cusd_2026-27_plan.docx"


# --- writing ---------------------------------------------------------------------------------------

def leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((".tmp-", ".old-")))


def test_write_atomic_replaces_whole_file(tmp_path):
    path = tmp_path / "deep" / "report.xlsx"
    write_atomic(path, b"first version, rather long " * 100)
    write_atomic(path, b"second")
    assert path.read_bytes() == b"second"
    assert leftovers(path.parent) == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.xlsx"]


def test_write_atomic_failure_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"old")

    def refuse(src, dst):
        raise PermissionError("locked by Excel")
    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(PermissionError):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_write_files_writes_all_and_returns_paths(tmp_path):
    folder = tmp_path / "0101-lincoln"
    written = write_files(folder, {"a.docx": b"A", "b.xlsx": b"B"})
    assert written == [folder / "a.docx", folder / "b.xlsx"]
    assert (folder / "a.docx").read_bytes() == b"A" and (folder / "b.xlsx").read_bytes() == b"B"
    assert leftovers(folder) == []


def old_packet(tmp_path):
    folder = tmp_path / "0101-lincoln"
    folder.mkdir()
    for name in ("a.docx", "b.xlsx", "c.docx"):
        (folder / name).write_bytes(b"old " + name.encode())
    return folder


NEW = {"a.docx": b"new a", "b.xlsx": b"new b", "c.docx": b"new c"}


def test_write_files_staging_failure_leaves_old_packet(tmp_path, monkeypatch):
    folder = old_packet(tmp_path)
    real_stage, calls = atomic._stage, []

    def flaky(directory, suffix, data, flush=True):
        calls.append(suffix)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_stage(directory, suffix, data, flush)
    monkeypatch.setattr(atomic, "_stage", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_files(folder, NEW)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {
        "a.docx": b"old a.docx", "b.xlsx": b"old b.xlsx", "c.docx": b"old c.docx"}


def test_write_files_replace_failure_restores_the_whole_packet(tmp_path, monkeypatch):
    """A move that fails midway (a document open in Excel) puts back the ones already moved: the packet
    is all old or all new, never mixed, and no temporary or backup file is left."""
    folder = old_packet(tmp_path)
    real_replace, calls = os.replace, []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise PermissionError("b.xlsx is open in Excel")
        return real_replace(src, dst)
    monkeypatch.setattr(atomic.os, "replace", flaky)
    with pytest.raises(PermissionError):
        write_files(folder, NEW)
    assert leftovers(folder) == []
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {
        "a.docx": b"old a.docx", "b.xlsx": b"old b.xlsx", "c.docx": b"old c.docx"}


def test_written_files_are_readable_by_others_not_owner_only(tmp_path):
    """mkstemp makes owner-only files; packets are shared on drives, so they get ordinary permissions."""
    import os
    import stat

    from generator.output.atomic import write_atomic, write_files
    write_atomic(tmp_path / "a.xlsx", b"x")
    write_files(tmp_path / "p", {"b.docx": b"y"})
    umask = os.umask(0)
    os.umask(umask)
    for path in (tmp_path / "a.xlsx", tmp_path / "p" / "b.docx"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def flushed_names(monkeypatch) -> list[str]:
    """Record the suffix of each file flushed to disk (fsync) from now on."""
    flushed, real_fsync = [], os.fsync

    def fsync(fd):
        flushed.append(Path(os.readlink(f"/proc/self/fd/{fd}")).suffix)
        return real_fsync(fd)
    monkeypatch.setattr(atomic.os, "fsync", fsync)
    return flushed


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_written_documents_are_each_flushed_and_staged_ones_only_when_asked(tmp_path, monkeypatch):
    flushed = flushed_names(monkeypatch)
    folder = old_packet(tmp_path)
    write_files(folder, {"d.docx": b"new d"})
    assert flushed == [".docx"]
    flushed.clear()
    staged = atomic.stage_files(folder, NEW, flush=False)
    assert flushed == [] and (folder / "a.docx").read_bytes() == b"old a.docx"     # nothing moved yet
    assert atomic.place_files(staged) == [folder / name for name in NEW]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {**NEW, "d.docx": b"new d"}
    assert leftovers(folder) == []


def test_a_staging_failure_leaves_no_temporary_file(tmp_path, monkeypatch):
    folder = old_packet(tmp_path)

    def files():
        yield b"first block"
        raise OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        atomic.stage_files(folder, {"a.docx": b"new a", "b.xlsx": files()})
    assert leftovers(folder) == [] and (folder / "a.docx").read_bytes() == b"old a.docx"


# --- every document of a packet gets its own name ------------------------------------------------

PACKET_FORMS = [("schedule", ".docx"), ("plan", ".docx"), ("grid", ".xlsx"), ("calendar", ".ics")]


def test_document_names_gives_each_form_its_name(out_settings):
    names = naming.document_names(out_settings, school("0101"), PACKET_FORMS)
    assert names == {"schedule": "0101-schedule.docx", "plan": "0101-plan.docx", "grid": "0101-grid.xlsx",
                     "calendar": "0101-calendar.ics"}


@pytest.mark.parametrize("pattern, name", [
    ("x" * MAX_NAME + "-{form}", "Lincoln Elementary"),      # the form is cut off at MAX_NAME
    ("{form}", "Lincoln"),                                  # the PDF "packet" against a form named so
])
def test_document_names_that_collide_are_refused_naming_the_setting(out_settings, pattern, name):
    settings = dataclasses.replace(out_settings, file_pattern=pattern)
    forms = PACKET_FORMS + ([("PACKET", ".pdf")] if pattern == "{form}" else [])
    with pytest.raises(naming.PacketsError) as caught:
        naming.document_names(settings, school("0101", name), forms)
    assert "[output] file" in str(caught.value) and "0101" in str(caught.value)


def test_a_long_school_id_or_name_is_shortened_so_each_document_keeps_its_form(out_settings):
    """Cutting `{school_id}-{slug}-{form}` at MAX_NAME dropped the form, so every document of a school
    with a long ID or name got one name: the ID and name are shortened instead."""
    for sid, name in [("0" * 79, "Alpha Elementary School"), ("0101", "Riverbend " * 12),
                      ("0101", "Escuela Peña " * 20)]:
        settings = dataclasses.replace(out_settings, file_pattern="{school_id}-{slug}-{form}")
        names = naming.document_names(settings, school(sid, name), PACKET_FORMS)
        assert [n.rsplit("-", 1)[-1] for n in names.values()] == ["schedule.docx", "plan.docx", "grid.xlsx",
                                                                 "calendar.ics"]
        assert all(len(Path(n).stem) <= MAX_NAME for n in names.values())
        assert all(n.startswith(sid[:8]) for n in names.values())
        folder = naming.packet_folder(settings, school(sid, name)).name
        assert len(folder) <= MAX_NAME and folder.startswith(sid[:8])


def test_a_school_whose_documents_would_share_a_name_fails_by_name_and_keeps_its_packet(inputs, output):
    from conftest import AS_OF, run_cli
    build = ("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1",
             "--school", "0101")
    assert run_cli(*build).exit_code == 0
    folder = next(output.glob("0101-*/"))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    long_text = "school-improvement-plan-packet-document-for-the-planning-year-of-the-district-"   # 80 characters
    _set_pattern(inputs, "file", "{school_id}-" + long_text + "{form}")
    result = run_cli(*build)
    assert result.exit_code == 1
    assert "0101" in result.output and "[output] file" in result.output and "Traceback" not in result.output
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# --- a rebuild under another naming pattern leaves only the new packet ------------------------------

def _set_pattern(inputs: Path, key: str, pattern: str) -> None:
    path = inputs / "settings.toml"
    lines = [f'{key} = "{pattern}"' if line.startswith(f"{key} = ") else line
             for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _listed(folder: Path) -> set[str]:
    import json
    return {e["file"] for e in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]}


def _build(inputs: Path, output: Path):
    from conftest import AS_OF, run_cli
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1",
                     "--school", "0101", "--school", "0102")
    assert result.exit_code == 0, result.output
    return result


def test_a_new_file_pattern_removes_the_documents_of_the_old_one(inputs, output):
    _build(inputs, output)
    folder = next(output.glob("0101-*/"))
    (folder / "notes from the principal.txt").write_text("staff's own file")
    old = {p.name for p in folder.iterdir()}
    assert "0101-schedule.docx" in old

    _set_pattern(inputs, "file", "{form}-{school_id}")
    _build(inputs, output)
    names = {p.name for p in folder.iterdir()}
    assert "schedule-0101.docx" in names and not any(n.startswith("0101-") for n in names)
    assert names == _listed(folder) | {"manifest.json", "notes from the principal.txt"}
    assert (folder / "notes from the principal.txt").read_text() == "staff's own file"
    assert not [p for p in output.rglob("*") if p.name.startswith((".tmp-", ".old-"))]


@pytest.mark.slow
def test_a_file_pattern_changed_only_in_case_leaves_exactly_the_new_documents(inputs, output):
    _build(inputs, output)
    _set_pattern(inputs, "file", "{school_id}-{form}-X")
    _build(inputs, output)
    _set_pattern(inputs, "file", "{school_id}-{form}-x")
    _build(inputs, output)
    folder = next(output.glob("0101-*/"))
    names = {p.name for p in folder.iterdir()}
    assert "0101-schedule-x.docx" in names
    assert names == _listed(folder) | {"manifest.json"}


def test_a_new_folder_pattern_removes_the_old_packet_folder_but_not_staff_files(inputs, output):
    _build(inputs, output)
    old_0101, old_0102 = next(output.glob("0101-*/")), next(output.glob("0102-*/"))
    (old_0102 / "minutes.docx").write_bytes(b"staff's own file")

    _set_pattern(inputs, "folder", "{year}-{school_id}")
    _build(inputs, output)
    assert not old_0101.exists()
    assert [p.name for p in old_0102.iterdir()] == ["minutes.docx"]
    for sid in ("0101", "0102"):
        folder = output / f"2026-27-{sid}"
        assert {p.name for p in folder.iterdir()} == _listed(folder) | {"manifest.json"}
    assert sorted(p.name for p in packet_folders(output)) == [old_0102.name, "2026-27-0101", "2026-27-0102"]


def test_a_hand_edited_build_manifest_cannot_remove_files_outside_the_packet_folders(inputs, output, tmp_path):
    import json
    _build(inputs, output)
    victim = tmp_path / "victim.txt"
    victim.write_text("not the generator's")
    (output / "kept.txt").write_text("not a packet's")
    path = output / "build-manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    entry = data["schools"]["0101"]
    entry["documents"] += ["../victim.txt", f"{entry['folder']}/../../victim.txt", "kept.txt", str(victim)]
    entry["folder"] = ".."
    path.write_text(json.dumps(data), encoding="utf-8")

    _set_pattern(inputs, "file", "{form}-{school_id}")
    _build(inputs, output)
    assert victim.read_text() == "not the generator's" and (output / "kept.txt").is_file()
    assert tmp_path.is_dir() and output.is_dir()
