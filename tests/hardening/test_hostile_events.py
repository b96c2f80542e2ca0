"""Hostile input end to end: a corpus of script tags, attribute breakouts, 1 MB messages, odd
Unicode, wrong types, unknown methods and conflicting duplicates goes through the real store and
feature steps on both engines. Each payload is stored (or quarantined with its reason), nothing
stops, and every page and JSON answer shows the text as inert data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from starlette.testclient import TestClient

from greenroom.config import Settings
from greenroom.db.engine import Database
from greenroom.events.models import Event, Feed, QuarantinedPayload
from greenroom.sessions.models import BroadcastSession
from greenroom.web.app import create_app
from greenroom.web.auth import ensure_owner
from tests.web.web_helpers import PASSWORD, SECRET_TOKEN, SECRET_URL, login

from . import corpus
from .helpers import ingest
from .pages import fill, get_routes, inert_problems, json_strings, local_links

RECEIVED = datetime.fromtimestamp(corpus.T0 / 1000, tz=UTC) + timedelta(hours=1)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr("greenroom.web.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def hostile(database: Database) -> dict[str, Any]:
    parts = corpus.build()
    dupes = corpus.duplicates(parts)
    known = parts["known"]
    # The known events in three batches (a batch boundary inside the broadcast), the same id twice
    # inside one batch, then re-deliveries with different bodies in a batch of their own.
    batches = [known[:20], known[20:] + [dupes[0]], parts["quarantined"] + parts["orphans"], dupes]
    feed_id = ingest(database, batches, RECEIVED)
    return {"parts": parts, "feed_id": feed_id}


def test_every_hostile_payload_is_stored_once_or_quarantined_with_a_reason(database, hostile):
    parts = hostile["parts"]
    with database.read() as db:
        rows = {e.event_id: e for e in db.scalars(select(Event))}
        orphans = list(db.scalars(select(QuarantinedPayload)))
        feed = db.get(Feed, hostile["feed_id"])
        cursor = feed.cursor
    for envelope in parts["known"]:
        row = rows[str(envelope["id"])]
        assert row.quarantine_reason is None, (envelope["id"], row.quarantine_reason)
        # Byte for byte, NUL and lone surrogates included: the store is the truth.
        assert row.payload == envelope
    assert {rows[e["id"]].known for e in parts["known"] if e["method"].startswith(("super", "<", "xx"))} == {False}
    for envelope in parts["quarantined"]:
        row = rows[envelope["id"]]
        assert row.quarantine_reason and not row.known, envelope
        assert row.payload == envelope
    assert len(orphans) == len(parts["orphans"])
    assert all(o.reason for o in orphans)
    # Nothing else was stored: duplicates (in a batch and across batches) added no row.
    assert len(rows) == len(parts["known"]) + len(parts["quarantined"])
    # The first body of a duplicated id wins; the later ones never overwrite it.
    first_chat = next(e for e in parts["known"] if e["method"] == "chatMessage")
    assert rows[first_chat["id"]].payload == first_chat
    assert "REWRITTEN" not in json.dumps([r.payload for r in rows.values()])
    assert cursor == "i=batch-3"  # the loop went on to the last batch


def test_event_times_come_from_the_ids_whatever_the_payload(database, hostile):
    with database.read() as db:
        times = {e.event_id: e.event_time for e in db.scalars(select(Event))}
    for envelope in hostile["parts"]["known"]:
        event_id = str(envelope["id"])
        if "-" in event_id:
            expected = datetime.fromtimestamp(int(event_id.split("-")[0]) / 1000, tz=UTC)
            assert times[event_id] == expected, event_id


def _app(database: Database, tmp_path: Any) -> TestClient:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", owner_password=PASSWORD,
                        timezone="Europe/Berlin", events_url=SECRET_URL)
    ensure_owner(database, settings)
    client = TestClient(create_app(settings, database, clock=lambda: RECEIVED + timedelta(hours=2),
                                   stream_seconds=1.0))
    assert login(client).status_code == 303
    return client


def _path_values(database: Database) -> dict[str, list[str]]:
    with database.read() as db:
        sessions = [str(s) for s in db.scalars(select(BroadcastSession.id).order_by(BroadcastSession.id))]
    # A "/" in a path segment cannot be addressed by a plain {username} route (%2F is decoded
    # before routing); such names are still checked wherever lists show them.
    users = [u for u in [*corpus.HOSTILE_USERS, "bigmouth"] if "/" not in u]
    return {
        "session_id": sessions or ["1"],
        "username": users,
        "counterpart": users,
        "person": users,
    }


def test_every_page_and_api_answer_shows_hostile_text_as_inert_data(database, hostile, tmp_path):
    client = _app(database, tmp_path)
    values = _path_values(database)
    assert values["session_id"], "the corpus broadcast made a session"
    html_text: list[str] = []
    json_values: set[str] = set()
    fetched: list[str] = []
    links: list[str] = []

    def check(path: str, must_exist: bool) -> None:
        answer = client.get(path)
        fetched.append(path)
        if not must_exist and answer.status_code == 404:
            return
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        kind = answer.headers["content-type"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        if kind.startswith("text/html"):
            problems, text, found = inert_problems(answer.text, corpus.NEEDLES)
            assert not problems, (path, problems[:5])
            html_text.append(text)
            links.extend(found)
        elif kind.startswith("application/json"):
            json_values.update(json_strings(answer.json()))
        elif kind.startswith("text/event-stream"):
            # Live updates: JSON in every data line, for our own scripts to put in as text.
            for line in answer.text.splitlines():
                if line.startswith("data:"):
                    json_values.update(json_strings(json.loads(line[5:])))
        elif "/assets/" in path:
            assert kind.startswith(("text/css", "text/javascript", "application/javascript")), (path, kind)
        else:
            assert kind.startswith(("text/plain", "text/csv", "image/")), (path, kind)

    for route in get_routes(client.app):
        for path, must_exist in fill(route, values):
            check(path, must_exist)
    # Then every local link those pages offer (tabs, filters, paging, profiles), once each.
    for href in sorted(set(local_links(links)) - set(fetched))[:300]:
        check(href, must_exist=False)
    assert any(p.startswith("/sessions/") for p in fetched) and "/" in fetched
    shown = "\n".join(html_text)
    # Escaped, not removed: the owner reads exactly what was written.
    for text in [*corpus.MARKUP, *corpus.HOSTILE_USERS]:
        assert text in shown, f"{text!r} is on no page"
    for text in corpus.MARKUP:
        assert text in json_values, f"{text!r} is in no JSON answer as data"
    assert SECRET_TOKEN not in shown and not any(SECRET_TOKEN in v for v in json_values)


def test_the_live_stream_sends_hostile_text_as_json_data_only(database, hostile, tmp_path):
    client = _app(database, tmp_path)
    answer = client.get("/events/stream?after=0")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    assert answer.headers["x-content-type-options"] == "nosniff"
    frames = [line[6:] for line in answer.text.splitlines() if line.startswith("data: ")]
    payloads = [json.loads(frame) for frame in frames]
    assert payloads
    strings = set()
    for payload in payloads:
        strings.update(json_strings(payload))
    assert any(corpus.MARKUP[0] in s for s in strings)
