"""Stats API samples as JSON (and CSV/JSON exports): the latest sample with the account's state,
the samples of a time range, and the viewers sampled during a session (used by the session API
and page)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from greenroom.errors import BadRequest
from greenroom.events.models import Feed
from greenroom.statsapi import queries
from greenroom.web.api.people_common import room_param
from greenroom.web.api.schemas import ERROR_RESPONSES, ErrorOut
from greenroom.web.exporting import check_format, export_response

router = APIRouter(prefix="/api/stats", tags=["stats api samples"], dependencies=[Depends(room_param)])


class SampleOut(BaseModel):
    sampled_at: datetime = Field(description="When Greenroom took the sample (the Stats API refreshes every 5 min).")
    broadcaster: str = Field(description="The username named in the Stats API URL.")
    feed_id: int | None = Field(description="The room's feed; null while that broadcaster has no feed yet.")
    num_viewers: int | None = Field(description="Everyone in the room, guests included.")
    num_registered_viewers: int | None
    num_tokened_viewers: int | None
    num_followers: int | None
    token_balance: int | None
    tips_in_last_hour: int | None
    votes_up: int | None = Field(description="Thumbs up in the past 90 days.")
    votes_down: int | None
    satisfaction_score: float | None = Field(description="Percent thumbs up.")
    time_online_minutes: int | None = Field(description="Minutes broadcasting; null when not broadcasting.")
    last_broadcast: datetime | None
    online: bool


class SamplesOut(BaseModel):
    samples: list[SampleOut] = Field(description="Oldest first.")
    total: int = Field(description="Samples in the range (all pages).")


class AccountError(BaseModel):
    message: str = Field(description="Why the last sample failed, e.g. 'HTTP 401: token rejected' (no token).")
    at: datetime


class LatestOut(BaseModel):
    configured: bool = Field(description="Whether a Stats API URL is set (environment or Admin › Settings).")
    username: str | None
    url_masked: str | None = Field(description="The Stats API URL with the token masked.")
    sample: SampleOut | None = Field(description="The newest sample; null before the first one.")
    error: AccountError | None = Field(description="Set when the last attempt failed.")


class SampledViewersOut(BaseModel):
    """The ``sampled_viewers`` field of a session (``GET /api/sessions/{id}``)."""

    peak: int
    average: float
    samples: int
    first_at: datetime
    last_at: datetime
    source: str


def parse_bound(value: str | None, name: str, tz: str) -> datetime | None:
    """An ISO date or time; without a zone it is read in the owner's time zone."""
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(f"{name} must be an ISO date or time, like 2026-11-28 or 2026-11-28T21:05") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=ZoneInfo(tz))


BAD_RANGE = {400: {"model": ErrorOut, "description": "A bound or the export format is not understood."}}
EXPORT = {200: {"content": {"text/csv": {}, "application/json": {}},
                "description": "With format=csv or format=json: a download of every sample in the range."}}


@router.get("/samples", response_model=SamplesOut, summary="Stats API samples of a time range, oldest first",
            responses={**ERROR_RESPONSES, **BAD_RANGE, **EXPORT})
def samples(
    request: Request,
    from_: str | None = Query(default=None, alias="from", description="Sampled at or after (ISO date/time; "
                              "without a zone in the owner's time zone)."),
    to: str | None = Query(default=None, description="Sampled before (ISO date/time)."),
    username: str | None = Query(default=None, max_length=64, description="Only this account's samples."),
    limit: int = Query(default=500, ge=1, le=queries.MAX_LIMIT),
    offset: int = Query(default=0, ge=0),
    format: str | None = Query(default=None, description="csv or json: download every sample in the range."),  # noqa: A002
) -> Any:
    tz = request.app.state.settings.timezone
    fmt = check_format(format)
    start, end = parse_bound(from_, "from", tz), parse_bound(to, "to", tz)
    if end is not None and to is not None and len(to.strip()) == 10:
        end += timedelta(days=1)  # a "to" date includes that whole day
    if fmt is not None:
        def export_rows() -> Any:
            # One short read per page: a slow download holds no transaction open.
            skip = 0
            while True:
                with request.app.state.database.read() as db:
                    page, _ = queries.samples(db, start=start, end=end, broadcaster=username, limit=1000,
                                              offset=skip, with_total=False)
                    batch = [queries.sample_json(r) for r in page]
                yield from batch
                if len(batch) < 1000:
                    return
                skip += len(batch)

        return export_response(export_rows(), queries.COLUMNS, fmt, "stats-samples")
    with request.app.state.database.read() as db:
        rows, total = queries.samples(db, start=start, end=end, broadcaster=username, limit=limit, offset=offset)
        return {"samples": [queries.sample_json(r) for r in rows], "total": total}


@router.get("/latest", response_model=LatestOut, summary="The newest Stats API sample and the account's state",
            responses=ERROR_RESPONSES)
def latest(request: Request) -> dict[str, Any]:
    with request.app.state.database.read() as db:
        return queries.account_json(queries.account(db, request.app.state.settings))


def session_sampled(db: Session, detail: dict[str, Any], now: datetime) -> tuple[list[dict[str, Any]],
                                                                                  dict[str, Any] | None]:
    """(points, summary) of the viewers sampled between a session's start and its end (now while
    it is live), from ``session_detail`` output."""
    feed = db.get(Feed, detail["feed_id"])
    if feed is None:
        return [], None
    start = datetime.fromisoformat(detail["started_at"])
    end = datetime.fromisoformat(detail["ended_at"]) if detail.get("ended_at") else now
    points = queries.room_viewers(db, feed.id, feed.broadcaster, start, max(start, end))
    return points, queries.sampled_viewers(points)
