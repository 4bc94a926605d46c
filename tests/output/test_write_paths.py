"""atomic.write_paths: documents bound for several folders are placed all or none."""

from __future__ import annotations

import errno
import os

import pytest

from generator.output import atomic


def test_documents_for_several_folders_are_all_written(tmp_path):
    files = {tmp_path / "a" / "one.docx": b"1", tmp_path / "b" / "c" / "two.xlsx": b"2"}
    assert atomic.write_paths(files) == list(files)
    assert [p.read_bytes() for p in files] == [b"1", b"2"]


def test_a_move_that_fails_puts_back_the_documents_already_moved(tmp_path, monkeypatch):
    first, second = tmp_path / "a" / "one.docx", tmp_path / "b" / "two.xlsx"
    first.parent.mkdir()
    first.write_bytes(b"staff wrote in this")
    replace = os.replace

    def fail_second(src, dst):
        if str(dst) == str(second):
            raise OSError(errno.EACCES, "Permission denied", str(dst))
        return replace(src, dst)
    monkeypatch.setattr(os, "replace", fail_second)
    with pytest.raises(OSError):
        atomic.write_paths({first: b"new", second: b"new"})
    monkeypatch.setattr(os, "replace", replace)
    assert first.read_bytes() == b"staff wrote in this" and not second.exists()
    assert [p.name for p in tmp_path.rglob(".*")] == []          # no temporary file or kept copy left
