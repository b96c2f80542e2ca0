"""Storing summaries, finalizing their sessions, queueing and sweeping. Never commits: the job
or the request that calls these owns the transaction.

Queueing is keyed, so every path that asks for the same summary gets one run: the automatic run
of a session is keyed by the session and its ``finalize_after`` (a session re-opened and closed
again gets a fresh summary), a regeneration by a random key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from greenroom.errors import Conflict, NotFound
from greenroom.jobs.models import FINISHED, JobRun, RunStatus
from greenroom.jobs.service import enqueue
from greenroom.sessions.models import BroadcastSession, SessionStatus
from greenroom.sessions.service import mark_finalized
from greenroom.summaries.check import CheckResult
from greenroom.summaries.models import NumbersCheck, SessionSummary, SummaryStatus
from greenroom.summaries.providers.base import SummaryText

JOB = "summaries.generate"


def auto_key(session_id: int, finalize_after: datetime | None) -> str:
    return f"session:{session_id}:{finalize_after.isoformat() if finalize_after else '-'}"


def history(db: Session, session_id: int) -> list[SessionSummary]:
    """Every version of the session's summary, newest first."""
    return list(db.execute(
        select(SessionSummary).where(SessionSummary.session_id == session_id)
        .order_by(SessionSummary.version.desc())
    ).scalars())


def latest(db: Session, session_id: int) -> SessionSummary | None:
    return db.execute(
        select(SessionSummary).where(SessionSummary.session_id == session_id)
        .order_by(SessionSummary.version.desc()).limit(1)
    ).scalar_one_or_none()


def store(db: Session, session_id: int, now: datetime, *, text: SummaryText | None = None,
          check: CheckResult | None = None, reason: str | None = None, provider: str = "") -> SessionSummary:
    """Add the next version: an ``ok`` summary (``text`` and its ``check``) or an ``unavailable``
    one with its ``reason``. The (session, version) key turns a concurrent store into an error
    the job retries, never two rows claiming the same version."""
    version = (db.scalar(select(func.max(SessionSummary.version))
                         .where(SessionSummary.session_id == session_id)) or 0) + 1
    if text is not None:
        row = SessionSummary(
            session_id=session_id, version=version, status=SummaryStatus.OK, provider=text.provider,
            model=text.model, prompt_version=text.prompt_version, text=text.text, reason=None,
            numbers_check=NumbersCheck.PASSED if check is None or check.passed else NumbersCheck.FAILED,
            unverified_numbers=list(check.unverified) if check else [], created_at=now,
        )
    else:
        row = SessionSummary(
            session_id=session_id, version=version, status=SummaryStatus.UNAVAILABLE, provider=provider,
            model="", prompt_version="", text="", reason=reason or "unknown reason",
            numbers_check=NumbersCheck.SKIPPED, unverified_numbers=[], created_at=now,
        )
    db.add(row)
    db.flush()
    return row


def finalize(db: Session, session_id: int, now: datetime) -> bool:
    """Move a ``pending_finalize`` session to ``finalized`` (only that status moves)."""
    return mark_finalized(db, session_id, now)


def active_run(db: Session, session_id: int) -> JobRun | None:
    """The queued or running summary run of this session, if any (what "Being written…" shows)."""
    return db.execute(
        select(JobRun).where(
            JobRun.job == JOB, JobRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)),
            or_(JobRun.slot.like(f"session:{session_id}:%"), JobRun.slot.like(f"regenerate:{session_id}:%")),
        ).order_by(JobRun.id.desc()).limit(1)
    ).scalar_one_or_none()


def request_regenerate(db: Session, session_id: int, now: datetime) -> int:
    """Queue a new version of the session's summary (the old ones are kept). A run already queued
    or running is returned instead of queueing a second one (a double click)."""
    row = db.get(BroadcastSession, session_id)
    if row is None:
        raise NotFound(f"no session {session_id}")
    if row.status == SessionStatus.ACTIVE:
        raise Conflict("the session is live; its summary is written after the broadcast")
    running = active_run(db, session_id)
    if running is not None:
        return running.id
    return enqueue(db, JOB, args={"session_id": session_id, "regenerate": True},
                   key=f"regenerate:{session_id}:{uuid.uuid4().hex}", now=now)


@dataclass
class SweepReport:
    queued: list[int]
    closed: list[int]


def sweep(db: Session, now: datetime, delay: timedelta) -> SweepReport:
    """Make sure no session stays ``pending_finalize``: queue its summary run (once, by key, after
    ``delay``) and, when that run ended without finalizing it (its last attempt was killed, or it
    was cancelled), finalize it with the reason."""
    report = SweepReport([], [])
    pending = db.execute(
        select(BroadcastSession.id, BroadcastSession.finalize_after)
        .where(BroadcastSession.status == SessionStatus.PENDING_FINALIZE).order_by(BroadcastSession.id)
    ).all()
    for session_id, finalize_after in pending:
        key = auto_key(session_id, finalize_after)
        run = db.execute(select(JobRun).where(JobRun.job == JOB, JobRun.slot == key)).scalar_one_or_none()
        if run is None:
            run_after = max(now, (finalize_after or now) + delay)
            enqueue(db, JOB, args={"session_id": session_id}, key=key, run_after=run_after, now=now)
            report.queued.append(session_id)
        elif run.status in FINISHED:
            if run.status != RunStatus.SUCCEEDED or latest(db, session_id) is None:
                store(db, session_id, now, reason=_reason_of(run), provider="")
            finalize(db, session_id, now)
            report.closed.append(session_id)
    return report


def _reason_of(run: JobRun) -> str:
    if run.status == RunStatus.CANCELLED:
        return "the summary run was cancelled"
    first = (run.error or "").split("\n", 1)[0].strip()
    return f"gave up after {run.attempts} attempts: {first}" if first else f"gave up after {run.attempts} attempts"


def summary_json(row: SessionSummary | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "version": row.version, "status": row.status, "provider": row.provider, "model": row.model,
        "prompt_version": row.prompt_version, "text": row.text, "reason": row.reason,
        "numbers_check": row.numbers_check, "unverified_numbers": list(row.unverified_numbers or []),
        "created_at": row.created_at.isoformat(),
    }
