"""The Dashboard's Account card, the session page and API with sampled viewers beside the Events API
reconstruction, the samples API and exports, and the Admin setting."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from greenroom.db.util import insert_ignore
from greenroom.events.store import record_batch
from greenroom.jobs.runner import JobFailed, run_now
from greenroom.sessions.models import BroadcastSession
from greenroom.sessions.service import Windows, apply_events
from greenroom.statsapi.models import StatsSample
from tests.statsapi.conftest import TOKEN, make_settings
from tests.web.web_helpers import PASSWORD, SECRET_URL, csrf_of

WINDOWS = Windows(merge_window=timedelta(minutes=30), stale_after=timedelta(hours=2))
START = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path, sim):
    return make_settings(tmp_path, owner_password=PASSWORD, timezone="Europe/Berlin", events_url=SECRET_URL,
                         stats_url=sim.stats_url)


def _envelope(at, seq, method, user=None, **obj):
    body = {"broadcaster": "alice", **obj}
    if user:
        body["user"] = {"username": user}
    return {"method": method, "id": f"{int(at.timestamp() * 1000)}-{seq}", "object": body}


def _session(database, feed_id, clock):
    events = [_envelope(START, 0, "broadcastStart", "alice")]
    for i, name in enumerate(("ann", "bob", "cy")):
        events.append(_envelope(START + timedelta(minutes=2 + i), 0, "userEnter", name))
    events.append(_envelope(START + timedelta(minutes=20), 0, "userLeave", "cy"))
    events.append(_envelope(START + timedelta(minutes=40), 0, "broadcastStop", "alice"))
    with database.write() as db:
        result = record_batch(db, feed_id=feed_id, envelopes=events, cursor=None, cursor_event_id=None,
                              received_at=clock(), lease_holder="ingester-1", lease_ttl=600)
        apply_events(db, feed_id, result.new, clock(), WINDOWS)
        return db.execute(select(BroadcastSession.id)).scalar_one()


def _samples(database, feed_id, points):
    rows = [{"feed_id": feed_id, "broadcaster": "alice", "slot": at, "sampled_at": at + timedelta(seconds=20),
             "num_viewers": viewers, "num_followers": 100, "raw": {"num_viewers": viewers}} for at, viewers in points]
    with database.write() as db:
        insert_ignore(db, StatsSample.__table__, rows, ["broadcaster", "slot"])


def test_no_account_card_without_a_stats_api_url(database, tmp_path, clock):
    from starlette.testclient import TestClient

    from greenroom.web.app import create_app
    from greenroom.web.auth import ensure_owner
    from tests.web.web_helpers import login

    plain = make_settings(tmp_path, owner_password=PASSWORD, timezone="Europe/Berlin", events_url=SECRET_URL)
    ensure_owner(database, plain)
    client = TestClient(create_app(plain, database, clock=clock))
    login(client)
    page = client.get("/")
    assert page.status_code == 200 and "data-account-card" not in page.text
    assert client.get("/api/stats/latest").json() == {"configured": False, "username": None, "url_masked": None,
                                                      "sample": None, "error": None}


def test_the_account_card_shows_the_latest_sample_and_a_failure(database, signed_in, settings, sim, clock):
    page = signed_in.get("/")
    assert "data-account-card" in page.text and 'data-account="none"' in page.text  # set, nothing yet
    run_now(database, "statsapi.sample", settings, clock=clock)
    body = signed_in.get("/api/stats/latest").json()
    sample = body["sample"]
    assert body["configured"] and body["username"] == "alice" and body["error"] is None
    assert body["url_masked"].endswith("username=alice&token=****")
    page = signed_in.get("/").text
    card = page[page.index("data-account-card"):]
    card = card[:card.index("</section>")]
    assert f'data-account="num_followers">{sample["num_followers"]:,}<' in card
    assert f'data-account="token_balance">{sample["token_balance"]:,}<' in card
    assert f'{sample["satisfaction_score"]:g} %' in card
    assert re.search(r'data-account="updated"[^>]*>16:01 CET<', card)  # 15:01 UTC in Berlin
    sim.stats.add_fault("401")
    clock.advance(minutes=5)
    with pytest.raises(JobFailed):
        run_now(database, "statsapi.sample", settings, {"attempts": 1}, clock=clock)
    page = signed_in.get("/").text
    assert "Last sample failed 16:06 CET: HTTP 401: token rejected" in page
    assert signed_in.get("/api/stats/latest").json()["error"]["message"] == "HTTP 401: token rejected"
    for path in ("/", "/api/stats/latest", "/admin?tab=settings", "/admin?tab=jobs", "/api/stats/samples"):
        assert TOKEN not in signed_in.get(path).text


def test_the_session_shows_sampled_viewers_beside_the_reconstruction(database, signed_in, feed, clock):
    session_id = _session(database, feed.feed_id, clock)
    _samples(database, feed.feed_id, [(START + timedelta(minutes=m), v) for m, v in ((5, 40), (10, 55), (15, 61))])
    _samples(database, feed.feed_id, [(START + timedelta(hours=2), 999)])  # after the session: not counted
    page = signed_in.get(f"/sessions/{session_id}").text
    assert "Registered viewers seen via the Events API" in page
    assert "Viewers sampled from the Stats API every 5 min" in page
    assert '<span data-sampled="peak">61</span>' in page
    assert '<span data-sampled="average">52.0</span>' in page
    assert '<span data-sampled="samples">3</span>' in page
    chart = page[page.index("<svg"):page.index("</svg>")]
    assert chart.count('class="line-viewers"') == 1 and chart.count('class="line-sampled"') == 1
    assert chart.count('<g class="sample">') == 3
    assert "14:10: 55 viewers sampled from the Stats API" in chart  # hover text, owner's time zone
    assert "viewers sampled (Stats API)" in page  # the legend
    api = signed_in.get(f"/api/sessions/{session_id}").json()
    assert api["sampled_viewers"]["peak"] == 61 and api["sampled_viewers"]["samples"] == 3
    assert api["sampled_viewers"]["average"] == 52.0
    assert api["stats"]["peak_viewers"] == 3  # the Events API reconstruction is unchanged
    listed = signed_in.get("/sessions?from=2000-01-01").text  # the Sessions list shows both, labelled
    row = listed[listed.index(f'data-session-id="{session_id}"'):]
    row = row[:row.index("</tr>")]
    assert "sampled 61 / 52.0" in row and "3 samples" in row
    assert "viewers sampled from the Stats API every 5 minutes" in listed


def test_a_session_without_samples_has_no_sampled_series(database, signed_in, feed, clock):
    session_id = _session(database, feed.feed_id, clock)
    page = signed_in.get(f"/sessions/{session_id}").text
    assert "Registered viewers seen via the Events API" in page
    assert "Viewers sampled from the Stats API" not in page and "line-sampled" not in page
    assert signed_in.get(f"/api/sessions/{session_id}").json()["sampled_viewers"] is None
    listed = signed_in.get("/sessions?from=2000-01-01").text
    assert f'data-session-id="{session_id}"' in listed and "data-sampled" not in listed


def test_samples_api_range_and_exports(database, signed_in, feed, clock):
    _samples(database, feed.feed_id, [(START + timedelta(minutes=5 * i), 10 + i) for i in range(6)])
    everything = signed_in.get("/api/stats/samples").json()
    assert everything["total"] == 6 and [s["num_viewers"] for s in everything["samples"]] == list(range(10, 16))
    # Bounds without a zone are in the owner's time zone (Berlin: UTC+1).
    part = signed_in.get("/api/stats/samples", params={"from": "2026-11-28T14:10", "to": "2026-11-28T14:20"}).json()
    assert [s["num_viewers"] for s in part["samples"]] == [12, 13]
    paged = signed_in.get("/api/stats/samples", params={"limit": 2, "offset": 4}).json()
    assert [s["num_viewers"] for s in paged["samples"]] == [14, 15] and paged["total"] == 6
    day = signed_in.get("/api/stats/samples", params={"from": "2026-11-28", "to": "2026-11-28"}).json()
    assert day["total"] == 6
    exported = signed_in.get("/api/stats/samples", params={"format": "csv", "from": "2026-11-28T14:10"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert 'filename="stats-samples.csv"' in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r["num_viewers"] for r in rows] == ["12", "13", "14", "15"] and rows[0]["broadcaster"] == "alice"
    as_json = signed_in.get("/api/stats/samples", params={"format": "json"})
    assert [r["num_viewers"] for r in as_json.json()] == list(range(10, 16))
    for params in ({"format": "xls"}, {"from": "yesterday"}, {"to": "2026-13-40"}):
        bad = signed_in.get("/api/stats/samples", params=params)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_request"
    assert signed_in.get("/api/stats/samples", params={"limit": 0}).status_code == 422


def test_the_setting_is_write_only_and_validated(database, signed_in, sim, clock):
    token = csrf_of(signed_in)
    bad = signed_in.post("/admin/settings", data={"csrf_token": token,
                                                  "stats_url": f"https://chaturbate.com/statsapi/?token={TOKEN}"})
    assert bad.status_code == 400
    assert "Stats API URL must look like https://chaturbate.com/statsapi/?username=NAME&amp;token=TOKEN" in bad.text
    assert TOKEN not in bad.text
    saved = signed_in.post("/admin/settings", data={"csrf_token": token, "stats_url": sim.stats_url},
                           follow_redirects=False)
    assert saved.status_code == 303
    page = signed_in.get("/admin?tab=settings").text
    assert 'data-key-state="set"' in page and TOKEN not in page
    assert "data-account-card" in signed_in.get("/").text


def test_the_openapi_documents_the_endpoints(signed_in):
    spec = signed_in.get("/api/openapi.json").json()
    for path in ("/api/stats/samples", "/api/stats/latest"):
        operation = spec["paths"][path]["get"]
        assert operation["summary"] and "200" in operation["responses"] and "401" in operation["responses"]
    schemas = spec["components"]["schemas"]
    assert {"SampleOut", "SamplesOut", "LatestOut"} <= set(schemas)
    assert "num_viewers" in schemas["SampleOut"]["properties"]


def test_an_export_streams_every_sample_past_one_page(database, signed_in, feed, clock):
    base = START - timedelta(days=10)
    _samples(database, feed.feed_id, [(base + timedelta(minutes=5 * i), i) for i in range(2_100)])
    exported = signed_in.get("/api/stats/samples", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [int(r["num_viewers"]) for r in rows] == list(range(2_100))
    assert signed_in.get("/api/stats/samples", params={"limit": 10}).json()["total"] == 2_100
