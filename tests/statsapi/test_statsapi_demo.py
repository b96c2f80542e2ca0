"""The demo (``greenroom serve`` with no URL) samples its simulator's Stats API too."""

from __future__ import annotations

from sqlalchemy import select

from greenroom.config import parse_stats_url
from greenroom.jobs.runner import run_now
from greenroom.jobs.worker import Worker
from greenroom.runtime import Runtime, start_demo
from greenroom.statsapi.models import StatsSample
from tests.statsapi.conftest import make_settings


def test_the_demo_points_the_sampler_at_its_simulator(sqlite_database, stats_jobs, clock, tmp_path):
    runtime = Runtime(make_settings(tmp_path, demo_speed=5.0), sqlite_database)
    try:
        feed = start_demo(runtime)
        assert runtime.settings.stats_url is not None
        stats = parse_stats_url(runtime.settings.stats_url.get_secret_value())
        assert (stats.username, stats.token, stats.host) == (feed.username, feed.token, feed.host)
        Worker(sqlite_database, runtime.settings, clock=clock).run_once()  # the watcher switches sampling on
        again = run_now(sqlite_database, "statsapi.sample", runtime.settings, clock=clock)
        assert "skipped" in again  # the worker's pass sampled this slot already
        with sqlite_database.read() as db:
            row = db.execute(select(StatsSample)).scalar_one()
            assert row.broadcaster == feed.username and row.num_followers > 0
    finally:
        runtime.stop()


def test_a_configured_url_is_left_alone_by_the_demo(sqlite_database, tmp_path):
    url = "https://chaturbate.com/statsapi/?username=bob&token=abcdefghijklmnopqrstuvwx"
    runtime = Runtime(make_settings(tmp_path, stats_url=url), sqlite_database)
    try:
        start_demo(runtime)
        assert runtime.settings.stats_url.get_secret_value() == url
    finally:
        runtime.stop()
