from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from greenroom.errors import Conflict
from greenroom.jobs import service
from greenroom.jobs.models import Job, JobRun, RunStatus
from greenroom.jobs.registry import job

START = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


def _define(jobs):
    job("test.core", every=60, core=True)(lambda ctx: None)
    job("test.optional", every=60)(lambda ctx: None)
    job("test.queued")(lambda ctx: None)


def _enabled(database):
    with database.read() as db:
        return {row.name: row.enabled for row in db.execute(select(Job)).scalars()}


def test_new_jobs_start_on_when_core_or_queued_only_and_off_when_optional_periodic(database, jobs):
    _define(jobs)
    with database.write() as db:
        service.sync_definitions(db, START)
    enabled = _enabled(database)
    assert enabled["test.core"] and enabled["test.queued"] and enabled["jobs.cleanup"]
    assert not enabled["test.optional"]


def test_a_core_job_switched_off_without_force_is_switched_back_on_at_start(database, jobs):
    _define(jobs)
    with database.write() as db:
        service.sync_definitions(db, START)
        db.get(Job, "test.core").enabled = False  # a hand edit, not the --force path
        service.set_enabled(db, "test.optional", True, now=START)
    with database.write() as db:
        assert service.sync_definitions(db, START) == ["test.core"]
    enabled = _enabled(database)
    assert enabled["test.core"] and enabled["test.optional"]


def test_a_core_job_stays_off_across_restarts_only_when_forced(database, jobs):
    _define(jobs)
    with database.write() as db, pytest.raises(Conflict, match="--force"):
        service.set_enabled(db, "test.core", False, now=START)
    with database.write() as db:
        service.set_enabled(db, "test.core", False, now=START, force=True)
    with database.write() as db:
        assert service.sync_definitions(db, START) == []
    assert not _enabled(database)["test.core"]
    with database.write() as db:
        service.set_enabled(db, "test.core", True, now=START)
        assert not db.get(Job, "test.core").forced_off


def test_workers_scheduling_the_same_interval_create_one_run(database, jobs):
    _define(jobs)
    with database.write() as db:
        service.sync_definitions(db, START)
    for offset in (1, 5, 59, 60, 61):
        with database.write() as db:
            service.schedule_due(db, START + timedelta(seconds=offset))
    with database.read() as db:
        runs = db.execute(
            select(JobRun.slot, JobRun.run_after).where(JobRun.job == "test.core").order_by(JobRun.id)
        ).all()
    assert [tuple(r) for r in runs] == [
        (START.isoformat(), START),
        ((START + timedelta(minutes=1)).isoformat(), START + timedelta(minutes=1)),
    ]
    with database.read() as db:  # optional periodic jobs are off until the owner switches them on
        assert not db.execute(select(JobRun).where(JobRun.job == "test.optional")).first()


def test_slots_start_on_whole_intervals_counted_from_the_epoch():
    now = datetime(2026, 11, 1, 20, 17, 42, 123456, tzinfo=UTC)
    assert service.slot_start(now, timedelta(hours=1)) == datetime(2026, 11, 1, 20, 0, tzinfo=UTC)
    assert service.slot_start(now, timedelta(seconds=1)) == now.replace(microsecond=0)
    assert service.slot_start(now, timedelta(days=1)) == datetime(2026, 11, 1, tzinfo=UTC)


def test_enqueue_with_a_key_is_idempotent_and_without_one_always_adds(database, jobs):
    with database.write() as db:
        first = service.enqueue(db, "later.job", args={"a": 1}, key="session-7", now=START)
        again = service.enqueue(db, "later.job", args={"a": 2}, key="session-7", now=START)
        other = service.enqueue(db, "later.job", args={"a": 3}, now=START)
        another = service.enqueue(db, "later.job", args={"a": 3}, now=START)
    assert first == again and len({first, other, another}) == 3
    with database.read() as db:
        run = db.get(JobRun, first)
        assert run.args == {"a": 1} and run.status == RunStatus.QUEUED and run.run_after == START


def test_cancel_only_touches_runs_that_have_not_started(database, jobs):
    with database.write() as db:
        run_id = service.enqueue(db, "later.job", now=START)
        assert service.cancel(db, run_id, now=START)
        assert not service.cancel(db, run_id, now=START)
