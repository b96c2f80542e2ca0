"""The Summary block on the session page and its JSON API."""

from __future__ import annotations

from datetime import timedelta

from greenroom.jobs.worker import Worker
from greenroom.sessions.service import apply_events, finalize_due
from tests.sessions.roomkit import WINDOWS, Room
from tests.web.web_helpers import csrf_of


def make_session(database, feed, *, stop=True):
    from greenroom.events.store import record_batch

    room = Room().start(0).enter(30, "MidnightOwl").tip(60, "MidnightOwl", 300)
    room.chat(90, "MidnightOwl", "<script>alert(1)</script>")
    if stop:
        room.stop(1200)
    feed()  # the feed row exists
    with database.write() as db:
        from tests.sessions.roomkit import T0

        result = record_batch(db, feed_id=feed.feed_id, envelopes=room.envelopes, cursor=None, cursor_event_id=None,
                              received_at=T0 + timedelta(hours=1), lease_holder="ingester-1", lease_ttl=600)
        [sid] = apply_events(db, feed.feed_id, result.new, T0 + timedelta(hours=1), WINDOWS)
        if stop:
            finalize_due(db, T0 + timedelta(hours=1))
    return sid


def drain(database, app, clock):
    Worker(database, app.state.settings, clock=clock, poll_interval=0.01, lease=timedelta(seconds=30)).run_once()


def test_the_session_page_shows_the_offline_summary_and_regenerating_keeps_the_old_version(
        signed_in, database, app, clock, feed):
    sid = make_session(database, feed)
    assert "Being written…" in signed_in.get(f"/sessions/{sid}").text
    drain(database, app, clock)
    page = signed_in.get(f"/sessions/{sid}").text
    assert 'data-summary-state="ok"' in page
    assert "The top tipper was midnightowl with 300 tokens" in page
    assert "Written by offline" in page and "Regenerate" in page
    api = signed_in.get(f"/api/sessions/{sid}/summary").json()
    assert api["state"] == "ok" and api["latest"]["numbers_check"] == "passed" and api["older"] == []

    response = signed_in.post(f"/sessions/{sid}/summary/regenerate", data={"csrf_token": csrf_of(signed_in)},
                              follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/sessions/{sid}#summary"
    assert 'data-summary-state="writing"' in signed_in.get(f"/sessions/{sid}").text
    drain(database, app, clock)
    api = signed_in.get(f"/api/sessions/{sid}/summary").json()
    assert api["latest"]["version"] == 2 and [v["version"] for v in api["older"]] == [1]
    assert "Earlier versions (1)" in signed_in.get(f"/sessions/{sid}").text
    assert signed_in.get(f"/api/sessions/{sid}").json()["summary"]["version"] == 2


def test_a_live_session_has_no_summary_and_cannot_be_regenerated(signed_in, database, feed):
    sid = make_session(database, feed, stop=False)
    page = signed_in.get(f"/sessions/{sid}").text
    assert 'data-summary-state="live"' in page and "data-summary-regenerate" not in page
    response = signed_in.post(f"/api/sessions/{sid}/summary/regenerate", headers={"X-CSRF-Token": csrf_of(signed_in)})
    assert response.status_code == 409 and "live" in response.json()["error"]["message"]


def test_an_unavailable_summary_shows_its_reason_and_a_retry(signed_in, database, app, clock, feed):
    from greenroom.prefs.service import save

    sid = make_session(database, feed)
    with database.write() as db:
        save(db, {"summary_provider": "openai"}, clock())
    drain(database, app, clock)
    page = signed_in.get(f"/sessions/{sid}").text
    assert "Unavailable: no OpenAI API key is set" in page and ">Retry<" in page
    response = signed_in.post(f"/api/sessions/{sid}/summary/regenerate", headers={"X-CSRF-Token": csrf_of(signed_in)})
    assert response.status_code == 202 and response.json()["state"] == "writing"


def test_a_summary_of_an_unknown_session_is_a_404(signed_in):
    assert signed_in.get("/api/sessions/424242/summary").status_code == 404
