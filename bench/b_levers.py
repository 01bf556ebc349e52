"""What makes a 100k-point UMAP map fast and faithful: each lever measured alone.

On both data sets of ``bench/b_pipeline.py`` (GloVe's and MiniLM's 100k most
frequent words), from the same hnswlib kNN graph, trustworthiness (k=10) by the
same function on the same 5,000-point sample:

- parallel epochs: umap-learn's own parallel mode, and ``explorer.maps.epochs``'s;
- the start: PCA, a spectral layout of all points, or of 20k landmarks;
- epochs: 100, 200 and 300 (the measured case for 200 from 20k points), and
  whether a convergence rule read off the running layout can stop them early;
- PaCMAP and openTSNE with their defaults (``--alternatives``), when installed.

Single runs: trustworthiness moves by about ±0.004 from run to run at this size
(umap-learn's default map of GloVe gave 0.873, 0.864 and 0.874).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.common import Row

Graph = tuple[np.ndarray, np.ndarray]


def _prepare(x: np.ndarray, knn: Graph, init: Any) -> tuple[Any, np.ndarray]:
    """umap-learn's fuzzy graph and start, as ``umap_layout`` builds them (map defaults)."""
    from explorer.maps.umap import fuzzy_start

    return fuzzy_start(x, dims=2, n_neighbors=15, metric="cosine", seed=42, init=init, knn=knn)


def _epochs(reducer: Any, start: np.ndarray, epochs: int, parallel: bool) -> np.ndarray:
    from explorer.maps.umap import run_epochs

    return run_epochs(reducer, start, epochs, seed=42, parallel=parallel)


def _umap_learn_epochs(reducer: Any, start: np.ndarray, parallel: bool, epochs: int) -> float:
    """Seconds for umap-learn's own layout loop (``optimize_layout_euclidean``)."""
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import make_epochs_per_sample

    g = reducer.graph_.tocoo()
    emb = np.array(start, dtype=np.float32)
    t = time.perf_counter()
    optimize_layout_euclidean(
        emb,
        emb,
        g.row,
        g.col,
        epochs,
        emb.shape[0],
        make_epochs_per_sample(g.data, epochs),
        reducer._a,
        reducer._b,
        np.array([1, 2, 3], np.int64),
        1.0,
        1.0,
        5.0,
        parallel=parallel,
        move_other=True,
    )
    return time.perf_counter() - t


def _one(name: str, quick: bool) -> list[Row]:
    from bench.b_pipeline import _data
    from explorer.index.hnsw import build_index
    from explorer.index.knn import graph_ef, knn_graph
    from explorer.maps.quality import trustworthiness
    from explorer.maps.umap import landmark_start, warm_up

    warm_up()
    x, desc = _data(name, quick)
    knn = knn_graph(build_index(x, "cosine"), 14, ef=graph_ef(14))

    def trust(c: np.ndarray) -> float:
        return trustworthiness(x, c, k=10, sample=5000)

    rows: list[Row] = []
    reducer, pca_start = _prepare(x, knn, "pca")
    _umap_learn_epochs(reducer, pca_start, True, 2)  # numba compiles both modes once
    _umap_learn_epochs(reducer, pca_start, False, 2)
    serial = _umap_learn_epochs(reducer, pca_start, False, 20)
    par = _umap_learn_epochs(reducer, pca_start, True, 20)
    rows.append(
        Row(
            "levers",
            "umap-learn's layout, 20 epochs, parallel mode",
            par,
            "s",
            serial,
            "umap-learn, one core",
            "",
            None,
            desc,
            "its threads write anywhere",
        )
    )
    t = time.perf_counter()
    one = _epochs(reducer, pca_start, 200, parallel=False)
    t_one = time.perf_counter() - t
    t = time.perf_counter()
    two = _epochs(reducer, pca_start, 200, parallel=True)
    t_two = time.perf_counter() - t
    rows.append(
        Row(
            "levers",
            "explorer.maps.epochs, 200 epochs, all cores",
            t_two,
            "s",
            t_one,
            "explorer.maps.epochs, one core",
            "",
            None,
            desc,
            f"trustworthiness {trust(two):.4f} (all cores) vs {trust(one):.4f}",
        )
    )
    starts: dict[str, tuple[float, np.ndarray]] = {}
    t = time.perf_counter()
    spectral = _prepare(x, knn, "spectral")
    starts["spectral layout of all points"] = (time.perf_counter() - t, spectral[1])
    t = time.perf_counter()
    marks = landmark_start(x, knn, dims=2, n_neighbors=15, metric="cosine", seed=42)
    starts["spectral layout of 20k landmarks"] = (time.perf_counter() - t, marks)
    base = trust(two)
    for label, (secs, start) in starts.items():
        r, s = _prepare(x, knn, start) if label.endswith("landmarks") else spectral
        got = trust(_epochs(r, s, 200, parallel=True))
        rows.append(
            Row(
                "levers",
                f"start: {label}, then 200 epochs",
                got,
                "",
                base,
                "PCA start, 200 epochs",
                "",
                None,
                desc,
                f"the start took {secs:.1f} s",
                higher_is_better=True,
            )
        )
    rows += _convergence(x, knn, marks, trust, desc)
    r, s = _prepare(x, knn, marks)
    by_epochs = {e: trust(_epochs(r, s, e, parallel=True)) for e in (100, 200, 300)}
    rows.append(
        Row(
            "levers",
            "landmark start: trustworthiness after 100 / 200 / 300 epochs",
            by_epochs[200],
            "",
            by_epochs[100],
            "after 100 epochs",
            "",
            None,
            desc,
            " / ".join(f"{v:.4f}" for v in by_epochs.values()),
            higher_is_better=True,
        )
    )
    return rows


