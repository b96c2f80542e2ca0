"""Jobs that look after the job machinery itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from greenroom.jobs.models import JobRun, RunStatus
from greenroom.jobs.registry import JobContext, job

KEEP_DAYS = 30
KEEP_FAILED_DAYS = 90  # failures are kept longer: they are what someone comes back to look at


@job("jobs.cleanup", every=timedelta(hours=1), core=True)
def cleanup(ctx: JobContext) -> dict[str, Any]:
    """Delete finished job runs: successes and cancellations after 30 days, failures after 90."""
    keep = timedelta(days=float(ctx.args.get("keep_days", KEEP_DAYS)))
    keep_failed = timedelta(days=float(ctx.args.get("keep_failed_days", KEEP_FAILED_DAYS)))
    with ctx.database.write() as db:
        done = db.execute(
            delete(JobRun).where(
                JobRun.status.in_([RunStatus.SUCCEEDED, RunStatus.CANCELLED]),
                JobRun.finished_at < ctx.now - keep,
            )
        ).rowcount
        failed = db.execute(
            delete(JobRun).where(JobRun.status == RunStatus.FAILED, JobRun.finished_at < ctx.now - keep_failed)
        ).rowcount
    return {"deleted": done, "deleted_failed": failed}
