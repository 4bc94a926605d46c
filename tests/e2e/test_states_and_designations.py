"""States and designations (issue 18, items 1 and 5): a roster's real designations (blank, No Status, CSI, ATSI,
Commendable, ...) are read through templates/designations.csv and printed as the school is; the ISBE grid is an
identified Illinois school's, its ISI rows and vendor column an Intensive school's; a district's state
(settings.toml [district] state) picks the submission route, the forms and the readiness rules' scope."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from generator.output.combine import COVER_TEMPLATE, cover_context
from generator.pipeline import load_district
from generator.render import packet_forms, render_document
from generator.render.template_data import SHIPPED
from generator.settings import load_settings

from conftest import AS_OF, SAMPLE, run_cli
from factories import goal, packet, school, write_inputs

# As staff write them, what each reads as, and what it is identified for.
ROSTER = [
    ("0101", "Intensive", "Intensive", "Intensive"),
    ("0102", "CSI", "Comprehensive", "Comprehensive"),
    ("0103", "ATSI", "Additional Targeted", "Targeted"),
    ("0104", "Commendable", "Commendable", "Not identified"),
    ("0105", "", "Not identified", "Not identified"),
    ("0106", "No Status", "Not identified", "Not identified"),
    ("0107", "exemplary", "Exemplary", "Not identified"),
]
IDENTIFIED = {"0101", "0102", "0103"}


def district_of(tmp_path: Path, state: str) -> Path:
    packets = [packet(school(sid, designation=written, support_level=2)) for sid, written, _, _ in ROSTER]
    # 0104 (Commendable) has one academic goal: ISBE's two-goal rule is for identified schools only.
    packets[3] = packet(school("0104", designation="Commendable"),
                        goals=[goal("G1"), goal("G2", goal_type="Non-academic")])
    return write_inputs(tmp_path / f"{state or 'unset'}-inputs", packets, state=state)


@pytest.fixture(scope="module")
def illinois(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("il")
    inputs = district_of(tmp, "IL")
    out = tmp / "output"
    result = run_cli("build", "--inputs", str(inputs), "--output", str(out), "--as-of", AS_OF, "--jobs", "1")
    assert result.exit_code == 0, result.output
    return inputs, out, result.output


@pytest.fixture(scope="module")
def california(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ca")
    inputs = district_of(tmp, "CA")
    out = tmp / "output"
    result = run_cli("build", "--inputs", str(inputs), "--output", str(out), "--as-of", AS_OF, "--jobs", "1")
    assert result.exit_code == 0, result.output
    return inputs, out, result.output


def folder(out: Path, sid: str) -> Path:
    (found,) = out.glob(f"{sid}-*")
    return found


def text(path: Path) -> str:
    doc = Document(path)
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


def at_a_glance(path: Path) -> dict[str, str]:
    """The plan's At a Glance table: label -> value."""
    table = Document(path).tables[0]
    return {r.cells[0].text: r.cells[1].text for r in table.rows}


def sheet_rows(path: Path, header_row: int | None = None) -> list[dict]:
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    at = header_row if header_row is not None else next(i for i, r in enumerate(rows) if "School ID" in r)
    return [dict(zip(rows[at], r)) for r in rows[at + 1:] if any(r)]


def test_every_designation_is_read_and_printed_as_the_school_is(illinois):
    _, out, output = illinois
    assert "state is not set" not in output
    for sid, _, printed, _ in ROSTER:
        plan = at_a_glance(folder(out, sid) / f"{sid}-plan.docx")
        assert plan["Designation"] == printed, sid
        assert plan["Plan level"] == (f"{printed} Level 2" if sid != "0104" else printed)
        review = text(folder(out, sid) / f"{sid}-review.docx")
        assert printed in review
        assert "Targeted School Principal" not in text(folder(out, sid) / f"{sid}-plan.docx")
    readiness = {r["School ID"]: r for r in sheet_rows(out / "readiness.xlsx")}
    assert {sid: readiness[sid]["Designation"] for sid, *_ in ROSTER} == {sid: p for sid, _, p, _ in ROSTER}
    district = {r["School ID"]: r for r in sheet_rows(out / "district.xlsx")}
    assert district["0104"]["Designation"] == "Commendable"
    assert "Commendable" in (out / "index.html").read_text(encoding="utf-8")


