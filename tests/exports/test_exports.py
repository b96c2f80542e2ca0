"""Exports of every table view: all matching rows (not one page), the on-screen filters, CSV that
parses back and cannot run formulas, JSON arrays, anonymity, hostile parameters, login."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from sqlalchemy import func, select

from greenroom.events.models import Feed
from tests.backup.kit import build_installation
from tests.people.kit import Room, ingest


@pytest.fixture
def rich(database, tmp_path):
    """Simulated broadcasts through the real pipeline, owner data, and some hostile text."""
    build_installation(database, tmp_path / "data", days=4, audience=25)
    with database.read() as db:
        feed_id = db.scalar(select(Feed.id).where(Feed.broadcaster == "alice"))
    room = (Room().start(0).enter(5, "mallory").chat(6, "mallory", "=HYPERLINK(\"http://x\",\"y\")")
            .pm(7, "mallory", "alice", "=1+2").pm(8, "alice", "mallory", "@SUM(A1)").pm(9, "mallory", "alice", "-2+3")
            .tip(10, "shygiver", 77, anon=True, note="from Shy, love").tip(11, "mallory", 5, note="+cmd")
            .stop(30))
    ingest(database, feed_id, room.envelopes)
    return feed_id


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def _json(response) -> list[dict]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    body = json.loads(response.content)
    assert isinstance(body, list)
    return body


def _all_pages(client, path, key, size, **params):
    out, offset = [], 0
    while True:
        body = client.get(path, params=params | {"limit": size, "offset": offset}).json()
        out += body[key]
        if len(body[key]) < size:
            return out
        offset += size


def _link(page_html: str, marker: str, fmt: str) -> str:
    block = re.search(rf'<p[^>]*data-export{marker}[^>]*>(.*?)</p>', page_html, re.S).group(1)
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', block)]
    return next(h for h in hrefs if f"format={fmt}" in h)


def test_sessions_export_has_every_filtered_session_like_the_api(signed_in, rich):
    shown = _all_pages(signed_in, "/api/sessions", "sessions", 2, status="pending_finalize")
    assert len(shown) > 2  # more than one page
    rows = _csv(signed_in.get("/api/sessions", params={"status": "pending_finalize", "format": "csv", "limit": 1}))
    assert [int(r["id"]) for r in rows] == [s["id"] for s in shown]
    assert all(r["status"] == "pending_finalize" for r in rows)
    assert [int(r["tokens"]) for r in rows] == [s["stats"]["tokens"] for s in shown]
    assert rows[0]["started_at"].endswith("Z")
    items = _json(signed_in.get("/api/sessions", params={"status": "pending_finalize", "format": "json"}))
    assert [i["id"] for i in items] == [s["id"] for s in shown]
    assert any(i["tags"] == "best" and i["notes"] == "great night" for i in items)


def test_the_sessions_page_links_export_its_own_filters(signed_in, rich):
    page = signed_in.get("/sessions", params={"status": "pending_finalize", "page": 1}).text
    href = _link(page, "", "csv")
    assert "status=pending_finalize" in href and "page=" not in href
    rows = _csv(signed_in.get(href))
    api = _all_pages(signed_in, "/api/sessions", "sessions", 50, status="pending_finalize")
    assert [int(r["id"]) for r in rows] == [s["id"] for s in api]
    assert _json(signed_in.get(_link(page, "", "json")))[0]["id"] == api[0]["id"]


def test_people_export_follows_search_filter_and_sort(signed_in, rich):
    shown = _all_pages(signed_in, "/api/people", "people", 25, sort="tokens")
    assert len(shown) > 50
    rows = _csv(signed_in.get("/api/people", params={"sort": "tokens", "format": "csv"}))
    assert [r["username"] for r in rows] == [p["username"] for p in shown]
    assert [int(r["lifetime_tokens"]) for r in rows] == [p["stats"]["lifetime_tokens"] for p in shown]
    prefix = shown[0]["username"][:1]
    filtered = _all_pages(signed_in, "/api/people", "people", 5, q=prefix, sort="name")
    page = signed_in.get("/people", params={"q": prefix, "sort": "name", "size": 25}).text
    items = _json(signed_in.get(_link(page, "", "json")))
    assert [i["username"] for i in items] == [p["username"] for p in filtered]
    assert [i["lifetime_tokens"] for i in items] == [p["stats"]["lifetime_tokens"] for p in filtered]


def test_events_export_is_every_event_in_store_order(signed_in, rich):
    shown, after = [], None
    while True:
        body = signed_in.get("/api/events", params={"limit": 1000} | ({"after_id": after} if after else {})).json()
        shown += body["events"]
        after = body["next_after_id"]
        if after is None:
            break
    rows = _csv(signed_in.get("/api/events", params={"format": "csv"}))
    assert [r["id"] for r in rows] == [e["id"] for e in shown]
    tips = _json(signed_in.get("/api/events", params={"format": "json", "method": "tip"}))
    assert tips and {t["method"] for t in tips} == {"tip"}
    assert all(isinstance(t["tokens"], int) for t in tips)
    assert tips[0]["event_time"].endswith("Z")


def test_anonymous_tips_are_masked_unless_a_private_export_is_asked_for(signed_in, rich):
    tips = _json(signed_in.get("/api/events", params={"format": "json", "method": "tip"}))
    anon = [t for t in tips if t["is_anon"]]
    assert anon and all(t["username"] == "anonymous" and t["text"] == "" and t["payload"] is None for t in anon)
    raw = signed_in.get("/api/events", params={"format": "csv"}).text
    assert "shygiver" not in raw and "from Shy" not in raw
    # A name filter would tie the tip to the name: masked exports leave such tips out.
    assert _json(signed_in.get("/api/events", params={"format": "json", "username": "shygiver"})) == []
    private = signed_in.get("/api/events", params={"format": "json", "method": "tip", "include_anonymous": "1"})
    assert "private" in private.headers["content-disposition"]
    named = [t for t in _json(private) if t["is_anon"]]
    assert any(t["username"] == "shygiver" and t["text"] == "from Shy, love" for t in named)
    assert all(t["payload"] is not None for t in named)


def test_formula_cells_are_guarded_in_csv_and_left_as_is_in_json(signed_in, rich):
    rows = _csv(signed_in.get("/api/inbox/threads/mallory", params={"format": "csv"}))
    assert [r["text"] for r in rows] == ["'=1+2", "'@SUM(A1)", "'-2+3"]
    events = _csv(signed_in.get("/api/events", params={"format": "csv", "username": "mallory"}))
    assert "'=HYPERLINK(\"http://x\",\"y\")" in [r["text"] for r in events]
    assert "'+cmd" in [r["text"] for r in events]
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in events for cell in r.values() if cell)
    items = _json(signed_in.get("/api/inbox/threads/mallory", params={"format": "json"}))
    assert [i["text"] for i in items] == ["=1+2", "@SUM(A1)", "-2+3"]


def test_inbox_threads_thread_and_search_exports(signed_in, rich):
    shown = _all_pages(signed_in, "/api/inbox/threads", "threads", 10)
    assert len(shown) > 10
    rows = _csv(signed_in.get("/api/inbox/threads", params={"format": "csv"}))
    assert [r["username"] for r in rows] == [t["username"] for t in shown]
    page = signed_in.get("/inbox", params={"filter": "all"}).text
    assert [i["username"] for i in _json(signed_in.get("/inbox" + _link(page, '="threads"', "json")))] == \
        [t["username"] for t in shown]
    name = shown[0]["username"]
    thread = signed_in.get(f"/api/inbox/threads/{name}", params={"limit": 500}).json()
    exported = _json(signed_in.get(f"/api/inbox/threads/{name}", params={"format": "json"}))
    assert [m["event_pk"] for m in exported] == [m["event_pk"] for m in thread["items"]]
    assert signed_in.get(f"/inbox/{name}", params={"format": "json"}).json() == exported
    hits = signed_in.get("/api/inbox/search", params={"q": "a", "limit": 200}).json()["messages"]
    found = _json(signed_in.get("/api/inbox/search", params={"q": "a", "format": "json"}))
    assert [m["event_pk"] for m in found][: len(hits)] == [m["event_pk"] for m in hits]
    assert len(found) >= len(hits)
    page = signed_in.get("/inbox", params={"q": "a"}).text
    assert _json(signed_in.get("/inbox" + _link(page, '="search"', "json"))) == found
    assert signed_in.get("/api/inbox/threads/nobody-here", params={"format": "csv"}).status_code == 404


def test_visitors_exports(signed_in, rich):
    shown = _all_pages(signed_in, "/api/visitors", "visitors", 20, period="all", sort="visits")
    assert len(shown) > 20
    rows = _csv(signed_in.get("/api/visitors", params={"period": "all", "sort": "visits", "format": "csv"}))
    assert [r["username"] for r in rows] == [v["username"] for v in shown]
    assert [int(r["visits"]) for r in rows] == [v["visits_in_period"] for v in shown]
    page = signed_in.get("/visitors", params={"view": "top"}).text
    top = _json(signed_in.get(_link(page, "", "json")))
    assert [t["username"] for t in top] == [v["username"] for v in _all_pages(signed_in, "/api/visitors", "visitors",
                                                                             50, view="top")]
    history = _json(signed_in.get("/api/visitors", params={"view": "history", "format": "json", "q": "mallory"}))
    assert history and {h["username"] for h in history} == {"mallory"}


@pytest.mark.parametrize("path,params", [
    ("/api/sessions", {"format": "xml"}), ("/api/sessions", {"format": "csv", "status": "bogus"}),
    ("/api/sessions", {"format": "csv", "from": "yesterday"}), ("/api/people", {"format": "csv", "sort": "bogus"}),
    ("/api/people", {"format": "json", "filter": "bogus"}), ("/api/events", {"format": "csv", "after_id": "nope"}),
    ("/api/inbox/threads", {"format": "csv", "filter": "bogus"}), ("/api/visitors", {"format": "csv", "view": "x"}),
    ("/api/visitors", {"format": "csv", "sort": "bogus"}), ("/sessions", {"format": "pdf"}),
    ("/people", {"format": "csv", "filter": "bogus"}), ("/inbox", {"format": "csv", "export": "bogus"}),
    ("/visitors", {"format": "csv", "period": "forever"}), ("/api/events", {"format": "CSV\x00"}),
])
def test_hostile_parameters_are_a_clear_400(signed_in, rich, path, params):
    response = signed_in.get(path, params=params)
    assert response.status_code == 400, (path, params, response.status_code, response.text[:200])
    assert "Traceback" not in response.text


def test_exports_need_login(client, rich):
    for path in ("/api/sessions", "/api/people", "/api/events", "/api/inbox/threads", "/api/visitors"):
        assert client.get(path, params={"format": "csv"}, follow_redirects=False).status_code in (401, 303)
    for path in ("/sessions", "/people", "/inbox", "/visitors"):
        assert client.get(path, params={"format": "csv"}, follow_redirects=False).status_code in (401, 303)


def test_the_openapi_documents_the_format_parameter(signed_in):
    spec = signed_in.get("/api/openapi.json").json()
    for path in ("/api/sessions", "/api/people", "/api/events", "/api/inbox/threads", "/api/inbox/search",
                 "/api/visitors", "/api/inbox/threads/{username}"):
        operation = spec["paths"][path]["get"]
        assert "format" in {p["name"] for p in operation["parameters"]}, path
        assert "text/csv" in operation["responses"]["200"]["content"], path


def test_a_big_export_streams_every_row(signed_in, feed):
    from tests.web.web_helpers import tip

    total = 20_000
    for start in range(0, total, 5000):
        feed(*[tip(i, username=f"user{i % 300}", tokens=1 + i % 50, note=f"=note {i}")
               for i in range(start, start + 5000)])
    with signed_in.stream("GET", "/api/events", params={"format": "csv"}) as response:
        assert response.status_code == 200
        chunks = list(response.iter_bytes())
    assert len(chunks) > 10  # sent as it was written, not built whole first
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8")[1:])))
    assert len(rows) == total and rows[-1]["text"] == f"'=note {total - 1}"
    items = _json(signed_in.get("/api/events", params={"format": "json", "method": "tip"}))
    assert len(items) == total


def test_a_sessions_event_list_exports_with_its_type_filter(signed_in, rich, database):
    from greenroom.sessions.models import SessionEvent

    session_id = signed_in.get("/api/sessions", params={"limit": 1}).json()["sessions"][0]["id"]
    with database.read() as db:
        linked = db.scalar(select(func.count()).select_from(SessionEvent).where(SessionEvent.session_id == session_id))
    rows = _json(signed_in.get(f"/sessions/{session_id}", params={"format": "json"}))
    assert len(rows) == linked
    tips = _csv(signed_in.get(f"/sessions/{session_id}", params={"format": "csv", "type": "tip"}))
    assert tips and {r["method"] for r in tips} == {"tip"}
    assert signed_in.get("/sessions/999999", params={"format": "csv"}).status_code == 404
