"""Spreadsheets as districts really keep them: the sample, rewritten messily, builds the same documents."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from docx import Document
from openpyxl.styles import PatternFill

from conftest import AS_OF, SAMPLE, edit_sheet, find_row, packet_folders, run_cli

# Each test builds the sample district (or a copy rewritten messily) through the CLI: seconds apiece.
pytestmark = pytest.mark.slow

SCHOOLS = ("0101", "0104", "0107")      # a ready school, one whose name has '&', the incomplete one


def document_text(folder: Path) -> dict[str, str]:
    """Every document's text in a packet folder: paragraphs, tables, headers and cell values."""
    texts = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".docx":
            doc = Document(path)
            parts = [p.text for p in doc.paragraphs]
            parts += [c.text for t in doc.tables for r in t.rows for c in r.cells]
            texts[path.name] = "\n".join(parts)
        elif path.suffix == ".xlsx":
            wb = openpyxl.load_workbook(path)
            texts[path.name] = "\n".join(f"{c.coordinate}={c.value!r}" for ws in wb for row in ws.iter_rows()
                                         for c in row if c.value is not None)
    return texts


def build_texts(inputs: Path, output: Path, schools=SCHOOLS) -> dict[str, dict[str, str]]:
    args = ["build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF]
    for school in schools:
        args += ["--school", school]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    return {p.name: document_text(p) for p in packet_folders(output)}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return build_texts(SAMPLE, tmp_path_factory.mktemp("clean") / "output")


def each_sheet(inputs: Path, change, workbooks=("roster", "timeline", "goals")):
    for name in workbooks:
        path = inputs / f"{name}.xlsx"
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            change(ws)
        wb.save(path)


def title_block(ws):
    ws.insert_rows(1, amount=3)
    ws["A1"] = f"Riverbend CUSD 117 \u2014 {ws.title}"
    ws["A2"] = "Maintained by the Office of School Improvement. Do not change the headers."


def messy_headers(ws):
    for cell in ws[1]:
        if isinstance(cell.value, str):
            words = cell.value.split(" ")
            cell.value = (" " + "\n".join(words).upper() + " \u00a0") if len(words) > 1 else cell.value.lower() + " #"


def two_row_header_with_merges(ws):
    """A group title row above the headers; the first header is merged down over both rows."""
    ws.insert_rows(1)
    first = ws.cell(row=2, column=1).value
    ws.cell(row=1, column=1).value = first
    ws.cell(row=2, column=1).value = None
    ws.merge_cells(start_row=1, start_column=1, end_row=2, end_column=1)
    if ws.max_column >= 4:
        ws.cell(row=1, column=2).value = "Details"
        ws.merge_cells(start_row=1, start_column=2, end_row=1, end_column=4)


def extra_columns(ws):
    col = ws.max_column + 1
    ws.cell(row=1, column=col).value = "Internal notes"
    for r in range(2, ws.max_row + 1):
        ws.cell(row=r, column=col).value = f"checked by office {r}"


def hidden_rows_and_sheets(ws):
    for r in range(3, ws.max_row + 1, 4):
        ws.row_dimensions[r].hidden = True
    if ws.title in ("People", "Stages", "Benchmarks"):
        ws.sheet_state = "hidden"


def blank_and_formatted_rows(ws):
    fill = PatternFill("solid", fgColor="FFF2CC")
    for r in range(ws.max_row, 2, -5):
        ws.insert_rows(r)
        for c in range(1, ws.max_column + 1):
            ws.cell(row=r, column=c).fill = fill
    for r in range(ws.max_row + 1, ws.max_row + 30):
        ws.cell(row=r, column=1).fill = fill           # formatted but empty rows at the end


def retyped_values(ws):
    """Dates and numbers as staff type them: serials, date-times, ISO/US/long text, numbers as text, NBSPs."""
    forms = [lambda d: (d - dt.date(1899, 12, 30)).days,
             lambda d: dt.datetime.combine(d, dt.time(0, 0)),
             lambda d: d.isoformat(), lambda d: f"{d.month}/{d.day}/{d.year}",
             lambda d: f"{d:%B} {d.day}, {d.year}", lambda d: f"{(d - dt.date(1899, 12, 30)).days}",
             lambda d: f"{d:%b} {d.day}, {d.year}"]
    i = 0
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            value = cell.value
            if isinstance(value, dt.datetime):
                cell.value = forms[i % len(forms)](value.date())
                if isinstance(cell.value, int):
                    cell.number_format = "General"
                i += 1
            elif isinstance(value, int) and not isinstance(value, bool):
                cell.value = str(value)
            elif isinstance(value, str) and " " in value and i % 3 == 0:
                cell.value = value.replace(" ", "\u00a0", 1) + "  "
                i += 1


def add_cached_formula(inputs: Path):
    """Make a school name a formula whose cached value is the name, as Excel saves it."""
    path = inputs / "roster.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["Schools"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=1).value == "0104")
    name = ws.cell(row=row, column=2).value
    ref = f"B{row}"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet")
                 and f'r="{ref}"'.encode() in parts[n] and b"0104" in parts[n])
    xml = parts[sheet].decode()
    escaped = name.replace("&", "&amp;")
    first, _, rest = escaped.partition(" ")
    cell = (f'<c r="{ref}" t="str"><f>"{first}"&amp;" {rest}"</f><v>{escaped}</v></c>')
    xml, n = re.subn(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', cell, xml, count=1)
    assert n == 1
    parts[sheet] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name_, data in parts.items():
            z.writestr(name_, data)


def as_xlsm(inputs: Path):
    for name in ("roster", "goals"):
        (inputs / f"{name}.xlsx").rename(inputs / f"{name}.xlsm")


def as_ods(inputs: Path):
    path = inputs / "timeline.xlsx"
    frames = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
    with pd.ExcelWriter(inputs / "timeline.ods", engine="odf") as writer:
        for sheet, frame in frames.items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
    path.unlink()


def as_csv(inputs: Path):
    """Each sheet of the timeline and the goals as CSV, in the three encodings districts send."""
    encodings = ["utf-8", "utf-8-sig", "cp1252"]
    i = 0
    for book in ("timeline", "goals"):
        wb = openpyxl.load_workbook(inputs / f"{book}.xlsx")
        for ws in wb.worksheets:
            rows = [["" if v is None else (f"{v:%m/%d/%Y}" if isinstance(v, dt.datetime) else v) for v in r]
                    for r in ws.iter_rows(values_only=True)]
            target = inputs / f"{book}_{re.sub('[^a-z0-9]', '', ws.title.lower())}.csv"
            encoding = encodings[i % 3]
            i += 1
            with open(target, "w", newline="", encoding=encoding, errors="replace") as handle:
                csv.writer(handle).writerows(rows)
        (inputs / f"{book}.xlsx").unlink()


VARIATIONS = {
    "title block above the header": lambda i: each_sheet(i, title_block),
    "headers with line breaks, spaces, case and punctuation": lambda i: each_sheet(i, messy_headers),
    "header cells merged across rows and columns": lambda i: each_sheet(i, two_row_header_with_merges),
    "extra columns": lambda i: each_sheet(i, extra_columns),
    "hidden rows and sheets": lambda i: each_sheet(i, hidden_rows_and_sheets),
    "blank and formatted-but-empty rows": lambda i: each_sheet(i, blank_and_formatted_rows),
    "dates and numbers retyped, non-breaking spaces": lambda i: each_sheet(i, retyped_values),
    "a formula's cached value": add_cached_formula,
    ".xlsm workbooks": as_xlsm,
    ".ods workbook": as_ods,
    "CSV sheets in UTF-8, UTF-8 with BOM and Windows-1252": as_csv,
}


@pytest.mark.parametrize("variation", list(VARIATIONS))
def test_messy_inputs_build_the_same_documents(clean, tmp_path, variation):
    inputs = tmp_path / "inputs"
    shutil.copytree(SAMPLE, inputs)
    VARIATIONS[variation](inputs)
    messy = build_texts(inputs, tmp_path / "output")
    assert messy.keys() == clean.keys()
    for folder, documents in clean.items():
        for name, text in documents.items():
            assert messy[folder][name] == text, (variation, name)


# --- CSV text encodings, end to end ---------------------------------------------------------------------
# The schools whose people have accented names: 0103's María José Peña and Lucía Fernández, 0105's Zoë,
# 0109's Renée. Each names an activity's Person Responsible, so a garbled name makes the school NOT READY.
ACCENTED_SCHOOLS = ("0103", "0105", "0109")


def people_rows(inputs: Path) -> list[list[str]]:
    ws = openpyxl.load_workbook(inputs / "roster.xlsx")["People"]
    return [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]


def csv_text(rows, delimiter=",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def replace_people_sheet(inputs: Path, data: bytes):
    """The roster's People sheet kept as roster_people.csv instead (the CSV wins over the workbook's sheet)."""
    (inputs / "roster_people.csv").write_bytes(data)


@pytest.fixture(scope="module")
def legacy_inputs(tmp_path_factory):
    """The sample with the one name Windows-1252 and Mac Roman cannot spell (Nguyễn) spelled Nguyen,
    and what it builds for the accented schools read from the workbook."""
    inputs = tmp_path_factory.mktemp("legacy") / "inputs"
    shutil.copytree(SAMPLE, inputs)
    for book, sheet in (("roster", "People"), ("goals", "Activities")):
        wb = openpyxl.load_workbook(inputs / f"{book}.xlsx")
        for row in wb[sheet].iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "Nguyễn" in cell.value:
                    cell.value = cell.value.replace("Nguyễn", "Nguyen")
        wb.save(inputs / f"{book}.xlsx")
    return inputs, build_texts(inputs, inputs.parent / "output", ACCENTED_SCHOOLS)


def assert_builds_the_same(legacy_inputs, tmp_path, data: bytes, says: str):
    source, expected = legacy_inputs
    inputs = tmp_path / "inputs"
    shutil.copytree(source, inputs)
    replace_people_sheet(inputs, data)
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF, "--verbose")
    assert says in result.output, result.output
    for school in ACCENTED_SCHOOLS:
        assert re.search(rf"^{school} .*: ready$", result.output, re.M), result.output
    built = build_texts(inputs, tmp_path / "output", ACCENTED_SCHOOLS)
    assert built == expected
    everything = "\n".join(t for docs in built.values() for t in docs.values())
    assert "María José Peña" in everything and "Renée Thibodeaux" in everything
    assert not re.search("[ÃÂ]|Ž|’a", everything)            # no UTF-8 read as Windows-1252, no Mac Roman misread


def test_a_windows_1252_csv_is_read_with_a_note(legacy_inputs, tmp_path):
    rows = people_rows(legacy_inputs[0])
    assert_builds_the_same(legacy_inputs, tmp_path, csv_text(rows).encode("cp1252"),
                           "note: roster_people.csv: Read as Windows-1252")


def test_a_mac_roman_csv_is_recognised_and_said_to_be(legacy_inputs, tmp_path):
    rows = people_rows(legacy_inputs[0])
    assert_builds_the_same(legacy_inputs, tmp_path, csv_text(rows).encode("mac_roman"),
                           "warning: roster_people.csv: Read as Mac Roman")


def test_an_excel_unicode_text_file_utf16_with_tabs_is_read(legacy_inputs, tmp_path):
    rows = people_rows(legacy_inputs[0])
    assert_builds_the_same(legacy_inputs, tmp_path, csv_text(rows, "\t").encode("utf-16"),
                           "note: roster_people.csv: Read as UTF-16")


def test_a_utf8_csv_with_one_windows_1252_line_is_an_error_naming_the_line(inputs, tmp_path):
    rows = people_rows(inputs)
    at = next(i for i, r in enumerate(rows) if r[1] == "Lucía Fernández")
    lines = csv_text(rows).encode("utf-8").split(b"\r\n")
    lines[at] = lines[at].decode("utf-8").encode("cp1252")     # one row pasted in from an older export
    replace_people_sheet(inputs, b"\r\n".join(lines))
    for command in (["validate"], ["build", "--output", str(tmp_path / "output")]):
        result = run_cli(*command, "--inputs", str(inputs), "--as-of", AS_OF)
        assert result.exit_code == 1, result.output
        (line,) = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
        assert line.startswith(f"error: roster_people.csv, row {at + 1}: "), line
        assert f"Line {at + 1} is not" in line and "0xED" in line and "'Lucía Fernández'" in line, line
        assert "save it again as CSV UTF-8" in line, line
        assert "LucÃ" not in result.output
    assert not (tmp_path / "output").exists() or not any(p.is_dir() for p in (tmp_path / "output").iterdir())


def test_a_line_break_inside_a_cell_counts_rows_as_excel_does(inputs):
    rows = people_rows(inputs)
    rows[1][3] = "Principal\n(acting)"          # a quoted cell over two lines: file line numbers run ahead
    at = next(i for i, r in enumerate(rows) if r[1] == "Renée Thibodeaux")
    text = csv_text(rows).encode("utf-8").replace("Renée".encode(), "Renée".encode("cp1252"))
    replace_people_sheet(inputs, text)
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF)
    assert result.exit_code == 1
    assert f"error: roster_people.csv, row {at + 1}: Line {at + 2} is not" in result.output, result.output


