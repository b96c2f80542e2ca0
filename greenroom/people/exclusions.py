"""The owner's exclusion list (users who count in no stat), as people see it.

The list is a person-level flag, so it belongs here; its table (``stat_exclusions``) and code still
live in ``greenroom.sessions.exclusions``. Sessions sit above people in the layers, so this module
reaches them only at call time, and reads the table through a lightweight table clause rather
than the sessions model. When the model moves into this package, these become the real functions.
"""

from __future__ import annotations

from datetime import datetime
from importlib import import_module
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

# The columns people need of ``stat_exclusions`` (username is its primary key, normalised).
stat_exclusions = table("stat_exclusions", column("username"), column("added_at"))


def _impl() -> Any:
    return import_module("greenroom.sessions.exclusions")


def add_exclusion(db: Session, username: str, now: datetime) -> None:
    _impl().add_exclusion(db, username, now)


def remove_exclusion(db: Session, username: str) -> None:
    _impl().remove_exclusion(db, username)


def list_exclusions(db: Session) -> list[str]:
    return _impl().list_exclusions(db)


def excluded_among(db: Session, usernames: list[str]) -> set[str]:
    """Which of these (normalised) usernames are excluded."""
    if not usernames:
        return set()
    return set(db.execute(select(stat_exclusions.c.username)
                          .where(stat_exclusions.c.username.in_(usernames))).scalars())


def is_excluded(db: Session, username: str) -> bool:
    return bool(excluded_among(db, [username]))


def set_excluded(db: Session, username: str, excluded: bool, now: datetime) -> None:
    if excluded:
        add_exclusion(db, username, now)
    else:
        remove_exclusion(db, username)
