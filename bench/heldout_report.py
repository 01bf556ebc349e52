"""Tables of a held-out map bench run (``bench.b_heldout``), from its raw JSON.

``python -m bench.heldout_report docs/results/heldout-full.json`` prints, per data set:
each method's seconds, stages, trustworthiness and all-points preservation (mean and
95% interval over seeds), the speed-ups of ours against baselines (a) and (b) as the
mean of per-seed ratios (runs of one seed are neighbours in time), the clusterings, and
whether each target is met.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

NAMES = {
    "ours": "ours (explorer)",
    "umap-hnsw": "(b) umap-learn on the same hnswlib graph",
    "umap": "(a) umap-learn, its defaults",
    "pacmap": "(c) PaCMAP on the same graph",
    "tsne": "(c) openTSNE on the same graph",
}


def interval(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval (NaN for one value)."""
    from scipy import stats

    m = float(np.mean(values))
    if len(values) < 2:
        return m, float("nan")
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / np.sqrt(len(values))
    return m, float(half)


def _fmt(values: list[float], digits: int) -> str:
    m, h = interval(values)
    return f"{m:.{digits}f}" if np.isnan(h) else f"{m:.{digits}f} ± {h:.{digits}f}"


def _runs(entry: dict[str, Any], method: str) -> dict[int, dict[str, Any]]:
    return {r["seed"]: r for r in entry["runs"] if r["method"] == method and "error" not in r}


def speedup(entry: dict[str, Any], baseline: str) -> list[float]:
    """Per seed: the baseline's seconds over ours."""
    ours, base = _runs(entry, "ours"), _runs(entry, baseline)
    return [base[s]["seconds"] / ours[s]["seconds"] for s in sorted(ours) if s in base]


def table(entry: dict[str, Any]) -> str:
    lines = [
        f"**{entry['desc']}**",
        "",
        "| method | seconds | stages (mean s) | trustworthiness | preservation (all points) "
        "| graph recall@14 | seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, name in NAMES.items():
        rs = list(_runs(entry, method).values())
        if not rs:
            continue
        stages = {k: np.mean([r["stages"].get(k, 0.0) for r in rs]) for k in rs[0]["stages"]}
        parts = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
        lines.append(
            f"| {name} | {_fmt([r['seconds'] for r in rs], 1)} | {parts} "
            f"| {_fmt([r['trust'] for r in rs], 4)} | {_fmt([r['preservation'] for r in rs], 3)} "
            f"| {np.mean([r['graph_recall'] for r in rs]):.3f} | {len(rs)} |"
        )
    ours = list(_runs(entry, "ours").values())
    if ours and "index_seconds" in ours[0]:
        lines += [
            "",
            "The product also builds the space's search index for neighbour lists: "
            f"{_fmt([r['index_seconds'] for r in ours], 1)} s, not counted above.",
        ]
    return "\n".join(lines)


def verdict(entry: dict[str, Any]) -> str:
    """The issue's targets against (b) and (a), each with its figures."""
    ours, b = _runs(entry, "ours"), _runs(entry, "umap-hnsw")
    out = []
    for base, want in (("umap-hnsw", 2.0), ("umap", 4.0)):
        ratios = speedup(entry, base)
        if ratios:
            met = "met" if np.mean(ratios) >= want else "**missed**"
            out.append(
                f"- ours vs {NAMES[base]}: {_fmt(ratios, 2)}× faster (target ≥ {want:g}×: {met})"
            )
    if ours and b:
        for key, slack, label in (
            ("trust", 0.005, "trustworthiness"),
            ("preservation", 0.01, "preservation"),
        ):
            d = [ours[s][key] - b[s][key] for s in sorted(ours) if s in b]
            met = "met" if np.mean(d) >= -slack else "**missed**"
            out.append(f"- {label}, ours − (b): {_fmt(d, 4)} (target ≥ −{slack:g}: {met})")
    clusters = [(r["method"], r["clusters"]) for r in entry["runs"] if r.get("clusters")]
    for method in ("ours", "umap"):
        cs = [c for m, c in clusters if m == method]
        if cs:
            who = (
                "ours (cluster_space's KMeans)"
                if method == "ours"
                else "scikit-learn KMeans, full vectors"
            )
            ari = (
                ""
                if cs[0]["ari"] is None
                else f", ARI with the labels {_fmt([c['ari'] for c in cs], 3)}"
            )
            took = _fmt([c["seconds"] for c in cs], 1)
            inertia = _fmt([c["inertia"] for c in cs], 0)
            out.append(
                f"- clusters ({cs[0]['n_clusters']}), {who}: {took} s{ari}, inertia {inertia}"
            )
    return "\n".join(out)


def main(path: str) -> None:
    report = json.loads(Path(path).read_text())
    for entry in report["sets"].values():
        print(table(entry))
        print()
        print(verdict(entry))
        print()


if __name__ == "__main__":
    main(sys.argv[1])
