"""The worker loop. Any number of workers may run against one database: scheduling is an
insert-or-ignore on the (job, slot) key and claiming a conditional UPDATE, so they agree without
talking to each other, and a killed worker's run goes back to the queue when its lease passes.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from greenroom.db.engine import Database
from greenroom.db.types import utcnow
from greenroom.jobs import claims, service
from greenroom.jobs.registry import REGISTRY, load_jobs
from greenroom.jobs.runner import Clock, execute, make_worker_id
from greenroom.logs import get_logger
from greenroom.secrets import redact

log = get_logger("greenroom.jobs.worker")


class Worker:
    def __init__(
        self,
        database: Database,
        settings: Any,
        *,
        worker_id: str | None = None,
        clock: Clock = utcnow,
        poll_interval: float = 1.0,
        lease: timedelta = claims.DEFAULT_LEASE,
    ) -> None:
        self.database = database
        self.settings = settings
        self.worker_id = worker_id or make_worker_id()
        self.clock = clock
        self.poll_interval = poll_interval
        self.lease = lease
        self._started = False
        self._stop: threading.Event | None = None

    def start(self) -> None:
        """Load the job modules and write their definitions (core jobs back on, see service)."""
        load_jobs()
        with self.database.write() as db:
            service.sync_definitions(db, self.clock())
        self._started = True
        log.info("worker started", worker=self.worker_id, jobs=len(REGISTRY))

    def run_once(self) -> int:
        """One pass: requeue runs of dead workers, schedule due periodic runs, then claim and execute
        runs until none is due (or a stop was asked for). Returns how many runs were executed."""
        if not self._started:
            self.start()
        with self.database.write() as db:
            now = self.clock()
            claims.requeue_stale(db, now)
            service.schedule_due(db, now)
        executed = 0
        while not (self._stop and self._stop.is_set()):
            with self.database.write() as db:
                now = self.clock()
                if executed:
                    # A long drain must not let periodic slots pass unscheduled.
                    service.schedule_due(db, now)
                run = claims.claim_next(db, self.worker_id, now, lease=self.lease)
            if run is None:
                break
            definition = REGISTRY.get(run.job)
            # claim_next only takes runs of jobs defined here, so this holds unless the registry
            # was changed under us; the lease then hands the run to another worker.
            if definition is not None:
                execute(self.database, self.settings, run, definition, clock=self.clock, lease=self.lease)
                executed += 1
        return executed

    def run(self, stop_event: threading.Event) -> None:
        """Loop until ``stop_event`` is set. A run in progress is finished first."""
        self._stop = stop_event
        while not stop_event.is_set():
            try:
                executed = self.run_once()
            except Exception as exc:  # the database went away for a moment: wait and try again
                log.error("worker pass failed", worker=self.worker_id, error=redact(f"{type(exc).__name__}: {exc}"))
                executed = 0
            if executed == 0:
                stop_event.wait(self.poll_interval)
        log.info("worker stopped", worker=self.worker_id)
