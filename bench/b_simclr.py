"""SimCLR on Fashion-MNIST: the estimate beside the real time, and the space it learns.

Trains the default :class:`~explorer.train.simclr.SimCLRParams` on the 10,000 images
of Fashion-MNIST's *test* split (1,000 per class; a quick run takes the first 2,000),
after saying how long it will take (:func:`~explorer.train.simclr.estimate_seconds`).
Then scores the learned space beside raw pixels, PCA of the pixels and the same
encoder untrained (how much comes from the architecture alone): kNN accuracy (k = 5,
5-fold), k-means ARI and the trustworthiness of the 2-D map, all with the cosine metric
(:func:`~explorer.train.image_eval.compare_image_spaces`); raw pixels' kNN accuracy
is also given with the Euclidean distance.

``python -m bench.b_simclr [--quick] [--threads N]`` prints the detail; ``run(quick)``
gives the rows for the suite.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from bench.common import Row


def _untrained(images: np.ndarray, seed: int) -> np.ndarray:
    """The encoder's features with its initial weights (BatchNorm statistics of the images)."""
    import torch

    from explorer.train.encoder import SmallCNN, as_tensor, encode
    from explorer.train.simclr import SimCLRParams

    p = SimCLRParams(seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        channels = as_tensor(images[:1]).shape[1]
        model = SmallCNN(channels, p.hidden, p.width, grid=p.grid, standardise=True)
    model.train()
    with torch.no_grad():  # one pass sets BatchNorm's running statistics
        x = as_tensor(images)
        for s in range(0, len(x), 512):
            model(x[s : s + 512])
    return encode(model, images, features=True)


def measure(quick: bool) -> dict[str, Any]:
    """Estimate, train, score; everything the table and the rows need."""
    from explorer.ingest.datasets import fashion_mnist
    from explorer.train.image_eval import compare_image_spaces, image_baselines, knn_accuracy
    from explorer.train.simclr import SimCLRParams, estimate_seconds, train_simclr

    n = 2000 if quick else 10_000
    images, labels = fashion_mnist("test", limit=n)
    params = SimCLRParams()
    t = time.perf_counter()
    estimate = estimate_seconds(n, params, images.shape[1:])
    estimate_cost = time.perf_counter() - t
    print(f"estimate: {estimate:.0f} s (made in {estimate_cost:.1f} s)", flush=True)
    result = train_simclr(
        images,
        params,
        on_epoch=lambda e: print(
            f"  epoch {e.epoch}: loss {e.loss:.3f}, {e.seconds:.1f} s", flush=True
        ),
    )
    print(f"actual: {result.seconds:.0f} s", flush=True)
    spaces = {
        f"SimCLR ({params.rep_dim}-d)": result.vectors,
        **image_baselines(images),
        "untrained encoder": _untrained(images, params.seed),
    }
    t = time.perf_counter()
    scores = compare_image_spaces(spaces, labels)
    pixels_l2 = knn_accuracy(spaces["raw pixels"], labels, metric="euclidean")
    return {
        "n": n,
        "params": params,
        "estimate": estimate,
        "result": result,
        "scores": scores,
        "pixels_euclidean_knn": pixels_l2,
        "score_seconds": time.perf_counter() - t,
    }


def table(m: dict[str, Any]) -> str:
    lines = [
        "| space | dims | kNN accuracy | ARI | trustworthiness |",
        "|---|---|---|---|---|",
    ]
    for s in m["scores"]:
        lines.append(
            f"| {s.name} | {s.dims} | {s.knn_accuracy:.4f} | {s.ari:.4f} "
            f"| {s.trustworthiness:.4f} |"
        )
    lines.append(f"| raw pixels, Euclidean kNN | 784 | {m['pixels_euclidean_knn']:.4f} | | |")
    return "\n".join(lines)


def run(quick: bool) -> list[Row]:
    m = measure(quick)
    learned, pixels = m["scores"][0], m["scores"][1]
    data = f"Fashion-MNIST test, first {m['n']:,} images"
    strongest = max(pixels.knn_accuracy, m["pixels_euclidean_knn"])
    return [
        Row(
            "simclr",
            "SimCLR training, default settings",
            m["result"].seconds,
            "s",
            m["estimate"],
            "estimate_seconds",
            "under 180 s",
            m["result"].seconds < 180,
            data,
            f"{m['params'].epochs} epochs; ratio = estimate / actual",
        ),
        Row(
            "simclr",
            "kNN accuracy (k=5, 5-fold), learned vs raw pixels",
            learned.knn_accuracy,
            "",
            strongest,
            "raw pixels (better of cosine, Euclidean)",
            "above raw pixels",
            learned.knn_accuracy > strongest,
            data,
            higher_is_better=True,
        ),
    ]


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(prog="python -m bench.b_simclr", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="2,000 images instead of 10,000")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m = measure(args.quick)
    r = m["result"]
    print(f"\n{m['n']:,} images, {torch.get_num_threads()} torch thread(s), {m['params']}")
    print(f"estimated {m['estimate']:.0f} s, took {r.seconds:.0f} s")
    for e in r.epochs:
        print(f"  epoch {e.epoch}: loss {e.loss:.3f} ({e.seconds:.1f} s)")
    print(f"scoring took {m['score_seconds']:.0f} s\n")
    print(table(m))


if __name__ == "__main__":
    main()
