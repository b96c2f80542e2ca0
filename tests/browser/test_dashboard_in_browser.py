from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
START = 1_764_340_000_000


def _tip(i, username, tokens, note=""):
    return {"method": "tip", "id": f"{START + i}-0",
            "object": {"broadcaster": "alice", "user": {"username": username},
                       "tip": {"tokens": tokens, "isAnon": False, "message": note}}}


def _chat(i, username, text):
    return {"method": "chatMessage", "id": f"{START + i}-0",
            "object": {"broadcaster": "alice", "user": {"username": username},
                       "message": {"message": text, "color": "#494949", "font": "default"}}}


def _other(i, method, username):
    return {"method": method, "id": f"{START + i}-0",
            "object": {"broadcaster": "alice", "user": {"username": username}}}


def _sign_in(page, base, password="browser test password"):
    page.goto(base + "/")
    expect(page).to_have_url(base + "/login?next=%2F")
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(base + "/")


def test_signing_in_leads_to_the_dashboard_and_a_new_event_appears_without_reload(live_server, page):
    live_server.store(_other(1, "userEnter", "MidnightOwl"), _tip(2, "MidnightOwl", 50, "great show"),
                      _other(3, "follow", "quietfan"), _chat(4, "Regular_Ray", "evening everyone!"))
    _sign_in(page, live_server.url)
    rows = page.locator("#event-rows tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("evening everyone!")
    expect(page.locator("[data-live-indicator]")).to_have_text("Live")
    page.evaluate("window.__sameDocument = true")  # survives only if the page is not reloaded

    live_server.store(_tip(5, "BigSpender", 500, "| for the goal"))
    expect(rows.first).to_contain_text("500 tokens — for the goal", timeout=10_000)
    expect(rows.first.locator(".chip")).to_have_text("Tip")
    expect(rows).to_have_count(5)
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator(".demo-label").first).to_be_visible()
    page.screenshot(path="/tmp/greenroom-dashboard.png", full_page=True)


def test_hostile_chat_renders_as_text_on_load_and_when_it_arrives_live(live_server, page):
    hostile = "<img src=x onerror=alert(1)>"
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    live_server.store(_chat(1, "mallory", hostile))
    _sign_in(page, live_server.url)
    expect(page.locator("#event-rows tr").first.locator(".col-detail")).to_have_text(hostile)
    expect(page.locator("[data-live-indicator]")).to_have_text("Live")

    live_server.store(_chat(2, "<b>mallory</b>", hostile + " again"))
    first = page.locator("#event-rows tr").first
    expect(first.locator(".col-detail")).to_have_text(hostile + " again", timeout=10_000)
    expect(first.locator(".col-user")).to_have_text("<b>mallory</b>")
    assert page.locator("#event-rows img, #event-rows b").count() == 0
    assert dialogs == []


def test_a_wrong_password_shows_one_generic_error(live_server, page):
    page.goto(live_server.url + "/login")
    page.fill("#password", "not it")
    page.click("button[type=submit]")
    expect(page.locator(".form-error")).to_have_text("Sign-in failed. Check the password and try again.")


def test_the_slash_key_focuses_search_and_narrow_screens_get_one_column(live_server, page):
    live_server.store(_tip(1, "someone", 5))
    _sign_in(page, live_server.url)
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.set_viewport_size({"width": 390, "height": 800})
    cards = page.locator(".grid > .card")
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert second["y"] >= first["y"] + first["height"] - 1  # stacked, not side by side
    page.screenshot(path="/tmp/greenroom-dashboard-narrow.png", full_page=True)
