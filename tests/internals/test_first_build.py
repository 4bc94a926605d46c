"""A first build knows without fingerprints that every packet is to be built: it makes each school's as its
packet is recorded, not all of them before the first packet (at 5,000 schools, 1.4 s the workers waited)."""

from __future__ import annotations

from generator.output import batch
from generator.pipeline import rebuild

from conftest import AS_OF, edit_sheet, find_row, header_column, run_cli


def test_fingerprints_wait_for_the_packets_on_a_first_build_and_come_first_on_a_rebuild(inputs, output,
                                                                                         monkeypatch):
    events = []
    fingerprint, build_all = rebuild.packet_fingerprint, batch.build_all
    monkeypatch.setattr(rebuild, "packet_fingerprint", lambda *args: events.append("fingerprint") or fingerprint(*args))
    monkeypatch.setattr(batch, "build_all", lambda *args: events.append("packets") or build_all(*args))

    def build():
        result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1")
        assert result.exit_code == 0, result.output

    build()
    assert events[0] == "packets" and events.count("fingerprint") == 9         # each recorded as it is built

    events.clear()
    edit_sheet(inputs / "timeline.xlsx", "Tasks",
               lambda ws: ws.cell(find_row(ws, "School ID", "0105"), header_column(ws, "Notes"), "Moved"))
    build()
    assert events.index("fingerprint") < events.index("packets")       # which are stale is known only so
    assert events.count("fingerprint") == 9                             # and each school's made once
