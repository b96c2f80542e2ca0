"""Fixtures for Stats API tests: the simulator serving a Stats API over loopback, a registry
holding only this feature's jobs, a clock to move by hand, and the web fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from greenroom.config import Settings
from greenroom.jobs import registry
from greenroom.simulator.cli import start_demo_simulator
from greenroom.simulator.server import SimulatorServer
from tests.web.conftest import app, cheap_password_hashing, client, feed, signed_in  # noqa: F401 (fixtures)
from tests.web.web_helpers import PASSWORD, SECRET_URL

TOKEN = "StatsT0ken4567890abcdefX"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    # Inside a 5-minute slot, not on its edge.
    return Clock(datetime(2026, 11, 28, 15, 1, 30, tzinfo=UTC))


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    """A room live since "now" at 60x speed, a day of history before it, on a loopback port."""
    server = start_demo_simulator(seed=11, speed=60, token=TOKEN, history_days=1, live_days=0.5)
    yield server
    server.stop()


@pytest.fixture
def stats_jobs() -> Iterator[dict[str, registry.JobDef]]:
    """Only this feature's jobs are defined while the test runs (the others are their own tests')."""
    registry.load_jobs()
    saved = dict(registry.REGISTRY)
    registry.REGISTRY.clear()
    registry.REGISTRY.update({k: v for k, v in saved.items() if k.startswith("statsapi.")})
    yield registry.REGISTRY
    registry.REGISTRY.clear()
    registry.REGISTRY.update(saved)


def make_settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The web app's settings: an Events API URL, no Stats API URL (tests add one where needed)."""
    return make_settings(tmp_path, owner_password=PASSWORD, timezone="Europe/Berlin", events_url=SECRET_URL)
