"""``GET /api/events``: the raw event store, in store order, paged by upstream id."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from greenroom.web.api.people_common import require_feed
from greenroom.web.api.schemas import ERROR_RESPONSES, ErrorOut, EventOut, EventsOut
from greenroom.web.event_queries import MAX_PAGE, events_page
from greenroom.web.exporting import EXPORT_RESPONSES, FORMAT_DESCRIPTION, check_format, export_events

router = APIRouter(prefix="/api", tags=["events"])


@router.get(
    "/events", response_model=EventsOut, summary="Stored events, oldest first",
    responses={**ERROR_RESPONSES, **EXPORT_RESPONSES,
               400: {"model": ErrorOut, "description": "Unknown after_id or format."},
               422: {"model": ErrorOut, "description": "A parameter is out of range."}},
)
def list_events(
    request: Request,
    method: str | None = Query(default=None, max_length=40, description="Only this method, e.g. tip."),
    username: str | None = Query(default=None, max_length=64, description="Only this user (any case)."),
    after_id: str | None = Query(default=None, max_length=64, description="Only events stored after this id."),
    limit: int = Query(default=100, ge=1, le=MAX_PAGE),
    format: str | None = Query(default=None, description=FORMAT_DESCRIPTION  # noqa: A002
                               + " Anonymous tips are masked (name, note and payload) unless include_anonymous."),
    include_anonymous: bool = Query(default=False, description="Export only: name anonymous tippers (private)."),
    room: str | None = Query(default=None, max_length=64,
                             description="Only this room's events, by broadcaster name (default: every room)."),
) -> EventsOut:
    # The event store is one stream: without ``room`` every room's events come, in store order.
    feed_id = require_feed(request) if room else None
    if fmt := check_format(format):
        return export_events(request.app.state.database, fmt, method=method or None,  # type: ignore[return-value]
                             username=username or None, after_id=after_id or None,
                             include_anonymous=include_anonymous, feed_id=feed_id)
    with request.app.state.database.read() as db:
        page = events_page(db, method=method or None, username=username or None, after_id=after_id or None,
                           limit=limit, feed_id=feed_id)
        # Built inside the unit of work: its end expires the loaded rows.
        events = [
            EventOut(id=e.event_id, method=e.method, username=e.username, broadcaster=e.broadcaster,
                     event_time=e.event_time, received_at=e.received_at, payload=e.payload)
            for e in page.events
        ]
    return EventsOut(events=events, next_after_id=events[-1].id if events and page.has_more else None)
