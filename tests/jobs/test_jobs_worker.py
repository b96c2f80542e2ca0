from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from greenroom.config import Settings
from greenroom.db.types import utcnow
from greenroom.jobs import claims, service
from greenroom.jobs.models import Job, JobRun, RunStatus
from greenroom.jobs.registry import job
from greenroom.jobs.runner import JobFailed, run_now
from greenroom.jobs.service import UnknownJob
from greenroom.jobs.worker import Worker
from greenroom.secrets import register_secret

SETTINGS = Settings()


def _runs(database, name):
    with database.read() as db:
        return [
            (r.slot, r.status, r.attempts, r.result, r.error)
            for r in db.execute(select(JobRun).where(JobRun.job == name).order_by(JobRun.id)).scalars()
        ]


def test_a_periodic_job_runs_once_per_interval_however_often_the_worker_looks(database, jobs, clock):
    seen = []
    job("test.tick", every=60, core=True)(lambda ctx: seen.append(ctx.now) or {"n": len(seen)})
    worker = Worker(database, SETTINGS, clock=clock)
    assert worker.run_once() == 2  # test.tick and jobs.cleanup, both core
    for _ in range(3):
        clock.advance(seconds=20)
        worker.run_once()
    assert len(seen) == 2
    assert [r[:4] for r in _runs(database, "test.tick")] == [
        ("2026-11-01T20:00:00+00:00", RunStatus.SUCCEEDED, 1, {"n": 1}),
        ("2026-11-01T20:01:00+00:00", RunStatus.SUCCEEDED, 1, {"n": 2}),
    ]


def test_the_job_gets_its_settings_under_the_runs_own_args_and_no_open_transaction(database, jobs, clock):
    seen = {}

    def work(ctx):
        seen.update(ctx.args, run_id=ctx.run_id)
        with ctx.database.write() as db:  # would wait forever on SQLite if the worker held a write
            db.execute(select(Job.name)).all()

    job("test.work")(work)
    worker = Worker(database, SETTINGS, clock=clock)
    worker.start()
    with database.write() as db:
        db.get(Job, "test.work").settings = {"limit": 10, "mode": "default"}
        run_id = service.enqueue(db, "test.work", args={"mode": "fast"}, now=clock())
    assert worker.run_once() >= 1
    assert seen == {"limit": 10, "mode": "fast", "run_id": run_id}


def test_a_job_error_is_recorded_redacted_and_the_worker_carries_on(database, jobs, clock):
    register_secret("hunter2-token-xyz")

    def broken(ctx):
        raise RuntimeError("upstream said no to https://x.example/events/alice/abc123/ with hunter2-token-xyz")

    job("test.broken", max_attempts=2)(broken)
    job("test.fine")(lambda ctx: {"ok": True})
    worker = Worker(database, SETTINGS, clock=clock)
    worker.start()
    with database.write() as db:
        service.enqueue(db, "test.broken", now=clock())
        service.enqueue(db, "test.fine", now=clock())
    worker.run_once()
    [(_, status, attempts, _, error)] = _runs(database, "test.broken")
    assert (status, attempts) == (RunStatus.QUEUED, 1)
    assert error.startswith("RuntimeError: upstream said no") and "Traceback" in error
    assert "hunter2-token-xyz" not in error and "abc123" not in error
    assert _runs(database, "test.fine")[0][1:4] == (RunStatus.SUCCEEDED, 1, {"ok": True})
    clock.advance(seconds=15)
    worker.run_once()
    assert _runs(database, "test.broken")[0][1:3] == (RunStatus.FAILED, 2)


def test_a_long_job_keeps_its_lease_while_it_runs(sqlite_database, jobs):
    def slow(ctx):
        time.sleep(0.6)
        with ctx.database.write() as db:
            return {"stale": claims.requeue_stale(db, utcnow())}

    job("test.slow")(slow)
    worker = Worker(sqlite_database, SETTINGS, lease=timedelta(seconds=0.2))
    worker.start()
    with sqlite_database.write() as db:
        service.enqueue(db, "test.slow")
    worker.run_once()
    assert _runs(sqlite_database, "test.slow")[0][1:4] == (RunStatus.SUCCEEDED, 1, {"stale": []})


def test_a_job_past_its_timeout_is_abandoned_and_retried_later(sqlite_database, jobs):
    release = threading.Event()
    job("test.stuck", timeout=0.2)(lambda ctx: release.wait(5))
    worker = Worker(sqlite_database, SETTINGS, lease=timedelta(seconds=0.2))
    worker.start()
    with sqlite_database.write() as db:
        service.enqueue(db, "test.stuck")
    started = time.monotonic()
    worker.run_once()
    release.set()
    assert time.monotonic() - started < 2
    [(_, status, attempts, _, error)] = _runs(sqlite_database, "test.stuck")
    assert (status, attempts) == (RunStatus.QUEUED, 1)
    assert error.startswith("TimeoutError: still running after 0.2 s")


def test_running_a_job_by_hand_records_the_run_and_returns_its_result(database, jobs, clock):
    job("test.hand")(lambda ctx: {"got": ctx.args})
    assert run_now(database, "test.hand", SETTINGS, {"x": 1}, clock=clock) == {"got": {"x": 1}}
    [(slot, status, attempts, result, _)] = _runs(database, "test.hand")
    assert slot.startswith("manual:") and (status, attempts, result) == (RunStatus.SUCCEEDED, 1, {"got": {"x": 1}})


def test_a_failing_manual_run_is_recorded_once_and_raises(database, jobs, clock):
    job("test.hand")(lambda ctx: 1 / 0)
    with pytest.raises(JobFailed, match="ZeroDivisionError: division by zero"):
        run_now(database, "test.hand", SETTINGS, clock=clock)
    assert [r[1:3] for r in _runs(database, "test.hand")] == [(RunStatus.FAILED, 1)]


def test_running_an_unknown_job_names_the_known_ones(database, jobs):
    with pytest.raises(UnknownJob, match="known jobs: jobs.cleanup"):
        run_now(database, "nope.never", SETTINGS)


def test_the_worker_stops_when_asked(sqlite_database, jobs):
    stop = threading.Event()
    worker = Worker(sqlite_database, SETTINGS, poll_interval=10)
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    time.sleep(0.2)
    stop.set()
    thread.join(2)
    assert not thread.is_alive()
