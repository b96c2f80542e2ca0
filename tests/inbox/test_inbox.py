"""Inbox threads from PM events: direction, direct messages, unread state, search, rebuild."""

from __future__ import annotations

from sqlalchemy import select

from greenroom.inbox import queries
from greenroom.inbox.ingest import rebuild_inbox
from greenroom.inbox.models import PmMessage, PmThread
from tests.people.kit import T0, Room
from tests.web.web_helpers import csrf_of

HOSTILE = "<img src=x onerror=alert(1)>"


def _room():
    return (Room().start(0).pm(10, "MidnightOwl", "alice", "hello there").pm(20, "alice", "midnightowl", "hi!")
            .pm(30, "quietfan", "alice", HOSTILE).stop(40)
            .pm(100, "midnightowl", "alice", "are you online?", direct=True).envelopes)


def test_threads_are_per_counterpart_with_direction_direct_marks_and_unread_state(database, room_feed):
    feed_id = room_feed(_room())
    with database.read() as db:
        threads, total = queries.list_threads(db, feed_id)
        owl = queries.get_thread(db, feed_id, "MIDNIGHTOWL")
    assert total == 2 and [t["username"] for t in threads] == ["midnightowl", "quietfan"]
    assert threads[0]["unread"] and threads[0]["last_text"] == "are you online?" and threads[0]["has_direct"]
    assert [(m["direction"], m["direct"], m["text"]) for m in owl["items"]] == [
        ("in", False, "hello there"), ("out", False, "hi!"), ("in", True, "are you online?")]
    with database.write() as db:
        queries.mark_read(db, feed_id, "midnightowl", T0)
    with database.read() as db:
        assert [t["username"] for t in queries.list_threads(db, feed_id, filter="unread")[0]] == ["quietfan"]
        assert [t["username"] for t in queries.list_threads(db, feed_id, filter="direct")[0]] == ["midnightowl"]
        assert queries.unread_threads(db, feed_id) == 1
    with database.write() as db:
        queries.mark_unread(db, feed_id, "midnightowl", T0)
    with database.read() as db:
        assert queries.unread_threads(db, feed_id) == 2
        hits = queries.search(db, feed_id, "ONLINE")
        assert [h["text"] for h in hits] == ["are you online?"]
        assert queries.search(db, feed_id, "%") == []


def test_rebuild_reproduces_threads_and_keeps_read_state(database, room_feed):
    feed_id = room_feed(_room())
    with database.write() as db:
        queries.mark_read(db, feed_id, "quietfan", T0)

    def snapshot():
        with database.read() as db:
            return ([tuple(r) for r in db.execute(select(PmThread.__table__).order_by(PmThread.counterpart)).all()],
                    [tuple(r) for r in db.execute(select(PmMessage.__table__).order_by(PmMessage.event_pk)).all()],
                    queries.unread_threads(db, feed_id))

    before = snapshot()
    with database.write() as db:
        rebuild_inbox(db, feed_id, T0, chunk=2)
    assert snapshot() == before and before[2] == 1


def test_the_api_and_page_show_threads_search_and_escape_messages(signed_in, room_feed):
    room_feed(_room())
    body = signed_in.get("/api/inbox/threads").json()
    assert body["total"] == 2 and body["unread"] == 2
    thread = signed_in.get("/api/inbox/threads/QuietFan").json()
    assert thread["items"][0]["text"] == HOSTILE
    assert signed_in.get("/api/inbox/search", params={"q": "hello"}).json()["messages"][0]["username"] == \
        "midnightowl"
    page = signed_in.get("/inbox/quietfan")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text and HOSTILE not in page.text
    assert signed_in.get("/api/inbox/threads").json()["unread"] == 1  # opening the page read it
    assert signed_in.post("/api/inbox/threads/quietfan/unread", headers={"X-CSRF-Token": csrf_of(signed_in)}) \
        .status_code == 200
    assert signed_in.get("/api/inbox/threads").json()["unread"] == 2
    assert "Direct message" in signed_in.get("/inbox/midnightowl").text
    assert "No messages contain “zzz”" in signed_in.get("/inbox", params={"q": "zzz"}).text


def test_a_thread_with_someone_who_never_wrote_is_a_404_page_that_still_lists_the_threads(signed_in, room_feed):
    room_feed(_room())
    page = signed_in.get("/inbox/nobody_here")
    assert page.status_code == 404
    assert "No messages with “nobody_here”" in page.text
    assert 'data-thread="quietfan"' in page.text
