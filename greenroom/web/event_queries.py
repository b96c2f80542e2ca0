"""Reading the event store for pages, the live stream and the JSON API.

Order is always ``events.id`` (store order), which is the order events arrived in; upstream ids are
only used to name a position (``after_id``) because that is what API clients know.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenroom.errors import BadRequest
from greenroom.events.models import Event
from greenroom.web.formatting import EventView, event_view

MAX_PAGE = 1000


def _in_room(query: Any, feed_id: int | None) -> Any:
    return query if feed_id is None else query.where(Event.feed_id == feed_id)


def latest_events(db: Session, limit: int = 50, *, feed_id: int | None = None) -> list[Event]:
    """The newest events (of one room, or of all with ``feed_id=None``), newest first."""
    return list(db.execute(_in_room(select(Event), feed_id).order_by(Event.id.desc()).limit(limit)).scalars())


def events_after_pk(db: Session, after_pk: int, limit: int = 200, *, feed_id: int | None = None) -> list[Event]:
    """Events stored after a store position, oldest first (what the live stream sends next)."""
    query = _in_room(select(Event).where(Event.id > after_pk), feed_id)
    return list(db.execute(query.order_by(Event.id).limit(limit)).scalars())


def newest_pk(db: Session) -> int:
    """The newest store position of all rooms (positions are shared, so any room can resume from it)."""
    return int(db.scalar(select(func.max(Event.id))) or 0)


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    has_more: bool


def events_page(
    db: Session, *, method: str | None = None, username: str | None = None, after_id: str | None = None,
    limit: int = 100, feed_id: int | None = None,
) -> EventPage:
    """A page of events in store order, optionally after the event with upstream id ``after_id``."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    query = _in_room(select(Event), feed_id)
    if after_id:
        after_pk = db.scalar(_in_room(select(func.min(Event.id)).where(Event.event_id == after_id), feed_id))
        if after_pk is None:
            raise BadRequest(f"after_id {after_id!r} is not a stored event id")
        query = query.where(Event.id > after_pk)
    if method:
        query = query.where(Event.method == method)
    if username:
        # Usernames are stored lower-cased (identity on the site is case-insensitive).
        query = query.where(Event.username == username.strip().lower())
    rows = list(db.execute(query.order_by(Event.id).limit(limit + 1)).scalars())
    return EventPage(events=rows[:limit], has_more=len(rows) > limit)


def views(events: Sequence[Event], tz: str) -> list[EventView]:
    return [
        event_view(pk=e.id, event_id=e.event_id, method=e.method, username=e.username, event_time=e.event_time,
                   received_at=e.received_at, payload=e.payload, tz=tz)
        for e in events
    ]
