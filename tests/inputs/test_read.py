"""Reading workbooks: the fast reader (calamine) gives the same cells and notes as openpyxl."""

from __future__ import annotations

import codecs
import datetime as dt

import openpyxl
import pytest

from generator.inputs import read as read_module
from generator.inputs.read import (
    CsvEncodingError,
    _read_calamine,
    decode_csv,
    load_inputs,
    read_table,
    read_workbook,
    read_workbook_openpyxl,
)

from conftest import SAMPLE


def assert_same(path):
    fast, fast_notes = _read_calamine(path)
    slow, slow_notes = read_workbook_openpyxl(path)
    assert list(fast) == list(slow)
    for name in slow:
        assert fast[name] == slow[name], name
        assert [type(v) for row in fast[name] for v in row] == [type(v) for row in slow[name] for v in row], name
    assert [n.line() for n in fast_notes] == [n.line() for n in slow_notes]


@pytest.fixture(params=["one by one", "two at a time"])
def sheets_apart(request, monkeypatch):
    """calamine reads a large workbook's sheets two at a time (SHEETS_APART_BYTES): both ways give the
    same cells and notes."""
    if request.param == "two at a time":
        monkeypatch.setattr(read_module, "SHEETS_APART_BYTES", 0)
    return request.param


@pytest.mark.parametrize("book", ["roster", "timeline", "goals"])
def test_sample_workbooks_read_the_same_with_either_reader(book, sheets_apart):
    assert_same(SAMPLE / f"{book}.xlsx")


def test_title_blocks_merged_cells_and_every_kind_of_value_read_the_same(tmp_path, sheets_apart):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tasks"
    ws["B1"] = "Riverbend timeline"                 # a title block, starting in column B
    ws.merge_cells("B1:E1")
    ws.append([])
    ws.append([None, "Stage", "Task", "Expected Date", "Count", "Done", "At"])
    ws.append([None, "Stage 1", "Complete the DF", dt.datetime(2026, 10, 15), 2, True, dt.time(15, 30)])
    ws.append([None, None, "Second task", dt.datetime(2026, 10, 15, 9, 45), 2.5, False, None])
    ws.merge_cells("B4:B7")                          # a stage merged down past the last task
    ws["H9"] = "=1+1"                                # a formula with no cached value
    hidden = wb.create_sheet("Old")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "kept"
    path = tmp_path / "timeline.xlsx"
    wb.save(path)
    assert_same(path)
    sheets, notes = read_workbook(path)
    assert sheets["Tasks"][6][1] == "Stage 1"          # filled down to the merged range's last row
    assert ["Old"] == [n.sheet for n in notes]


def test_a_workbooks_sheets_are_sized_by_their_own_parts_whatever_their_order(tmp_path):
    """Read two at a time, the largest sheet goes first: each sheet's size is found through the workbook's
    relationships, which need not follow the sheets' order."""
    wb = openpyxl.Workbook()
    wb.active.title = "Small"
    wb.active["A1"] = "one"
    large = wb.create_sheet("Large")
    for i in range(2000):
        large.append([f"row {i}", i])
    wb.move_sheet("Large", offset=-1)               # first in the workbook, its part still sheet2.xml
    path = tmp_path / "goals.xlsx"
    wb.save(path)
    sizes = read_module._sheet_sizes(path)
    assert list(read_workbook(path)[0]) == ["Large", "Small"]
    assert set(sizes) == {"Large", "Small"} and sizes["Large"] > 20 * sizes["Small"] > 0
    (tmp_path / "not.xlsx").write_bytes(b"PK not a zip")
    assert read_module._sheet_sizes(tmp_path / "not.xlsx") == {}


