"""The Leaderboards page in a real browser (chromium through Playwright)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_people_in_browser import Room, _ingest, _sign_in, _watch_dialogs

pytestmark = pytest.mark.browser
SCRIPT = "<script>alert(1)</script>"


def _room():
    r = Room()
    r.add(0, "broadcastStart", "alice")
    r.add(1, "userEnter", {"username": "MidnightOwl", "inFanclub": True})
    r.add(2, "userEnter", "HiddenHeart")
    r.add(3, "userEnter", SCRIPT)
    r.add(4, "tip", "MidnightOwl", tip={"tokens": 250, "isAnon": False, "message": "hi"})
    r.add(5, "tip", "HiddenHeart", tip={"tokens": 300, "isAnon": True, "message": ""})
    r.add(6, "tip", SCRIPT, tip={"tokens": 250, "isAnon": False, "message": ""})
    r.add(7, "chatMessage", SCRIPT, message={"message": "hello", "color": "", "font": "default"})
    r.add(9, "broadcastStop", "alice")
    return r.envelopes


def test_tabs_shareable_toggle_and_export_of_the_page(live_server, page):
    dialogs = _watch_dialogs(page)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _ingest(live_server, _room())
    _sign_in(page, live_server.url, "/leaderboards")
    rows = page.locator("table[data-leaderboard] tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_attribute("data-username", "hiddenheart")
    expect(rows.nth(0).locator("[data-anon]")).to_have_text("anon 300")
    # equal totals: MidnightOwl tipped first, so ranks above the later tipper
    expect(rows.nth(1).locator(".person-link")).to_have_text("MidnightOwl")
    expect(rows.nth(1).locator("[data-badge=fanclub]")).to_have_text("Fan club")
    expect(rows.nth(2).locator(".person-link")).to_have_text(SCRIPT)
    expect(page.locator("[data-tie-break]")).to_contain_text("reached the total first")

    page.click("[data-shareable-toggle]")
    expect(page.locator("[data-shareable-toggle]")).to_have_attribute("aria-pressed", "true")
    expect(rows.nth(0)).to_have_attribute("data-anonymous", "")
    expect(rows.nth(0)).to_contain_text("Anonymous")
    assert "hiddenheart" not in page.content().lower()
    with page.expect_download() as info:
        page.click("[data-export=csv]")
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert [(r["rank"], r["display_name"]) for r in exported] == [("1", "Anonymous"), ("2", "MidnightOwl"),
                                                                   ("3", SCRIPT)]
    assert "hiddenheart" not in text.lower()

    page.click("a.fchip:has-text('Chat')")
    expect(rows).to_have_count(1)
    expect(page.locator("[data-shareable-toggle]")).to_have_attribute("aria-pressed", "true")
    page.click("nav.tabs a:has-text('Last week')")
    expect(page.locator("[data-empty]")).to_contain_text("Nobody wrote in the public chat in last week")
    page.click("[data-earlier]")
    expect(page.locator("[data-period-label]")).to_contain_text("2 weeks ago")
    page.click("nav.tabs a:has-text('Session')")
    expect(page.locator("[data-session-picker] option")).to_have_count(1)
    page.click("nav.tabs a:has-text('All time')")
    page.click("a.fchip:has-text('Watch time')")
    expect(rows).to_have_count(3)
    page.screenshot(path="/tmp/greenroom-leaderboards.png", full_page=True)
    assert dialogs == [] and errors == []


def test_dashboard_card_links_to_the_page(live_server, page):
    _ingest(live_server, _room())
    _sign_in(page, live_server.url, "/")
    card = page.locator("[data-leaders-card]")
    expect(card.locator("[data-leaders=session] li")).to_have_count(3)
    card.locator("text=All leaderboards").click()
    expect(page).to_have_url(live_server.url + "/leaderboards")
