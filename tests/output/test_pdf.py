"""Submission-ready packets: `packets build --pdf` gives each school one PDF (cover, contents, every Word
form with bookmarks, each in its own page size), a manifest.json whose hashes match the files, and
readiness.xlsx links to each packet folder and PDF.

The tests using the `built` fixture run the real LibreOffice (marked office: skipped when it is missing,
except in CI, which installs it). The others use a stand-in soffice script, so failures, crashes and hangs are
tested quickly and anywhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, OutlineItem, String
from pypdf import PdfReader, PdfWriter

from generator import __version__
from generator.findings import PacketsError
from generator.output.build_record import MANIFEST
from generator.output.combine import combine, contents, pdf_forms
from generator.output.packet_manifest import PACKET_MANIFEST
from generator.output.pdf import SOFFICE_ENV, UNO_PYTHON_ENV, PdfConverter, find_uno_python, require_soffice
from generator.render import form_titles

from conftest import AS_OF, SAMPLE, BrokenPool, packet_folders, run_cli

LEGAL_LANDSCAPE = (1008, 612)
LETTER = (612, 792)
FORM_TITLES = [form_titles()[form.key] for form in pdf_forms()]


def outline(reader: PdfReader) -> list[tuple[str, int]]:
    """The top-level bookmarks: (title, 0-based page)."""
    return [(item.title, reader.get_destination_page_number(item)) for item in reader.outline
            if not isinstance(item, list)]


def size(page) -> tuple[int, int]:
    return round(float(page.mediabox.width)), round(float(page.mediabox.height))


def folder_of(output: Path, school_id: str) -> Path:
    (folder,) = [p for p in packet_folders(output) if p.name.startswith(school_id + "-")]
    return folder


# --- a stand-in for soffice ----------------------------------------------------------------------

FAKE_SOFFICE = '''#!{python}
"""Stands in for soffice --convert-to pdf: a one-page PDF per input, in order, unless the input
(or, for a zip, any part of it) holds FAKE-CRASH (exit 1 at once), FAKE-HANG (sleep) or FAKE-BAD or
the text in FAKE_SOFFICE_BAD (no output, like a file LibreOffice cannot load), or the text in
FAKE_SOFFICE_CORRUPT (a damaged PDF)."""
import os, sys, time, zipfile
from pathlib import Path
from pypdf import PdfWriter
args = sys.argv[1:]
outdir = Path(args[args.index("--outdir") + 1])
log = os.environ.get("FAKE_SOFFICE_LOG")
profile = next(a for a in args if a.startswith("-env:UserInstallation="))
if log:
    with open(log, "a") as f:
        f.write(f"start {time.time()} {profile}\\n")
    time.sleep(float(os.environ.get("FAKE_SOFFICE_SLEEP", "0")))
once = os.environ.get("FAKE_SOFFICE_ABORT_ONCE")        # a file: abort at start unless it is there
if once and not os.path.exists(once):
    open(once, "w").close()
    sys.exit(134)
for name in args[args.index("--outdir") + 2:]:
    path = Path(name)
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            data = b"".join(z.read(n) for n in z.namelist())
    if b"FAKE-CRASH" in data:
        sys.exit(1)
    if b"FAKE-HANG" in data:
        time.sleep(60)
    bad = os.environ.get("FAKE_SOFFICE_BAD", "FAKE-BAD").encode()
    if b"FAKE-BAD" in data or bad in data:
        continue
    corrupt = os.environ.get("FAKE_SOFFICE_CORRUPT", "").encode()
    if corrupt and corrupt in data:                     # a PDF that no reader can open
        (outdir / (path.stem + ".pdf")).write_bytes(b"%PDF-1.6\\n% damaged\\n%%EOF\\n")
        continue
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.add_metadata({"/Subject": data[:60].decode("latin-1")})      # which document this PDF is of
    with open(outdir / (path.stem + ".pdf"), "wb") as out:
        writer.write(out)
if log:
    with open(log, "a") as f:
        f.write(f"end {time.time()} {profile}\\n")
'''


FAKE_SERVER = '''#!{python}
"""Stands in for a Python with uno running office_server.py: the same answers as the stand-in soffice
above, a document at a time from one long-lived process (it never runs the soffice it is given)."""
import json, os, sys, time, zipfile
from pathlib import Path
server, soffice, profile, pipe, seconds = sys.argv[1:6]
log = os.environ.get("FAKE_SOFFICE_LOG")
def note(kind):
    if log:
        with open(log, "a") as f:
            f.write(f"{kind} {time.time()} {profile}\\n")
note("start")
if os.environ.get("FAKE_SERVER_PIDS"):
    with open(os.environ["FAKE_SERVER_PIDS"], "a") as f:
        f.write(f"{os.getpid()}\\n")
once = os.environ.get("FAKE_SOFFICE_ABORT_ONCE")
if once and not os.path.exists(once):
    open(once, "w").close()
    print(json.dumps({"died": 134}), flush=True)
    sys.exit(0)
print(json.dumps({"ready": True}), flush=True)
from pypdf import PdfWriter
for line in sys.stdin:
    request = json.loads(line)
    path = Path(request["source"])
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            data = b"".join(z.read(n) for n in z.namelist())
    note("convert")
    time.sleep(float(os.environ.get("FAKE_SOFFICE_SLEEP", "0")) / 4)
    if b"FAKE-CRASH" in data:
        print(json.dumps({"died": 1}), flush=True)
        sys.exit(0)
    if b"FAKE-HANG" in data:
        time.sleep(60)
    bad = os.environ.get("FAKE_SOFFICE_BAD", "FAKE-BAD").encode()
    if b"FAKE-BAD" in data or bad in data:
        print(json.dumps({"error": "LibreOffice could not open it (a damaged or unsupported file?)"}), flush=True)
        continue
    corrupt = os.environ.get("FAKE_SOFFICE_CORRUPT", "").encode()
    if corrupt and corrupt in data:
        Path(request["target"]).write_bytes(b"%PDF-1.6\\n% damaged\\n%%EOF\\n")
        print(json.dumps({"done": True}), flush=True)
        continue
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.add_metadata({"/Subject": data[:60].decode("latin-1")})
    with open(request["target"], "wb") as out:
        writer.write(out)
    print(json.dumps({"done": True}), flush=True)
note("end")
'''


@pytest.fixture(params=["served", "batches"])
def fake_soffice(request, tmp_path, monkeypatch) -> Path:
    """The stand-in soffice; "served": long-lived processes through a stand-in uno Python, "batches":
    no uno, a soffice run a batch."""
    script = tmp_path / "fake-soffice"
    script.write_text(FAKE_SOFFICE.replace("{python}", sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv(SOFFICE_ENV, str(script))
    if request.param == "served":
        server = tmp_path / "fake-uno-python"
        server.write_text(FAKE_SERVER.replace("{python}", sys.executable))
        server.chmod(0o755)
        monkeypatch.setenv(UNO_PYTHON_ENV, str(server))
    else:
        monkeypatch.setenv(UNO_PYTHON_ENV, "")
    return script


def test_the_python_that_drives_libreoffice_is_its_own_or_the_one_named(tmp_path, monkeypatch):
    program = tmp_path / "program"
    program.mkdir()
    soffice, python = program / "soffice", program / "python"
    for script in (soffice, python):              # LibreOffice's own Python imports uno
        script.write_text("#!/bin/sh\nexit 0\n")
        script.chmod(0o755)
    monkeypatch.delenv(UNO_PYTHON_ENV, raising=False)
    assert find_uno_python(str(soffice)) == str(python)
    monkeypatch.setenv(UNO_PYTHON_ENV, "")                 # none: each batch runs soffice --convert-to
    assert find_uno_python(str(soffice)) is None
    monkeypatch.setenv(UNO_PYTHON_ENV, str(python))
    assert find_uno_python("/no/such/soffice") == str(python)


def test_missing_libreoffice_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(SOFFICE_ENV, str(tmp_path / "no-such-soffice"))
    with pytest.raises(PacketsError, match=r"PDFs need LibreOffice.*Fix: install LibreOffice"):
        require_soffice()


def test_a_build_without_libreoffice_keeps_the_packet_and_says_why(inputs, output, monkeypatch, tmp_path):
    monkeypatch.setenv(SOFFICE_ENV, str(tmp_path / "no-such-soffice"))
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF,
                     "--school", "0101", "--school", "0102", "--pdf", "--jobs", "1")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: no PDF")]
    assert len(errors) == 1 and "0101, 0102" in errors[0] and "Fix: install LibreOffice" in errors[0], result.output
    folder = folder_of(output, "0101")
    assert sorted(p.suffix for p in folder.iterdir() if p.suffix in (".docx", ".pdf")) == [".docx"] * len(FORM_TITLES)
    ws = openpyxl.load_workbook(output / "readiness.xlsx")["Readiness"]
    headers = [c.value for c in ws[4]]
    row = next(dict(zip(headers, r)) for r in ws.iter_rows(min_row=5, values_only=True) if r[0] == "0101")
    assert row["Ready"] == "Ready" and row["What is missing"].startswith("No PDF: PDFs need LibreOffice")
    assert not row["Packet PDF"]


def test_one_process_converts_a_batch_and_a_bad_file_fails_alone(fake_soffice):
    with PdfConverter() as converter:
        done = converter.convert([("a.docx", b"one"), ("b.docx", b"FAKE-BAD"), ("a.docx", b"again")])
    assert [c.name for c in done] == ["a.docx", "b.docx", "a.docx"]       # repeated names are kept apart
    assert done[0].pdf.startswith(b"%PDF-") and done[2].pdf.startswith(b"%PDF-")
    assert done[1].pdf is None and done[1].error.startswith("LibreOffice could not convert b.docx to PDF")


def test_a_crash_fails_the_file_it_was_on_and_the_rest_are_retried(fake_soffice):
    with PdfConverter() as converter:
        done = converter.convert([("a.docx", b"one"), ("b.docx", b"FAKE-CRASH"), ("c.docx", b"three")])
    assert [c.pdf is not None for c in done] == [True, False, True]
    assert "exit code 1" in done[1].error
    # Served: the one that died, one that is given the document again and dies too, one for the rest.
    # In batches: the one that died, and one for the rest.
    assert converter.started == (3 if served() else 2)


def test_a_served_libreoffice_runs_from_its_first_batch_to_the_end_of_the_run(fake_soffice, tmp_path,
                                                                             monkeypatch):
    if not served():
        pytest.skip("without uno each batch starts its own processes")
    pids = tmp_path / "servers"
    monkeypatch.setenv("FAKE_SERVER_PIDS", str(pids))
    with PdfConverter(processes=2) as converter:
        for batch in range(3):
            assert all(c.pdf for c in converter.convert([(f"{batch}-{n}.docx", b"doc") for n in range(4)]))
        running = [int(pid) for pid in pids.read_text().split()]
        assert len(running) == converter.started == 2 and all(alive(pid) for pid in running)
    deadline = time.monotonic() + 5                          # stopped with the converter (SIGKILL)
    while any(alive(pid) for pid in running) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in running)


def test_a_uno_that_cannot_drive_libreoffice_leaves_the_run_to_soffice_convert_to(fake_soffice, tmp_path,
                                                                                  monkeypatch):
    broken = tmp_path / "broken-uno-python"
    broken.write_text("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'uno'\" >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv(UNO_PYTHON_ENV, str(broken))
    with PdfConverter() as converter:
        first = converter.convert([("a.docx", b"one"), ("b.docx", b"two")])
        second = converter.convert([("c.docx", b"three")])
    assert all(c.pdf for c in first + second)
    assert converter.uno_python is None
    assert converter.started == 2 + 1 + 1        # two tries to start it served, then a soffice a batch


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, ended but not yet reaped by its parent, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_a_build_starts_each_libreoffice_once_for_the_forms_and_the_covers(inputs, output, fake_soffice, tmp_path,
                                                                          monkeypatch):
    """The covers' contents need the forms' page counts, so a build converts the forms, then the covers
    (twice, with the stand-in's one-page covers): served, both batches are the same --jobs processes'."""
    log = tmp_path / "soffice.log"
    monkeypatch.setenv("FAKE_SOFFICE_LOG", str(log))
    schools = ["0101", "0102", "0103"]
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--jobs", "2",
                     "--pdf", *[arg for school in schools for arg in ("--school", school)])
    assert result.exit_code == 0, result.output
    assert len(list(output.glob("*/*-packet.pdf"))) == len(schools)
    runs = soffice_log(log)
    starts = [profile for kind, _, profile in runs if kind == "start"]
    if served():
        assert len(starts) == len(set(starts)) == 2
        converted = [kind for kind, _, _ in runs].count("convert")
        assert converted == len(schools) * (len(FORM_TITLES) + 2)          # the forms, each cover twice
    else:
        assert len(starts) == 3 * 2             # two for each batch: the forms, the covers, the covers again


def served() -> bool:
    """Whether the converter drives long-lived processes (the fake_soffice fixture's "served")."""
    return bool(os.environ.get(UNO_PYTHON_ENV))


def soffice_log(log: Path) -> list[tuple[str, float, str]]:
    """The stand-in's log: (start, end or convert, when, the process's profile) a line."""
    return [(kind, float(t), profile) for kind, t, profile in (line.split() for line in log.read_text().splitlines())]


def test_two_processes_share_a_batch_at_once_and_each_pdf_is_its_own_documents(fake_soffice, tmp_path,
                                                                               monkeypatch):
    log = tmp_path / "soffice.log"
    monkeypatch.setenv("FAKE_SOFFICE_LOG", str(log))
    monkeypatch.setenv("FAKE_SOFFICE_SLEEP", "1")
    documents = [(f"{n:02d}.docx", f"document {n}".encode() * (1 + n % 3)) for n in range(9)]
    documents[4] = ("04.docx", b"FAKE-BAD")
    with PdfConverter(processes=2) as converter:
        first = converter.convert(documents)
        second = converter.convert(documents[:1])          # a batch of one needs only one process
    subjects = [PdfReader(io.BytesIO(c.pdf)).metadata["/Subject"] if c.pdf else None for c in first]
    assert subjects == [data[:60].decode() if n != 4 else None for n, (_, data) in enumerate(documents)]
    assert first[4].error.startswith("LibreOffice could not convert 04.docx") and second[0].pdf
    runs = soffice_log(log)
    starts = [(t, profile) for kind, t, profile in runs if kind == "start"]
    assert len({profile for _, profile in starts[:2]}) == 2            # each its own LibreOffice profile
    if served():
        # Started once each for the run: both batches are served by the same two processes, which
        # converted the first batch's documents side by side.
        assert len(starts) == converter.started == 2
        converts = [(t, profile) for kind, t, profile in runs if kind == "convert"]
        assert len(converts) == len(documents) + 1
        spans = [[t for t, p in converts[:-1] if p == profile] for _, profile in starts]
        assert all(len(times) >= 2 for times in spans)
        assert max(min(times) for times in spans) < min(max(times) for times in spans)      # at once
    else:
        ends = [t for kind, t, _ in runs if kind == "end"]
        assert len(starts) == converter.started == 3     # two for the batch of nine, one for the batch of one
        assert max(t for t, _ in starts[:2]) < min(ends[:2])                # the two ran at once


def test_a_libreoffice_that_dies_starting_is_started_again_without_blaming_the_document(fake_soffice, tmp_path,
                                                                                        monkeypatch):
    monkeypatch.setenv("FAKE_SOFFICE_ABORT_ONCE", str(tmp_path / "started-once"))
    with PdfConverter() as converter:
        done = converter.convert([("a.docx", b"one"), ("b.docx", b"two")])
    assert (tmp_path / "started-once").exists()              # the first LibreOffice did abort
    assert [bool(c.error) for c in done] == [False, False] and all(c.pdf for c in done)


def test_a_document_libreoffice_dies_on_every_time_fails_alone(fake_soffice):
    with PdfConverter() as converter:
        done = converter.convert([("a.docx", b"FAKE-CRASH"), ("b.docx", b"two")])
    assert done[0].pdf is None and "exit code 1" in done[0].error
    assert done[1].pdf is not None


@pytest.mark.slow
def test_a_hung_libreoffice_is_stopped_at_the_time_limit(fake_soffice):
    started = time.monotonic()
    with PdfConverter(startup_seconds=1, seconds_per_file=0.5) as converter:
        done = converter.convert([("a.docx", b"FAKE-HANG"), ("b.docx", b"two")])
    assert time.monotonic() - started < 15
    assert done[0].pdf is None and "did not finish within" in done[0].error
    assert done[1].pdf is not None


def test_contents_number_forms_after_the_cover():
    assert contents(["A", "B", "C"], [4, 7, 5], 2) == [
        {"title": "A", "page": 3, "pages": 4}, {"title": "B", "page": 7, "pages": 7},
        {"title": "C", "page": 14, "pages": 5}]


def blank_pdf(*sizes) -> bytes:
    writer = PdfWriter()
    for width, height in sizes:
        writer.add_blank_page(width, height)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_combine_keeps_each_forms_page_size_and_bookmarks_it():
    cover = {"school": {"name": "A & B <School>", "id": "0101"}, "district": {"name": "D"}, "planning_year": "2026-27"}
    data = combine(blank_pdf(LETTER, LETTER), [("Schedule", blank_pdf(LETTER)),
                                               ("Grid", blank_pdf(LEGAL_LANDSCAPE, LEGAL_LANDSCAPE))], cover)
    reader = PdfReader(io.BytesIO(data))
    assert outline(reader) == [("Cover", 0), ("Contents", 1), ("Schedule", 2), ("Grid", 3)]
    assert [size(p) for p in reader.pages] == [LETTER, LETTER, LETTER, LEGAL_LANDSCAPE, LEGAL_LANDSCAPE]
    assert reader.metadata.title == "A & B <School>: School Improvement Plan Packet 2026-27"


COVER = {"school": {"name": "A & B <School>", "id": "0101"}, "district": {"name": "D"}, "planning_year": "2026-27"}


def tagged_pdf(*sizes, heading: str = "", link: bool = False, loose: bool = False, producer: str = "") -> bytes:
    """A part as LibreOffice exports one, in small: a page of each size, each with one paragraph tagged
    through its StructParents, under a Document element; a RoleMap, an sRGB output intent and, with
    `heading`, a bookmark to the last page at a place on it (/XYZ). `link`: a link annotation on the
    first page, tagged through /StructParent. `loose`: the tree root holds the paragraphs with no
    Document."""
    pdf = pikepdf.new()
    tree = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot, RoleMap=Dictionary(Standard=Name.P)))
    document = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, P=tree))
    parent = tree if loose else document
    elements, nums = Array(), Array()
    for number, page_size in enumerate(sizes):
        page = pdf.add_blank_page(page_size=page_size)
        page.contents_add(b"/Standard <</MCID 0>> BDC BT /F1 12 Tf 72 500 Td (Text) Tj ET EMC")
        page.obj.StructParents = number
        paragraph = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Standard, P=parent, Pg=page.obj,
                                                 K=0, T=String(f"paragraph {number + 1}")))
        elements.append(paragraph)
        nums.extend([number, Array([paragraph])])
    if link:
        first = pdf.pages[0].obj
        annot = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[72, 72, 144, 96], P=first,
                                             StructParent=len(sizes), Border=[0, 0, 0]))
        first.Annots = Array([annot])
        tag = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Link, P=parent, Pg=first,
                                           K=Dictionary(Type=Name.OBJR, Obj=annot, Pg=first)))
        elements.append(tag)
        nums.extend([len(sizes), tag])
    document.K = elements
    tree.K = elements if loose else Array([document])
    tree.ParentTree = pdf.make_indirect(Dictionary(Nums=nums))
    tree.ParentTreeNextKey = len(nums) // 2
    pdf.Root.StructTreeRoot = tree
    pdf.Root.MarkInfo = Dictionary(Marked=True)
    pdf.Root.OutputIntents = Array([pdf.make_indirect(Dictionary(
        Type=Name.OutputIntent, S=Name.GTS_PDFA1, OutputConditionIdentifier=String("sRGB IEC61966-2.1"),
        DestOutputProfile=pdf.make_stream(b"a colour profile", N=3)))])
    if heading:
        with pdf.open_outline() as bookmarks:
            last = pdf.pages[-1].obj
            bookmarks.root.append(OutlineItem(heading, Array([last, Name.XYZ, 54, 610.75, 0])))
    if producer:
        pdf.docinfo.Producer = producer
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def structure(element, pages: list) -> list:
    """An element as (type, title, its pages' numbers, its children), its children's /P checked."""
    kids = element.get("/K")
    kids = [] if kids is None else list(kids) if isinstance(kids, Array) else [kids]
    shown = []
    for kid in kids:
        if isinstance(kid, Dictionary) and "/S" in kid:
            assert kid.P.objgen == element.objgen
            shown.append(structure(kid, pages))
        elif isinstance(kid, Dictionary):                     # an object reference: which page's annotation
            shown.append(("OBJR", pages.index(kid.Pg.objgen), str(kid.Obj.Subtype)))
    page = pages.index(element.Pg.objgen) if "/Pg" in element else None
    return [str(element.S), str(element.get("/T", "")), page, shown]


