"""What the people, inbox, visitors and live endpoints and pages share: the room (feed) being looked
at, the clock, and a timeline row with its session link.

The room comes from ``?room=NAME``, else the switcher's cookie, else the default room (see
``greenroom.web.templating.feed_status``); an unknown ``room`` is a 404, a malformed one a 400.
A router adds ``dependencies=[Depends(room_param)]`` to document ``room`` in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenroom.errors import NotFound
from greenroom.events.models import Event
from greenroom.sessions.models import SessionEvent
from greenroom.web.formatting import event_view
from greenroom.web.templating import feed_status


def room_param(
    room: str | None = Query(default=None, description="The room to look at, by its broadcaster's username "
                             "(default: the one picked in the switcher, else the room being followed)."),
) -> str | None:
    """Documents ``?room=``; :func:`feed_status` reads it from the request itself."""
    return room


def feed_id_of(request: Request) -> int | None:
    """The room the owner is looking at; None before any room exists. Raises NotFound/BadRequest
    for a ``?room=`` naming no room."""
    return feed_status(request).feed_id


def require_feed(request: Request) -> int:
    feed_id = feed_id_of(request)
    if feed_id is None:
        raise NotFound("no room yet: add one in Admin › Rooms, or nobody has been seen")
    return feed_id


def clock(request: Request) -> datetime:
    return request.app.state.clock()


def session_links(db: Session, pks: list[int]) -> dict[int, int]:
    if not pks:
        return {}
    return dict(db.execute(select(SessionEvent.event_pk, SessionEvent.session_id)
                           .where(SessionEvent.event_pk.in_(pks))).all())


def timeline_rows(db: Session, events: list[Event], tz: str) -> list[dict[str, Any]]:
    """Timeline entries: the shared event row plus anonymity, tokens and the session link."""
    links = session_links(db, [e.id for e in events])
    rows = []
    for e in events:
        view = event_view(pk=e.id, event_id=e.event_id, method=e.method, username=e.username,
                          event_time=e.event_time, received_at=e.received_at, payload=e.payload, tz=tz).as_dict()
        obj = e.payload.get("object") if isinstance(e.payload, dict) else None
        tip = obj.get("tip") if isinstance(obj, dict) else None
        view["anon"] = bool(isinstance(tip, dict) and str(tip.get("isAnon", "")).lower() in ("true", "1"))
        view["direct"] = e.method == "privateMessage" and isinstance(obj, dict) and obj.get("broadcaster") == ""
        view["session_id"] = links.get(e.id)
        view["type"] = e.method
        rows.append(view)
    return rows
