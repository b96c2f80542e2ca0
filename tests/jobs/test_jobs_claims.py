from __future__ import annotations

from datetime import UTC, datetime, timedelta

from greenroom.jobs import claims, service
from greenroom.jobs.claims import backoff
from greenroom.jobs.models import JobRun, RunStatus
from greenroom.jobs.registry import job

START = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def _queue(database, name="test.work", **kwargs):
    with database.write() as db:
        service.sync_definitions(db, START)
        return service.enqueue(db, name, now=START, **kwargs)


def _claim(database, worker="w1", now=START):
    with database.write() as db:
        return claims.claim_next(db, worker, now, lease=LEASE)


def _get(database, run_id):
    with database.read() as db:
        run = db.get(JobRun, run_id)
        db.expunge(run)
        return run


def test_a_claimed_run_is_running_for_its_worker_and_no_one_else_can_claim_it(database, jobs):
    job("test.work")(lambda ctx: None)
    run_id = _queue(database)
    run = _claim(database, "w1")
    assert (run.id, run.status, run.worker_id, run.attempts) == (run_id, RunStatus.RUNNING, "w1", 1)
    assert run.lease_until == START + LEASE
    assert _claim(database, "w2") is None


def test_runs_are_claimed_oldest_due_first_and_not_before_they_are_due(database, jobs):
    job("test.work")(lambda ctx: None)
    later = _queue(database, run_after=START + timedelta(minutes=5))
    second = _queue(database, run_after=START - timedelta(minutes=1))
    first = _queue(database, run_after=START - timedelta(minutes=2))
    assert [_claim(database).id, _claim(database).id, _claim(database)] == [first, second, None]
    assert _claim(database, now=START + timedelta(minutes=5)).id == later


def test_runs_of_disabled_or_undefined_jobs_are_left_in_the_queue(database, jobs):
    job("test.optional", every=60)(lambda ctx: None)
    _queue(database, "test.optional")
    _queue(database, "elsewhere.defined")
    assert _claim(database) is None
    with database.write() as db:
        service.set_enabled(db, "test.optional", True, now=START)
    assert _claim(database).job == "test.optional"


def test_finishing_records_the_result_and_ends_the_lease(database, jobs):
    job("test.work")(lambda ctx: None)
    run_id = _queue(database)
    run = _claim(database)
    with database.write() as db:
        assert claims.finish(db, run, now=START + timedelta(seconds=3), result={"done": 2})
    stored = _get(database, run_id)
    assert (stored.status, stored.result, stored.lease_until) == (RunStatus.SUCCEEDED, {"done": 2}, None)
    assert stored.finished_at == START + timedelta(seconds=3)


def test_a_failed_attempt_is_retried_with_exponential_backoff_until_the_last_attempt_fails(database, jobs):
    job("test.work", max_attempts=3)(lambda ctx: None)
    run_id = _queue(database)
    now = START
    retry_times = []
    for attempt in (1, 2, 3):
        run = _claim(database, now=now)
        assert run.attempts == attempt
        with database.write() as db:
            status = claims.fail(db, run, now=now, error=f"ValueError: boom {attempt}")
        stored = _get(database, run_id)
        if attempt < 3:
            assert status == RunStatus.QUEUED and stored.run_after == now + backoff(attempt)
            retry_times.append(stored.run_after - now)
            assert _claim(database, now=stored.run_after - timedelta(seconds=1)) is None
            now = stored.run_after
    assert retry_times == [timedelta(seconds=15), timedelta(seconds=30)]
    assert status == RunStatus.FAILED
    assert (stored.status, stored.error, stored.finished_at) == (RunStatus.FAILED, "ValueError: boom 3", now)


def test_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert backoff(40) == timedelta(hours=1)


def test_a_run_whose_worker_vanished_goes_back_to_the_queue_after_its_lease(database, jobs):
    job("test.work")(lambda ctx: None)
    run_id = _queue(database)
    run = _claim(database, "dead-worker")
    with database.write() as db:
        assert claims.requeue_stale(db, START + LEASE) == []  # the lease has not passed yet
        assert claims.requeue_stale(db, START + LEASE + timedelta(seconds=1)) == [run_id]
    again = _claim(database, "w2", now=START + LEASE + timedelta(seconds=1))
    assert (again.id, again.attempts, again.worker_id) == (run_id, 2, "w2")
    assert again.error == claims.STALE_ERROR
    # The dead worker's late report is ignored: the run belongs to the second attempt now.
    with database.write() as db:
        assert not claims.finish(db, run, now=START + LEASE * 2, result={"late": True})
        assert claims.fail(db, run, now=START + LEASE * 2, error="late") is None
    assert _get(database, run_id).status == RunStatus.RUNNING


def test_a_heartbeat_keeps_a_long_run_from_being_requeued(database, jobs):
    job("test.work")(lambda ctx: None)
    run_id = _queue(database)
    run = _claim(database)
    with database.write() as db:
        assert claims.renew_lease(db, run, START + timedelta(seconds=50), LEASE)
        assert claims.requeue_stale(db, START + timedelta(seconds=100)) == []
    assert _get(database, run_id).lease_until == START + timedelta(seconds=110)


def test_a_stale_run_on_its_last_attempt_fails_instead_of_looping_forever(database, jobs):
    job("test.work", max_attempts=1)(lambda ctx: None)
    run_id = _queue(database)
    _claim(database)
    with database.write() as db:
        claims.requeue_stale(db, START + LEASE * 2)
    stored = _get(database, run_id)
    assert (stored.status, stored.error) == (RunStatus.FAILED, claims.STALE_ERROR)
