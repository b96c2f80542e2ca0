"""People, Profile, Inbox, Visitors and Live in a real browser (chromium through Playwright)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from greenroom.events.store import record_batch
from greenroom.ingest.pipeline import load_steps, process_new_events

pytestmark = pytest.mark.browser
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


class Room:
    def __init__(self) -> None:
        self.base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
        self.seq = 0
        self.envelopes: list[dict] = []

    def add(self, minutes: float, method: str, user=None, broadcaster: str = "alice", **obj):
        self.seq += 1
        at = self.base + timedelta(minutes=minutes)
        body = {"broadcaster": broadcaster, **obj}
        if user is not None:
            body["user"] = user if isinstance(user, dict) else {"username": user}
        self.envelopes.append({"method": method, "id": f"{int(at.timestamp() * 1000)}-{self.seq}", "object": body})
        return self


def _ingest(live, envelopes):
    load_steps()
    now = datetime.now(UTC)
    with live.database.write() as db:
        result = record_batch(db, feed_id=live.feed_id, envelopes=envelopes, cursor=None, cursor_event_id=None,
                              received_at=now, lease_holder="browser-test", lease_ttl=3600)
        process_new_events(db, live.feed_id, result.new, now)


def _sign_in(page, base, path):
    page.goto(base + path)
    page.fill("#password", "browser test password")
    page.click("button[type=submit]")
    expect(page).to_have_url(base + path)


def _watch_dialogs(page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


def _room():
    r = Room()
    r.add(0, "broadcastStart", "alice")
    r.add(1, "userEnter", {"username": "MidnightOwl", "inFanclub": True, "isMod": True, "gender": "m"})
    r.add(2, "tip", "MidnightOwl", tip={"tokens": 250, "isAnon": False, "message": IMG})
    r.add(3, "chatMessage", "MidnightOwl", message={"message": SCRIPT, "color": "", "font": "default"})
    r.add(4, "userEnter", {"username": "StarGirl", "isBroadcasting": True})
    r.add(5, "userEnter", "midnightmoth")
    r.add(6, "privateMessage", "midnightmoth", message={"message": IMG, "fromUser": "midnightmoth", "toUser": "alice"})
    r.add(7, "privateMessage", "alice", message={"message": "thanks, you!", "fromUser": "alice",
                                                  "toUser": "midnightmoth"})
    r.add(8, "privateMessage", "midnightmoth", broadcaster="",
          message={"message": "see you tomorrow", "fromUser": "midnightmoth", "toUser": "alice"})
    return r.envelopes


def test_people_search_filters_and_renders_hostile_text_as_text(live_server, page):
    dialogs = _watch_dialogs(page)
    _ingest(live_server, _room())
    _sign_in(page, live_server.url, "/people")
    rows = page.locator("table[data-people] tbody tr")
    expect(rows).to_have_count(3)
    page.fill("[data-people-search]", "midn")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(2)
    expect(page.locator(".page-head .muted")).to_have_text("1–2 of 2")
    page.click("a.fchip:has-text('Models')")
    expect(rows).to_have_count(0)
    expect(page.locator("[data-empty]")).to_contain_text("No one matches “midn”")
    page.click("text=Clear filters")
    page.click("a.fchip:has-text('Models')")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("[data-badge=model]")).to_have_text("Model")
    page.goto(live_server.url + "/people?sort=tokens")
    first = page.locator("table[data-people] tbody tr").first
    expect(first.locator(".person-link")).to_have_text("MidnightOwl")
    expect(first.locator("[data-badge=fanclub]")).to_have_text("Fan club")
    expect(first.locator("[data-badge=mod]")).to_have_text("Mod")
    page.screenshot(path="/tmp/greenroom-people.png", full_page=True)
    assert dialogs == []


def test_the_profile_shows_the_placeholder_and_a_relationship_edit_adds_history(live_server, page):
    dialogs = _watch_dialogs(page)
    _ingest(live_server, _room())
    _sign_in(page, live_server.url, "/people/midnightowl")
    image = page.locator("[data-profile-image]")
    expect(image).to_have_attribute("alt", "Viewer placeholder")
    assert image.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.locator("[data-stat=lifetime_tokens]")).to_have_text("250")
    timeline = page.locator("table[data-timeline] tbody tr")
    expect(timeline).to_have_count(3)
    expect(timeline.nth(0).locator(".col-detail")).to_have_text(SCRIPT)
    expect(timeline.nth(1).locator(".col-detail")).to_have_text("250 tokens — " + IMG)
    expect(page.locator("[data-history]")).to_have_count(0)

    form = page.locator("[data-relationship-form]")
    form.locator("input[value=friend]").check()
    form.locator("select[name=status]").select_option("active")
    form.locator("input[name=traits]").fill("generous, <b>bold</b>")
    form.locator("button[type=submit]").click()
    history = page.locator("[data-history] li")
    expect(history).to_have_count(3)
    expect(page.locator("[data-badges] [data-badge=friend]")).to_have_text("Friend")
    form = page.locator("[data-relationship-form]")
    form.locator("select[name=status]").select_option("banished")
    form.locator("button[type=submit]").click()
    expect(history).to_have_count(4)
    expect(history.first).to_contain_text("Status: Active → Banished")
    expect(page.locator("[data-badges] [data-badge=status-banished]")).to_have_text("Banished")

    page.fill("#new-note", "likes " + SCRIPT)
    page.click("text=Add note")
    expect(page.locator("[data-notes] .note-body").first).to_have_text("likes " + SCRIPT)
    page.screenshot(path="/tmp/greenroom-profile.png", full_page=True)
    page.goto(live_server.url + "/people/stargirl")
    expect(page.locator("[data-profile-image]")).to_have_attribute("alt", "Model placeholder")
    page.goto(live_server.url + "/people/nobody")
    expect(page.locator("h1")).to_have_text("Never seen “nobody”")
    assert page.locator("b, script:not([src])").count() == 0
    assert dialogs == []


def test_the_inbox_threads_messages_marks_read_and_labels_direct_messages(live_server, page):
    dialogs = _watch_dialogs(page)
    _ingest(live_server, _room())
    _sign_in(page, live_server.url, "/inbox")
    threads = page.locator("[data-threads] li")
    expect(threads).to_have_count(1)
    expect(threads.first).to_have_class("unread")
    threads.first.locator("a").click()
    bubbles = page.locator("[data-bubbles] .bubble")
    expect(bubbles).to_have_count(3)
    expect(bubbles.nth(0)).to_contain_text(IMG)
    expect(bubbles.nth(1)).to_have_attribute("data-direction", "out")
    expect(bubbles.nth(2)).to_contain_text("Direct message")
    expect(page.locator("[data-threads] li").first).not_to_have_class("unread")
    page.screenshot(path="/tmp/greenroom-inbox.png", full_page=True)
    page.fill("#inbox-search", "TOMORROW")
    page.keyboard.press("Enter")
    expect(page.locator("[data-search-hits] li")).to_have_count(1)
    assert page.locator("[data-bubbles] img, [data-search-hits] img").count() == 0
    assert dialogs == []


def test_the_live_page_shows_who_is_in_the_room_and_alerts_by_push(live_server, page):
    dialogs = _watch_dialogs(page)
    _ingest(live_server, _room()[:2])
    _sign_in(page, live_server.url, "/live")
    room = page.locator("#room-rows tr")
    expect(room).to_have_count(1)
    expect(page.locator("[data-room-connection]")).to_have_text("Connected", timeout=10_000)
    page.evaluate("window.__sameDocument = true")
    page.click("#rules summary")
    page.select_option("select[name=kind]", "big_spender_entered")
    page.fill("input[name=threshold]", "100")
    page.click("text=Add rule")
    expect(page.locator("[data-room-connection]")).to_have_text("Connected", timeout=10_000)
    page.evaluate("window.__sameDocument = true")

    r = Room()
    r.add(10, "tip", "MidnightOwl", tip={"tokens": 500, "isAnon": False, "message": ""})
    r.add(11, "userEnter", {"username": "<b>Mallory</b>", "isMod": True})
    r.add(12, "userLeave", "MidnightOwl")
    r.add(13, "userEnter", "MidnightOwl")
    _ingest(live_server, r.envelopes)
    expect(page.locator("[data-alerts] li")).to_have_count(1, timeout=10_000)
    expect(page.locator("[data-alerts] li span")).to_have_text("Big tipper entered: MidnightOwl — 500 lifetime")
    expect(room).to_have_count(2)
    expect(room.nth(0).locator("a")).to_have_text("<b>Mallory</b>")
    expect(room.nth(0).locator("[data-badge=mod]")).to_have_text("Mod")
    expect(room.nth(1).locator("td").nth(2)).to_have_text("500")
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#room-rows b").count() == 0
    page.screenshot(path="/tmp/greenroom-live.png", full_page=True)
    _ingest(live_server, Room().add(20, "broadcastStop", "alice").envelopes)
    expect(page.locator("[data-room-state]")).to_have_text("You're offline", timeout=10_000)
    expect(room).to_have_count(0)
    page.goto(live_server.url + "/visitors?period=24h")
    expect(page.locator("table[data-visitors] tbody tr")).to_have_count(2)
    page.screenshot(path="/tmp/greenroom-visitors.png", full_page=True)
    assert dialogs == []
