"""SIGKILL `greenroom worker` while it finalizes sessions and `greenroom rebuild` while it rebuilds
them, at random points inside their transactions. After every kill the derived state is exactly the
state before the run or exactly the complete new one, never a mix; owner data survives; `greenroom
doctor` is clean once a run completes."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import make_url

from greenroom.db.engine import Database
from greenroom.events.feeds import ensure_feed
from greenroom.events.store import record_batch
from greenroom.ingest.pipeline import load_steps, process_new_events
from greenroom.jobs import service
from greenroom.jobs.models import JobRun
from greenroom.jobs.registry import load_jobs
from greenroom.sessions.models import BroadcastSession, SessionEvent, SessionNote
from greenroom.sessions.notes import set_notes
from greenroom.simulator.script import ScriptConfig, build_script

from .helpers import doctor_findings

pytestmark = pytest.mark.slow

N_EVENTS = 12_000
WORKER_KILLS = 3
REBUILD_KILLS = 4
TOKEN = "crash-test-token-0123456789abcdef"


def _fill(database: Database) -> int:
    """A room of many broadcasts, ingested as the loop does: sessions derived live, all now due."""
    load_steps()
    script = build_script(ScriptConfig(seed=3, target_events=N_EVENTS, audience=80, broadcasts_per_day=4))
    now = datetime.now(UTC)
    with database.write() as db:
        feed_id = ensure_feed(db, broadcaster="alice", url_masked="x", url_fingerprint="x", is_demo=False,
                              now=now).id
    for i in range(0, len(script.events), 2000):
        with database.write() as db:
            batch = record_batch(db, feed_id=feed_id, envelopes=script.events[i:i + 2000], cursor=None,
                                 cursor_event_id=None, received_at=now, lease_holder=None)
            process_new_events(db, feed_id, batch.new, now)
    return feed_id


def _snapshot(database: Database) -> dict[str, Any]:
    """Everything derived about sessions, plus the owner's notes (stats_at is when, not what)."""
    with database.read() as db:
        sessions = sorted(
            (s.id, s.status, s.started_at, s.ended_at, s.finalize_after, s.event_count, repr(s.segments),
             repr(s.stats), repr(s.timeline))
            for s in db.scalars(select(BroadcastSession))
        )
        links = sorted(db.execute(select(SessionEvent.session_id, func.count()).group_by(SessionEvent.session_id)))
        notes = sorted((n.session_id, n.notes) for n in db.scalars(select(SessionNote)))
    return {"sessions": sessions, "links": [tuple(r) for r in links], "notes": notes}


def _damage(database: Database) -> None:
    """What a rebuild must repair: one session's event links gone, another's stats wrong."""
    with database.write() as db:
        ids = list(db.scalars(select(BroadcastSession.id).order_by(BroadcastSession.id)))
        db.execute(delete(SessionEvent).where(SessionEvent.session_id == ids[1]))
        db.execute(update(BroadcastSession).where(BroadcastSession.id == ids[2]).values(stats={"tokens": -1}))


_RESTORED = ("status", "stats", "timeline", "event_count", "stats_at", "finalized_at")


def _raw_sessions(database: Database) -> list[dict[str, Any]]:
    with database.read() as db:
        return [{"id": s.id, **{c: getattr(s, c) for c in _RESTORED}} for s in db.scalars(select(BroadcastSession))]


def _restore_sessions(database: Database, rows: list[dict[str, Any]]) -> None:
    with database.write() as db:
        for row in rows:
            db.execute(update(BroadcastSession).where(BroadcastSession.id == row["id"])
                       .values(**{c: row[c] for c in _RESTORED}))


def _statuses(database: Database) -> list[str]:
    with database.read() as db:
        return list(db.scalars(select(BroadcastSession.status).order_by(BroadcastSession.id)))


