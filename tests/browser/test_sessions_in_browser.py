from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from greenroom.events.store import record_batch
from greenroom.sessions.service import Windows, apply_events, finalize_due

pytestmark = pytest.mark.browser
WINDOWS = Windows(merge_window=timedelta(minutes=30), stale_after=timedelta(hours=2))


def _envelope(at: datetime, seq: int, method: str, user: str | None = None, **obj):
    body = {"broadcaster": "alice", **obj}
    if user:
        body["user"] = {"username": user}
    return {"method": method, "id": f"{int(at.timestamp() * 1000)}-{seq}", "object": body}


def _ingest(live, envelopes):
    now = datetime.now(UTC)
    with live.database.write() as db:
        result = record_batch(db, feed_id=live.feed_id, envelopes=envelopes, cursor=None, cursor_event_id=None,
                              received_at=now, lease_holder="browser-test", lease_ttl=3600)
        apply_events(db, live.feed_id, result.new, now, WINDOWS)


def _sign_in(page, base, path):
    page.goto(base + path)
    page.fill("#password", "browser test password")
    page.click("button[type=submit]")
    expect(page).to_have_url(base + path)


def test_the_sessions_list_and_a_session_detail_show_badges_numbers_and_a_chart(live_server, page):
    now = datetime.now(UTC).replace(microsecond=0)
    old = now - timedelta(days=1)
    done = [
        _envelope(old, 0, "broadcastStart", "alice"),
        _envelope(old + timedelta(minutes=1), 0, "userEnter", "MidnightOwl"),
        _envelope(old + timedelta(minutes=2), 0, "tip", "MidnightOwl", tip={"tokens": 250, "isAnon": False,
                                                                            "message": ""}),
        _envelope(old + timedelta(minutes=7), 0, "chatMessage", "MidnightOwl",
                  message={"message": "<img src=x onerror=alert(1)>", "color": "", "font": "default"}),
        _envelope(old + timedelta(minutes=12), 0, "tip", "quietfan", tip={"tokens": 50, "isAnon": True,
                                                                          "message": ""}),
        _envelope(old + timedelta(minutes=20), 0, "broadcastStop", "alice"),
    ]
    recent = now - timedelta(hours=3)
    ended = [_envelope(recent, 0, "broadcastStart", "alice"), _envelope(recent + timedelta(minutes=5), 0,
                                                                         "broadcastStop", "alice")]
    live = [_envelope(now - timedelta(minutes=10), 0, "broadcastStart", "alice"),
            _envelope(now - timedelta(minutes=9), 0, "tip", "Regular_Ray", tip={"tokens": 7, "isAnon": False,
                                                                                  "message": ""})]
    _ingest(live_server, done)
    with live_server.database.write() as db:
        finalize_due(db, now - timedelta(hours=20))
    _ingest(live_server, ended)
    _ingest(live_server, live)

    _sign_in(page, live_server.url, "/sessions")
    rows = page.locator("table[data-sessions] tbody tr[data-session-id]")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator("[data-badge]")).to_have_text("Live")
    expect(rows.nth(1).locator("[data-badge]")).to_have_text("Ended")
    assert rows.nth(1).locator("[data-badge]").evaluate("e => getComputedStyle(e).color") == "rgb(154, 52, 18)"
    expect(rows.nth(2).locator("[data-badge]")).to_have_text("Finalizing")
    expect(rows.nth(2).locator('[data-stat="tokens"]')).to_have_text("300")

    rows.nth(2).locator("a").first.click()
    expect(page.locator("h1")).to_contain_text("Sessions")
    expect(page.locator('[data-stat="tokens"]')).to_have_text("300")
    expect(page.locator('[data-stat="biggest_tip"]')).to_have_text("250")
    expect(page.locator("[data-top-tippers] li").nth(1)).to_contain_text("anonymous")
    chart = page.locator("svg.timeline-chart")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar-tokens").count() == 5
    expect(page.locator("svg.timeline-chart .line-viewers")).to_have_count(1)
    expect(page.get_by_text("<img src=x onerror=alert(1)>")).to_be_visible()  # chat shown as text

    page.get_by_role("link", name="Tips").click()
    expect(page.locator("table.events tbody tr")).to_have_count(2)

    page.goto(live_server.url + "/sessions?status=active")
    page.locator("table[data-sessions] tbody tr[data-session-id] a").first.click()
    expect(page.locator("[data-badge]")).to_have_text("Live")
    end_form = page.locator("form:has(button[data-action=end])")
    end_form.locator("input[name=confirmed]").check()
    end_form.locator("button").click()
    expect(page.locator("[data-badge]")).to_have_text("Ended")
    expect(page.get_by_text("may resume until")).to_be_visible()