def test_the_isbe_grid_is_an_identified_schools_and_its_vendor_column_an_intensive_schools(illinois):
    _, out, _ = illinois
    for sid, _, printed, identification in ROSTER:
        files = sorted(p.name for p in folder(out, sid).iterdir())
        has_grid = f"{sid}-isbe-grid.docx" in files
        assert has_grid == (sid in IDENTIFIED), (sid, files)
        assert (f"{sid}-isbe-grid-tracker.xlsx" in files) == has_grid
        listed = [f["file"] for f in json.loads((folder(out, sid) / "manifest.json").read_text())["files"]]
        assert any("isbe-grid" in name for name in listed) == has_grid
        if not has_grid:
            continue
        grid = Document(folder(out, sid) / f"{sid}-isbe-grid.docx")
        table = next(t for t in grid.tables if t.rows[0].cells[0].text == "Key Activities")
        header = [c.text for c in table.rows[0].cells]
        assert header[5] == f"{printed} School Principal"
        assert ("School Level Needs Assessment Vendor" in header) == (identification == "Intensive")
        body = "\n".join(c.text for r in table.rows for c in r.cells)
        assert ("More rigorous needs-assessment (ISI)" in body) == (identification == "Intensive")
        tracker = sheet_rows(folder(out, sid) / f"{sid}-isbe-grid-tracker.xlsx", header_row=3)
        roles = {r["Role"] for r in tracker}
        assert f"{printed} School Principal" in roles
        assert ("School Level Needs Assessment Vendor" in roles) == (identification == "Intensive")
    dashboard = (out / "index.html").read_text(encoding="utf-8")
    assert "0104-isbe-grid" not in dashboard


def test_an_illinois_plan_goes_to_isbe_and_a_school_not_identified_to_its_board(illinois):
    _, out, output = illinois
    assert at_a_glance(folder(out, "0101") / "0101-plan.docx")["Submitted to"].startswith("ISBE, through IWAS")
    for sid in ("0104", "0105"):
        assert "local board of education" in at_a_glance(folder(out, sid) / f"{sid}-plan.docx")["Submitted to"]
    for sid, *_ in ROSTER:
        plan = text(folder(out, sid) / f"{sid}-plan.docx")
        assert "CDE" not in plan and "SELPA" not in plan and "FMTA" not in plan
    # ISBE's two academic goals concern identified schools: the Commendable school with one is ready.
    assert "0104 School 0104: ready" in output


def test_a_california_district_gets_californias_route_and_no_isbe_forms(california):
    _, out, output = california
    for sid, *_ in ROSTER:
        files = [p.name for p in folder(out, sid).iterdir()]
        assert not any("isbe-grid" in name for name in files), files
        assert f"{sid}-plan.docx" in files and f"{sid}-schedule.docx" in files and f"{sid}-review.docx" in files
        plan = text(folder(out, sid) / f"{sid}-plan.docx")
        assert "ISBE" not in plan and "IWAS" not in plan and "Illinois" not in plan
    route = {sid: at_a_glance(folder(out, sid) / f"{sid}-plan.docx")["Submitted to"] for sid, *_ in ROSTER}
    assert route["0101"] == "the LEA's assigned CDE FMTA Consultant"
    assert route["0103"] == "the SELPA, in the format the SELPA designates"       # ATSI is Targeted, level 2
    assert "School Plan for Student Achievement" in route["0106"]
    assert "0104 School 0104: ready" in output                                    # no ISBE two-goal rule


def test_the_cover_prints_the_designation_as_the_school_is(tmp_path):
    inputs = district_of(tmp_path, "IL")
    district, _ = load_district(load_settings(inputs, None, dt.date.fromisoformat(AS_OF)))
    commendable = next(p for p in district.packets if p.school.school_id == "0104")
    assert (commendable.school.designation, commendable.school.identification) == ("Commendable", "Not identified")
    context = cover_context(commendable, True, (), dt.datetime(2026, 11, 23, 9, 0), SHIPPED)
    cover = docx_text(render_document(SHIPPED.path(COVER_TEMPLATE), {**context, "contents": []}))
    assert "Commendable" in cover and "Targeted" not in cover


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


def test_an_unknown_designation_names_its_cell_and_designations_csv(tmp_path):
    inputs = write_inputs(tmp_path / "inputs", [packet(school("0101", designation="Priority"))])
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF)
    assert result.exit_code == 1, result.output
    assert "1 error, 0 warnings in 1 school" in result.output          # the school's own row: that school alone
    line = next(line for line in result.output.splitlines() if "Priority" in line)
    assert "roster.xlsx, sheet Schools, row 2, column C (Designation)" in line
    assert "'Priority' is not a known designation" in line and "designations.csv" in line
    assert "Commendable" in line and "Not identified" in line


