"""Authoring: `init_inputs` writes blank workbooks that match the schema and build once filled in."""

from __future__ import annotations

import datetime as dt
import shutil
import sys

import openpyxl
import pytest

from generator.findings import ERROR, InputError, PacketsError
from generator.inputs.normalize import parse_date
from generator.inputs.schema import (
    BENCHMARK_TERMS,
    GOAL_TYPES,
    ROLES,
    SHEETS,
    STAGES,
    SUPPORT_CATEGORIES,
    WORKBOOKS,
    with_designations,
)
from generator.pipeline import build, load_district
from generator.render import FORMS
from generator.render.template_data import designations
from generator.settings import PlanningYear, load_settings
from generator.setup import authoring
from generator.setup.authoring import (
    DATE_EXAMPLES,
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    init_inputs,
    settings_text,
    workbook_bytes,
)

from conftest import header_column

# The Designation dropdown lists templates/designations.csv, in its order.
DESIGNATIONS = designations().names

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FILES = [f"{stem}.xlsx" for stem in WORKBOOKS] + ["settings.toml", "email.toml"]


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    """One blank inputs folder, shared by the read-only tests."""
    folder = tmp_path_factory.mktemp("blank") / "inputs"
    paths = init_inputs(folder, "Riverbend CUSD 117", "2026-27")
    return folder, paths


@pytest.fixture
def copy(blank, tmp_path):
    """A private copy of the blank folder that a test may fill in (cheaper than a fresh init)."""
    folder = tmp_path / "inputs"
    shutil.copytree(blank[0], folder)
    return folder


@pytest.fixture(scope="module")
def books(blank):
    folder, _ = blank
    return {stem: openpyxl.load_workbook(folder / f"{stem}.xlsx") for stem in WORKBOOKS}


def validations(ws, column: int):
    """Return the data validations covering row 2 of a column."""
    letter = openpyxl.utils.get_column_letter(column)
    return [dv for dv in ws.data_validations.dataValidation if f"{letter}2" in dv.sqref]


def list_choices(wb, dv) -> list[str]:
    """Return the choices a list validation allows: inline, or read from the range it references."""
    formula = dv.formula1.lstrip("=")
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet, cells = formula.split("!")
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[cells.replace("$", "")] for c in row]


def column_choices(wb, sheet: str, header: str) -> list[str]:
    ws = wb[sheet]
    (dv,) = [dv for dv in validations(ws, header_column(ws, header)) if dv.type == "list"]
    return list_choices(wb, dv)


# --- the files and their sheets ----------------------------------------------------------------------

def test_writes_the_four_files_and_returns_their_paths(blank):
    folder, paths = blank
    assert sorted(p.name for p in paths) == sorted(FILES)
    assert all(p.parent == folder and p.is_file() for p in paths)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]      # no temporary files left


def test_sheets_and_headers_follow_the_schema(books):
    for stem, wb in books.items():
        specs = [s for s in SHEETS if s.workbook == stem]
        data = [n for n in wb.sheetnames if n not in (INSTRUCTIONS_SHEET, LISTS_SHEET)]
        assert wb.sheetnames[0] == INSTRUCTIONS_SHEET
        assert data == [s.name for s in specs]
        for spec in specs:
            ws = wb[spec.name]
            assert [c.value for c in ws[1]] == [c.name for c in spec.columns]
            assert ws.freeze_panes == "A2"
            assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(spec.columns))}1"
            assert all(c.font.b and c.fill.fgColor.rgb not in (None, "00000000") for c in ws[1])


def test_instructions_name_every_sheet_and_how_to_check(books):
    for stem, wb in books.items():
        text = "\n".join(str(c.value) for c in wb[INSTRUCTIONS_SHEET]["A"] if c.value)
        assert "Riverbend CUSD 117" in text and "2026-27" in text
        for spec in (s for s in SHEETS if s.workbook == stem):
            assert spec.name in text and spec.help in text
            assert "Every row must fill in: " + ", ".join(c.name for c in spec.columns if c.required) in text
        assert "packets validate --inputs FOLDER" in text
        assert all(example in text for example in DATE_EXAMPLES)
    assert "blank means district-wide" in "\n".join(str(c.value) for c in books["timeline"][INSTRUCTIONS_SHEET]["A"])


