"""The owner's manual session controls. Each one is logged in ``session_edits`` (unless it is being
replayed by a rebuild) so that a rebuild reaches the same sessions again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from greenroom.errors import BadRequest, Conflict, NotFound
from greenroom.events.models import Event
from greenroom.sessions.models import BroadcastSession, SessionEdit, SessionEvent, SessionStatus
from greenroom.sessions.notes import merge_notes
from greenroom.sessions.service import Windows, draft_of, latest_session, store_draft
from greenroom.sessions.stats import refresh_stats
from greenroom.sessions.stitching import end_draft, segments_to_json

EDIT_KINDS = ("end", "finalize", "reopen", "split", "merge", "correct_end")


def get_session(db: Session, session_id: int) -> BroadcastSession:
    row = db.execute(
        select(BroadcastSession).where(BroadcastSession.id == session_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no session {session_id}")
    return row


def _record(db: Session, row: BroadcastSession, kind: str, params: dict[str, Any], now: datetime) -> None:
    newest = db.scalar(select(func.max(Event.id)).where(Event.feed_id == row.feed_id)) or 0
    db.execute(insert(SessionEdit).values(
        feed_id=row.feed_id, session_id=row.id, anchor=row.started_at, kind=kind, params=params,
        after_event_pk=newest, created_at=now,
    ))


def _recount(db: Session, session_id: int) -> None:
    count, last = db.execute(
        select(func.count(), func.max(Event.event_time))
        .select_from(SessionEvent).join(Event, Event.id == SessionEvent.event_pk)
        .where(SessionEvent.session_id == session_id)
    ).one()
    values: dict[str, Any] = {"event_count": count}
    if last is not None:
        values["last_event_at"] = last
    db.execute(update(BroadcastSession).where(BroadcastSession.id == session_id).values(**values)
               .execution_options(synchronize_session=False))


def end_now(db: Session, session_id: int, now: datetime, windows: Windows, *, record: bool = True) -> None:
    """End a live session at ``now``; it may still resume within the merge window."""
    row = get_session(db, session_id)
    if row.status != SessionStatus.ACTIVE:
        raise Conflict(f"session {session_id} is {row.status}, not active")
    if record:
        _record(db, row, "end", {"at": now.isoformat()}, now)
    draft = draft_of(row)
    end_draft(draft, now, windows.merge_window)
    store_draft(db, row, draft)
    refresh_stats(db, [row.id], now)


def finalize_now(db: Session, session_id: int, now: datetime, windows: Windows, *, record: bool = True) -> None:
    """Close a session for good now: no later start can re-open it."""
    row = get_session(db, session_id)
    if row.status not in (SessionStatus.ACTIVE, SessionStatus.ENDED):
        raise Conflict(f"session {session_id} is already {row.status}")
    if record:
        _record(db, row, "finalize", {"at": now.isoformat()}, now)
    draft = draft_of(row)
    if draft.is_active:
        end_draft(draft, now, windows.merge_window)
    draft.status = SessionStatus.PENDING_FINALIZE
    draft.finalize_after = now
    store_draft(db, row, draft)
    refresh_stats(db, [row.id], now)


def reopen(db: Session, session_id: int, now: datetime, windows: Windows, *, record: bool = True) -> None:
    """Make the feed's latest session live again (its last segment continues)."""
    row = get_session(db, session_id)
    if row.status == SessionStatus.ACTIVE:
        raise Conflict(f"session {session_id} is already active")
    latest = latest_session(db, row.feed_id)
    if latest is None or latest.id != row.id:
        raise Conflict("only the most recent session of a room can be re-opened")
    if record:
        _record(db, row, "reopen", {}, now)
    draft = draft_of(row)
    draft.segments[-1][1] = None
    draft.status, draft.ended_at, draft.finalize_after = SessionStatus.ACTIVE, None, None
    row.finalized_at = None
    store_draft(db, row, draft)
    refresh_stats(db, [row.id], now)


def split(db: Session, session_id: int, at: datetime, now: datetime, windows: Windows, *,
          record: bool = True, id_hint: int | None = None) -> int:
    """Split a session at ``at``: events from ``at`` on form a new session. Returns its id."""
    row = get_session(db, session_id)
    end = row.ended_at or max(row.last_event_at, now)
    if not row.started_at < at < end:
        raise BadRequest("the split time must fall inside the session")
    if record:
        _record(db, row, "split", {"at": at.isoformat()}, now)
    draft = draft_of(row)
    before: list[list[datetime | None]] = []
    after: list[list[datetime | None]] = []
    for start, stop in draft.segments:
        assert start is not None
        if stop is not None and stop <= at:
            before.append([start, stop])
        elif start >= at:
            after.append([start, stop])
        else:
            before.append([start, at])
            after.append([at, stop])
    hint = {"id": id_hint} if id_hint is not None else {}
    new_id = db.execute(insert(BroadcastSession).values(
        **hint, feed_id=row.feed_id, status=row.status, started_at=at, ended_at=row.ended_at,
        last_event_at=max(row.last_event_at, at), finalize_after=row.finalize_after,
        segments=segments_to_json(after), event_count=0, stats={}, timeline=[], subjects=[],
        finalized_at=row.finalized_at,
    ).returning(BroadcastSession.id)).scalar_one()
    moving = select(Event.id).where(Event.feed_id == row.feed_id, Event.event_time >= at)
    db.execute(update(SessionEvent).where(SessionEvent.session_id == row.id, SessionEvent.event_pk.in_(moving))
               .values(session_id=new_id).execution_options(synchronize_session=False))
    draft.segments = before
    if draft.is_active:
        end_draft(draft, at, windows.merge_window)
    else:
        draft.ended_at = at
    store_draft(db, row, draft)
    _recount(db, row.id)
    _recount(db, new_id)
    refresh_stats(db, [row.id, new_id], now)
    return new_id