def test_combine_puts_each_parts_tags_under_one_document_and_renumbers_their_keys():
    """Issue 17 item 7, with pikepdf: each part's elements under a Sect of one Document, every page's and
    annotation's key renumbered past the earlier parts' so the parent tree still finds each tag, one
    tree root (no part's old root carried along), the RoleMaps merged, a root of top elements with no
    Document taken as it is."""
    data = combine(tagged_pdf(LETTER, LETTER, producer="LibreOffice 7.4"),
                   [("Plan", tagged_pdf(LETTER, LETTER, LETTER, link=True)),
                    ("Grid", tagged_pdf(LEGAL_LANDSCAPE, loose=True))], COVER)
    pdf = pikepdf.open(io.BytesIO(data))
    pages = [page.obj.objgen for page in pdf.pages]
    tree = pdf.Root.StructTreeRoot
    assert structure(tree.K, pages) == ["/Document", "", None, [
        ["/Sect", "Cover", None, [["/Standard", "paragraph 1", 0, []], ["/Standard", "paragraph 2", 1, []]]],
        ["/Sect", "Plan", None, [["/Standard", "paragraph 1", 2, []], ["/Standard", "paragraph 2", 3, []],
                                 ["/Standard", "paragraph 3", 4, []], ["/Link", "", 2, [("OBJR", 2, "/Link")]]]],
        ["/Sect", "Grid", None, [["/Standard", "paragraph 1", 5, []]]]]]
    assert tree.K.P.objgen == tree.objgen and tree.RoleMap == Dictionary(Standard=Name.P)
    # Keys: the cover's 0-1, the plan's pages 2-4 and its link 5, the grid's page 6.
    assert [int(page.StructParents) for page in pdf.pages] == [0, 1, 2, 3, 4, 6]
    (annot,) = pdf.pages[2].obj.Annots
    assert int(annot.StructParent) == 5 and int(tree.ParentTreeNextKey) == 7
    parents = pikepdf.NumberTree(tree.ParentTree)
    for page in pdf.pages:
        (paragraph,) = parents[int(page.StructParents)]
        assert paragraph.Pg.objgen == page.obj.objgen and paragraph.K == 0
    assert parents[5].K.Obj.objgen == annot.objgen
    roots = [o for o in pdf.objects if isinstance(o, Dictionary) and o.get("/Type") == Name.StructTreeRoot]
    assert len(roots) == 1