def test_a_workbook_with_hidden_rows_is_read_by_openpyxl_and_they_are_noted(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "People"
    for i in range(5):
        ws.append([f"name {i}", "Principal"])
    ws.row_dimensions[3].hidden = True
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    sheets, notes = read_workbook(path)
    assert sheets["People"][2][0] == "name 2"
    assert any("Rows 3 are hidden" in n.message for n in notes)


def test_a_cell_showing_an_excel_error_is_read_as_its_text_not_as_empty(tmp_path):
    """calamine reads #VALUE! as an empty cell: a School Name showing it would be reported as empty."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Schools"
    ws.append(["School ID", "School Name"])
    ws.append(["0101", "#VALUE!"])                   # openpyxl stores this as an error cell, as Excel does
    ws.append(["0102", "Lincoln"])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    assert ws["B2"].data_type == "e"
    sheets, _ = read_workbook(path)
    assert sheets["Schools"][1:] == [["0101", "#VALUE!"], ["0102", "Lincoln"]]
    assert _read_calamine(path)[0]["Schools"][1] == ["0101", None]      # why such a workbook goes to openpyxl


def test_a_text_repeated_across_rows_and_sheets_is_held_once(tmp_path):
    # A district's roles, stages and task names repeat in every school's rows: one object each keeps
    # a statewide district's model small.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "People"
    for school in ("0101", "0102"):
        ws.append([school, "Principal", f"Name {school}"])
    wb.create_sheet("Staff").append(["0103", "Principal"])
    path = tmp_path / "roster.xlsx"
    wb.save(path)
    sheets, _ = _read_calamine(path)
    people, staff = sheets["People"], sheets["Staff"]
    assert people[0][1] == "Principal" and people[0][1] is people[1][1] is staff[0][1]
    assert people[0][2] == "Name 0101" and people[1][2] == "Name 0102"


# --- CSV text encodings ---------------------------------------------------------------------------------

WORDS = ["María José Peña", "O’Brien", "don’t", "Schröder", "dell’anno", "Zoë", "Müller – Smith", "naïve",
         "5½ in", "25°C", "€10", "“Quoted”", "STRAßE", "ÉCOLE JOSÉ", "Ångström", "François", "Bjørn", "Ñandú"]


@pytest.mark.parametrize("encoding, label, severity", [("cp1252", "Windows-1252", "note"),
                                                        ("mac_roman", "Mac Roman", "warning")])
@pytest.mark.parametrize("word", WORDS)
def test_a_legacy_csv_is_read_in_the_encoding_it_reads_as_words_in(encoding, label, severity, word):
    if encoding == "mac_roman" and word == "5½ in":
        pytest.skip("Mac Roman has no ½")
    text, delimiter, (finding,) = decode_csv("roster_people.csv", f"Name,Role\r\n{word},Principal\r\n".encode(encoding))
    assert text.splitlines()[1] == f"{word},Principal" and delimiter == ","
    assert (finding.severity, finding.file) == (severity, "roster_people.csv")
    assert finding.message.startswith(f"Read as {label}") and f"row 2 reads '{word}'" in finding.message


@pytest.mark.parametrize("data", [b"Name\n" + "José".encode(), "Name\nJosé".encode("utf-8-sig"), b"Name\nJose\n"])
def test_utf8_is_read_as_it_is_without_a_note(data):
    assert decode_csv("x.csv", data) == (data.decode("utf-8-sig"), ",", [])


def test_utf8_marked_by_a_bom_with_a_windows_1252_line_is_refused():
    data = codecs.BOM_UTF8 + b"Name\nJose\n" + "Renée".encode("cp1252")
    with pytest.raises(CsvEncodingError) as caught:
        decode_csv("x.csv", data)
    finding = caught.value.finding
    assert (finding.severity, finding.row, finding.value) == ("error", 3, "Renée")
    assert "Line 3 is not UTF-8" in finding.message and "byte 0xE9" in finding.message


def test_utf16_is_read_comma_or_tab_separated():
    assert decode_csv("x.csv", "a\tb\nRenée\tx\n".encode("utf-16"))[:2] == ("a\tb\nRenée\tx\n", "\t")
    assert decode_csv("x.csv", "a,b\nRenée,x\n".encode("utf-16-be").join([codecs.BOM_UTF16_BE, b""]))[:2] == \
        ("a,b\nRenée,x\n", ",")
    with pytest.raises(CsvEncodingError, match="not UTF-16 throughout"):
        decode_csv("x.csv", "a,b\n".encode("utf-16") + b"\x00\xd8")


def test_old_mac_line_ends_count_rows():
    data = "Name\rJosé\rMałgorzata\r".encode("cp1250")
    with pytest.raises(CsvEncodingError) as caught:
        decode_csv("x.csv", data)
    assert caught.value.finding.row == 3 and "on line 3 reads as '³' in 'Ma³gorzata'" in caught.value.finding.message


def test_a_mixed_file_with_old_mac_line_ends_is_found_mixed():
    data = "Name\rJosé\r".encode() + "Renée\r".encode("cp1252")
    with pytest.raises(CsvEncodingError) as caught:
        decode_csv("x.csv", data)
    assert caught.value.finding.row == 3 and "Line 3 is not UTF-8" in caught.value.finding.message


# --- reference tables (the templates' data) ------------------------------------------------------------------

def test_a_reference_csv_is_read_as_text_its_blank_lines_left_out_and_short_rows_filled(tmp_path):
    path = tmp_path / "designations.csv"
    path.write_bytes('\ufeffDesignation,Identification,Synonyms,,\r\n"Targeted, additional",Targeted,"TSI;\nATSI"\r\n'
                     '\r\nNot identified,Not identified\r\n007,Intensive,,,\r\n'.encode("utf-8"))
    table = read_table(path)       # as Excel saves it: a comma for each blank column the sheet once had
    assert table.columns == ("Designation", "Identification", "Synonyms", "", "")
    assert table.rows == (
        {"Designation": "Targeted, additional", "Identification": "Targeted", "Synonyms": "TSI;\nATSI", "": ""},
        {"Designation": "Not identified", "Identification": "Not identified", "Synonyms": "", "": ""},
        {"Designation": "007", "Identification": "Intensive", "Synonyms": "", "": ""})
    assert table.column("Identification") == ["Targeted", "Not identified", "Intensive"]
    with pytest.raises(KeyError):
        table.column("Stage")


@pytest.mark.parametrize("text, says", [
    ("", "the file is empty"),
    ("Stage,Task\nPlanning,Draft,extra\n", "line 2 has 3 cells, the first line 2"),
    ("Stage,Task,Stage\nPlanning,Draft,Again\n", "the header names 'Stage' more than once"),
])
def test_a_reference_csv_that_does_not_fit_says_why(tmp_path, text, says):
    path = tmp_path / "schedule_tasks.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=says):
        read_table(path)


def test_a_reference_workbook_sheet_is_read_as_the_inputs_are_its_blank_rows_left_out(tmp_path):
    """The ISBE grid's activities (isbe_grid_activities.xlsx) are a workbook's sheet: its header row names
    the columns, an empty cell is None, numbers and dates are as the inputs' reader gives them, blank rows
    and the blank columns right of the table are left out."""
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    ws = wb.create_sheet("Activities")
    ws.append(["Month", "Key Activity", None, "Count"])
    ws.append(["July", "Review data", None, 3])
    ws.append([None, "  ", None, None])                       # blank: spaces only
    ws.append(["August", None, None, 2.5, None, "  "])
    ws.append(["September", dt.datetime(2026, 9, 1), None, None])
    ws["F1"].number_format = "0.00"                           # formatted, never filled
    path = tmp_path / "isbe_grid_activities.xlsx"
    wb.save(path)
    table = read_table(path, sheet_name="Activities")
    assert table.columns == ("Month", "Key Activity", "Unnamed: 2", "Count")
    assert table.rows == (
        {"Month": "July", "Key Activity": "Review data", "Unnamed: 2": None, "Count": 3},
        {"Month": "August", "Key Activity": None, "Unnamed: 2": None, "Count": 2.5},
        {"Month": "September", "Key Activity": dt.datetime(2026, 9, 1), "Unnamed: 2": None, "Count": None})
    with pytest.raises(ValueError, match="sheet 'Notes' is empty"):
        read_table(path)                                      # the first sheet unless one is named
    with pytest.raises(ValueError, match="no sheet named 'Plans'"):
        read_table(path, sheet_name="Plans")
    ws.append(["October", "Again", None, None])
    ws["C1"] = "Month"
    wb.save(path)
    with pytest.raises(ValueError, match="header names 'Month' more than once"):
        read_table(path, sheet_name="Activities")


def test_a_reference_csv_is_decoded_as_the_inputs_csv_files_are(tmp_path):
    """Saved by Excel on Windows (Windows-1252) or as Unicode Text (UTF-16), a reference file reads as it
    means; an older Mac's encoding, which can only be guessed, is refused with the fix."""
    path = tmp_path / "designations.csv"
    path.write_bytes("Designation,Identification\r\nÉcole ciblée,Targeted\r\n".encode("cp1252"))
    assert read_table(path).rows == ({"Designation": "École ciblée", "Identification": "Targeted"},)
    path.write_bytes("Designation\tIdentification\r\nÉcole ciblée\tTargeted\r\n".encode("utf-16"))
    assert read_table(path).rows == ({"Designation": "École ciblée", "Identification": "Targeted"},)
    path.write_bytes("Designation,Identification\r\nEcole de l’Ouest,Targeted\r\n".encode("mac_roman"))
    with pytest.raises(ValueError, match="Read as Mac Roman .* CSV UTF-8"):
        read_table(path)


@pytest.mark.parametrize("text, says", [
    ("", "The file is empty."),
    ("School ID,Name,Role\n0101,Ana Ruiz,Principal\n0102,Ruiz, Ana,Teacher\n",
     "Line 3 has 4 cells, the first line 3. Look on that line for a comma too many"),
])
def test_an_inputs_csv_that_is_not_a_table_says_why(tmp_path, text, says):
    (tmp_path / "roster_people.csv").write_text(text, encoding="utf-8")
    _, findings = load_inputs(tmp_path)
    (found,) = [f for f in findings if f.file == "roster_people.csv"]
    assert found.severity == "error" and found.message.startswith(says)
