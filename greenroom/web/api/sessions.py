"""Sessions JSON API: list, current, detail, and the owner's manual controls.

Bodies of the controls (all JSON; times ISO-8601 with a zone):
``end`` {} · ``finalize`` {} · ``reopen`` {} · ``split`` {"at": t} · ``merge`` {"direction":
"previous"|"next"} · ``end-time`` {"at": t} · ``notes`` (PUT) {"notes"?: str, "tags"?: [str]}.
Each answers with the session as ``GET /api/sessions/{id}`` shows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from greenroom.errors import BadRequest
from greenroom.imports.queries import span_income
from greenroom.sessions import manual, queries
from greenroom.sessions.notes import set_notes
from greenroom.sessions.service import Windows, windows_for
from greenroom.sessions.stats import refresh_stats
from greenroom.summaries.service import latest as latest_summary
from greenroom.summaries.service import summary_json
from greenroom.web.api.people_common import feed_id_of, room_param
from greenroom.web.api.stats import session_sampled
from greenroom.web.exporting import EXPORT_RESPONSES, FORMAT_DESCRIPTION, check_format, export_sessions

router = APIRouter(prefix="/api/sessions", tags=["sessions"], dependencies=[Depends(room_param)])


class SplitIn(BaseModel):
    at: AwareDatetime = Field(description="Events from this time on form a new session.")


class EndTimeIn(BaseModel):
    at: AwareDatetime = Field(description="The corrected end time.")


class MergeIn(BaseModel):
    direction: Literal["previous", "next"] = "next"


class NotesIn(BaseModel):
    notes: str | None = Field(default=None, max_length=20_000)
    tags: list[str] | None = None


def _windows(request: Request, db: Any) -> Windows:
    return windows_for(db, request.app.state.settings)


def _now(request: Request) -> datetime:
    return request.app.state.clock()


def parse_bound(value: str | None, name: str, tz: str) -> datetime | None:
    """An ISO date or time; without a zone it is read in the owner's time zone."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be an ISO date or time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=ZoneInfo(tz))


@router.get("", summary="Sessions, newest first (format=csv|json exports every match)",
            responses=EXPORT_RESPONSES)
def list_sessions(
    request: Request,
    format: str | None = Query(default=None, description=FORMAT_DESCRIPTION),  # noqa: A002
    status: str | None = Query(default=None, description="active, ended, pending_finalize or finalized"),
    from_: str | None = Query(default=None, alias="from", description="Started at or after (ISO date/time)."),
    to: str | None = Query(default=None, description="Started before (ISO date/time)."),
    tag: str | None = Query(default=None, max_length=40),
    limit: int = Query(default=20, ge=1, le=queries.MAX_LIMIT),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    tz = request.app.state.settings.timezone
    if fmt := check_format(format):
        return export_sessions(request.app.state.database, fmt, status=status or None,  # type: ignore[return-value]
                               start=parse_bound(from_, "from", tz), end=parse_bound(to, "to", tz), tag=tag or None,
                               feed_id=feed_id_of(request))
    with request.app.state.database.read() as db:
        rows, total = queries.list_sessions(
            db, status=status or None, start=parse_bound(from_, "from", tz), end=parse_bound(to, "to", tz),
            tag=tag or None, limit=limit, offset=offset, feed_id=feed_id_of(request),
        )
        return {"sessions": [queries.session_json(r) for r in rows], "total": total}


@router.get("/current", summary="The live session, or one that ended and may still resume")
def current(request: Request) -> dict[str, Any]:
    with request.app.state.database.read() as db:
        row = queries.current_session(db, feed_id_of(request))
        return {"session": queries.session_json(row) if row else None}


@router.get("/{session_id}", summary="One session with segments, timeline, notes, tags and summary")
def detail(request: Request, session_id: int) -> dict[str, Any]:
    with request.app.state.database.read() as db:
        out = _with_summary(db, queries.session_detail(db, session_id))
        # Income in the session's span that the Events API cannot see, from imported token history.
        end = datetime.fromisoformat(out["ended_at"]) if out["ended_at"] else _now(request)
        out["imported_income"] = span_income(db, out["feed_id"], datetime.fromisoformat(out["started_at"]), end)
        # Viewers sampled from the Stats API during the session (null when none): see SampledViewersOut.
        out["sampled_viewers"] = session_sampled(db, out, _now(request))[1]
        return out


def _with_summary(db: Any, out: dict[str, Any]) -> dict[str, Any]:
    # Sessions sit below summaries in the layers, so the web layer attaches the latest version.
    out["summary"] = summary_json(latest_summary(db, out["id"]))
    return out


def _act(request: Request, session_id: int, action: Any) -> dict[str, Any]:
    with request.app.state.database.write() as db:
        result_id = action(db) or session_id
    with request.app.state.database.read() as db:
        return _with_summary(db, queries.session_detail(db, result_id))


@router.post("/{session_id}/end", summary="End a live session now")
def end(request: Request, session_id: int) -> dict[str, Any]:
    return _act(request, session_id, lambda db: manual.end_now(db, session_id, _now(request), _windows(request, db)))


@router.post("/{session_id}/finalize", summary="Close a session for good now")
def finalize(request: Request, session_id: int) -> dict[str, Any]:
    return _act(request, session_id,
                lambda db: manual.finalize_now(db, session_id, _now(request), _windows(request, db)))


@router.post("/{session_id}/reopen", summary="Make the latest session live again")
def reopen(request: Request, session_id: int) -> dict[str, Any]:
    return _act(request, session_id, lambda db: manual.reopen(db, session_id, _now(request), _windows(request, db)))


@router.post("/{session_id}/split", summary="Split at a time; answers with the new (later) session")
def split(request: Request, session_id: int, body: SplitIn) -> dict[str, Any]:
    return _act(request, session_id,
                lambda db: manual.split(db, session_id, body.at, _now(request), _windows(request, db)))


@router.post("/{session_id}/merge", summary="Merge with the previous or next session")
def merge(request: Request, session_id: int, body: MergeIn) -> dict[str, Any]:
    return _act(request, session_id, lambda db: manual.merge(db, session_id, body.direction, _now(request)))


@router.post("/{session_id}/end-time", summary="Correct the end time of a stopped session")
def end_time(request: Request, session_id: int, body: EndTimeIn) -> dict[str, Any]:
    return _act(request, session_id,
                lambda db: manual.correct_end(db, session_id, body.at, _now(request), _windows(request, db)))


@router.post("/{session_id}/recompute", summary="Recompute the stats from the stored events")
def recompute(request: Request, session_id: int) -> dict[str, Any]:
    def action(db: Any) -> None:
        queries.get_session_row(db, session_id)
        refresh_stats(db, [session_id], _now(request))

    return _act(request, session_id, action)


@router.put("/{session_id}/notes", summary="Set notes and/or tags")
def notes(request: Request, session_id: int, body: NotesIn) -> dict[str, Any]:
    def action(db: Any) -> None:
        set_notes(db, queries.get_session_row(db, session_id), _now(request), notes=body.notes, tags=body.tags)

    return _act(request, session_id, action)
