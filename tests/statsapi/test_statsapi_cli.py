from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from greenroom.config import reset_settings_cache
from greenroom.statsapi.cli import register
from tests.statsapi.conftest import TOKEN

app = typer.Typer()
register(app)


@pytest.fixture
def cli(db_url, monkeypatch, stats_jobs, tmp_path):
    monkeypatch.setenv("GREENROOM_DATABASE_URL", db_url)
    monkeypatch.setenv("GREENROOM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GREENROOM_STATS_URL", raising=False)
    # Configuring logging inside CliRunner would point it at a stream closed after the call.
    monkeypatch.setattr("greenroom.statsapi.cli.configure_logging", lambda *args, **kwargs: None)
    reset_settings_cache()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    reset_settings_cache()


def test_sample_now_and_show_the_latest(cli, sim, monkeypatch):
    idle = cli("stats", "sample")
    assert idle.exit_code == 2 and "no Stats API URL is set" in idle.output
    monkeypatch.setenv("GREENROOM_STATS_URL", sim.stats_url)
    reset_settings_cache()
    taken = cli("stats", "sample")
    assert taken.exit_code == 0, taken.output
    assert json.loads(taken.output.strip().splitlines()[-1])["sampled"] == "alice"
    shown = cli("stats", "latest")
    assert shown.exit_code == 0
    view = json.loads(shown.output[shown.output.index("{"):])
    assert view["configured"] and view["sample"]["num_followers"] > 0
    assert TOKEN not in shown.output and TOKEN not in taken.output


def test_a_failed_sample_says_why_without_the_token(cli, sim, monkeypatch):
    monkeypatch.setenv("GREENROOM_STATS_URL", sim.stats_url)
    reset_settings_cache()
    sim.stats.add_fault("403")
    result = cli("stats", "sample")
    assert result.exit_code == 1
    assert "sample failed: TokenRejected: HTTP 403: token rejected" in result.output
    assert TOKEN not in result.output
