from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

from greenroom.sessions import manual
from greenroom.sessions.doctor import run_doctor
from greenroom.sessions.models import BroadcastSession, SessionEvent
from greenroom.sessions.notes import get_notes, set_notes
from greenroom.sessions.rebuild import rebuild
from greenroom.sessions.service import end_stale, finalize_due, mark_finalized
from tests.sessions.roomkit import T0, WINDOWS, Room, ingest, make_feed


def snapshot(database) -> str:
    """Every derived session value, as bytes of JSON (stats_at excluded: it is when, not what)."""
    with database.read() as db:
        rows = db.execute(select(BroadcastSession).order_by(BroadcastSession.id)).scalars().all()
        out = [{
            "id": r.id, "feed": r.feed_id, "status": r.status, "started": r.started_at.isoformat(),
            "ended": r.ended_at and r.ended_at.isoformat(), "due": r.finalize_after and r.finalize_after.isoformat(),
            "last": r.last_event_at.isoformat(), "segments": r.segments, "count": r.event_count,
            "stats": json.dumps(r.stats, sort_keys=True), "timeline": r.timeline, "subjects": r.subjects,
        } for r in rows]
        out.append(sorted(tuple(x) for x in db.execute(select(SessionEvent.event_pk, SessionEvent.session_id))))
        return json.dumps(out, sort_keys=True)


def busy_room() -> Room:
    room = Room()
    room.chat(0, "offline").start(60).subject(61, "hello")
    for i in range(40):
        t = 100 + i * 37
        user = f"u{(i * 7) % 11}"
        room.enter(t, user).chat(t + 3, user)
        if i % 3 == 0:
            room.tip(t + 5, user, 5 + i, anon=i % 9 == 0)
        if i % 4 == 0:
            room.leave(t + 20, user)
    room.add(1600, "follow", "u1")
    room.add(1610, "unfollow", "u2")
    room.add(1620, "fanclubJoin", "u3")
    room.stop(1700).start(2000).enter(2010, "u5").media(2020, "u6", 99).stop(2600)
    room.start(9000).enter(9010, "u1").tip(9020, "u4", 11).stop(9600)
    room.start(20000).chat(20010, "u9")
    return room


def test_rebuild_after_live_ingest_gives_identical_sessions_and_keeps_owner_data(database):
    feed = make_feed(database)
    room = busy_room()
    ingest(database, feed, room.envelopes[:60], batch=7)
    now = T0 + timedelta(seconds=1500)
    with database.write() as db:
        first = db.scalars(select(BroadcastSession)).one()
        second_half = manual.split(db, first.id, T0 + timedelta(seconds=500), now, WINDOWS)
        set_notes(db, first, now, notes="a good night", tags=["birthday"])
        set_notes(db, manual.get_session(db, second_half), now, notes="after the break")
    ingest(database, feed, room.envelopes[60:], batch=5)
    later = T0 + timedelta(hours=10)
    with database.write() as db:
        end_stale(db, later, WINDOWS)
        finalize_due(db, later)
        assert mark_finalized(db, first.id, later)
    live = snapshot(database)
    assert '"finalized"' in live

    with database.write() as db:
        report = rebuild(db, later, WINDOWS, chunk=13)
    assert report.edits_replayed == 1 and not report.edits_skipped
    assert snapshot(database) == live
    with database.read() as db:
        assert get_notes(db, first.id) == ("a good night", ["birthday"])
        assert get_notes(db, second_half) == ("after the break", [])
        assert run_doctor(db, later, WINDOWS, fix=False).ok


def test_doctor_finds_and_fixes_unlinked_events_and_stale_stats(database):
    feed = make_feed(database)
    ingest(database, feed, Room().start(0).tip(10, "a", 5).tip(20, "b", 6).stop(30).envelopes)
    later = T0 + timedelta(hours=3)
    with database.write() as db:
        finalize_due(db, later)
        db.execute(text("DELETE FROM session_events WHERE event_pk = (SELECT max(event_pk) FROM session_events)"))
    with database.write() as db:
        report = run_doctor(db, later, WINDOWS, fix=False)
        assert {f.check for f in report.findings} == {"unlinked_events", "stale_stats"}
        db.rollback()
    with database.write() as db:
        run_doctor(db, later, WINDOWS, fix=True)
    with database.read() as db:
        assert run_doctor(db, later, WINDOWS, fix=False).ok


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from datetime import datetime
    from greenroom.db.engine import Database
    from greenroom.sessions.rebuild import rebuild
    from greenroom.sessions.service import Windows
    from datetime import timedelta
    database = Database(sys.argv[1])
    def progress(phase, done, total):
        print(phase, done, flush=True)
        time.sleep(0.05)
    with database.write() as db:
        rebuild(db, datetime.fromisoformat(sys.argv[2]), Windows(timedelta(minutes=30), timedelta(hours=2)),
                progress=progress, chunk=20)
    print("committed", flush=True)
""")


def test_kill_9_during_rebuild_leaves_the_previous_sessions_intact(sqlite_database, tmp_path: Path):
    feed = make_feed(sqlite_database)
    ingest(sqlite_database, feed, busy_room().envelopes, batch=9)
    before = snapshot(sqlite_database)
    script = tmp_path / "kill_rebuild.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), sqlite_database.url, (T0 + timedelta(days=1)).isoformat()],
                            stdout=subprocess.PIPE, text=True, env={**os.environ})
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("events") and int(line.split()[1]) >= 60:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    sqlite_database.dispose()
    assert snapshot(sqlite_database) == before
    # and a rebuild allowed to finish publishes the complete new state
    with sqlite_database.write() as db:
        rebuild(db, T0 + timedelta(days=1), WINDOWS)
    assert '"pending_finalize"' in snapshot(sqlite_database)
