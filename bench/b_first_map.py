"""From vectors to a map, as a user gets one: Fashion-MNIST 70,000 × 784 (held out).

Three measures per seed, each process fresh (imports, file checks and writes counted):

* **CLI**: ``python -m explorer build vectors.npy`` then ``python -m explorer project
  --method umap`` (its quality measured and stored with it, as the CLI does);
* **(b) as a script**: what a umap-learn user writes for the same map, in one fresh
  process: ``np.load``, an hnswlib index (M=16, ef_construction=64), its kNN graph
  (k=15, ef=30), ``umap.UMAP(precomputed_knn=...)``, ``np.save`` of the coordinates;
* **browser**: with the app's server already running, ``explorer build`` into its
  spaces folder, then the Map page opened in Debian's headless Chromium, timed until
  the map is on screen ("vectors in → map drawn"), and then until its quality line
  has filled in (measured by a worker after the map is drawn).

One untimed warm-up of each fills the compiled-code caches (numba) both sides keep on
disk. ``python -m bench.b_first_map [--seeds N]`` writes
``docs/results/first-map.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT, machine
from bench.heldout_report import interval

TARGET_BROWSER_S = 30.0

BASELINE = """
import sys, time
import numpy as np, hnswlib, umap
x = np.load(sys.argv[1])
index = hnswlib.Index(space="cosine", dim=x.shape[1])
index.init_index(max_elements=len(x), M=16, ef_construction=64, random_seed=int(sys.argv[3]))
index.add_items(x, np.arange(len(x)))
index.set_ef(30)
nbr, dist = index.knn_query(x, k=15)
np.random.seed(int(sys.argv[3]))
coords = umap.UMAP(
    n_neighbors=15, metric="cosine", precomputed_knn=(nbr.astype(np.int32), dist)
).fit_transform(x)
np.save(sys.argv[2], coords.astype(np.float32))
"""


def _run(args: list[str]) -> float:
    """Seconds of one fresh process; its failure stops the bench."""
    t = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[:4])} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - t


def _cli(vectors: Path, meta: Path, out: Path, seed: int) -> dict[str, float]:
    cli = [sys.executable, "-m", "explorer"]
    build = _run([*cli, "build", str(vectors), "--metadata", str(meta), "--out", str(out)])
    build_args = [*cli, "project", str(out), "--method", "umap", "--seed", str(seed)]
    project = _run(build_args)
    return {"build": build, "project": project, "total": build + project}


def _baseline(vectors: Path, out: Path, seed: int) -> dict[str, float]:
    return {"total": _run([sys.executable, "-c", BASELINE, str(vectors), str(out), str(seed)])}


def _build_space(vectors: Path, meta: Path, spaces: Path) -> float:
    """Seconds to build (or rebuild) the app's space ``fashion`` from the vectors."""
    cli = [sys.executable, "-m", "explorer", "build", str(vectors), "--metadata", str(meta)]
    return _run([*cli, "--out", str(spaces / "fashion"), "--overwrite"])


def _browser(pg: Any, url: str, build: float) -> dict[str, float]:
    """Open the Map page of the space just built (`build` seconds) until it is drawn."""
    from bench.load import wait_idle

    t = time.perf_counter()
    pg.goto(f"{url}/Map")
    pg.locator(".js-plotly-plot").first.wait_for(timeout=300_000)
    drawn = time.perf_counter() - t
    pg.get_by_text("How faithful this map is").wait_for(timeout=300_000)
    measured = time.perf_counter() - t
    wait_idle(pg)
    return {"build": build, "map_drawn": drawn, "total": build + drawn, "quality": measured}


def run(seeds: int = 3) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from bench.heldout_data import fashion
    from bench.load import launch, start_server, stop_server

    x, labels, name = fashion()
    runs: dict[str, list[dict[str, float]]] = {"cli": [], "baseline_b": [], "browser": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        vectors, meta = root / "fashion.npy", root / "fashion.csv"
        np.save(vectors, x)
        meta.write_text("label\n" + "\n".join(str(int(v)) for v in labels) + "\n")
        spaces = root / "spaces"
        spaces.mkdir()
        _cli(vectors, meta, root / "warm", 0)  # warm-ups, untimed
        _baseline(vectors, root / "warm.npy", 0)
        # The server runs before each build, as a team's does; it starts on a first
        # space (untimed), and each timed build replaces that space with a new version.
        _build_space(vectors, meta, spaces)
        url, proc = start_server(spaces, "fashion", root / "streamlit.log")
        try:
            with sync_playwright() as p:
                browser = launch(p)
                for seed in range(1, seeds + 1):
                    order = ("cli", "baseline_b") if seed % 2 else ("baseline_b", "cli")
                    for method in order:
                        out = root / f"{method}-{seed}"
                        runs[method].append(
                            _cli(vectors, meta, out, seed)
                            if method == "cli"
                            else _baseline(vectors, out.with_suffix(".npy"), seed)
                        )
                    # Each browser run is a new version of the space, so its map is new too.
                    build = _build_space(vectors, meta, spaces)
                    page = browser.new_context(viewport={"width": 1400, "height": 1000})
                    runs["browser"].append(_browser(page.new_page(), url, build))
                    page.close()
                browser.close()
        finally:
            stop_server(proc)
    ratios = [b["total"] / c["total"] for b, c in zip(runs["baseline_b"], runs["cli"], strict=True)]
    mean, half = interval(ratios)
    drawn = [r["total"] for r in runs["browser"]]
    return {
        "machine": machine(),
        "data": name,
        "runs": runs,
        "cli_vs_baseline_b": {"per_seed": ratios, "mean": mean, "ci95": half, "target": 2.0},
        "browser_build_to_map": {
            "per_seed": drawn,
            "mean": interval(drawn)[0],
            "ci95": interval(drawn)[1],
            "target_s": TARGET_BROWSER_S,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    report = run(ap.parse_args().seeds)
    (ROOT / "docs" / "results" / "first-map.json").write_text(json.dumps(report, indent=1))
    for method, runs in report["runs"].items():
        for r in runs:
            print(method, {k: round(v, 1) for k, v in r.items()})
    c, b = report["cli_vs_baseline_b"], report["browser_build_to_map"]
    print(f"CLI build + project vs (b) script: {c['mean']:.2f} ± {c['ci95']:.2f}×")
    print(f"browser, build → map drawn: {b['mean']:.1f} ± {b['ci95']:.1f} s")


if __name__ == "__main__":
    main()