def _sessions_being_written(db_url: str) -> Callable[[], bool]:
    """True while another connection holds an open write on the sessions (inside the transaction)."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        path = url.database

        def sqlite_probe() -> bool:
            conn = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError:
                return True
            finally:
                conn.close()

        return sqlite_probe
    probe_db = Database(db_url)

    def pg_probe() -> bool:
        with probe_db.engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'broadcast_sessions' AND l.mode = 'RowExclusiveLock' AND l.granted "
                "AND l.pid <> pg_backend_pid()")).scalar())

    return pg_probe


def _kill_inside(command: list[str], env: dict[str, str], log: Path, busy: Callable[[], bool],
                 rng: random.Random, latest: float) -> bool:
    """Start the command, wait until it writes sessions, SIGKILL it a random moment later.
    False when the process had already exited (a worker never exits by itself)."""
    process = subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not busy():
        assert process.poll() is None or busy(), f"{command[3:]} ended before writing (see {log})"
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, latest))
    alive = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return alive


def _env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, GREENROOM_DATABASE_URL=db_url, GREENROOM_DATA_DIR=str(tmp_path),
                GREENROOM_LOG_LEVEL="INFO", GREENROOM_EVENTS_URL=f"https://eventsapi.chaturbate.com/events/alice/{TOKEN}/")


def test_killed_finalize_and_rebuild_runs_leave_the_old_state_or_the_new_one_never_a_mix(db_url, tmp_path):
    database = Database(db_url)
    rng = random.Random(11)
    log = tmp_path / "runs.log"
    env = _env(db_url, tmp_path)
    busy = _sessions_being_written(db_url)
    _fill(database)
    statuses = _statuses(database)
    due = statuses.count("ended")
    assert due >= 10 and set(statuses) <= {"ended", "active"}
    before_worker = _snapshot(database)

    # 1. The worker, killed while the finalize job moves every due session in one transaction.
    # Summaries stay off here so that nothing but the finalize job changes the sessions.
    load_jobs()
    with database.write() as db:
        service.set_enabled(db, "summaries.sweep", False, now=datetime.now(UTC), force=True)
    rows = _raw_sessions(database)
    attempts = {"worker": 0, "rebuild": 0}
    worker = [sys.executable, "-m", "greenroom", "worker", "--poll-interval", "0.2"]
    kills = 0
    for _ in range(30):
        if kills == WORKER_KILLS:
            break
        attempts["worker"] += 1
        landed = _kill_inside(worker, env, log, busy, rng, latest=0.25)
        now_ended = _statuses(database).count("ended")
        assert now_ended in (due, 0), f"a finalize run was half applied: {now_ended} of {due} still ended"
        if now_ended == due:
            assert landed and _snapshot(database) == before_worker
            kills += 1
        else:
            # The run completed before the kill: put the sessions back and ask for another run.
            _restore_sessions(database, rows)
            assert _snapshot(database) == before_worker
            with database.write() as db:
                service.enqueue(db, "sessions.finalize_due", key=f"again-{uuid.uuid4().hex}")
        # The killed worker's lease would lapse in a minute; let it lapse now.
        with database.write() as db:
            db.execute(update(JobRun).where(JobRun.status == "running")
                       .values(lease_until=datetime(2000, 1, 1, tzinfo=UTC)))
    worker_kills = kills
    # A worker left alone finishes the job; every due session is closed for good.
    process = subprocess.Popen(worker, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while "ended" in _statuses(database) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert "ended" not in _statuses(database)
    now = datetime.now(UTC)
    assert doctor_findings(database, now) == []

    # 2. Rebuild, killed mid-way. Owner data first, then damage it must repair when it completes.
    with database.write() as db:
        first = db.scalars(select(BroadcastSession).order_by(BroadcastSession.id)).first()
        set_notes(db, first, now, notes="my own words <b>kept</b>", tags=["keep"])
    expected = _snapshot(database)
    _damage(database)
    damaged = _snapshot(database)
    assert damaged != expected and doctor_findings(database, now)
    rebuild = [sys.executable, "-m", "greenroom", "rebuild"]
    kills = 0
    for _ in range(30):
        if kills == REBUILD_KILLS:
            break
        attempts["rebuild"] += 1
        landed = _kill_inside(rebuild, env, log, busy, rng, latest=0.5)
        state = _snapshot(database)
        if state == expected:
            _damage(database)  # it completed before the kill landed: damage it again, go on
            continue
        assert landed and state == damaged, "a killed rebuild left a partial state"
        kills += 1
    rebuild_kills = kills
    done = subprocess.run(rebuild, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert _snapshot(database) == expected
    assert doctor_findings(database, datetime.now(UTC)) == []
    doctor = subprocess.run([sys.executable, "-m", "greenroom", "doctor"], env=env, capture_output=True, timeout=120)
    assert doctor.returncode == 0 and b"All invariants hold" in doctor.stdout, doctor.stdout + doctor.stderr
    database.dispose()

    output = log.read_text(errors="replace") + done.stdout.decode(errors="replace") + doctor.stdout.decode()
    assert TOKEN not in output
    assert (worker_kills, rebuild_kills) == (WORKER_KILLS, REBUILD_KILLS), "every kill landed mid-run"
    print(f"kill points inside the transaction: {worker_kills} worker, {rebuild_kills} rebuild; "
          f"runs that completed first: {attempts['worker'] - worker_kills} worker, "
          f"{attempts['rebuild'] - rebuild_kills} rebuild")
