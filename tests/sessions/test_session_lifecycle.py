from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from greenroom.config import Settings
from greenroom.errors import BadRequest, Conflict
from greenroom.events.models import Event
from greenroom.ingest.pipeline import load_steps
from greenroom.jobs.registry import REGISTRY, load_jobs
from greenroom.jobs.runner import run_now
from greenroom.sessions import manual
from greenroom.sessions.models import BroadcastSession, SessionEdit, SessionEvent
from greenroom.sessions.notes import get_notes, set_notes
from greenroom.sessions.service import end_stale, finalize_due, refresh_lagging
from tests.sessions.roomkit import T0, WINDOWS, Room, ingest, ingest_via_pipeline, make_feed


def sessions(database):
    with database.read() as db:
        rows = list(db.scalars(select(BroadcastSession).order_by(BroadcastSession.started_at)))
        db.expunge_all()  # keep the loaded values after the read unit of work ends
        return rows


def links(database, session_id):
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(SessionEvent).where(SessionEvent.session_id == session_id))


def test_events_are_linked_live_and_a_restart_within_the_window_reopens_the_same_session(database):
    feed = make_feed(database)
    room = Room().chat(0, "early").start(60).enter(70, "bob").tip(80, "bob", 20).stop(600)
    ingest(database, feed, room.envelopes, batch=2)
    [s] = sessions(database)
    assert s.status == "ended" and s.finalize_after == T0 + timedelta(seconds=600, minutes=30)
    assert s.stats["tokens"] == 20 and links(database, s.id) == 4
    ingest(database, feed, Room().start(900).tip(950, "bob", 5).stop(1200).envelopes)
    [s] = sessions(database)
    assert len(s.segments) == 2 and s.stats["tokens"] == 25 and s.stats["duration_seconds"] == 540 + 300


def test_the_pipeline_runs_the_sessions_step_in_the_ingest_transaction(database):
    load_steps()
    feed = make_feed(database)
    ingest_via_pipeline(database, feed, Room().start(0).tip(5, "ann", 3).envelopes, T0 + timedelta(seconds=5))
    [s] = sessions(database)
    assert s.status == "active" and s.stats["tip_tokens"] == 3 and links(database, s.id) == 2


def test_the_finalize_job_finalizes_only_sessions_past_their_due_time(database):
    feed = make_feed(database)
    ingest(database, feed, Room().start(0).stop(60).start(4000).envelopes)
    first, second = sessions(database)
    with database.write() as db:
        assert finalize_due(db, T0 + timedelta(seconds=60, minutes=29)) == []
    with database.write() as db:
        assert finalize_due(db, T0 + timedelta(seconds=60, minutes=30)) == [first.id]
    assert [s.status for s in sessions(database)] == ["pending_finalize", "active"]


def test_the_watchdog_ends_a_silent_session_at_its_last_event(database):
    feed = make_feed(database)
    ingest(database, feed, Room().start(0).chat(300, "a").envelopes)
    with database.write() as db:
        assert end_stale(db, T0 + timedelta(seconds=300, minutes=119), WINDOWS) == []
        ended = end_stale(db, T0 + timedelta(seconds=301, minutes=120), WINDOWS)
    [s] = sessions(database)
    assert ended == [s.id] and s.status == "ended" and s.ended_at == T0 + timedelta(seconds=300)


def test_sessions_finalize_due_is_a_core_job_running_every_minute_and_runs_now(database):
    load_jobs()
    definition = REGISTRY["sessions.finalize_due"]
    assert definition.core and definition.every == timedelta(minutes=1)
    feed = make_feed(database)
    ingest(database, feed, Room().start(0).chat(10, "a").envelopes)
    later = T0 + timedelta(hours=5)
    result = run_now(database, "sessions.finalize_due", Settings(_env_file=None), clock=lambda: later)
    [s] = sessions(database)
    assert result["ended_stale"] == [s.id] and result["finalized"] == [s.id] and s.status == "pending_finalize"


