"""The Schedule for Plan Development typesets at any length: one date style, date columns that hold it,
a table per stage whose column titles and stage name repeat on every page, rows that never split, the
period it covers, who attends each kind of meeting, sub-rows in date order, "None recorded"."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import pytest
from docx import Document

from generator.inputs.schema import STAGES
from generator.model.dates import display_date
from generator.model.readiness import check_packet
from generator.model.records import Meeting
from generator.render.context import long_date, schedule_context, short_date
from generator.render.docx import render_docx
from generator.render.template_data import SHIPPED

from conftest import AS_OF, SAMPLE, run_cli
from factories import packet, person, schedule_table_rows, task

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TWIPS_PER_POINT = 20
CELL_MARGINS = 2 * 108               # Table Grid's left and right cell margins, in twips
CARLITO = Path("/usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf")
LONGEST_DATE = "September 30, 2026"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("schedule") / "output"
    result = run_cli("build", "--inputs", str(SAMPLE), "--output", str(out), "--school", "0104",
                     "--school", "0107", "--school", "0102", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    return out


def document(out, school_id, form="schedule"):
    (folder,) = out.glob(f"{school_id}-*")
    return folder / f"{school_id}-{form}.docx"


def stage_tables(doc):
    return [t for t in doc.tables if t.rows[0].cells[0].text == "Process Timeframe"]


# --- one date style ---------------------------------------------------------------------------------

def test_one_date_style_for_forms_and_findings():
    day = dt.date(2026, 9, 10)
    assert display_date(day) == long_date(day) == short_date(day) == "September 10, 2026"
    overdue = packet(tasks=[task("Complete the DF", dt.date(2026, 11, 1))], as_of=dt.date(2026, 11, 23))
    messages = [f.message for f in check_packet(overdue) if f.rule == "tasks-on-time"]
    assert messages == ["Task 'Complete the DF' was due November 1, 2026 and is not done."]


def _text_width_twips(text: str, size_pt: float) -> float:
    # fontTools is a test dependency; without it, the LibreOffice test below still checks the dates.
    font = pytest.importorskip("fontTools.ttLib").TTFont(CARLITO)
    cmap, metrics = font.getBestCmap(), font["hmtx"]
    units = sum(metrics[cmap[ord(c)]][0] for c in text)
    return units / font["head"].unitsPerEm * size_pt * TWIPS_PER_POINT


@pytest.mark.skipif(not CARLITO.exists(), reason="Carlito (Calibri's metrics) is not installed")
def test_date_columns_hold_the_longest_date_on_one_line(built):
    doc = Document(document(built, "0104"))
    need = _text_width_twips(LONGEST_DATE, 10) + CELL_MARGINS
    tables = stage_tables(doc)
    meetings = doc.tables[1]
    assert [c.text for c in meetings.rows[0].cells][1] == "Date"
    for table, columns in [(t, (3, 4)) for t in tables] + [(meetings, (1,))]:
        grid = [int(g.get(W + "w")) for g in table._tbl.tblGrid.findall(W + "gridCol")]
        for col in columns:
            assert grid[col] >= need, (table.rows[0].cells[col].text, grid[col], need)
            for row in table.rows[2:] if table in tables else table.rows[1:]:
                (width,) = row.cells[col]._tc.xpath("./w:tcPr/w:tcW/@w:w")
                assert int(width) == grid[col]


@pytest.mark.office
@pytest.mark.slow
def test_no_date_or_header_word_wraps_in_the_libreoffice_render(built, tmp_path):
    """Every date of the schedule is one line of the PDF, and no header word is broken mid-word."""
    path = document(built, "0104")
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=180)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / path.with_suffix(".pdf").name), "-"],
                          check=True, capture_output=True, text=True).stdout
    doc = Document(path)
    dates = {c.text for t in stage_tables(doc) for r in t.rows[2:] for c in r.cells[3:5]
             if re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}", c.text)}
    assert len(dates) > 20
    for date in dates:
        assert date in text, f"{date!r} wraps"
    assert "Completio\n" not in text and "Completion" in text


# --- pagination ---------------------------------------------------------------------------------------

def test_stage_tables_repeat_titles_and_stage_and_rows_never_split(built):
    doc = Document(document(built, "0104"))
    tables = stage_tables(doc)
    assert [t.rows[1].cells[0].text for t in tables] == list(STAGES)        # a table per stage, in order
    for table in tables:
        head, band, *rows = table.rows
        for row in (head, band):
            (header,) = row._tr.xpath("./w:trPr/w:tblHeader")
            assert header.get(W + "val") is None            # the SDK refuses val="true"
            assert all(p.xpath("./w:pPr/w:keepNext") for p in row._tr.iter(W + "p"))
        assert band._tr.xpath("./w:tc/w:tcPr/w:gridSpan/@w:val") == ["5"]
        assert rows and all(r._tr.xpath("./w:trPr/w:cantSplit") for r in table.rows)
        assert not any(r._tr.xpath("./w:trPr/w:tblHeader") for r in rows)


def test_no_tblheader_val_true_left_in_either_form(built):
    for form in ("schedule", "isbe-grid"):
        xml = Document(document(built, "0104", form)).element.xml
        assert "<w:tblHeader" in xml and 'w:tblHeader w:val="true"' not in xml


@pytest.mark.parametrize("school_id", ["0102", "0104"])       # Intensive: eight columns; Comprehensive: seven
def test_grid_bands_keep_with_the_row_they_head_and_rows_never_split(built, school_id):
    doc = Document(document(built, school_id, "isbe-grid"))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Key Activities")
    columns = table._tbl.tblGrid.findall(W + "gridCol")
    total = sum(int(g.get(W + "w")) for g in columns)
    bands = [r for r in table.rows if r._tr.xpath("./w:tc/w:tcPr/w:gridSpan")]
    assert [r.cells[0].text for r in bands[:2]] == ["PLANNING STAGE", "DESIGNATION RELEASE"]
    assert len(bands) == 11                                   # PLANNING STAGE and ten months
    for band in bands:
        assert all(p.xpath("./w:pPr/w:keepNext") for p in band._tr.iter(W + "p"))
        (width,) = band._tr.xpath("./w:tc/w:tcPr/w:tcW/@w:w")
        # As wide as the table: to a twip a column, as the vendor column's width is shared out without it.
        assert 0 <= int(width) - total < len(columns)
        assert band._tr.xpath("./w:tc/w:tcPr/w:gridSpan/@w:val") == [str(len(columns))]
    assert all(r._tr.xpath("./w:trPr/w:cantSplit") for t in doc.tables for r in t.rows)


# --- order and sense --------------------------------------------------------------------------------

def test_a_tasks_sub_rows_are_in_date_order(built):
    rows = schedule_table_rows(Document(document(built, "0104")))
    start = next(i for i, r in enumerate(rows) if r[1] == "Collect Data on Strategy Indicators")
    subs = []
    for r in rows[start + 1:]:
        if not r[1].startswith("\u2013"):
            break
        subs.append(dt.datetime.strptime(r[3], "%B %d, %Y").date())
    assert len(subs) > 3 and subs == sorted(subs)
    assert subs[0] == dt.date(2027, 9, 10)                    # the monthly check is listed last in the sheet


def test_heading_names_the_period_of_its_dates(built):
    doc = Document(document(built, "0104"))
    subtitle = doc.paragraphs[1].text
    projected = doc.tables[0].rows[1].cells[1].text
    assert projected.endswith("2028")
    assert "Planning year 2026-27" in subtitle and "school years 2026-27 to 2027-28" in subtitle
    one_year = packet(tasks=[task(expected=dt.date(2027, 6, 1))])
    assert schedule_context(one_year, SHIPPED)["schedule_period"] == "school year 2026-27"


def test_meeting_schedule_says_who_attends_each_kind_of_meeting():
    people = [person("Ana Ruiz", "Principal"), person("Lee Park", "Leadership Team Chair"),
              person("Sam Oduya", "Leadership Team Member"), person("Kim Tran", "Leadership Team Member")]
    meetings = [Meeting("Leadership Team Meeting", dt.date(2026, 9, 8), school_id="0101"),
                Meeting("Leadership Team Meeting", dt.date(2026, 10, 13), school_id="0101"),
                Meeting("Regional Administrator Meeting", dt.date(2026, 9, 21))]
    kinds = schedule_context(packet(people=people, meetings=meetings), SHIPPED)["meeting_kinds"]
    assert kinds == [
        {"meeting": "Leadership Team Meeting",
         "attendees": "Leadership Team Chair: Lee Park; Leadership Team Member: Sam Oduya, Kim Tran"},
        {"meeting": "Regional Administrator Meeting", "attendees": "None recorded"}]


def test_the_built_form_lists_who_attends(built):
    doc = Document(document(built, "0104"))
    (attend,) = [t for t in doc.tables if t.rows[0].cells[1].text == "Who attends"]
    rows = {r.cells[0].text: r.cells[1].text for r in attend.rows[1:]}
    assert rows["Leadership Team Meeting"].startswith("Leadership Team Chair: ")
    assert "Superintendent: " in rows["District Leadership Team Meeting"]


def test_no_meetings_say_none_recorded_without_an_empty_table():
    context = {**schedule_context(packet(meetings=()), SHIPPED), "title": "Schedule for Plan Development"}
    doc = Document(io.BytesIO(render_docx(SHIPPED.path("schedule.docx"), context)))
    assert "None recorded." in [p.text for p in doc.paragraphs]
    assert not [t for t in doc.tables if t.rows[0].cells[0].text == "Meeting"]
