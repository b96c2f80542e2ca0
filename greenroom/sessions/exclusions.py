"""The owner's exclusion list: users who count in no stat (test accounts, the owner's own)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from greenroom.db.util import insert_ignore
from greenroom.errors import BadRequest
from greenroom.events.models import Event
from greenroom.sessions.models import BroadcastSession, SessionEvent, StatExclusion


def _norm(username: str) -> str:
    name = username.strip().lower()
    if not name or len(name) > 64:
        raise BadRequest("a username is 1 to 64 characters")
    return name


def add_exclusion(db: Session, username: str, now: datetime) -> None:
    insert_ignore(db, StatExclusion.__table__, [{"username": _norm(username), "added_at": now}], ["username"])
    mark_stats_stale(db, _norm(username))


def remove_exclusion(db: Session, username: str) -> None:
    db.execute(delete(StatExclusion).where(StatExclusion.username == _norm(username)))
    mark_stats_stale(db, _norm(username))


def mark_stats_stale(db: Session, username: str) -> int:
    """Sessions with this user's events need their stats recomputed. They are only marked here
    (``stats_at`` cleared): a regular may be in hundreds of sessions, too many to recompute inside
    one request. The minute job recomputes marked sessions a few at a time."""
    ids = select(SessionEvent.session_id).join(Event, Event.id == SessionEvent.event_pk).where(
        Event.username == username)
    result = db.execute(update(BroadcastSession).where(BroadcastSession.id.in_(ids)).values(stats_at=None)
                        .execution_options(synchronize_session=False))
    return result.rowcount


def list_exclusions(db: Session) -> list[str]:
    return list(db.execute(select(StatExclusion.username).order_by(StatExclusion.username)).scalars())