def test_combine_writes_the_packets_pdfa_identification_language_and_bookmarks():
    data = combine(tagged_pdf(LETTER, LETTER, producer="LibreOffice 7.4"),
                   [("Schedule", tagged_pdf(LETTER, LETTER, heading="Meetings")),
                    ("Grid", tagged_pdf(LEGAL_LANDSCAPE))], COVER)
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert outline(reader) == [("Cover", 0), ("Contents", 1), ("Schedule", 2), ("Grid", 4)]
    (meetings,) = reader.outline[3]                      # the form's own bookmark, under the form's
    assert meetings.title == "Meetings" and reader.get_destination_page_number(meetings) == 3
    assert (meetings["/Type"], meetings["/Left"], meetings["/Top"]) == ("/XYZ", 54, 610.75)  # where on the page
    assert root["/PageMode"] == "/UseOutlines" and bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert bool(root["/MarkInfo"]["/Marked"]) and root["/Lang"] == "en-US"
    (intent,) = root["/OutputIntents"]
    assert intent.get_object()["/OutputConditionIdentifier"] == "sRGB IEC61966-2.1"
    info = reader.metadata
    assert (info.title, info.author, info.subject, info.creator, info.producer) == (
        "A & B <School>: School Improvement Plan Packet 2026-27", "D", "School 0101, planning year 2026-27",
        f"plan-packets {__version__}", "pikepdf, from LibreOffice 7.4")
    with pikepdf.open(io.BytesIO(data)) as pdf, pdf.open_metadata() as xmp:     # PDF/A: the XMP says the same
        assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("2", "B")
        assert (xmp["dc:title"], xmp["dc:creator"], xmp["dc:description"]) == (info.title, [info.author], info.subject)
        assert (xmp["pdf:Producer"], xmp["xmp:CreatorTool"]) == (info.producer, info.creator)
        assert xmp["dc:language"] == {"en-US"} and xmp["xmp:CreateDate"] and xmp["xmp:ModifyDate"]


