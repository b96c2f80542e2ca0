"""The Summary block in a real browser: the offline summary appears and is rerun from the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from greenroom.config import Settings
from greenroom.events.store import record_batch
from greenroom.jobs.worker import Worker
from greenroom.sessions.service import Windows, apply_events, finalize_due

pytestmark = pytest.mark.browser
WINDOWS = Windows(merge_window=timedelta(minutes=30), stale_after=timedelta(hours=2))
SHOTS = Path("/tmp/greenroom-shots")


def _envelope(at, seq, method, user=None, **obj):
    body = {"broadcaster": "alice", **obj}
    if user:
        body["user"] = {"username": user}
    return {"method": method, "id": f"{int(at.timestamp() * 1000)}-{seq}", "object": body}


def _sign_in(page, base, path):
    page.goto(base + path)
    page.fill("#password", "browser test password")
    page.click("button[type=submit]")
    expect(page).to_have_url(base + path)


def _finished_session(live) -> int:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    tip = {"isAnon": False, "message": ""}
    envelopes = [
        _envelope(start, 0, "broadcastStart", "alice"),
        _envelope(start + timedelta(minutes=1), 0, "userEnter", "MidnightOwl"),
        _envelope(start + timedelta(minutes=2), 0, "tip", "MidnightOwl", tip={"tokens": 1200, **tip}),
        _envelope(start + timedelta(minutes=3), 0, "userEnter", "Regular_Ray"),
        _envelope(start + timedelta(minutes=4), 0, "tip", "Regular_Ray", tip={"tokens": 50, **tip}),
        _envelope(start + timedelta(minutes=5), 0, "chatMessage", "Regular_Ray",
                  message={"message": "<b>bold?</b> no", "color": "", "font": "default"}),
        _envelope(start + timedelta(minutes=90), 0, "broadcastStop", "alice"),
    ]
    now = datetime.now(UTC)
    with live.database.write() as db:
        result = record_batch(db, feed_id=live.feed_id, envelopes=envelopes, cursor=None, cursor_event_id=None,
                              received_at=now, lease_holder="browser-test", lease_ttl=3600)
        [sid] = apply_events(db, live.feed_id, result.new, now, WINDOWS)
        finalize_due(db, now)
    return sid


def test_the_offline_summary_shows_on_the_session_page_and_is_rerun_from_there(live_server, page, tmp_path):
    sid = _finished_session(live_server)
    worker = Worker(live_server.database, Settings(_env_file=None, data_dir=tmp_path, timezone="Europe/Berlin"),
                    poll_interval=0.01, lease=timedelta(seconds=30))
    _sign_in(page, live_server.url, f"/sessions/{sid}")
    block = page.locator("[data-summary]")
    expect(block.locator("[data-summary-writing]")).to_have_text("Being written…")
    expect(page.locator("[data-badge]")).to_have_text("Finalizing")

    worker.run_once()
    page.reload()
    expect(page.locator("[data-badge]")).to_have_text("Finalized")
    text = block.locator("[data-summary-text]")
    expect(text).to_contain_text("The top tipper was midnightowl with 1,200 tokens")
    expect(text).to_contain_text("1,250 tokens in total")
    expect(block.locator("[data-summary-meta]")).to_contain_text("Written by offline")
    expect(block.locator("[data-summary-check]")).to_have_count(0)
    SHOTS.mkdir(exist_ok=True)
    block.screenshot(path=str(SHOTS / "summary-block.png"))

    block.locator("[data-summary-regenerate]").click()
    expect(page).to_have_url(f"{live_server.url}/sessions/{sid}#summary")
    expect(block.locator("[data-summary-writing]")).to_be_visible()
    worker.run_once()
    page.reload()
    expect(block.locator("[data-summary-meta]")).to_contain_text("version 2")
    block.locator("details.summary-older summary").click()
    expect(block.locator("[data-summary-version='1']")).to_contain_text("midnightowl")
    block.screenshot(path=str(SHOTS / "summary-block-v2.png"))
