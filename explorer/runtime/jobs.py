"""Heavy work in worker processes, behind a fair queue, so that no session freezes or
starves the others.

Embedding, UMAP, t-SNE and HDBSCAN hold a CPU (and often Python's GIL) for seconds
to minutes. In the app they run in a few worker processes (``explorer.runtime.workers``);
the sessions that asked wait with a progress bar that shows their place in the queue,
and every other session keeps answering at once.

A job is a plain engine function that stores its result on disk (a map, a clustering,
a space); the caller reads the result from there. Jobs with the same key (the same map
of the same version of a space) run once, however many sessions ask. What one session
may hold is bounded:

* at most one of its jobs runs at a time, and a few more wait;
* a new job for the same slot (a page) replaces its older one there;
* the queue serves sessions in turn, so one session's many jobs cannot starve others;
* every job has a time limit (``EXPLORER_MAX_JOB_SECONDS``) and can be cancelled;
* a job that no session waits for any more is cancelled;
* a worker that dies fails only its own job; the next job gets a fresh worker;
* when the server stops, its workers stop with it.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from explorer.core.errors import ExplorerError, InputError
from explorer.core.limits import limits
from explorer.runtime.workers import Worker

__all__ = [
    "Cancelled",
    "Job",
    "JobQueue",
    "JobStatus",
    "fresh_key",
]

State = Literal["queued", "running", "done", "failed"]
_KEEP_FINISHED = 200  # finished jobs remembered (their keys answer repeats at once)
# A job no session has asked about for this long has no one waiting for it.
ABANDONED_S = 20.0
# Jobs one session may have queued or running at once.
MAX_PER_SESSION = 3
_TICK_S = 0.05  # how often the queue looks at its workers


class Cancelled(ExplorerError):
    """A job was cancelled: by its session, for no one waiting, or at its time limit."""


@dataclass(frozen=True)
class JobStatus:
    """Where a job stands: its state, jobs ahead of it, and its latest progress."""

    state: State
    ahead: int = 0
    fraction: float = 0.0
    message: str = ""
    error: BaseException | None = None


@dataclass(eq=False)
class Job:
    """One submitted job, shared by every session that asked for its key."""

    key: str
    label: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    settings: dict[str, str]
    progress_file: Path
    time_limit: float
    owner: str
    future: Future[Any] = field(default_factory=Future)
    sessions: dict[str, str] = field(default_factory=dict)  # session → its slot
    order: int = 0
    submitted: float = field(default_factory=time.monotonic)
    seen: float = field(default_factory=time.monotonic)
    started: float | None = None
    stop: str = ""  # why the job is to be stopped, once it is

    @property
    def done(self) -> bool:
        return self.future.done()


def fresh_key(kind: str, name: str) -> str:
    """The key of a job that makes something anew on every request (a build from an
    upload, a training, an index rebuild): never the key of an earlier job. A job that
    makes a step of a saved space is keyed by the space's version and the step's
    parameters instead (``explorer.opened.handle.OpenedSpace.job_key``), so asking
    again waits for, or reads, the one result."""
    return f"{kind}:{name}:{uuid.uuid4().hex}"


def _operator_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("EXPLORER_")}


class JobQueue:
    """A fair queue in front of `workers` worker processes; thread-safe (every
    session's script thread may submit, poll and cancel)."""

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("a job queue needs at least one worker")
        self.workers = workers
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._running: dict[Worker, Job] = {}
        self._idle: list[Worker] = []
        self._served: dict[str, float] = {}  # session → when its last job started
        self._order = itertools.count()
        self._dir = Path(tempfile.mkdtemp(prefix="explorer-jobs-"))
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="job-queue", daemon=True)
        self._thread.start()
        atexit.register(self.shutdown)

    # ------------------------------------------------------------------ what sessions call
    def submit(
        self,
        key: str,
        label: str,
        fn: Callable[..., Any],
        *args: Any,
        session: str = "",
        slot: str = "",
        time_limit: float | None = None,
    ) -> Job:
        """Queue `fn(*args, progress=...)` for `session` unless a job with `key` is
        queued, running, or finished without error; returns that job. `fn` must be a
        module-level function and its arguments picklable.

        A job this session holds in the same `slot` under another key is given up
        (cancelled when no other session waits for it).

        Raises:
            InputError: the session already holds its most jobs.
        """
        with self._lock:
            if self._closed:
                raise ExplorerError("The server is stopping; try again in a moment.")
            for old in self._held_by(session) if session else []:
                if slot and old.sessions.get(session) == slot and old.key != key:
                    self._let_go(old, session, "replaced by a newer request")
            job = self._jobs.get(key)
            if job is not None and not (job.done and job.future.exception()):
                job.sessions.setdefault(session, slot)
                job.seen = time.monotonic()
                return job
            if session and len(self._held_by(session)) >= MAX_PER_SESSION:
                raise InputError(
                    f"You have {MAX_PER_SESSION} jobs queued or running already: wait for "
                    "one to finish, or cancel one."
                )
            job = Job(
                key=key,
                label=label,
                fn=fn,
                args=args,
                settings=_operator_settings(),
                progress_file=self._dir / f"{uuid.uuid4().hex}.json",
                time_limit=float(time_limit or limits().max_job_seconds),
                owner=session,
                sessions={session: slot},
                order=next(self._order),
            )
            self._jobs[key] = job
            self._forget_old()
            return job

    def status(self, job: Job) -> JobStatus:
        """The job's state, how many unfinished jobs will start before it, and its
        latest progress. Asking counts as waiting for it."""
        job.seen = time.monotonic()
        if job.done:
            exc = job.future.exception()
            return JobStatus("failed" if exc else "done", 0, 1.0, "", exc)
        if job.started is None:
            with self._lock:
                ahead = sum(1 for j in self._queued() if j.order < job.order)
            return JobStatus("queued", ahead + len(self._running))
        try:
            record = json.loads(job.progress_file.read_text())
        except (OSError, ValueError):
            return JobStatus("running", 0, 0.0, "Starting")
        return JobStatus("running", 0, float(record["f"]), str(record["msg"]))

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

    def cancel(self, job: Job, session: str = "") -> None:
        """`session` gives up `job`; it is cancelled when no other session waits for it."""
        with self._lock:
            self._let_go(job, session, "cancelled")

    def shutdown(self) -> None:
        """Stop every worker (and the jobs they run) and fail every unfinished job."""
        with self._lock:
            self._closed = True
            for job in self._jobs.values():
                if not job.done:
                    job.future.set_exception(Cancelled(f"{job.label} stopped: the server stopped."))
            workers = [*self._running, *self._idle]
            self._running.clear()
            self._idle.clear()
        for worker in workers:
            worker.stop()

    # ---------------------------------------------------------------------------- inside
    def _held_by(self, session: str) -> list[Job]:
        return [j for j in self._jobs.values() if not j.done and session in j.sessions]

    def _queued(self) -> list[Job]:
        return [j for j in self._jobs.values() if not j.done and j.started is None]

    def _let_go(self, job: Job, session: str, why: str) -> None:
        job.sessions.pop(session, None)
        if job.sessions or job.done:
            return
        if job.started is None:
            job.future.set_exception(Cancelled(f"{job.label} was {why}."))
        else:
            job.stop = why  # the loop stops its worker

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.done]
        for k in finished[: max(0, len(finished) - _KEEP_FINISHED)]:
            self._jobs.pop(k).progress_file.unlink(missing_ok=True)

    def _loop(self) -> None:
        while not self._closed:
            stopped: list[Worker] = []
            with self._lock:
                if self._closed:
                    return
                stopped = self._check_running()
                self._cancel_abandoned()
                self._start_queued()
            for worker in stopped:  # outside the lock: stopping takes a moment
                worker.stop()
            time.sleep(_TICK_S)

    def _check_running(self) -> list[Worker]:
        """End the jobs whose worker replied, died, ran out of time or was asked to stop;
        returns the workers to stop (their jobs are ended)."""
        now = time.monotonic()
        stopped = []
        for worker, job in list(self._running.items()):
            reply = worker.reply()
            if reply is None and now - job.seen > ABANDONED_S:
                job.stop = job.stop or "left with no one waiting for it"
            if reply is None and job.started is not None and now - job.started > job.time_limit:
                job.stop = job.stop or (
                    f"stopped at this server's time limit of {job.time_limit:,.0f} s "
                    "(set by the operator as EXPLORER_MAX_JOB_SECONDS)"
                )
            if reply is None and not job.stop:
                continue
            del self._running[worker]
            if reply is not None and reply[0] == "ok":
                job.future.set_result(reply[1])
                self._idle.append(worker)
                continue
            if reply is not None and reply[0] == "error":
                job.future.set_exception(reply[1])
                self._idle.append(worker)
                continue
            if reply is not None:  # the worker died
                job.future.set_exception(
                    ExplorerError(
                        f"{job.label} stopped: its worker process ended (out of memory?). "
                        "Try fewer rows, or another method."
                    )
                )
            else:
                job.future.set_exception(Cancelled(f"{job.label} was {job.stop}."))
            stopped.append(worker)
        return stopped

    def _cancel_abandoned(self) -> None:
        now = time.monotonic()
        for job in self._queued():
            if now - job.seen > ABANDONED_S:
                job.future.set_exception(Cancelled(f"{job.label} was left with no one waiting."))

    def _start_queued(self) -> None:
        """Start queued jobs on free workers, serving sessions in turn: the next job is
        the oldest of the session served longest ago that has none running."""
        while len(self._running) < self.workers:
            # One running job per session (the anonymous one, the command line's, aside).
            busy = {s for j in self._running.values() for s in j.sessions if s}
            ready = [j for j in self._queued() if not (set(j.sessions) & busy)]
            if not ready:
                return
            job = min(ready, key=lambda j: (self._served.get(j.owner, 0.0), j.order))
            try:
                worker = self._idle.pop() if self._idle else Worker()
            except OSError as exc:
                job.future.set_exception(ExplorerError(f"No worker could start ({exc})."))
                continue
            try:
                worker.send(job.fn, job.progress_file, job.settings, job.args)
            except Exception as exc:  # noqa: BLE001 - e.g. arguments that cannot be pickled
                job.future.set_exception(exc)
                self._idle.append(worker)
                continue
            job.started = time.monotonic()
            self._served[job.owner] = job.started
            self._running[worker] = job