def test_a_page_keeps_the_size_and_orientation_it_inherits_from_its_page_tree():
    """Parts are opened without pushing inherited page attributes down (that reads the whole file):
    qpdf pushes them as it copies each page."""
    pdf = pikepdf.new()
    for _ in range(2):
        pdf.add_blank_page()
    pdf.Root.Pages.MediaBox = Array([0, 0, *LEGAL_LANDSCAPE])
    pdf.Root.Pages.Rotate = 90
    for page in pdf.pages:
        del page.obj.MediaBox
    buffer = io.BytesIO()
    pdf.save(buffer)
    reader = PdfReader(io.BytesIO(combine(blank_pdf(LETTER), [("Grid", buffer.getvalue())], COVER)))
    assert [(size(p), p.rotation) for p in reader.pages] == [(LETTER, 0)] + [(LEGAL_LANDSCAPE, 90)] * 2


def text_page(pdf, text: bytes):
    """A letter page showing `text`: hex strings in F1, whose ToUnicode CMap maps codes A-Z to the
    letters (as LibreOffice writes text), or a literal string such as (APRIL) in F2, which has none."""
    cmap = pdf.make_stream(b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
                           b"1 begincodespacerange <00> <FF> endcodespacerange\n"
                           b"1 beginbfrange <41> <5A> <0041> endbfrange\nendcmap end end")
    fonts = Dictionary(F1=pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica,
                                                       ToUnicode=cmap)),
                       F2=pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica,
                                                       Encoding=Name.WinAnsiEncoding)))
    page = pdf.add_blank_page(page_size=LETTER)
    page.obj.Resources = Dictionary(Font=fonts)
    font = b"/F2" if text.startswith(b"(") else b"/F1"
    page.contents_add(b"BT " + font + b" 12 Tf 72 700 Td " + text + b" Tj ET")