def _recall_on_map(emb: np.ndarray, sample: np.ndarray, truth: np.ndarray, within: int) -> float:
    """Share of the sampled points' graph neighbours (`truth`, (m, 10)) among their
    `within` nearest points on the map `emb` (n, 2)."""
    from scipy.spatial import cKDTree

    _, near = cKDTree(emb).query(emb[sample], k=within + 1)
    return float((near[:, 1:, None] == truth[:, None, :]).any(axis=1).mean())


def _convergence(x: np.ndarray, knn: Graph, start: np.ndarray, trust: Any, desc: str) -> list[Row]:
    """Can a rule read convergence off the layout while it runs, and stop early?

    The proxy: of 3,000 sampled points' 10 graph neighbours, the share among their
    `within` nearest on the map so far (cheap: one k-d tree per check). Watched
    through a plain 200-epoch run, then used as a plateau rule: once it gains less
    than `eps` over 20 epochs, the step size decays over half the epochs done.
    """
    reducer, s = _prepare(x, knn, start)
    sample = np.random.default_rng(7).choice(x.shape[0], 3000, replace=False)
    truth = knn[0][sample, :10]
    curve: list[tuple[int, float]] = []

    def watch(done: int, emb: np.ndarray) -> bool:
        if done % 50 == 0 or done == 190:
            curve.append((done, _recall_on_map(emb, sample, truth, 10)))
        return False

    from explorer.maps.umap import run_epochs

    fixed = run_epochs(reducer, s, 200, seed=42, parallel=True, until=watch)
    end = _recall_on_map(fixed, sample, truth, 10)
    base = trust(fixed)
    rows = [
        Row(
            "levers",
            "convergence: the map's local order (10 neighbours) during 200 epochs",
            end,
            "",
            curve[-1][1],
            "after 190 of 200 epochs",
            "",
            None,
            desc,
            "share of graph neighbours among the 10 nearest on the map, at epochs "
            + ", ".join(f"{e}: {v:.3f}" for e, v in curve)
            + f", 200: {end:.3f}; the local order appears only as the step size nears 0",
            higher_is_better=True,
        )
    ]
    for eps in (0.01, 0.005):
        seen: list[tuple[int, float]] = []

        def plateau(done: int, emb: np.ndarray, eps: float = eps, seen: list[Any] = seen) -> bool:
            seen.append((done, _recall_on_map(emb, sample, truth, 100)))
            return len(seen) > 2 and seen[-1][1] - seen[-3][1] < eps

        t = time.perf_counter()
        got = run_epochs(reducer, s, 500, seed=42, parallel=True, until=plateau)
        secs = time.perf_counter() - t
        stop = seen[-1][0]
        rows.append(
            Row(
                "levers",
                f"convergence rule: plateau of the 100-neighbour share (gain < {eps} / 20 epochs)",
                trust(got),
                "",
                base,
                "200 epochs, UMAP's schedule",
                "",
                None,
                desc,
                f"stopped at epoch {stop}, decayed to {stop + round(0.5 * stop)} "
                f"({secs:.1f} s with its checks)",
                higher_is_better=True,
            )
        )
    return rows


