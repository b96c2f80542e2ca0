"""Response schemas of the JSON API. Times are ISO-8601 in UTC."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_serializer

IngestState = Literal["polling", "backing_off", "credentials_rejected", "stopped", "demo"]


class IngestOut(BaseModel):
    state: IngestState = Field(description="'stopped' whenever no ingester holds the feed's lease.")
    last_poll_at: datetime | None
    last_event_at: datetime | None
    events_stored: int
    error: str | None = Field(description="The last poll error, with any token masked.")


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="'ok' while events are being received (or demo).")
    ingest: IngestOut


class EventOut(BaseModel):
    id: str = Field(description="The upstream event id.")
    method: str
    username: str | None = Field(description="Lower-cased username, if the event has a user.")
    broadcaster: str | None
    event_time: datetime = Field(description="From the upstream id when it carries a time, else receive time.")
    received_at: datetime
    payload: Any = Field(description="The event exactly as received (a lone UTF-16 surrogate, which UTF-8 "
                                     "cannot carry, is shown as U+FFFD; the store keeps the original).")

    @field_serializer("payload")
    def _utf8_safe(self, payload: Any) -> Any:
        # The feed may send "\ud800"; the answer is UTF-8, which cannot encode it: one such event
        # would otherwise fail the whole page of events.
        return _without_surrogates(payload)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    return value


class EventsOut(BaseModel):
    events: list[EventOut]
    next_after_id: str | None = Field(description="Pass as after_id for the next page; null when no more.")


class FeedOut(BaseModel):
    id: int
    broadcaster: str
    url_masked: str = Field(description="The Events API URL with the token masked.")
    is_demo: bool
    state: IngestState
    reported_state: str = Field(description="What the ingester last wrote, before the liveness check.")
    ingester_alive: bool
    last_poll_at: datetime | None
    last_event_at: datetime | None
    events_stored: int
    events_quarantined: int
    last_error: str | None
    last_error_at: datetime | None


class FeedsOut(BaseModel):
    feeds: list[FeedOut]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Not signed in and no valid bearer token."},
}
