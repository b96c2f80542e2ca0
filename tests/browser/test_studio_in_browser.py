"""Studio mode in a real browser: a room added in Admin › Rooms, the switcher in the top bar
(submitted by static/app.js on change, no inline script), the choice kept across pages, and a
removal confirmed by typing the room's name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/greenroom-shots")
TOKEN = "Browser-room-token-0123456789"


def test_adding_a_room_switching_to_it_and_removing_it(live_server, page):
    SHOTS.mkdir(exist_ok=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    base = live_server.url
    page.goto(base + "/admin?tab=rooms")
    page.fill("#password", "browser test password")
    page.click("button[type=submit]")
    expect(page).to_have_url(base + "/admin?tab=rooms")
    expect(page.locator(".room-switcher")).to_have_count(0)  # one room (the demo): its name only
    expect(page.locator(".room-name")).to_have_text("alice")

    page.fill("#room-url", f"https://eventsapi.chaturbate.com/events/bob/{TOKEN}/")
    page.click("[data-room-add] button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("bob's room")
    expect(page.locator('[data-room="bob"]')).to_contain_text("eventsapi.chaturbate.com/events/bob/****/")
    assert TOKEN not in page.content()
    page.screenshot(path=str(SHOTS / "admin-rooms.png"), full_page=True)

    # The switcher: picking a room is enough (the script submits the form), and the choice sticks.
    switcher = page.locator("#room-switch")
    expect(switcher).to_be_visible()
    expect(page.locator(".room-switch-go")).to_be_hidden()
    switcher.select_option("bob")
    expect(page).to_have_url(re.compile(r"/admin\?room=bob$"))
    expect(page.locator("#room-switch")).to_have_value("bob")
    page.goto(base + "/people")
    expect(page.locator("#room-switch")).to_have_value("bob")
    page.goto(base + "/people?room=alice")
    expect(page.locator("#room-switch")).to_have_value("alice")
    page.goto(base + "/people?room=nobody")
    expect(page.locator("main")).to_contain_text("no room named")
    assert errors == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    errors.clear()  # that 404 was asked for

    page.goto(base + "/admin?tab=rooms")
    row = page.locator('[data-room="bob"]')
    row.locator("summary", has_text="Remove").click()
    row.locator('input[value="delete"]').check()
    row.locator('input[name="confirm"]').fill("bob")
    row.locator("[data-remove]").click()
    expect(page.locator(".notice")).to_contain_text("data deleted")
    expect(page.locator('[data-room="bob"]')).to_have_count(0)
    assert errors == []
