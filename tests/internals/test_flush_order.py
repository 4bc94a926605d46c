"""Internals of how a build reaches the disk: which files are flushed, when the one sync of the output's file
system runs, and that it comes before any packet replaces an older one or the manifest records it. The
events are read by standing in for os.fsync, atomic._SYNCFS and os.replace, so a rewrite of output/atomic.py
may rightly rewrite these tests; the behaviour (nothing is vouched for before it is on disk) must hold."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.output import atomic
from generator.output.build_record import Manifest
from generator.render import FORMS

from conftest import AS_OF, run_cli


def build(inputs, output, *extra):
    return run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, *extra)


def record_disk_events(monkeypatch, output) -> list[str]:
    """Record, in order: each file flushed (a packet's or a top-level report's), each sync, each packet
    document moved into place, and each save of the build manifest (its first, "run begun", records no packet)."""
    events = []
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: events.append(
        "packet flushed" if Path(os.readlink(f"/proc/self/fd/{fd}")).parent != output else "report flushed"))
    real_syncfs = atomic._SYNCFS
    monkeypatch.setattr(atomic, "_SYNCFS", lambda fd: (events.append("sync"), real_syncfs(fd))[1])
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).parent.parent == output and not Path(dst).name.startswith(".") \
                and not Path(dst).parent.name.startswith("."):      # not the inputs' cache (.packets-cache)
            events.append("packet placed")
        return real_replace(src, dst)
    monkeypatch.setattr(atomic.os, "replace", replace)
    real_save = Manifest.save
    # A run first saves the manifest to say which packets it is rebuilding; then, at the end, it records them.
    monkeypatch.setattr(Manifest, "save", lambda self: (
        events.append("run begun" if self.pending else "manifest"), real_save(self)))
    return events


@pytest.mark.skipif(not atomic.CAN_DEFER_FLUSH or not Path("/proc/self/fd").is_dir(),
                    reason="defers flushes on Linux only")
def test_packets_reach_the_disk_by_one_sync_before_they_replace_older_ones_or_the_manifest_records_them(
        inputs, output, monkeypatch):
    events = record_disk_events(monkeypatch, output)
    assert build(inputs, output, "--jobs", "1").exit_code == 0
    assert "packet flushed" not in events and events.count("packet placed") == 9 * (len(FORMS) + 2)
    assert events.index("sync") < events.index("manifest")     # all on disk before the manifest says so

    events.clear()
    assert build(inputs, output, "--jobs", "1", "--force").exit_code == 0
    assert "packet flushed" not in events
    # Nine schools make chunks of one: each is synced, then its eight files replace the older ones.
    packet_events = "".join({"sync": "s", "packet placed": "p"}.get(e, "") for e in events[:events.index("manifest")])
    assert packet_events == ("s" + "p" * (len(FORMS) + 2)) * 9 + "s"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_where_one_sync_cannot_be_trusted_every_packet_file_is_flushed(inputs, output, monkeypatch):
    monkeypatch.setattr(atomic, "CAN_DEFER_FLUSH", False)
    events = record_disk_events(monkeypatch, output)
    assert build(inputs, output, "--jobs", "1").exit_code == 0
    assert "sync" not in events
    assert events.count("packet flushed") == events.count("packet placed") == 9 * (len(FORMS) + 2)


def test_a_rebuild_says_which_packets_it_is_replacing_before_it_replaces_any_and_a_first_build_need_not(
        inputs, output, monkeypatch):
    """A first build has nothing recorded to take back, so it starts building without saving (and flushing)
    a manifest; a rebuild saves the schools it is rebuilding as pending before it moves any document."""
    events = record_disk_events(monkeypatch, output)
    assert build(inputs, output, "--jobs", "1").exit_code == 0
    assert "run begun" not in events and events.count("manifest") == 1      # at the end, recording the packets
    assert Manifest.load(output).entries and not Manifest.load(output).pending

    events.clear()
    assert build(inputs, output, "--jobs", "1", "--force").exit_code == 0
    assert events.index("run begun") < events.index("packet placed")
