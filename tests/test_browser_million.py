"""A million points on the Map, in a real headless Chromium (Debian's), driving
`streamlit run app.py`: a density picture first, zoomed in by dragging boxes until the
real points are drawn, then a selection of real points.

The space is built once, fast: items with a given map (columns x, y) and a category,
4-d vectors (x, y and two noise dimensions), hnswlib's index, and the given map made
here rather than by the server's worker.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bench.load import CHROMIUM, launch, start_server, stop_server, wait_idle
from explorer.render.density import POINT_BUDGET

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("EXPLORER_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run).")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

N = 1_000_000
WAIT = 180_000
SHOTS = Path(__file__).resolve().parent.parent / "test-output"
# Where the test zooms in: the middle of the evenly spread half of the points.
TARGET = (25.0, 30.0)


def _items(n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Half the points spread evenly over [0, 50] × [0, 60], half in six dense blobs
    to its right; a category per blob ("spread" for the even half)."""
    rng = np.random.default_rng(0)
    half = n // 2
    even = rng.uniform([0, 0], [50, 60], size=(half, 2))
    blob = rng.integers(0, 6, size=n - half)
    centres = np.column_stack([70 + 12 * (np.arange(6) % 2), 8 + 10 * np.arange(6)])
    dense = centres[blob] + rng.normal(0, 2.0, size=(n - half, 2))
    xy = np.vstack([even, dense])
    group = np.concatenate([np.full(half, "spread"), np.char.add("blob ", blob.astype(str))])
    items = pd.DataFrame(
        {"id": [f"p{i}" for i in range(n)], "x": xy[:, 0], "y": xy[:, 1], "group": group}
    )
    noise = rng.normal(0, 1, size=(n, 2))
    return items, np.column_stack([xy, noise]).astype(np.float32)


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from explorer.ingest.build import build_space
    from explorer.maps.projections import ProjectionParams, project_space
    from explorer.opened.handle import open_space

    root = tmp_path_factory.mktemp("million") / "spaces"
    items, vectors = _items(N)
    # The default index (~20 s on two cores). A lighter graph (M=8) builds faster but
    # its recall sometimes stays under 0.98 at any search breadth, and the map's quality
    # (1,000,000 neighbour queries) then runs at ef=512: minutes instead of ~15 s.
    space, index, _ = build_space(items, vectors, root / "million", metric="l2")
    # The map the page opens on ("given": the items' x, y), stored with the space.
    project_space(open_space(root / "million"), ProjectionParams(method="given"))
    return root


@pytest.fixture(scope="module")
def server(million: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, proc = start_server(million, "million", tmp_path_factory.mktemp("log") / "server.log")
    yield url
    stop_server(proc)


def _caption(pg: Any, start: str) -> str:
    loc = pg.get_by_test_id("stCaptionContainer").filter(has_text=start).first
    loc.wait_for(timeout=WAIT)
    return str(loc.inner_text())


def _plot_box(pg: Any) -> dict[str, float]:
    """The plot area on screen, once it has stopped moving (Streamlit sizes a chart
    after plotly first draws it)."""
    last: dict[str, float] = {}
    for _ in range(40):
        box = dict(
            pg.evaluate("""() => {
            const r = document.querySelector('.js-plotly-plot .nsewdrag').getBoundingClientRect();
            return {x: r.x, y: r.y, w: r.width, h: r.height}; }""")
        )
        if box == last:
            break
        last = box
        pg.wait_for_timeout(250)
    return last


def _to_screen(pg: Any, x: float, y: float) -> tuple[float, float]:
    """Screen pixels of the map point (x, y)."""
    px = pg.evaluate(
        """([x, y]) => {
        const gd = document.querySelector('.js-plotly-plot');
        const r = gd.querySelector('.nsewdrag').getBoundingClientRect();
        return [r.x + gd._fullLayout.xaxis.l2p(x), r.y + gd._fullLayout.yaxis.l2p(y)]; }""",
        [x, y],
    )
    return float(px[0]), float(px[1])


def _drag(pg: Any, x0: float, y0: float, x1: float, y1: float) -> None:
    pg.mouse.move(x0, y0)
    pg.mouse.down()
    pg.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=8)
    pg.mouse.move(x1, y1, steps=8)
    pg.mouse.up()


def _drawn_points(pg: Any) -> int:
    return int(
        pg.evaluate("""() => {
        const gd = document.querySelector('.js-plotly-plot');
        return gd._fullData.reduce((s, t) => s + (t.x ? t.x.length : 0), 0); }""")
    )


def _next_view(pg: Any, before: str) -> str:
    """Wait for the map's caption to change from `before` (the rerun a selection starts
    may take a while to begin), then for the run to end; the new caption."""
    pg.wait_for_function(
        """(before) => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
            .map(e => e.innerText)
            .some(t => (t.startsWith('Density view') || t.startsWith('Points')) && t !== before)""",
        arg=before,
        timeout=WAIT,
    )
    wait_idle(pg, timeout=WAIT)
    return str(
        pg.get_by_test_id("stCaptionContainer")
        .filter(has_text=re.compile("^(Density view|Points)"))
        .first.inner_text()
    )


