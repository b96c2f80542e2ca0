"""The owner's saved settings over the environment's, as jobs and ingest read them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from greenroom.config import Settings
from greenroom.jobs.runner import run_now
from greenroom.prefs.service import effective, public_view, save
from greenroom.secrets import redact
from greenroom.sessions.models import BroadcastSession
from tests.sessions.roomkit import T0, Room, ingest, make_feed


def test_without_saved_values_the_environment_is_used_unchanged(database, tmp_path):
    env = Settings(_env_file=None, data_dir=tmp_path, merge_window_minutes=20, summary_provider="offline")
    with database.read() as db:
        assert effective(db, env) is env
        view = public_view(db, env)
    assert view["merge_window_minutes"] == 20 and view["openai_api_key"] == "not set"


def test_saved_values_win_and_a_saved_key_is_redacted_from_any_text(database, tmp_path):
    env = Settings(_env_file=None, data_dir=tmp_path)
    with database.write() as db:
        save(db, {"summary_provider": "openai", "openai_api_key": "sk-saved-key-000111"}, T0)
    with database.read() as db:
        current = effective(db, env)
    assert current.summary_provider == "openai" and env.summary_provider == "offline"
    assert redact("error: sk-saved-key-000111 refused") == "error: **** refused"


def test_the_watchdog_job_uses_the_saved_idle_time_and_merge_window(database, tmp_path):
    feed = make_feed(database)
    ingest(database, feed, Room().start(0).enter(60, "fan").envelopes)  # live, never stopped
    env = Settings(_env_file=None, data_dir=tmp_path, merge_window_minutes=30, stale_session_minutes=120)
    with database.write() as db:
        save(db, {"merge_window_minutes": "5", "stale_session_minutes": "10"}, T0)
    # 11 minutes after the last event: stale by the saved 10 minutes, not by the environment's 120.
    result = run_now(database, "sessions.finalize_due", env, clock=lambda: T0 + timedelta(minutes=12))
    assert len(result["ended_stale"]) == 1
    with database.read() as db:
        row = db.scalars(select(BroadcastSession)).one()
    # Ended at its last event; with the saved 5-minute window it is already due (30 would not be).
    assert row.status == "pending_finalize"
    assert row.finalize_after == T0 + timedelta(seconds=60) + timedelta(minutes=5)