def test_month_bookmarks_are_placed_from_the_page_text_read_quickly_or_by_pypdf():
    """The quick reading takes LibreOffice's hex strings; a page it does not know (here a literal string)
    is read by pypdf's extract_text. A label the form's own bookmarks already have is not added again,
    and one no page shows gets no bookmark."""
    from generator.output.combine import _quick_lines
    pdf = pikepdf.new()
    text_page(pdf, b"<4D41524348>")                # MARCH
    text_page(pdf, b"<4F54484552>")                # OTHER
    text_page(pdf, b"(APRIL)")
    assert _quick_lines(pdf.pages[0], {}) == {"march"} and _quick_lines(pdf.pages[2], {}) is None
    with pdf.open_outline() as bookmarks:
        bookmarks.root.append(OutlineItem("March", 0))
    buffer = io.BytesIO()
    pdf.save(buffer)
    data = combine(blank_pdf(LETTER), [("Grid", buffer.getvalue())], COVER,
                   {"Grid": ("MARCH", "JANUARY", "APRIL", "MAY")})
    reader = PdfReader(io.BytesIO(data))
    assert outline(reader) == [("Cover", 0), ("Grid", 1)]
    assert [(item.title, reader.get_destination_page_number(item)) for item in reader.outline[2]] == [
        ("March", 1), ("APRIL", 3)]
    # A page pypdf cannot read either shows no label: the PDF is still made, without that bookmark.
    from generator.output.combine import _extracted_lines
    assert _extracted_lines([], b"%PDF-1.6\n% damaged\n%%EOF\n", 0) == set()