def _count(text: str, pattern: str) -> int:
    found = re.search(pattern, text)
    assert found, (pattern, text)
    return int(found.group(1).replace(",", ""))


# The rows (ids) plotly itself places inside a box of the screen.
_INSIDE = """([x0, y0, x1, y1]) => {
    const gd = document.querySelector('.js-plotly-plot');
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const r = gd.querySelector('.nsewdrag').getBoundingClientRect();
    const ids = new Set();
    gd._fullData.forEach(t => (t.x || []).forEach((x, i) => {
        const px = r.x + xa.l2p(x), py = r.y + ya.l2p(t.y[i]);
        if (px >= x0 && px <= x1 && py >= y0 && py <= y1) ids.add(t.customdata[i]);
    }));
    return ids.size; }"""
_SELECTION = re.compile(r"^Selection: [\d,]+ items$")


def _zoom_to_points(pg: Any, text: str) -> list[str]:
    """Drag boxes around TARGET (a third of the plot's width and height each) until the
    caption says real points are drawn; the captions seen."""
    views = [text]
    while text.startswith("Density view") and len(views) < 5:
        box = _plot_box(pg)
        cx, cy = _to_screen(pg, *TARGET)
        dx, dy = box["w"] / 6, box["h"] / 6
        _drag(pg, cx - dx, cy - dy, cx + dx, cy + dy)
        text = _next_view(pg, text)
        views.append(text)
    return views


def _select_box(pg: Any) -> tuple[int, int, int]:
    """Box-select part of the drawn points: (fewest, most) rows plotly places inside the
    box give or take a pixel, and the size of the selection the page then shows."""
    pg.locator(".modebar-btn[data-val='select']").first.click()
    box = _plot_box(pg)
    x0, y0 = box["x"] + box["w"] * 0.3, box["y"] + box["h"] * 0.3
    x1, y1 = box["x"] + box["w"] * 0.5, box["y"] + box["h"] * 0.6
    least = pg.evaluate(_INSIDE, [x0 + 1, y0 + 1, x1 - 1, y1 - 1])
    most = pg.evaluate(_INSIDE, [x0 - 1, y0 - 1, x1 + 1, y1 + 1])
    before = pg.get_by_text(_SELECTION).first.inner_text()
    _drag(pg, x0, y0, x1, y1)
    pg.wait_for_function(
        """(before) => [...document.querySelectorAll('h3')].some(
            h => h.innerText.startsWith('Selection:') && h.innerText !== before)""",
        arg=before,
        timeout=WAIT,
    )
    wait_idle(pg, timeout=WAIT)
    shown = pg.get_by_text(_SELECTION).first.inner_text()
    return least, most, _count(shown, r"Selection: ([\d,]+) items")


def test_a_million_points_zoom_from_density_to_points_and_select(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        pg.set_default_timeout(WAIT)
        frames: list[int] = []  # sizes of what the server sent over the websocket
        pg.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(len(f))))
        pg.goto(f"{server}/Map")
        pg.locator(".js-plotly-plot").first.wait_for()
        wait_idle(pg, timeout=WAIT)
        text = _caption(pg, "Density view")
        assert _count(text, r"Density view: ([\d,]+) points") == N
        assert pg.evaluate("document.querySelector('.js-plotly-plot').layout.images.length") == 1
        assert pg.locator(".js-plotly-plot .imagelayer image").count() == 1  # drawn
        # The whole page's messages stay small: the picture and ≤ 30,000 cell markers.
        assert max(frames) < 5_000_000, max(frames)
        assert _drawn_points(pg) <= 30_000
        SHOTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(SHOTS / "million-density.png"), full_page=True)

        views = _zoom_to_points(pg, text)
        text = views[-1]
        assert text.startswith("Points: all"), views
        assert len(views) >= 3, views  # 1,000,000 → a density view still → points
        n_view = _count(text, r"Points: all ([\d,]+) points in this view")
        assert 0 < n_view <= POINT_BUDGET and f"(of {N:,})" in text
        assert _drawn_points(pg) == n_view
        # The zoom selected every row of the cells it covered.
        assert pg.get_by_text(_SELECTION).count() == 1
        pg.screenshot(path=str(SHOTS / "million-points.png"), full_page=True)

        # A box over real points selects them, as on any map.
        least, most, selected = _select_box(pg)
        assert 10 < least <= selected <= most < n_view
        assert pg.get_by_test_id("stDataFrame").count() >= 1
        assert "Traceback" not in pg.inner_text("body")
        pg.screenshot(path=str(SHOTS / "million-selection.png"), full_page=True)
        browser.close()
