"""Links in a rendered workbook: cells the template fills from `{{ row.<field> }}` become hyperlinks to
the path they show (readiness.xlsx links each school to its packet folder and PDF).

The links are relative to the workbook, so they keep working wherever the output folder goes: a
shared drive, a zip file, another machine. The fast Excel engine writes them as it writes the cells
(render/fast/xlsx.py, from the pieces here: link_target, hyperlinks_element, relationships); over any
other workbook, link_paths is a second, separate step: it edits the linked sheets' XML and relationships
in the package and copies every other part as it is (loading and saving the whole workbook with openpyxl
instead took most of a 5,000-school build's district view, about 2.4 s at 1,000 schools).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Sequence
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from lxml import etree
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter

_LOOP = re.compile(r"^\{%\s*for\s+(\w+)\s+in\s+[\w.]+\s*%\}")

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
HYPERLINK = f"{OFFICE_REL}/hyperlink"
# CT_Worksheet's children after <hyperlinks>, in schema order: the links go before the first of these.
_AFTER_HYPERLINKS = {f"{{{MAIN}}}{name}" for name in (
    "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties",
    "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF",
    "picture", "oleObjects", "controls", "webPublishItems", "tableParts", "extLst")}


# The first element that follows <hyperlinks> in a sheet as openpyxl writes it (no prefixes), or its end.
_AFTER_HYPERLINKS_TAG = re.compile("<(?:" + "|".join(name.split("}")[1] for name in sorted(_AFTER_HYPERLINKS))
                                   + r")\b|</worksheet>")


def link_target(text: str) -> str:
    """Return the relative URL a cell showing this path links to."""
    return quote(text.replace("\\", "/"), safe="/")


def rels_part(part: str) -> str:
    """Return the zip entry of a part's relationships: xl/worksheets/_rels/sheet1.xml.rels."""
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def with_marker(sheet: str, marker: str) -> str | None:
    """Return a sheet's XML as openpyxl writes it with `marker` where its <hyperlinks> go; None when it has
    hyperlinks of its own already (link_paths then adds to them)."""
    if "<hyperlinks" in sheet:
        return None
    found = _AFTER_HYPERLINKS_TAG.search(sheet, max(sheet.find("</sheetData>"), sheet.find("<sheetData/>"), 0))
    return None if found is None else sheet[:found.start()] + marker + sheet[found.start():]


def hyperlinks_element(links: Sequence[tuple[str, str]]) -> str:
    """Return a sheet's <hyperlinks>, each (cell, target) of `links` the relationship rIdLink<n>, n from 1."""
    return (f'<hyperlinks xmlns:r="{OFFICE_REL}">'
            + "".join(f'<hyperlink ref="{ref}" r:id="rIdLink{n}"/>' for n, (ref, _) in enumerate(links, 1))
            + "</hyperlinks>")


def relationships(links: Sequence[tuple[str, str]]) -> bytes:
    """Return the relationships part of a sheet whose only relationships are hyperlinks_element's."""
    return ("<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
            f'<Relationships xmlns="{PACKAGE_REL}">'
            + "".join(f'<Relationship Id="rIdLink{n}" Type="{HYPERLINK}" Target={quoteattr(target)} '
                      f'TargetMode="External"/>' for n, (_, target) in enumerate(links, 1))
            + "</Relationships>").encode("utf-8")


@lru_cache(maxsize=16)
def _link_columns(template: Path, fields: tuple[str, ...], stamp: tuple[int, int]) -> dict[str, tuple[int, list[int]]]:
    """Return, per sheet, the template's repeating row and the columns it fills from the fields (`stamp`,
    the template's size and time, makes an edited template read again)."""
    found = {}
    for ws in load_workbook(template).worksheets:
        for row in ws.iter_rows():
            first = row[0].value
            loop = _LOOP.match(first) if isinstance(first, str) else None
            if loop:
                tag = re.compile(r"\{\{\s*" + re.escape(loop.group(1)) + r"\.(" + "|".join(map(re.escape, fields))
                                 + r")\s*\}\}")
                columns = [c.column for c in row
                           if isinstance(c.value, str) and tag.fullmatch(c.value[loop.end():] if c is row[0]
                                                                         else c.value.strip())]
                found[ws.title] = (row[0].row, columns)
                break
    return found


