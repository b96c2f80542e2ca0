"""The owner's exclusion list: users who count in no stat and no summary (the owner's own
accounts, test accounts). A person-level flag, so it lives with people; sessions wraps these to
mark the affected sessions' stats for recomputation (``greenroom.sessions.exclusions``), and
callers that change the list should go through that wrapper.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from greenroom.db.util import insert_ignore
from greenroom.errors import BadRequest
from greenroom.people.models import StatExclusion


def normalise(username: str) -> str:
    name = username.strip().lower()
    if not name or len(name) > 64:
        raise BadRequest("a username is 1 to 64 characters")
    return name


def add_exclusion(db: Session, username: str, now: datetime) -> None:
    insert_ignore(db, StatExclusion.__table__, [{"username": normalise(username), "added_at": now}], ["username"])


def remove_exclusion(db: Session, username: str) -> None:
    db.execute(delete(StatExclusion).where(StatExclusion.username == normalise(username)))


def list_exclusions(db: Session) -> list[str]:
    return list(db.execute(select(StatExclusion.username).order_by(StatExclusion.username)).scalars())


def excluded_among(db: Session, usernames: list[str]) -> set[str]:
    """Which of these (normalised) usernames are excluded."""
    if not usernames:
        return set()
    return set(db.execute(select(StatExclusion.username).where(StatExclusion.username.in_(usernames))).scalars())


def is_excluded(db: Session, username: str) -> bool:
    return bool(excluded_among(db, [username]))


def set_excluded(db: Session, username: str, excluded: bool, now: datetime) -> None:
    if excluded:
        add_exclusion(db, username, now)
    else:
        remove_exclusion(db, username)
