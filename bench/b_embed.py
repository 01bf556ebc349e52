"""Target 5: embedding — throughput, length sorting, the cache and bfloat16.

All on real text with the packaged all-MiniLM-L6-v2 (`load_model(None)`): the 300
news paragraphs of gensim's Lee corpus (long: most near or over the model's 256
tokens) and short phrases of the most frequent English words (wordfreq).

- throughput: `embed_texts` (its default, token-budget batch size, a fresh cache, so
  hashing, the truncation count and cache writes are all paid) against bare
  `SentenceTransformer.encode(texts, batch_size=B)` at its best B of 4–128;
- mixed lengths: paragraphs and phrases shuffled together; ours sorts longest first,
  the baseline encodes consecutive batches of B in the given order;
- the cache: embedding the same texts again versus the first time;
- bfloat16 versus float32 `embed_texts`, with the cosine of each bf16 vector to
  its fp32 one.

Comparisons alternate ours and the baseline, run after run, and report medians:
other jobs on a shared machine slow both alike.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import Row, once, timed

BATCHES = (4, 8, 16, 32, 64, 128)


def _paired(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Median seconds of each function, run in turn `repeat` times (no warm-up here)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def _phrases(n: int, seed: int = 0) -> list[str]:
    """n short texts: 3–12 of the 5,000 most frequent English words (wordfreq)."""
    from wordfreq import top_n_list

    words = top_n_list("en", 5000)
    rng = random.Random(seed)
    return [" ".join(rng.choices(words, k=rng.randint(3, 12))) for _ in range(n)]


def _embed(texts: list[str], **kw: Any) -> Any:
    """embed_texts into a fresh, empty cache folder (so nothing is ever a cache hit)."""
    from explorer.ingest.embed import embed_texts

    with tempfile.TemporaryDirectory() as d:
        return embed_texts(texts, cache_dir=Path(d), **kw)


def throughput(model: Any, lee: list[str], quick: bool) -> tuple[Row, int]:
    sweep = lee[:64] if quick else lee
    per_b = _paired(
        {str(b): lambda b=b: model.encode(sweep, batch_size=b) for b in BATCHES},
        1 if quick else 2,
    )
    best = int(min(per_b, key=lambda b: per_b[b]))
    texts = lee[:96] if quick else lee
    med = _paired(
        {
            "ours": lambda: _embed(texts),
            "bare": lambda: model.encode(texts, batch_size=best),
        },
        3 if quick else 5,
    )
    ours, bare = len(texts) / med["ours"], len(texts) / med["bare"]
    sweep_note = ", ".join(f"B={b}: {len(sweep) / s:.1f}/s" for b, s in per_b.items())
    row = Row(
        "embed",
        "embedding throughput (embed_texts vs bare encode)",
        ours,
        "texts/s",
        bare,
        f"SentenceTransformer.encode, best batch {best}",
        "within 5% of bare encode",
        ours / bare >= 0.95,
        f"{len(texts)} Lee news paragraphs (gensim), all-MiniLM-L6-v2 fp32",
        "ours with its default (token-budget) batch size, fresh cache; bare encode on "
        f"{len(sweep)} paragraphs by batch: {sweep_note}",
        higher_is_better=True,
    )
    return row, best


def mixed(model: Any, lee: list[str], batch: int, quick: bool) -> Row:
    n_long, n_short = (16, 112) if quick else (100, 500)
    texts = lee[:n_long] + _phrases(n_short, seed=1)
    random.Random(2).shuffle(texts)

    def unsorted() -> None:
        for s in range(0, len(texts), batch):
            model.encode(texts[s : s + batch], batch_size=batch)

    med = _paired(
        {
            "ours": lambda: _embed(texts),
            "ours_b": lambda: _embed(texts, batch_size=batch),
            "unsorted": unsorted,
        },
        2,
    )
    return Row(
        "embed",
        "mixed-length texts: sorted by length vs given order",
        med["ours"],
        "s",
        med["unsorted"],
        f"encode consecutive batches of {batch} in the given order",
        "≥ 1.3×",
        med["unsorted"] / med["ours"] >= 1.3,
        f"{n_long} Lee paragraphs + {n_short} wordfreq phrases (3–12 words), shuffled",
        f"ours: embed_texts, fresh cache, default batch size; at batch {batch} too: "
        f"{med['ours_b']:.2f} s ({med['unsorted'] / med['ours_b']:.2f}×)",
    )


def cache(lee: list[str], quick: bool) -> Row:
    from explorer.ingest.embed import embed_texts

    texts = lee[:96] if quick else lee
    with tempfile.TemporaryDirectory() as d:
        first, enc = once(lambda: embed_texts(texts, cache_dir=Path(d)))
        again, enc2 = timed(lambda: embed_texts(texts, cache_dir=Path(d)), repeat=5, warmup=0)
        same = bool(np.array_equal(enc.vectors, enc2.vectors)) and enc2.n_cached == len(texts)
    return Row(
        "embed",
        "re-embed unchanged texts (cache)",
        again,
        "s",
        first,
        "first embedding of the same texts",
        "≥ 50×",
        first / again >= 50 and same,
        f"{len(texts)} Lee news paragraphs",
        f"all {enc2.n_cached} from the cache, identical vectors: {same}; "
        f"truncated counted both times: {enc.n_truncated} = {enc2.n_truncated}",
    )


def bf16(lee: list[str], quick: bool) -> Row:
    from explorer.ingest.embed import embed_texts
    from explorer.ingest.models import fast_precision_supported, load_model

    texts = lee[:64] if quick else lee[:200]
    data = f"{len(texts)} Lee news paragraphs, all-MiniLM-L6-v2"
    ok, why = fast_precision_supported()
    if not ok:
        t, enc = once(lambda: embed_texts(texts, precision="bf16", use_cache=False))
        return Row(
            "embed",
            "bfloat16 vs float32 embedding",
            t,
            "s",
            None,
            "",
            "≥ 2× at cos ≥ 0.99",
            None,
            data,
            f"not measured: {why}; embed_texts says: {enc.note}",
        )
    load_model(None, "bf16")
    fp32 = embed_texts(texts, use_cache=False)
    b16 = embed_texts(texts, precision="bf16", use_cache=False)  # also the warm-up
    med = _paired(
        {
            "bf16": lambda: embed_texts(texts, precision="bf16", use_cache=False),
            "fp32": lambda: embed_texts(texts, use_cache=False),
        },
        2 if quick else 3,
    )
    cos = np.einsum("ij,ij->i", fp32.vectors, b16.vectors)
    unit = bool(np.allclose(np.linalg.norm(b16.vectors, axis=1), 1, atol=1e-5))
    speed = med["fp32"] / med["bf16"]
    return Row(
        "embed",
        "bfloat16 vs float32 embedding",
        med["bf16"],
        "s",
        med["fp32"],
        "float32",
        "≥ 2× at cos ≥ 0.99",
        speed >= 2 and float(cos.min()) >= 0.99 and b16.vectors.dtype == np.float32 and unit,
        data,
        f"cosine to fp32 min {cos.min():.5f}, mean {cos.mean():.5f}; float32 unit rows: "
        f"{unit}; {why}",
    )


def run(quick: bool) -> list[Row]:
    from bench.data import lee_texts
    from explorer.ingest.models import load_model

    lee = lee_texts()
    model = load_model(None)
    model.encode(lee[:32], batch_size=32)  # warm-up: first-call allocations
    rows = []
    row, best = throughput(model, lee, quick)
    rows.append(row)
    rows.append(mixed(model, lee, best, quick))
    rows.append(cache(lee, quick))
    rows.append(bf16(lee, quick))
    return rows


if __name__ == "__main__":
    t0 = time.perf_counter()
    for r in run("--quick" in sys.argv):
        print(r.as_dict())
    print(f"({time.perf_counter() - t0:.0f} s)")
