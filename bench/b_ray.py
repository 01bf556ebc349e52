"""The Ray engine (``build --engine ray``) on one machine, against the single-machine path.

On a local Ray of 2 CPUs (``ray.init(num_cpus=2)``), MiniLM (packaged, fp32):

- end to end: a CSV of wordfreq phrases (3–12 words) → a space with its UMAP map.
  Ours: ``explorer.scale.build.ray_build`` (Ray Data read, 2 embedding actors of 1 CPU,
  save + index, kNN graph and fit-and-place map in Ray tasks). Baseline: what the app
  and ``python -m explorer build`` do on one machine, ``build_from_file`` then the
  default UMAP map (``project_space``). Embedding only: the embed stage of each
  (the actors' start and model loading included on the Ray side); both with no cache.
- the map: UMAP fitted on a seeded sample and the rest placed by ``UMAP.transform`` in
  Ray tasks, against a full UMAP of every point as the single-machine path runs it
  (hnswlib kNN graph + ``umap_layout``): time, and trustworthiness (k=10) by the same
  function on the same 5,000 points. Numba code is compiled first on both sides (the
  driver's pynndescent and each Ray worker's transform), as ``bench/b_pipeline.py`` does.

On one machine Ray can at best match the local path (the same 2 cores; its actors and
workers also start up); what it adds is more machines. The figures feed
docs/scale.md's sizing. Run: ``python -m bench.b_ray [--quick]``, or
``python -m bench --only ray`` (a group of the full bench; it needs
requirements-scale.txt, which ``make setup`` installs through requirements-dev.txt).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import Row, once

CPUS = 2


def _phrases(n: int, seed: int = 0) -> list[str]:
    """n distinct short texts: 3–12 of the 5,000 most frequent English words (wordfreq)."""
    from wordfreq import top_n_list

    words = top_n_list("en", 5000)
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        out[" ".join(rng.choices(words, k=rng.randint(3, 12)))] = None
    return list(out)


def _local(csv: Path, out: Path) -> dict[str, float]:
    """Seconds of the single-machine build (no cache) and of its default UMAP map."""
    from explorer.ingest.build import build_from_file
    from explorer.maps.projections import ProjectionParams, project_space
    from explorer.opened.handle import open_space

    t = time.perf_counter()
    space, _, summary = build_from_file(csv, out, cache_dir=out.parent / f"cache-{out.name}")
    built = time.perf_counter() - t
    map_s, _ = once(lambda: project_space(open_space(out), ProjectionParams()))
    return {"total": built + map_s, "embed": summary.seconds["embed"], "map": map_s}


def _ray(csv: Path, out: Path, fit_sample: int) -> dict[str, float]:
    """Seconds of the Ray build, in all and by stage, and its map's trustworthiness."""
    from explorer.core.store import read_manifest
    from explorer.scale.build import RayOptions, ray_build

    opts = RayOptions(num_workers=CPUS, fit_sample=fit_sample)
    total, summary = once(lambda: ray_build(str(csv), out, options=opts))
    trust = float(read_manifest(out)["map"]["trustworthiness"])
    return {"total": total, **summary.seconds, "trust": trust}


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def end_to_end(quick: bool) -> list[Row]:
    import pandas as pd

    n, repeat = (3_000, 1) if quick else (8_000, 2)
    fit_sample = n // 4
    local: list[dict[str, float]] = []
    ray: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        csv = root / "phrases.csv"
        pd.DataFrame({"text": _phrases(n)}).to_csv(csv, index=False)
        # Alternate which goes first: other jobs on a shared machine slow both alike.
        for i in range(repeat):
            for side in ("local", "ray") if i % 2 == 0 else ("ray", "local"):
                if side == "local":
                    local.append(_local(csv, root / f"local{i}"))
                else:
                    ray.append(_ray(csv, root / f"ray{i}", fit_sample))
    desc = (
        f"{n:,} wordfreq phrases (3–12 words), all-MiniLM-L6-v2 fp32, {CPUS} CPUs; "
        f"median of {repeat}, runs alternated"
    )
    stages = ("read", "embed", "save", "index", "knn", "map")
    stage_note = ", ".join(f"{k} {_median(ray, k):.1f}s" for k in stages)
    print(f"  ray: {ray}\n  local: {local}")
    return [
        Row(
            "ray",
            "end to end: text table → space + UMAP map (local Ray)",
            n / _median(ray, "total"),
            "texts/s",
            n / _median(local, "total"),
            "build_from_file + project_space (one process)",
            "≥ 0.7× of one process (same 2 cores)",
            _median(ray, "total") <= _median(local, "total") / 0.7,
            desc,
            f"ours: {stage_note}; map fitted on {fit_sample:,}, rest placed, "
            f"trustworthiness {ray[-1]['trust']:.3f}; baseline map {_median(local, 'map'):.1f}s",
            higher_is_better=True,
        ),
        Row(
            "ray",
            "embedding only (2 actors × 1 CPU vs 1 process × 2 threads)",
            n / _median(ray, "embed"),
            "texts/s",
            n / _median(local, "embed"),
            "embed_texts in one process, no cache",
            "≥ 0.8× of one process",
            _median(ray, "embed") <= _median(local, "embed") / 0.8,
            desc,
            "ours includes starting 2 actors and loading the model in each; runs: "
            + ", ".join(f"{n / r['embed']:.0f}" for r in ray)
            + " vs "
            + ", ".join(f"{n / r['embed']:.0f}" for r in local),
            higher_is_better=True,
        ),
    ]