def test_a_csv_in_no_one_legacy_encoding_is_an_error_not_a_guess(inputs):
    rows = people_rows(inputs)
    rows[3][1] = "Małgorzata Wójcik"            # Central European (Windows-1250): ł reads as ³ in 1252
    replace_people_sheet(inputs, csv_text(rows).encode("cp1250", errors="replace"))
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF)
    assert result.exit_code == 1
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert line.startswith("error: roster_people.csv, row 4: ") and "0xB3" in line, line
    assert "save it again as csv utf-8" in line.lower(), line


# --- Unicode forms and look-alike IDs, end to end --------------------------------------------------------

@pytest.fixture(scope="module")
def clean_accented(tmp_path_factory):
    return build_texts(SAMPLE, tmp_path_factory.mktemp("accented") / "output", ACCENTED_SCHOOLS)


def decomposed(ws):
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.value = unicodedata.normalize("NFD", cell.value)


@pytest.mark.parametrize("people_as", ["xlsx", "csv"])
def test_a_roster_saved_decomposed_matches_names_typed_composed(clean_accented, inputs, tmp_path, people_as):
    """A Mac may save María as Mari + a combining accent: the roster's names still match the goals' Person
    Responsible (typed composed), and the documents spell them as before."""
    each_sheet(inputs, decomposed, workbooks=("roster",))
    if people_as == "csv":
        replace_people_sheet(inputs, csv_text(people_rows(inputs)).encode("utf-8"))
        assert unicodedata.normalize("NFD", "María") in (inputs / "roster_people.csv").read_text("utf-8")
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF)
    for school in ACCENTED_SCHOOLS:
        assert re.search(rf"^{school} .*: ready$", result.output, re.M), result.output
    assert build_texts(inputs, tmp_path / "output", ACCENTED_SCHOOLS) == clean_accented