def test_a_part_that_cannot_be_read_is_an_error_naming_it_not_a_traceback(tmp_path):
    from generator.output.combine import PdfJob, write_packet_pdf
    with pytest.raises(PacketsError, match="the Plan form's PDF that LibreOffice made cannot be read"):
        combine(blank_pdf(LETTER), [("Schedule", blank_pdf(LETTER)), ("Plan", b"%PDF-1.6\n% damaged\n%%EOF\n")], COVER)
    with pytest.raises(PacketsError, match="the cover's PDF that LibreOffice made cannot be read"):
        combine(b"not a PDF", [("Schedule", blank_pdf(LETTER))], COVER)
    job = PdfJob("0101", tmp_path / "0101-packet.pdf", (), COVER)
    problem = write_packet_pdf(job, blank_pdf(LETTER), [("Plan", b"%PDF-1.6\n% damaged\n%%EOF\n")])
    assert problem.startswith("the PDF could not be written (the Plan form's PDF") and not job.target.exists()


@pytest.mark.slow
def test_a_damaged_pdf_from_libreoffice_fails_that_schools_pdf_alone(inputs, output, fake_soffice, monkeypatch):
    monkeypatch.setenv("FAKE_SOFFICE_CORRUPT", "Prairie View")               # school 0102's name
    result = run_cli("build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--school", "0101",
                     "--school", "0102", "--jobs", "1", "--pdf")
    assert result.exit_code == 1
    assert ("error: no PDF for 0102 (the Word and Excel packet is complete): LibreOffice made a PDF that cannot "
            "be read") in result.output and "Traceback" not in result.output
    assert (folder_of(output, "0101") / "0101-packet.pdf").is_file()
    assert not list(folder_of(output, "0102").glob("*.pdf"))


@pytest.mark.slow
def test_one_schools_failed_form_leaves_the_others_pdfs_and_its_own_packet(inputs, output, fake_soffice,
                                                                           monkeypatch):
    """A form LibreOffice cannot read stops that school's PDF only; its .docx packet is complete, and
    the next --pdf run makes the PDF though the school is unchanged. (The stand-in's one-page covers
    also take the second round of cover rendering: the template expects two pages.)"""
    args = ["build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--school", "0101",
            "--school", "0102", "--jobs", "1", "--pdf"]
    monkeypatch.setenv("FAKE_SOFFICE_BAD", "Prairie View")               # school 0102's name
    result = run_cli(*args)
    assert result.exit_code == 1
    assert ("error: no PDF for 0102 (the Word and Excel packet is complete): LibreOffice could not convert "
            "0102-schedule.docx") in result.output
    good, bad = folder_of(output, "0101"), folder_of(output, "0102")
    reader = PdfReader(good / "0101-packet.pdf")
    assert [t for t, _ in outline(reader)] == ["Cover"] + FORM_TITLES     # the stand-in's cover is one page
    assert [p for _, p in outline(reader)] == list(range(1 + len(FORM_TITLES)))
    assert not list(bad.glob("*.pdf")) and len(list(bad.glob("*.docx"))) == len(FORM_TITLES)
    entries = json.loads((output / MANIFEST).read_text())["schools"]
    assert "0101-riverbend-high-school/0101-packet.pdf" in entries["0101"]["documents"]
    assert not any(d.endswith(".pdf") for d in entries["0102"]["documents"])
    ws = openpyxl.load_workbook(output / "readiness.xlsx")["Readiness"]
    headers = [c.value for c in ws[4]]
    rows = {r[0]: dict(zip(headers, r)) for r in ws.iter_rows(min_row=5, values_only=True)}
    assert rows["0102"]["What is missing"].startswith("No PDF: LibreOffice could not convert")
    assert rows["0101"]["Packet PDF"].endswith("0101-packet.pdf") and not rows["0102"]["Packet PDF"]

    made = (good / "0101-packet.pdf").stat().st_mtime_ns
    monkeypatch.delenv("FAKE_SOFFICE_BAD")
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    assert "Built 0, skipped 2" in result.output
    assert (bad / "0102-packet.pdf").is_file()
    assert (good / "0101-packet.pdf").stat().st_mtime_ns == made           # a current PDF is not made again


@pytest.mark.slow
def test_a_rebuild_without_pdf_removes_the_pdf_it_no_longer_matches(inputs, output, fake_soffice):
    args = ["build", "--inputs", str(inputs), "--output", str(output), "--as-of", AS_OF, "--school", "0101",
            "--jobs", "1"]
    assert run_cli(*args, "--pdf").exit_code == 0
    pdf = folder_of(output, "0101") / "0101-packet.pdf"
    assert pdf.is_file()
    assert run_cli(*args).exit_code == 0                      # unchanged: the PDF still matches, and stays
    assert pdf.is_file()
    assert run_cli(*args, "--force").exit_code == 0           # rebuilt without --pdf: the old PDF goes
    assert not pdf.exists()
    files = [e["file"] for e in json.loads((pdf.parent / PACKET_MANIFEST).read_text())["files"]]
    assert pdf.name not in files


# --- the real LibreOffice --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sample district built with --pdf, then built again: the first run made a PDF per school."""
    root = tmp_path_factory.mktemp("pdf")
    output = root / "output"
    args = ["build", "--inputs", str(SAMPLE), "--output", str(output), "--as-of", AS_OF, "--jobs", "2"]
    first = run_cli(*args)                                     # a plain build first, as `make packets` does
    assert first.exit_code == 0, first.output
    started = time.perf_counter()
    result = run_cli(*args, "--pdf")
    seconds = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    return output, result.output, seconds


