"""The job queue: heavy work in worker processes, once per key, first come first served."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from explorer.core.errors import ExplorerError, InputError
from explorer.runtime.jobs import JobQueue, JobStatus


def where(*, progress) -> int:  # type: ignore[no-untyped-def]
    progress(0.5, "half way")
    return os.getpid()


def count_runs(marker: str, *, progress) -> str:  # type: ignore[no-untyped-def]
    with open(marker, "a") as fh:
        fh.write("run\n")
    time.sleep(0.5)
    return "done"


def slow(gate: str, *, progress) -> str:  # type: ignore[no-untyped-def]
    progress(0.25, "waiting for the gate")
    deadline = time.time() + 60
    while not Path(gate).exists() and time.time() < deadline:
        time.sleep(0.05)
    return "slow done"


def refuse(*, progress) -> None:  # type: ignore[no-untyped-def]
    raise InputError("k must be at least 1 (got 0).")


def die(*, progress) -> None:  # type: ignore[no-untyped-def]
    os._exit(3)  # a crash in native code, or the kernel's OOM killer


@pytest.fixture(scope="module")
def queue():  # type: ignore[no-untyped-def]
    q = JobQueue(workers=1)
    yield q
    q.shutdown()


def test_jobs_run_in_another_process_and_report_progress(queue: JobQueue) -> None:
    seen: list[JobStatus] = []
    pid = queue.wait(queue.submit("where", "Where", where), seen.append, poll=0.05)
    assert pid != os.getpid()
    assert seen[-1].state == "done"


def test_one_key_runs_once(queue: JobQueue, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    jobs = [queue.submit("map:x", "Map", count_runs, str(marker)) for _ in range(3)]
    assert jobs[0] is jobs[1] is jobs[2]
    assert [queue.wait(j) for j in jobs] == ["done"] * 3
    queue.wait(queue.submit("map:x", "Map", count_runs, str(marker)))  # done: not again
    assert marker.read_text().splitlines() == ["run"]


def test_a_waiting_job_knows_its_place(queue: JobQueue, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    first = queue.submit("slow", "Slow", slow, str(gate))
    second = queue.submit("after", "After", where)
    deadline = time.time() + 60
    while queue.status(first).state != "running" and time.time() < deadline:
        time.sleep(0.05)
    running = queue.status(first)
    assert running.state == "running" and running.message == "waiting for the gate"
    waiting = queue.status(second)
    assert waiting.state == "queued" and waiting.ahead == 1
    gate.write_text("open")
    assert queue.wait(first) == "slow done" and isinstance(queue.wait(second), int)


def test_errors_come_back_as_they_were_raised(queue: JobQueue) -> None:
    with pytest.raises(InputError, match="k must be at least 1"):
        queue.wait(queue.submit("refuse", "Refuse", refuse))


def test_a_dead_worker_fails_its_job_and_the_queue_goes_on(queue: JobQueue) -> None:
    with pytest.raises(ExplorerError, match="worker process ended"):
        queue.wait(queue.submit("die", "Dying", die))
    assert isinstance(queue.wait(queue.submit("where-again", "Where", where)), int)
