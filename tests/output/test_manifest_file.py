"""build-manifest.json as written: a school a line, and read back exactly as it was recorded, whatever
its text holds."""

from __future__ import annotations

import datetime as dt
import json

from generator.output.build_record import MANIFEST, Manifest

from conftest import AS_OF, run_cli

AWKWARD = 'Lincoln "Honors" \\ Academy\n\u2028\u00e9e\u0301 <&> \U0001f3eb'


def test_a_build_writes_a_school_a_line_in_school_id_order(inputs, output):
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "1")
    assert result.exit_code == 0, result.output
    text = (output / MANIFEST).read_text(encoding="utf-8")
    data = json.loads(text)
    schools = data["schools"]
    assert len(schools) == 9
    lines = text.splitlines()
    # each school's entry is whole on one line of its own, in School ID order
    entry_lines = [line for line in lines if line.startswith("  ")]
    assert [json.loads("{" + line.rstrip(",") + "}").popitem()[0] for line in entry_lines] == sorted(schools)
    for line in entry_lines:
        sid, entry = json.loads("{" + line.rstrip(",") + "}").popitem()
        assert entry == schools[sid]
    assert Manifest.load(output).entries == schools


def test_any_text_a_school_has_is_read_back_as_it_was_recorded(tmp_path):
    manifest = Manifest(tmp_path / MANIFEST)
    manifest.record("0101", "f" * 64, "0101 x", ["0101 x/plan.docx"],
                    dt.datetime(2026, 12, 7, 8, 30), AWKWARD, "Comprehensive", True, dt.date(2026, 12, 7))
    manifest.record("0099", "e" * 64, "0099", [], dt.datetime(2026, 12, 7, 8, 31), "", "", False, None)
    manifest.pending = {"0101"}
    manifest.run = {"digest": "abc", "schools": ["0099", "0101"]}
    manifest.save()
    again = Manifest.load(tmp_path)
    assert again.entries == manifest.entries
    assert again.entries["0101"]["name"] == AWKWARD
    assert again.pending == {"0101"} and again.run == manifest.run
    assert not again.findings


def test_a_manifest_with_no_schools_is_valid_json(tmp_path):
    Manifest(tmp_path / MANIFEST).save()
    assert json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))["schools"] == {}
    assert Manifest.load(tmp_path).entries == {}


def test_a_manifest_written_in_many_blocks_is_whole_a_school_a_line(tmp_path):
    # Written a block at a time (about 64 KB each): 400 long entries make several blocks, and no line may
    # be split or joined where one block ends and the next begins.
    manifest = Manifest(tmp_path / MANIFEST)
    for i in range(400):
        manifest.record(f"{i:05d}", f"{i:064x}", f"{i:05d}", [f"{i:05d}/plan.docx"],
                        dt.datetime(2026, 12, 7, 8, 30), f"{AWKWARD} {i} " + "x" * 300, "Targeted", i % 2 == 0,
                        dt.date(2026, 12, 7))
    manifest.save()
    text = (tmp_path / MANIFEST).read_text(encoding="utf-8")
    assert len(text) > 3 * 65536
    # Split at line feeds only: the names hold U+2028, which splitlines takes for a line end too.
    entry_lines = [line for line in text.split("\n") if line.startswith("  ")]
    assert [json.loads("{" + line.rstrip(",") + "}").popitem()[0] for line in entry_lines] == sorted(manifest.entries)
    assert Manifest.load(tmp_path).entries == manifest.entries