def link_paths(workbook: bytes, template: Path, fields: Sequence[str]) -> bytes:
    """Return the workbook with each non-empty cell filled from one of `fields` made a hyperlink to
    the relative path it holds."""
    stat = Path(template).stat()
    columns = _link_columns(Path(template), tuple(fields), (stat.st_size, stat.st_mtime_ns))
    columns = {title: found for title, found in columns.items() if found[1]}
    if not columns:
        return workbook
    with zipfile.ZipFile(io.BytesIO(workbook)) as package:
        parts = {info.filename: package.read(info) for info in package.infolist()}
        infos = package.infolist()
    sheets = _sheet_parts(parts)
    shared = _shared_strings(parts)
    for title, (first_row, cols) in columns.items():
        if title in sheets:
            _link_sheet(parts, sheets[title], first_row, set(cols), shared)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for info in infos:
            package.writestr(info.filename, parts.pop(info.filename))
        for name, data in parts.items():          # relationship parts the links made
            package.writestr(name, data)
    return out.getvalue()


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Return each worksheet's part name, by sheet title."""
    workbook = etree.fromstring(parts["xl/workbook.xml"])
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {rel.get("Id"): rel.get("Target") for rel in rels.iter(f"{{{PACKAGE_REL}}}Relationship")}
    found = {}
    for sheet in workbook.iter(f"{{{MAIN}}}sheet"):
        target = targets.get(sheet.get(f"{{{OFFICE_REL}}}id"), "")
        name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        if name in parts:
            found[sheet.get("name")] = name
    return found


def _shared_strings(parts: dict[str, bytes]) -> list[str]:
    data = parts.get("xl/sharedStrings.xml")
    if data is None:
        return []
    return ["".join(si.itertext()) for si in etree.fromstring(data).iter(f"{{{MAIN}}}si")]


def _cell_text(cell: etree._Element, shared: list[str]) -> str:
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{{{MAIN}}}t"))
    value = cell.find(f"{{{MAIN}}}v")
    if value is None or value.text is None:
        return ""
    if kind == "s":
        return shared[int(value.text)]
    return value.text if kind == "str" else ""


def _link_sheet(parts: dict[str, bytes], name: str, first_row: int, columns: set[int], shared: list[str]) -> None:
    """Make the sheet's non-empty cells of `columns`, from `first_row` down, hyperlinks to their text."""
    root = etree.fromstring(parts[name])
    links = []
    letters = {get_column_letter(column) for column in columns}
    digits = "0123456789"
    for row in root.iter(f"{{{MAIN}}}row"):
        if int(row.get("r", "0")) < first_row:
            continue
        for cell in row.iter(f"{{{MAIN}}}c"):
            ref = cell.get("r", "")
            if ref.rstrip(digits) in letters:
                text = _cell_text(cell, shared)
                if text:
                    links.append((ref, link_target(text)))
    if not links:
        return
    rels_name = rels_part(name)
    rels = (etree.fromstring(parts[rels_name]) if rels_name in parts
            else etree.Element(f"{{{PACKAGE_REL}}}Relationships", nsmap={None: PACKAGE_REL}))
    taken = {rel.get("Id") for rel in rels}
    hyperlinks = root.find(f"{{{MAIN}}}hyperlinks")
    if hyperlinks is None:
        hyperlinks = etree.Element(f"{{{MAIN}}}hyperlinks", nsmap={"r": OFFICE_REL})
        later = next((child for child in root if child.tag in _AFTER_HYPERLINKS), None)
        if later is None:
            root.append(hyperlinks)
        else:
            later.addprevious(hyperlinks)
    number = 0
    for ref, target in links:
        number += 1
        while f"rIdLink{number}" in taken:
            number += 1
        rel_id = f"rIdLink{number}"
        etree.SubElement(rels, f"{{{PACKAGE_REL}}}Relationship", Id=rel_id, Type=HYPERLINK, Target=target,
                         TargetMode="External")
        etree.SubElement(hyperlinks, f"{{{MAIN}}}hyperlink", {"ref": ref, f"{{{OFFICE_REL}}}id": rel_id})
    parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    parts[rels_name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8", standalone=True)