def test_end_now_then_reopen_then_finalize_now_are_recorded(database):
    feed = make_feed(database)
    ingest(database, feed, Room().start(0).chat(10, "a").envelopes)
    [s] = sessions(database)
    now = T0 + timedelta(seconds=20)
    with database.write() as db:
        manual.end_now(db, s.id, now, WINDOWS)
    assert sessions(database)[0].status == "ended"
    with database.write() as db:
        manual.reopen(db, s.id, now, WINDOWS)
    assert sessions(database)[0].status == "active"
    with database.write() as db:
        manual.finalize_now(db, s.id, now, WINDOWS)
        with pytest.raises(Conflict):
            manual.finalize_now(db, s.id, now, WINDOWS)
    assert sessions(database)[0].status == "pending_finalize"
    with database.read() as db:
        assert [e.kind for e in db.scalars(select(SessionEdit).order_by(SessionEdit.id))] == [
            "end", "reopen", "finalize"]


def test_split_moves_later_events_and_merge_joins_them_back_with_notes(database):
    feed = make_feed(database)
    ingest(database, feed, Room().start(0).tip(100, "a", 1).tip(700, "b", 2).stop(1000).envelopes)
    [s] = sessions(database)
    now = T0 + timedelta(hours=1)
    with database.write() as db:
        with pytest.raises(BadRequest):
            manual.split(db, s.id, T0 + timedelta(hours=2), now, WINDOWS)
        new_id = manual.split(db, s.id, T0 + timedelta(seconds=500), now, WINDOWS)
        set_notes(db, manual.get_session(db, new_id), now, notes="second half", tags=["Late"])
    a, b = sessions(database)
    assert (a.stats["tokens"], b.stats["tokens"]) == (1, 2) and b.id == new_id
    with database.write() as db:
        assert manual.merge(db, new_id, "previous", now) == s.id
    [m] = sessions(database)
    assert m.stats["tokens"] == 3 and m.event_count == 4
    with database.read() as db:
        assert get_notes(db, s.id) == ("second half", ["late"])


def test_correcting_the_end_time_relinks_events(database):
    feed = make_feed(database)
    ingest(database, feed, Room().start(0).tip(100, "a", 1).stop(200).tip(300, "b", 2).envelopes)
    [s] = sessions(database)
    assert s.stats["tokens"] == 1
    with database.write() as db:
        manual.correct_end(db, s.id, T0 + timedelta(seconds=400), T0 + timedelta(hours=1), WINDOWS)
    [s] = sessions(database)
    assert s.stats["tokens"] == 3 and s.ended_at == T0 + timedelta(seconds=400)
    with database.write() as db:
        manual.correct_end(db, s.id, T0 + timedelta(seconds=150), T0 + timedelta(hours=1), WINDOWS)
    [s] = sessions(database)
    assert s.stats["tokens"] == 1 and s.event_count == 2


def test_events_while_offline_never_create_a_session(database):
    feed = make_feed(database)
    ingest(database, feed, Room().enter(0, "a").pm(5, "a", "alice").stop(10).envelopes)
    assert sessions(database) == []
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(Event)) == 3


def test_live_stats_refresh_at_most_every_few_seconds_and_the_minute_job_catches_up(database):
    feed = make_feed(database)
    ingest(database, feed, Room().start(0).tip(1, "a", 5).envelopes)
    ingest(database, feed, Room().tip(3, "b", 7).envelopes)  # 2 s later: within the live interval
    assert sessions(database)[0].stats["tokens"] == 5
    with database.write() as db:
        assert refresh_lagging(db, T0 + timedelta(seconds=60)) == [sessions(database)[0].id]
    assert sessions(database)[0].stats["tokens"] == 12
    ingest(database, feed, Room().tip(80, "c", 1).envelopes)  # past the interval: refreshed at once
    assert sessions(database)[0].stats["tokens"] == 13


def test_excluding_a_user_marks_their_sessions_and_the_minute_job_recomputes_them(database):
    from greenroom.sessions.exclusions import add_exclusion, remove_exclusion

    feed = make_feed(database)
    ingest(database, feed, Room().start(0).tip(1, "me", 500).tip(2, "fan", 5).stop(10).envelopes)
    assert sessions(database)[0].stats["tokens"] == 505
    later = T0 + timedelta(hours=1)
    with database.write() as db:
        add_exclusion(db, "ME", later)
    assert sessions(database)[0].stats_at is None
    with database.write() as db:
        refresh_lagging(db, later)
    assert sessions(database)[0].stats["tokens"] == 5
    with database.write() as db:
        remove_exclusion(db, "me")
        refresh_lagging(db, later)
    assert sessions(database)[0].stats["tokens"] == 505