def adjacent(db: Session, row: BroadcastSession, direction: str) -> BroadcastSession | None:
    query = select(BroadcastSession).where(BroadcastSession.feed_id == row.feed_id, BroadcastSession.id != row.id)
    if direction == "next":
        query = query.where(BroadcastSession.started_at >= row.started_at).order_by(
            BroadcastSession.started_at, BroadcastSession.id)
    else:
        query = query.where(BroadcastSession.started_at <= row.started_at).order_by(
            BroadcastSession.started_at.desc(), BroadcastSession.id.desc())
    return db.execute(query.limit(1)).scalar_one_or_none()


def merge(db: Session, session_id: int, direction: str, now: datetime, *, record: bool = True) -> int:
    """Merge a session with the previous or next one of the same room. The earlier one stays (its
    id, notes first); the later one's segments, events, notes and tags move into it."""
    if direction not in ("previous", "next"):
        raise BadRequest("direction must be 'previous' or 'next'")
    row = get_session(db, session_id)
    other = adjacent(db, row, direction)
    if other is None:
        raise Conflict(f"session {session_id} has no {direction} session to merge with")
    if record:
        _record(db, row, "merge", {"direction": direction}, now)
    keep, gone = (other, row) if direction == "previous" else (row, other)
    keep_draft, gone_draft = draft_of(keep), draft_of(gone)
    keep_draft.segments = sorted(keep_draft.segments + gone_draft.segments, key=lambda s: s[0])  # type: ignore[arg-type,return-value]
    keep_draft.status, keep_draft.ended_at = gone_draft.status, gone_draft.ended_at
    keep_draft.finalize_after = gone_draft.finalize_after
    keep_draft.last_event_at = max(keep_draft.last_event_at, gone_draft.last_event_at)
    db.execute(update(SessionEvent).where(SessionEvent.session_id == gone.id).values(session_id=keep.id)
               .execution_options(synchronize_session=False))
    merge_notes(db, keep.id, gone.id, now)
    gone_id = gone.id
    db.execute(delete(BroadcastSession).where(BroadcastSession.id == gone_id))
    store_draft(db, keep, keep_draft)
    _recount(db, keep.id)
    refresh_stats(db, [keep.id], now)
    return keep.id


def correct_end(db: Session, session_id: int, at: datetime, now: datetime, windows: Windows, *,
                record: bool = True) -> None:
    """Set the end time of a stopped session; events are re-linked to match the new end."""
    row = get_session(db, session_id)
    if row.status == SessionStatus.ACTIVE:
        raise Conflict("end the session before correcting its end time")
    draft = draft_of(row)
    last_start = draft.segments[-1][0]
    assert last_start is not None
    if at <= last_start:
        raise BadRequest("the end time must fall after the start of the last segment")
    following = adjacent(db, row, "next")
    if following is not None and at > following.started_at:
        raise BadRequest("the end time must fall before the next session starts")
    if record:
        _record(db, row, "correct_end", {"at": at.isoformat()}, now)
    old_end = draft.ended_at or at
    late = select(Event.id).where(Event.feed_id == row.feed_id, Event.event_time > at)
    db.execute(delete(SessionEvent).where(SessionEvent.session_id == row.id, SessionEvent.event_pk.in_(late))
               .execution_options(synchronize_session=False))
    if at > old_end:
        linked = select(SessionEvent.event_pk)
        gap = db.execute(select(Event.id).where(
            Event.feed_id == row.feed_id, Event.event_time > old_end, Event.event_time <= at,
            Event.known.is_(True), Event.id.not_in(linked),
        )).scalars().all()
        if gap:
            db.execute(insert(SessionEvent), [{"event_pk": pk, "session_id": row.id} for pk in gap])
    draft.segments[-1][1] = at
    draft.ended_at = at
    if draft.status == SessionStatus.ENDED:
        draft.finalize_after = at + windows.merge_window
    store_draft(db, row, draft)
    _recount(db, row.id)
    refresh_stats(db, [row.id], now)
