"""Maps from vectors against strong baselines, on data never used to pick a default.

Methods, each run in a fresh process, warmed in that process, seeds alternating:

* ``ours``: explorer's map as the product makes it from vectors (``project_space`` on a
  space whose search index is not built yet: the map's own kNN graph, the start,
  the epochs, and the quality stored with every map). The full search index, which
  the product builds for neighbour lists, is timed on its own line.
* ``umap``: (a) umap-learn with its defaults; its pynndescent is compiled first on
  5,000 rows (at least 4,096, where umap-learn stops computing exact distances).
* ``umap-hnsw``: (b) umap-learn handed an hnswlib kNN graph (M=16, ef_construction=64,
  15 neighbours with the point itself, searched at ef=30, all as ours) through
  ``precomputed_knn``; warmed on 5,000 rows.
* ``tsne``, ``pacmap``: (c) openTSNE and PaCMAP given a kNN graph from the same hnswlib
  index (90 neighbours for openTSNE's perplexity 30, 10 for PaCMAP), as quality
  references (bench extras: ``requirements-bench.txt``).

Quality: trustworthiness and neighbour preservation at k=10 over all points
(``bench.allpoints``), and each method's kNN graph recall against exact search.
Clusters: ours (``cluster_space``'s KMeans) against scikit-learn's KMeans on the full
vectors; ARI with the labels where a set has them, inertia on the full vectors always.

``python -m bench.b_heldout [--quick] [--seeds N] [--sets fashion glosses glove]
[--methods ...]`` writes every run's raw figures to ``docs/results/heldout-*.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, ROOT, machine
from bench.heldout_report import table

OUT = RESULTS / "heldout"
DOCS = ROOT / "docs" / "results"
METHODS = ("ours", "umap-hnsw", "umap", "pacmap", "tsne")
REFERENCES = ("pacmap", "tsne")  # quality references: fewer seeds (--reference-seeds)
K = 15  # UMAP's n_neighbors, the point itself included
HNSW = {"M": 16, "ef_construction": 64}
EF = 30  # explorer.index.knn.graph_ef(14)
WARM_ROWS = 5000


def _data(name: str, quick: bool) -> tuple[np.ndarray, np.ndarray | None, str]:
    from bench.heldout_data import load

    x, y, desc = load(name)
    if quick:  # a fixed, seeded subset: quick runs check the bench, not the figures
        keep = np.sort(np.random.default_rng(0).choice(len(x), 20_000, replace=False))
        x, y, desc = x[keep], None if y is None else y[keep], f"{desc}, 20,000-row subset"
    return x, y, desc


class Stages:
    """Wall time of named stages, in order."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        out = fn()
        self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - t
        return out


def _hnsw_graph(x: np.ndarray, k: int, st: Stages) -> tuple[np.ndarray, np.ndarray]:
    """k nearest of each row, itself first (hnswlib, cosine), as (indices, distances)."""
    import hnswlib

    def build() -> Any:
        idx = hnswlib.Index(space="cosine", dim=x.shape[1])
        idx.init_index(max_elements=len(x), **HNSW, random_seed=0)
        idx.add_items(x, num_threads=os.cpu_count() or 1)
        idx.set_ef(max(EF, k))
        return idx

    idx = st.run("graph", build)
    nbr, dist = st.run("graph", lambda: idx.knn_query(x, k=k, num_threads=os.cpu_count() or 1))
    nbr, dist = nbr.astype(np.int64), np.maximum(dist, 0).astype(np.float32)
    # hnswlib may return a duplicate's index before the row itself: put the row first.
    for i in np.flatnonzero(nbr[:, 0] != np.arange(len(x))):
        row = [j for j in nbr[i] if j != i][: k - 1]
        nbr[i] = [i, *row, *([row[-1]] * (k - 1 - len(row)))]
        dist[i, 0] = 0.0
    return nbr, dist


def _ours(x: np.ndarray, seed: int, st: Stages) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    import pandas as pd

    import explorer.maps.umap as umap_mod
    from explorer.core.space import make_space
    from explorer.maps.projections import ProjectionParams, project_space

    space = make_space(pd.DataFrame({"id": np.arange(len(x)).astype(str)}), x)
    marks: list[tuple[float, float]] = []
    graph: dict[str, np.ndarray] = {}
    epochs, starts = umap_mod.run_epochs, umap_mod.fuzzy_start

    def timed_epochs(*a: Any, **kw: Any) -> np.ndarray:
        return st.run("epochs", lambda: epochs(*a, **kw))

    def seen_start(*a: Any, **kw: Any) -> Any:
        if kw.get("knn") is not None and len(kw["knn"][0]) == len(x):
            graph["knn"] = kw["knn"][0]
        return starts(*a, **kw)

    umap_mod.run_epochs, umap_mod.fuzzy_start = timed_epochs, seen_start  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        proj = project_space(
            space,
            ProjectionParams(method="umap", seed=seed),
            progress=lambda f, m: marks.append((f, time.perf_counter())),
        )
    finally:
        umap_mod.run_epochs, umap_mod.fuzzy_start = epochs, starts  # type: ignore[assignment]
    at = dict(marks)
    st.times["graph"] = at[0.2] - t0
    st.times["start"] = at[0.9] - at[0.2] - st.times["epochs"]
    st.times["quality"] = at[1.0] - at[0.9]
    return proj.coords, graph["knn"], {"notes": proj.notes}


