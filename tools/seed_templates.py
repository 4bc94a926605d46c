"""How the templates in templates/ were first made. The .docx/.xlsx files are the source from then on.

Staff restyle the templates in Word and Excel, so this script never overwrites an existing file:
run it only to recreate a template that was deleted (`python tools/seed_templates.py [name ...]`).
"""

from __future__ import annotations

import sys
from copy import copy
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HEADER_FILL = "1F3864"
BAND_FILL = "D9E2F3"


# --- python-docx helpers ------------------------------------------------------------------------

def page(doc, width, height, margin, landscape=False):
    s = doc.sections[0]
    s.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    s.page_width, s.page_height = Inches(width), Inches(height)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(s, side, Inches(margin))
    return s


def base_styles(doc, size=10):
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(size)
    normal.paragraph_format.space_after = Pt(2)


def shade(cell, fill):
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def repeat_header(row):
    tr_pr = row._tr.get_or_add_trPr()
    # Written bare (bare means on): the Open XML SDK's validator refuses w:val="true" here.
    tr_pr.append(OxmlElement("w:tblHeader"))


def no_split(row):
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))


def write(cell, text, bold=False, color=None, size=None, style=None, align=None):
    """Put text in a cell's first paragraph (one run, so Jinja tags stay whole)."""
    p = cell.paragraphs[0]
    if style:
        p.style = style
    run = p.add_run(text)
    run.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    if size:
        run.font.size = Pt(size)
    if align:
        p.alignment = align
    return p


def add_para(cell, text, style=None):
    p = cell.add_paragraph(text)
    if style:
        p.style = style
    return p


def header_row(table, titles, widths=None):
    row = table.rows[0]
    repeat_header(row)
    for i, title in enumerate(titles):
        write(row.cells[i], title, bold=True, color="FFFFFF")
        shade(row.cells[i], HEADER_FILL)
    if widths:
        set_widths(table, widths)


def set_widths(table, widths):
    """Set column widths where Word and LibreOffice read them: the table grid and every cell."""
    table.autofit = False
    for column, w in zip(table.columns, widths):
        column.width = Inches(w)
    for row in table.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = Inches(w)


def loop_row(table, tag):
    """Add a row holding only a docxtpl row tag ({%tr ... %}); docxtpl removes the row itself."""
    row = table.add_row()
    write(row.cells[0], tag)
    return row


def data_row(table, texts):
    row = table.add_row()
    for cell, text in zip(row.cells, texts):
        write(cell, text)
    return row


def kv_table(doc, pairs, widths=(2.2, 4.8)):
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for key, value in pairs:
        row = table.add_row()
        write(row.cells[0], key, bold=True)
        shade(row.cells[0], BAND_FILL)
        write(row.cells[1], value)
    set_widths(table, widths)
    return table


def grid_table(doc, titles, widths, rows):
    """A table with a repeated header row and docxtpl loop rows given as lists of cell texts or tags."""
    table = doc.add_table(rows=1, cols=len(titles))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header_row(table, titles)
    for row in rows:
        if isinstance(row, str):
            loop_row(table, row)
        else:
            data_row(table, row)
    set_widths(table, widths)
    return table


def footer(section, text):
    p = section.footer.paragraphs[0]
    p.text = text
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in p.runs:
        run.font.size = Pt(8)


def add_field(paragraph, instruction, shown="1", size=8):
    """Append a Word field (PAGE, NUMPAGES) as begin/instruction/separate/result/end runs, the form
    Word itself writes (python-docx has no field API). `shown` is the text until the field is computed."""
    def run_with(tag=None, **attrs):
        run = paragraph.add_run()
        run.font.size = Pt(size)
        if tag:
            el = OxmlElement(tag)
            for name, value in attrs.items():
                el.set(qn(name), value)
            run._r.append(el)
        return run

    run_with("w:fldChar", **{"w:fldCharType": "begin"})
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with()._r.append(instr)
    run_with("w:fldChar", **{"w:fldCharType": "separate"})
    run_with().text = shown
    run_with("w:fldChar", **{"w:fldCharType": "end"})


def running_heads(doc, section, header_text):
    """Put `header_text` (the school's name) in the page header and "Page X of Y" under the footer,
    and have Word update fields on open, so a packet opened in Word shows correct numbers."""
    # Header and footer sit inside the margins, so they take no room from the page's content.
    section.header_distance = section.top_margin // 2
    section.footer_distance = section.bottom_margin // 2
    p = section.header.paragraphs[0]
    p.text = header_text
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for run in p.runs:
        run.font.size = Pt(8)
    p = section.footer.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("Page ").font.size = Pt(8)
    add_field(p, "PAGE")
    p.add_run(" of ").font.size = Pt(8)
    add_field(p, "NUMPAGES")
    settings = doc.settings.element
    update = settings.find(qn("w:updateFields"))
    if update is None:
        update = OxmlElement("w:updateFields")
        # CT_Settings is a sequence: updateFields comes before these (Word rejects misplaced elements).
        settings.insert_element_before(update, "w:hdrShapeDefaults", "w:footnotePr", "w:endnotePr", "w:compat",
                                       "w:docVars", "w:rsids", "m:mathPr", "w:attachedSchema", "w:themeFontLang",
                                       "w:clrSchemeMapping", "w:doNotIncludeSubdocsInStats",
                                       "w:doNotAutoCompressPictures", "w:forceUpgrade", "w:captions",
                                       "w:readModeInkLockDown", "w:smartTagType", "sl:schemaLibrary",
                                       "w:shapeDefaults", "w:doNotEmbedSmartTags", "w:decimalSymbol",
                                       "w:listSeparator")
    update.set(qn("w:val"), "true")


HEADER_TEXT = "{{ school.name }} \u00b7 {{ district.name }}"


# --- the forms ----------------------------------------------------------------------------------

