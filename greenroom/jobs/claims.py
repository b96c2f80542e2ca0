"""Claiming runs and recording their outcome. Never commits; the caller owns the transaction.

A claimed run carries ``worker_id`` and ``attempts``; every later write about it (heartbeat,
finish, fail) is a conditional UPDATE on those two, so a worker whose lease lapsed (and whose run
was handed to someone else) cannot overwrite the newer attempt: its write matches no row.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from greenroom.jobs.models import JobRun, RunStatus
from greenroom.jobs.registry import REGISTRY
from greenroom.jobs.service import enabled_names
from greenroom.logs import get_logger

log = get_logger("greenroom.jobs")

DEFAULT_LEASE = timedelta(seconds=60)
BACKOFF_BASE = timedelta(seconds=15)
BACKOFF_CAP = timedelta(hours=1)
STALE_ERROR = "lease expired: the worker stopped or the job ran past its timeout"


def backoff(attempts: int, *, base: timedelta = BACKOFF_BASE, cap: timedelta = BACKOFF_CAP) -> timedelta:
    """Delay before retry number ``attempts`` (1 after the first failure): base·2^(attempts-1)."""
    return min(cap, base * (2 ** min(max(attempts - 1, 0), 20)))


def claim_next(
    db: Session,
    worker_id: str,
    now: datetime,
    *,
    names: Collection[str] | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> JobRun | None:
    """Take the oldest due queued run and mark it running for ``worker_id`` until ``now + lease``.

    Only runs of ``names`` are considered; by default, the jobs defined in this process that are
    enabled (a disabled job's queued runs wait until it is enabled again). None when nothing is due.
    """
    if names is None:
        names = enabled_names(db) & set(REGISTRY)
    if not names:
        return None
    due = (
        select(JobRun.id)
        .where(JobRun.status == RunStatus.QUEUED, JobRun.run_after <= now, JobRun.job.in_(sorted(names)))
        .order_by(JobRun.run_after, JobRun.id)
    )
    if db.get_bind().dialect.name == "postgresql":
        # Other workers skip the row we lock instead of queueing behind it.
        candidates = list(db.execute(due.limit(1).with_for_update(skip_locked=True)).scalars())
    else:
        # SQLite writing units begin IMMEDIATE, so no other writer runs between this SELECT and the
        # UPDATE; the status condition below is what makes the claim safe regardless.
        candidates = list(db.execute(due.limit(5)).scalars())
    for run_id in candidates:
        run = claim(db, run_id, worker_id, now, lease=lease)
        if run is not None:
            return run
    return None


def claim(db: Session, run_id: int, worker_id: str, now: datetime, *, lease: timedelta) -> JobRun | None:
    """Mark one queued run as running for ``worker_id``; None if someone else got it first."""
    result = db.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.status == RunStatus.QUEUED)
        .values(
            status=RunStatus.RUNNING,
            worker_id=worker_id,
            attempts=JobRun.attempts + 1,
            started_at=now,
            lease_until=now + lease,
            finished_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    return db.execute(
        select(JobRun).where(JobRun.id == run_id).execution_options(populate_existing=True)
    ).scalar_one()


def _mine(run: JobRun) -> tuple[Any, ...]:
    return (
        JobRun.id == run.id,
        JobRun.status == RunStatus.RUNNING,
        JobRun.worker_id == run.worker_id,
        JobRun.attempts == run.attempts,
    )


def renew_lease(db: Session, run: JobRun, now: datetime, lease: timedelta) -> bool:
    """Heartbeat: push the lease forward. False means the run is no longer ours."""
    result = db.execute(
        update(JobRun).where(*_mine(run)).values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def finish(db: Session, run: JobRun, *, now: datetime, result: Any) -> bool:
    """Record success. False means the run was taken from us meanwhile and nothing was written."""
    outcome = db.execute(
        update(JobRun)
        .where(*_mine(run))
        .values(status=RunStatus.SUCCEEDED, finished_at=now, lease_until=None, result=result, error=None)
        .execution_options(synchronize_session=False)
    )
    return outcome.rowcount == 1


def fail(db: Session, run: JobRun, *, now: datetime, error: str) -> RunStatus | None:
    """Record a failed attempt: queue a retry after :func:`backoff` while attempts remain, else mark
    the run failed. Returns the new status, or None if the run was no longer ours."""
    error = _storable(error)
    if run.attempts < run.max_attempts:
        values: dict[str, Any] = {
            "status": RunStatus.QUEUED, "run_after": now + backoff(run.attempts), "worker_id": None,
            "lease_until": None, "error": error,
        }
    else:
        values = {"status": RunStatus.FAILED, "finished_at": now, "lease_until": None, "error": error}
    outcome = db.execute(
        update(JobRun).where(*_mine(run)).values(**values).execution_options(synchronize_session=False)
    )
    return values["status"] if outcome.rowcount == 1 else None


def requeue_stale(db: Session, now: datetime) -> list[int]:
    """Runs whose lease passed (their worker was killed, lost the database, or the job ran past its
    timeout) go back to the queue, or fail if that was their last attempt. Returns their ids."""
    stale = db.execute(
        select(JobRun.id, JobRun.attempts, JobRun.max_attempts)
        .where(JobRun.status == RunStatus.RUNNING, JobRun.lease_until < now)
        .order_by(JobRun.id)
    ).all()
    moved = []
    for run_id, attempts, max_attempts in stale:
        if attempts < max_attempts:
            values: dict[str, Any] = {"status": RunStatus.QUEUED, "run_after": now, "worker_id": None}
        else:
            values = {"status": RunStatus.FAILED, "finished_at": now}
        # The lease condition is repeated: a heartbeat may have renewed it since the SELECT.
        result = db.execute(
            update(JobRun)
            .where(JobRun.id == run_id, JobRun.status == RunStatus.RUNNING, JobRun.lease_until < now)
            .values(lease_until=None, error=STALE_ERROR, **values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            moved.append(run_id)
            log.warning("run's lease expired", run_id=run_id, status=str(values["status"]))
    return moved


def _storable(text: str, limit: int = 8000) -> str:
    # PostgreSQL text refuses NUL; errors can quote hostile upstream payloads.
    text = text.replace("\x00", "\\x00")
    return text if len(text) <= limit else text[: limit - 20] + "\n… (truncated)"
