"""Board definitions on a hand-built room, straight against the queries (both engines)."""

from __future__ import annotations

from datetime import timedelta

from greenroom.leaderboards.queries import Window, board
from greenroom.sessions.exclusions import add_exclusion
from tests.people.kit import T0, Room, ingest, make_feed

NOW = T0 + timedelta(days=1)


def _room() -> Room:
    room = Room().start(0)
    room.enter(10, "Ann").enter(20, "bob").enter(30, "cat").enter(40, "Ann")  # Ann enters twice
    room.tip(50, "Ann", 100).tip(60, "bob", 60).tip(70, "bob", 40, anon=True)  # bob: 100 (40 anon)
    room.media(80, "cat", 30).tip(90, "cat", 20)  # cat: 50 (media + tip)
    room.chat(100, "Ann").chat(110, "bob").chat(120, "bob").pm(125, "cat", "alice")
    room.leave(300, "bob")
    room.stop(600)  # closes Ann (from 40) and cat (from 30)
    room.enter(700, "dan").chat(710, "dan")  # offline: no session, no watch time
    room.chat(720, "Alice").tip(730, "alice", 5)  # the owner is never a person of their own room
    return room


def _board(database, feed_id, metric, window=None, shareable=False, **kw):
    with database.read() as db:
        return board(db, feed_id, metric, window or Window(), now=NOW, shareable=shareable, **kw)


def _pairs(result):
    return [(r.username, r.value) for r in result.rows]


def test_each_metric_follows_its_definition(database):
    feed_id = make_feed(database)
    ingest(database, feed_id, _room().envelopes)
    # tokens = tips + media; bob and Ann both reach 100: Ann at 50 s, bob at 70 s, so Ann ranks first.
    tokens = _board(database, feed_id, "tokens")
    assert _pairs(tokens) == [("ann", 100), ("bob", 100), ("cat", 50)]
    assert tokens.grand_total == 250 and tokens.total_rows == 3
    assert tokens.rows[1].anon_value == 40 and tokens.rows[0].anon_value == 0
    assert tokens.rows[0].reached_at == T0 + timedelta(seconds=50)
    assert round(tokens.rows[2].share, 2) == 0.2
    assert _pairs(_board(database, feed_id, "tips")) == [("bob", 2), ("ann", 1), ("cat", 1)]
    # visits = enters, live or not (Ann entered twice, dan offline)
    assert _pairs(_board(database, feed_id, "visits")) == [("ann", 2), ("bob", 1), ("cat", 1), ("dan", 1)]
    # chat = public messages only, never PMs
    assert _pairs(_board(database, feed_id, "chat")) == [("bob", 2), ("ann", 1), ("dan", 1)]
    # watch time from the visits: Ann 10→40 s, then 40→600 s (the stop); cat 30→600 s; bob 20→300 s.
    watch = _board(database, feed_id, "watch_time")
    assert _pairs(watch) == [("ann", 30 + 560), ("cat", 570), ("bob", 280)]


def test_shareable_board_masks_anonymous_tips_under_one_unnamed_row(database):
    feed_id = make_feed(database)
    ingest(database, feed_id, _room().tip(130, "eve", 500, anon=True).envelopes)
    result = _board(database, feed_id, "tokens", shareable=True)
    assert [(r.username, r.value, r.anonymous) for r in result.rows] == [
        (None, 540, True), ("ann", 100, False), ("bob", 60, False), ("cat", 50, False)]
    assert all(r.username != "eve" for r in result.rows)
    tips = _board(database, feed_id, "tips", shareable=True)
    assert [(r.username, r.value) for r in tips.rows] == [(None, 2), ("ann", 1), ("bob", 1), ("cat", 1)]
    private = _board(database, feed_id, "tokens")
    assert ("eve", 500) in _pairs(private) and not any(r.anonymous for r in private.rows)


def test_excluded_users_count_nowhere(database):
    feed_id = make_feed(database)
    ingest(database, feed_id, _room().envelopes)
    with database.write() as db:
        add_exclusion(db, "BOB", NOW)
    for metric in ("tokens", "tips", "visits", "watch_time", "chat"):
        for shareable in (False, True):
            result = _board(database, feed_id, metric, shareable=shareable)
            assert all(r.username != "bob" for r in result.rows), metric
    # bob's anonymous tip is gone too: no masked row is left
    assert _pairs(_board(database, feed_id, "tokens", shareable=True)) == [("ann", 100), ("cat", 50)]


def test_windows_and_sessions_bound_the_board(database):
    feed_id = make_feed(database)
    room = _room()
    room.start(3600).enter(3610, "zed").tip(3620, "zed", 7).leave(3700, "zed").stop(3800)
    ingest(database, feed_id, room.envelopes)
    from greenroom.leaderboards.queries import latest_session, neighbours
    with database.read() as db:
        latest = latest_session(db, feed_id)
        assert latest is not None
        earlier, later = neighbours(db, latest)
    assert earlier is not None and later is None
    assert _pairs(_board(database, feed_id, "tokens", Window(session_id=latest.id))) == [("zed", 7)]
    assert _pairs(_board(database, feed_id, "watch_time", Window(session_id=latest.id))) == [("zed", 90)]
    assert _pairs(_board(database, feed_id, "tokens", Window(session_id=earlier)))[0] == ("ann", 100)
    cut = Window(start=T0 + timedelta(seconds=55), end=T0 + timedelta(seconds=85))
    assert _pairs(_board(database, feed_id, "tokens", cut)) == [("bob", 100), ("cat", 30)]
    # watch time clipped to the window: everyone present at 55..85 s
    assert _pairs(_board(database, feed_id, "watch_time", cut)) == [("ann", 30), ("bob", 30), ("cat", 30)]


def test_paging_keeps_the_order_and_counts_the_whole_board(database):
    feed_id = make_feed(database)
    room = Room().start(0)
    for i in range(7):
        room.tip(10 + i, f"p{i}", 5)  # all equal: earlier reach first
    ingest(database, feed_id, room.stop(100).envelopes)
    first = _board(database, feed_id, "tokens", limit=3)
    second = _board(database, feed_id, "tokens", limit=3, offset=3)
    assert [r.username for r in first.rows + second.rows] == [f"p{i}" for i in range(6)]
    assert [r.rank for r in second.rows] == [4, 5, 6] and second.total_rows == 7
    past = _board(database, feed_id, "tokens", limit=3, offset=30)
    assert past.rows == [] and past.total_rows == 7 and past.grand_total == 35