@pytest.mark.parametrize("text", DATE_EXAMPLES)
def test_the_date_forms_the_instructions_give_are_read(text):
    assert parse_date(text) == dt.date(2026, 11, 15)


def test_every_header_has_a_comment_with_help_required_synonyms_and_example(books):
    for spec in SHEETS:
        ws = books[spec.workbook][spec.name]
        for cell, col in zip(ws[1], spec.columns):
            note = cell.comment.text
            assert ("Required" if col.required else "Optional") in note
            if col.help:
                assert col.help in note
            if col.synonyms:
                assert ", ".join(col.synonyms) in note
            if col.example:
                assert f"Example: {col.example}" in note


# --- dropdowns, dates and text formats ---------------------------------------------------------------

@pytest.mark.parametrize("stem, sheet, header, choices", [
    ("roster", "Schools", "Designation", DESIGNATIONS),
    ("roster", "People", "Role", ROLES),
    ("timeline", "Tasks", "Stage", STAGES),
    ("timeline", "Stages", "Stage", STAGES),
    ("goals", "Goals", "Goal Type", GOAL_TYPES),
    ("goals", "Benchmarks", "Term", BENCHMARK_TERMS),
    ("goals", "Supports", "Category", SUPPORT_CATEGORIES),
])
def test_choice_columns_have_a_dropdown_of_exactly_the_choices(books, stem, sheet, header, choices):
    assert column_choices(books[stem], sheet, header) == list(choices)
    ws = books[stem][sheet]
    (dv,) = [dv for dv in validations(ws, header_column(ws, header)) if dv.type == "list"]
    assert f"{openpyxl.utils.get_column_letter(header_column(ws, header))}{authoring.LAST_ROW}" in dv.sqref


def test_every_choice_column_has_a_dropdown(books):
    for spec in (with_designations(s, designations()) for s in SHEETS):
        for col in spec.columns:
            if col.choices:
                assert column_choices(books[spec.workbook], spec.name, col.name) == list(col.choices)


def test_long_lists_go_to_a_hidden_lists_sheet(tmp_path, monkeypatch):
    monkeypatch.setattr(authoring, "INLINE_LIST_LIMIT", 100)     # ROLES and STAGES no longer fit inline
    for stem in ("roster", "timeline"):
        (tmp_path / f"{stem}.xlsx").write_bytes(workbook_bytes(stem, "Riverbend", "2026-27"))
    roster = openpyxl.load_workbook(tmp_path / "roster.xlsx")
    timeline = openpyxl.load_workbook(tmp_path / "timeline.xlsx")
    for wb in (roster, timeline):
        assert wb.sheetnames[0] == INSTRUCTIONS_SHEET and wb.sheetnames[-1] == LISTS_SHEET
        assert wb[LISTS_SHEET].sheet_state == "hidden"
        assert "hidden Lists sheet" in "\n".join(str(c.value) for c in wb[INSTRUCTIONS_SHEET]["A"])
    (role_dv,) = [dv for dv in roster["People"].data_validations.dataValidation if dv.type == "list"]
    assert role_dv.formula1 == f"{LISTS_SHEET}!$A$2:$A${len(ROLES) + 1}"
    assert column_choices(roster, "People", "Role") == list(ROLES)
    assert column_choices(roster, "Schools", "Designation") == list(DESIGNATIONS)    # still inline
    assert column_choices(timeline, "Tasks", "Stage") == list(STAGES)
    assert column_choices(timeline, "Stages", "Stage") == list(STAGES)
    assert timeline[LISTS_SHEET].max_column == 1                                      # one shared list


def test_by_default_every_list_fits_inline(books):
    """ROLES (208 characters) and STAGES (181) fit Excel's 255-character inline limit today."""
    assert all(LISTS_SHEET not in wb.sheetnames for wb in books.values())


