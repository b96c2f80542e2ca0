"""Reading a session's linked events and storing its rollup (the pure part is rollups.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, delete, insert, null, select, update
from sqlalchemy.orm import Session

from greenroom.db.util import chunks
from greenroom.events.models import Event
from greenroom.events.parse import MalformedEvent, parse_event
from greenroom.people.models import StatExclusion
from greenroom.sessions.models import BroadcastSession, SessionEvent, SessionVisitor
from greenroom.sessions.rollups import Rollup, StatEvent, rollup
from greenroom.sessions.stitching import closed_segments, segments_from_json


def excluded_users(db: Session) -> frozenset[str]:
    return frozenset(db.execute(select(StatExclusion.username)).scalars())


_NEEDS_PAYLOAD = ("tip", "mediaPurchase", "roomSubjectChange")


def session_stat_events(db: Session, session_id: int) -> list[StatEvent]:
    # Only tips, media and subjects need their payload decoded; most events are chat and
    # enter/leave, for which method, user and time say everything (3x faster on a rebuild).
    payload = case((Event.method.in_(_NEEDS_PAYLOAD), Event.payload), else_=null())
    rows = db.execute(
        select(Event.id, Event.method, Event.username, Event.event_time, Event.received_at, payload)
        .join(SessionEvent, SessionEvent.event_pk == Event.id)
        .where(SessionEvent.session_id == session_id)
        .order_by(Event.id)
        .execution_options(yield_per=2000)
    )
    return [_stat_event(*row) for row in rows]


def _stat_event(pk: int, method: str, username: str | None, at: datetime, received_at: datetime,
                payload: object) -> StatEvent:
    tokens, anon, subject = 0, False, None
    if method in _NEEDS_PAYLOAD:
        try:
            parsed = parse_event(payload, received_at)
        except MalformedEvent:  # stored events parsed once already; this cannot normally happen
            return StatEvent(pk, method, username, at)
        if parsed.tip is not None:
            tokens, anon = parsed.tip.tokens, parsed.tip.is_anon
        elif parsed.media is not None:
            tokens = parsed.media.tokens
        subject = parsed.subject
    return StatEvent(pk, method, username, at, tokens, anon, subject)


def earlier_visitors(db: Session, feed_id: int, started_at: datetime, usernames: Iterable[str]) -> set[str]:
    """Which of ``usernames`` entered the room during an earlier session of the same feed."""
    found: set[str] = set()
    for part in chunks(sorted(usernames), 500):
        found.update(db.execute(
            select(SessionVisitor.username).distinct()
            .join(BroadcastSession, BroadcastSession.id == SessionVisitor.session_id)
            .where(
                SessionVisitor.feed_id == feed_id, SessionVisitor.username.in_(part),
                BroadcastSession.started_at < started_at,
            )
        ).scalars())
    return found


def store_visitors(db: Session, row: BroadcastSession, entered: set[str]) -> None:
    """Replace the session's visitor rows (a handful of rows per refresh, never per event)."""
    existing = set(db.execute(select(SessionVisitor.username).where(SessionVisitor.session_id == row.id)).scalars())
    gone = existing - entered
    if gone:
        for part in chunks(sorted(gone), 500):
            db.execute(delete(SessionVisitor).where(SessionVisitor.session_id == row.id,
                                                    SessionVisitor.username.in_(part)))
    fresh = entered - existing
    if fresh:
        db.execute(insert(SessionVisitor), [
            {"session_id": row.id, "username": name, "feed_id": row.feed_id}
            for name in sorted(fresh)
        ])


def compute_rollup(
    db: Session, row: BroadcastSession, excluded: frozenset[str], seen: set[str] | None = None, *,
    store: bool = True,
) -> Rollup:
    """``seen`` (rebuild): everyone who entered during earlier sessions of the feed, kept in
    memory while sessions are processed in start order; it is extended with this session's
    visitors. Without it the same set is asked of the database."""
    events = session_stat_events(db, row.id)
    entered = {e.username for e in events if e.method == "userEnter" and e.username}
    if store:
        store_visitors(db, row, entered)
    visitors = entered - excluded
    if seen is not None:
        earlier = visitors & seen
        seen |= entered
    else:
        earlier = earlier_visitors(db, row.feed_id, row.started_at, visitors) if visitors else set()
    segments = closed_segments(segments_from_json(row.segments), row.last_event_at)
    return rollup(events, segments, excluded=excluded, earlier_visitors=earlier)


def refresh_stats(
    db: Session, session_ids: Iterable[int], now: datetime, *, seen: dict[int, set[str]] | None = None
) -> None:
    """Recompute and store stats, timeline and subjects of the given sessions. ``seen`` (rebuild
    only, sessions given in start order) carries earlier visitors per feed between calls."""
    excluded = excluded_users(db)
    for sid in session_ids:
        row = db.execute(
            select(BroadcastSession).where(BroadcastSession.id == sid).execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if row is None:
            continue
        result = compute_rollup(db, row, excluded, None if seen is None else seen.setdefault(row.feed_id, set()))
        db.execute(
            update(BroadcastSession).where(BroadcastSession.id == sid)
            .values(stats=result.stats, timeline=result.timeline, subjects=result.subjects, stats_at=now)
            .execution_options(synchronize_session=False)
        )
