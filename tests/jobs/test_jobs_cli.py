from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from greenroom.config import reset_settings_cache
from greenroom.db.engine import Database
from greenroom.jobs.cli import register
from greenroom.jobs.models import JobRun, RunStatus
from greenroom.jobs.registry import job

app = typer.Typer()
register(app)


@pytest.fixture
def cli(db_url, monkeypatch, jobs):
    monkeypatch.setenv("GREENROOM_DATABASE_URL", db_url)
    monkeypatch.setenv("GREENROOM_TIMEZONE", "UTC")
    # Configuring logging inside CliRunner would point it at a stream closed after the call.
    monkeypatch.setattr("greenroom.jobs.cli.configure_logging", lambda *args, **kwargs: None)
    reset_settings_cache()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    reset_settings_cache()


def test_list_shows_each_job_with_its_kind_state_and_schedule(cli):
    job("test.optional", every=300)(lambda ctx: None)
    result = cli("jobs", "list")
    assert result.exit_code == 0, result.output
    cleanup = next(line for line in result.output.splitlines() if "jobs.cleanup" in line)
    assert "core" in cleanup and "yes" in cleanup and "every 1h" in cleanup and "never" in cleanup
    optional = next(line for line in result.output.splitlines() if "test.optional" in line)
    assert "optional" in optional and "no" in optional and "every 5m" in optional


def test_run_prints_the_result_and_history_shows_the_run(cli):
    job("test.echo")(lambda ctx: {"args": ctx.args})
    result = cli("jobs", "run", "test.echo", "--arg", "limit=5", "--arg", "name=abc", "--arg", "flag=true")
    assert result.exit_code == 0, result.output
    assert '"limit": 5' in result.output and '"name": "abc"' in result.output and '"flag": true' in result.output
    history = cli("jobs", "history", "test.echo")
    assert history.exit_code == 0 and "succeeded" in history.output and "manual:" in history.output


def test_a_failing_run_exits_non_zero_with_the_error(cli):
    job("test.broken")(lambda ctx: int("not a number"))
    result = cli("jobs", "run", "test.broken")
    assert result.exit_code == 1
    assert "test.broken failed (run 1): ValueError: invalid literal" in result.output


def test_an_unknown_job_name_is_an_error_that_lists_the_known_ones(cli):
    for command in (["run", "nope.never"], ["enable", "nope.never"], ["history", "nope.never"]):
        result = cli("jobs", *command)
        assert result.exit_code == 1
        assert "unknown job 'nope.never'; known jobs: jobs.cleanup" in result.output


def test_a_core_job_is_disabled_only_with_force_and_can_be_enabled_again(cli):
    refused = cli("jobs", "disable", "jobs.cleanup")
    assert refused.exit_code == 1 and "--force" in refused.output
    assert cli("jobs", "disable", "jobs.cleanup", "--force").exit_code == 0
    assert "off (forced)" in cli("jobs", "list").output
    assert cli("jobs", "enable", "jobs.cleanup").exit_code == 0
    line = next(line for line in cli("jobs", "list").output.splitlines() if "jobs.cleanup" in line)
    assert "yes" in line


def test_the_worker_command_migrates_runs_core_jobs_and_stops_on_sigterm(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {**os.environ, "GREENROOM_DATABASE_URL": url, "GREENROOM_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "greenroom.cli", "worker", "--poll-interval", "0.1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    database = Database(url)
    try:
        deadline = time.monotonic() + 20
        status = None
        while status != RunStatus.SUCCEEDED and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            try:
                with database.read() as db:
                    status = db.execute(select(JobRun.status).where(JobRun.job == "jobs.cleanup")).scalar()
            except Exception:  # the tables do not exist until the worker has migrated
                status = None
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=15)[0].decode()
        database.dispose()
    assert status == RunStatus.SUCCEEDED, output
    assert proc.returncode == 0, output
