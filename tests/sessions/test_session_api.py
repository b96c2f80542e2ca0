from __future__ import annotations

import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from greenroom.config import Settings
from greenroom.web.app import create_app
from greenroom.web.auth import create_api_token, ensure_owner
from tests.sessions.roomkit import T0, Room, ingest, make_feed

NOW = T0 + timedelta(hours=3)


@pytest.fixture
def api(database, tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", owner_password="pw for the tests",
                        timezone="Europe/Berlin")
    ensure_owner(database, settings)
    with database.write() as db:
        token = create_api_token(db, "tests", now=NOW)
    client = TestClient(create_app(settings, database, clock=lambda: NOW))
    client.headers["Authorization"] = f"Bearer {token}"
    feed = make_feed(database)
    room = Room().start(0).enter(5, "bob").tip(10, "bob", 40).chat(20, "bob", "<b>hi</b>").stop(600)
    room.start(5000).tip(5100, "cat", 7).subject(5200, "new & shiny")
    ingest(database, feed, room.envelopes)
    return client


def test_the_list_is_newest_first_with_stats_and_filters(api):
    body = api.get("/api/sessions").json()
    assert body["total"] == 2
    assert [s["status"] for s in body["sessions"]] == ["active", "ended"]
    assert body["sessions"][1]["stats"]["tokens"] == 40 and body["sessions"][1]["finalize_after"]
    assert api.get("/api/sessions?status=ended").json()["total"] == 1
    assert api.get("/api/sessions?from=2026-11-01T21:10:00%2B01:00&limit=1").json()["total"] == 1
    assert api.get("/api/sessions?status=bogus").status_code == 400


def test_current_and_detail_show_the_live_session_with_segments_and_timeline(api):
    current = api.get("/api/sessions/current").json()["session"]
    assert current["status"] == "active"
    detail = api.get(f"/api/sessions/{current['id']}").json()
    assert detail["segments"][0]["end"] is None and detail["timeline"] and detail["summary"] is None
    assert detail["notes"] == "" and detail["tags"] == []
    assert api.get("/api/sessions/999").status_code == 404


def test_manual_controls_answer_with_the_changed_session(api):
    live = api.get("/api/sessions/current").json()["session"]["id"]
    assert api.post(f"/api/sessions/{live}/end").json()["status"] == "ended"
    assert api.post(f"/api/sessions/{live}/end").status_code == 409
    assert api.post(f"/api/sessions/{live}/reopen").json()["status"] == "active"
    merged = api.post(f"/api/sessions/{live}/merge", json={"direction": "previous"}).json()
    assert merged["stats"]["tokens"] == 47 and len(merged["segments"]) == 2
    split = api.post(f"/api/sessions/{merged['id']}/split", json={"at": (T0 + timedelta(seconds=4000)).isoformat()})
    assert split.json()["stats"]["tokens"] == 7
    noted = api.put(f"/api/sessions/{merged['id']}/notes", json={"notes": "x", "tags": ["A", "a", "b"]}).json()
    assert noted["tags"] == ["a", "b"] and noted["notes"] == "x"
    assert api.post(f"/api/sessions/{merged['id']}/split", json={"at": "2026-11-01T20:00:00"}).status_code == 422


def test_pages_render_badges_numbers_and_an_escaped_chart(api):
    page = api.get("/sessions")
    assert page.status_code == 200 and "Live" in page.text and ">Ended<" in page.text
    sid = api.get("/api/sessions?status=ended").json()["sessions"][0]["id"]
    detail = api.get(f"/sessions/{sid}")
    assert "<svg" in detail.text and "&lt;b&gt;hi&lt;/b&gt;" in detail.text and "<b>hi</b>" not in detail.text
    assert re.search(r'data-stat="tokens">\s*40', detail.text)
    bob = r'href="/people/bob">bob</a>(\s*<span class="badges">.*?</span>)?\s*<span class="chip chip-follow">new</span>'
    assert re.search(bob, detail.text)
    live = api.get("/api/sessions/current").json()["session"]["id"]
    assert "new &amp; shiny" in api.get(f"/sessions/{live}").text
    assert api.get(f"/sessions/{sid}?type=tip").status_code == 200
