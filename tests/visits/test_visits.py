"""Presence, visits (live and offline), alert rules, and a full rebuild that keeps owner data."""

from __future__ import annotations

from sqlalchemy import func, select

from greenroom.inbox.ingest import rebuild_inbox
from greenroom.people import notes, profile
from greenroom.people.cards import person_json
from greenroom.people.ingest import rebuild_people
from greenroom.people.relationships import RelationshipIn, save_relationship
from greenroom.visits import alerts, queries
from greenroom.visits.ingest import rebuild_visits
from greenroom.visits.models import AlertHit, Visit
from tests.people.kit import T0, Room, ingest, make_feed
from tests.web.web_helpers import csrf_of


def test_the_room_now_comes_from_enter_and_leave_and_empties_when_the_broadcast_stops(database):
    feed_id = make_feed(database)
    ingest(database, feed_id, Room().enter(5, "earlybird").leave(6, "earlybird").start(10).enter(11, "ann")
           .enter(12, "Bob").leave(13, "ann").enter(14, "ann").enter(15, "bob").envelopes, batch=3)
    with database.read() as db:
        assert queries.room_state(db, feed_id)[0]
        assert [p["username"] for p in queries.in_room(db, feed_id)] == ["ann", "bob"]
        visits = db.scalars(select(Visit).order_by(Visit.id)).all()
    assert [(v.username, v.live, v.left_at is not None) for v in visits] == [
        ("earlybird", False, True), ("ann", True, True), ("bob", True, True), ("ann", True, False),
        ("bob", True, False)]
    ingest(database, feed_id, Room().stop(20).enter(30, "latecomer").envelopes)
    with database.read() as db:
        assert not queries.room_state(db, feed_id)[0]
        assert queries.in_room(db, feed_id) == []
        assert db.scalar(select(func.count()).select_from(Visit).where(Visit.left_at.is_(None))) == 1
        rows, total = queries.visitors(db, feed_id, period="all", sort="offline", now=T0.replace(day=2))
    assert rows[0]["offline"] == 1 and total == 4


def test_alert_rules_fire_for_big_spenders_friends_and_big_tips(database):
    feed_id = make_feed(database)
    with database.write() as db:
        alerts.add_rule(db, "big_spender_entered", 100, T0)
        alerts.add_rule(db, "friend_entered", 0, T0)
        alerts.add_rule(db, "tip_at_least", 50, T0)
    ingest(database, feed_id, Room().start(0).enter(1, "whale").tip(2, "Whale", 500).enter(3, "pal")
           .tip(4, "pal", 10).envelopes)
    with database.write() as db:
        save_relationship(db, feed_id, "pal", RelationshipIn(roles=["friend"], status="active"), T0)
    ingest(database, feed_id, Room().leave(10, "whale").enter(11, "Whale").leave(12, "pal").enter(13, "pal")
           .envelopes)
    with database.read() as db:
        hits = [h.message for h in reversed(alerts.recent_hits(db, feed_id))]
    assert hits == ["Tip of 500: Whale", "Big tipper entered: Whale — 500 lifetime", "Friend entered: pal"]
    with database.write() as db:
        alerts.acknowledge(db, feed_id, None, T0)
    with database.read() as db:
        assert alerts.recent_hits(db, feed_id) == []


def test_rebuilding_people_inbox_and_visits_keeps_every_piece_of_owner_data(database):
    feed_id = make_feed(database)
    room = (Room().start(0).enter(1, "Ann").tip(2, "ann", 30).pm(3, "ann", "alice", "hey").enter(4, "bo")
            .stop(9))
    ingest(database, feed_id, room.envelopes)
    with database.write() as db:
        alerts.add_rule(db, "tip_at_least", 1, T0)
        notes.add_note(db, feed_id, "ann", "remember her birthday", T0)
        save_relationship(db, feed_id, "ann", RelationshipIn(roles=["sub"], status="potential"), T0)
        save_relationship(db, feed_id, "ann", RelationshipIn(roles=["sub"], status="active"), T0)
        profile.set_names(db, feed_id, "ann", T0, real_name="Ann B", address_terms=["Miss"])
        profile.add_to_watchlist(db, feed_id, "ann", T0)
        profile.set_exclusion(db, "bo", True, T0)
    ingest(database, feed_id, Room().tip(20, "ann", 5).envelopes)
    with database.read() as db:
        before = person_json(db, feed_id, "ann", T0), person_json(db, feed_id, "bo", T0)
        hits = db.scalar(select(func.count()).select_from(AlertHit))
        visits = [tuple(r) for r in db.execute(select(Visit.__table__).order_by(Visit.id))]
    with database.write() as db:
        rebuild_people(db, feed_id, T0)
        rebuild_inbox(db, feed_id, T0)
        rebuild_visits(db, feed_id, T0)
    with database.read() as db:
        after = person_json(db, feed_id, "ann", T0), person_json(db, feed_id, "bo", T0)
        assert db.scalar(select(func.count()).select_from(AlertHit)) == hits == 1  # not fired again
        rebuilt = [tuple(r)[1:] for r in db.execute(select(Visit.__table__).order_by(Visit.id))]
    assert after == before
    assert rebuilt == [v[1:] for v in visits]
    assert before[0]["notes"][0]["text"] == "remember her birthday"
    assert [c["field"] for c in before[0]["relationship"]["history"]] == ["status", "status", "roles"]
    assert before[0]["stats"]["lifetime_tokens"] == 35 and before[1]["excluded"]


def test_the_live_api_and_pages_show_the_room_visitors_and_alerts(signed_in, room_feed):
    token = csrf_of(signed_in)
    assert signed_in.post("/api/alerts/rules", json={"kind": "tip_at_least", "threshold": 100},
                          headers={"X-CSRF-Token": token}).status_code == 201
    room_feed(Room().start(0).enter(1, {"username": "<i>Eve</i>"}).tip(2, "<i>Eve</i>", 150).enter(3, "zed")
              .envelopes)
    body = signed_in.get("/api/live").json()
    assert body["live"] and [p["username"] for p in body["people"]] == ["<i>eve</i>", "zed"]
    assert body["people"][0]["stats"]["lifetime_tokens"] == 150
    assert body["alerts"][0]["message"] == "Tip of 150: <i>Eve</i>"
    page = signed_in.get("/live").text
    assert "&lt;i&gt;Eve&lt;/i&gt;" in page and "<i>Eve</i>" not in page
    assert "Tip of 150" in page
    visitors = signed_in.get("/api/visitors", params={"period": "all"}).json()
    assert visitors["total"] == 2
    assert signed_in.get("/visitors").status_code == 200
    assert signed_in.get("/visitors", params={"view": "top"}).status_code == 200
    assert "zed" in signed_in.get("/visitors", params={"view": "history"}).text
    ack = signed_in.post(f"/live/alerts/{body['alerts'][0]['id']}/ack", data={"csrf_token": token},
                         follow_redirects=False)
    assert ack.status_code == 303 and signed_in.get("/api/live").json()["alerts"] == []
