from __future__ import annotations

from datetime import UTC, datetime, timedelta

from greenroom.sessions.rollups import STAT_FIELDS, StatEvent, rollup

T0 = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ev(pk, seconds, method, user=None, tokens=0, anon=False, subject=None):
    return StatEvent(pk, method, user, at(seconds), tokens, anon, subject)


def run(events, segments, excluded=(), earlier=()):
    segs = [(at(a), at(b)) for a, b in segments]
    return rollup(events, segs, excluded=frozenset(excluded), earlier_visitors=set(earlier))


def test_every_documented_stat_field_is_present_even_for_an_empty_session():
    result = run([], [(0, 0)])
    assert set(result.stats) == set(STAT_FIELDS)
    assert result.stats["avg_viewers"] == 0.0 and result.stats["top_tippers"] == []


def test_tokens_are_tips_plus_media_and_top_tippers_keep_anonymous_tips_anonymous():
    events = [ev(1, 10, "tip", "bob", 50), ev(2, 20, "tip", "bob", 25, anon=True), ev(3, 30, "tip", "cat", 60),
              ev(4, 40, "mediaPurchase", "dan", 100)]
    s = run(events, [(0, 3600)]).stats
    assert (s["tokens"], s["tip_tokens"], s["media_tokens"]) == (235, 135, 100)
    assert (s["tip_count"], s["unique_tippers"], s["biggest_tip"]) == (3, 2, 60)
    assert s["top_tippers"] == [
        {"username": "cat", "tokens": 60, "anonymous": False},
        {"username": "bob", "tokens": 50, "anonymous": False},
        {"username": "anonymous", "tokens": 25, "anonymous": True},
    ]
    assert s["tokens_per_hour"] == 235.0


def test_follows_chat_and_pms_are_counted_and_net_followers_subtracts_unfollows():
    events = [ev(1, 1, "follow", "a"), ev(2, 2, "follow", "b"), ev(3, 3, "unfollow", "a"),
              ev(4, 4, "fanclubJoin", "c"), ev(5, 5, "chatMessage", "a"), ev(6, 6, "chatMessage", "a"),
              ev(7, 7, "chatMessage", "b"), ev(8, 8, "privateMessage", "c")]
    s = run(events, [(0, 60)]).stats
    assert (s["follows"], s["unfollows"], s["net_followers"], s["fanclub_joins"]) == (2, 1, 1, 1)
    assert (s["chat_messages"], s["unique_chatters"], s["private_messages"]) == (3, 2, 1)


def test_viewers_are_time_weighted_over_broadcast_time_and_everyone_leaves_at_a_stop():
    # a: 0..100 (leaves), b: 50..200 (stop closes it); broadcast 0..200 then 300..400 with c 300..400.
    events = [ev(1, 0, "userEnter", "a"), ev(2, 50, "userEnter", "b"), ev(3, 100, "userLeave", "a"),
              ev(4, 300, "userEnter", "c")]
    s = run(events, [(0, 200), (300, 400)]).stats
    assert s["peak_viewers"] == 2
    assert s["avg_viewers"] == round((100 + 150 + 100) / 300, 2)
    assert s["avg_watch_seconds"] == round(350 / 3, 1)
    assert s["duration_seconds"] == 300 and s["unique_visitors"] == 3


def test_an_excluded_user_counts_nowhere():
    events = [ev(1, 1, "userEnter", "me"), ev(2, 2, "tip", "me", 500), ev(3, 3, "chatMessage", "me"),
              ev(4, 4, "follow", "me"), ev(5, 5, "tip", "x", 5)]
    s = run(events, [(0, 60)], excluded={"me"}).stats
    assert (s["tokens"], s["unique_visitors"], s["chat_messages"], s["follows"], s["peak_viewers"]) == (5, 0, 0, 0, 0)


def test_visitors_seen_in_an_earlier_session_are_returning_and_the_rest_are_new():
    events = [ev(1, 1, "userEnter", "a"), ev(2, 2, "userEnter", "b"), ev(3, 3, "userEnter", "c")]
    s = run(events, [(0, 60)], earlier={"b", "zz"}).stats
    assert (s["new_visitors"], s["returning_visitors"]) == (2, 1)


def test_the_timeline_has_five_minute_buckets_with_off_air_gaps_and_subject_changes():
    events = [ev(1, 10, "userEnter", "a"), ev(2, 20, "chatMessage", "a"), ev(3, 30, "chatMessage", "b"),
              ev(4, 40, "chatMessage", "a"), ev(5, 400, "tip", "a", 7), ev(6, 410, "roomSubjectChange",
                                                                            subject="<b>hi</b>")]
    result = run(events, [(0, 600), (1500, 1600)])
    t = result.timeline
    assert [b["t"][11:16] for b in t] == ["20:00", "20:05", "20:10", "20:15", "20:20", "20:25"]
    assert t[0] == {"t": t[0]["t"], "viewers": 1, "messages": 3, "chatters": 2, "tokens": 0}
    assert t[1]["tokens"] == 7 and t[1]["viewers"] == 1
    assert t[3]["viewers"] == 0
    assert result.subjects == [{"at": at(410).isoformat(), "subject": "<b>hi</b>"}]
