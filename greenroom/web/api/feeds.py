"""``GET /api/feeds``: each followed room and its ingest state (masked URL only)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from greenroom.web.api.schemas import ERROR_RESPONSES, FeedOut, FeedsOut
from greenroom.web.status import feed_statuses
from greenroom.web.templating import now

router = APIRouter(prefix="/api", tags=["feeds"])


@router.get("/feeds", response_model=FeedsOut, summary="Feeds and their ingest state", responses=ERROR_RESPONSES)
def list_feeds(request: Request) -> FeedsOut:
    with request.app.state.database.read() as db:
        statuses = feed_statuses(db, now=now(request))
    return FeedsOut(feeds=[
        FeedOut(
            id=s.feed_id or 0, broadcaster=s.broadcaster or "", url_masked=s.url_masked or "", is_demo=s.is_demo,
            state=s.state,  # type: ignore[arg-type]
            reported_state=s.reported_state or "", ingester_alive=s.alive, last_poll_at=s.last_poll_at,
            last_event_at=s.last_event_at, events_stored=s.events_stored, events_quarantined=s.events_quarantined,
            last_error=s.error, last_error_at=s.error_at,
        )
        for s in sorted(statuses, key=lambda s: s.feed_id or 0)
    ])
