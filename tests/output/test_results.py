"""A packet's result holds where its files are as the manifest records them (names inside the output folder),
and gives them as paths when asked: built, recorded, or with no packet."""

from __future__ import annotations

import datetime as dt
import os
import pickle

from generator.output.build_record import MANIFEST, Manifest
from generator.output.results import PacketResult, no_packet, recorded_result
from generator.pipeline.rebuild import readiness_rows
from generator.settings import load_settings

BUILT_AT = dt.datetime(2026, 12, 7, 8, 30)


def test_a_recorded_packet_is_where_the_manifest_says(tmp_path):
    out = tmp_path / "output"
    manifest = Manifest(out / MANIFEST)
    manifest.record("0101", "f" * 64, "0101-lincoln", ["0101-lincoln/0101-plan.docx", "0101-lincoln/0101-grid.xlsx"],
                    BUILT_AT, "Lincoln", "Comprehensive", True, dt.date(2026, 12, 7))
    result = recorded_result(out, "0101", manifest.entries["0101"])
    assert result.folder == out / "0101-lincoln"
    assert result.documents == (out / "0101-lincoln" / "0101-plan.docx", out / "0101-lincoln" / "0101-grid.xlsx")
    assert result.skipped and result.ready and result.built_at == BUILT_AT
    # Recorded again from the result, the entry is the same.
    manifest.record("0101", "f" * 64, result.folder_name, result.document_names, BUILT_AT, "Lincoln",
                    "Comprehensive", True, dt.date(2026, 12, 7))
    assert manifest.entries["0101"]["documents"] == ["0101-lincoln/0101-plan.docx", "0101-lincoln/0101-grid.xlsx"]


def test_a_school_without_a_packet_has_no_folder_and_no_documents():
    result = no_packet("0102", "Adams", "Targeted", error="Error building the packet for 0102 (Adams): disk full")
    assert result.folder is None and result.documents == () and not result.built
    assert pickle.loads(pickle.dumps(result)) == result


def test_the_readiness_report_shows_names_inside_the_output_folder(tmp_path):
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "settings.toml").write_text('[district]\nname = "Lakeside"\nplanning_year = "2026-2027"\n')
    settings = load_settings(tmp_path / "inputs", tmp_path / "output")
    result = PacketResult("0101", "Lincoln", "Comprehensive", str(settings.output), "0101-lincoln",
                          ("0101-lincoln/0101-plan.docx", "0101-lincoln/0101-packet.pdf"), (), True, BUILT_AT)
    (row,) = readiness_rows(settings, [result])
    assert row["folder"] == "0101-lincoln"
    assert row["documents"].split("\n") == [f"0101-lincoln{os.sep}0101-plan.docx",
                                            f"0101-lincoln{os.sep}0101-packet.pdf"]
    assert row["pdf"] == f"0101-lincoln{os.sep}0101-packet.pdf"
