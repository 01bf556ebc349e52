"""Hostile data renders inert in a real headless Chromium (Debian's): no link, no tag.

AppTest sees markdown source and figure JSON (tests/test_safe_text.py); only a browser
shows what Streamlit's markdown and plotly.js make of them. The space's every string is
an attack (see ``hostile_items``), and one user's upload is shown to others.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_safe_text import FORMULA, HTML, HTML_CATEGORY, LINK, build_hostile_space

from bench import load
from bench.load import launch, start_server, stop_server

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "test-output"

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("EXPLORER_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run).")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

# Anchors (HTML, or SVG's xlink:href from plotly), images and KaTeX made from the data.
MADE_FROM_DATA = """() => {
    const evil = v => (v || '').includes('evil.example');
    const anchors = [...document.querySelectorAll('a')].filter(a =>
        evil(a.getAttribute('href')) || evil(a.getAttribute('xlink:href')) ||
        evil(a.getAttributeNS('http://www.w3.org/1999/xlink', 'href')));
    const images = [...document.querySelectorAll('img')].filter(i => evil(i.src));
    return {anchors: anchors.length, images: images.length,
            katex: document.querySelectorAll('.katex').length};
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    spaces = tmp_path_factory.mktemp("inert") / "spaces"
    build_hostile_space(spaces / "hostile")
    url, proc = start_server(spaces, "hostile", tmp_path_factory.mktemp("log") / "streamlit.log")
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(90_000)
    yield pg
    ctx.close()


def wait_idle(pg) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished the current run."""
    load.wait_idle(pg, timeout=180_000)


def visible_text(pg) -> str:  # type: ignore[no-untyped-def]
    """The page's text as a reader sees it (md()'s invisible word joiners dropped)."""
    return str(pg.inner_text("body")).replace("\u2060", "")


def assert_nothing_made_from_data(pg) -> None:  # type: ignore[no-untyped-def]
    assert pg.locator('a[href*="evil.example"]').count() == 0
    assert pg.evaluate(MADE_FROM_DATA) == {"anchors": 0, "images": 0, "katex": 0}
    body = pg.inner_text("body")
    assert "Traceback" not in body and "StreamlitAPIException" not in body


def test_neighbours_page_shows_the_phishing_item_as_text(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/Neighbours")
    page.get_by_text("Choose an item to see its nearest neighbours.").wait_for()
    wait_idle(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Item").get_by_role("combobox").click()
    page.get_by_role("option", name=LINK).first.click()  # options are plain text
    page.get_by_test_id("stHeading").filter(has_text="Nearest to").wait_for()
    # The page's last part, after the map (a first UMAP may compile numba's code: minutes).
    page.get_by_text("Map honesty for this item").wait_for(timeout=240_000)
    wait_idle(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "inert-neighbours.png"), full_page=True)
    assert f"Nearest to {LINK}" in visible_text(page)  # the payload, as typed
    assert_nothing_made_from_data(page)


def test_map_legend_hover_and_csv_are_inert(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/Map")
    page.locator(".js-plotly-plot").first.wait_for()
    wait_idle(page)
    # The legend: the hostile category column's values, as text.
    legend = page.locator(".js-plotly-plot .legendtext").all_text_contents()
    assert HTML_CATEGORY in legend and "**bold**" in (
        page.locator(".legendtitletext").text_content() or ""
    )
    # The hover label of an item whose text is an HTML link.
    xy = page.evaluate(
        """(html) => {
        const gd = document.querySelector('.js-plotly-plot');
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const r = gd.querySelector('.nsewdrag').getBoundingClientRect();
        for (const t of gd._fullData) {
            const i = Array.from(t.text).indexOf(html);
            if (i >= 0) return [r.x + xa.l2p(t.x[i]), r.y + ya.l2p(t.y[i])];
        }
        return null; }""",
        HTML.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
    )
    assert xy is not None
    page.mouse.move(xy[0], xy[1])
    hover = page.locator(".hoverlayer .hovertext").first
    hover.wait_for()
    assert "<a href=" in hover.text_content()  # shown as typed (this point or a neighbour's)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "inert-map.png"), full_page=True)
    assert_nothing_made_from_data(page)
    # The lazy download: made on click, through to_csv_bytes.
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download all map coordinates (CSV)").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    cells = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    assert f"'{FORMULA}" in cells and FORMULA not in cells
