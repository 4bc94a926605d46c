"""Dashboard: output/index.html opens from disk in headless Chromium, lists every school, filters by
status and by text, sorts from the keyboard, links only to files that exist, and reads well."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import openpyxl
import pytest

from generator import pipeline
from generator.findings import PacketsError
from generator.model.rollup import SchoolDates, school_dates, school_rollup
from generator.model.status import SCHOOL_STATUSES as STATUSES
from generator.pipeline import load_district, rebuild
from generator.render.dashboard import (
    KeptChartRows,
    dashboard_chunks,
    dashboard_context,
    render_dashboard,
    school_links,
)
from generator.settings import load_settings

from conftest import AS_OF, CHROMIUM, SAMPLE

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DAY = dt.date.fromisoformat(AS_OF)


# --- the page as HTML, without a browser ---------------------------------------------------------

def test_links_go_to_what_the_build_wrote_and_are_encoded():
    assert school_links(None, ()) == {"folder": "", "pdf": "", "calendar": ""}
    links = school_links("01#1-100-hope-co", ["01#1-100-hope-co/01#1-plan.docx"])
    assert links == {"folder": "01%231-100-hope-co/", "pdf": "", "calendar": ""}
    links = school_links("01#1-100-hope-co", ["01#1-100-hope-co/01#1-plan.docx", "01#1-100-hope-co/01#1-packet.pdf",
                                              "01#1-100-hope-co/01#1-calendar.ics"])
    assert links["pdf"] == "01%231-100-hope-co/01%231-packet.pdf"
    assert links["calendar"] == "01%231-100-hope-co/01%231-calendar.ics"
    # only by what the name ends with: a name that merely holds ".pdf" is not the PDF
    assert school_links("a", ["a/a.pdf-notes.docx", "a/b.ics.txt"]) == {"folder": "a/", "pdf": "", "calendar": ""}


def test_the_dashboards_links_resolve_to_the_built_files(tmp_path):
    settings = load_settings(SAMPLE, tmp_path / "out", DAY, ("0101", "0104"))
    pipeline.build(settings)
    html = (settings.output / "index.html").read_text(encoding="utf-8")
    targets = [unquote(h) for h in re.findall(r'href="([^"#?]+)"', html) if not h.startswith(("http", "mailto"))]
    assert any(t.endswith("-calendar.ics") for t in targets) and any(t.endswith("/") for t in targets)
    for target in targets:
        assert (settings.output / target).exists(), target


def test_school_text_is_escaped(tmp_path):
    settings = load_settings(SAMPLE, tmp_path / "out", DAY, ("0101",))
    district, _ = load_district(settings)
    school = dataclasses.replace(district.packets[0].school, name='<script>alert("x")</script> & Sons')
    packet = dataclasses.replace(district.packets[0], school=school)
    html = render_dashboard(dashboard_context(settings, chart_dates([packet]), [school_rollup(packet, "Ready")],
                                              dt.datetime(2026, 11, 23, 9))).decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Sons" in html
    assert re.search(r"<html lang=\"en\">", html)
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html


# --- in the browser ------------------------------------------------------------------------------

@pytest.fixture
def built(sample_output):
    return sample_output


@pytest.fixture(scope="module")
def browser():
    """Chromium, for tests marked browser (which skip without it, except in CI: tests/conftest.py)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, built):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.requests, page.problems = [], []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.goto((built / "index.html").as_uri())
    yield page
    context.close()


def roster(built) -> list[dict]:
    ws = openpyxl.load_workbook(built / "district.xlsx")["Schools"]
    headers = [c.value for c in ws[4]]
    return [dict(zip(headers, row)) for row in ws.iter_rows(min_row=5, values_only=True) if row[0]]


def visible_ids(page) -> list[str]:
    return page.eval_on_selector_all("#schools tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.schoolId)")


