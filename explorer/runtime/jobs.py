"""Heavy work in worker processes, in a queue, so that no session freezes the others.

Embedding, UMAP, t-SNE and HDBSCAN hold a CPU (and often Python's GIL) for seconds
to minutes. In the app they run in a small pool of worker processes, first come
first served; the sessions that asked wait with a progress bar that shows their
place in the queue, and every other session keeps answering at once.

A job is a plain engine function that stores its result on disk (a map, a
clustering, a space); the caller reads the result from there. Jobs with the same
key (the same map of the same space) are run once, however many sessions ask.
Workers are started with ``spawn`` (never ``fork`` from a threaded server) and
report progress through a small JSON file per job.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.spawn as mp_spawn
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from explorer.core.errors import ExplorerError
from explorer.core.progress import Progress

__all__ = ["Job", "JobQueue", "JobStatus", "fresh_key", "progress_writer"]

State = Literal["queued", "running", "done", "failed"]
_KEEP_FINISHED = 200  # finished jobs remembered (their keys answer repeats at once)

# A spawned process normally re-runs the parent's __main__ module first. In a
# Streamlit server that is the *page script* being run (Streamlit installs it as
# __main__), which must never run in a worker. Our workers need nothing from
# __main__ (tasks are functions of explorer.runtime.tasks), so while this thread starts one,
# the preparation data leaves __main__ out; other threads' processes are untouched.
_starting = threading.local()
_original_preparation = mp_spawn.get_preparation_data


def _preparation_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = _original_preparation(name)
    if getattr(_starting, "bare_main", False):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


mp_spawn.get_preparation_data = _preparation_data


@dataclass(frozen=True)
class JobStatus:
    """Where a job stands: its state, jobs ahead of it, and its latest progress."""

    state: State
    ahead: int = 0
    fraction: float = 0.0
    message: str = ""
    error: BaseException | None = None


@dataclass
class Job:
    """One submitted job (shared by every caller that asked with its key)."""

    key: str
    label: str
    future: Future[Any]
    progress_file: Path
    submitted: float = field(default_factory=time.monotonic)


def fresh_key(kind: str, name: str) -> str:
    """The key of a job that makes something anew on every request (a build from an
    upload, a training, an index rebuild): never the key of an earlier job. A job that
    makes a step of a saved space is keyed by the space's version and the step's
    parameters instead (``explorer.opened.handle.OpenedSpace.job_key``), so asking
    again waits for, or reads, the one result."""
    return f"{kind}:{name}:{uuid.uuid4().hex}"


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


def _operator_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("EXPLORER_")}


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


class JobQueue:
    """A first-come-first-served queue in front of `workers` worker processes.

    Thread-safe: every session's script thread may submit and poll. A worker that
    dies (out of memory, a crash in native code) fails its job with a message, and
    the pool is started again for the jobs after it.
    """

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("a job queue needs at least one worker")
        self.workers = workers
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._jobs: dict[str, Job] = {}
        self._dir = Path(tempfile.mkdtemp(prefix="explorer-jobs-"))

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def submit(self, key: str, label: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Job:
        """Queue `fn(*args, progress=..., **kw)` unless a job with `key` is queued,
        running, or finished without error; returns that job. `fn` must be a
        module-level function and its arguments picklable."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and not (job.future.done() and job.future.exception()):
                return job
            progress_file = self._dir / f"{uuid.uuid4().hex}.json"
            _starting.bare_main = True  # workers may be started by this submit
            try:
                try:
                    future = self._executor().submit(
                        _run, fn, str(progress_file), _operator_settings(), args, kw
                    )
                except BrokenProcessPool:
                    self._pool = None  # a worker died: start a fresh pool
                    future = self._executor().submit(
                        _run, fn, str(progress_file), _operator_settings(), args, kw
                    )
            finally:
                _starting.bare_main = False
            job = Job(key, label, future, progress_file)
            self._jobs[key] = job
            self._forget_old()
            return job

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.future.done()]
        for k in finished[: max(0, len(finished) - _KEEP_FINISHED)]:
            self._jobs.pop(k).progress_file.unlink(missing_ok=True)

    def status(self, job: Job) -> JobStatus:
        """The job's state, how many unfinished jobs were submitted before it, and
        its latest progress."""
        if job.future.done():
            exc = job.future.exception()
            if isinstance(exc, BrokenProcessPool):
                exc = ExplorerError(
                    f"{job.label} stopped: its worker process ended (out of memory?). "
                    "Try fewer rows, or another method."
                )
            return JobStatus("failed" if exc else "done", 0, 1.0, "", exc)
        try:
            record = json.loads(job.progress_file.read_text())
        except (OSError, ValueError):
            record = None
        with self._lock:
            ahead = sum(
                1
                for other in self._jobs.values()
                if other.submitted < job.submitted and not other.future.done()
            )
        if record is None:
            return JobStatus("queued", ahead)
        return JobStatus("running", ahead, float(record["f"]), str(record["msg"]))

    def wait(
        self, job: Job, on_status: Callable[[JobStatus], None] | None = None, poll: float = 0.25
    ) -> Any:
        """Block until `job` ends, reporting its status every `poll` seconds; its
        result, or its error raised here."""
        while True:
            st = self.status(job)
            if on_status is not None:
                on_status(st)
            if st.state == "done":
                return job.future.result()
            if st.state == "failed":
                assert st.error is not None
                raise st.error
            time.sleep(poll)

    def shutdown(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
