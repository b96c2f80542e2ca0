"""Inbox JSON API: threads, one thread, search, read state. Reading a thread here does not mark it
read (GET never changes anything); ``POST .../read`` does, and the Inbox page does on opening."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from greenroom.inbox import queries
from greenroom.people.cards import cards
from greenroom.web.api.people_common import clock, feed_id_of, require_feed, room_param
from greenroom.web.exporting import (
    EXPORT_RESPONSES,
    FORMAT_DESCRIPTION,
    check_format,
    export_search,
    export_thread,
    export_threads,
)

router = APIRouter(prefix="/api/inbox", tags=["inbox"], dependencies=[Depends(room_param)])


@router.get("/threads", summary="One thread per counterpart, newest first (format=csv|json exports)",
            responses=EXPORT_RESPONSES)
def threads(request: Request, filter: str = Query(default="all", description="all, unread, room, direct"),  # noqa: A002
            limit: int = Query(default=50, ge=1, le=200), offset: int = Query(default=0, ge=0),
            format: str | None = Query(default=None, description=FORMAT_DESCRIPTION)) -> dict[str, Any]:  # noqa: A002
    feed_id = feed_id_of(request)
    if fmt := check_format(format):
        return export_threads(request.app.state.database, fmt, feed_id=feed_id, filter=filter)  # type: ignore[return-value]
    if feed_id is None:
        return {"threads": [], "total": 0, "unread": 0}
    with request.app.state.database.read() as db:
        rows, total = queries.list_threads(db, feed_id, filter=filter, limit=limit, offset=offset)
        found = cards(db, feed_id, [t["username"] for t in rows], clock(request))
        for t in rows:
            t["badges"] = found[t["username"]]["badges"]
            t["display_name"] = found[t["username"]]["display_name"]
        return {"threads": rows, "total": total, "unread": queries.unread_threads(db, feed_id)}


@router.get("/threads/{username}", summary="A thread's messages, oldest first (format=csv|json exports all)",
            responses=EXPORT_RESPONSES)
def thread(request: Request, username: str, limit: int = Query(default=200, ge=1, le=500),
           before: int | None = Query(default=None),
           format: str | None = Query(default=None, description=FORMAT_DESCRIPTION)) -> dict[str, Any]:  # noqa: A002
    if fmt := check_format(format):
        return export_thread(request.app.state.database, fmt, feed_id=feed_id_of(request),  # type: ignore[return-value]
                             username=username)
    feed_id = require_feed(request)
    with request.app.state.database.read() as db:
        return queries.get_thread(db, feed_id, username, limit=limit, before=before)


@router.post("/threads/{username}/read", summary="Mark a thread read")
def mark_read(request: Request, username: str) -> dict[str, Any]:
    feed_id = require_feed(request)
    with request.app.state.database.write() as db:
        queries.mark_read(db, feed_id, username, clock(request))
    return {"ok": True}


@router.post("/threads/{username}/unread", summary="Mark a thread unread")
def mark_unread(request: Request, username: str) -> dict[str, Any]:
    feed_id = require_feed(request)
    with request.app.state.database.write() as db:
        queries.mark_unread(db, feed_id, username, clock(request))
    return {"ok": True}


@router.get("/search", summary="Messages containing the text (or from/to a name containing it)",
            responses=EXPORT_RESPONSES)
def search(request: Request, q: str = Query(default="", max_length=200),
           limit: int = Query(default=50, ge=1, le=200),
           format: str | None = Query(default=None, description=FORMAT_DESCRIPTION)) -> dict[str, Any]:  # noqa: A002
    feed_id = feed_id_of(request)
    if fmt := check_format(format):
        return export_search(request.app.state.database, fmt, feed_id=feed_id, q=q)  # type: ignore[return-value]
    if feed_id is None:
        return {"messages": []}
    with request.app.state.database.read() as db:
        return {"messages": queries.search(db, feed_id, q, limit=limit)}
