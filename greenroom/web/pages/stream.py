"""Live updates for pages, as Server-Sent Events.

``GET /events/stream?after=<store position>`` sends every event stored after that position
(``event: event``, ``id:`` = position, so a reconnecting browser resumes through Last-Event-ID and
misses nothing) and the ingest status whenever it changes (``event: status``). One connection lasts
at most ``stream_seconds``; the browser then reconnects by itself. The store is polled once a second
from a worker thread: no database work ever runs on the event loop.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from greenroom.web import formatting
from greenroom.web.event_queries import events_after_pk, newest_pk, views
from greenroom.web.status import NO_FEED, FeedStatus, active_feed_status, feed_statuses
from greenroom.web.templating import feed_status, now

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
BATCH = 200


def status_payload(status: FeedStatus, request: Request) -> dict[str, Any]:
    tz = request.app.state.settings.timezone
    moment = now(request)
    return {
        "state": status.state,
        "state_label": formatting.state_label(status.state),
        "is_demo": status.is_demo,
        "url_masked": status.url_masked or "",
        "last_poll": formatting.format_relative(status.last_poll_at, moment),
        "last_poll_title": formatting.format_datetime(status.last_poll_at, tz),
        "last_event": formatting.format_relative(status.last_event_at, moment),
        "last_event_title": formatting.format_datetime(status.last_event_at, tz),
        "events_stored": f"{status.events_stored:,}",
        "events_quarantined": f"{status.events_quarantined:,}",
        "error": status.error or "",
        "banner": formatting.feed_banner(status.state, status.last_event_at, tz) if status.failing else "",
    }


def _frame(kind: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=True)}\n\n"


@router.get("/events/stream")
def stream(request: Request, after: int | None = None) -> StreamingResponse:
    last_event_id = request.headers.get("last-event-id", "")
    start = int(last_event_id) if last_event_id.isdigit() else after
    database = request.app.state.database
    tz = request.app.state.settings.timezone
    room = feed_status(request).feed_id  # the room being looked at, fixed for this stream

    def room_status(db: Any) -> FeedStatus:
        if room is None:
            return active_feed_status(db, now=now(request))
        return next((s for s in feed_statuses(db, now=now(request)) if s.feed_id == room), NO_FEED)

    def poll(position: int | None, with_status: bool) -> tuple[int, list[formatting.EventView], FeedStatus | None]:
        with database.read() as db:
            if position is None:  # no position given: only what is stored from now on
                return newest_pk(db), [], None
            rows = views(events_after_pk(db, position, BATCH, feed_id=room), tz)
            status = room_status(db) if with_status else None
        return (rows[-1].pk if rows else position), rows, status

    async def frames() -> AsyncIterator[str]:
        position = start
        deadline = anyio.current_time() + request.app.state.stream_seconds
        yield "retry: 3000\n\n"
        sent_status: dict[str, Any] | None = None
        last_write = last_status_check = 0.0
        while anyio.current_time() < deadline and not await request.is_disconnected():
            clock = anyio.current_time()
            check_status = clock - last_status_check >= 5 * POLL_SECONDS
            position, rows, status = await anyio.to_thread.run_sync(poll, position, check_status)
            for row in rows:
                yield _frame("event", row.as_dict(), row.pk)
                last_write = clock
            if status is not None:
                last_status_check = clock
                payload = status_payload(status, request)
                if payload != sent_status:
                    sent_status = payload
                    yield _frame("status", payload)
                    last_write = clock
            if clock - last_write >= HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"  # proxies close connections that stay silent
                last_write = clock
            await anyio.sleep(POLL_SECONDS)

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})
