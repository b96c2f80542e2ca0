"""Leaderboards JSON API and its exports: ``GET /api/leaderboards`` (definitions in
docs/leaderboards.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from greenroom.leaderboards import service
from greenroom.leaderboards.periods import MAX_WEEKS_BACK
from greenroom.leaderboards.queries import MAX_LIMIT
from greenroom.prefs.service import effective, week_start
from greenroom.web.api.people_common import clock, feed_id_of
from greenroom.web.api.schemas import ERROR_RESPONSES, ErrorOut
from greenroom.web.exporting import check_format, export_response

router = APIRouter(prefix="/api/leaderboards", tags=["leaderboards"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The board as JSON; with `format`, a download of exactly the rows of this page.",
          "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {}}},
    400: {"model": ErrorOut, "description": "Unknown period, metric, format or shareable value."},
    404: {"model": ErrorOut, "description": "The room has no session with this id."},
    **ERROR_RESPONSES,
}


class BadgeOut(BaseModel):
    key: str
    label: str


class LeaderboardRowOut(BaseModel):
    rank: int = Field(description="1-based position on the whole board.")
    username: str | None = Field(description="Lower-case username; null for the masked anonymous row.")
    display_name: str = Field(description="As the feed writes the name; 'Anonymous' for the masked row.")
    anonymous: bool = Field(description="True only for the masked row of a shareable board (all anonymous tips).")
    value: int = Field(description="Tokens, tips, visits, watch seconds or chat messages.")
    share: float = Field(description="value ÷ the board's grand total, 0..1.")
    reached_at: datetime = Field(description="When the person reached this total (the tie-break: earlier wins).")
    anon_value: int | None = Field(default=None, description="Private boards: the anonymous part of value.")
    badges: list[BadgeOut]
    profile_url: str | None


class LeaderboardOut(BaseModel):
    period: Literal["session", "week", "month", "all"]
    metric: Literal["tokens", "tips", "visits", "watch_time", "chat"]
    label: str = Field(description="The period in words, in the owner's time zone.")
    start: datetime | None = Field(description="Start of the period (UTC, inclusive); null for all time.")
    end: datetime | None = Field(description="End of the period (UTC, exclusive); null for all time or a "
                                             "session still going.")
    session_id: int | None
    offset: int = Field(description="Weeks or months back (0 = the current one).")
    timezone: str
    week_start: str
    shareable: bool
    page: int
    limit: int
    total_rows: int = Field(description="People (and the masked row) on the whole board.")
    grand_total: int = Field(description="Sum of every row's value on the whole board.")
    tie_break: str
    rows: list[LeaderboardRowOut]


def read_view(request: Request, q: service.Query) -> tuple[service.View, str, str]:
    """The board, with the owner's effective time zone and week start."""
    with request.app.state.database.read() as db:
        tz = effective(db, request.app.state.settings).timezone
        first_day = week_start(db)
        view = service.build(db, feed_id_of(request), q, now=clock(request), tz=tz, week_start=first_day)
    return view, tz, first_day


def view_json(view: service.View, tz: str, first_day: str) -> dict[str, Any]:
    q = view.query
    period = service.describe(view)
    return {
        "period": q.period, "metric": q.metric, "label": period["label"], "start": period["start"],
        "end": period["end"], "session_id": period["session_id"], "offset": q.offset, "timezone": tz,
        "week_start": first_day, "shareable": q.shareable, "page": q.page, "limit": q.limit,
        "total_rows": view.total_rows, "grand_total": view.grand_total, "tie_break": service.TIE_BREAK,
        "rows": [{k: v for k, v in r.items() if k not in ("value_text", "share_text", "image_url")}
                 for r in view.rows],
    }


@router.get("", summary="A leaderboard (or its CSV/JSON export)", response_model=LeaderboardOut,
            responses=RESPONSES)
def get_leaderboard(
    request: Request,
    period: str = Query(default="session", max_length=10, description="session, week, month or all"),
    metric: str = Query(default="tokens", max_length=12, description="tokens, tips, visits, watch_time or chat"),
    session_id: int | None = Query(default=None, ge=1, le=2**62, description="Session board: which session "
                                                                             "(default: the latest)."),
    offset: int = Query(default=0, ge=0, le=MAX_WEEKS_BACK, description="Weeks or months back."),
    limit: int = Query(default=service.DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    page: int = Query(default=1, ge=1, le=1_000_000),
    shareable: str | None = Query(default=None, max_length=5, description="1: mask anonymous tippers."),
    format: str | None = Query(default=None, max_length=8,  # noqa: A002
                               description="csv or json: download the rows of this page (same view)."),
) -> Any:
    fmt = check_format(format)
    q = service.Query(period=period.strip().lower(), metric=metric.strip().lower(), session_id=session_id,
                      offset=offset, page=page, limit=limit, shareable=service.parse_shareable(shareable))
    view, tz, first_day = read_view(request, q)
    if fmt is not None:
        rows, columns = service.export_rows(view)
        return export_response(rows, columns, fmt, service.export_basename(view))
    return view_json(view, tz, first_day)