def test_date_columns_have_a_date_validation_and_format(books):
    for spec in SHEETS:
        ws = books[spec.workbook][spec.name]
        for j, col in enumerate(spec.columns, start=1):
            if col.kind != "date":
                continue
            (dv,) = [dv for dv in validations(ws, j) if dv.type == "date"]
            assert dv.showInputMessage and col.name == dv.promptTitle and "year-month-day" in dv.prompt
            assert f"{openpyxl.utils.get_column_letter(j)}{authoring.LAST_ROW}" in dv.sqref
            assert ws.column_dimensions[openpyxl.utils.get_column_letter(j)].number_format == "yyyy-mm-dd"


def test_id_columns_are_text(books):
    """School ID (and the other ID columns) are formatted as text, so 0104 keeps its leading zero."""
    seen = 0
    for spec in SHEETS:
        ws = books[spec.workbook][spec.name]
        for j, col in enumerate(spec.columns, start=1):
            if col.kind == "id":
                assert ws.column_dimensions[openpyxl.utils.get_column_letter(j)].number_format == "@"
                seen += col.key == "school_id"
    assert seen == sum(any(c.key == "school_id" for c in s.columns) for s in SHEETS)


def test_settings_toml_loads_with_the_given_name_and_year(blank, tmp_path):
    folder, _ = blank
    data = tomllib.loads((folder / "settings.toml").read_text(encoding="utf-8"))
    assert data["district"] == {"name": "Riverbend CUSD 117", "planning_year": "2026-27"}
    settings = load_settings(folder)
    assert settings.folder_pattern == "{school_id}-{slug}" and settings.file_pattern == "{school_id}-{form}"

    odd = 'St. Mary\'s "Unit" \\ District\x7f'
    (tmp_path / "settings.toml").write_text(settings_text(odd, PlanningYear.parse("2027")), encoding="utf-8")
    settings = load_settings(tmp_path)
    assert settings.district_name == odd
    assert settings.planning_year.label == "2027-28"


def test_bad_district_or_year_is_refused(tmp_path):
    with pytest.raises(PacketsError, match="district name"):
        init_inputs(tmp_path / "a", "   ")
    with pytest.raises(PacketsError, match="Planning year"):
        init_inputs(tmp_path / "b", planning_year="2026-28")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --- refusing to overwrite ---------------------------------------------------------------------------

