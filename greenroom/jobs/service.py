"""Job definitions in the database, periodic scheduling and queueing. Functions here never commit:
the worker, the CLI or the request that calls them owns the transaction.

The rule for core jobs ("core jobs cannot be left off by accident"):

* The first time a job is seen, its row is created enabled if it is core or queued-only
  (``every=None``: it runs only when the app asks for it), and disabled if it is an optional
  periodic job (the owner opts into those).
* Disabling a core job needs ``force``. A forced disable is remembered and lasts across restarts
  until the job is enabled again.
* When a worker starts (:func:`sync_definitions`), a core job that is off without that forced mark
  (a hand edit, an older version, a bug) is switched back on, with a warning in the log.
* Optional jobs keep whatever the owner chose.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from greenroom.db.types import utcnow
from greenroom.db.util import insert_ignore
from greenroom.errors import Conflict, NotFound
from greenroom.jobs.models import Job, JobRun, RunStatus
from greenroom.jobs.registry import REGISTRY, JobDef
from greenroom.logs import get_logger

log = get_logger("greenroom.jobs")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnknownJob(NotFound):
    """No job of that name is defined; the message lists the ones that are."""

    def __init__(self, name: str, known: Mapping[str, JobDef] | None = None) -> None:
        names = ", ".join(sorted(REGISTRY if known is None else known)) or "(none)"
        super().__init__(f"unknown job {name!r}; known jobs: {names}")


def get_definition(name: str) -> JobDef:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownJob(name) from None


def enabled_by_default(definition: JobDef) -> bool:
    return definition.core or definition.every is None


def sync_definitions(db: Session, now: datetime, definitions: Mapping[str, JobDef] | None = None) -> list[str]:
    """Create a row for every defined job and switch core jobs back on unless forced off.

    Returns the names of core jobs that were switched back on. Rows of jobs no longer defined are
    kept (with their history); nothing claims their runs.
    """
    definitions = REGISTRY if definitions is None else definitions
    rows = [
        {"name": d.name, "enabled": enabled_by_default(d), "forced_off": False, "settings": {}, "updated_at": now}
        for d in sorted(definitions.values(), key=lambda d: d.name)
    ]
    insert_ignore(db, Job.__table__, rows, ["name"])
    core = sorted(name for name, d in definitions.items() if d.core)
    if not core:
        return []
    reenabled = list(
        db.execute(
            update(Job)
            .where(Job.name.in_(core), Job.enabled.is_(False), Job.forced_off.is_(False))
            .values(enabled=True, updated_at=now)
            .returning(Job.name)
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    for name in reenabled:
        log.warning("core job was off without --force; switched back on", job=name)
    return sorted(reenabled)


def set_enabled(db: Session, name: str, enabled: bool, *, now: datetime, force: bool = False) -> Job:
    """Switch a job on or off. Switching a core job off needs ``force`` (raises :class:`Conflict`)."""
    definition = get_definition(name)
    if not enabled and definition.core and not force:
        raise Conflict(f"{name} is a core job; disabling it needs --force")
    insert_ignore(
        db,
        Job.__table__,
        [{"name": name, "enabled": enabled_by_default(definition), "forced_off": False, "settings": {},
          "updated_at": now}],
        ["name"],
    )
    row = db.execute(select(Job).where(Job.name == name).with_for_update()).scalar_one()
    row.enabled = enabled
    row.forced_off = not enabled and definition.core
    row.updated_at = now
    db.flush()
    return row


def enabled_names(db: Session) -> set[str]:
    return set(db.execute(select(Job.name).where(Job.enabled.is_(True))).scalars())


def slot_start(now: datetime, every: timedelta) -> datetime:
    """Start of the interval containing ``now``, counted from the epoch so that every worker (and
    every restart) agrees: an hourly job's slots start on the hour."""
    step = every // timedelta(microseconds=1)
    if step <= 0:
        raise ValueError("a job's interval must be positive")
    elapsed = (now - EPOCH) // timedelta(microseconds=1)
    return EPOCH + timedelta(microseconds=elapsed - elapsed % step)


def slot_key(start: datetime) -> str:
    return start.astimezone(UTC).isoformat()


def schedule_due(db: Session, now: datetime, definitions: Mapping[str, JobDef] | None = None) -> int:
    """Insert (or find already there) the run for the current slot of every enabled periodic job.

    Only the current slot is scheduled: after downtime a job runs once, not once per missed
    interval. Returns how many periodic jobs were considered.
    """
    definitions = REGISTRY if definitions is None else definitions
    on = enabled_names(db)
    # A fixed order keeps concurrent workers from waiting on each other's unique-key inserts in
    # opposite orders (a deadlock on PostgreSQL).
    due = sorted((d for d in definitions.values() if d.every and d.name in on), key=lambda d: d.name)
    rows = []
    for definition in due:
        assert definition.every is not None
        start = slot_start(now, definition.every)
        rows.append(_run_row(definition.name, slot_key(start), {}, start, definition.max_attempts, now))
    insert_ignore(db, JobRun.__table__, rows, ["job", "slot"])
    return len(rows)


def enqueue(
    db: Session,
    name: str,
    *,
    args: dict[str, Any] | None = None,
    run_after: datetime | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> int:
    """Queue a run of ``name`` and return its id.

    With a ``key`` this is idempotent: queueing the same (job, key) again returns the existing run,
    whatever its status, and queues nothing. The job need not be defined in this process (a lower
    layer may queue a higher layer's job by name).
    """
    if "." not in name:
        raise ValueError(f"job names are 'feature.verb', got {name!r}")
    now = now or utcnow()
    slot = key if key is not None else f"queued:{uuid.uuid4().hex}"
    definition = REGISTRY.get(name)
    max_attempts = definition.max_attempts if definition else 5
    row = _run_row(name, slot, args or {}, run_after or now, max_attempts, now)
    insert_ignore(db, JobRun.__table__, [row], ["job", "slot"])
    return db.execute(select(JobRun.id).where(JobRun.job == name, JobRun.slot == slot)).scalar_one()


def cancel(db: Session, run_id: int, *, now: datetime) -> bool:
    """Cancel a run that has not started; returns False if it is already running or finished."""
    result = db.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.status == RunStatus.QUEUED)
        .values(status=RunStatus.CANCELLED, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _run_row(
    name: str, slot: str, args: dict[str, Any], run_after: datetime, max_attempts: int, now: datetime
) -> dict[str, Any]:
    return {
        "job": name, "slot": slot, "status": RunStatus.QUEUED.value, "args": args, "run_after": run_after,
        "attempts": 0, "max_attempts": max_attempts, "created_at": now,
    }
