"""``GET /api/events``: the raw event store, in store order, paged by upstream id."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from greenroom.web.api.schemas import ERROR_RESPONSES, ErrorOut, EventOut, EventsOut
from greenroom.web.event_queries import MAX_PAGE, events_page

router = APIRouter(prefix="/api", tags=["events"])


@router.get(
    "/events", response_model=EventsOut, summary="Stored events, oldest first",
    responses={**ERROR_RESPONSES, 400: {"model": ErrorOut, "description": "Unknown after_id."},
               422: {"model": ErrorOut, "description": "A parameter is out of range."}},
)
def list_events(
    request: Request,
    method: str | None = Query(default=None, max_length=40, description="Only this method, e.g. tip."),
    username: str | None = Query(default=None, max_length=64, description="Only this user (any case)."),
    after_id: str | None = Query(default=None, max_length=64, description="Only events stored after this id."),
    limit: int = Query(default=100, ge=1, le=MAX_PAGE),
) -> EventsOut:
    with request.app.state.database.read() as db:
        page = events_page(db, method=method or None, username=username or None, after_id=after_id or None,
                           limit=limit)
        # Built inside the unit of work: its end expires the loaded rows.
        events = [
            EventOut(id=e.event_id, method=e.method, username=e.username, broadcaster=e.broadcaster,
                     event_time=e.event_time, received_at=e.received_at, payload=e.payload)
            for e in page.events
        ]
    return EventsOut(events=events, next_after_id=events[-1].id if events and page.has_more else None)
