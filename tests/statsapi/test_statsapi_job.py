"""The sampling job against the simulator's Stats API over real loopback HTTP, on both engines."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from greenroom.events.feeds import ensure_feed
from greenroom.jobs import service as jobs_service
from greenroom.jobs.models import Job, JobRun
from greenroom.jobs.runner import JobFailed, run_now
from greenroom.jobs.worker import Worker
from greenroom.prefs import service as prefs
from greenroom.statsapi.models import StatsSample, StatsSource
from tests.statsapi.conftest import TOKEN, make_settings

FAST = {"attempts": 3, "backoff": 0}


def _samples(database):
    with database.read() as db:
        rows = db.execute(select(StatsSample).order_by(StatsSample.sampled_at)).scalars().all()
        db.expunge_all()
        return rows


def _enabled(database, name="statsapi.sample"):
    with database.read() as db:
        return db.execute(select(Job.enabled).where(Job.name == name)).scalar_one_or_none()


def _worker(database, settings, clock):
    return Worker(database, settings, clock=clock, poll_interval=0.01)


def test_a_set_url_switches_sampling_on_and_the_worker_stores_a_sample(database, sim, stats_jobs, clock, tmp_path):
    settings = make_settings(tmp_path, stats_url=sim.stats_url)
    worker = _worker(database, settings, clock)
    assert worker.run_once() >= 2  # statsapi.watch, then the sample it switched on
    assert _enabled(database) is True
    rows = _samples(database)
    assert len(rows) == 1
    row = rows[0]
    assert row.broadcaster == "alice"
    assert row.feed_id is None  # no Events API feed for alice yet: kept by name
    assert row.sampled_at == clock()
    assert row.num_viewers is not None and row.num_followers > 0 and row.token_balance > 0
    assert row.time_online_minutes is not None  # the simulated room is live
    assert row.raw["username"] == "alice" and "num_tokened_viewers" in row.raw


def test_one_sample_per_five_minute_slot(database, sim, stats_jobs, clock, tmp_path):
    settings = make_settings(tmp_path, stats_url=sim.stats_url)
    first = run_now(database, "statsapi.sample", settings, clock=clock)
    assert first["sampled"] == "alice"
    requests = sim.stats.requests
    clock.advance(minutes=2)  # same slot (15:00-15:05)
    again = run_now(database, "statsapi.sample", settings, clock=clock)
    assert "skipped" in again
    assert sim.stats.requests == requests  # the slot is not fetched twice
    assert len(_samples(database)) == 1
    clock.advance(minutes=3)  # 15:06:30: the next slot
    run_now(database, "statsapi.sample", settings, clock=clock)
    rows = _samples(database)
    assert [r.slot.minute for r in rows] == [0, 5]


def test_a_rejected_token_is_recorded_without_the_token_and_nothing_is_stored(database, sim, stats_jobs, clock,
                                                                            tmp_path, caplog):
    settings = make_settings(tmp_path, stats_url=sim.stats_url)
    sim.stats.add_fault("401")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(JobFailed) as caught:
        run_now(database, "statsapi.sample", settings, FAST, clock=clock)
    assert "token rejected" in str(caught.value)
    assert _samples(database) == []
    assert sim.stats.requests == 1  # a rejected token is not retried
    with database.read() as db:
        source = db.get(StatsSource, "alice")
        run = db.execute(select(JobRun).where(JobRun.job == "statsapi.sample")).scalar_one()
        assert source.last_error == "HTTP 401: token rejected"
        assert source.last_error_at == clock() and source.last_success_at is None
        assert "token=****" in source.url_masked
        texts = [source.last_error, source.url_masked, run.error or ""]
    assert "token rejected" in run.error
    assert all(TOKEN not in text for text in texts)
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(("kind", "expected"), [
    ("malformed", "malformed response (invalid JSON)"),
    ("not_object", "malformed response (not a JSON object)"),
    ("empty", "malformed response (none of the Stats API fields)"),
    ("404", "HTTP 404: not found (check the username in the Stats API URL)"),
])
def test_a_malformed_or_refused_answer_is_an_error_and_nothing_is_stored(database, sim, stats_jobs, clock, tmp_path,
                                                                         kind, expected):
    settings = make_settings(tmp_path, stats_url=sim.stats_url)
    sim.stats.add_fault(kind)
    with pytest.raises(JobFailed) as caught:
        run_now(database, "statsapi.sample", settings, FAST, clock=clock)
    assert expected in str(caught.value)
    assert _samples(database) == []
    with database.read() as db:
        assert db.get(StatsSource, "alice").last_error == expected


def test_rate_limits_and_server_errors_are_retried_with_backoff(database, sim, stats_jobs, clock, tmp_path):
    settings = make_settings(tmp_path, stats_url=sim.stats_url)
    sim.stats.add_fault("429", 1)
    sim.stats.add_fault("503", 1)
    result = run_now(database, "statsapi.sample", settings, {"attempts": 3, "backoff": 0.01}, clock=clock)
    assert result["sampled"] == "alice"
    assert sim.stats.requests == 3
    sim.stats.add_fault("503")
    clock.advance(minutes=5)
    with pytest.raises(JobFailed, match=r"HTTP 503: server error \(after 2 attempts\)"):
        run_now(database, "statsapi.sample", settings, {"attempts": 2, "backoff": 0}, clock=clock)
    assert len(_samples(database)) == 1


def test_numbers_sent_as_strings_are_stored_as_numbers(database, sim, stats_jobs, clock, tmp_path):
    sim.stats.add_fault("strings", 1)
    run_now(database, "statsapi.sample", make_settings(tmp_path, stats_url=sim.stats_url), clock=clock)
    row = _samples(database)[0]
    assert isinstance(row.num_followers, int) and row.num_followers > 0
    assert isinstance(row.raw["num_followers"], str)


def test_without_a_url_sampling_stays_off_and_says_why(database, stats_jobs, clock, tmp_path):
    settings = make_settings(tmp_path)
    _worker(database, settings, clock).run_once()
    assert _enabled(database) is False
    assert _enabled(database, "statsapi.watch") is True  # the watcher is a core job
    result = run_now(database, "statsapi.sample", settings, clock=clock)
    assert result == {"idle": "no Stats API URL is set (GREENROOM_STATS_URL, or Admin › Settings)"}
    assert _samples(database) == []


def test_saving_the_url_switches_sampling_on_and_removing_it_off(database, sim, stats_jobs, clock, tmp_path):
    settings = make_settings(tmp_path)
    worker = _worker(database, settings, clock)
    worker.run_once()
    assert _enabled(database) is False
    with database.write() as db:
        assert prefs.save(db, {"stats_url": sim.stats_url}, clock()) == {"stats_url": "set"}
    clock.advance(minutes=1)
    worker.run_once()
    assert _enabled(database) is True
    assert len(_samples(database)) == 1
    # The owner switches sampling off by hand: the watcher leaves that alone.
    with database.write() as db:
        jobs_service.set_enabled(db, "statsapi.sample", False, now=clock())
    clock.advance(minutes=5)
    worker.run_once()
    assert _enabled(database) is False
    assert len(_samples(database)) == 1
    # A new URL counts as newly set; removing it switches sampling off again.
    sim.set_token("NewStatsToken0123456789Z")
    with database.write() as db:
        prefs.save(db, {"stats_url": sim.stats_url}, clock())
    clock.advance(minutes=5)
    worker.run_once()
    assert _enabled(database) is True and len(_samples(database)) == 2
    with database.write() as db:
        prefs.save(db, {}, clock(), clear_keys=("stats_url",))
    clock.advance(minutes=5)
    worker.run_once()
    assert _enabled(database) is False and len(_samples(database)) == 2


def test_samples_join_the_room_once_its_feed_exists(database, sim, stats_jobs, clock, tmp_path):
    settings = make_settings(tmp_path, stats_url=sim.stats_url)
    run_now(database, "statsapi.sample", settings, clock=clock)
    with database.write() as db:
        feed_id = ensure_feed(db, broadcaster="alice", url_masked="https://x/events/alice/****/",
                              url_fingerprint="fp", is_demo=False, now=clock()).id
    clock.advance(minutes=5)
    run_now(database, "statsapi.sample", settings, clock=clock)
    assert [r.feed_id for r in _samples(database)] == [feed_id, feed_id]


def test_the_job_definitions():
    from greenroom.jobs.registry import load_jobs

    jobs = load_jobs()
    sample, watch = jobs["statsapi.sample"], jobs["statsapi.watch"]
    assert not sample.core and sample.every.total_seconds() == 300
    assert not jobs_service.enabled_by_default(sample)  # optional: switched on by the URL
    assert watch.core and watch.every.total_seconds() == 60


def test_the_token_is_nowhere_in_the_database_file(sqlite_database, sim, stats_jobs, clock, tmp_path):
    settings = make_settings(tmp_path, stats_url=sim.stats_url)
    run_now(sqlite_database, "statsapi.sample", settings, clock=clock)
    sim.stats.add_fault("401")
    clock.advance(minutes=5)
    with pytest.raises(JobFailed):
        run_now(sqlite_database, "statsapi.sample", settings, FAST, clock=clock)
    path = sqlite_database.engine.url.database
    sqlite_database.dispose()
    data = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if os.path.exists(p))
    assert TOKEN.encode() not in data
    assert b"HTTP 401: token rejected" in data


def test_an_unreachable_stats_api_is_retried_then_recorded(database, stats_jobs, clock, tmp_path):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = make_settings(tmp_path, stats_url=f"http://127.0.0.1:{port}/statsapi/?username=alice&token={TOKEN}")
    with pytest.raises(JobFailed, match=r"network error \(ConnectError\) \(after 2 attempts\)"):
        run_now(database, "statsapi.sample", settings, {"attempts": 2, "backoff": 0}, clock=clock)
    with database.read() as db:
        assert db.get(StatsSource, "alice").last_error == "network error (ConnectError) (after 2 attempts)"
    assert _samples(database) == []