def test_school_ids_with_invisible_or_full_width_characters_are_read_with_a_warning(clean_accented, inputs, tmp_path):
    def people(ws):
        ws.cell(row=find_row(ws, "Name", "María José Peña"), column=1).value = "0103\u200b"
        ws.cell(row=find_row(ws, "Name", "Lucía Fernández"), column=1).value = "\u20660103\u2069"
    def goals(ws):
        ws.cell(row=find_row(ws, "School ID", "0105"), column=1).value = "０１０５"
    edit_sheet(inputs / "roster.xlsx", "People", people)
    edit_sheet(inputs / "goals.xlsx", "Goals", goals)
    # --verbose: with the sample's readiness findings these are more than a screen, which is summarised.
    result = run_cli("validate", "--inputs", str(inputs), "--as-of", AS_OF, "--verbose")
    warnings = [ln for ln in result.output.splitlines() if "it is read as" in ln]
    assert len(warnings) == 3, result.output
    assert any(ln.startswith("warning: roster.xlsx, sheet People, row ") and "'0103<U+200B>'" in ln
               and "U+200B ZERO WIDTH SPACE" in ln for ln in warnings), warnings
    assert any("'<U+2066>0103<U+2069>'" in ln for ln in warnings), warnings
    assert any(ln.startswith("warning: goals.xlsx, sheet Goals, row ") and "full-width" in ln for ln in warnings)
    assert "\u200b" not in result.output and "\u2066" not in result.output
    for school in ACCENTED_SCHOOLS:
        assert re.search(rf"^{school} .*: ready$", result.output, re.M), result.output
    assert build_texts(inputs, tmp_path / "output", ACCENTED_SCHOOLS) == clean_accented
