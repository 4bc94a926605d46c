"""The ISBE planning-year activity grid: reference data faithful to the seed, Word grid, Excel tracker."""

from __future__ import annotations

import collections
import datetime as dt
import html
import re

import openpyxl
import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Inches

from generator.render.context import due_date, resolve_dates
from generator.settings import PlanningYear

from conftest import AS_OF, DATA, ROOT, SAMPLE, run_cli

SEED = DATA / "isbe_grid_seed_002.txt"
ACTIVITIES = ROOT / "templates" / "isbe_grid_activities.xlsx"
MONTHS = ["Designation release", "November", "December", "January", "February", "March", "April", "May",
          "June", "July"]
ROLE_HEADERS = ["School Improvement Coordinators", "ISBE", "Board of Education", "District Staff", "Principal",
                "School Leadership Team", "School Level Needs Assessment Vendor"]
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
YEAR = PlanningYear(2026)


def reference_rows():
    ws = openpyxl.load_workbook(ACTIVITIES)["Activities"]
    head = [c.value for c in ws[1]]
    return [dict(zip(head, r)) for r in ws.iter_rows(min_row=2, values_only=True) if any(r)]


def _words(text):
    """Words of seed or sheet text, after the seed's markup and line-break hyphenation are undone."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", text)).replace("\u2022", " ")
    text = re.sub(r"(?<=[A-Za-z])- (?=[a-z])", "-", text)
    text = re.sub(r"(?<=\w)/ (?=\w)", "/", text)
    text = text.replace("IOFSR", "IQFSR").replace("asessment", "assessment")
    return re.findall(r"[a-z0-9]+(?:[-/'][a-z0-9]+)*", text.lower())


def test_reference_sheet_keeps_every_word_of_the_seed_in_seed_order_of_months():
    seed_words = collections.Counter()
    for line in SEED.read_text(encoding="utf-8").split("\n"):
        cells = line.split("\t")
        if len(cells) < 9 or "Key Activities" in line:
            continue
        for cell in cells[1:]:
            seed_words.update(_words(cell))
    rows = reference_rows()
    sheet_words = collections.Counter(w for r in rows for k, v in r.items() if k not in ("Month", "Applies To") and v
                                      for w in _words(v))
    assert sheet_words == seed_words
    months = [MONTHS.index(r["Month"]) for r in rows]
    assert months == sorted(months) and set(months) == set(range(len(MONTHS)))


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid") / "output"
    result = run_cli("build", "--inputs", str(SAMPLE), "--output", str(out), "--school", "0104",
                     "--school", "0107", "--school", "0102", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    return out


def grid_doc(out, school_id):
    (folder,) = out.glob(f"{school_id}-*")
    return Document(folder / f"{school_id}-isbe-grid.docx")


def main_table(doc):
    return next(t for t in doc.tables if t.rows[0].cells[0].text == "Key Activities")


def grid_rows(table):
    """Each activity row of the grid: its month and each cell's lines."""
    seen = []
    month = None
    for row in table.rows[1:]:
        tcs = row._tr.findall(f"{W}tc")
        if len(tcs) == 1:                                       # a band: the stage, or a month
            text = row.cells[0].text
            if text != "PLANNING STAGE":
                month = text
            continue
        # A no-break space (which keeps a date in running text on one line) reads as a space.
        seen.append((month, [[p.text.replace("\u00a0", " ") for p in c.paragraphs if p.text] for c in row.cells]))
    return seen


def test_every_key_activity_under_its_month_in_seed_order_with_roles_in_their_columns(grid):
    """An Intensive school's grid: every activity of the seed, the ISI rows and the vendor's column too."""
    table = main_table(grid_doc(grid, "0102"))
    seen = grid_rows(table)
    expected = reference_rows()
    assert len(seen) == len(expected)
    assert [c.text for c in table.rows[0].cells] == ["Key Activities", *ROLE_HEADERS[:4], "Intensive School Principal",
                                                     *ROLE_HEADERS[5:]]
    for (month, cells), ref in zip(seen, expected):
        assert month == ref["Month"].upper()
        for column, header in enumerate(["Key Activity"] + ROLE_HEADERS):
            lines = (ref[header] or "").split("\n")
            assert cells[column] == [resolve_dates(line, YEAR) for line in lines if line], (ref["Key Activity"], header)


