"""Read side: sessions as the API and pages show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenroom.errors import BadRequest, NotFound
from greenroom.events.models import Event
from greenroom.sessions.models import (
    BroadcastSession,
    SessionEdit,
    SessionEvent,
    SessionNote,
    SessionStatus,
    SessionVisitor,
)
from greenroom.sessions.rollups import empty_stats
from greenroom.sessions.stats import earlier_visitors, excluded_users

MAX_LIMIT = 200


def session_json(row: BroadcastSession) -> dict[str, Any]:
    stats = empty_stats()
    stats.update(row.stats or {})
    return {
        "id": row.id,
        "feed_id": row.feed_id,
        "status": row.status,
        "started_at": row.started_at.isoformat(),
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "last_event_at": row.last_event_at.isoformat(),
        "finalize_after": row.finalize_after.isoformat() if row.finalize_after else None,
        "event_count": row.event_count,
        "stats": stats,
    }


def list_sessions(
    db: Session, *, status: str | None = None, start: datetime | None = None, end: datetime | None = None,
    feed_id: int | None = None, tag: str | None = None, limit: int = 20, offset: int = 0,
) -> tuple[list[BroadcastSession], int]:
    """Newest first. ``start``/``end`` bound the start time (end exclusive)."""
    if status is not None and status not in {s.value for s in SessionStatus}:
        raise BadRequest(f"unknown status {status!r}")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise BadRequest(f"limit is 1..{MAX_LIMIT}, offset ≥ 0")
    query = select(BroadcastSession)
    if status:
        query = query.where(BroadcastSession.status == status)
    if start:
        query = query.where(BroadcastSession.started_at >= start)
    if end:
        query = query.where(BroadcastSession.started_at < end)
    if feed_id is not None:
        query = query.where(BroadcastSession.feed_id == feed_id)
    if tag:
        rows = db.execute(query.order_by(BroadcastSession.started_at.desc(), BroadcastSession.id.desc())).scalars()
        # Tags live in owner data (JSON); filtered here, not in SQL, to stay portable.
        tagged = {n.session_id for n in db.execute(select(SessionNote)).scalars() if tag in (n.tags or [])}
        all_rows = [r for r in rows if r.id in tagged]
        return all_rows[offset : offset + limit], len(all_rows)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = db.execute(
        query.order_by(BroadcastSession.started_at.desc(), BroadcastSession.id.desc()).limit(limit).offset(offset)
    ).scalars().all()
    return list(page), total


def current_session(db: Session, feed_id: int | None = None) -> BroadcastSession | None:
    """The live session (or, failing that, one that ended and may still resume)."""
    for status in (SessionStatus.ACTIVE, SessionStatus.ENDED):
        query = select(BroadcastSession).where(BroadcastSession.status == status)
        if feed_id is not None:
            query = query.where(BroadcastSession.feed_id == feed_id)
        row = db.execute(query.order_by(BroadcastSession.started_at.desc()).limit(1)).scalar_one_or_none()
        if row is not None:
            return row
    return None


def get_session_row(db: Session, session_id: int) -> BroadcastSession:
    row = db.get(BroadcastSession, session_id)
    if row is None:
        raise NotFound(f"no session {session_id}")
    return row


def session_detail(db: Session, session_id: int) -> dict[str, Any]:
    row = get_session_row(db, session_id)
    out = session_json(row)
    note = db.get(SessionNote, row.id)
    out["segments"] = [{"start": s, "end": e} for s, e in (row.segments or [])]
    out["timeline"] = row.timeline or []
    out["subjects"] = row.subjects or []
    out["notes"] = note.notes if note else ""
    out["tags"] = list(note.tags or []) if note else []
    out["summary"] = None  # attached by the summaries feature
    out["edits"] = [
        {"kind": e.kind, "params": e.params, "at": e.created_at.isoformat()}
        for e in db.execute(select(SessionEdit).where(SessionEdit.session_id == row.id)
                            .order_by(SessionEdit.id)).scalars()
    ]
    prev_next = neighbours(db, row)
    out["previous_id"], out["next_id"] = prev_next
    return out


def neighbours(db: Session, row: BroadcastSession) -> tuple[int | None, int | None]:
    base = select(BroadcastSession.id).where(BroadcastSession.feed_id == row.feed_id, BroadcastSession.id != row.id)
    prev = db.scalar(base.where(BroadcastSession.started_at <= row.started_at)
                     .order_by(BroadcastSession.started_at.desc(), BroadcastSession.id.desc()).limit(1))
    nxt = db.scalar(base.where(BroadcastSession.started_at >= row.started_at)
                    .order_by(BroadcastSession.started_at, BroadcastSession.id).limit(1))
    return prev, nxt


def session_events(db: Session, session_id: int, *, methods: list[str] | None = None, limit: int = 100,
                   offset: int = 0) -> tuple[list[Event], int]:
    """The session's events in time order, optionally of some methods only."""
    query = (select(Event).join(SessionEvent, SessionEvent.event_pk == Event.id)
             .where(SessionEvent.session_id == session_id))
    if methods:
        query = query.where(Event.method.in_(methods))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.execute(query.order_by(Event.event_time, Event.id).limit(limit).offset(offset)).scalars().all()
    return list(rows), total


