"""All-time boards from the running totals: the same board whether the totals have folded in
nothing, part, or all of the history, with events arriving after the mark, exclusions added after
folding, and the shareable view (both engines)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from greenroom.db.types import utcnow
from greenroom.jobs.registry import JobContext, load_jobs
from greenroom.leaderboards.models import LeaderboardMark, LeaderboardTotal
from greenroom.leaderboards.queries import METRICS, Window, board, catch_up
from greenroom.sessions.exclusions import add_exclusion
from tests.people.kit import T0, Room, ingest, make_feed

NOW = T0 + timedelta(days=2)


def _history() -> Room:
    room = Room().start(0)
    for i in range(40):
        name = f"fan{i % 7}"
        room.enter(10 + i, name).tip(60 + i, name, 5 + i % 4, anon=(i % 5 == 0)).chat(120 + i, name)
    room.media(200, "fan3", 30).tip(210, "fan1", 12)  # equal totals: the earlier reach must still win
    room.chat(220, "Alice").tip(230, "alice", 50)  # the broadcaster is never on a board
    return room.stop(600)


def _boards(database, feed_id) -> dict:
    out = {}
    with database.read() as db:
        for metric in METRICS:
            for shareable in (False, True):
                result = board(db, feed_id, metric, Window(), now=NOW, shareable=shareable, limit=100)
                out[metric, shareable] = ([(r.username, r.value, r.reached_at, r.anon_value, r.anonymous)
                                           for r in result.rows], result.total_rows, result.grand_total)
    return out


def test_all_time_boards_are_the_same_before_during_and_after_folding(database):
    feed_id = make_feed(database)
    ingest(database, feed_id, _history().envelopes)
    expected = _boards(database, feed_id)
    assert expected["tokens", False][0], "the history has tippers"

    with database.write() as db:  # part of the history folded in
        assert catch_up(db, feed_id, NOW, max_events=37) == 37
    assert _boards(database, feed_id) == expected
    with database.write() as db:  # the rest
        while catch_up(db, feed_id, NOW, max_events=50):
            pass
    assert _boards(database, feed_id) == expected
    with database.read() as db:
        mark = db.scalar(select(LeaderboardMark.event_pk).where(LeaderboardMark.feed_id == feed_id))
        assert mark and db.scalar(select(LeaderboardTotal.total).where(
            LeaderboardTotal.feed_id == feed_id, LeaderboardTotal.metric == "chat",
            LeaderboardTotal.username == "alice")) == 1  # kept in the totals, filtered when read
    # Excluding someone after their events were folded in still removes them everywhere.
    with database.write() as db:
        add_exclusion(db, "fan1", NOW)
    excluded = _boards(database, feed_id)
    assert all(row[0] != "fan1" for rows, _n, _t in excluded.values() for row in rows)


def test_events_after_the_mark_are_added_on_the_fly_and_folded_by_the_job(database):
    feed_id = make_feed(database)
    room = Room().start(0).tip(10, "ann", 100).tip(20, "bob", 40, anon=True).chat(30, "bob").stop(60)
    first = len(room.envelopes)
    room.start(1000).tip(1010, "bob", 60).tip(1020, "cat", 100).stop(1030)
    later = room.envelopes[first:]
    ingest(database, feed_id, room.envelopes[:first])
    with database.write() as db:
        catch_up(db, feed_id, NOW)
    ingest(database, feed_id, later)
    with database.read() as db:
        tokens = board(db, feed_id, "tokens", Window(), now=NOW, shareable=False)
        shareable = board(db, feed_id, "tokens", Window(), now=NOW, shareable=True)
    # bob reached 100 after ann and cat reached it after bob: ties go to the earlier reach.
    assert [(r.username, r.value) for r in tokens.rows] == [("ann", 100), ("bob", 100), ("cat", 100)]
    assert [(r.username, r.value, r.anonymous) for r in shareable.rows] == [
        ("ann", 100, False), ("cat", 100, False), ("bob", 60, False), (None, 40, True)]
    before = _boards(database, feed_id)

    job = load_jobs()["leaderboards.totals"]
    assert job.core and job.every == timedelta(minutes=1)
    result = job.fn(JobContext(database=database, now=utcnow(), settings=None))
    assert result == {"events_folded": len(later), "rooms": 1}
    assert _boards(database, feed_id) == before
    assert job.fn(JobContext(database=database, now=utcnow(), settings=None))["events_folded"] == 0