@pytest.mark.parametrize("school_id,title", [("0104", "Comprehensive"), ("0107", "Targeted")])
def test_a_school_not_intensive_has_no_isi_rows_and_no_vendor_column(grid, school_id, title):
    """The more rigorous needs assessment (ISI) and its vendor are an Intensive school's: a Comprehensive or
    Targeted school's grid leaves out those rows (Applies To: Intensive) and the vendor's column, and its
    bands and grid span the seven columns left, which share the vendor's width."""
    table = main_table(grid_doc(grid, school_id))
    expected = [r for r in reference_rows() if r["Applies To"] != "Intensive"]
    assert len(expected) == len(reference_rows()) - 7
    assert [c.text for c in table.rows[0].cells] == ["Key Activities", *ROLE_HEADERS[:4],
                                                     f"{title} School Principal", "School Leadership Team"]
    seen = grid_rows(table)
    assert [cells[0] for _, cells in seen] == [[resolve_dates(line, YEAR) for line in r["Key Activity"].split("\n")]
                                               for r in expected]
    assert all(len(cells) == 7 for _, cells in seen)
    text = "\n".join(c.text for r in table.rows for c in r.cells)
    assert "(ISI)" not in text and "needs-assessment vendor" not in text and "Vendor" not in text
    widths = [int(g.get(f"{W}w")) for g in table._tbl.tblGrid.findall(f"{W}gridCol")]
    assert len(widths) == 7 and sum(widths) >= 18720 - 7          # the table keeps its width: 13 inches
    bands = [r._tr.find(f"{W}tc") for r in table.rows if len(r._tr.findall(f"{W}tc")) == 1]
    assert bands and {b.find(f"{W}tcPr/{W}gridSpan").get(f"{W}val") for b in bands} == {"7"}
    people = [c.text for c in doc_people_column(grid_doc(grid, school_id))]
    assert "School Level Needs Assessment Vendor" not in people


def doc_people_column(doc):
    return doc.tables[0].columns[0].cells


@pytest.mark.slow
def test_multi_line_cells_are_bullet_lists_and_single_lines_are_plain(grid):
    table = main_table(grid_doc(grid, "0104"))
    styles = collections.Counter()
    for row in table.rows[1:]:
        for cell in row.cells:
            texts = [p for p in cell.paragraphs if p.text]
            kind = "bullet" if len(texts) > 1 else "plain"
            styles.update((kind, p.style.name) for p in texts)
    assert styles[("bullet", "List Bullet")] > 100
    assert not styles[("bullet", "Normal")] and not styles[("plain", "List Bullet")]


def test_grid_is_legal_landscape_with_repeating_header_and_seed_furniture(grid):
    doc = grid_doc(grid, "0104")
    section = doc.sections[0]
    assert (section.page_width, section.page_height) == (Inches(14), Inches(8.5))
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert section.left_margin <= Inches(0.5)
    header_row = main_table(doc).rows[0]._tr
    assert header_row.xpath("./w:trPr/w:tblHeader")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "END OF PLANNING YEAR ACTIVITIES. MOVE TO YEAR IN THE LIFE IMPLEMENTATION YEAR FOR ISI SCHOOLS" in text
    footer = section.footer.paragraphs[0].text
    assert 'Please note that document will print best on legal-sized (8.5"x14") paper.' in footer
    assert "schoolimprovement@isbe.net" in footer
    assert "PLANNING STAGE" in [r.cells[0].text for r in main_table(doc).rows]


@pytest.mark.parametrize("school_id,vendor_column", [("0102", True), ("0104", False), ("0107", False)])
def test_principal_column_named_by_designation_and_roster_people_named(grid, school_id, vendor_column):
    roster = openpyxl.load_workbook(SAMPLE / "roster.xlsx")
    school = next(r for r in roster["Schools"].iter_rows(min_row=2, values_only=True) if r[0] == school_id)
    doc = grid_doc(grid, school_id)
    assert main_table(doc).rows[0].cells[5].text == f"{school[2]} School Principal"
    people_text = "\n".join(c.text for r in doc.tables[0].rows for c in r.cells)
    own = [r for r in roster["People"].iter_rows(min_row=2, values_only=True) if r[0] == school_id]
    for role in ("Principal", "School Improvement Coordinator", "District Staff", "Leadership Team Member",
                 "Facilitator"):
        for person in (r for r in own if r[2] == role):
            assert person[1] in people_text, (role, person[1])
    vendor = next(r for r in roster["People"].iter_rows(min_row=2, values_only=True)
                  if r[2] == "Needs Assessment Vendor")
    assert (vendor[1] in people_text) == vendor_column           # an Intensive school's grid names its vendor
    heading = "\n".join(p.text for p in doc.paragraphs[:3])
    assert school[1] in heading and "Riverbend Community Unit School District 117" in heading
    assert "2026-27" in heading


