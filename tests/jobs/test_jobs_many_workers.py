"""Several worker processes, each with its own engine, against one database (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from greenroom.db.engine import Database
from greenroom.jobs import service
from greenroom.jobs.models import JobRun, RunStatus

WORKER = Path(__file__).with_name("worker_process.py")


class Workers:
    def __init__(self, db_url: str, tmp_path: Path, lease: float) -> None:
        self.db_url, self.tmp_path, self.lease = db_url, tmp_path, lease
        self.log = tmp_path / "executions.log"
        self.env = {**os.environ, "GREENROOM_TEST_JOBS_LOG": str(self.log)}
        self.procs: list[subprocess.Popen] = []

    def start(self, count: int) -> list[subprocess.Popen]:
        started = []
        for _ in range(count):
            out = open(self.tmp_path / f"worker-{len(self.procs)}.out", "wb")  # noqa: SIM115
            proc = subprocess.Popen(
                [sys.executable, str(WORKER), self.db_url, str(self.lease)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )
            self.procs.append(proc)
            started.append(proc)
        self.wait_for(lambda lines: all(any(f"ready {p.pid}" == line for line in lines) for p in started))
        return started

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def wait_for(self, condition, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.lines()):
            for proc in self.procs:
                assert proc.poll() is None or proc.returncode in (0, -signal.SIGKILL), self.output()
            assert time.monotonic() < deadline, f"timed out; log:\n{self.lines()}\n{self.output()}"
            time.sleep(0.05)

    def output(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.tmp_path.glob("worker-*.out")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise


def test_three_workers_run_every_periodic_slot_and_every_queued_run_exactly_once(db_url, tmp_path):
    workers = Workers(db_url, tmp_path, lease=30)
    database = Database(db_url)
    try:
        pids = {p.pid for p in workers.start(3)}
        with database.write() as db:
            ids = {service.enqueue(db, "testjobs.work", args={"n": n}, key=f"work-{n}") for n in range(50)}
            # Queueing the same keys again adds nothing.
            ids |= {service.enqueue(db, "testjobs.work", args={"n": n}, key=f"work-{n}") for n in range(10)}
        assert len(ids) == 50
        started = time.monotonic()
        workers.wait_for(
            lambda lines: sum(line.startswith("work ") for line in lines) >= 50 and time.monotonic() - started > 3
        )
    finally:
        workers.stop()
    lines = [line.split() for line in workers.lines()]
    work = Counter(int(words[1]) for words in lines if words[0] == "work")
    ticks = Counter(int(words[1]) for words in lines if words[0] == "tick")
    assert set(work) == ids and set(work.values()) == {1}
    assert set(ticks.values()) == {1}
    # The queued work really was shared between the processes.
    assert len({words[2] for words in lines if words[0] == "work"} & {str(p) for p in pids}) >= 2

    with database.read() as db:
        runs = db.execute(select(JobRun.id, JobRun.slot, JobRun.status).where(JobRun.job == "testjobs.tick")).all()
        work_runs = db.execute(select(JobRun.status, JobRun.attempts).where(JobRun.job == "testjobs.work")).all()
    database.dispose()
    assert Counter(tuple(r) for r in work_runs) == {(RunStatus.SUCCEEDED, 1): 50}
    done = {run_id for run_id, _, status in runs if status == RunStatus.SUCCEEDED}
    assert done == set(ticks) and len(done) >= 3
    # One run per one-second slot, with no slot skipped while the workers were up.
    slots = sorted(datetime.fromisoformat(slot) for _, slot, _ in runs)
    assert len(slots) == len(set(slots))
    assert all(b - a == timedelta(seconds=1) for a, b in zip(slots, slots[1:], strict=False))


def test_a_run_whose_worker_was_killed_is_picked_up_by_another_worker(db_url, tmp_path):
    workers = Workers(db_url, tmp_path, lease=1)
    database = Database(db_url)
    try:
        [first] = workers.start(1)
        with database.write() as db:
            run_id = service.enqueue(db, "testjobs.hang_once")
        workers.wait_for(lambda lines: f"hang {run_id} 1 {first.pid}" in lines)
        first.kill()  # no chance to clean up: its run stays "running" until the lease passes
        first.wait()
        [second] = workers.start(1)
        workers.wait_for(lambda lines: f"hang {run_id} 2 {second.pid}" in lines)
        deadline = time.monotonic() + 10
        while True:
            with database.read() as db:
                status, attempts, result = db.execute(
                    select(JobRun.status, JobRun.attempts, JobRun.result).where(JobRun.id == run_id)
                ).one()
            if status != RunStatus.RUNNING or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        workers.stop()
        database.dispose()
    assert (status, attempts, result) == (RunStatus.SUCCEEDED, 2, {"attempt": 2})