@pytest.mark.browser
def test_lists_every_school_and_makes_no_request_off_disk(page, built):
    schools = roster(built)
    assert visible_ids(page) == [s["School ID"] for s in schools]
    for school in schools:
        assert page.locator("#schools tbody").get_by_text(school["School"], exact=True).is_visible()
    assert page.locator("#shown").inner_text() == f"Showing {len(schools)} of {len(schools)} schools"
    assert page.locator("svg[role=img] g[data-school-id]").count() == len(schools)     # the timeline's rows
    assert all(url.startswith("file://") for url in page.requests), page.requests
    assert page.problems == []


@pytest.mark.browser
def test_status_filter_hides_and_shows_rows(page, built):
    schools = roster(built)
    status = page.get_by_label("Status", exact=True)
    for wanted in STATUSES:
        status.select_option(wanted)
        ids = [s["School ID"] for s in schools if s["Status"] == wanted]
        assert visible_ids(page) == ids
        hidden = page.locator(f"#schools tbody tr:not([data-status='{wanted}'])")
        assert all(hidden.nth(i).is_hidden() for i in range(hidden.count()))
        assert page.locator("#shown").inner_text() == f"Showing {len(ids)} of {len(schools)} schools"
    assert len({s["Status"] for s in schools}) >= 2              # the sample exercises more than one status
    status.select_option("")
    assert len(visible_ids(page)) == len(schools)


@pytest.mark.browser
def test_text_search_filters_by_name_or_id(page, built):
    schools = roster(built)
    search = page.get_by_label("Search schools")
    search.fill("riverbend high")
    assert visible_ids(page) == ["0101"]
    search.fill("0104")
    assert visible_ids(page) == ["0104"]
    search.fill("no such school")
    assert visible_ids(page) == [] and page.locator("#shown").inner_text().startswith("Showing 0 of")
    search.fill("")
    assert len(visible_ids(page)) == len(schools)


@pytest.mark.browser
def test_sorts_from_the_keyboard(page, built):
    page.get_by_label("Search schools").focus()
    for _ in range(30):                                       # Tab along, as a keyboard user would
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Overdue":
            break
    else:
        pytest.fail("the Overdue column's sort button cannot be reached with Tab")
    header = page.locator("#schools thead th", has_text="Overdue")
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "ascending"
    overdue = [int(v) for v in page.eval_on_selector_all(
        "#schools tbody tr td:nth-child(7)", "cells => cells.map(c => c.dataset.sort)")]
    assert overdue == sorted(overdue)
    page.keyboard.press("Space")
    assert header.get_attribute("aria-sort") == "descending"
    overdue = [int(v) for v in page.eval_on_selector_all(
        "#schools tbody tr td:nth-child(7)", "cells => cells.map(c => c.dataset.sort)")]
    assert overdue == sorted(overdue, reverse=True)
    assert page.locator("#schools thead th[aria-sort]").count() == 1
    page.locator("#schools thead button", has_text="School").press("Enter")
    names = page.eval_on_selector_all("#schools tbody tr td:first-child a", "links => links.map(a => a.textContent)")
    assert names == sorted(names, key=str.lower)


@pytest.mark.browser
def test_every_link_resolves_to_an_existing_file(page, built):
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    assert len(hrefs) >= 2 * len(roster(built))              # each school's folder and calendar at least
    for link in hrefs:
        url = urlparse(link)
        assert url.scheme == "file", link
        assert Path(unquote(url.path)).exists(), link
        if url.fragment:
            assert page.locator(f"#{url.fragment}").count() == 1
    for name in ("district.xlsx", "district.ics", "readiness.xlsx"):
        assert page.get_by_role("link", name=name).count() == 1


