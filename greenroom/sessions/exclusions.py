"""Changing the exclusion list from the sessions side: the list itself is people's
(``greenroom.people.exclusions``); a change here also marks the sessions that user appears in so
their stats are recomputed without them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from greenroom.events.models import Event
from greenroom.people import exclusions as people_exclusions
from greenroom.people.exclusions import list_exclusions, normalise
from greenroom.sessions.models import BroadcastSession, SessionEvent

__all__ = ["add_exclusion", "list_exclusions", "mark_stats_stale", "remove_exclusion", "set_excluded"]


def add_exclusion(db: Session, username: str, now: datetime) -> None:
    people_exclusions.add_exclusion(db, username, now)
    mark_stats_stale(db, normalise(username))


def remove_exclusion(db: Session, username: str) -> None:
    people_exclusions.remove_exclusion(db, username)
    mark_stats_stale(db, normalise(username))


def set_excluded(db: Session, username: str, excluded: bool, now: datetime) -> None:
    if excluded:
        add_exclusion(db, username, now)
    else:
        remove_exclusion(db, username)


def mark_stats_stale(db: Session, username: str) -> int:
    """Sessions with this user's events need their stats recomputed. They are only marked here
    (``stats_at`` cleared): a regular may be in hundreds of sessions, too many to recompute inside
    one request. The minute job recomputes marked sessions a few at a time."""
    ids = select(SessionEvent.session_id).join(Event, Event.id == SessionEvent.event_pk).where(
        Event.username == username)
    result = db.execute(update(BroadcastSession).where(BroadcastSession.id.in_(ids)).values(stats_at=None)
                        .execution_options(synchronize_session=False))
    return result.rowcount

