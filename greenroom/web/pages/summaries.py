"""The Summary block of the Session detail page: a template include plus its form action.

The block reads its own data through the ``summary_block(request, s)`` template global, so the
session page needs no knowledge of summaries beyond one ``{% include %}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from greenroom.sessions.queries import get_session_row
from greenroom.summaries import service
from greenroom.web.summary_views import summary_state
from greenroom.web.templating import templates

router = APIRouter(include_in_schema=False)


def summary_block(request: Request, session: dict[str, Any]) -> dict[str, Any]:
    try:
        with request.app.state.database.read() as db:
            return summary_state(db, get_session_row(db, int(session["id"])))
    except Exception:  # a failing region never blanks the page
        return {"state": "error", "latest": None, "older": [], "pending": None, "can_regenerate": False}


templates.env.globals["summary_block"] = summary_block


@router.post("/sessions/{session_id}/summary/regenerate")
def regenerate(request: Request, session_id: int) -> Response:
    with request.app.state.database.write() as db:
        service.request_regenerate(db, session_id, request.app.state.clock())
    return RedirectResponse(f"/sessions/{session_id}#summary", status_code=303)
