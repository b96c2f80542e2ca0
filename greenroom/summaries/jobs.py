"""Summary jobs.

``summaries.generate`` (queued): build the input in a short read, call the provider with no
transaction open, then store the text and finalize the session in one short write. A retryable
failure is raised so the jobs framework retries it with backoff; on the run's last attempt, or
for a failure no retry can fix (no key, key rejected), the session is finalized with the reason
instead. A worker killed mid-call leaves the run ``running`` until its lease lapses; the next
worker requeues it, so the session is picked up again.

``summaries.sweep`` (core, every minute): queues the run of every ``pending_finalize`` session
(once, by key, after the delay setting) and closes sessions whose run ended without doing so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from greenroom.jobs.models import JobRun
from greenroom.jobs.registry import JobContext, job
from greenroom.logs import get_logger
from greenroom.prefs.service import effective
from greenroom.sessions.models import BroadcastSession, SessionStatus
from greenroom.summaries import service
from greenroom.summaries.check import check_numbers
from greenroom.summaries.input import build_input
from greenroom.summaries.providers import ProviderError, get_provider

log = get_logger("greenroom.summaries")
MAX_ATTEMPTS = 4  # 15 s, 30 s, 60 s between tries (greenroom.jobs.claims.backoff)


def _last_attempt(ctx: JobContext) -> bool:
    if ctx.run_id is None:
        return True
    with ctx.database.read() as db:
        row = db.execute(select(JobRun.attempts, JobRun.max_attempts).where(JobRun.id == ctx.run_id)).first()
    return row is None or row[0] >= row[1]


@job(service.JOB, max_attempts=MAX_ATTEMPTS, timeout=300)
def generate(ctx: JobContext) -> dict[str, Any]:
    """Write a session's summary with the configured provider and finalize the session."""
    if "session_id" not in ctx.args:  # "Run now" on the Admin page: there is nothing to retry
        return {"skipped": "needs a session_id; use Regenerate on the session's page"}
    session_id = int(ctx.args["session_id"])
    regenerate = bool(ctx.args.get("regenerate"))
    with ctx.database.read() as db:
        settings = effective(db, ctx.settings)
        status = db.scalar(select(BroadcastSession.status).where(BroadcastSession.id == session_id))
        if status is None:
            return {"skipped": "no such session"}
        if status == SessionStatus.ACTIVE or (not regenerate and status != SessionStatus.PENDING_FINALIZE):
            return {"skipped": f"session is {status}"}
        data = build_input(db, session_id, settings.timezone)

    provider_name = (getattr(settings, "summary_provider", "offline") or "offline").lower()
    if provider_name == "off":
        return _unavailable(ctx, session_id, "summaries are switched off (Admin › Settings)", "off")
    try:
        provider = get_provider(settings)
        # No transaction is open here: the call may take a minute, and on SQLite an open write
        # would block every other writer (ingest included) for that long.
        text = provider.summarize(data)
    except ProviderError as exc:
        if exc.retryable and not _last_attempt(ctx):
            raise
        return _unavailable(ctx, session_id, exc.message, provider_name)
    check = check_numbers(text.text, data)
    if not check.passed:
        log.warning("summary states numbers not in the stats", session_id=session_id, numbers=check.unverified)
    with ctx.database.write() as db:
        row = service.store(db, session_id, ctx.now, text=text, check=check)
        finalized = service.finalize(db, session_id, ctx.now)
    return {"session_id": session_id, "version": row.version, "provider": text.provider, "model": text.model,
            "numbers_check": row.numbers_check, "finalized": finalized}


def _unavailable(ctx: JobContext, session_id: int, reason: str, provider: str) -> dict[str, Any]:
    with ctx.database.write() as db:
        row = service.store(db, session_id, ctx.now, reason=reason, provider=provider)
        finalized = service.finalize(db, session_id, ctx.now)
    return {"session_id": session_id, "version": row.version, "unavailable": reason, "finalized": finalized}


@job("summaries.sweep", every=60, core=True, timeout=120)
def sweep(ctx: JobContext) -> dict[str, Any]:
    """Queue summaries of sessions waiting for one; close sessions whose summary run gave up."""
    with ctx.database.write() as db:
        settings = effective(db, ctx.settings)
        delay = timedelta(minutes=int(getattr(settings, "summary_delay_minutes", 0) or 0))
        report = service.sweep(db, ctx.now, delay)
    return {"queued": report.queued, "closed": report.closed}
