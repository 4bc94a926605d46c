"""What a build made of each school is kept under a key for the next build: the store holds exactly what it
was last given, a rebuild that changed a few schools writes only theirs, and a store that cannot be read is
no store."""

from __future__ import annotations

from generator.output import kept_by_school


def test_the_store_holds_what_it_was_given_whether_written_whole_or_only_the_changes(tmp_path):
    path = tmp_path / "kept.sqlite"
    rows = {f"{i:04d}": (f"key {i}", f"made {i}".encode()) for i in range(10)}
    kept_by_school.write(path, rows)
    assert kept_by_school.read(path) == rows

    few = {**rows, "0003": ("key 3b", b"made again"), "0010": ("key 10", b"new school")}
    del few["0007"]
    kept_by_school.write(path, few, kept_by_school.read(path))          # 3 of 10: only those written
    assert kept_by_school.read(path) == few

    most = {school: (key + "c", made) for school, (key, made) in few.items()}
    kept_by_school.write(path, most, kept_by_school.read(path))         # every one: written whole
    assert kept_by_school.read(path) == most
    assert not list(tmp_path.glob("*.partial*"))


def test_nothing_is_written_when_no_school_has_changed(tmp_path):
    path = tmp_path / "kept.sqlite"
    rows = {"0101": ("k", b"m"), "0102": ("k2", "text")}
    kept_by_school.write(path, rows)
    before = path.stat()
    kept_by_school.write(path, dict(rows), kept_by_school.read(path))
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert kept_by_school.read(path) == rows


def test_a_store_that_cannot_be_read_is_no_store_and_is_written_whole_again(tmp_path):
    path = tmp_path / "kept.sqlite"
    path.write_bytes(b"not a store")
    assert kept_by_school.read(path) == {} and kept_by_school.read(tmp_path / "missing.sqlite") == {}
    kept_by_school.write(path, {"0101": ("k", b"m")}, kept_by_school.read(path))
    assert kept_by_school.read(path) == {"0101": ("k", b"m")}