def _umap_learn(
    x: np.ndarray, seed: int, st: Stages, hnsw: bool
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    import umap

    np.random.seed(seed)  # umap-learn draws from NumPy's global state without random_state
    kw: dict[str, Any] = {"n_neighbors": K}
    if hnsw:
        nbr, dist = _hnsw_graph(x, K, st)
        kw |= {"precomputed_knn": (nbr.astype(np.int32), dist), "metric": "cosine"}
    reducer = umap.UMAP(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coords = st.run("layout", lambda: reducer.fit_transform(x))
    graph = nbr[:, 1:] if hnsw else reducer._knn_indices[:, 1:]
    return np.asarray(coords, dtype=np.float32), graph, {}


def _tsne(x: np.ndarray, seed: int, st: Stages) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from openTSNE import TSNE, affinity
    from openTSNE.nearest_neighbors import PrecomputedNeighbors

    nbr, dist = _hnsw_graph(x, 91, st)
    knn = PrecomputedNeighbors(nbr[:, 1:], dist[:, 1:])
    aff = st.run("graph", lambda: affinity.PerplexityBasedNN(knn_index=knn, perplexity=30))
    tsne = TSNE(n_jobs=os.cpu_count() or 1, random_state=seed)
    coords = st.run(
        "layout", lambda: np.asarray(tsne.fit(affinities=aff, initialization="pca", X=x))
    )
    return coords.astype(np.float32), nbr[:, 1:K], {}


def _pacmap(x: np.ndarray, seed: int, st: Stages) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    import pacmap

    nbr, _ = _hnsw_graph(x, 11, st)
    n = len(x)
    pairs = np.stack([np.repeat(np.arange(n), 10), nbr[:, 1:].ravel()], axis=1).astype(np.int32)
    reducer = pacmap.PaCMAP(n_components=2, n_neighbors=10, pair_neighbors=pairs, random_state=seed)
    coords = st.run("layout", lambda: reducer.fit_transform(x, init="pca"))
    return np.asarray(coords, dtype=np.float32), nbr[:, 1:], {}


def _clusters(x: np.ndarray, y: np.ndarray | None, seed: int, which: str) -> dict[str, Any]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    n_clusters = int(len(np.unique(y))) if y is not None else 20
    t = time.perf_counter()
    if which == "ours":
        import pandas as pd

        from explorer.cluster.clusterings import ClusterParams, cluster_space
        from explorer.core.space import make_space

        space = make_space(pd.DataFrame({"id": np.arange(len(x)).astype(str)}), x)
        params = ClusterParams(algorithm="kmeans", n_clusters=n_clusters, seed=seed)
        labels = np.asarray(cluster_space(space, params).labels)
    else:
        km = KMeans(n_clusters=n_clusters, n_init="auto", random_state=seed)
        labels = km.fit_predict(x)
    seconds = time.perf_counter() - t
    inertia = 0.0
    for c in np.unique(labels[labels >= 0]):
        part = x[labels == c]
        inertia += float(((part - part.mean(0)) ** 2).sum())
    return {
        "seconds": seconds,
        "inertia": inertia,
        "ari": None if y is None else float(adjusted_rand_score(y, labels)),
        "n_clusters": n_clusters,
    }


RUNNERS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray, dict[str, Any]]]] = {
    "ours": _ours,
    "umap-hnsw": lambda x, s, st: _umap_learn(x, s, st, hnsw=True),
    "umap": lambda x, s, st: _umap_learn(x, s, st, hnsw=False),
    "tsne": _tsne,
    "pacmap": _pacmap,
}


def side(method: str, data: str, seed: int, quick: bool) -> dict[str, Any]:
    """One method, one set, one seed, in this process; coordinates saved beside."""
    x, y, desc = _data(data, quick)
    warm = np.ascontiguousarray(x[np.random.default_rng(99).choice(len(x), WARM_ROWS, False)])
    if method == "ours":
        from explorer.maps.umap import warm_up

        warm_up()
    RUNNERS[method](warm, seed + 1000, Stages())  # compile and load everything first
    st = Stages()
    t = time.perf_counter()
    coords, graph, extra = RUNNERS[method](x, seed, st)
    seconds = time.perf_counter() - t
    res: dict[str, Any] = {"method": method, "data": data, "seed": seed, "desc": desc}
    res |= {"seconds": seconds, "stages": st.times, **extra}
    if method == "ours":
        from explorer.index.hnsw import build_index, tune_ef

        t = time.perf_counter()
        tune_ef(build_index(x, "cosine"))
        res["index_seconds"] = time.perf_counter() - t
    if method in ("ours", "umap"):  # the two pipelines' clusterings, once per run
        res["clusters"] = _clusters(x, y, seed, method)
    folder = OUT / ("quick" if quick else "full") / data
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / f"{method}-{seed}.npz", coords=coords, graph=graph[:, : K - 1])
    return res