def schedule_docx(path):
    # The shipped template has since been edited (issue 17): the schedule is a table per stage
    # ({%p for stage in stages %}) whose column titles and a band naming the stage are repeating header
    # rows, every row cantSplit, header rows keepNext; the meeting table sits in {%p if meetings %} with a
    # "Who attends" table (meeting_kinds) and "None recorded." otherwise. This seed is the older layout.
    doc = Document()
    base_styles(doc)
    section = page(doc, 8.5, 11, 0.75)
    doc.add_paragraph("{{ title }}", style="Title")
    doc.add_paragraph("Resource 6 \u00b7 {{ school.name }} \u00b7 {{ district.name }} \u00b7 "
                      "Planning year {{ planning_year }} \u00b7 {{ schedule_period }}", style="Subtitle")
    t = doc.add_table(rows=2, cols=3)
    t.style = "Table Grid"
    for i, (title, value) in enumerate((("Start Date", "{{ start_date }}"),
                                        ("Projected Completion Date", "{{ projected_completion }}"),
                                        ("Actual Completion Date", "{{ actual_completion }}"))):
        write(t.rows[0].cells[i], title, bold=True)
        shade(t.rows[0].cells[i], BAND_FILL)
        write(t.rows[1].cells[i], value)

    doc.add_heading("Leadership Team Meeting Schedule", level=2)
    grid_table(doc, ("Meeting", "Date", "Time", "Place"), (2.6, 1.6, 1.0, 1.8), [
        "{%tr for m in meetings %}",
        ["{{ m.meeting }}", "{{ m.date }}", "{{ m.time }}", "{{ m.location }}"],
        "{%tr endfor %}",
    ])
    doc.add_paragraph("{%p if not meetings %}")
    doc.add_paragraph("No meetings are scheduled yet.")
    doc.add_paragraph("{%p endif %}")

    doc.add_heading("Preparation for Leadership Team Meetings", level=2)
    doc.add_paragraph("Chair/Co-chairs: {{ preparers.chairs }}")
    doc.add_paragraph("Facilitator: {{ preparers.facilitators }}")

    doc.add_heading("Schedule", level=2)
    table = grid_table(doc, ("Process Timeframe", "Tasks", "Responsibility", "Expected Date of Completion",
                             "Date of Completion"), (0.9, 1.9, 1.4, 1.4, 1.4), [
        "{%tr for row in rows %}",
        ["{{ row.stage_label }}",
         "{% if row.detail %}\u2013 {{ row.detail }}{% else %}{{ row.task_label }}{% endif %}",
         "{{ row.responsibility }}", "{{ row.expected }}", ""],
        "{%tr endfor %}",
    ])
    cell = table.rows[2].cells[4]
    p = cell.paragraphs[0]
    p.add_run("{% cellbg row.shade %}{% if row.overdue %}")
    overdue = p.add_run("OVERDUE")
    overdue.bold = True
    overdue.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    p.add_run("{% else %}{{ row.completed }}{% endif %}")
    for row in table.rows[1:]:
        no_split(row)
    doc.add_paragraph("Tasks marked OVERDUE passed their expected date with no date of completion "
                      "as of {{ as_of }}.").runs[0].italic = True
    footer(section, "{{ school.name }} \u00b7 {{ title }} \u00b7 {{ planning_year }}")
    running_heads(doc, section, HEADER_TEXT)
    doc.save(path)