def _ours_map(x: np.ndarray) -> np.ndarray:
    """Vectors to a 2-D map as ``explorer`` makes it: hnswlib kNN graph, then UMAP."""
    from explorer.index.hnsw import build_index
    from explorer.index.knn import graph_ef, knn_graph
    from explorer.maps.umap import umap_layout

    knn = knn_graph(build_index(x, "cosine"), 14, ef=graph_ef(14))
    return umap_layout(
        x,
        dims=2,
        n_neighbors=15,
        min_dist=0.1,
        metric="cosine",
        seed=42,
        init="auto",
        knn=knn,
        parallel=True,
    )


def _pacmap(x: np.ndarray) -> np.ndarray:
    import pacmap

    # No random_state: PaCMAP runs on one core when it is seeded.
    return np.asarray(pacmap.PaCMAP(n_components=2, distance="angular").fit_transform(x))


def _open_tsne(x: np.ndarray) -> np.ndarray:
    from openTSNE import TSNE

    return np.asarray(TSNE(metric="cosine", n_jobs=-1, random_state=42).fit(x))


def _alternatives(quick: bool) -> list[Row]:
    """PaCMAP and openTSNE with their defaults against our map, from the same vectors.

    Each side's time runs from vectors to 2-D coordinates (its own kNN search
    included); trustworthiness as in :func:`_one`. Neither is a dependency:
    ``pip install pacmap openTSNE`` to measure them.
    """
    from bench.b_pipeline import _data
    from explorer.maps.quality import trustworthiness
    from explorer.maps.umap import warm_up

    rows = []
    methods = {"PaCMAP": ("pacmap", _pacmap), "openTSNE": ("openTSNE", _open_tsne)}
    missing = []
    for label, (mod, _) in methods.items():
        try:
            __import__(mod)
        except ImportError:
            missing.append(label)
            rows.append(
                Row("levers", label, float("nan"), "", note=f"pip install {mod} to measure it")
            )
    if len(missing) == len(methods):
        return rows
    warm_up()
    _pacmap(np.random.default_rng(0).normal(size=(500, 8)).astype(np.float32))  # compile
    for name in ("glove", "minilm"):
        x, desc = _data(name, quick)
        t = time.perf_counter()
        base = _ours_map(x)
        t_ours = time.perf_counter() - t
        base_trust = trustworthiness(x, base, k=10, sample=5000)
        for label, (_, fn) in methods.items():
            if label in missing:
                continue
            t = time.perf_counter()
            coords = fn(x)
            secs = time.perf_counter() - t
            got = trustworthiness(x, coords, k=10, sample=5000)
            rows.append(
                Row(
                    "levers",
                    f"{label} (its defaults): seconds from vectors to a map",
                    secs,
                    "s",
                    t_ours,
                    "explorer: hnswlib kNN + UMAP",
                    "",
                    None,
                    desc,
                    f"trustworthiness {got:.4f} against {base_trust:.4f}",
                )
            )
            print(rows[-1].as_dict(), flush=True)
    return rows


def run(quick: bool) -> list[Row]:
    return [r for name in ("glove", "minilm") for r in _one(name, quick)] + _alternatives(quick)


def run_alternatives(quick: bool) -> list[Row]:
    return _alternatives(quick)


if __name__ == "__main__":
    import sys

    go = run_alternatives if "--alternatives" in sys.argv else run
    for row in go("--quick" in sys.argv):
        print(row.as_dict())
