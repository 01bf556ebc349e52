"""Load: 8 concurrent Chromium sessions query one app server while a 9th computes a map,
and a hostile 10th holds open the costliest map address the server accepts.

Every answer must be the engine's own answer, no session may show an error, and the
normal map must arrive: maps run in worker processes, and one session holds at most
one of them, so the hostile map slows nobody's work into failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.load import CHROMIUM, launch, run_sessions, start_server, stop_server

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("EXPLORER_REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run).")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

ITEM = "city"


def test_eight_sessions_and_a_map_at_once(glove_small_file: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from explorer.analysis.probes import analogy, neighbours
    from explorer.ingest.build import build_from_file

    spaces = tmp_path / "spaces"
    space, index, _ = build_from_file(glove_small_file, spaces / "words")
    want_answer = analogy(space, ["king", "woman"], ["man"], index=index).hits[0].id
    want_nbrs = [h.id for h in neighbours(space, index, row=space.row_of[ITEM], k=10)]
    url, proc = start_server(spaces, "words", tmp_path / "server.log")
    try:
        with sync_playwright() as p:
            browser = launch(p)
            try:
                out = run_sessions(
                    browser, url, 8, ITEM, with_map=True, downloads=tmp_path, hostile=True
                )
            finally:
                browser.close()
    finally:
        stop_server(proc)
    assert out.errors == []
    assert out.analogies == [want_answer] * 8 and want_answer == "queen"
    assert out.neighbours == [want_nbrs] * 8
    assert out.map_points == 5000  # the UMAP map was computed and drawn meanwhile
    assert out.map_seconds < 120, f"the map took {out.map_seconds:.0f} s"
    assert out.hostile_running  # while the costliest map still held a worker
