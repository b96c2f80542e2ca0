"""``GET /api/health``: open, for monitors. Says only whether events are flowing, never a secret."""

from __future__ import annotations

from fastapi import APIRouter, Request

from greenroom.web.api.schemas import HealthOut, IngestOut
from greenroom.web.status import active_feed_status
from greenroom.web.templating import now

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health", response_model=HealthOut, summary="Service and ingest health (no login needed)")
def health(request: Request) -> HealthOut:
    with request.app.state.database.read() as db:
        status = active_feed_status(db, now=now(request))
    return HealthOut(
        status="ok" if status.healthy else "degraded",
        ingest=IngestOut(
            state=status.state,  # type: ignore[arg-type]
            last_poll_at=status.last_poll_at, last_event_at=status.last_event_at,
            events_stored=status.events_stored, error=status.error,
        ),
    )
