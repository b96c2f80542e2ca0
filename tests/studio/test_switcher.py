"""The room switcher: ?room=NAME on pages and APIs, kept in a cookie; each room's pages show only
that room's people, inbox and visitors; an unknown room is a clear 404, a malformed one a 400."""

from __future__ import annotations

import re

from greenroom.web.templating import ROOM_COOKIE

from .conftest import csrf, fill_room

HOST = "https://eventsapi.chaturbate.com"


def _two_rooms(client, database, clock) -> dict[str, int]:
    ids = {}
    for name in ("bob", "carol"):
        answer = client.post("/api/feeds", json={"url": f"{HOST}/events/{name}/Tok-{name}-123456789/"},
                             headers={"X-CSRF-Token": csrf(client)})
        assert answer.status_code == 201
        ids[name] = answer.json()["id"]
    fill_room(database, ids["bob"], clock, "bob", 0)
    fill_room(database, ids["carol"], clock, "carol", 100)
    return ids


def _people(client, query: str = "") -> set[str]:
    answer = client.get("/api/people" + query)
    assert answer.status_code == 200, answer.text
    return {p["username"] for p in answer.json()["people"]}


def test_the_switcher_shows_the_rooms_and_the_choice_sticks(database, signed_in, clock):
    _two_rooms(signed_in, database, clock)
    page = signed_in.get("/people?room=carol")
    assert page.status_code == 200
    assert "carol_fan1" in page.text and "bob_fan1" not in page.text
    switcher = re.search(r'<form class="room-switcher" action="/people" method="get".*?</form>', page.text, re.S)
    assert switcher, "the switcher is in the top bar"
    assert '<option value="carol" selected>' in switcher.group(0) and '<option value="bob">' in switcher.group(0)
    assert "<script>" not in switcher.group(0) and "onchange" not in switcher.group(0)
    assert page.cookies.get(ROOM_COOKIE) == "carol" or signed_in.cookies.get(ROOM_COOKIE) == "carol"

    # The cookie carries the choice to pages opened without ?room=, and to the APIs.
    assert "carol_fan1" in signed_in.get("/people").text
    followed = _people(signed_in)
    assert {"carol_fan1", "carol_fan2", "carol_fan3"} <= followed and not any(n.startswith("bob") for n in followed)
    # ?room= beats the cookie, on pages and APIs alike.
    bob = _people(signed_in, "?room=bob")
    assert "bob_fan1" in bob and not any(n.startswith("carol") for n in bob)
    assert "bob_fan1" in signed_in.get("/people?room=BOB").text
    threads = signed_in.get("/api/inbox/threads?room=carol")
    assert threads.status_code == 200 and "bob_fan" not in threads.text
    visitors = signed_in.get("/visitors?room=bob")
    assert visitors.status_code == 200 and "carol_fan" not in visitors.text


def test_an_unknown_or_malformed_room_is_a_clear_error(database, signed_in, clock):
    _two_rooms(signed_in, database, clock)
    page = signed_in.get("/people?room=nobody")
    assert page.status_code == 404 and "no room named" in page.text
    api = signed_in.get("/api/people?room=nobody")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    bad = signed_in.get("/api/people", params={"room": "<script>alert(1)</script>"})
    assert bad.status_code == 400 and "<script>" not in bad.text
    page = signed_in.get("/people", params={"room": "x" * 500})
    assert page.status_code == 400 and "x" * 100 not in page.text
    # A cookie naming a room that is gone falls back to the default room instead of failing.
    signed_in.cookies.set(ROOM_COOKIE, "nobody")
    assert signed_in.get("/people").status_code == 200


def test_one_room_shows_its_name_and_no_switcher(database, signed_in, clock):
    answer = signed_in.post("/api/feeds", json={"url": f"{HOST}/events/bob/Tok-bob-123456789/"},
                            headers={"X-CSRF-Token": csrf(signed_in)})
    assert answer.status_code == 201
    page = signed_in.get("/")
    assert 'class="room-name"' in page.text and "room-switcher" not in page.text


def test_a_paused_or_removed_room_is_labelled_and_raises_no_banner(database, signed_in, clock):
    ids = _two_rooms(signed_in, database, clock)
    headers = {"X-CSRF-Token": csrf(signed_in)}
    signed_in.patch(f"/api/feeds/{ids['bob']}", json={"enabled": False}, headers=headers)
    signed_in.delete(f"/api/feeds/{ids['carol']}", headers=headers)
    page = signed_in.get("/people?room=bob")
    assert "bob (paused)" in page.text and "carol (removed)" in page.text
    assert re.search(r'data-status="banner" hidden', page.text)


def test_sessions_dashboard_live_and_events_follow_the_room(database, signed_in, clock):
    ids = _two_rooms(signed_in, database, clock)
    for name, other in (("bob", "carol"), ("carol", "bob")):
        sessions = signed_in.get(f"/api/sessions?room={name}").json()
        assert sessions["total"] == 1 and {s["feed_id"] for s in sessions["sessions"]} == {ids[name]}
        current = signed_in.get(f"/api/sessions/current?room={name}").json()["session"]
        assert current is not None and current["feed_id"] == ids[name]
        listed = signed_in.get(f"/sessions?room={name}")
        assert listed.status_code == 200
        exported = signed_in.get(f"/sessions?room={name}&format=json").json()
        assert [s["feed_id"] for s in exported] == [ids[name]]
        for page in ("/", "/live"):
            shown = signed_in.get(f"{page}?room={name}")
            assert shown.status_code == 200 and f"{name}_fan1" in shown.text and f"{other}_fan1" not in shown.text
        events = signed_in.get(f"/api/events?room={name}").json()["events"]
        assert events and {e["broadcaster"] for e in events} == {name}
    # Without ?room= the event store API answers for every room, in store order, as always.
    every = {e["broadcaster"] for e in signed_in.get("/api/events").json()["events"]}
    assert every == {"bob", "carol"}
    assert signed_in.get("/api/events?room=nobody").status_code == 404
