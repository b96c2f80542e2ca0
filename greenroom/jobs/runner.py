"""Executing one claimed run: the job function runs in its own thread with no transaction open,
while the calling thread renews the run's lease (the heartbeat) so a long job is not taken for
dead, and gives up waiting once the job's timeout has passed.

Python cannot stop a thread, so a job that outlives its timeout is abandoned, not killed: the
attempt is recorded as failed (and retried with backoff), and whatever the abandoned thread
reports later is discarded because the run is no longer ours. Jobs must therefore be idempotent,
which they have to be anyway: a worker killed after the job committed its work but before the run
was marked finished means the run is executed again.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from greenroom.db.engine import Database
from greenroom.db.types import utcnow
from greenroom.errors import GreenroomError
from greenroom.jobs import claims, service
from greenroom.jobs.models import Job, JobRun, RunStatus
from greenroom.jobs.registry import JobContext, JobDef, load_jobs
from greenroom.logs import get_logger
from greenroom.secrets import redact

log = get_logger("greenroom.jobs")

Clock = Callable[[], datetime]


class JobFailed(GreenroomError):
    """A run executed by hand failed; the message is the (redacted) error."""

    def __init__(self, message: str, run_id: int) -> None:
        super().__init__(message)
        self.run_id = run_id


@dataclass
class Outcome:
    run_id: int
    status: RunStatus | None  # None: the run was no longer ours when we tried to record it
    result: Any = None
    error: str | None = None


def make_worker_id(prefix: str = "") -> str:
    return f"{prefix}{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def describe_error(exc: BaseException) -> str:
    """``Type: message`` then the traceback, with secrets masked (errors are shown on pages)."""
    head = f"{type(exc).__name__}: {exc}"
    trace = "".join(traceback.format_exception(exc))
    return redact(f"{head}\n\n{trace}")


def _jsonable(value: Any) -> Any:
    # Results are stored as JSON; anything exotic a job returns (datetimes, sets) becomes text.
    return None if value is None else json.loads(json.dumps(value, default=str))


def execute(
    database: Database,
    settings: Any,
    run: JobRun,
    definition: JobDef,
    *,
    clock: Clock = utcnow,
    lease: timedelta = claims.DEFAULT_LEASE,
) -> Outcome:
    """Run ``definition`` for the claimed ``run`` and record the outcome. Never raises for a job
    error: that is recorded on the run."""
    with database.read() as db:
        defaults = db.execute(select(Job.settings).where(Job.name == run.job)).scalar_one_or_none() or {}
    ctx = JobContext(database, clock(), settings, {**defaults, **(run.args or {})}, run.id)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = definition.fn(ctx)
        except BaseException as exc:  # everything a job raises is recorded, nothing escapes the thread
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"job:{run.job}:{run.id}", daemon=True)
    started = time.monotonic()
    thread.start()
    beat = max(0.05, lease.total_seconds() / 4)
    timed_out = False
    while True:
        thread.join(beat)
        if not thread.is_alive():
            break
        if time.monotonic() - started > definition.timeout.total_seconds():
            timed_out = True
            break
        try:
            with database.write() as db:
                if not claims.renew_lease(db, run, clock(), lease):
                    log.warning("run was taken over while still executing", job=run.job, run_id=run.id)
        except Exception as exc:  # a database blip must not abandon a running job; the next beat retries
            log.warning("heartbeat failed", job=run.job, run_id=run.id, error=redact(str(exc)))

    elapsed = round(time.monotonic() - started, 3)
    if timed_out:
        error = f"TimeoutError: still running after {definition.timeout.total_seconds():g} s; abandoned"
    elif "error" in box:
        error = describe_error(box["error"])
    else:
        error = None
    with database.write() as db:
        if error is None:
            result = _jsonable(box.get("result"))
            status = RunStatus.SUCCEEDED if claims.finish(db, run, now=clock(), result=result) else None
        else:
            result = None
            status = claims.fail(db, run, now=clock(), error=error)
    if status is None:
        log.warning("run was no longer ours; outcome discarded", job=run.job, run_id=run.id)
    elif error is None:
        log.info("job succeeded", job=run.job, run_id=run.id, seconds=elapsed)
    else:
        log.error("job failed", job=run.job, run_id=run.id, attempt=run.attempts, status=str(status),
                  seconds=elapsed, error=error.splitlines()[0])
    return Outcome(run.id, status, result, error)


def run_now(
    database: Database,
    name: str,
    settings: Any,
    args: dict[str, Any] | None = None,
    *,
    clock: Clock = utcnow,
    lease: timedelta = claims.DEFAULT_LEASE,
) -> Any:
    """Run a job once, in this process, whether or not it is enabled (``greenroom jobs run``).

    The run is recorded like any other (with a ``manual:`` slot) and is not retried. Returns the
    job's result; raises :class:`JobFailed` after recording a failure, ``UnknownJob`` for a name
    that is not defined.
    """
    load_jobs()
    definition = service.get_definition(name)
    worker_id = make_worker_id("manual:")
    now = clock()
    with database.write() as db:
        run_id = service.enqueue(db, name, args=args or {}, key=f"manual:{uuid.uuid4().hex}", now=now)
        db.execute(update(JobRun).where(JobRun.id == run_id).values(max_attempts=1))
        run = claims.claim(db, run_id, worker_id, now, lease=lease)
    assert run is not None  # created in the same transaction, nobody else can have claimed it
    outcome = execute(database, settings, run, definition, clock=clock, lease=lease)
    if outcome.error is not None:
        raise JobFailed(outcome.error.split("\n\n", 1)[0], run_id)
    return outcome.result
