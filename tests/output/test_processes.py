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
