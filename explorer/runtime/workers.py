"""Worker processes: each runs one job at a time, and can be stopped at any moment.

A worker is a ``spawn``-ed process (never ``fork`` from a threaded server) that waits
for jobs on a pipe, runs each with a progress callback that writes a small JSON file,
and sends back the result or the exception. The queue stops a worker to cancel its job
or end it at its time limit, and starts a fresh one. A worker ends by itself when the
server process that started it is gone, so no job outlives the server.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.spawn as mp_spawn
import os
import threading
import time
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from explorer.core.errors import ExplorerError
from explorer.core.progress import Progress

__all__ = ["Worker", "progress_writer"]

# How often a worker checks that the server that started it is still there.
_ORPHAN_CHECK_S = 0.5
# How long a stopped worker gets to end before it is killed.
_STOP_GRACE_S = 2.0

# A spawned process normally re-runs the parent's __main__ module first. In a
# Streamlit server that is the *page script* being run (Streamlit installs it as
# __main__), which must never run in a worker. Our workers need nothing from
# __main__ (tasks are functions of explorer.runtime.tasks), so while this thread starts
# one, the preparation data leaves __main__ out; other threads' processes are untouched.
_starting = threading.local()
_original_preparation = mp_spawn.get_preparation_data


def _preparation_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = _original_preparation(name)
    if getattr(_starting, "bare_main", False):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


mp_spawn.get_preparation_data = _preparation_data


def progress_writer(path: str | Path, every: float = 0.2) -> Progress:
    """A progress callback that writes {"f", "msg"} to `path` atomically: every new
    message, and new fractions at most once per `every` seconds (always at f = 1)."""
    target = Path(path)
    last: list[Any] = [0.0, None]

    def write(f: float, msg: str) -> None:
        now = time.monotonic()
        if now - last[0] < every and f < 1.0 and msg == last[1]:
            return
        last[:] = [now, msg]
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:6]}")
        tmp.write_text(json.dumps({"f": float(f), "msg": str(msg)}))
        os.replace(tmp, target)

    return write


def _run(
    fn: Callable[..., Any],
    progress_file: str,
    settings: dict[str, str],
    args: tuple[Any, ...],
    kw: dict[str, Any],
) -> Any:
    """In a worker: take the server's settings as they are now, mark the job as
    started, then run it with a progress callback."""
    # A worker lives on between jobs; the operator's EXPLORER_* settings it runs
    # under are the server's at submission, not the ones it was started with.
    for key in [k for k in os.environ if k.startswith("EXPLORER_") and k not in settings]:
        del os.environ[key]
    os.environ.update(settings)
    update = progress_writer(progress_file)
    update(0.0, "Started")
    return fn(*args, progress=update, **kw)


def _leave_with(server: int) -> None:
    """End this worker at once when the server that started it is gone (an orphan is
    adopted by another process, so the parent's pid changes)."""
    while os.getppid() == server:
        time.sleep(_ORPHAN_CHECK_S)
    os._exit(0)


def _serve(conn: Connection, server: int) -> None:
    """A worker's life: run each job sent on `conn`, send back ("ok", result) or
    ("error", exception); end on None or when the pipe or the server is gone."""
    threading.Thread(target=_leave_with, args=(server,), daemon=True).start()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", _run(*message))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the server
            reply = ("error", exc)
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
            conn.send(("error", ExplorerError(f"The job's result could not be sent ({exc}).")))


class Worker:
    """One worker process and the pipe to it; it runs one job at a time."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, os.getpid()), daemon=True)
        _starting.bare_main = True
        try:
            self.process.start()
        finally:
            _starting.bare_main = False
        child.close()

    def send(
        self, fn: Callable[..., Any], progress_file: Path, settings: dict[str, str], args: Any
    ) -> None:
        """Start a job: `fn(*args, progress=...)` with the server's `settings`."""
        self.conn.send((fn, str(progress_file), settings, tuple(args), {}))

    def reply(self) -> tuple[str, Any] | None:
        """("ok", result) or ("error", exception) once the job has ended; ("dead", None)
        when the worker ended without a reply; None while it runs."""
        try:
            if self.conn.poll():
                reply: tuple[str, Any] = self.conn.recv()
                return reply
        except (EOFError, OSError):
            return ("dead", None)
        if not self.process.is_alive():
            return ("dead", None)
        return None

    def stop(self) -> None:
        """End the worker now (its job, if any, with it)."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(_STOP_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(_STOP_GRACE_S)
        self.conn.close()