def test_a_districts_own_designations_csv_adds_its_words(tmp_path):
    inputs = write_inputs(tmp_path / "inputs", [packet(school("0101", designation="Priority"))])
    own = inputs / "forms"
    own.mkdir()
    shipped = SHIPPED.path("designations.csv").read_text(encoding="utf-8")
    (own / "designations.csv").write_text(shipped + "Priority,Comprehensive,Priority School,Our district's word\n",
                                          encoding="utf-8")
    with (inputs / "settings.toml").open("a", encoding="utf-8") as f:
        f.write('\n[templates]\nfolder = "forms"\n')
    district, _ = load_district(load_settings(inputs, None, dt.date.fromisoformat(AS_OF)))
    (only,) = district.packets
    assert (only.school.designation, only.school.identification) == ("Priority", "Comprehensive")


@pytest.mark.parametrize("state,message", [
    ("TX", 'settings.toml: [district] state = "TX" is not a state the templates have a profile for. '
           'Fix: use one of "CA" (California), "IL" (Illinois)'),
])
def test_an_unknown_state_is_one_error_naming_settings_toml(tmp_path, state, message):
    inputs = write_inputs(tmp_path / "inputs", [packet(school("0101"))], state=state)
    for command in ("validate", "build"):
        result = run_cli(command, "--inputs", str(inputs), "--output", str(tmp_path / "out"), "--as-of", AS_OF) \
            if command == "build" else run_cli(command, "--inputs", str(inputs), "--as-of", AS_OF)
        assert result.exit_code != 0
        assert message in result.output, result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_state_that_is_not_text_is_one_error_naming_settings_toml(tmp_path):
    inputs = write_inputs(tmp_path / "inputs", [packet(school("0101"))], state="")
    with (inputs / "settings.toml").open("a", encoding="utf-8") as f:
        f.write("state = 17\n")
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF)
    assert result.exit_code != 0
    assert "settings.toml: [district] state must be text" in result.output


def test_a_state_by_its_name_in_any_case_is_its_profile(tmp_path):
    inputs = write_inputs(tmp_path / "inputs", [packet(school("0101"))], state="california")
    district, findings = load_district(load_settings(inputs, None, dt.date.fromisoformat(AS_OF)))
    assert not [f for f in findings if "state" in f.message]
    assert [f.key for f in packet_forms(district.packets[0])] == ["schedule", "schedule-tracker", "plan", "review"]


def test_no_state_is_illinois_with_a_warning_naming_settings_toml(tmp_path):
    inputs = write_inputs(tmp_path / "inputs", [packet(school("0101"))], state="")
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if "state is not set" in line]
    assert line.startswith("warning: settings.toml")
    assert "Illinois" in line and 'state = "IL"' in line and 'state = "CA"' in line
    district, _ = load_district(load_settings(inputs, None, dt.date.fromisoformat(AS_OF)))
    assert "isbe-grid" in [f.key for f in packet_forms(district.packets[0])]        # today's forms


def test_the_sample_district_says_it_is_illinois():
    settings = load_settings(SAMPLE, None, dt.date.fromisoformat(AS_OF))
    assert settings.state == "IL"


def test_changing_the_state_rebuilds_the_packets(tmp_path):
    inputs = write_inputs(tmp_path / "inputs", [packet(school("0101"))], state="IL")
    out = tmp_path / "out"
    args = ("--inputs", str(inputs), "--output", str(out), "--as-of", AS_OF, "--jobs", "1")
    assert run_cli("build", *args).exit_code == 0
    assert (folder(out, "0101") / "0101-isbe-grid.docx").is_file()
    settings = (inputs / "settings.toml").read_text(encoding="utf-8")
    (inputs / "settings.toml").write_text(settings.replace('state = "IL"', 'state = "CA"'), encoding="utf-8")
    again = run_cli("build", *args)
    assert again.exit_code == 0 and ": unchanged ->" not in again.output
    assert not (folder(out, "0101") / "0101-isbe-grid.docx").exists()        # the old grid goes with the build
    assert "CDE FMTA" in at_a_glance(folder(out, "0101") / "0101-plan.docx")["Submitted to"]


def test_a_school_record_knows_what_its_designation_is_identified_for():
    assert school("0101", designation="Intensive").identification == "Intensive"
    assert school("0101", designation="Commendable").identification == "Not identified"
    assert not school("0101", designation="Commendable").identified
    own = dataclasses.replace(school("0101", designation="Additional Targeted", identification="Targeted"))
    assert own.identified and own.identification == "Targeted"