@pytest.mark.office
def test_pdf_after_a_plain_build_makes_a_pdf_for_every_unchanged_school(built):
    output, text, seconds = built
    schools = [p for p in packet_folders(output)]
    assert "Built 0, skipped" in text and f"Packet PDFs: {len(schools)} of {len(schools)}" in text
    print(f"PDFs for {len(schools)} schools in {seconds:.1f} s")
    pdfs = {p: p.stat().st_mtime_ns for p in output.glob("*/*-packet.pdf")}
    assert len(pdfs) == len(schools)
    again = run_cli("build", "--inputs", str(SAMPLE), "--output", str(output), "--as-of", AS_OF, "--pdf")
    assert again.exit_code == 0 and "Built 0" in again.output, again.output
    assert {p: p.stat().st_mtime_ns for p in output.glob("*/*-packet.pdf")} == pdfs     # nothing made again


@pytest.mark.office
def test_each_pdf_opens_with_the_cover_then_contents_then_each_form_bookmarked(built):
    output, _, _ = built
    for folder in (p for p in packet_folders(output)):
        school_id = folder.name.split("-")[0]
        reader = PdfReader(folder / f"{school_id}-packet.pdf")
        marks = outline(reader)
        assert [t for t, _ in marks] == ["Cover", "Contents"] + FORM_TITLES, folder.name
        cover = reader.pages[0].extract_text()
        assert "School Improvement Plan Packet" in cover and school_id in cover
        assert ("Ready for submission" in cover) != ("Not ready" in cover)
        # The contents give each form's first page, as the bookmarks do.
        listing = reader.pages[1].extract_text()
        for title, page in marks[2:]:
            assert f"{title} " in listing and f" {page + 1}" in listing, (title, listing)
        # Each form's own footer numbers its pages: its first page in the packet is its page 1.
        for (title, start), (_, end) in zip(marks[2:], marks[3:] + [("", len(reader.pages))]):
            assert f"Page 1 of {end - start}" in reader.pages[start].extract_text(), (folder.name, title)


@pytest.mark.office
def test_isbe_grid_pages_stay_legal_landscape_in_the_pdf(built):
    output, _, _ = built
    for folder in (p for p in packet_folders(output)):
        reader = PdfReader(next(folder.glob("*-packet.pdf")))
        marks = outline(reader) + [("", len(reader.pages))]
        for (title, start), (_, end) in zip(marks, marks[1:]):
            expected = LEGAL_LANDSCAPE if title == "ISBE Planning Year Activities" else LETTER
            assert {size(reader.pages[i]) for i in range(start, end)} == {expected}, (folder.name, title)


@pytest.mark.office
def test_manifest_hashes_match_the_files_on_disk(built):
    output, _, _ = built
    build_manifest = json.loads((output / MANIFEST).read_text())["schools"]
    inputs = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SAMPLE.iterdir()}
    for folder in (p for p in packet_folders(output)):
        data = json.loads((folder / PACKET_MANIFEST).read_text())
        listed = {e["file"]: e for e in data["files"]}
        on_disk = {p.name for p in folder.iterdir() if p.name != PACKET_MANIFEST}
        assert set(listed) == on_disk, folder.name
        for name, entry in listed.items():
            content = (folder / name).read_bytes()
            assert entry["size"] == len(content) and entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert any(name.endswith("-packet.pdf") for name in listed)
        assert data["generator"]["version"] and data["built_at"]
        assert data["readiness"]["status"] in ("Ready", "Not ready")
        assert {e["file"]: e["sha256"] for e in data["inputs"]}.items() <= inputs.items()
        assert {"roster.xlsx", "timeline.xlsx", "goals.xlsx", "settings.toml"} <= {e["file"] for e in data["inputs"]}
        documents = build_manifest[data["school_id"]]["documents"]
        assert f"{folder.name}/{data['school_id']}-packet.pdf" in documents


@pytest.mark.office
def test_readiness_links_each_school_to_its_folder_and_pdf(built):
    output, _, _ = built
    ws = openpyxl.load_workbook(output / "readiness.xlsx")["Readiness"]
    headers = [c.value for c in ws[4]]
    folder_col, pdf_col = headers.index("Packet folder") + 1, headers.index("Packet PDF") + 1
    rows = list(range(5, ws.max_row + 1))
    assert len(rows) == len([p for p in packet_folders(output)])
    for row in rows:
        for col in (folder_col, pdf_col):
            link = ws.cell(row=row, column=col).hyperlink
            assert link is not None and not Path(link.target).is_absolute() and (output / link.target).exists()
        assert ws.cell(row=row, column=pdf_col).hyperlink.target.endswith("-packet.pdf")


def test_convert_to_pdf_raises_naming_the_file_that_failed(fake_soffice, tmp_path):
    from generator.output.pdf import convert_to_pdf
    good, bad = tmp_path / "good.docx", tmp_path / "bad.docx"
    good.write_bytes(b"fine")
    bad.write_bytes(b"FAKE-BAD")
    assert convert_to_pdf([good])[0].startswith(b"%PDF-")
    with pytest.raises(PacketsError, match="could not convert bad.docx to PDF"):
        convert_to_pdf([good, bad])


