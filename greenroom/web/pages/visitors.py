"""The Visitors page, the Live page and the Live page's push channel (Server-Sent Events).

``GET /live/stream`` sends the whole room (``event: room``) on connect and whenever it changes;
a reconnecting browser therefore always gets the full room again. The database is read once a
second from a worker thread, never on the event loop.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import anyio
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import StreamingResponse
from starlette.responses import RedirectResponse, Response

from greenroom.errors import BadRequest
from greenroom.people.cards import cards
from greenroom.visits import alerts, queries
from greenroom.visits.models import ALERT_KINDS
from greenroom.web.api.people_common import clock, feed_id_of, require_feed
from greenroom.web.api.visits import live_payload
from greenroom.web.event_queries import latest_events, views
from greenroom.web.exporting import check_format, export_query, export_visitors
from greenroom.web.templating import render

router = APIRouter(include_in_schema=False)
JS = (Path(__file__).resolve().parent.parent / "templates" / "visits" / "live.js").read_text()
VIEWS = [("recent", "Recent"), ("top", "Top"), ("history", "History")]
PERIODS = [("24h", "24 h"), ("7d", "7 d"), ("30d", "30 d"), ("90d", "90 d")]
SORTS = [("last_visit", "Last visit"), ("visits", "Visits"), ("offline", "Offline visits"), ("name", "Name")]
PAGE = 50


@router.get("/people/assets/live.js")
def live_js() -> Response:
    return Response(JS, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})


@router.get("/visitors")
def visitors_page(request: Request, view: str = Query(default="recent"), period: str = Query(default="7d"),
                  sort: str = Query(default="last_visit"), q: str = Query(default="", max_length=64),
                  offline: bool = False, page: int = Query(default=1, ge=1),
                  format: str | None = Query(default=None)) -> Response:  # noqa: A002 (csv or json: export all)
    if view not in dict(VIEWS):
        raise BadRequest("view is recent, top or history")
    feed_id = feed_id_of(request)
    now = clock(request)
    if fmt := check_format(format):
        return export_visitors(request.app.state.database, fmt, feed_id=feed_id, view=view, period=period, sort=sort,
                               q=q, offline=offline, now=now)
    ctx: dict = {"rows": [], "visits": [], "total": 0, "summary": None, "people": {}}
    if feed_id is not None:
        with request.app.state.database.read() as db:
            ctx["summary"] = queries.summary(db, feed_id, now)
            if view == "history":
                ctx["visits"] = queries.history(db, feed_id, username=q or None, limit=200)
                names = [v.username for v in ctx["visits"]]
            else:
                if view == "top":
                    rows, total = queries.top_visitors(db, feed_id, limit=PAGE, offset=(page - 1) * PAGE)
                else:
                    rows, total = queries.visitors(db, feed_id, period=period, sort=sort, q=q, offline_only=offline,
                                                   limit=PAGE, offset=(page - 1) * PAGE, now=now)
                ctx["rows"], ctx["total"] = rows, total
                names = [r["username"] for r in rows]
            ctx["people"] = cards(db, feed_id, names, now)
    return render(request, "visits/visitors.html", ctx | {
        "view": view, "period": period, "sort": sort, "q": q, "offline": offline, "page": page,
        "pages": max(1, -(-ctx["total"] // PAGE)), "views": VIEWS, "periods": PERIODS, "sorts": SORTS,
        "export_query": export_query(request),
    }, nav="visitors")


@router.get("/live")
def live_page(request: Request) -> Response:
    tz = request.app.state.settings.timezone
    payload = live_payload(request)
    with request.app.state.database.read() as db:
        rows = views(latest_events(db, 50, feed_id=feed_id_of(request)), tz)
        rules = alerts.list_rules(db)
    return render(request, "visits/live.html", {
        "room": payload, "events": rows, "after_pk": rows[0].pk if rows else 0, "rules": rules,
        "kinds": [(k, alerts.LABELS[k]) for k in ALERT_KINDS],
        "dt": lambda iso: datetime.fromisoformat(iso) if iso else None,
    }, nav="live")


@router.post("/live/alerts/{hit_id}/ack")
def ack(request: Request, hit_id: int) -> Response:
    feed_id = require_feed(request)
    with request.app.state.database.write() as db:
        alerts.acknowledge(db, feed_id, hit_id if hit_id > 0 else None, clock(request))
    return RedirectResponse("/live", status_code=303)


@router.post("/live/rules")
def add_rule(request: Request, kind: str = Form(...), threshold: int = Form(default=0)) -> Response:
    with request.app.state.database.write() as db:
        alerts.add_rule(db, kind, threshold, clock(request))
    return RedirectResponse("/live#rules", status_code=303)


@router.post("/live/rules/{rule_id}")
def toggle_rule(request: Request, rule_id: int, enabled: str = Form(...)) -> Response:
    with request.app.state.database.write() as db:
        alerts.set_rule_enabled(db, rule_id, enabled == "on")
    return RedirectResponse("/live#rules", status_code=303)


@router.get("/live/stream")
def live_stream(request: Request) -> StreamingResponse:
    async def frames() -> AsyncIterator[str]:
        deadline = anyio.current_time() + request.app.state.stream_seconds
        yield "retry: 3000\n\n"
        sent = None
        quiet = 0
        while anyio.current_time() < deadline and not await request.is_disconnected():
            payload = await anyio.to_thread.run_sync(live_payload, request)
            text = json.dumps(payload, ensure_ascii=True)
            if text != sent:
                sent, quiet = text, 0
                yield f"event: room\ndata: {text}\n\n"
            else:
                quiet += 1
                if quiet >= 15:  # proxies close connections that stay silent
                    quiet = 0
                    yield ": keep-alive\n\n"
            await anyio.sleep(1.0)

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})
