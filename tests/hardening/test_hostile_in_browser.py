"""The hostile corpus in a real chromium: no script runs, no handler fires, on any page the owner
opens, whether the text arrived before the page loaded or live while it was open."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from greenroom.events.store import record_batch
from greenroom.ingest.pipeline import load_steps, process_new_events
from tests.browser.conftest import PASSWORD, live_server, page  # noqa: F401 - fixtures

from . import corpus

pytestmark = pytest.mark.browser


def _store(server, envelopes):
    load_steps()
    now = datetime.now(UTC)
    with server.database.write() as db:
        batch = record_batch(db, feed_id=server.feed_id, envelopes=envelopes, cursor=None, cursor_event_id=None,
                             received_at=now, lease_holder="browser-test", lease_ttl=3600)
        process_new_events(db, server.feed_id, batch.new, now)


def test_no_hostile_text_runs_on_any_page_in_a_real_browser(live_server, page):  # noqa: F811
    parts = corpus.build()
    # The 1 MB messages make every page heavy without testing anything new in a browser.
    known = [e for e in parts["known"] if "bigmouth" not in str(e["object"].get("user", ""))]
    _store(live_server, known[:-6])
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    base = live_server.url
    page.goto(base + "/login")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(base + "/")
    expect(page.locator("body")).to_contain_text(corpus.MARKUP[1])
    # The rest arrives while the dashboard is open (rendered by the live-update script).
    _store(live_server, known[-6:] + parts["quarantined"])
    expect(page.locator("body")).to_contain_text("offline " + corpus.MARKUP[0], timeout=10_000)

    person = quote(corpus.HOSTILE_USERS[1], safe="")
    paths = ["/sessions", "/sessions/1", "/people", f"/people/{person}", f"/people/{person}?tab=messages",
             "/inbox", "/live", "/visitors", "/admin", "/admin?tab=status"]
    for path in paths:
        response = page.goto(base + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        page.wait_for_timeout(200)  # let deferred scripts and image loads (onerror) happen
        assert page.evaluate("document.querySelectorAll('script:not([src]), iframe, svg[onload]').length") == 0, path
    assert dialogs == [], dialogs
    assert page.evaluate("window.__xss === undefined")