def _luminance(rgb: str) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (float(v) for v in re.findall(r"[\d.]+", rgb)[:3])
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.browser
def test_text_has_enough_contrast_and_controls_have_labels(page):
    colours = page.evaluate("""() => {
        const bg = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
                             if (c !== 'rgba(0, 0, 0, 0)') return c; } return 'rgb(255, 255, 255)'; };
        const text = 'h1, header p, header a, th button, td, td .sub, td a, .badge, label, #shown, footer dd';
        return [...document.querySelectorAll(text)]
            .map(el => [el.tagName + '.' + el.className, getComputedStyle(el).color, bg(el)]);
    }""")
    assert colours
    for what, fg, bg in colours:
        assert contrast(fg, bg) >= 4.5, (what, fg, bg)
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#schools caption").inner_text()
    for control in ("Status", "Search schools"):
        assert page.get_by_label(control, exact=True).count() == 1
    assert page.locator("#schools thead th button").count() == 10


@pytest.mark.browser
def test_screenshot(page, tmp_path):
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


# --- a statewide page: written as it is made -------------------------------------------------------

def chart_dates(packets) -> dict[str, SchoolDates]:
    return {p.school.school_id: SchoolDates(school_dates(p)) for p in packets}


def many_schools(settings, count):
    district, _ = load_district(settings)
    packet = district.packets[0]
    packets = [dataclasses.replace(packet, school=dataclasses.replace(packet.school, school_id=f"{i:05d}",
                                                                      name=f"School {i} <&>"))
               for i in range(count)]
    return packets, [school_rollup(p, "Ready") for p in packets]


def test_page_comes_in_blocks_equal_to_the_whole_and_renders_again_the_same(tmp_path):
    settings = load_settings(SAMPLE, tmp_path / "out", DAY, ("0101",))
    packets, rows = many_schools(settings, 300)
    context = dashboard_context(settings, chart_dates(packets), rows, dt.datetime(2026, 11, 23, 9))
    blocks = list(dashboard_chunks(context))
    assert len(blocks) > 1 and all(isinstance(b, bytes) for b in blocks)
    page = b"".join(blocks)
    assert page == render_dashboard(context)                 # the chart's rows are made afresh each time
    html = page.decode("utf-8")
    assert html.count('<g data-school-id="') == 300 and html.rstrip().endswith("</html>")
    assert "School 299 &lt;&amp;&gt;" in html


BUILT = dt.datetime(2026, 11, 23, 9)


def test_chart_rows_drawn_before_are_taken_as_they_were_and_a_changed_schools_row_is_drawn_again(tmp_path, drawn):
    settings = load_settings(SAMPLE, tmp_path / "out", DAY, ("0101",))
    packets, rows = many_schools(settings, 4)
    ids = [p.school.school_id for p in packets]
    inputs = {sid: f"inputs of {sid}" for sid in ids}
    first = KeptChartRows(inputs)
    page = render_dashboard(dashboard_context(settings, chart_dates(packets), rows, BUILT, kept=first))
    assert drawn == ids and sorted(first.drawn) == ids
    assert page == render_dashboard(dashboard_context(settings, chart_dates(packets), rows, BUILT))   # drawn in place

    drawn.clear()
    again = KeptChartRows(inputs, first.drawn)
    assert render_dashboard(dashboard_context(settings, chart_dates(packets), rows, BUILT, kept=again)) == page
    assert drawn == [] and again.drawn == first.drawn              # kept for the next build too

    edited = [*packets[:2], dataclasses.replace(packets[2], tasks=packets[2].tasks[1:]), packets[3]]
    changed = KeptChartRows({**inputs, ids[2]: "edited"}, first.drawn)
    page = render_dashboard(dashboard_context(settings, chart_dates(edited), rows, BUILT, kept=changed))
    assert drawn == [ids[2]] and page == render_dashboard(dashboard_context(settings, chart_dates(edited), rows, BUILT))

    # a row's place is part of what it is drawn from: a school removed moves the rows after it
    drawn.clear()
    moved = KeptChartRows(inputs, changed.drawn)
    render_dashboard(dashboard_context(settings, chart_dates(edited[1:]), rows[1:], BUILT, kept=moved))
    assert drawn == ids[1:]