def _full_fit(x: np.ndarray) -> np.ndarray:
    """A full UMAP of `x` as the single-machine path makes it (project → umap_layout)."""
    from explorer.index.knn import rows_knn
    from explorer.maps.projections import ProjectionParams
    from explorer.maps.umap import umap_layout

    p = ProjectionParams()
    knn = rows_knn(x, "cosine", np.arange(len(x)), p.n_neighbors - 1)
    return umap_layout(
        x,
        dims=p.dims,
        n_neighbors=p.n_neighbors,
        min_dist=p.min_dist,
        metric="cosine",
        seed=p.seed,
        init=p.init,
        knn=knn,
    )


def _fit_and_place(x: np.ndarray, fit_sample: int) -> tuple[np.ndarray, float]:
    """(coordinates, seconds of the placement alone) of the fit-and-place map."""
    from explorer.maps.projections import ProjectionParams
    from explorer.scale.maps import fit_sample_rows, fit_umap, place_on_ray

    fitted = fit_sample_rows(len(x), fit_sample, 42)
    rest = np.setdiff1d(np.arange(len(x)), fitted)
    coords = np.empty((len(x), 2), dtype=np.float32)
    reducer = fit_umap(x[fitted], ProjectionParams(), rest.size)
    coords[fitted] = reducer.embedding_
    t = time.perf_counter()
    coords[rest] = place_on_ray(reducer, x, rest)
    return coords, time.perf_counter() - t


def fit_and_place(quick: bool) -> list[Row]:
    from bench.data import minilm_words
    from explorer.maps.quality import trustworthiness
    from explorer.maps.umap import warm_up

    n, fit_sample = (10_000, 2_500) if quick else (30_000, 5_000)
    x, desc = minilm_words(n)
    n = len(x)
    warm_up()
    # Compile first: pynndescent in this process (a fit of ≥ 4,096 points builds its
    # index) and the transform in every Ray worker.
    _fit_and_place(x[:6000], 4500 if not quick else 2000)
    times: dict[str, list[float]] = {"full": [], "ours": [], "place": []}
    for i in range(1 if quick else 2):
        for side in ("full", "ours") if i % 2 == 0 else ("ours", "full"):
            if side == "full":
                t, full = once(lambda: _full_fit(x))
            else:
                t, (ours, t_place) = once(lambda: _fit_and_place(x, fit_sample))
                times["place"].append(t_place)
            times[side].append(t)
    t_full, t_ours = statistics.median(times["full"]), statistics.median(times["ours"])
    t_place = statistics.median(times["place"])
    trust_full = trustworthiness(x, full, k=10, sample=5000)
    trust_ours = trustworthiness(x, ours, k=10, sample=5000)
    placed = n - fit_sample
    data = f"{desc}; fit sample {fit_sample:,} (seed 42), {CPUS} CPUs"
    print(f"  placement: {placed:,} points in {t_place:.1f}s = {placed / t_place:,.0f} points/s")
    return [
        Row(
            "ray",
            "UMAP map: fit on a sample + place the rest (Ray tasks) vs full fit",
            t_ours,
            "s",
            t_full,
            "full UMAP, hnswlib kNN + umap_layout (single machine)",
            "faster than a full fit",
            t_ours < t_full,
            data,
            f"placement alone: {placed:,} points in {t_place:.1f}s "
            f"({placed / t_place:,.0f} points/s on {CPUS} CPUs)",
        ),
        Row(
            "ray",
            "fit-and-place map trustworthiness (k=10, 5k sample)",
            trust_ours,
            "",
            trust_full,
            "full UMAP fit",
            "at most 0.02 lower",
            trust_ours >= trust_full - 0.02,
            data,
            higher_is_better=True,
        ),
    ]


def run(quick: bool) -> list[Row]:
    import ray

    ray.init(num_cpus=CPUS, include_dashboard=False, log_to_driver=False)
    try:
        return end_to_end(quick) + fit_and_place(quick)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    for r in run("--quick" in sys.argv):
        print(r.as_dict())
