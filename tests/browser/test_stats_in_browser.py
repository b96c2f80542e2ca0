"""The Stats API in a real browser: the owner saves the URL in Admin › Settings, a sample is taken
from the simulator's Stats API over loopback, the Dashboard shows the Account card, and a session's
chart draws the sampled viewers as a second, labelled series with hover text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from greenroom.config import Settings
from greenroom.db.util import insert_ignore
from greenroom.events.store import record_batch
from greenroom.jobs.runner import run_now
from greenroom.sessions.service import Windows, apply_events
from greenroom.simulator.cli import start_demo_simulator
from greenroom.statsapi.models import StatsSample

pytestmark = pytest.mark.browser
TOKEN = "BrowserStatsToken0123456"
WINDOWS = Windows(merge_window=timedelta(minutes=30), stale_after=timedelta(hours=2))


def _sign_in(page, base, path):
    page.goto(base + path)
    page.fill("#password", "browser test password")
    page.click("button[type=submit]")
    expect(page).to_have_url(base + path)


def _envelope(at, seq, method, user):
    return {"method": method, "id": f"{int(at.timestamp() * 1000)}-{seq}",
            "object": {"broadcaster": "alice", "user": {"username": user}}}


def test_the_account_card_and_the_sampled_series_on_the_session_chart(live_server, page, tmp_path):
    sim = start_demo_simulator(seed=4, speed=60, token=TOKEN, history_days=1, live_days=0.5)
    try:
        _sign_in(page, live_server.url, "/admin?tab=settings")
        page.fill("#set-stats_url", sim.stats_url)
        page.click("form[data-settings] button[type=submit]")
        expect(page.locator(".notice")).to_have_text("Settings saved.")
        expect(page.locator("#set-stats_url")).to_have_attribute("data-key-state", "set")
        assert TOKEN not in page.content()

        settings = Settings(_env_file=None, data_dir=tmp_path / "worker")  # the URL comes from the saved setting
        result = run_now(live_server.database, "statsapi.sample", settings)
        assert result["sampled"] == "alice"

        page.goto(live_server.url + "/")
        card = page.locator("[data-account-card]")
        expect(card).to_be_visible()
        expect(card.locator("h2")).to_have_text("Account")
        followers = card.locator('[data-account="num_followers"]').inner_text()
        assert followers.replace(",", "").isdigit() and int(followers.replace(",", "")) > 0
        expect(card.locator('[data-account="satisfaction_score"]')).to_contain_text("%")
        with live_server.database.read() as db:
            taken = db.execute(select(StatsSample.sampled_at)).scalar_one()
        expect(card.locator('[data-account="updated"]')).to_have_text(
            taken.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M %Z"))
        assert TOKEN not in page.content()
        page.screenshot(path="/tmp/greenroom-stats-dashboard.png", full_page=True)
    finally:
        sim.stop()

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    envelopes = [_envelope(start, 0, "broadcastStart", "alice")]
    envelopes += [_envelope(start + timedelta(minutes=3 + i), 0, "userEnter", f"fan{i}") for i in range(4)]
    envelopes.append(_envelope(start + timedelta(minutes=30), 0, "broadcastStop", "alice"))
    with live_server.database.write() as db:
        stored = record_batch(db, feed_id=live_server.feed_id, envelopes=envelopes, cursor=None, cursor_event_id=None,
                              received_at=datetime.now(UTC), lease_holder="browser-test", lease_ttl=3600)
        apply_events(db, live_server.feed_id, stored.new, datetime.now(UTC), WINDOWS)
        insert_ignore(db, StatsSample.__table__, [
            {"feed_id": live_server.feed_id, "broadcaster": "alice", "slot": start + timedelta(minutes=m),
             "sampled_at": start + timedelta(minutes=m, seconds=10), "num_viewers": v, "raw": {"num_viewers": v}}
            for m, v in ((5, 12), (10, 18), (15, 25), (20, 21))], ["broadcaster", "slot"])

    page.goto(live_server.url + "/sessions")
    page.locator("table[data-sessions] tbody tr[data-session-id] a").first.click()
    expect(page.locator('[data-viewers="events"]')).to_contain_text("peak 4")
    expect(page.locator('[data-viewers="sampled"]')).to_contain_text("peak 25 · average 19.0 · 4 samples")
    chart = page.locator("svg.timeline-chart")
    expect(chart).to_be_visible()
    expect(chart.locator(".line-viewers")).to_have_count(1)
    expect(chart.locator(".line-sampled")).to_have_count(1)
    expect(chart.locator("g.sample")).to_have_count(4)
    assert "viewers sampled from the Stats API" in chart.locator("g.sample title").nth(2).text_content()
    expect(page.locator(".legend")).to_contain_text("viewers sampled (Stats API)")
    box = chart.locator("g.sample circle").nth(2).bounding_box()
    assert box is not None and box["width"] > 0  # drawn inside the chart, not off-canvas
    page.screenshot(path="/tmp/greenroom-stats-session.png", full_page=True)