def test_refuses_to_overwrite_and_writes_nothing(tmp_path):
    (tmp_path / "timeline.xlsx").write_bytes(b"mine")
    with pytest.raises(PacketsError, match=r"timeline\.xlsx.*(empty folder|--force)"):
        init_inputs(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["timeline.xlsx"]
    assert (tmp_path / "timeline.xlsx").read_bytes() == b"mine"


def test_overwrite_replaces_the_files(copy):
    (copy / "roster.xlsx").write_bytes(b"edited")
    with pytest.raises(PacketsError, match="roster.xlsx, timeline.xlsx, goals.xlsx, settings.toml"):
        init_inputs(copy, "Second District")
    assert (copy / "roster.xlsx").read_bytes() == b"edited"
    paths = init_inputs(copy, "Second District", overwrite=True)
    assert sorted(p.name for p in paths) == sorted(FILES)
    assert openpyxl.load_workbook(copy / "roster.xlsx").sheetnames[0] == INSTRUCTIONS_SHEET
    assert load_settings(copy).district_name == "Second District"


def test_refuses_a_folder_whose_csv_inputs_would_shadow_the_workbooks(tmp_path):
    (tmp_path / "roster_schools.csv").write_text("School ID,School Name,Designation\n", encoding="utf-8")
    for overwrite in (False, True):
        with pytest.raises(PacketsError, match="roster_schools.csv"):
            init_inputs(tmp_path, overwrite=overwrite)
    assert [p.name for p in tmp_path.iterdir()] == ["roster_schools.csv"]


def test_refuses_a_file_as_folder(tmp_path):
    (tmp_path / "inputs").write_text("x")
    with pytest.raises(PacketsError, match="not a folder"):
        init_inputs(tmp_path / "inputs")


# --- the blank folder through the pipeline -----------------------------------------------------------

def test_untouched_folder_fails_validation_saying_there_are_no_schools(blank):
    """An untouched init folder must not pass as '0 of 0 schools ready'."""
    folder, _ = blank
    with pytest.raises(InputError) as caught:
        load_district(load_settings(folder, as_of=dt.date(2026, 11, 23)))
    (finding,) = [f for f in caught.value.findings if f.severity == "error"]
    assert (finding.file, finding.sheet) == ("roster.xlsx", "Schools")
    assert "no schools" in finding.message


def test_init_command_then_validate(tmp_path):
    from conftest import run_cli
    folder = tmp_path / "district"
    result = run_cli("init", str(folder), "--district", "Maple Grove SD 12", "--planning-year", "2027-28")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    assert 'name = "Maple Grove SD 12"' in (folder / "settings.toml").read_text()
    again = run_cli("init", str(folder))
    assert again.exit_code == 1 and "--force" in again.output
    validate = run_cli("validate", "--inputs", str(folder))
    assert validate.exit_code == 1
    assert "roster.xlsx, sheet Schools: The Schools sheet lists no schools." in validate.output


def fill(folder, sheet_rows):
    """Append rows, given as {header: value}, to sheets of the blank workbooks."""
    for (stem, sheet), rows in sheet_rows.items():
        path = folder / f"{stem}.xlsx"
        wb = openpyxl.load_workbook(path)
        ws = wb[sheet]
        for i, row in enumerate(rows, start=2):
            for header, value in row.items():
                ws.cell(row=i, column=header_column(ws, header), value=value)
        wb.save(path)


MINIMAL = {
    ("roster", "Schools"): [{"School ID": "0001", "School Name": "Orchard Elementary",
                             "Designation": "Comprehensive"}],
    ("roster", "People"): [{"School ID": "0001", "Name": "Siobhan O'Brien", "Role": "Principal"}],
    ("timeline", "Tasks"): [{"Stage": "Stage 1: Identify Critical Needs", "Task": "Complete the DF",
                             "Responsibility": "District Leadership Team",
                             "Expected Date": dt.date(2026, 10, 15)}],
}


@pytest.mark.slow
def test_filled_in_folder_builds(copy, tmp_path):
    inputs, output = copy, tmp_path / "output"
    fill(inputs, MINIMAL)

    report = build(load_settings(inputs, output, dt.date(2026, 11, 23)))

    (result,) = report.results
    assert not result.error
    assert (result.school_id, result.school_name, result.designation) == (
        "0001", "Orchard Elementary", "Comprehensive")
    assert result.folder == output / "0001-orchard-elementary" and result.folder.is_dir()
    names = sorted(p.name for p in result.folder.iterdir())
    assert names == sorted([f"0001-{form.key}{form.suffix}" for form in FORMS] + ["0001-calendar.ics", "manifest.json"])
    assert len([n for n in names if n.endswith(".docx")]) == len([f for f in FORMS if f.suffix == ".docx"])
    assert report.report.is_file()


def test_filled_in_folder_reports_bad_cells_by_sheet_and_row(copy):
    inputs = copy
    fill(inputs, {**MINIMAL, ("roster", "People"): [{"School ID": "0001", "Name": "Pat Lee", "Role": "Janitor"}]})
    with pytest.raises(InputError) as caught:
        load_district(load_settings(inputs, as_of=dt.date(2026, 11, 23)))
    (finding,) = [f for f in caught.value.findings if f.severity == ERROR]
    assert (finding.file, finding.sheet, finding.row, finding.header) == ("roster.xlsx", "People", 2, "Role")


def test_init_writes_email_settings_that_load(blank):
    from generator.delivery.settings import load_email_settings
    folder, _ = blank
    settings = load_email_settings(folder)
    assert "example.org" in str(settings.sender) and "Riverbend" not in (folder / "email.toml").read_text()
