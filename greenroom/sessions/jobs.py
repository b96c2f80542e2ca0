"""Session jobs. ``sessions.finalize_due`` is a core job: the worker starts it on every start-up
and then every minute, so no session can stay ``active`` or ``ended`` past its due time."""

from __future__ import annotations

from typing import Any

from greenroom.jobs.registry import JobContext, job
from greenroom.sessions.service import end_stale, finalize_due, refresh_lagging, windows_for


@job("sessions.finalize_due", every=60, core=True, timeout=300)
def finalize_due_job(ctx: JobContext) -> dict[str, Any]:
    """End stale live sessions (watchdog), finalize sessions whose merge window has passed, and
    catch up live stats a quiet room left behind."""
    # The watchdog first: a session it ends at a long-past last event may already be due.
    with ctx.database.write() as db:
        windows = windows_for(db, ctx.settings)  # the owner's saved settings win
        ended = end_stale(db, ctx.now, windows)
        finalized = finalize_due(db, ctx.now)
        refreshed = refresh_lagging(db, ctx.now)
    return {"ended_stale": ended, "finalized": finalized, "refreshed": refreshed}
