"""Large benchmark spaces, built once and kept under bench/results/ (git ignores it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import RESULTS, clustered


def synthetic_space(n: int, d: int = 384) -> tuple[Path, str]:
    """A saved cosine space of n clustered synthetic vectors with its index; built once."""
    from explorer.core.store import is_space_dir
    from explorer.ingest.build import build_space

    folder = RESULTS / f"space-synthetic2-{n}x{d}"
    desc = (
        f"{n:,} × {d} synthetic: 1,000 clusters on a 24-d latent space "
        "(real data does not reach this size)"
    )
    if not is_space_dir(folder):
        print(f"  building {desc} …", flush=True)
        x = clustered(n, d)
        items = pd.DataFrame({"id": np.char.add("v", np.arange(n).astype(str))})
        build_space(items, x, folder)
    return folder, desc


def held_out_queries(n: int, d: int = 384, m: int = 1000) -> np.ndarray:
    """Fresh points from the same generator as synthetic_space (not in the index)."""
    return clustered(n + m, d)[n:]