def test_a_page_of_kept_chart_rows_still_comes_in_small_blocks(tmp_path):
    """A kept row is one piece of thousands of characters: blocks are cut by length, not by count of pieces."""
    settings = load_settings(SAMPLE, tmp_path / "out", DAY, ("0101",))
    packets, rows = many_schools(settings, 300)
    inputs = {p.school.school_id: "inputs" for p in packets}
    first = KeptChartRows(inputs)
    page = render_dashboard(dashboard_context(settings, chart_dates(packets), rows, BUILT, kept=first))
    blocks = list(dashboard_chunks(dashboard_context(settings, chart_dates(packets), rows, BUILT,
                                                     kept=KeptChartRows(inputs, first.drawn))))
    assert b"".join(blocks) == page and len(page) > 2_000_000
    assert max(map(len, blocks)) < 300_000


def test_chart_rows_kept_under_another_key_are_not_taken(tmp_path, drawn):
    settings = load_settings(SAMPLE, tmp_path / "out", DAY, ("0101",))
    packets, rows = many_schools(settings, 2)
    planted = KeptChartRows({p.school.school_id: "now" for p in packets},
                            {p.school.school_id: ("another key", "<g>planted</g>") for p in packets})
    page = render_dashboard(dashboard_context(settings, chart_dates(packets), rows, BUILT, kept=planted)).decode()
    assert "planted" not in page and len(drawn) == 2


def test_a_dashboard_template_without_the_chart_row_block_still_draws_every_row(tmp_path, drawn):
    """A district's own dashboard.html made before the block: its loop draws each row from its markers."""
    settings = load_settings(SAMPLE, tmp_path / "out", DAY, ("0101",))
    packets, rows = many_schools(settings, 2)
    own = tmp_path / "dashboard.html"
    own.write_text("{% for row in chart.rows %}[{{ row.school_id }}: {{ row.markers | length }}]{% endfor %}")
    kept = KeptChartRows({p.school.school_id: "now" for p in packets})
    context = dashboard_context(settings, chart_dates(packets), rows, BUILT, kept=kept)
    page = b"".join(dashboard_chunks(context, own)).decode()
    markers = len(school_dates(packets[0]))
    assert markers and page == f"[00000: {markers}][00001: {markers}]" and kept.drawn == {}


def test_a_template_that_does_not_fit_fails_with_its_name_not_a_traceback(tmp_path):
    settings = load_settings(SAMPLE, tmp_path / "out", DAY, ("0101",))
    packets, rows = many_schools(settings, 2)
    context = dashboard_context(settings, chart_dates(packets), rows, dt.datetime(2026, 11, 23, 9))
    broken = tmp_path / "dashboard.html"
    broken.write_text("<p>{{ district.name }}</p>{% for r in rows %}{{ r.no_such_field }}{% endfor %}")
    with pytest.raises(PacketsError, match="dashboard.html: the template does not fit its data"):
        b"".join(dashboard_chunks(context, broken))
    with pytest.raises(PacketsError, match="the dashboard template is missing"):
        dashboard_chunks(context, tmp_path / "gone.html")


def test_a_page_that_fails_half_written_leaves_the_last_district_view(tmp_path, monkeypatch):
    settings = load_settings(SAMPLE, tmp_path / "out", DAY, ("0101",))
    out = settings.output
    out.mkdir(parents=True)
    for name in ("index.html", "district.xlsx", "district.ics"):
        (out / name).write_bytes(b"last run's " + name.encode())

    def failing(context, template):
        yield b"<!DOCTYPE html><html>" * 1000
        raise PacketsError("dashboard.html: the template does not fit its data (boom).")

    monkeypatch.setattr(rebuild, "dashboard_chunks", failing)
    with pytest.raises(PacketsError, match="boom"):
        pipeline.write_district_view(settings, {}, [])
    assert sorted(p.name for p in out.iterdir()) == ["district.ics", "district.xlsx", "index.html"]
    for name in ("index.html", "district.xlsx", "district.ics"):
        assert (out / name).read_bytes() == b"last run's " + name.encode()
