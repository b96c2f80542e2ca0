"""Rooms through the API and Admin › Rooms: add, pause, replace the URL, remove (keeping or deleting
the data); the URL is stored encrypted and never comes back out."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text

from greenroom.db.models import metadata
from greenroom.events.feeds import FeedCipher, FeedUrlUnreadable, followed_feeds
from greenroom.events.models import Event, Feed
from greenroom.web.auth import signing_key

from .conftest import SECRET_KEY, csrf, fill_room, token_for

HOST = "https://eventsapi.chaturbate.com"


def url_of(name: str, token: str | None = None) -> str:
    return f"{HOST}/events/{name}/{token or token_for(name)}/"


def add(client, name: str, **extra):
    return client.post("/api/feeds", json={"url": url_of(name), **extra}, headers={"X-CSRF-Token": csrf(client)})


def rows_text(database, table: str) -> str:
    with database.read() as db:
        return repr(db.execute(text(f"SELECT * FROM {table}")).all())  # noqa: S608 - fixed table names


def test_a_room_added_is_stored_encrypted_and_its_token_never_comes_back(database, signed_in, settings, caplog):
    caplog.set_level(logging.DEBUG)
    answer = add(signed_in, "bob")
    assert answer.status_code == 201, answer.text
    room = answer.json()
    assert room["broadcaster"] == "bob" and room["source"] == "admin" and room["enabled"] is True
    assert room["url_masked"] == f"{HOST}/events/bob/****/"
    token = token_for("bob")
    listing = signed_in.get("/api/feeds")
    page = signed_in.get("/admin?tab=rooms")
    assert page.status_code == 200 and "bob" in page.text
    for body in (answer.text, listing.text, page.text, signed_in.get("/api/openapi.json").text):
        assert token not in body
    # Not in the table in clear, in any column; readable with the installation's key only.
    assert token not in rows_text(database, "feeds")
    with database.read() as db:
        feed = db.scalars(select(Feed)).one()
        assert FeedCipher(signing_key(settings)).decrypt(feed.url_encrypted).token == token
        with pytest.raises(FeedUrlUnreadable):
            FeedCipher("another machine's key").decrypt(feed.url_encrypted)
        assert [f.broadcaster for f in followed_feeds(db)] == ["bob"]
    assert token not in caplog.text


def test_a_sqlite_file_does_not_hold_the_token(sqlite_database, settings, clock):
    from starlette.testclient import TestClient

    from greenroom.web.app import create_app
    from greenroom.web.auth import ensure_owner
    from tests.web.web_helpers import login

    ensure_owner(sqlite_database, settings)
    client = TestClient(create_app(settings, sqlite_database, clock=clock))
    login(client)
    assert add(client, "carol").status_code == 201
    with sqlite_database.engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    path = sqlite_database.engine.url.database
    from pathlib import Path

    assert token_for("carol").encode() not in Path(path).read_bytes()


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"url": "not a url"}, 400, "must look like"),
    ({"url": "https://eventsapi.chaturbate.com/events/bob/"}, 400, "must look like"),
    ({"url": "ftp://eventsapi.chaturbate.com/events/bob/Tok3nTok3n/"}, 400, "must look like"),
    ({"url": f"{HOST}/events/b%20o%3Cb/Tok3nTok3n/"}, 400, "username"),
    ({"url": f"{HOST}/events/bob/{'x' * 3000}/"}, 400, "too long"),
    ({"url": "   "}, 400, "paste"),
    ({}, 422, "url"),
    ({"url": 12}, 422, "url"),
])
def test_a_bad_url_is_refused_without_repeating_it(signed_in, body, status, words):
    answer = signed_in.post("/api/feeds", json=body, headers={"X-CSRF-Token": csrf(signed_in)})
    assert answer.status_code == status
    message = answer.json()["error"]["message"]
    assert words in message
    assert "Tok3n" not in message and "x" * 50 not in message


def test_a_room_cannot_be_added_twice_and_the_demo_name_is_protected(database, signed_in, clock):
    assert add(signed_in, "bob").status_code == 201
    again = add(signed_in, "BOB")
    assert again.status_code == 409 and "already followed" in again.json()["error"]["message"]
    from greenroom.events.feeds import ensure_feed

    with database.write() as db:
        ensure_feed(db, broadcaster="alice", url_masked="http://127.0.0.1:1/events/alice/****/", url_fingerprint="d",
                    is_demo=True, now=clock())
    demo = add(signed_in, "alice")
    assert demo.status_code == 409 and "demo" in demo.json()["error"]["message"]


def test_pause_resume_and_replacing_the_url(database, signed_in, settings):
    feed_id = add(signed_in, "bob").json()["id"]
    headers = {"X-CSRF-Token": csrf(signed_in)}
    paused = signed_in.patch(f"/api/feeds/{feed_id}", json={"enabled": False}, headers=headers)
    assert paused.status_code == 200 and paused.json()["enabled"] is False
    with database.read() as db:
        assert followed_feeds(db) == []
    assert signed_in.patch(f"/api/feeds/{feed_id}", json={"enabled": True}, headers=headers).json()["enabled"]

    new_token = "Rotated-token-0987654321-abcdef"
    replaced = signed_in.patch(f"/api/feeds/{feed_id}", json={"url": url_of("bob", new_token)}, headers=headers)
    assert replaced.status_code == 200 and new_token not in replaced.text
    with database.read() as db:
        feed = db.get(Feed, feed_id)
        assert FeedCipher(signing_key(settings)).decrypt(feed.url_encrypted).token == new_token
    assert new_token not in rows_text(database, "feeds")

    other = signed_in.patch(f"/api/feeds/{feed_id}", json={"url": url_of("carol")}, headers=headers)
    assert other.status_code == 400 and "not bob" in other.json()["error"]["message"]
    assert signed_in.patch(f"/api/feeds/{feed_id}", json={}, headers=headers).status_code == 400
    assert signed_in.patch("/api/feeds/9999", json={"enabled": False}, headers=headers).status_code == 404
    assert signed_in.patch(f"/api/feeds/{feed_id}", json={"enabled": "maybe"}, headers=headers).status_code == 422


def test_the_environment_room_keeps_its_url_from_the_environment(database, signed_in, settings, clock):
    from greenroom.events.feeds import store_feed_url
    from greenroom.events.models import FeedSource
    from greenroom.secrets import parse_feed_url

    with database.write() as db:
        feed = store_feed_url(db, FeedCipher(signing_key(settings)), parse_feed_url(url_of("dora")),
                              source=FeedSource.ENV, now=clock())
        feed_id = feed.id
    headers = {"X-CSRF-Token": csrf(signed_in)}
    answer = signed_in.patch(f"/api/feeds/{feed_id}", json={"url": url_of("dora", "Another-token-123456")},
                             headers=headers)
    assert answer.status_code == 409 and "GREENROOM_EVENTS_URL" in answer.json()["error"]["message"]
    assert signed_in.patch(f"/api/feeds/{feed_id}", json={"enabled": False}, headers=headers).status_code == 200


def _rows_of(database, feed_id: int) -> int:
    total = 0
    with database.read() as db:
        for table in metadata.sorted_tables:
            if "feed_id" in table.c:
                total += db.scalar(select(func.count()).select_from(table).where(table.c.feed_id == feed_id)) or 0
    return total


def test_removing_a_room_keeps_or_deletes_its_data(database, signed_in, clock):
    bob = add(signed_in, "bob").json()["id"]
    carol = add(signed_in, "carol").json()["id"]
    fill_room(database, bob, clock, "bob", 0)
    fill_room(database, carol, clock, "carol", 100)
    carol_rows = _rows_of(database, carol)
    assert _rows_of(database, bob) > 10
    headers = {"X-CSRF-Token": csrf(signed_in)}

    kept = signed_in.delete(f"/api/feeds/{bob}", headers=headers)
    assert kept.status_code == 200 and kept.json() == {"id": bob, "broadcaster": "bob", "data_deleted": False,
                                                       "rows_deleted": 0}
    rooms = {r["broadcaster"]: r for r in signed_in.get("/api/feeds").json()["feeds"]}
    assert rooms["bob"]["removed"] is True and rooms["bob"]["enabled"] is False
    with database.read() as db:
        assert db.get(Feed, bob).url_encrypted is None
        assert db.scalar(select(func.count()).select_from(Event).where(Event.feed_id == bob)) == 5
    # Its data stays browsable; following it again resumes from its cursor.
    assert "bob_fan1" in signed_in.get("/people?room=bob").text
    again = add(signed_in, "bob")
    assert again.status_code == 201 and again.json()["id"] == bob and again.json()["removed"] is False
    with database.read() as db:
        assert db.get(Feed, bob).cursor == "i=x"

    assert signed_in.delete(f"/api/feeds/{bob}?delete_data=maybe", headers=headers).status_code == 422
    gone = signed_in.delete(f"/api/feeds/{bob}?delete_data=true", headers=headers)
    assert gone.status_code == 200 and gone.json()["data_deleted"] is True and gone.json()["rows_deleted"] > 10
    assert _rows_of(database, bob) == 0
    with database.read() as db:
        assert db.get(Feed, bob) is None
        orphans = db.execute(text("SELECT count(*) FROM session_events se LEFT JOIN events e ON e.id = se.event_pk "
                                  "WHERE e.id IS NULL")).scalar()
        assert orphans == 0
    assert _rows_of(database, carol) == carol_rows  # the other room is untouched
    assert signed_in.delete(f"/api/feeds/{bob}", headers=headers).status_code == 404


def test_admin_rooms_tab_adds_pauses_and_removes_with_confirmation(database, signed_in, caplog):
    caplog.set_level(logging.DEBUG)
    token = csrf(signed_in)
    assert signed_in.post("/admin/rooms", data={"url": url_of("bob")}).status_code == 403  # no CSRF token
    added = signed_in.post("/admin/rooms", data={"url": url_of("bob"), "csrf_token": token}, follow_redirects=True)
    assert added.status_code == 200 and "bob" in added.text and "added" in added.text
    assert token_for("bob") not in added.text

    bad = signed_in.post("/admin/rooms", data={"url": f"{HOST}/events/bob/", "csrf_token": token})
    assert bad.status_code == 400 and "must look like" in bad.text
    dup = signed_in.post("/admin/rooms", data={"url": url_of("bob", "Other-token-abcdef123"), "csrf_token": token})
    assert dup.status_code == 409 and "Other-token-abcdef123" not in dup.text

    with database.read() as db:
        feed_id = db.scalars(select(Feed.id)).one()
    paused = signed_in.post(f"/admin/rooms/{feed_id}/pause", data={"csrf_token": token}, follow_redirects=True)
    assert "paused" in paused.text and 'data-resume' in paused.text
    unconfirmed = signed_in.post(f"/admin/rooms/{feed_id}/remove", data={"csrf_token": token, "data": "delete",
                                                                         "confirm": "nope"})
    assert unconfirmed.status_code == 400 and "(bob) to confirm" in unconfirmed.text
    with database.read() as db:
        assert db.get(Feed, feed_id) is not None
    removed = signed_in.post(f"/admin/rooms/{feed_id}/remove",
                             data={"csrf_token": token, "data": "delete", "confirm": "Bob"}, follow_redirects=True)
    assert removed.status_code == 200 and "data deleted" in removed.text
    assert signed_in.post("/admin/rooms/999/pause", data={"csrf_token": token}).status_code == 404
    assert signed_in.post("/admin/rooms/1/explode", data={"csrf_token": token}).status_code in (400, 404)
    assert token_for("bob") not in caplog.text


def test_the_cipher_key_is_derived_not_the_signing_key_itself():
    cipher = FeedCipher(SECRET_KEY)
    from greenroom.secrets import parse_feed_url

    sealed = cipher.encrypt(parse_feed_url(url_of("bob")))
    assert token_for("bob") not in sealed and SECRET_KEY not in sealed
    assert cipher.decrypt(sealed).username == "bob"
    with pytest.raises(ValueError):
        FeedCipher("")
