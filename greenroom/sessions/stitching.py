"""Segments and sessions from broadcastStart/broadcastStop. Pure: no I/O, no clock.

The stitcher walks events in stream (ingest) order and decides, for each, which session it
belongs to. Its only clock is the events' own time, so live ingest (batch by batch) and a rebuild
(chunk by chunk) reach the same result from the same stream. The rules for odd sequences are
listed in docs/sessions.md; each is marked below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from greenroom.sessions.models import SessionStatus

START = "broadcastStart"
STOP = "broadcastStop"
_REOPENABLE = (SessionStatus.ENDED, SessionStatus.PENDING_FINALIZE)


@dataclass(frozen=True, slots=True)
class EventRef:
    """The little the stitcher needs to know about an event."""

    pk: int
    method: str
    at: datetime


@dataclass
class Draft:
    """A session as the stitcher sees it. ``id`` is None until the session is stored."""

    id: int | None
    status: str
    started_at: datetime
    last_event_at: datetime
    ended_at: datetime | None = None
    finalize_after: datetime | None = None
    segments: list[list[datetime | None]] = field(default_factory=list)
    linked: list[int] = field(default_factory=list)  # event pks newly linked by this stitch
    changed: bool = False

    @property
    def is_active(self) -> bool:
        return self.status == SessionStatus.ACTIVE


def end_draft(draft: Draft, at: datetime, merge_window: timedelta) -> None:
    """Close the open segment at ``at`` (never before it began) and start the merge window."""
    if draft.segments and draft.segments[-1][1] is None:
        start = draft.segments[-1][0]
        assert start is not None
        at = max(at, start)
        draft.segments[-1][1] = at
    draft.status = SessionStatus.ENDED
    draft.ended_at = at
    draft.finalize_after = at + merge_window
    draft.changed = True


def stitch(
    current: Draft | None,
    events: Iterable[EventRef],
    *,
    merge_window: timedelta,
    stale_after: timedelta,
) -> list[Draft]:
    """Apply ``events`` (in stream order) to the feed's latest session ``current``.

    Returns ``current`` (if given) followed by every session the events opened, each with the
    event pks linked to it. Events outside any broadcast are linked to nothing.
    """
    drafts: list[Draft] = [current] if current is not None else []
    for event in events:
        cur = drafts[-1] if drafts else None
        # Rule: an active session silent for longer than the stale timeout ended at its last
        # event. Applied here too (not only by the watchdog job) so the outcome does not depend on
        # whether the worker happened to run before this event arrived.
        if cur is not None and cur.is_active and event.at - cur.last_event_at > stale_after:
            end_draft(cur, cur.last_event_at, merge_window)
        target: Draft | None = None
        if event.method == START:
            if cur is not None and cur.is_active:
                target = cur  # Rule: a start while active continues the running segment.
            elif (
                cur is not None
                and cur.status in _REOPENABLE
                and cur.finalize_after is not None
                and cur.ended_at is not None
                and event.at <= cur.finalize_after
            ):
                # Rule: a start within the merge window re-opens the session: a new segment.
                cur.segments.append([max(event.at, cur.ended_at), None])
                cur.status = SessionStatus.ACTIVE
                cur.ended_at = None
                cur.finalize_after = None
                target = cur
            else:
                target = Draft(
                    id=None, status=SessionStatus.ACTIVE, started_at=event.at, last_event_at=event.at,
                    segments=[[event.at, None]],
                )
                drafts.append(target)
        elif event.method == STOP:
            if cur is not None and cur.is_active:
                target = cur
                # Stops are linked to the session they end; the segment closes at the stop.
                target.linked.append(event.pk)
                target.last_event_at = max(target.last_event_at, event.at)
                end_draft(target, event.at, merge_window)
                continue
            # Rule: a stop with no active session (a second stop, a stop without a start) changes
            # nothing and is linked to nothing.
        elif cur is not None and cur.is_active:
            target = cur
        if target is None:
            # Rule: an event stamped inside a closed segment (delivered late, after the stop) still
            # belongs to that session; it changes no lifecycle.
            target = next((d for d in reversed(drafts) if in_segments(d.segments, event.at)), None)
        if target is not None:
            target.linked.append(event.pk)
            target.last_event_at = max(target.last_event_at, event.at)
            target.changed = True
    return drafts


def in_segments(segments: list[list[datetime | None]], at: datetime) -> bool:
    return any(s is not None and e is not None and s <= at <= e for s, e in segments)


def closed_segments(segments: list[list[datetime | None]], open_end: datetime) -> list[tuple[datetime, datetime]]:
    """Segments with the open one (if any) closed at ``open_end``, never before its start."""
    result: list[tuple[datetime, datetime]] = []
    for start, end in segments:
        assert start is not None
        stop = end if end is not None else max(open_end, start)
        result.append((start, stop))
    return result


def segments_to_json(segments: list[list[datetime | None]]) -> list[list[str | None]]:
    return [[s.isoformat() if s else None, e.isoformat() if e else None] for s, e in segments]


def segments_from_json(raw: list[list[str | None]] | None) -> list[list[datetime | None]]:
    return [[datetime.fromisoformat(s) if s else None, datetime.fromisoformat(e) if e else None]
            for s, e in (raw or [])]
