"""People counters against an independent recomputation from the stored raw payloads."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from greenroom.events.models import Event
from greenroom.people.ingest import rebuild_people
from greenroom.people.models import Person, PersonDay, PersonEvent
from greenroom.people.queries import person_stats
from greenroom.simulator.script import ScriptConfig, build_script
from tests.people.kit import Room, ingest, make_feed

NOW = datetime(2025, 8, 7, 12, 0, tzinfo=UTC)


def _recompute(payloads: list[dict], owner: str) -> dict[str, dict]:
    """Straightforward counting over raw envelopes, written without the people code."""
    people: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for env in payloads:
        obj = env["object"]
        method = env["method"]
        if method in ("broadcastStart", "broadcastStop", "roomSubjectChange"):
            continue
        when = datetime.fromtimestamp(int(env["id"].split("-")[0]) / 1000, UTC)
        if method == "privateMessage":
            sender = (obj["message"].get("fromUser") or obj["user"]["username"]).lower()
            name = (obj["message"].get("toUser") or "").lower() if sender == owner else sender
        else:
            name = obj["user"]["username"].lower()
        if not name or name == owner:
            continue
        p = people[name]
        p["events"] += 1
        spent = 0
        if method == "tip":
            p["tips"] += 1
            spent = int(obj["tip"]["tokens"])
        elif method == "mediaPurchase":
            spent = int(obj["media"].get("tokens", 0))
        elif method == "userEnter":
            p["visits"] += 1
        elif method == "chatMessage":
            p["chat_messages"] += 1
        elif method == "privateMessage":
            p["private_messages"] += 1
        p["lifetime_tokens"] += spent
        if when.date() >= NOW.date() - timedelta(days=6):
            p["tokens_7d"] += spent
        if when.date() >= NOW.date() - timedelta(days=29):
            p["tokens_30d"] += spent
        first = p.get("first_seen")
        p["first_seen"] = when if first is None else min(first, when)
        p["last_seen"] = max(p.get("last_seen") or when, when)
    return people


def _stored_payloads(db, feed_id):
    return list(db.scalars(select(Event.payload).where(Event.feed_id == feed_id, Event.known.is_(True))
                           .order_by(Event.id)))


def _snapshot(db, feed_id):
    rows = db.scalars(select(Person).where(Person.feed_id == feed_id).order_by(Person.username)).all()
    days = db.execute(select(PersonDay.username, PersonDay.day, PersonDay.tokens).where(PersonDay.feed_id == feed_id)
                      .order_by(PersonDay.username, PersonDay.day)).all()
    links = db.execute(select(PersonEvent.event_pk, PersonEvent.username).order_by(PersonEvent.event_pk)).all()
    cols = [c.name for c in Person.__table__.columns if c.name != "id"]
    return [tuple(getattr(r, c) for c in cols) for r in rows], days, links


@pytest.mark.parametrize("batch", [37])
def test_counters_equal_an_independent_recomputation_over_a_simulated_week(database, batch):
    script = build_script(ScriptConfig(seed=3, days=3.0, audience=40, viewer_pool=300, broadcasts_per_day=2))
    feed_id = make_feed(database)
    ingest(database, feed_id, script.events, batch=batch)
    ingest(database, feed_id, script.events[:200], batch=batch)  # re-delivered backlog adds nothing
    with database.read() as db:
        expected = _recompute(_stored_payloads(db, feed_id), "alice")
        rows = {p.username: p for p in db.scalars(select(Person).where(Person.feed_id == feed_id))}
        stats = person_stats(db, feed_id, list(rows), NOW)
        links = defaultdict(int)
        for name in db.scalars(select(PersonEvent.username)):
            links[name] += 1
    assert set(rows) == set(expected)
    assert len(rows) > 50
    for name, want in expected.items():
        got = stats[name]
        for key in ("lifetime_tokens", "tokens_7d", "tokens_30d", "tips", "visits", "chat_messages",
                    "private_messages"):
            assert got[key] == want[key], (name, key)
        assert rows[name].first_seen == want["first_seen"]
        assert rows[name].last_seen == want["last_seen"]
        assert links[name] == want["events"]


def test_rebuild_reproduces_every_people_row_exactly(database):
    script = build_script(ScriptConfig(seed=8, days=1.0, audience=30, viewer_pool=150, broadcasts_per_day=2))
    feed_id = make_feed(database)
    ingest(database, feed_id, script.events, batch=50)
    with database.read() as db:
        before = _snapshot(db, feed_id)
    with database.write() as db:
        replayed = rebuild_people(db, feed_id, NOW, chunk=333)
    with database.read() as db:
        after = _snapshot(db, feed_id)
    assert replayed > 0
    assert after == before


def test_attributes_role_follow_and_fan_club_follow_the_latest_events(database):
    feed_id = make_feed(database)
    room = (Room().start(0)
            .enter(1, {"username": "MidnightOwl", "gender": "m", "language": "de", "recentTips": "few"})
            .enter(2, {"username": "VisitingStar", "isBroadcasting": True})
            .follow(3, "midnightowl")
            .add(4, "fanclubJoin", "MIDNIGHTOWL")
            .tip(5, {"username": "MidnightOwl", "recentTips": "lots", "isFollower": True}, 25, anon=True)
            .add(6, "unfollow", "VisitingStar")
            .pm(7, "alice", "midnightowl", "thanks!")
            .stop(8))
    ingest(database, feed_id, room.envelopes)
    with database.read() as db:
        owl = db.scalars(select(Person).where(Person.username == "midnightowl")).one()
        star = db.scalars(select(Person).where(Person.username == "visitingstar")).one()
        assert db.scalars(select(Person).where(Person.username == "alice")).first() is None
    assert owl.display_name == "MidnightOwl"
    assert owl.attributes == {"gender": "m", "language": "de", "recentTips": "lots", "isFollower": True}
    assert (owl.follower, owl.in_fanclub, owl.tips, owl.lifetime_tokens, owl.private_messages) == (True, True, 1, 25, 1)
    assert star.seen_broadcasting and not star.follower and star.unfollowed_at is not None