def notes_for(db: Session, session_ids: list[int]) -> dict[int, tuple[str, list[str]]]:
    """Notes and tags of several sessions at once (for list pages)."""
    if not session_ids:
        return {}
    rows = db.execute(select(SessionNote).where(SessionNote.session_id.in_(session_ids))).scalars()
    return {n.session_id: (n.notes, list(n.tags or [])) for n in rows}


AUDIENCE_LIMIT = 200


def audience(db: Session, row: BroadcastSession) -> dict[str, Any]:
    """Followers, unfollowers, fan-club joins and visitors (marked new or returning)."""
    excluded = excluded_users(db)
    people: dict[str, list[str]] = {"follow": [], "unfollow": [], "fanclubJoin": []}
    for method, username in db.execute(
        select(Event.method, Event.username).join(SessionEvent, SessionEvent.event_pk == Event.id)
        .where(SessionEvent.session_id == row.id, Event.method.in_(list(people)))
        .order_by(Event.event_time, Event.id)
    ):
        if username and username not in excluded and username not in people[method]:
            people[method].append(username)
    visitors = sorted(set(db.execute(select(SessionVisitor.username)
                                     .where(SessionVisitor.session_id == row.id)).scalars()) - excluded)
    earlier = earlier_visitors(db, row.feed_id, row.started_at, visitors) if visitors else set()
    return {
        "followers": people["follow"][:AUDIENCE_LIMIT], "unfollowers": people["unfollow"][:AUDIENCE_LIMIT],
        "fanclub_joins": people["fanclubJoin"][:AUDIENCE_LIMIT],
        "visitors": [{"username": v, "returning": v in earlier} for v in visitors[:AUDIENCE_LIMIT]],
        "visitors_total": len(visitors),
    }


def range_totals(db: Session, *, status: str | None = None, start: datetime | None = None,
                 end: datetime | None = None, feed_id: int | None = None) -> dict[str, Any]:
    """Totals over every session the list filters select (not just the shown page)."""
    query = select(BroadcastSession.stats)
    if feed_id is not None:
        query = query.where(BroadcastSession.feed_id == feed_id)
    if status:
        query = query.where(BroadcastSession.status == status)
    if start:
        query = query.where(BroadcastSession.started_at >= start)
    if end:
        query = query.where(BroadcastSession.started_at < end)
    out = {"sessions": 0, "seconds": 0, "tokens": 0, "net_followers": 0, "peak_viewers": 0, "avg_viewers": 0.0}
    weighted = 0.0
    for (stats,) in db.execute(query):
        stats = stats or {}
        out["sessions"] += 1
        out["seconds"] += stats.get("duration_seconds", 0)
        out["tokens"] += stats.get("tokens", 0)
        out["net_followers"] += stats.get("net_followers", 0)
        out["peak_viewers"] = max(out["peak_viewers"], stats.get("peak_viewers", 0))
        weighted += stats.get("avg_viewers", 0.0) * stats.get("duration_seconds", 0)
    out["avg_viewers"] = round(weighted / out["seconds"], 2) if out["seconds"] else 0.0
    out["tokens_per_hour"] = round(out["tokens"] * 3600 / out["seconds"], 2) if out["seconds"] else 0.0
    return out