def _fresh(method: str, data: str, seed: int, quick: bool) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.b_heldout", "--side", method, data, str(seed)]
    out = subprocess.run(
        args + (["--quick"] if quick else []), cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode != 0:
        return {"method": method, "data": data, "seed": seed, "error": out.stderr[-2000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(runs: list[dict[str, Any]], data: str, quick: bool) -> tuple[str, float]:
    """Trustworthiness, preservation (all points) and graph recall of every saved map of
    one set, written into its run; returns (the set's description, seconds taken)."""
    from bench.allpoints import evaluate, recall

    x, _, desc = _data(data, quick)
    folder = OUT / ("quick" if quick else "full") / data
    ok = [r for r in runs if "error" not in r]
    maps, graphs = {}, {}
    for r in ok:
        saved = np.load(folder / f"{r['method']}-{r['seed']}.npz")
        maps[f"{r['method']}-{r['seed']}"] = saved["coords"]
        graphs[f"{r['method']}-{r['seed']}"] = saved["graph"]
    t = time.perf_counter()
    scores, exact = evaluate(x, maps)
    for r in ok:
        name = f"{r['method']}-{r['seed']}"
        r |= scores[name]
        r["graph_recall"] = recall(graphs[name], exact[:, : K - 1])
    return desc, time.perf_counter() - t


def run(
    sets: list[str],
    methods: list[str],
    seeds: int,
    reference_seeds: int,
    quick: bool,
    save: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """Every method on every set; `save` is called with the report after each set."""

    report: dict[str, Any] = {
        "machine": machine(),
        "quick": quick,
        "seeds": seeds,
        "reference_seeds": reference_seeds,
        "sets": {},
    }
    for data in sets:
        runs: list[dict[str, Any]] = []
        for seed in range(seeds):
            order = methods if seed % 2 == 0 else methods[::-1]
            for method in order:
                if method in REFERENCES and seed >= reference_seeds:
                    continue
                print(f"{data} seed {seed}: {method}", flush=True)
                runs.append(_fresh(method, data, seed, quick))
        desc, seconds = measure(runs, data, quick)
        report["sets"][data] = {"desc": desc, "eval_seconds": seconds, "runs": runs}
        print(table(report["sets"][data]), flush=True)
        save(report)
    return report


def redo(path: Path, data: str, which: list[str], why: str, quick: bool) -> dict[str, Any]:
    """Run the named runs ("METHOD:SEED") of one set again, replacing them in the saved
    report at `path`, and measure the set's maps again; each redone run says why."""

    report = json.loads(path.read_text())
    entry = report["sets"][data]
    for item in which:
        method, seed = item.split(":")
        fresh = _fresh(method, data, int(seed), quick)
        fresh["redone"] = why
        entry["runs"] = [
            r for r in entry["runs"] if (r["method"], r["seed"]) != (method, int(seed))
        ] + [fresh]
    entry["eval_seconds"] = measure(entry["runs"], data, quick)[1]
    path.write_text(json.dumps(report, indent=1, default=float))
    return report


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.b_heldout", description=__doc__)
    ap.add_argument("--side", nargs=3, metavar=("METHOD", "DATA", "SEED"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--reference-seeds", type=int, default=2)
    ap.add_argument("--sets", nargs="*", default=["fashion", "glosses", "glove"])
    ap.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS)
    ap.add_argument("--tag", default="", help="suffix of the results file")
    ap.add_argument(
        "--redo",
        nargs="+",
        metavar="METHOD:SEED",
        help="run these again in the saved report of --tag (one --sets), e.g. after a "
        "run shared the machine; --why says why",
    )
    ap.add_argument("--why", default="the machine was shared during the first run")
    a = ap.parse_args()
    if a.side:
        print(json.dumps(side(a.side[0], a.side[1], int(a.side[2]), a.quick)))
        return
    name = f"heldout-{'quick' if a.quick else 'full'}{'-' + a.tag if a.tag else ''}.json"
    DOCS.mkdir(parents=True, exist_ok=True)
    if a.redo:
        report = redo(DOCS / name, a.sets[0], a.redo, a.why, a.quick)
        print(table(report["sets"][a.sets[0]]))
        return

    def save(report: dict[str, Any]) -> None:
        (DOCS / name).write_text(json.dumps(report, indent=1, default=float))

    run(a.sets, a.methods, a.seeds, a.reference_seeds, a.quick, save)
    print(f"raw results: docs/results/{name}")


if __name__ == "__main__":
    main()
