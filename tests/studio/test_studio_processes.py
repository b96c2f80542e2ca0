"""A studio for real: 5 simulated rooms (each its own broadcaster and token) added through the
Admin API, 3 `greenroom serve --no-web` processes (ingest + worker) against one PostgreSQL
database, and one of them killed with SIGKILL mid-stream.

Every room's events are stored exactly once (compared with each simulator's /_sim/truth), no room
is ever polled by two processes at once (the simulators' request spans), no job slot runs twice,
sessions and people stay in their room, and the killed process's rooms are taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func, select, text
from starlette.testclient import TestClient

from greenroom.config import Settings
from greenroom.db.engine import Database
from greenroom.events.models import Event, Feed, FeedLease
from greenroom.jobs.claims import STALE_ERROR
from greenroom.jobs.models import JobRun
from greenroom.people.models import Person
from greenroom.sessions.models import BroadcastSession
from greenroom.web.app import create_app
from greenroom.web.auth import ensure_owner
from tests.conftest import create_pg_database
from tests.web.web_helpers import PASSWORD, login

from .conftest import SECRET_KEY, csrf, room_script, token_for, wait_for

ROOMS = ["ava", "bea", "cleo", "dina", "eve"]
PROCESSES = 3
STREAM_SECONDS = 25.0


@pytest.fixture
def pg_studio():
    url, name, admin = create_pg_database("greenroom_studio")
    database = Database(url)
    yield url, database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _start(url: str, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, GREENROOM_DATABASE_URL=url, GREENROOM_SECRET_KEY=SECRET_KEY,
               GREENROOM_DATA_DIR=str(data_dir), GREENROOM_POLL_TIMEOUT="1", GREENROOM_LEASE_SECONDS="4",
               GREENROOM_BACKOFF_CAP_SECONDS="0.5", GREENROOM_LOG_LEVEL="INFO")
    env.pop("GREENROOM_EVENTS_URL", None)
    return subprocess.Popen([sys.executable, "-m", "greenroom", "serve", "--no-web"], env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _counts(database: Database) -> dict[int, int]:
    with database.read() as db:
        return dict(db.execute(select(Event.feed_id, func.count()).group_by(Event.feed_id)).all())


def _holders(database: Database) -> dict[int, str | None]:
    with database.read() as db:
        return dict(db.execute(select(FeedLease.feed_id, FeedLease.holder)).all())


def test_three_processes_share_five_rooms_exactly_once_through_a_kill(pg_studio, simulators, tmp_path):
    url, database = pg_studio
    servers = {}
    for seed, name in enumerate(ROOMS, start=1):
        script = room_script(name, seed)
        span = (script.times_ms[-1] - script.times_ms[0]) / 1000
        servers[name] = simulators(name, seed, script=script, speed=span / STREAM_SECONDS, batch_limit=40)

    settings = Settings(_env_file=None, data_dir=tmp_path / "web", owner_password=PASSWORD, secret_key=SECRET_KEY)
    ensure_owner(database, settings)
    client = TestClient(create_app(settings, database))
    login(client)
    ids = {}
    for name, server in servers.items():
        answer = client.post("/api/feeds", json={"url": server.feed_url}, headers={"X-CSRF-Token": csrf(client)})
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()["id"]

    logs = [tmp_path / f"process-{n}.log" for n in range(PROCESSES)]
    processes = [_start(url, tmp_path / f"data-{n}", logs[n]) for n in range(PROCESSES)]
    try:
        wait_for(lambda: all(_holders(database).get(fid) for fid in ids.values()), 60, "every room followed")
        wait_for(lambda: len({h for h in _holders(database).values() if h}) == PROCESSES, 30,
                 "the rooms spread over the three processes")
        split = Counter(h for h in _holders(database).values() if h)
        assert max(split.values()) <= 2, split  # ceil(5 / 3)

        def reported() -> bool:
            listed = client.get("/api/feeds/processes").json()["processes"]
            return len(listed) == PROCESSES and sum(p["feeds_held"] for p in listed) == len(ROOMS)
        wait_for(reported, 10, "each process to report its rooms")

        # Mid-stream, SIGKILL the process that follows the most rooms.
        wait_for(lambda: all(_counts(database).get(fid, 0) > 0 for fid in ids.values()), 30, "events flowing")
        victim_holder, _ = split.most_common(1)[0]
        victim_pid = int(victim_holder.split(":")[1])
        victim = next(p for p in processes if p.pid == victim_pid)
        orphaned = [fid for fid, holder in _holders(database).items() if holder == victim_holder]
        assert any(_counts(database).get(fid, 0) < len(servers[name].script.events)
                   for name, fid in ids.items()), "the streams ended before the kill"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        wait_for(lambda: all(_holders(database).get(fid) not in (None, victim_holder) for fid in orphaned), 40,
                 "the killed process's rooms taken over")

        # Every room to the end of its stream.
        for name, server in servers.items():
            wait_for(lambda s=server, n=name: _counts(database).get(ids[n], 0) == len(s.script.events), 120,
                     f"all of {name}'s events")
        time.sleep(1.0)
        live_rooms = client.get("/api/feeds").json()["feeds"]
        assert all(r["ingester_alive"] and r["state"] == "polling" for r in live_rooms), live_rooms
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()

    with database.read() as db:
        for name, server in servers.items():
            truth = httpx2.get(f"http://127.0.0.1:{server.port}/_sim/truth").json()
            assert truth["script_count"] == len(truth["served"])
            stored = list(db.scalars(select(Event.event_id).where(Event.feed_id == ids[name]).order_by(Event.id)))
            assert len(stored) == len(set(stored)), f"{name}: an event stored twice"
            assert stored == truth["served"], f"{name}: stored events differ from what the room served"
            assert server.overlapping_polls() == [], f"{name} was polled by two processes at once"
            feed = db.get(Feed, ids[name])
            assert feed.events_stored == len(stored) and feed.cursor_event_id == stored[-1]
            assert feed.broadcaster == name

            # Sessions and people stay in their room.
            people = set(db.scalars(select(Person.username).where(Person.feed_id == ids[name])))
            names = {u.lower() for u in db.scalars(select(Event.username).where(
                Event.feed_id == ids[name], Event.username.is_not(None), Event.known.is_(True)))}
            assert people and people <= names
            assert db.scalar(select(func.count()).select_from(BroadcastSession)
                             .where(BroadcastSession.feed_id == ids[name])) >= 1
        crossed = db.execute(text(
            "SELECT count(*) FROM session_events se JOIN events e ON e.id = se.event_pk "
            "JOIN broadcast_sessions s ON s.id = se.session_id WHERE e.feed_id <> s.feed_id")).scalar()
        assert crossed == 0
        linked = db.execute(text("SELECT count(DISTINCT se.event_pk) FROM session_events se")).scalar()
        assert linked > 0

        # Jobs: one run per (job, slot), and a run ran twice only when its worker was killed.
        runs = db.scalars(select(JobRun)).all()
        assert runs, "the workers ran nothing"
        assert len({(r.job, r.slot) for r in runs}) == len(runs)
        repeated = [r for r in runs if r.attempts > 1 and STALE_ERROR not in (r.error or "")]
        assert repeated == []
        assert any(r.job == "sessions.finalize_due" and r.status == "succeeded" for r in runs)

    output = "\n".join(log.read_text(errors="replace") for log in logs)
    for name in ROOMS:
        assert token_for(name) not in output
    assert output.count("following room") >= len(ROOMS) + len(orphaned)
