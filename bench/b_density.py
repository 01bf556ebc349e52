"""Density: what a big map costs to send and draw, as a density picture and as points.

For 100k, 1M and 5M synthetic 2-D points (20 Gaussian blobs, coloured by blob), the
Map page's density view (``explorer.render.figures.density_map``: a palette PNG of the counts, each
pixel mixing its points' category colours, plus the occupied cells of a 200 × 150 grid
as transparent markers) against today's all-points WebGL scatter
(``explorer.render.figures.scatter_map``, float32 typed arrays and a hover label per point).

Figures: the bytes sent (``len(fig.to_json())``, close to what Streamlit sends), the
server time to build the figure and serialise it, and the time Chromium takes from the
JSON in the page to the figure drawn (``bench.b_browser.draw_times``: JSON.parse,
Plotly.newPlot and two animation frames; headless, software WebGL).

The all-points scatter at 5M is skipped: its JSON would be ~155 MB (it grows linearly:
31 MB at 1M), near Streamlit's default 200 MB limit on a message, which the Map page would
never send (it draws the density view instead); parsing and drawing it in a headless
software-WebGL tab was not attempted. A density figure of the same points is ~0.3 MB.

Run: ``python -m bench.b_density`` (prints the table), or ``run(quick)`` from the suite.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.b_browser import CHROMIUM, _page, draw_times
from bench.common import Row
from bench.load import BROWSER_ARGS

GROUP = "density"
SIZES = (100_000, 1_000_000, 5_000_000)
SCATTER_UP_TO = 1_000_000  # the largest all-points scatter built and drawn (see above)
BLOBS = 20


def points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """(n, 2) float32 coordinates in BLOBS Gaussian blobs, short labels, blob names."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-20, 20, size=(BLOBS, 2))
    spread = rng.uniform(0.6, 3.0, size=BLOBS)
    blob = rng.integers(0, BLOBS, size=n)
    coords = (centres[blob] + spread[blob, None] * rng.normal(size=(n, 2))).astype(np.float32)
    labels = np.char.add("item ", np.arange(n).astype(str)).astype(object)
    names = np.array([f"topic {b:02d}" for b in range(BLOBS)], dtype=object)
    return coords, labels, pd.Series(names[blob])


def density_json(coords: np.ndarray, labels: np.ndarray, groups: pd.Series) -> str:
    from explorer.render.density import full_window
    from explorer.render.window_maps import density_map

    fig, _ = density_map(coords, full_window(coords), labels, colour=groups, colour_name="topic")
    return str(fig.to_json())


def scatter_json(coords: np.ndarray, labels: np.ndarray, groups: pd.Series) -> str:
    from explorer.render.scatter import scatter_map

    return str(scatter_map(coords, labels, colour=groups, colour_name="topic").to_json())


def _build(fn: Any, *args: Any) -> tuple[float, str]:
    t = time.perf_counter()
    spec = fn(*args)
    return time.perf_counter() - t, spec


def _draw(browser: Any, html: Path, spec: str, repeat: int) -> float | None:
    try:
        runs = draw_times(browser, html, {"fig": spec}, repeat)["fig"]
    except Exception as exc:  # noqa: BLE001 - a tab that runs out of memory is a result
        print(f"   draw failed: {type(exc).__name__}: {str(exc)[:120]}", flush=True)
        return None
    return float(statistics.median(r["ms"] for r in runs)) / 1000


def _say(n: int, kind: str, spec: str, build_s: float) -> None:
    print(f"{n:>9,} {kind}: {len(spec) / 1e6:.3f} MB, built in {build_s:.2f} s", flush=True)


def _rows(n: int, kind: str, build_s: float, spec: str, draw_s: float | None) -> list[Row]:
    data = f"{n:,} synthetic 2-D points in {BLOBS} blobs, coloured by blob"
    name = f"{n // 1000:,}k points, {kind}"
    rows = [
        Row(GROUP, f"{name}: bytes sent", round(len(spec) / 1e6, 3), "MB", data=data),
        Row(GROUP, f"{name}: figure built + JSON (server)", round(build_s, 3), "s", data=data),
    ]
    if draw_s is not None:
        rows.append(Row(GROUP, f"{name}: drawn in Chromium", round(draw_s, 3), "s", data=data))
    return rows


def run(quick: bool) -> list[Row]:
    from playwright.sync_api import sync_playwright

    sizes = SIZES[:2] if quick else SIZES
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        html = _page(Path(tmp))
        try:
            for n in sizes:
                coords, labels, groups = points(n)
                density_json(coords[:1000], labels[:1000], groups[:1000])  # warm-up
                build_s, spec = _build(density_json, coords, labels, groups)
                _say(n, "density", spec, build_s)
                rows += _rows(n, "density view", build_s, spec, _draw(browser, html, spec, 3))
                if n > SCATTER_UP_TO:
                    continue
                build_s, spec = _build(scatter_json, coords, labels, groups)
                _say(n, "scatter", spec, build_s)
                draw_s = _draw(browser, html, spec, 1 if n > 100_000 else 3)
                rows += _rows(n, "all-points scatter", build_s, spec, draw_s)
                del spec
        finally:
            browser.close()
    return rows


if __name__ == "__main__":
    for row in run(quick=False):
        print(f"{row.figure:<55} {row.ours:>10,.3f} {row.unit}")
