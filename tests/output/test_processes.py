"""A helper process does part of the main process's work beside it, and is only ever a quicker way: what
it cannot do (it could not start, or ended) is done in the main process, and what its work raises is
raised there."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from generator.output import processes

from conftest import BrokenPool

SPAWN = multiprocessing.get_context("spawn")


def test_the_helpers_calls_are_made_in_another_process_beside_the_main_ones_own():
    with processes.helper_process(SPAWN, warm=[(os.getpid, ())]) as helper:
        mine, theirs = helper.beside([(os.getpid, ()), (divmod, (17, 5))], os.getpid)
    assert mine == os.getpid() and theirs[0] != os.getpid() and theirs[1] == (3, 2)


def test_what_a_helpers_call_raises_is_raised_in_the_main_process():
    with processes.helper_process(SPAWN) as helper, pytest.raises(ValueError, match="invalid literal"):
        helper.beside([(int, ("twelve",))], lambda: None)


def test_a_helper_that_cannot_start_leaves_its_calls_to_the_main_process(monkeypatch):
    monkeypatch.setattr(processes, "ProcessPoolExecutor", BrokenPool)
    with processes.helper_process(SPAWN, warm=[(os.getpid, ())]) as helper:
        mine, theirs = helper.beside([(os.getpid, ()), (divmod, (17, 5))], lambda: "own")
    assert mine == "own" and theirs == [os.getpid(), (3, 2)]


class _Left:
    """An object whose teardown would mark a file: what an interpreter's exit frees one object at a time."""

    def __init__(self, path: str):
        self.path = path

    def __del__(self, open=open):           # the builtins may be gone by the time it is freed
        with open(self.path, "w") as marked:
            marked.write("freed")


def _leave(path: str) -> None:
    _leave.held = _Left(path)           # type: ignore[attr-defined]


def test_a_helper_ends_at_once_when_done_with_what_it_printed_written(tmp_path, capfd):
    marked = tmp_path / "freed"
    with processes.helper_process(SPAWN, warm=[(_leave, (str(marked),))]) as helper:
        helper.beside([(print, ("said in the helper",))], lambda: None)
    assert "said in the helper" in capfd.readouterr().out      # buffered, and still written
    assert not marked.exists()          # its objects were not freed one by one: the system took its memory
