"""The people JSON API: search, profile contract, timeline, and every owner write."""

from __future__ import annotations

import base64

from tests.people.kit import Room
from tests.web.web_helpers import csrf_of

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                       "AAAABJRU5ErkJggg==")


def _room():
    return (Room().start(0).enter(10, {"username": "MidnightOwl", "inFanclub": True, "gender": "m"})
            .tip(20, "MidnightOwl", 100).chat(30, "MidnightOwl", "<script>alert(1)</script>")
            .enter(40, "midnightmoth").tip(50, "midnightmoth", 5).pm(60, "midnightowl", "alice", "hello you")
            .pm(70, "alice", "midnightowl", "hi back").enter(80, {"username": "StarGirl", "isBroadcasting": True})
            .stop(100).envelopes)


def _h(client):
    return {"X-CSRF-Token": csrf_of(client)}


def test_search_is_by_case_insensitive_prefix_with_filters_sorts_and_a_total(signed_in, room_feed):
    room_feed(_room())
    body = signed_in.get("/api/people", params={"q": "MIDNIGHT", "sort": "tokens"}).json()
    assert body["total"] == 2
    assert [p["username"] for p in body["people"]] == ["midnightowl", "midnightmoth"]
    assert signed_in.get("/api/people", params={"filter": "models"}).json()["people"][0]["username"] == "stargirl"
    assert signed_in.get("/api/people", params={"filter": "fanclub"}).json()["total"] == 1
    assert signed_in.get("/api/people", params={"q": "midnight%"}).json()["total"] == 0
    paged = signed_in.get("/api/people", params={"limit": 1, "offset": 1, "sort": "name"}).json()
    assert paged["total"] == 3 and [p["username"] for p in paged["people"]] == ["midnightowl"]
    assert signed_in.get("/api/people", params={"sort": "bogus"}).status_code == 400
    suggestions = signed_in.get("/api/people/suggest", params={"q": "Mid"}).json()["people"]
    assert [p["display_name"] for p in suggestions] == ["midnightmoth", "MidnightOwl"]


def test_a_person_answers_with_the_documented_fields_and_a_placeholder_image(signed_in, room_feed):
    room_feed(_room())
    body = signed_in.get("/api/people/MidNightOwl").json()
    for key in ("username", "display_name", "role", "first_seen", "last_seen", "attributes", "stats", "image_url",
                "badges", "relationship", "notes"):
        assert key in body
    assert body["username"] == "midnightowl" and body["display_name"] == "MidnightOwl"
    assert body["stats"] == {"lifetime_tokens": 100, "tokens_7d": 0, "tokens_30d": 100, "tips": 1, "visits": 1,
                             "chat_messages": 1, "private_messages": 2}
    assert body["image_url"].startswith("data:image/svg+xml;base64,")
    assert b"Viewer" in base64.b64decode(body["image_url"].split(",", 1)[1])
    assert {"key": "fanclub", "label": "Fan club"} in body["badges"]
    assert body["relationship"] is None
    model = signed_in.get("/api/people/stargirl").json()
    assert model["role"] == "model" and b"Model" in base64.b64decode(model["image_url"].split(",", 1)[1])
    missing = signed_in.get("/api/people/nobody")
    assert missing.status_code == 404 and "never seen" in missing.json()["error"]["message"]


def test_the_timeline_pages_filters_and_includes_pms_the_owner_sent(signed_in, room_feed):
    room_feed(_room())
    items = signed_in.get("/api/people/midnightowl/timeline").json()["items"]
    assert [i["type"] for i in items] == ["privateMessage", "privateMessage", "chatMessage", "tip", "userEnter"]
    assert items[0]["detail"] == "alice → midnightowl: hi back"
    page = signed_in.get("/api/people/midnightowl/timeline", params={"limit": 2}).json()
    rest = signed_in.get("/api/people/midnightowl/timeline", params={"before": page["next_before"]}).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 3
    tips = signed_in.get("/api/people/midnightowl/timeline", params={"type": "tip"}).json()["items"]
    assert [i["type"] for i in tips] == ["tip"]


