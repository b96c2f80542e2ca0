"""The Inbox page: thread list, one thread as bubbles (opening it marks it read), search."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from greenroom.errors import BadRequest, NotFound
from greenroom.inbox import queries
from greenroom.people.cards import cards
from greenroom.web.api.people_common import clock, feed_id_of, require_feed, session_links
from greenroom.web.exporting import check_format, export_query, export_search, export_thread, export_threads
from greenroom.web.formatting import local
from greenroom.web.templating import render

router = APIRouter(include_in_schema=False)
FILTERS = [("all", "All"), ("unread", "Unread"), ("room", "In my room"), ("direct", "Direct")]


def _page(request: Request, username: str | None, filter: str, q: str,  # noqa: A002
          format: str | None = None, export: str = "") -> Response:  # noqa: A002
    if filter not in queries.THREAD_FILTERS:
        raise BadRequest("unknown filter")
    if fmt := check_format(format):  # a download of every row of one of the page's lists
        return _export(request, username, filter, q, fmt, export or ("thread" if username else "threads"))
    feed_id = feed_id_of(request)
    now = clock(request)
    tz = request.app.state.settings.timezone
    ctx: dict = {"threads": [], "total": 0, "thread": None, "hits": [], "counts": None, "filter": filter, "q": q,
                 "filters": FILTERS, "current": username, "people": {}, "links": {}}
    if feed_id is not None:
        if username:
            # Opening a thread reads it; an unknown name gets the 404 below.
            with request.app.state.database.write() as db, suppress(NotFound):
                queries.mark_read(db, feed_id, username, now)
        with request.app.state.database.read() as db:
            ctx["threads"], ctx["total"] = queries.list_threads(db, feed_id, filter=filter, limit=100)
            ctx["counts"] = queries.counts(db, feed_id, now)
            names = [t["username"] for t in ctx["threads"]]
            if username:
                try:
                    ctx["thread"] = queries.get_thread(db, feed_id, username)
                except NotFound:
                    ctx["missing"] = username  # still render the thread list around the 404
                else:
                    names.append(ctx["thread"]["username"])
                    ctx["links"] = session_links(db, [m["event_pk"] for m in ctx["thread"]["items"]])
            if q.strip():
                ctx["hits"] = queries.search(db, feed_id, q, limit=100)
                names += [h["username"] for h in ctx["hits"]]
            ctx["people"] = cards(db, feed_id, names, now)
    ctx["day"] = lambda iso: local(datetime.fromisoformat(iso), tz).strftime("%A %-d %B %Y")
    ctx["dt"] = lambda iso: datetime.fromisoformat(iso)
    ctx["export_query"] = export_query(request)
    return render(request, "inbox/index.html", ctx, nav="inbox", status_code=404 if ctx.get("missing") else 200)


def _export(request: Request, username: str | None, filter: str, q: str, fmt: Any, export: str) -> Response:  # noqa: A002
    database, feed_id = request.app.state.database, feed_id_of(request)
    if export == "threads":
        return export_threads(database, fmt, feed_id=feed_id, filter=filter)
    if export == "search":
        return export_search(database, fmt, feed_id=feed_id, q=q)
    if export == "thread" and username:
        return export_thread(database, fmt, feed_id=feed_id, username=username)
    raise BadRequest("export is threads, search or (on a conversation) thread")


@router.get("/inbox")
def inbox(request: Request, filter: str = Query(default="all"), q: str = Query(default="", max_length=200),  # noqa: A002
          format: str | None = Query(default=None), export: str = Query(default="", max_length=10)  # noqa: A002
          ) -> Response:
    return _page(request, None, filter, q, format, export)


@router.get("/inbox/{username}")
def thread(request: Request, username: str, filter: str = Query(default="all"),  # noqa: A002
           q: str = Query(default="", max_length=200), format: str | None = Query(default=None),  # noqa: A002
           export: str = Query(default="", max_length=10)) -> Response:
    return _page(request, username, filter, q, format, export)


@router.post("/inbox/{username}/unread")
def mark_unread(request: Request, username: str) -> Response:
    feed_id = require_feed(request)
    with request.app.state.database.write() as db:
        queries.mark_unread(db, feed_id, username, clock(request))
    return RedirectResponse("/inbox", status_code=303)

