"""The job queue: heavy work in worker processes, once per key, first come first served."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from explorer.core.errors import ExplorerError, InputError
from explorer.runtime.jobs import Job, JobQueue, JobStatus


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


def spin(pid_file: str, *, progress) -> None:  # type: ignore[no-untyped-def]
    """Busy for ever (a job that would hold a core until stopped)."""
    Path(pid_file).write_text(str(os.getpid()))
    progress(0.1, "spinning")
    while True:
        pass


def _running(queue: JobQueue, job: Job, timeout: float = 60) -> None:
    """Wait until `job` runs and has said so (spin and slow report once under way)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = queue.status(job)
        if st.state == "running" and st.message in ("spinning", "waiting for the gate"):
            return
        time.sleep(0.05)
    raise AssertionError(f"{job.label} did not start")


def _gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # a child that ended but was not reaped yet counts as gone
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.1)
    return False


def test_a_dying_worker_fails_only_its_own_job() -> None:
    q = JobQueue(workers=1)
    try:
        dying = q.submit("die", "Dying", die)
        after = [q.submit(f"after-{i}", "After", where) for i in range(3)]
        with pytest.raises(ExplorerError, match="worker process ended"):
            q.wait(dying)
        assert all(isinstance(q.wait(j), int) for j in after)
    finally:
        q.shutdown()


def test_cancel_stops_a_running_job_and_its_worker(tmp_path: Path) -> None:
    from explorer.runtime.jobs import Cancelled

    q = JobQueue(workers=1)
    try:
        job = q.submit("spin", "Spinning", spin, str(tmp_path / "pid"), session="a")
        _running(q, job)
        pid = int((tmp_path / "pid").read_text())
        q.cancel(job, "a")
        with pytest.raises(Cancelled, match="cancelled"):
            q.wait(job)
        assert _gone(pid)
        assert isinstance(q.wait(q.submit("next", "Next", where)), int)  # a fresh worker
    finally:
        q.shutdown()


def test_a_job_stops_at_its_time_limit(tmp_path: Path) -> None:
    from explorer.runtime.jobs import Cancelled

    q = JobQueue(workers=1)
    try:
        job = q.submit("spin", "Spinning", spin, str(tmp_path / "pid"), time_limit=1.0)
        with pytest.raises(Cancelled, match="time limit of 1 s"):
            q.wait(job)
        assert _gone(int((tmp_path / "pid").read_text()))
    finally:
        q.shutdown()


def test_a_job_no_one_waits_for_is_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import explorer.runtime.jobs as jobs

    monkeypatch.setattr(jobs, "ABANDONED_S", 1.0)
    q = JobQueue(workers=1)
    try:
        job = q.submit("spin", "Spinning", spin, str(tmp_path / "pid"), session="a")
        _running(q, job)
        time.sleep(2.5)  # nobody asks about it
        assert job.done and isinstance(job.future.exception(), jobs.Cancelled)
        assert _gone(int((tmp_path / "pid").read_text()))
    finally:
        q.shutdown()


def test_a_session_holds_one_running_job_a_few_queued_and_one_per_slot(
    tmp_path: Path,
) -> None:
    from explorer.runtime.jobs import MAX_PER_SESSION, Cancelled

    gate = tmp_path / "gate"
    q = JobQueue(workers=2)
    try:
        first = q.submit("a1", "A1", slow, str(gate), session="a", slot="map")
        second = q.submit("a2", "A2", where, session="a", slot="clusters")
        _running(q, first)
        time.sleep(0.5)
        assert q.status(second).state == "queued"  # a free worker, but "a" has one running
        # A newer request for the same page replaces the older one.
        third = q.submit("a3", "A3", where, session="a", slot="clusters")
        with pytest.raises(Cancelled, match="replaced"):
            q.wait(second)
        q.submit("a4", "A4", where, session="a")
        with pytest.raises(InputError, match=f"{MAX_PER_SESSION} jobs"):
            q.submit("a5", "A5", where, session="a")
        # Another session's job runs on the free worker meanwhile.
        assert isinstance(q.wait(q.submit("b1", "B1", where, session="b")), int)
        gate.write_text("open")
        assert q.wait(first) == "slow done" and isinstance(q.wait(third), int)
    finally:
        q.shutdown()


def test_sessions_are_served_in_turn(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    order = tmp_path / "order"
    q = JobQueue(workers=1)
    try:
        blocker = q.submit("block", "Block", slow, str(gate), session="x")
        _running(q, blocker)
        many = [q.submit(f"a{i}", "A", count_runs, f"{order}-a{i}", session="a") for i in range(3)]
        late = q.submit("b", "B", count_runs, f"{order}-b", session="b")
        assert q.status(late).state == "queued"
        gate.write_text("open")
        q.wait(many[0])
        q.wait(late)
        # b waited behind a's first job only, not behind all three.
        assert not many[2].done
        assert all(q.wait(j) == "done" for j in many)
    finally:
        q.shutdown()


_SERVER = """
import os, signal, sys, time
sys.path.insert(0, {root!r})
from explorer.runtime.jobs import JobQueue
from tests.test_jobs import spin
if {handler!r} == "exit":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))  # as Streamlit's server does
q = JobQueue(workers=1)
q.submit("spin", "Spinning", spin, {pid_file!r})
while True:
    time.sleep(0.1)
"""


@pytest.mark.parametrize("handler", ["exit", "default"])
def test_stopping_the_server_stops_its_workers(tmp_path: Path, handler: str) -> None:
    import signal
    import subprocess
    import sys

    root = str(Path(__file__).resolve().parent.parent)
    pid_file = tmp_path / "worker.pid"
    code = _SERVER.format(root=root, handler=handler, pid_file=str(pid_file))
    server = subprocess.Popen([sys.executable, "-c", code], cwd=root)
    try:
        deadline = time.time() + 60
        while not pid_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        worker = int(pid_file.read_text())
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        assert _gone(worker, timeout=5), "the worker outlived the server"
    finally:
        server.kill()
