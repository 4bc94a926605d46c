"""The run digest and each packet's list of inputs: what a build reads, and nothing else in the folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from generator.output.build_record import input_files, run_digest

from conftest import AS_OF, packet_folders, run_cli

BIG = 600 * 1024 * 1024


def build(inputs: Path, output: Path):
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1")
    assert result.exit_code == 0, result.output
    return result


def stray(inputs: Path, name: str = "board meeting.mp4") -> Path:
    """A 600 MB file that costs no disk: sparse, all but its last byte never written."""
    path = inputs / name
    with open(path, "wb") as handle:
        handle.truncate(BIG)
    return path


def test_a_big_stray_file_is_never_opened_and_changing_it_rebuilds_nothing(inputs, output, monkeypatch):
    video = stray(inputs)
    opened = []
    real_open = Path.open

    def watching(self, *args, **kwargs):
        opened.append(Path(self).name)
        return real_open(self, *args, **kwargs)
    monkeypatch.setattr(Path, "open", watching)
    first = build(inputs, output)
    assert "Built 9, skipped 0" in first.output
    assert video.name not in opened and "settings.toml" in opened

    with open(video, "r+b") as handle:          # new content, same size
        handle.seek(BIG - 1)
        handle.write(b"x")
    assert "Built 0, skipped 9 unchanged" in build(inputs, output).output
    for folder in (p for p in packet_folders(output)):
        listed = {e["file"] for e in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["inputs"]}
        assert listed == {"roster.xlsx", "timeline.xlsx", "goals.xlsx", "settings.toml"}


def test_the_digest_follows_every_file_the_build_reads_and_no_other(settings, inputs):
    def digest():
        return run_digest(settings, "templates", strict=False)
    before = digest()
    for name in ("notes.docx", "email.toml", "roster.ods", "~$roster.xlsx", ".DS_Store", "validation.xlsx"):
        (inputs / name).write_bytes(b"changed")
    assert digest() == before
    assert [p.name for p in input_files(inputs)] == ["goals.xlsx", "roster.xlsx", "settings.toml", "timeline.xlsx"]

    for change in (lambda: (inputs / "settings.toml").write_text((inputs / "settings.toml").read_text() + "\n"),
                   lambda: (inputs / "timeline_tasks.csv").write_text("School ID,Task\n"),
                   lambda: (inputs / "goals.xlsx").write_bytes((inputs / "goals.xlsx").read_bytes() + b"\0")):
        change()
        assert digest() != before
        before = digest()


def test_a_workbook_saved_as_ods_alone_is_read_and_hashed(inputs, settings):
    shutil.move(inputs / "goals.xlsx", inputs / "goals.ods")
    assert "goals.ods" in [p.name for p in input_files(inputs)]


def test_each_packet_lists_its_input_files_with_their_sizes_and_sha256_read_in_blocks(inputs, output):
    import hashlib

    from generator.inputs.read import file_digest

    big = inputs / "goals.xlsx"
    for data in (b"", b"x" * 3_000_001):                 # no block at all, and three blocks and a bit
        path = output.parent / "blocks.bin"
        path.write_bytes(data)
        assert file_digest(path) == hashlib.sha256(data).digest()
    build(inputs, output)
    for folder in packet_folders(output):
        listed = {e["file"]: e for e in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["inputs"]}
        assert listed[big.name] == {"file": big.name, "size": big.stat().st_size,
                                    "sha256": hashlib.sha256(big.read_bytes()).hexdigest()}


def test_a_rebuild_hashes_each_input_file_once(inputs, output, monkeypatch):
    """The run digest and the workbooks' store keys hash the same files: once each, not once each time."""
    import functools

    from generator.inputs import read

    build(inputs, output)
    hashed = []
    real = read._file_digest.__wrapped__
    counted = functools.lru_cache(maxsize=16)(lambda path, stamp: hashed.append(path.name) or real(path, stamp))
    monkeypatch.setattr(read, "_file_digest", counted)
    (inputs / "settings.toml").write_text((inputs / "settings.toml").read_text() + "\n# edited\n")
    build(inputs, output)
    assert {"goals.xlsx", "roster.xlsx", "timeline.xlsx"} <= set(hashed)
    assert len(hashed) == len(set(hashed)), hashed
