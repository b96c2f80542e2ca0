"""Read-only views of jobs for the CLI and the Admin page.

Run rows are returned detached from the session (the read unit rolls back on close, which would
expire them), so they stay usable after the unit of work ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenroom.jobs.models import Job, JobRun, RunStatus
from greenroom.jobs.registry import REGISTRY
from greenroom.jobs.service import enabled_by_default, slot_key, slot_start


@dataclass
class JobOverview:
    name: str
    description: str
    core: bool
    enabled: bool
    forced_off: bool
    every: timedelta | None
    defined: bool  # False: a row for a job this version no longer defines
    last_run: JobRun | None
    next_due: datetime | None


def overview(db: Session, now: datetime) -> list[JobOverview]:
    """Every defined job (and every job row left from an older version), by name."""
    rows = {row.name: row for row in db.execute(select(Job)).scalars()}
    last_ids = select(func.max(JobRun.id)).group_by(JobRun.job)
    last = {run.job: run for run in db.execute(select(JobRun).where(JobRun.id.in_(last_ids))).scalars()}
    next_queued = dict(
        db.execute(
            select(JobRun.job, func.min(JobRun.run_after))
            .where(JobRun.status == RunStatus.QUEUED)
            .group_by(JobRun.job)
        ).all()
    )
    result = []
    for name in sorted(set(REGISTRY) | set(rows)):
        definition, row = REGISTRY.get(name), rows.get(name)
        enabled = row.enabled if row else bool(definition and enabled_by_default(definition))
        every = definition.every if definition else None
        next_due = next_queued.get(name)
        if next_due is None and enabled and every:
            start = slot_start(now, every)
            taken = db.execute(
                select(JobRun.id).where(JobRun.job == name, JobRun.slot == slot_key(start))
            ).first()
            next_due = start + every if taken else start
        result.append(
            JobOverview(
                name=name,
                description=definition.description if definition else "",
                core=bool(definition and definition.core),
                enabled=enabled,
                forced_off=bool(row and row.forced_off),
                every=every,
                defined=definition is not None,
                last_run=last.get(name),
                next_due=next_due if enabled else None,
            )
        )
    db.expunge_all()
    return result


def history(db: Session, name: str, *, limit: int = 20) -> list[JobRun]:
    """The newest runs of a job first."""
    runs = list(
        db.execute(select(JobRun).where(JobRun.job == name).order_by(JobRun.id.desc()).limit(limit)).scalars()
    )
    db.expunge_all()
    return runs
