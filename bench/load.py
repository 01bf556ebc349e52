"""Many browser sessions against one app server: the harness of the load test
(tests/test_load.py) and of the load benchmark (bench/b_load.py).

Each session is a Chromium page with its own Streamlit session. It opens the words
space, asks for an analogy (the Analogies page answers its default probe) and for an
item's neighbours (read back from the page's CSV download), and every answer is
timed from the action to the answer on screen. One more session may open the Map,
which computes a UMAP map in a worker meanwhile; and a hostile one may hold open the
most expensive map address the server accepts (:data:`HOSTILE`). Server memory is the resident size
of the server's whole process tree (its workers included), sampled every 0.2 s.
"""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WAIT_MS = 240_000
# The costliest map a shared link may ask for: the most neighbours and epochs allowed.
HOSTILE = "/Map?space=words&page=map&method=umap&n_neighbors=200&n_epochs=5000&seed=7"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    spaces: Path, default_space: str, log: Path
) -> tuple[str, subprocess.Popen[bytes]]:
    """`streamlit run app.py` on a free local port over `spaces`; (url, process)."""
    port = free_port()
    env = {
        **os.environ,
        "EXPLORER_SPACES": str(spaces),
        "EXPLORER_DEFAULT_SPACE": default_space,
        "PYTHONUNBUFFERED": "1",
    }
    out = open(log, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return url, proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not start: " + log.read_text()[-2000:])


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def tree_rss(pid: int) -> int:
    """Resident bytes of process `pid` and all its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, StopIteration):
            continue
    return total


class MemorySampler:
    """Samples :func:`tree_rss` of a process every 0.2 s in a thread; `peak` in bytes."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            time.sleep(0.2)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Outcome:
    """What the sessions saw: answers per session, response times, errors."""

    analogies: list[str] = field(default_factory=list)
    neighbours: list[list[str]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    map_points: int = 0
    map_seconds: float = 0.0  # from the map session's start to its map on screen
    hostile_running: bool = False  # the hostile map still held its worker at the end


def wait_idle(pg: Any, timeout: int = WAIT_MS) -> None:
    """Wait until Streamlit has finished the page's current run (ms timeout)."""
    pg.wait_for_timeout(300)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )


def launch(playwright: Any) -> Any:
    """Debian's headless Chromium, as every browser test and benchmark here starts it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)


def _problems(pg: Any, who: str) -> list[str]:
    body = pg.inner_text("body")
    found = [f"{who}: traceback" for marker in ("Traceback",) if marker in body]
    errors = pg.locator('[data-testid="stAlertContentError"]')
    found += [f"{who}: {errors.nth(i).inner_text()[:200]}" for i in range(errors.count())]
    return found


def _analogy_answer(pg: Any) -> str:
    loc = pg.get_by_text("→ ", exact=False).first
    loc.wait_for(timeout=WAIT_MS)
    return str(loc.inner_text()).split("→", 1)[1].strip().split()[0]


def run_sessions(
    browser: Any,
    url: str,
    n: int,
    item: str,
    with_map: bool,
    downloads: Path,
    hostile: bool = False,
) -> Outcome:
    """`n` sessions (and a map session if `with_map`) against the server at `url`, with
    a hostile session holding :data:`HOSTILE` open first if `hostile`."""
    out = Outcome()
    intruder = None
    if hostile:
        intruder = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        intruder.goto(f"{url}{HOSTILE}", wait_until="commit")
        # Its map job is under way (a job shows its Cancel button while it runs).
        intruder.get_by_role("button", name="Cancel").wait_for(timeout=WAIT_MS)
    pages = []
    for _ in range(n):
        ctx = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
        pages.append(ctx.new_page())
    mapper = None
    map_started = time.perf_counter()
    if with_map:
        mapper = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        mapper.goto(f"{url}/Map", wait_until="commit")
    # Every session asks at once; each answer is timed from its request.
    started = []
    for pg in pages:
        started.append(time.perf_counter())
        pg.goto(f"{url}/Analogies", wait_until="commit")
    for i, pg in enumerate(pages):
        out.analogies.append(_analogy_answer(pg))
        out.seconds.append(time.perf_counter() - started[i])
    for pg in pages:
        wait_idle(pg)
        pg.goto(f"{url}/Neighbours", wait_until="commit")
    started = []
    for pg in pages:
        box = pg.get_by_label("Find an item")
        box.wait_for(timeout=WAIT_MS)
        started.append(time.perf_counter())
        box.fill(item)
        box.press("Enter")
    for i, pg in enumerate(pages):
        button = pg.get_by_role("button", name="Download (CSV)")
        button.wait_for(timeout=WAIT_MS)
        out.seconds.append(time.perf_counter() - started[i])
        wait_idle(pg)
        with pg.expect_download() as dl:
            button.click()
        text = Path(dl.value.path()).read_text()
        out.neighbours.append([r["id"] for r in csv.DictReader(io.StringIO(text))])
        out.errors += _problems(pg, f"session {i}")
    if mapper is not None:
        mapper.locator(".js-plotly-plot").first.wait_for(timeout=WAIT_MS)
        out.map_seconds = time.perf_counter() - map_started
        wait_idle(mapper)
        out.map_points = int(
            mapper.evaluate("""() => {
            const gd = document.querySelector('.js-plotly-plot');
            return gd ? gd._fullData.reduce((s, t) => s + (t.x ? t.x.length : 0), 0) : 0; }""")
        )
        out.errors += _problems(mapper, "map session")
    if intruder is not None:
        out.hostile_running = intruder.get_by_role("button", name="Cancel").is_visible()
    for pg in pages + [p for p in (mapper, intruder) if p is not None]:
        pg.context.close()
    return out