def test_owner_writes_notes_relationship_names_watchlists_exclusion_and_images(signed_in, room_feed):
    room_feed(_room())
    h = _h(signed_in)
    body = signed_in.post("/api/people/midnightowl/notes", json={"text": "likes <b>jazz</b>"}, headers=h).json()
    note = body["notes"][0]
    assert note["text"] == "likes <b>jazz</b>" and not note["edited"]
    body = signed_in.patch(f"/api/people/midnightowl/notes/{note['id']}", json={"text": "likes blues"},
                           headers=h).json()
    assert body["notes"][0]["text"] == "likes blues" and body["notes"][0]["edited"]
    rel = {"roles": ["friend", "custom"], "custom_label": "Patron", "status": "active", "traits": ["kind"]}
    body = signed_in.put("/api/people/midnightowl/relationship", json=rel, headers=h).json()
    assert body["relationship"]["status"] == "active"
    assert {c["field"] for c in body["relationship"]["history"]} == {"roles", "custom_label", "status", "traits"}
    body = signed_in.put("/api/people/midnightowl/relationship", json=rel | {"status": "banished"}, headers=h).json()
    latest = body["relationship"]["history"][0]
    assert (latest["field"], latest["from"], latest["to"]) == ("status", "active", "banished")
    assert {"key": "status-banished", "label": "Banished"} in body["badges"]
    assert {"key": "custom", "label": "Patron"} in body["badges"]
    body = signed_in.put("/api/people/midnightowl/names", json={"real_name": "Jon", "address_terms": ["Sir", "Sir"]},
                         headers=h).json()
    assert body["names"]["real_name"] == "Jon" and body["names"]["address_terms"] == ["Sir"]
    body = signed_in.put("/api/people/midnightowl/watchlists/VIPs", headers=h).json()
    assert body["watchlists"] == ["VIPs"]
    assert signed_in.get("/api/people", params={"filter": "watchlist"}).json()["total"] == 1
    body = signed_in.put("/api/people/midnightowl/excluded", json={"excluded": True}, headers=h).json()
    assert body["excluded"] and {"key": "excluded", "label": "Excluded"} in body["badges"]
    up = signed_in.post("/api/people/midnightowl/images", files={"file": ("a.png", PNG, "image/png")}, headers=h)
    assert up.status_code == 201
    image = up.json()["images"][0]
    assert image["current"] and up.json()["image_url"] == image["url"]
    served = signed_in.get(image["url"])
    assert served.content == PNG and served.headers["content-type"] == "image/png"
    bad = signed_in.post("/api/people/midnightowl/images", files={"file": ("x.png", b"<svg onload=alert(1)>",
                                                                            "image/png")}, headers=h)
    assert bad.status_code == 400
    assert signed_in.delete(f"/api/people/midnightowl/images/{image['id']}", headers=h).json()["image_url"] \
        .startswith("data:")
    assert signed_in.delete(f"/api/people/midnightowl/notes/{note['id']}", headers=h).json()["notes"] == []
    assert signed_in.post("/api/people/nobody/notes", json={"text": "x"}, headers=h).status_code == 404


def test_badges_appear_next_to_names_on_the_dashboard_and_the_session_page(signed_in, room_feed):
    room_feed(Room().start(0).enter(5, "MidnightOwl").tip(10, "MidnightOwl", 50).follow(12, "MidnightOwl")
              .stop(60).envelopes)
    h = {"X-CSRF-Token": csrf_of(signed_in)}
    rel = {"roles": ["friend"], "status": "banished"}
    assert signed_in.put("/api/people/midnightowl/relationship", json=rel, headers=h).status_code == 200
    sid = signed_in.get("/api/sessions").json()["sessions"][0]["id"]
    for path in ("/", f"/sessions/{sid}"):
        html = signed_in.get(path).text
        assert 'data-badge="friend"' in html, path
        assert "banished" in html.lower(), path
