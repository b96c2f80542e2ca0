from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from greenroom.config import Settings
from greenroom.jobs.models import Job, JobRun, RunStatus
from greenroom.jobs.runner import run_now
from greenroom.jobs.service import enqueue

NOW = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


def _run(database, status, age_days):
    with database.write() as db:
        run_id = enqueue(db, "other.job", now=NOW - timedelta(days=age_days))
        run = db.get(JobRun, run_id)
        run.status = status
        run.finished_at = None if status == RunStatus.QUEUED else NOW - timedelta(days=age_days)
    return run_id


def _left(database):
    with database.read() as db:
        return set(db.execute(select(JobRun.id).where(JobRun.job == "other.job")).scalars())


def test_cleanup_deletes_old_finished_runs_and_keeps_failures_longer(database, jobs):
    keep = {
        _run(database, RunStatus.SUCCEEDED, 29),
        _run(database, RunStatus.FAILED, 89),
        _run(database, RunStatus.QUEUED, 400),  # not finished: never deleted
    }
    _run(database, RunStatus.SUCCEEDED, 31)
    _run(database, RunStatus.CANCELLED, 31)
    _run(database, RunStatus.FAILED, 91)
    result = run_now(database, "jobs.cleanup", Settings(), clock=lambda: NOW)
    assert result == {"deleted": 2, "deleted_failed": 1}
    assert _left(database) == keep


def test_cleanup_reads_its_retention_from_the_job_settings(database, jobs):
    recent = _run(database, RunStatus.SUCCEEDED, 3)
    with database.write() as db:
        db.add(Job(name="jobs.cleanup", enabled=True, settings={"keep_days": 2}, updated_at=NOW))
    assert run_now(database, "jobs.cleanup", Settings(), clock=lambda: NOW)["deleted"] == 1
    assert recent not in _left(database)