def test_dates_in_the_text_carry_the_planning_years_dates(grid):
    doc = grid_doc(grid, "0104")
    text = "\n".join(c.text for r in main_table(doc).rows for c in r.cells)
    # Each date is typeset whole (no-break spaces), so a line never ends inside it.
    assert "due January\u00a031,\u00a02027" in text and "due January 31" not in text
    text = text.replace("\u00a0", " ")
    for date in ("January 31, 2027", "December 31, 2026", "March 30, 2027", "June 30, 2027", "April 20, 2027",
                 "July 20, 2027", "July 30, 2027"):
        assert date in text
    assert "Jan. 31" not in text and "by July 30." not in text.replace("July 30, 2027", "")
    assert "planning year (2026-27) grant application" in text.lower()


@pytest.mark.parametrize("text,expected", [
    ("The IQFSR is due Jan. 31.", "The IQFSR is due January 31, 2027."),
    ("Second quarter reporting period ends on Dec. 31.", "Second quarter reporting period ends on December 31, 2026."),
    ("Submit QER by April 20.", "Submit QER by April 20, 2027."),
    ("GPRS due to ISBE by July 30.", "GPRS due to ISBE by July 30, 2027."),
    ("Meeting on Sept 15", "Meeting on September 15, 2026"),
    ("Already dated June 30, 2027.", "Already dated June 30, 2027."),
    ("Not a day: June 31.", "Not a day: June 31."),
    ("Begin the planning year grant application.", "Begin the planning year (2026-27) grant application."),
])
def test_resolve_dates(text, expected):
    assert resolve_dates(text, YEAR) == expected


def test_due_date_prefers_the_date_after_due():
    lines = ["Planning Year Report reporting period ends on June 30. GPRS opens June 30 for completion - due "
             "to ISBE by July 30."]
    assert due_date(lines, YEAR) == dt.date(2027, 7, 30)
    assert due_date(["Issue reminder. Second quarter ends on Dec. 31."], YEAR) == dt.date(2026, 12, 31)
    assert due_date(["Attend the webinar."], YEAR) is None


def test_excel_tracker_rows_status_dropdown_and_legal_landscape_print(grid):
    (folder,) = grid.glob("0104-*")
    ws = openpyxl.load_workbook(folder / "0104-isbe-grid-tracker.xlsx")["Activities"]
    head = [c.value for c in ws[4]]
    assert head[:8] == ["Month", "Key Activity", "Role", "Person Responsible", "Tasks", "Due Date", "Status",
                        "Date Completed"]
    rows = list(ws.iter_rows(min_row=5, values_only=True))
    # One row per activity and role: a Comprehensive school's, so no ISI row and no vendor.
    expected = sum(1 for r in reference_rows() if r["Applies To"] != "Intensive" for h in ROLE_HEADERS[:-1] if r[h])
    assert len(rows) == expected
    assert not any(r[2] == "School Level Needs Assessment Vendor" for r in rows)
    principal = [r for r in rows if r[2] == "Comprehensive School Principal"]
    assert principal and all(r[3] == "Cedric Johnson" for r in principal)
    iqfsr = [r for r in rows if r[0] == "January" and r[5]]
    assert iqfsr and all(r[5] == dt.datetime(2027, 1, 31) for r in iqfsr)
    assert all(r[6] == "Not started" for r in rows)
    (status,) = [d for d in ws.data_validations.dataValidation if d.type == "list"]
    assert status.formula1 == '"Not started,In progress,Done"'
    assert str(status.sqref) == f"G5:G{ws.max_row}"
    assert int(ws.page_setup.paperSize) == 5                    # legal, 8.5" x 14"
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$4:$4"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1


def test_tracker_rows_are_tall_enough_for_their_wrapped_text(grid):
    """Office suites do not grow rows of a generated file on open; without heights, text overprints."""
    (folder,) = grid.glob("0104-*")
    ws = openpyxl.load_workbook(folder / "0104-isbe-grid-tracker.xlsx")["Activities"]
    for row in range(5, ws.max_row + 1):
        lines = max(len(str(ws.cell(row=row, column=c).value or "").split("\n")) for c in (2, 5))
        if lines > 1:
            assert ws.row_dimensions[row].height >= lines * 13, row
