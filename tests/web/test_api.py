from __future__ import annotations

import pytest
from sqlalchemy import update

from greenroom.events.models import Feed, FeedLease
from tests.web.web_helpers import SECRET_TOKEN, chat, tip


def test_health_without_any_feed_is_degraded_and_stopped(client):
    body = client.get("/api/health").json()
    assert body == {"status": "degraded", "ingest": {"state": "stopped", "last_poll_at": None,
                                                      "last_event_at": None, "events_stored": 0, "error": None}}


def test_health_is_ok_while_the_ingester_holds_the_lease_and_polls(client, feed):
    feed(tip(1), tip(2))
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["ingest"]["state"] == "polling"
    assert body["ingest"]["events_stored"] == 2
    assert body["ingest"]["last_poll_at"].endswith(("Z", "+00:00"))


def test_health_says_stopped_when_the_lease_expired_whatever_the_row_says(client, feed, clock):
    feed(tip(1))
    clock.advance(seconds=601)
    body = client.get("/api/health").json()
    assert body["status"] == "degraded" and body["ingest"]["state"] == "stopped"


def test_health_says_stopped_when_no_ingester_holds_the_feed(client, feed, database):
    with database.write() as db:
        db.execute(update(FeedLease).values(holder=None, expires_at=None))
    assert client.get("/api/health").json()["ingest"]["state"] == "stopped"


@pytest.mark.parametrize("state,status", [("demo", "ok"), ("backing_off", "degraded"),
                                          ("credentials_rejected", "degraded")])
def test_health_reports_the_live_ingesters_state(client, feed, database, state, status):
    with database.write() as db:
        db.execute(update(Feed).values(state=state, is_demo=state == "demo"))
    body = client.get("/api/health").json()
    assert body["status"] == status and body["ingest"]["state"] == state


def test_health_never_shows_the_token_even_if_an_error_carried_it(client, feed, database):
    with database.write() as db:
        db.execute(update(Feed).values(
            state="credentials_rejected",
            last_error=f"401 from https://eventsapi.chaturbate.com/events/alice/{SECRET_TOKEN}/?timeout=30",
        ))
    text = client.get("/api/health").text
    assert SECRET_TOKEN not in text and "alice/****" in text


def test_events_come_in_store_order_with_upstream_ids_and_utc_times(signed_in, feed):
    feed(tip(1, note="hi"), chat(2, "hello"), tip(3))
    body = signed_in.get("/api/events").json()
    assert [e["id"] for e in body["events"]] == [tip(1)["id"], chat(2, "")["id"], tip(3)["id"]]
    first = body["events"][0]
    assert first["method"] == "tip" and first["username"] == "user1" and first["broadcaster"] == "alice"
    assert first["payload"] == tip(1, note="hi")
    assert first["event_time"] == "2025-11-28T14:26:40.001000Z"  # from the upstream id
    assert first["received_at"] == "2026-11-28T15:00:00Z"
    assert body["next_after_id"] is None


def test_events_page_with_after_id_until_there_are_no_more(signed_in, feed):
    feed(*[tip(i) for i in range(7)])
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"after_id": after} if after else {})
        body = signed_in.get("/api/events", params=params).json()
        seen += [e["id"] for e in body["events"]]
        pages += 1
        after = body["next_after_id"]
        if after is None:
            break
    assert seen == [tip(i)["id"] for i in range(7)] and pages == 3


def test_events_filter_by_method_and_by_username_in_any_case(signed_in, feed):
    feed(tip(1, username="BigFan"), chat(2, "yo", username="bigfan"), tip(3, username="Other"))
    by_user = signed_in.get("/api/events", params={"username": "BIGFAN"}).json()["events"]
    assert [e["id"] for e in by_user] == [tip(1)["id"], chat(2, "")["id"]]
    tips = signed_in.get("/api/events", params={"method": "tip", "username": "bigfan"}).json()["events"]
    assert [e["id"] for e in tips] == [tip(1)["id"]]


@pytest.mark.parametrize("params,status,words", [
    ({"limit": 0}, 422, "limit"), ({"limit": 1001}, 422, "limit"), ({"limit": "many"}, 422, "limit"),
    ({"after_id": "999-0"}, 400, "after_id"),
])
def test_bad_event_parameters_get_a_clear_json_error(signed_in, feed, params, status, words):
    answer = signed_in.get("/api/events", params=params)
    assert answer.status_code == status
    assert words in answer.json()["error"]["message"]


def test_feeds_show_only_the_masked_url(signed_in, feed, clock):
    feed(tip(1))
    body = signed_in.get("/api/feeds").json()
    (row,) = body["feeds"]
    assert row["url_masked"] == "https://eventsapi.chaturbate.com/events/alice/****/"
    assert row["state"] == "polling" and row["ingester_alive"] and row["events_stored"] == 1
    clock.advance(hours=1)
    assert signed_in.get("/api/feeds").json()["feeds"][0]["state"] == "stopped"


def test_every_json_endpoint_is_documented_with_a_response_model(signed_in):
    spec = signed_in.get("/api/openapi.json").json()
    for path in ("/api/health", "/api/events", "/api/feeds"):
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("Out"), path
    docs = signed_in.get("/api/docs").text
    assert "/api/events" in docs and "EventsOut" in docs and "next_after_id" in docs
