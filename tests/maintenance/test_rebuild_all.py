"""Live ingest, then a full rebuild: every derived table comes back identical, owner data stays."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select, text

from greenroom.events.feeds import ensure_feed
from greenroom.events.store import record_batch
from greenroom.ingest.pipeline import load_steps, process_new_events
from greenroom.maintenance.rebuild import rebuild_all
from greenroom.people.models import PersonNote
from greenroom.sessions.models import BroadcastSession, SessionNote
from greenroom.sessions.service import Windows, finalize_due
from greenroom.simulator.script import ScriptConfig, build_script

DERIVED = {  # table: columns that identify a row independently of surrogate ids
    "broadcast_sessions": None, "session_events": None, "session_visitors": None, "people": None,
    "person_events": None, "person_days": None, "pm_messages": None, "pm_threads": None, "visits": None,
    "room_states": None,
}
SURROGATE = {"id"}


def _dump(db) -> dict[str, list[tuple]]:
    out = {}
    for table in DERIVED:
        rows = db.execute(text(f"SELECT * FROM {table}")).mappings().all()
        out[table] = sorted(
            (tuple((k, str(v)) for k, v in sorted(row.items()) if k not in SURROGATE) for row in rows), key=repr
        )
    return out


def _ingest(database, script, now):
    load_steps()
    with database.write() as db:
        feed_id = ensure_feed(db, broadcaster="alice", url_masked="m", url_fingerprint="f", is_demo=False,
                              now=now).id
    for start in range(0, len(script.events), 100):
        batch = script.events[start:start + 100]
        with database.write() as db:
            result = record_batch(db, feed_id=feed_id, envelopes=batch, cursor=None, cursor_event_id=None,
                                  received_at=now, lease_holder=None)
            process_new_events(db, feed_id, result.new, now)
    return feed_id


def test_a_full_rebuild_reproduces_every_derived_table_and_keeps_owner_data(database):
    script = build_script(ScriptConfig(seed=9, days=1.5, audience=40, viewer_pool=250, broadcasts_per_day=2))
    now = script.event_times[-1] + timedelta(minutes=5)
    feed_id = _ingest(database, script, now)
    with database.write() as db:
        finalize_due(db, now)  # what the minute job has done by `now`, as rebuild does at once
    with database.write() as db:
        session = db.scalars(select(BroadcastSession).order_by(BroadcastSession.id)).first()
        db.add(SessionNote(feed_id=feed_id, session_id=session.id, notes="great night", tags=["best"],
                           updated_at=now))
        person = db.execute(text("SELECT username FROM people ORDER BY username LIMIT 1")).scalar()
        db.add(PersonNote(feed_id=feed_id, username=person, body="remember", noted_at=now, created_at=now))
    with database.read() as db:
        before = _dump(db)
    assert before["broadcast_sessions"] and before["people"] and before["pm_messages"] and before["visits"]

    with database.write() as db:
        report = rebuild_all(db, now, Windows(timedelta(minutes=30), timedelta(hours=2)))
    assert report.sessions.sessions == len(before["broadcast_sessions"])
    with database.read() as db:
        after = _dump(db)
        assert db.scalars(select(SessionNote)).one().notes == "great night"
        assert db.scalars(select(PersonNote)).one().body == "remember"
    for table in DERIVED:
        assert after[table] == before[table], table


def test_the_rebuild_command_runs_and_reports(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    env = {"GREENROOM_DATABASE_URL": url, "GREENROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "greenroom", "rebuild"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Rebuilt 0 sessions" in done.stdout


