"""In a real Chromium: a shared view's address opens the same view in a new browser,
and a three-view tour is presented step by step."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.load import CHROMIUM, launch, start_server, stop_server, wait_idle

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("EXPLORER_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run).")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

WAIT = 180_000


def _idle(pg) -> None:  # type: ignore[no-untyped-def]
    wait_idle(pg, timeout=WAIT)


def _open_share(pg):  # type: ignore[no-untyped-def]
    """Open the sidebar's share expander, whatever state it is in, and return its side.

    A click toggles: after a page switch the expander can still be open (or the
    click can land on the old page's copy while the new one renders), so a
    blind click may close it. Click only while its Title box is hidden.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    side = pg.get_by_test_id("stSidebar")
    box = side.get_by_label("Title", exact=True)
    for _ in range(5):
        _idle(pg)
        if box.is_visible():
            return side
        side.get_by_text("Share or present this view").click()
        try:
            box.wait_for(state="visible", timeout=10_000)
        except PlaywrightTimeout:
            continue
    box.wait_for(state="visible")
    return side


def _add_to_tour(pg, title: str) -> None:  # type: ignore[no-untyped-def]
    side = _open_share(pg)
    box = side.get_by_label("Title", exact=True)
    box.fill(title)
    box.press("Enter")
    _idle(pg)
    side.get_by_role("button", name="Add to tour").click()
    side.get_by_text("the tour has").wait_for(timeout=WAIT)
    _idle(pg)


def _go(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    pg.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    _idle(pg)


def test_shared_view_and_tour(app_spaces: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    spaces = tmp_path / "spaces"
    shutil.copytree(app_spaces / "iris", spaces / "iris")
    url, proc = start_server(spaces, "iris", tmp_path / "server.log")
    try:
        with sync_playwright() as p:
            browser = launch(p)
            a = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            a.set_default_timeout(WAIT)
            a.goto(f"{url}/Map")
            a.locator(".js-plotly-plot").first.wait_for()
            _idle(a)
            search = a.get_by_label("Highlight items containing")
            search.fill("iris-00")
            search.press("Enter")
            a.get_by_text("10 item(s) contain").wait_for()
            _idle(a)
            side = _open_share(a)
            side.get_by_role("button", name="Share link").click()
            side.get_by_text("The address bar now holds this view").wait_for()
            shared = a.url
            assert "search=iris-00" in shared and "space=iris" in shared

            # A new browser (no cookies, a new session) opens the same view.
            b = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            b.set_default_timeout(WAIT)
            b.goto(shared)
            b.get_by_text("10 item(s) contain").wait_for()
            _idle(b)
            # The box shows the shared search (waiting out a re-render in progress).
            expect(b.get_by_label("Highlight items containing")).to_have_value(
                "iris-00", timeout=30_000
            )

            # Three views into a tour, saved with the space, then presented.
            _add_to_tour(b, "One: the map")
            _go(b, "Neighbours")
            _add_to_tour(b, "Two: neighbours")
            _go(b, "Quality")
            _add_to_tour(b, "Three: how faithful")
            _go(b, "Tour")
            b.get_by_text("The tour being made: 3 view(s)").wait_for()
            b.get_by_label("Tour title").fill("Iris tour")
            b.get_by_label("Tour title").press("Enter")
            _idle(b)
            b.get_by_role("button", name="Save with the space").click()
            b.get_by_role("button", name="Present").first.wait_for()
            _idle(b)
            b.get_by_role("button", name="Present").first.click()
            b.get_by_text("View 1 of 3").wait_for()
            b.get_by_role("heading", name="One: the map").wait_for()
            for i, title in ((2, "Two: neighbours"), (3, "Three: how faithful")):
                b.get_by_role("button", name="Next ▶").click()
                b.get_by_text(f"View {i} of 3").wait_for()
                b.get_by_role("heading", name=title).wait_for()
                _idle(b)
            assert "Traceback" not in b.inner_text("body")
            browser.close()
    finally:
        stop_server(proc)
