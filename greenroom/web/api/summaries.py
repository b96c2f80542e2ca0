"""Session summaries JSON API: read the summary (with its older versions) and ask for a new one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from greenroom.sessions.queries import get_session_row
from greenroom.summaries import service
from greenroom.web.summary_views import summary_state

router = APIRouter(prefix="/api/sessions", tags=["summaries"])


@router.get("/{session_id}/summary", summary="The session's summary, its state and older versions")
def get_summary(request: Request, session_id: int) -> dict[str, Any]:
    with request.app.state.database.read() as db:
        return summary_state(db, get_session_row(db, session_id))


@router.post("/{session_id}/summary/regenerate", status_code=202,
             summary="Write a new version of the summary (kept beside the old ones); not while live")
def regenerate(request: Request, session_id: int) -> dict[str, Any]:
    with request.app.state.database.write() as db:
        run_id = service.request_regenerate(db, session_id, request.app.state.clock())
    with request.app.state.database.read() as db:
        return {"run_id": run_id, **summary_state(db, get_session_row(db, session_id))}
