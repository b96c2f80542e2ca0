"""SIGKILL the ingester process at random points; the store must end with exactly the served
events, each once, and the cursor at the end."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from greenroom.db.engine import Database
from greenroom.events.models import Event, Feed
from greenroom.simulator.script import ScriptConfig, build_script
from greenroom.simulator.server import SimulatorServer

from .conftest import TOKEN, served_ids

pytestmark = pytest.mark.slow

N_EVENTS = 20_000
KILLS = 6


def _count(database: Database) -> int:
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(Event)) or 0


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "greenroom", "ingest"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def test_sigkilled_ingesters_lose_and_duplicate_nothing(db_url, tmp_path):
    script = build_script(ScriptConfig(seed=20, target_events=N_EVENTS))
    rng = random.Random(7)
    database = Database(db_url)
    log = tmp_path / "ingest.log"
    with SimulatorServer(script, token=TOKEN, speed="instant", batch_limit=100) as server:
        env = dict(os.environ, GREENROOM_EVENTS_URL=server.feed_url, GREENROOM_DATABASE_URL=db_url,
                   GREENROOM_DATA_DIR=str(tmp_path), GREENROOM_POLL_TIMEOUT="1", GREENROOM_LEASE_SECONDS="3",
                   GREENROOM_LOG_LEVEL="INFO")
        kills = 0
        while kills < KILLS:
            before = _count(database)
            process = _start(env, log)
            deadline = time.monotonic() + 60
            while _count(database) <= before and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.4))  # somewhere in the middle of a batch, or between two
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            kills += 1
            assert _count(database) < len(script.events), "the scenario finished before all kills landed"
        process = _start(env, log)
        deadline = time.monotonic() + 180
        while _count(database) < len(script.events) and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        expected = served_ids(server)
    with database.read() as db:
        stored = list(db.scalars(select(Event.event_id).order_by(Event.id)))
        feed = db.scalars(select(Feed)).one()
    database.dispose()
    assert len(stored) == len(set(stored)), "an event was stored twice"
    assert stored == expected
    assert feed.cursor_event_id == expected[-1]
    assert feed.events_stored == len(expected)
    output = log.read_text(errors="replace")
    assert TOKEN not in output
    assert output.count("lease acquired") == KILLS + 1
