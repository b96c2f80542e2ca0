from __future__ import annotations

import json
import re

from sqlalchemy import update

from greenroom.events.models import Feed
from greenroom.web.pages.admin import ADMIN_TABS, AdminTab, register_admin_tab
from tests.web.web_helpers import SECRET_TOKEN, SECRET_URL, chat, tip

XSS = "<script>alert(1)</script>"


def test_the_dashboard_shows_the_latest_events_newest_first_in_the_owners_zone(signed_in, feed):
    feed(tip(1, username="Generous", tokens=25, note="| for you"), chat(2, "hello there"))
    html = signed_in.get("/").text
    assert html.index("hello there") < html.index("25 tokens — for you")
    assert "Generous" in html and 'href="/people/generous"' in html
    assert "15:26:40 CET" in html  # 14:26:40 UTC shown in Europe/Berlin, 24-hour, zone named
    assert 'data-stream="/events/stream?after=' in html


def test_upstream_text_is_escaped_everywhere_on_the_dashboard(signed_in, feed, database):
    feed(chat(1, XSS, username="x<b>y"), tip(2, note=XSS))
    with database.write() as db:
        db.execute(update(Feed).values(last_error=f"boom {XSS}", state="backing_off"))
    html = signed_in.get("/").text
    assert XSS not in html and "x<b>y" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_url_token_is_in_no_page_or_api_answer(signed_in, feed, database):
    feed(tip(1))
    with database.write() as db:
        db.execute(update(Feed).values(state="credentials_rejected",
                                       last_error=f"rejected: {SECRET_URL}?timeout=30"))
    for path in ("/", "/admin", "/admin?tab=status", "/api/health", "/api/feeds", "/api/events",
                 "/api/docs", "/api/openapi.json", "/live", "/login"):
        answer = signed_in.get(path)
        assert SECRET_TOKEN not in answer.text, path
    assert "No events since" in signed_in.get("/").text


def test_a_failing_feed_puts_a_banner_on_every_page(signed_in, feed, database):
    feed(tip(1))
    with database.write() as db:
        db.execute(update(Feed).values(state="credentials_rejected"))
    for path in ("/", "/admin", "/people"):
        html = signed_in.get(path).text
        banner = re.search(r'<div class="banner"[^>]*>([^<]*)</div>', html).group(1)
        assert banner.startswith("No events since ") and banner.endswith("— token rejected"), path


def test_the_demo_room_is_labelled_on_every_page(signed_in, feed, database):
    with database.write() as db:
        db.execute(update(Feed).values(is_demo=True, state="demo"))
    for path in ("/", "/admin", "/inbox"):
        assert 'class="demo-label"' in signed_in.get(path).text, path


def test_every_page_in_the_navigation_is_a_real_page(signed_in):
    from greenroom.web.templating import NAV

    for item in NAV:
        path = item.path
        response = signed_in.get(path)
        assert response.status_code == 200, path
        assert "not available yet" not in response.text, path


def test_admin_status_shows_feed_database_and_table_counts(signed_in, feed, app):
    feed(tip(1), tip(2))
    app.state.runtime_status = lambda: {"ingester": "running", "leak": SECRET_URL}
    html = signed_in.get("/admin").text
    assert "alice" in html and "Receiving events" in html
    assert "SQLite" in html or "PostgreSQL" in html
    assert re.search(r"<code>events</code></td><td class=\"num\">2</td>", html)
    assert "ingester" in html and SECRET_TOKEN not in html


def test_a_feature_can_add_an_admin_tab(signed_in):
    tab = AdminTab("extra", "Extra", "placeholder.html",
                   lambda request: {"item": ADMIN_TABS[0], "promise": "An extra tab."})
    register_admin_tab(tab)
    try:
        html = signed_in.get("/admin?tab=extra").text
        assert "An extra tab." in html and 'href="/admin?tab=extra" aria-current="page"' in html
        assert signed_in.get("/admin?tab=nope").status_code == 404
    finally:
        ADMIN_TABS.remove(tab)


def test_an_unknown_page_gets_an_html_404_and_an_unknown_api_path_json(signed_in):
    page = signed_in.get("/no-such-page")
    assert page.status_code == 404 and "There is no such page" in page.text
    api = signed_in.get("/api/no-such-thing")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_the_live_stream_sends_new_events_and_the_status(signed_in, feed):
    feed(tip(1))
    html = signed_in.get("/").text
    after = re.search(r"/events/stream\?after=(\d+)", html).group(1)
    feed(chat(2, XSS))
    body = signed_in.get(f"/events/stream?after={after}").text  # the stream ends after stream_seconds
    frames = [f for f in body.split("\n\n") if f.startswith(("id:", "event:"))]
    events = [json.loads(f.split("data: ", 1)[1]) for f in frames if "event: event" in f]
    assert [e["event_id"] for e in events] == [chat(2, "")["id"]]
    assert events[0]["detail"] == XSS and events[0]["chip"] == "chat"  # plain text; the script uses textContent
    status = [json.loads(f.split("data: ", 1)[1]) for f in frames if "event: status" in f]
    assert status and status[0]["state"] == "polling"


def test_the_live_stream_resumes_from_last_event_id(signed_in, feed):
    feed(tip(1), tip(2), tip(3))
    first = signed_in.get("/api/events").json()["events"]
    assert len(first) == 3
    body = signed_in.get("/events/stream?after=0", headers={"Last-Event-ID": "2"}).text
    ids = re.findall(r"^id: (\d+)$", body, flags=re.M)
    assert ids == ["3"]


def test_admin_status_lists_what_the_runtime_object_reports(signed_in, app):
    import threading
    from types import SimpleNamespace

    from greenroom.secrets import parse_feed_url

    thread = threading.Thread(target=lambda: None, name="ingest")
    app.state.runtime_status = SimpleNamespace(demo=False, feed=parse_feed_url(SECRET_URL), threads=[thread])
    html = signed_in.get("/admin").text
    assert "ingest (stopped)" in html and "alice/****/" in html and SECRET_TOKEN not in html