@pytest.mark.office
def test_every_packet_pdf_is_tagged_titled_in_english_pdfa_and_bookmarks_the_grids_months(built):
    """Issue 17 item 7: the merge keeps LibreOffice's tags (one structure tree over every form, each
    page's marked content still found through the parent tree), the language, the title shown in the
    title bar, PDF/A-2 identification in the XMP, and the ISBE grid's months as bookmarks under it."""
    from generator.render.template_data import grid_activities
    months = list(dict.fromkeys(a.month.upper() for a in grid_activities()))
    output, _, _ = built
    for path in sorted(output.glob("*/*-packet.pdf")):
        reader = PdfReader(path)
        root = reader.trailer["/Root"]
        assert bool(root["/MarkInfo"]["/Marked"]) and root["/Lang"] == "en-US", path.name
        assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
        assert reader.metadata.title.endswith("School Improvement Plan Packet 2026-27")
        xmp = ElementTree.fromstring(root["/Metadata"].get_object().get_data())
        assert xmp.findtext(".//{http://www.aiim.org/pdfa/ns/id/}part") == "2"
        assert "".join(xmp.find(".//{http://purl.org/dc/elements/1.1/}title").itertext()).strip() == \
            reader.metadata.title
        tree = root["/StructTreeRoot"].get_object()
        sections = tree["/K"].get_object()["/K"]
        assert [s.get_object()["/T"] for s in sections] == ["Cover"] + FORM_TITLES
        parents = number_tree(tree["/ParentTree"])
        assert [p["/StructParents"] for p in reader.pages] == list(range(len(reader.pages)))
        assert set(range(len(reader.pages))) <= set(parents) and tree["/ParentTreeNextKey"] > max(parents)
        pages = {p.indirect_reference.idnum for p in reader.pages}
        headings = tables = 0
        elements = set()
        stack = [s.get_object() for s in sections]
        while stack:
            element = stack.pop()
            elements.add(element.indirect_reference.idnum)
            headings += element.get("/S") in ("/H1", "/H2")
            tables += element.get("/S") == "/TH"
            if "/Pg" in element:
                assert element.raw_get("/Pg").idnum in pages        # tags point at this PDF's own pages
            kids = element.get("/K")
            kids = kids.get_object() if kids is not None else []
            kids = [k.get_object() for k in (kids if isinstance(kids, list) else [kids])]
            stack += [k for k in kids if isinstance(k, dict) and "/S" in k]      # not marked-content ids
        assert headings and tables, path.name
        # Each tag a page's or annotation's key finds is one of the tree's (none of a part's old tree).
        for value in parents.values():
            value = value.get_object()
            tagged = value if isinstance(value, list) else [value.indirect_reference]
            assert {t.idnum for t in tagged} <= elements, path.name
        grid = next(i for i, item in enumerate(reader.outline)
                    if not isinstance(item, list) and item.title == "ISBE Planning Year Activities")
        assert [m.title for m in reader.outline[grid + 1]][:len(months)] == months


def number_tree(node) -> dict:
    """A number tree's entries, its kids' included (qpdf gives a long tree kids)."""
    node = node.get_object()
    nums = node.get("/Nums", [])
    entries = {int(nums[i]): nums[i + 1] for i in range(0, len(nums) - 1, 2)}
    for kid in node.get("/Kids", []):
        entries.update(number_tree(kid))
    return entries


@pytest.mark.office
def test_the_quick_reading_of_a_page_finds_the_lines_pypdf_finds(built):
    """The ISBE grid's month bookmarks are placed by reading each page's lines straight from its content
    stream (pypdf's extract_text took a fifth of a school's combining): on LibreOffice's PDFs the lines
    are pypdf's, every page of every packet read."""
    from generator.output.combine import _quick_lines, _squeezed
    output, _, _ = built
    read = 0
    for path in sorted(output.glob("*/*-packet.pdf")):
        maps: dict = {}
        with pikepdf.open(path) as pdf:
            quick_pages = [_quick_lines(page, maps) for page in pdf.pages]
        for number, (page, quick) in enumerate(zip(PdfReader(path).pages, quick_pages)):
            if quick is None:
                continue
            read += 1
            slow = {_squeezed(line) for line in page.extract_text().splitlines()}
            assert quick - {""} == slow - {""}, (path.name, number + 1)
    assert read


@pytest.mark.office
def test_a_real_libreoffice_serves_both_batches_and_one_that_dies_is_started_again(tmp_path):
    """office_server.py with the real LibreOffice (CI's has Debian's python3-uno): a damaged document
    fails alone, a LibreOffice killed between batches is started again for the next."""
    import signal

    from generator.output.pdf import find_soffice
    soffice = find_soffice()
    if soffice is None or find_uno_python(soffice) is None:
        pytest.skip("no LibreOffice with a Python that imports uno")
    document = next(SAMPLE.parent.glob("templates/cover.docx")).read_bytes()
    with PdfConverter(processes=1) as converter:
        assert converter.uno_python
        first = converter.convert([("cover.docx", document), ("broken.docx", b"PK\x03\x04 not a zip"),
                                   ("again.docx", document)])
        assert first[0].pdf and first[2].pdf and first[1].error.startswith("LibreOffice could not convert broken.docx")
        assert converter.started == 1
        profile = f"{converter._work}/profile0".encode()
        killed = 0
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if cmdline.read_bytes().split(b"\0")[0].endswith(b"soffice.bin") and profile in cmdline.read_bytes():
                    os.kill(int(cmdline.parent.name), signal.SIGKILL)
                    killed += 1
            except OSError:
                continue
        assert killed == 1
        second = converter.convert([("cover.docx", document)])
    assert second[0].pdf, second[0].error
    assert converter.started == 2


def test_a_process_combining_pdfs_that_ends_unexpectedly_is_one_clear_error(monkeypatch):
    """A worker combining the schools' PDFs killed (out of memory, stopped) is a PacketsError, which the build
    reports as each school's missing PDF, never a traceback."""
    from generator.output import combine as combining
    from generator.output import processes

    monkeypatch.setattr(processes, "ProcessPoolExecutor", BrokenPool)
    with pytest.raises(PacketsError, match="a process combining the PDFs ended unexpectedly"):
        combining._write_all([("job 1", b"", ()), ("job 2", b"", ())], processes=2)
