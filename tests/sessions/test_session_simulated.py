"""The simulator's rooms through the real store and ingest step, checked against the script."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from greenroom.sessions.doctor import run_doctor
from greenroom.sessions.models import BroadcastSession
from greenroom.sessions.rebuild import rebuild
from greenroom.sessions.service import end_stale, finalize_due
from greenroom.simulator.script import ScriptConfig, build_script
from tests.sessions.roomkit import WINDOWS, ingest, make_feed
from tests.sessions.test_session_rebuild import snapshot


def expected_sessions(script) -> list[dict]:
    """Per session, counted straight from the script's envelopes and broadcast windows."""
    groups: list[list[tuple]] = []
    for i, window in enumerate(script.broadcasts):
        if i in script.restarts:
            groups[-1].append(window)
        else:
            groups.append([window])
    out = []
    for windows in groups:
        inside = [e for e, at in zip(script.events, script.event_times, strict=True)
                  if any(a <= at <= b for a, b in windows)]

        def users(method, inside=inside):
            return {e["object"]["user"]["username"].lower() for e in inside if e["method"] == method}

        def count(method, inside=inside):
            return sum(e["method"] == method for e in inside)

        out.append({
            "duration_seconds": sum(int((b - a).total_seconds()) for a, b in windows),
            "tip_tokens": sum(int(e["object"]["tip"]["tokens"]) for e in inside if e["method"] == "tip"),
            "media_tokens": sum(int(e["object"]["media"]["tokens"]) for e in inside
                                if e["method"] == "mediaPurchase"),
            "tip_count": count("tip"), "unique_tippers": len(users("tip")),
            "follows": count("follow"), "unfollows": count("unfollow"), "fanclub_joins": count("fanclubJoin"),
            "chat_messages": count("chatMessage"), "private_messages": count("privateMessage"),
            "unique_visitors": len(users("userEnter")), "unique_chatters": len(users("chatMessage")),
            "segments": len(windows),
        })
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simulated_rooms_give_the_stats_counted_from_the_script(sqlite_database, seed):
    script = build_script(ScriptConfig(seed=seed, days=3, broadcasts_per_day=2, audience=25, viewer_pool=120,
                                       quirks=False))
    feed = make_feed(sqlite_database)
    ingest(sqlite_database, feed, script.events, batch=40)
    with sqlite_database.read() as db:
        rows = db.scalars(select(BroadcastSession).order_by(BroadcastSession.started_at)).all()
        got = [{k: r.stats[k] for k in expected_sessions(script)[0] if k != "segments"} | {"segments": len(r.segments)}
               for r in rows]
    assert got == expected_sessions(script)


def test_a_quirky_simulated_room_rebuilds_identically_and_passes_the_doctor(sqlite_database):
    script = build_script(ScriptConfig(seed=5, days=4, broadcasts_per_day=2, audience=30, viewer_pool=150))
    feed = make_feed(sqlite_database)
    ingest(sqlite_database, feed, script.events, batch=25)
    later = script.event_times[-1] + timedelta(days=1)
    with sqlite_database.write() as db:
        end_stale(db, later, WINDOWS)
        finalize_due(db, later)
    live = snapshot(sqlite_database)
    with sqlite_database.write() as db:
        rebuild(db, later, WINDOWS, chunk=97)
    assert snapshot(sqlite_database) == live
    with sqlite_database.read() as db:
        assert run_doctor(db, later, WINDOWS, fix=False).ok