def isbe_grid_docx(path):
    doc = Document()
    base_styles(doc, size=8)
    section = page(doc, 14, 8.5, 0.5, landscape=True)
    doc.add_paragraph("{{ title }}", style="Title")
    doc.add_paragraph("{{ school.name }} \u00b7 {{ school.designation }} School \u00b7 {{ district.name }} "
                      "\u00b7 Planning year {{ planning_year }}", style="Subtitle")
    people = doc.add_table(rows=1, cols=2)
    people.style = "Table Grid"
    header_row(people, ("Role", "For this school"))
    loop_row(people, "{%tr for c in columns %}")
    data_row(people, ("{{ c.title }}", "{{ c.people }}"))
    loop_row(people, "{%tr endfor %}")
    set_widths(people, (3.5, 9.0))
    doc.add_paragraph()

    titles = ("Key Activities", "School Improvement Coordinators", "ISBE", "Board of Education",
              "District Staff", "{{ column_titles.principal }}", "School Leadership Team",
              "School Level Needs Assessment Vendor")
    keys = ("key_activity", "coordinators", "isbe", "board", "district_staff", "principal", "leadership_team",
            "vendor")
    widths = (2.2, 1.45, 1.45, 1.3, 1.6, 1.6, 1.6, 1.8)
    table = doc.add_table(rows=1, cols=8)
    table.style = "Table Grid"
    header_row(table, titles)
    band = table.add_row()
    merged = band.cells[0].merge(band.cells[7])
    write(merged, "PLANNING STAGE", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    shade(merged, "BFBFBF")
    loop_row(table, "{%tr for month in months %}")
    month_row = table.add_row()
    merged = month_row.cells[0].merge(month_row.cells[7])
    write(merged, "{{ month.label }}", bold=True)
    shade(merged, BAND_FILL)
    loop_row(table, "{%tr for a in month.activities %}")
    row = table.add_row()
    no_split(row)
    for cell, key in zip(row.cells, keys):
        # One line is plain text, several are a bullet list (as in the seed); an empty list still
        # leaves one empty paragraph, because a Word table cell must hold at least one.
        write(cell, "{%p for line in a." + key + " %}")
        add_para(cell, "{%p if loop.length > 1 %}")
        add_para(cell, "{{ line }}", style="List Bullet")
        add_para(cell, "{%p else %}")
        add_para(cell, "{{ line }}")
        add_para(cell, "{%p endif %}")
        add_para(cell, "{%p endfor %}")
        add_para(cell, "{%p if not a." + key + " %}")
        add_para(cell, "")
        add_para(cell, "{%p endif %}")
    loop_row(table, "{%tr endfor %}")
    loop_row(table, "{%tr endfor %}")
    set_widths(table, widths)
    closing = doc.add_paragraph()
    closing.add_run("END OF PLANNING YEAR ACTIVITIES. MOVE TO YEAR IN THE LIFE IMPLEMENTATION YEAR "
                    "FOR ISI SCHOOLS").bold = True
    footer(section, "Please note that document will print best on legal-sized (8.5\"x14\") paper. "
                    "isbe.net/SchoolImprovement \u2022 schoolimprovement@isbe.net")
    running_heads(doc, section, HEADER_TEXT)
    doc.save(path)


PLAN_WIDTH = 7.0          # inches of text width on the plan's letter page with 0.75 in margins
NONE_RECORDED = "None recorded."
# The timeline's cells, by their flags: an activity's months, and the as-of month's column.
SPAN_FILL, TODAY_FILL = "8EAADB", "FBE4D5"
TODAY_HEADER_FILL = "C55A11"


def keep_with_next(paragraph):
    """Keep a heading or title on the page of what follows it."""
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def plain_header_rows(doc):
    """Write each repeated header row's w:tblHeader bare: the Open XML SDK refuses w:val="true"."""
    for el in doc.element.body.iter(qn("w:tblHeader")):
        el.attrib.pop(qn("w:val"), None)


def narrow_cell_margins(table, inches):
    """Give a table's cells small left and right margins (the timeline's month columns are narrow)."""
    tbl_pr = table._tbl.tblPr
    mar = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(int(inches * 1440)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    # CT_TblPr is a sequence: tblCellMar after tblLayout, and tblLook last (the SDK rejects it otherwise).
    layout = tbl_pr.find(qn("w:tblLayout"))
    if layout is not None:
        layout.addnext(mar)
    else:
        tbl_pr.append(mar)
    look = tbl_pr.find(qn("w:tblLook"))
    if look is not None:
        tbl_pr.append(look)


def rows_by_length(table, item, cells):
    """A loop body row in two forms: a short one (`item`.short) may not split across pages, a long one may."""
    loop_row(table, "{%tr if " + item + ".short %}")
    no_split(data_row(table, cells))
    loop_row(table, "{%tr else %}")
    data_row(table, cells)
    loop_row(table, "{%tr endif %}")


def section_table(doc, items, titles, widths, item, cells, keep_rows=False, tall_rows=None):
    """A table of `items` ("None recorded." when there are none): a repeated header, a row per item;
    rows that may not split (keep_rows), may split when long (else), or are tall enough to sign in."""
    doc.add_paragraph("{%p if " + items + " %}")
    table = grid_table(doc, titles, widths, [])
    loop_row(table, "{%tr for " + item + " in " + items + " %}")
    if keep_rows:
        row = data_row(table, cells)
        no_split(row)
        if tall_rows:
            tall(row, tall_rows)
    else:
        rows_by_length(table, item, cells)
    loop_row(table, "{%tr endfor %}")
    set_widths(table, widths)
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph(NONE_RECORDED)
    doc.add_paragraph("{%p endif %}")
    return table


def timeline_table(doc):
    """The plan's timeline as a Word table: a row per activity under its strategy's title row, a column per
    month of the planning year, the months an activity runs shaded, a milestone marked, today's month tinted."""
    doc.add_paragraph("{%p if timeline.strategies %}")
    widths = (2.2,) + (0.4,) * 12
    table = doc.add_table(rows=1, cols=13)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = table.rows[0]
    repeat_header(header)
    no_split(header)
    write(header.cells[0], "Strategy and activity", bold=True, color="FFFFFF")
    shade(header.cells[0], HEADER_FILL)
    for k in range(12):
        month = f"timeline.months[{k}]"
        write(header.cells[k + 1], "{% cellbg " + month + ".today and '" + TODAY_HEADER_FILL + "' or '" + HEADER_FILL
              + "' %}{{ " + month + ".label }}", bold=True, color="FFFFFF", size=8, align=WD_ALIGN_PARAGRAPH.CENTER)
        shade(header.cells[k + 1], HEADER_FILL)
    loop_row(table, "{%tr for st in timeline.strategies %}")
    title = table.add_row()
    no_split(title)
    merged = title.cells[0].merge(title.cells[12])
    keep_with_next(write(merged, "{{ st.title }}", bold=True))
    shade(merged, BAND_FILL)
    loop_row(table, "{%tr for a in st.activities %}")
    row = table.add_row()
    no_split(row)
    write(row.cells[0], "{{ a.name }}", size=9)
    add_para(row.cells[0], "{{ a.dates }}").runs[0].font.size = Pt(7.5)
    for k in range(12):
        c = f"a.cells[{k}]"
        write(row.cells[k + 1], "{% cellbg (" + c + ".span or " + c + ".milestone) and '" + SPAN_FILL + "' or (" + c
              + ".today and '" + TODAY_FILL + "' or 'auto') %}{{ " + c + ".milestone and '\u25c6' or '' }}",
              size=9, align=WD_ALIGN_PARAGRAPH.CENTER)
    loop_row(table, "{%tr endfor %}")
    loop_row(table, "{%tr endfor %}")
    set_widths(table, widths)
    narrow_cell_margins(table, 0.03)
    legend = doc.add_paragraph("Each row is an activity, under its strategy, with its dates under its name. Shaded "
                               "months: the activity is under way. \u25c6: a milestone (an activity that starts "
                               "and ends the same day).{% if timeline.today %} Tinted column: the current month, "
                               "{{ timeline.today }}.{% endif %} Months run July to June of the "
                               "{{ timeline.school_year }} school year.")
    legend.runs[0].font.size = Pt(8)
    legend.paragraph_format.space_before = Pt(3)
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph(NONE_RECORDED)
    doc.add_paragraph("{%p endif %}")
    return table


def plan_docx(path):
    doc = Document()
    base_styles(doc, size=10)
    section = page(doc, 8.5, 11, 0.75)
    doc.add_paragraph("{{ title }}", style="Title")
    doc.add_paragraph("{{ school.name }} \u00b7 {{ district.name }}", style="Subtitle")

    def heading(text, level):
        return keep_with_next(doc.add_heading(text, level=level))

    heading("At a Glance", 1)
    kv_table(doc, (
        ("School", "{{ school.name }} ({{ school.id }})"),
        ("District (LEA)", "{{ district.name }}"),
        ("Designation", "{{ school.designation }}"),
        ("Plan level", "{{ plan_level }}"),
        ("ESSA status", "{{ school.essa_status }}"),
        ("Grades", "{{ school.grades }}"),
        ("Principal and contact", "{{ school.principal_contact }}"),
        ("Superintendent", "{{ district.superintendent }}"),
        ("District liaison", "{{ district.liaison }}"),
        ("Date of plan", "{{ plan_date }}"),
        ("Date of last update", "{{ last_updated }}"),
        ("Submitted to", "{{ submitted_to }}"),
    ))
    heading("Leadership Team", 2)
    section_table(doc, "leadership_team", ("Name", "Position", "Role in the Plan"), (2.3, 2.4, 2.3), "p",
                  ["{{ p.name }}", "{{ p.title }}", "{{ p.role }}"], keep_rows=True)

    heading("Problem(s) of Practice", 1)
    doc.add_paragraph("{%p if problems %}")
    doc.add_paragraph("{%p for p in problems %}")
    para = doc.add_paragraph()
    para.add_run("{{ p.id }}. ").bold = True
    para.add_run("{{ p.text }}")
    doc.add_paragraph("Root cause: {{ p.root_cause }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph(NONE_RECORDED)
    doc.add_paragraph("{%p endif %}")

    # Widths from content: the long texts (goal, baseline, benchmark, activity) get the room; IDs, terms
    # and dates get columns that hold a short date on one line and each header word whole.
    heading("SMART Goals", 1)
    section_table(doc, "goals", ("Goal", "SMART Goal", "Measure", "Baseline", "Target", "Target Date"),
                  (0.5, 1.8, 0.9, 1.6, 0.9, 1.3), "g",
                  ["{{ g.id }}", "{{ g.statement }} ({{ g.type }}; {{ g.student_group }})", "{{ g.measure }}",
                   "{{ g.baseline }}", "{{ g.target }}{% if g.target_year2 %}; year 2: {{ g.target_year2 }}{% endif %}"
                                       "{% if g.target_year3 %}; year 3: {{ g.target_year3 }}{% endif %}",
                   "{{ g.target_date }}"])

    heading("Benchmarks", 1)
    section_table(doc, "benchmarks", ("Goal", "Term", "Benchmark", "Initial Data Point", "Expected Value",
                                      "Actual", "Date"), (0.5, 0.8, 1.7, 0.9, 0.9, 0.9, 1.3), "b",
                  ["{{ b.goal_id }}", "{{ b.term }}", "{{ b.benchmark }}", "{{ b.initial }}", "{{ b.expected }}",
                   "{{ b.actual }}", "{{ b.date }}"])

    heading("High-Leverage Strategies", 1)
    doc.add_paragraph("{%p if strategies %}")
    doc.add_paragraph("{%p for st in strategies %}")
    heading("{{ st.heading }}", 2)
    doc.add_paragraph("{%p if st.text_in_full %}")
    keep_with_next(doc.add_paragraph("{{ st.text }}"))
    doc.add_paragraph("{%p endif %}")
    keep_with_next(doc.add_paragraph("Evidence base: {{ st.evidence }}"))
    keep_with_next(doc.add_paragraph("Addresses problem of practice {{ st.problem_id }}: {{ st.problem }}"))
    section_table(doc, "st.activities", ("Activity", "Start", "End", "Milestone", "Funding Source",
                                         "Person Responsible"), (1.5, 1.3, 1.3, 1.0, 1.0, 0.9), "a",
                  ["{{ a.activity }}", "{{ a.start }}", "{{ a.end }}", "{{ a.milestone }}", "{{ a.funding }}",
                   "{{ a.owner }}"])
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph(NONE_RECORDED)
    doc.add_paragraph("{%p endif %}")

    heading("Timeline", 2)
    timeline_table(doc)

    for title, key in (("Oversight Responsibilities", "oversight"),
                       ("Professional Learning Needs", "professional_learning"),
                       ("Local Assessments", "local_assessments")):
        heading(title, 1)
        section_table(doc, "supports." + key, ("Description", "Who", "When"), (3.6, 1.7, 1.7), "x",
                      ["{{ x.description }}", "{{ x.who }}", "{{ x.when }}"])

    heading("Monitoring Plan", 1)
    section_table(doc, "monitoring", ("Goal", "Evidence", "Frequency", "Responsible"), (0.6, 3.2, 1.6, 1.6), "m",
                  ["{{ m.goal_id }}", "{{ m.evidence }}", "{{ m.frequency }}", "{{ m.responsible }}"])

    heading("Communication Plan", 1)
    section_table(doc, "supports.communication", ("Description", "Who", "When"), (3.6, 1.7, 1.7), "x",
                  ["{{ x.description }}", "{{ x.who }}", "{{ x.when }}"])

    heading("Signatures", 1)
    keep_with_next(doc.add_paragraph("Local board approval date: {{ board_approval }}"))
    # Rows tall enough to sign in, as the review form's.
    section_table(doc, "signatories", ("Name", "Position", "Role in the Plan", "Signature", "Date"),
                  (1.6, 1.6, 1.4, 1.6, 0.8), "p", ["{{ p.name }}", "{{ p.title }}", "{{ p.role }}", "", ""],
                  keep_rows=True, tall_rows=0.4)
    footer(section, "{{ school.name }} \u00b7 {{ title }} \u00b7 {{ planning_year }}")
    running_heads(doc, section, HEADER_TEXT)
    plain_header_rows(doc)
    doc.save(path)


def cover_docx(path):
    """The first pages of a school's combined PDF: a cover, then the contents with page numbers."""
    doc = Document()
    base_styles(doc, size=11)
    page(doc, 8.5, 11, 1.0)
    district = doc.add_paragraph()
    district.add_run("{{ district.name }}").bold = True
    for _ in range(4):
        doc.add_paragraph()
    doc.add_paragraph("School Improvement Plan Packet", style="Title")
    doc.add_paragraph("{{ school.name }}", style="Subtitle")
    doc.add_paragraph()
    table = kv_table(doc, (
        ("School ID", "{{ school.id }}"),
        ("District", "{{ district.name }}"),
        ("Designation", "{{ school.designation }}"),
        ("Planning year", "{{ planning_year }}"),
        ("Principal", "{{ school.principal }}"),
        ("Built", "{{ built_on }}"),
    ), widths=(2.0, 4.5))
    row = table.add_row()
    write(row.cells[0], "Readiness", bold=True)
    shade(row.cells[0], BAND_FILL)
    write(row.cells[1], "{% cellbg status_fill %}{{ status }}", bold=True)
    add_para(row.cells[1], "{{ status_detail }}")
    set_widths(table, (2.0, 4.5))
    doc.add_page_break()

    doc.add_heading("Contents", level=1)
    grid_table(doc, ("Document", "Pages", "Page"), (4.9, 0.8, 0.8), [
        "{%tr for item in contents %}", ["{{ item.title }}", "{{ item.pages }}", "{{ item.page }}"],
        "{%tr endfor %}"])
    note = doc.add_paragraph("Page numbers are pages of this PDF. Each form also numbers its own pages in its "
                             "footer. The Word and Excel files in the packet folder are the editable originals.")
    note.runs[0].italic = True
    doc.save(path)


def tall(row, inches):
    """Give a table row room to write in by hand."""
    row.height = Inches(inches)
    row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST


def comment_box(doc, labels=("Strengths", "Revisions requested"), values=()):
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for i, label in enumerate(labels):
        row = table.add_row()
        write(row.cells[0], label, bold=True)
        if i < len(values):
            row.cells[1].paragraphs[0].add_run(values[i])
        shade(row.cells[0], BAND_FILL)
        tall(row, 0.9)
        no_split(row)
    set_widths(table, (1.6, 5.4))
    return table


def review_docx(path):
    """The district's plan review form (seed 003): the school's review cycle, the quality rubric (levels from
    review_rubric.csv, with the readiness rules' findings), reviewer comments and the approval block."""
    doc = Document()
    base_styles(doc)
    section = page(doc, 8.5, 11, 0.75)
    doc.add_paragraph("{{ title }}", style="Title")
    doc.add_paragraph("{{ school.name }} \u00b7 {{ district.name }} \u00b7 Planning year {{ planning_year }}",
                      style="Subtitle")
    kv_table(doc, (
        ("School", "{{ school.name }} ({{ school.id }})"),
        ("Designation and plan level", "{{ plan_level }}{% if school.essa_status %} \u00b7 "
                                       "{{ school.essa_status }}{% endif %}"),
        ("Principal", "{{ school.principal }}"),
        ("District liaison", "{{ district.liaison }}"),
        ("First draft due", "{{ first_draft_due }}"),
        ("Final review", "{{ final_review_due }}"),
        ("Board approval", "{% if board_approval %}approved {{ board_approval }}{% else %}scheduled "
                           "{{ board_approval_scheduled }}{% endif %}"),
    ))

    doc.add_heading("Review Cycle", level=1)
    doc.add_paragraph("{%p if cycle %}")
    grid_table(doc, ("Step", "Due", "Reviewer", "Date completed"), (2.6, 1.3, 1.9, 1.2), [
        "{%tr for e in cycle %}", ["{{ e.title }}", "{{ e.due }}", "{{ e.reviewer }}", ""], "{%tr endfor %}"])
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("None recorded.")
    doc.add_paragraph("{%p endif %}")
    doc.add_heading("Check-ins on the Plan", level=2)
    doc.add_paragraph("{%p if check_ins %}")
    grid_table(doc, ("Check-in", "Date", "With", "Notes"), (1.6, 1.5, 2.1, 1.8), [
        "{%tr for e in check_ins %}", ["{{ e.title }}", "{{ e.due }}", "{{ e.reviewer }}", ""], "{%tr endfor %}"])
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph("None recorded.")
    doc.add_paragraph("{%p endif %}")

    doc.add_heading("Quality Rubric", level=1)
    doc.add_paragraph("For each criterion, tick the level that describes the plan and note the evidence. "
                      "Automatic checks are the readiness rules' findings for this plan as of "
                      "{{ as_of }}.").paragraph_format.keep_with_next = True
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    header_row(table, ("Criterion", "Level (tick one)", "Evidence and comments"))
    loop_row(table, "{%tr for c in rubric %}")
    row = table.add_row()          # long (findings, every level): it may split across pages
    criterion, levels, _ = row.cells
    write(criterion, "{{ c.criterion }}", bold=True)
    add_para(criterion, "{{ c.question }}").runs[0].italic = True
    add_para(criterion, "{%p if c.rules %}")
    check = add_para(criterion, "Automatic check: {{ c.check }}")
    check.runs[0].font.size = Pt(8)
    add_para(criterion, "{%p for f in c.findings %}")
    add_para(criterion, "{{ f }}", style="List Bullet").runs[0].font.size = Pt(8)
    add_para(criterion, "{%p endfor %}")
    add_para(criterion, "{%p endif %}")
    write(levels, "{%p for l in c.levels %}")
    level = add_para(levels, "\u2610 ")
    level.add_run("{{ l.level }}").bold = True
    level.add_run("{% if l.descriptor %}: {{ l.descriptor }}{% endif %}")
    add_para(levels, "{%p endfor %}")
    loop_row(table, "{%tr endfor %}")
    set_widths(table, (2.1, 2.9, 2.0))

    doc.add_heading("Reviewer Comments", level=1)
    doc.add_paragraph("{%p for r in rounds %}")
    doc.add_heading("{{ r.title }}", level=2)
    reviewer = doc.add_paragraph("Reviewer: {{ r.reviewer }} \u00b7 due {{ r.due }}")
    reviewer.paragraph_format.keep_with_next = True
    # packets collect finds each round by its Round ID (what the round is, and a hash of each value shown).
    reviewer.add_run(" \u00b7 Round ID {{ r.round_id }}").font.size = Pt(8)
    comment_box(doc, values=("{{ r.strengths }}", "{{ r.revisions }}"))
    doc.add_paragraph("Decision: {{ r.decision_line }}")
    doc.add_paragraph("Returned to the school on: ____________________")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p if not rounds %}")
    comment_box(doc)
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph().add_run(
        "Packet ID {{ collect.school_id }} \u00b7 {{ collect.form }} \u00b7 {{ collect.version }}: packets collect "
        "reads this line and each Round ID; leave them as they are.").font.size = Pt(8)

    # The approval block on a page of its own, so its signatures stay together.
    doc.add_heading("Approval", level=1).paragraph_format.page_break_before = True
    doc.add_paragraph("Recommendation:   \u2610 Approve   \u2610 Approve with revisions   \u2610 Revise and resubmit")
    doc.add_paragraph("Local board approval: scheduled {{ board_approval_scheduled }}"
                      "{% if board_approval %}; approved {{ board_approval }}{% endif %}")
    signatures = grid_table(doc, ("Role", "Name", "Signature", "Date"), (2.2, 2.1, 1.8, 0.9), [
        "{%tr for s in signatures %}", ["{{ s.role }}", "{{ s.name }}", "", ""], "{%tr endfor %}"])
    tall(signatures.rows[2], 0.4)              # room to sign, and never split
    no_split(signatures.rows[2])
    footer(section, "{{ school.name }} \u00b7 {{ title }} \u00b7 {{ planning_year }}")
    running_heads(doc, section, HEADER_TEXT)
    doc.save(path)


def tracker_sheet(sheet_title, heading, subtitle, columns, freeze="A5", date_format="mm/dd/yyyy"):
    """Return a workbook whose one sheet is a tracker: heading rows, a header row (row 4) over a
    repeating row (row 5) of {{ row.<field> }} cells, frozen, filtered, printed landscape fit to width.
    `columns` holds (header, field, width); a field ending in 'date' or '_at' gets a date format."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title
    ws["A1"] = heading
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = subtitle
    thin = Side(style="thin", color="999999")
    for col, (header, field, width) in enumerate(columns, start=1):
        cell = ws.cell(row=4, column=col, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[cell.column_letter].width = width
        text = "{{ row." + field + " }}" if field else None
        cell = ws.cell(row=5, column=col, value=("{% for row in rows %}" + text) if col == 1 else text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.border = Border(bottom=thin)
        if field.endswith("date") or field.endswith("_at"):
            cell.number_format = "yyyy-mm-dd hh:mm" if field.endswith("_at") else date_format
    last = ws.cell(row=4, column=len(columns)).column_letter
    ws.row_dimensions[4].height = 32
    ws.freeze_panes = freeze
    ws.auto_filter.ref = f"A4:{last}5"
    ws.print_title_rows = "4:4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return wb, ws


def row_id_column(ws, column):
    """Add the tracker's Row ID column (what each row is, for `packets collect`) after its last column,
    inside the filter, so a row keeps its ID however the sheet is sorted or filtered."""
    header = ws.cell(row=4, column=column - 1)
    cell = ws.cell(row=4, column=column, value="Row ID")
    cell.font, cell.fill, cell.alignment = copy(header.font), copy(header.fill), copy(header.alignment)
    cell = ws.cell(row=5, column=column, value="{{ row.row_id }}")
    cell.font = Font(color="808080")          # grey: the sheet's own, not to be typed in
    cell.alignment = Alignment(vertical="top")
    cell.number_format = "@"
    ws.column_dimensions[cell.column_letter].width = 13
    ws.auto_filter.ref = f"A4:{cell.column_letter}5"


def collect_sheet(wb, fields):
    """Add the hidden Packet sheet `packets collect` reads: the tracker's school, form and version, and
    for each row its Row ID and the values it was built with (`fields`: (header, field, is_date))."""
    ws = wb.create_sheet("Packet")
    ws.sheet_state = "hidden"
    ws["A1"] = ("packets collect reads this sheet to match the tracker to its school and tasks, and to tell "
                "a value the school changed. Do not edit or delete it.")
    for number, (label, field) in enumerate((("School ID", "school_id"), ("School", "school"),
                                             ("Form", "form"), ("Version", "version")), start=2):
        ws.cell(row=number, column=1, value=label).font = Font(bold=True)
        ws.cell(row=number, column=2, value="{{ collect." + field + " }}").number_format = "@"
    for col, (header, field, is_date) in enumerate((("Row ID", "row_id", False), *fields), start=1):
        ws.cell(row=7, column=col, value=header).font = Font(bold=True)
        cell = ws.cell(row=8, column=col, value=("{% for row in rows %}" if col == 1 else "")
                       + "{{ row." + field + " }}")
        cell.number_format = "yyyy-mm-dd" if is_date else "@"
        ws.column_dimensions[cell.column_letter].width = 20


def fill(colour):
    return PatternFill("solid", fgColor=colour, bgColor=colour)


def schedule_xlsx(path):
    wb, ws = tracker_sheet(
        "Schedule", "{{ title }} \u2014 {{ school.name }}",
        "{{ district.name }} \u00b7 School year {{ planning_year }} \u00b7 status as of {{ as_of }}", (
            ("Process Timeframe", "stage", 30), ("Tasks", "task", 40), ("Detail", "detail", 30),
            ("Responsibility", "responsibility", 26), ("Expected Date of Completion", "expected_date", 14),
            ("Date of Completion", "completed_date", 14), ("Status", "status", 12), ("Notes", "notes", 30)))
    ws.conditional_formatting.add("A5:H5", FormulaRule(formula=['AND($E5<>"",$E5<TODAY(),$F5="")'],
                                                       fill=fill("F4CCCC")))
    status = DataValidation(type="list", formula1='"Not scheduled,Upcoming,Overdue,Done"', allow_blank=True)
    ws.add_data_validation(status)
    status.add("G5")
    row_id_column(ws, 9)
    collect_sheet(wb, (("Date of Completion", "completed_date", True), ("Status", "status", False),
                       ("Notes", "notes", False)))
    wb.save(path)


def isbe_grid_xlsx(path):
    wb, ws = tracker_sheet(
        "Activities", "{{ title }} \u2014 {{ school.name }} ({{ school.designation }})",
        "{{ district.name }} \u00b7 Planning year {{ planning_year }}", (
            ("Month", "month", 14), ("Key Activity", "key_activity", 48), ("Role", "role", 26),
            ("Person Responsible", "person", 26), ("Tasks", "tasks", 60), ("Due Date", "due_date", 12),
            ("Status", "status", 13), ("Date Completed", "date_completed", 14), ("Notes", "notes", 30)),
        freeze="C5")
    status = DataValidation(type="list", formula1='"Not started,In progress,Done"', allow_blank=True,
                            showErrorMessage=True, errorTitle="Status",
                            error="Choose Not started, In progress or Done.")
    ws.add_data_validation(status)
    status.add("G5")
    completed = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True,
                               showErrorMessage=True, error="Enter a date, e.g. 1/31/2027.")
    ws.add_data_validation(completed)
    completed.add("H5")
    ws.conditional_formatting.add("A5:I5", FormulaRule(formula=['$G5="Done"'], fill=fill("D9EAD3")))
    ws.conditional_formatting.add("A5:I5", FormulaRule(formula=['AND($F5<>"",$F5<TODAY(),$G5<>"Done")'],
                                                       fill=fill("F4CCCC")))
    ws.page_setup.paperSize = ws.PAPERSIZE_LEGAL
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "Please note that document will print best on legal-sized (8.5\"x14\") paper."
    row_id_column(ws, 10)
    collect_sheet(wb, GRID_COLLECTED)
    wb.save(path)


# What the ISBE grid tracker's Packet sheet records of each row: what the row is (to write its Grid Progress
# row) and the values a school may change, as built.
GRID_COLLECTED = (("Month", "month", False), ("Key Activity", "key_activity", False), ("Role", "role", False),
                  ("Status", "status", False), ("Date Completed", "date_completed", True), ("Notes", "notes", False))


def readiness_xlsx(path):
    wb, ws = tracker_sheet(
        "Readiness", "Plan packet readiness \u2014 {{ district.name }}",
        "Planning year {{ planning_year }} \u00b7 built {{ built_at }}", (
            ("School ID", "school_id", 10), ("School", "school", 34), ("Designation", "designation", 15),
            ("Ready", "ready", 11), ("Errors", "errors", 8), ("Warnings", "warnings", 9),
            ("What is missing", "missing", 90), ("Packet folder", "folder", 34), ("Documents", "documents", 44),
            ("Built", "built_at", 18), ("Packet PDF", "pdf", 40)),
        freeze="C5")
    for link in ("H5", "K5"):            # the build makes these cells links to the folder and the PDF
        ws[link].font = Font(color="0563C1", underline="single")
    ws.conditional_formatting.add("D5:D5", FormulaRule(formula=['$D5<>"Ready"'], fill=fill("F4CCCC")))
    ws.conditional_formatting.add("D5:D5", FormulaRule(formula=['$D5="Ready"'], fill=fill("D9EAD3")))
    wb.save(path)


DISTRICT_TERMS = (
    ("Status", "overdue: a task is past its expected date with no completion date. approaching: an open "
               "task or a review deadline is due within 14 days of the as-of date. on target: neither."),
    ("Tasks", "Every task of the school's timeline (a repeating row counts once per date). Each is counted "
              "once: Done + Due + Overdue + Not scheduled = Tasks."),
    ("Done", "Tasks with a completion date."),
    ("Due", "Open tasks expected on or after the as-of date: still to do, not late."),
    ("Overdue", "Open tasks expected before the as-of date."),
    ("Not scheduled", "Open tasks with no expected date."),
    ("Next deadline", "The earliest open task or review deadline on or after the as-of date."),
    ("Review stage", "The latest review step (first draft, feedback, final review, board approval) whose date "
                     "has come; Not started before the first."),
    ("Next review", "The next review date, check-ins included."),
    ("Review decision", "The latest review round's decision, as the reviewers' returned Plan Review form gave it "
                        "(packets collect): Approve, Approve with revisions, or Revise and resubmit."),
    ("ISBE grid done", "The ISBE grid's activity rows the school's returned grid tracker marks Done (packets "
                       "collect); ISBE grid in progress, those it marks In progress."),
)


def district_xlsx(path):
    wb, ws = tracker_sheet(
        "Schools", "District progress \u2014 {{ district.name }}",
        "Planning year {{ planning_year }} \u00b7 status as of {{ as_of }} \u00b7 built {{ built_at }}", (
            ("School ID", "school_id", 10), ("School", "school", 32), ("Designation", "designation", 14),
            ("Readiness", "readiness", 11), ("Status", "status", 12), ("Tasks", "tasks", 7),
            ("Done", "done", 7), ("Due", "due", 7), ("Overdue", "overdue", 8),
            ("Not scheduled", "not_scheduled", 10), ("Next deadline", "next_deadline_date", 12),
            ("What is due next", "next_deadline", 40), ("Review stage", "review_stage", 18),
            ("Next review", "next_review_date", 12), ("Review step", "next_review", 24),
            ("Review decision", "review_decision", 30), ("ISBE grid done", "grid_done", 9),
            ("ISBE grid in progress", "grid_in_progress", 11),
            ("Overdue tasks", "overdue_tasks", 50), ("Packet folder", "folder", 34)),
        freeze="C5")
    status_summary(ws, "E")
    ws.conditional_formatting.add("I5:I5", FormulaRule(formula=["$I5>0"], fill=fill("F4CCCC")))
    terms_sheet(wb, "About", "What the columns mean", DISTRICT_TERMS, 16)
    wb.save(path)


def status_summary(ws, column: str) -> None:
    """The district roll-up's summary line above its table, and its Status column (`column`) coloured by
    status: overdue red, approaching yellow, on target green (district.xlsx, the District Level Reflection)."""
    ws["A3"] = "{{ summary }}"
    ws["A3"].font = Font(bold=True)
    for status, colour in (("overdue", "F4CCCC"), ("approaching", "FFF2CC"), ("on target", "D9EAD3")):
        ws.conditional_formatting.add(f"{column}5:{column}5",
                                      FormulaRule(formula=[f'${column}5="{status}"'], fill=fill(colour)))


def terms_sheet(wb, title: str, heading: str, terms, term_width: int) -> None:
    """Add a sheet explaining terms (a column, a protocol's question): the term in bold, its meaning wrapped
    beside it, rows as tall as their text, printed landscape one page wide."""
    about = wb.create_sheet(title)
    about["A1"] = heading
    about["A1"].font = Font(bold=True, size=14)
    about.column_dimensions["A"].width = term_width
    about.column_dimensions["B"].width = 100
    for row, (term, meaning) in enumerate(terms, start=3):
        about.cell(row=row, column=1, value=term).font = Font(bold=True)
        about.cell(row=row, column=2, value=meaning).alignment = Alignment(wrap_text=True, vertical="top")
        about.cell(row=row, column=1).alignment = Alignment(vertical="top")
        about.row_dimensions[row].height = 15 * -(-len(meaning) // 95)     # office suites do not grow rows
    about.page_setup.orientation = "landscape"
    about.page_setup.fitToWidth = 1
    about.page_setup.fitToHeight = 0
    about.sheet_properties.pageSetUpPr.fitToPage = True


def validation_xlsx(path):
    wb, ws = tracker_sheet(
        "Problems", "Problems found in the inputs", "{{ summary }} \u00b7 checked {{ checked_at }}", (
            ("Severity", "severity", 10), ("School", "school", 8), ("File", "file", 16), ("Sheet", "sheet", 14),
            ("Row", "row", 6), ("Column", "column", 8), ("Header", "header", 22), ("Value", "value", 26),
            ("Problem", "problem", 60), ("How to fix", "fix", 60), ("Rule", "rule", 24)))
    ws.conditional_formatting.add("A5:A5", FormulaRule(formula=['$A5="Error"'], fill=fill("F4CCCC")))
    ws.conditional_formatting.add("A5:A5", FormulaRule(formula=['$A5="Warning"'], fill=fill("FFF2CC")))
    wb.save(path)


# --- the check-ins (seed 003, Step 3) ---------------------------------------------------------------

AAR_QUESTIONS = ("What was expected?", "What happened?", "Why?", "What next?")


def header_rows_keep_with_next(doc):
    """Keep each repeated header row on the page of the row below it (issue 17: no stranded header row)."""
    for tr in doc.element.body.iter(qn("w:tr")):
        if tr.find(qn("w:trPr") + "/" + qn("w:tblHeader")) is not None:
            for p in tr.iter(qn("w:p")):
                p_pr = p.get_or_add_pPr()
                if p_pr.find(qn("w:keepNext")) is None:
                    p_pr.insert_element_before(OxmlElement("w:keepNext"), *KEEP_NEXT_SUCCESSORS)


# What follows w:keepNext in CT_PPr's sequence: it goes before the first of these a paragraph has.
KEEP_NEXT_SUCCESSORS = ("w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl", "w:numPr",
                        "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku",
                        "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
                        "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
                        "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
                        "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr",
                        "w:sectPr", "w:pPrChange")


def after_action_review_docx(path):
    """A school's check-in form: the After Action Review protocol for each goal, pre-filled from the plan,
    with the check-in schedule and each person's role, and the activities and tasks due since the last one."""
    doc = Document()
    base_styles(doc, size=10)
    section = page(doc, 8.5, 11, 0.75)

    def heading(text, level):
        return keep_with_next(doc.add_heading(text, level=level))

    doc.add_paragraph("{{ title }}", style="Title")
    doc.add_paragraph("{{ subtitle }}", style="Subtitle")
    doc.add_paragraph("This protocol can be used to facilitate check-in meetings on progress towards school level "
                      "goals. For each goal the team says what was expected, what happened, why, and what next.")
    kv_table(doc, (
        ("School", "{{ school.name }} ({{ school.id }})"),
        ("Designation", "{{ school.designation }}"),
        ("Check-in", "{{ check_in.heading }}"),
        ("Led by", "{{ check_in.reviewer }}"),
        ("Since the last check-in", "{{ check_in.window }}"),
        ("Principal", "{{ school.principal_contact }}"),
        ("Status as of", "{{ as_of }}"),
    ))

    heading("Check-in Schedule and Roles", 1)
    keep_with_next(doc.add_paragraph("The school's check-ins on its plan this cycle, and who is at each one with "
                                     "their role."))
    section_table(doc, "schedule", ("Check-in", "Date", "Led by", "Note"), (2.3, 1.5, 2.2, 1.0), "e",
                  ["{{ e.title }}", "{{ e.date }}", "{{ e.reviewer }}", "{{ e.mark }}"], keep_rows=True)
    heading("Who Attends", 2)
    section_table(doc, "attendees", ("Name", "Role", "Role at the check-in"), (1.8, 1.7, 3.5), "p",
                  ["{{ p.name }}", "{{ p.role }}", "{{ p.part }}"], keep_rows=True)

    heading("After Action Review of Each Goal", 1)
    doc.add_paragraph("{%p if goals %}")
    doc.add_paragraph("{%p for g in goals %}")
    heading("{{ g.heading }}", 2)
    doc.add_paragraph("{%p if g.text_in_full %}")
    keep_with_next(doc.add_paragraph("{{ g.statement }}"))
    doc.add_paragraph("{%p endif %}")
    keep_with_next(doc.add_paragraph("{{ g.targets }}"))
    latest = keep_with_next(doc.add_paragraph())
    latest.add_run("Latest data: ").bold = True
    latest.add_run("{{ g.latest }}")
    section_table(doc, "g.benchmarks", ("Term", "Benchmark", "Initial Data Point", "Expected Value", "Actual",
                                        "Date"), (0.8, 2.2, 0.9, 0.9, 0.9, 1.3), "b",
                  ["{{ b.term }}", "{{ b.benchmark }}", "{{ b.initial }}", "{{ b.expected }}", "{{ b.actual }}",
                   "{{ b.date }}"])
    spacer = doc.add_paragraph()
    spacer.paragraph_format.keep_with_next = True
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for question in AAR_QUESTIONS:
        row = table.add_row()
        write(row.cells[0], question, bold=True)
        shade(row.cells[0], BAND_FILL)
        tall(row, 0.9)
        no_split(row)
        key = {"What was expected?": "g.expected", "What happened?": "g.happened"}.get(question)
        if key:
            write(row.cells[1], "{%p for x in " + key + " %}")
            add_para(row.cells[1], "{{ x }}")
            add_para(row.cells[1], "{%p endfor %}")
            add_para(row.cells[1], "")         # the cell keeps a paragraph when the loop has nothing to show
        if question != AAR_QUESTIONS[-1]:      # the four questions stay on one page
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    keep_with_next(paragraph)
    set_widths(table, (1.6, 5.4))
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph(NONE_RECORDED)
    doc.add_paragraph("{%p endif %}")

    heading("Activities Due Since the Last Check-in", 1)
    keep_with_next(doc.add_paragraph("{{ activities_note }}"))
    doc.add_paragraph("{%p if strategies %}")
    doc.add_paragraph("{%p for st in strategies %}")
    heading("{{ st.heading }}", 2)
    doc.add_paragraph("{%p if st.text_in_full %}")
    keep_with_next(doc.add_paragraph("{{ st.text }}"))
    doc.add_paragraph("{%p endif %}")
    section_table(doc, "st.activities", ("Activity", "Due", "Person Responsible", "Milestone", "Status"),
                  (2.3, 1.3, 1.2, 1.4, 0.8), "a",
                  ["{{ a.activity }}", "{{ a.due }}", "{{ a.owner }}", "{{ a.milestone }}", "{{ a.status }}"])
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p else %}")
    doc.add_paragraph(NONE_RECORDED)
    doc.add_paragraph("{%p endif %}")

    heading("Timeline Tasks Due Since the Last Check-in", 1)
    section_table(doc, "tasks", ("Task", "Due", "Responsibility", "Status"), (2.9, 1.3, 1.8, 1.0), "t",
                  ["{{ t.task }}", "{{ t.due }}", "{{ t.responsibility }}", "{{ t.status }}"])

    # The meeting's close on a page of its own: its tall writing rows stay with their headers.
    heading("Next Steps", 1).paragraph_format.page_break_before = True
    steps = grid_table(doc, ("Next step", "Who", "By when"), (4.0, 1.7, 1.3), [["", "", ""] for _ in range(4)])
    for row in steps.rows[1:]:
        tall(row, 0.5)
        no_split(row)
    heading("Notes for District Support", 1)
    comment_box(doc, labels=("Support the school asked for", "What the district will do"))
    footer(section, "{{ footer }}")
    running_heads(doc, section, HEADER_TEXT)
    plain_header_rows(doc)
    header_rows_keep_with_next(doc)
    doc.save(path)


REFLECTION_PROTOCOL = (
    ("Purpose", "This protocol can be used by district leaders to reflect on the check-in meetings and progress "
                "of schools to determine next steps for district level support or intervention."),
    ("1. Progress", "Which schools are on target, approaching or overdue (Schools sheet, Status), and what did "
                    "their check-ins say happened, and why?"),
    ("2. Patterns", "What do the schools' After Action Reviews have in common: goals, strategies, activities "
                    "that ended without their result, data that is missing?"),
    ("3. Next steps", "For each school, what will the district do next (support or intervention), who owns it, "
                      "and by when? Write it in the columns Next steps for district support or intervention, "
                      "Owner and Notes."),
    ("Status", "overdue: a task of the school's timeline is past its expected date with no completion date. "
               "approaching: an open task or a review deadline is due within 14 days of the as-of date. "
               "on target: neither (the same as district.xlsx)."),
    ("Activities due", "The school's activities whose end date (or start date, with none) falls since its last "
                       "check-in; Ended: those whose end date has passed by the as-of date."),
    ("Goals: latest data", "Each goal's latest benchmark with an Actual value by the check-in date, else its "
                           "baseline."),
)


def schedule_sheet(wb):
    """The district's check-in schedule: every school's check-ins of the cycle, who leads each, this day's marked."""
    ws = wb.create_sheet("Check-in schedule")
    ws["A1"] = "Check-in schedule \u2014 {{ district.name }}"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = ("Every school's check-ins on its plan this cycle and who leads each (the After Action Review lists "
                "who attends and each one's role)")
    thin = Side(style="thin", color="999999")
    columns = (("School ID", "school_id", 10), ("School", "school", 32), ("Check-in", "check_in", 18),
               ("Date", "date", 12), ("Led by", "reviewer", 30), ("This day", "this_day", 10))
    for col, (header, field, width) in enumerate(columns, start=1):
        cell = ws.cell(row=4, column=col, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[cell.column_letter].width = width
        text = "{{ row." + field + " }}"
        cell = ws.cell(row=5, column=col, value=("{% for row in schedule %}" + text) if col == 1 else text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.border = Border(bottom=thin)
        if field == "date":
            cell.number_format = "mm/dd/yyyy"
    ws.conditional_formatting.add("A5:F5", FormulaRule(formula=['$F5<>""'], fill=fill("FFF2CC")))
    ws.freeze_panes = "A5"
    ws.auto_filter.ref = "A4:F5"
    ws.print_title_rows = "4:4"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return ws


def district_reflection_xlsx(path):
    wb, ws = tracker_sheet(
        "Schools", "{{ title }} \u2014 {{ district.name }}",
        "Check-ins of {{ date }} \u00b7 planning year {{ planning_year }} \u00b7 status as of {{ as_of }}", (
            ("School ID", "school_id", 10), ("School", "school", 30), ("Designation", "designation", 14),
            ("Check-in", "check_in", 16), ("Date", "date", 12), ("Led by", "reviewer", 22),
            ("Since", "since", 12), ("Status", "status", 12), ("Overdue", "overdue", 8),
            ("Overdue tasks", "overdue_tasks", 40), ("Next deadline", "next_deadline_date", 12),
            ("What is due next", "next_deadline", 32), ("Activities due", "activities_due", 9),
            ("Activities ended", "activities_ended", 9), ("Goals: latest data", "goals", 50),
            ("Progress at the check-in", "progress", 36),
            ("Next steps for district support or intervention", "next_steps", 40), ("Owner", "owner", 18),
            ("Notes", "notes", 30), ("After Action Review", "document", 40)),
        freeze="C5")
    ws["G5"].number_format = "mm/dd/yyyy"        # Since: a date (tracker_sheet formats fields named *date)
    status_summary(ws, "H")
    for column in ("P", "Q", "R", "S"):           # the district's own columns: space to write in
        ws[f"{column}4"].fill = PatternFill("solid", fgColor="385723")
    schedule_sheet(wb)
    terms_sheet(wb, "Protocol", "District Level Reflection protocol", REFLECTION_PROTOCOL, 18)
    wb.save(path)


BUILDERS = {"schedule.docx": schedule_docx, "isbe_grid.docx": isbe_grid_docx, "plan.docx": plan_docx,
            "cover.docx": cover_docx, "review.docx": review_docx,
            "schedule.xlsx": schedule_xlsx, "isbe_grid.xlsx": isbe_grid_xlsx, "readiness.xlsx": readiness_xlsx,
            "validation.xlsx": validation_xlsx, "district.xlsx": district_xlsx,
            "after_action_review.docx": after_action_review_docx,
            "district_reflection.xlsx": district_reflection_xlsx}


def main(names):
    for name in names or BUILDERS:
        path = TEMPLATES / name
        if path.exists():
            print(f"{path} exists; not overwritten (delete it first to recreate it).")
            continue
        BUILDERS[name](path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
