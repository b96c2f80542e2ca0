"""Owner-kept names, the owner's "model" mark, watchlists and the exclusion flag."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from greenroom.db.util import insert_ignore
from greenroom.errors import BadRequest
from greenroom.people.exclusions import set_excluded
from greenroom.people.models import PersonProfile, WatchlistEntry
from greenroom.people.queries import normalise

DEFAULT_WATCHLIST = "Watchlist"


def get_profile(db: Session, feed_id: int, username: str) -> PersonProfile | None:
    return db.get(PersonProfile, (feed_id, normalise(username)))


def _profile(db: Session, feed_id: int, name: str, now: datetime) -> PersonProfile:
    row = db.get(PersonProfile, (feed_id, name))
    if row is None:
        row = PersonProfile(feed_id=feed_id, username=name, real_name="", display_name="", address_terms=[],
                            marked_model=False, updated_at=now)
        db.add(row)
    return row


def set_names(db: Session, feed_id: int, username: str, now: datetime, *, real_name: str | None = None,
              display_name: str | None = None, address_terms: list[str] | None = None) -> PersonProfile:
    row = _profile(db, feed_id, normalise(username), now)
    if real_name is not None:
        row.real_name = real_name.strip()[:200]
    if display_name is not None:
        row.display_name = display_name.strip()[:200]
    if address_terms is not None:
        terms: list[str] = []
        for term in address_terms:
            term = term.strip()[:60]
            if term and term not in terms:
                terms.append(term)
        row.address_terms = terms[:20]
    row.updated_at = now
    db.flush()
    return row


def set_marked_model(db: Session, feed_id: int, username: str, marked: bool, now: datetime) -> None:
    row = _profile(db, feed_id, normalise(username), now)
    row.marked_model = marked
    row.updated_at = now
    db.flush()


def names_json(row: PersonProfile | None) -> dict[str, Any]:
    if row is None:
        return {"real_name": "", "display_name": "", "address_terms": [], "marked_model": False}
    return {"real_name": row.real_name, "display_name": row.display_name,
            "address_terms": list(row.address_terms or []), "marked_model": row.marked_model}


def _list_name(name: str | None) -> str:
    value = (name or DEFAULT_WATCHLIST).strip()[:60]
    if not value:
        raise BadRequest("a watchlist needs a name")
    return value


def add_to_watchlist(db: Session, feed_id: int, username: str, now: datetime, list_name: str | None = None) -> None:
    insert_ignore(db, WatchlistEntry.__table__, [{"feed_id": feed_id, "username": normalise(username),
                                                  "list_name": _list_name(list_name), "added_at": now}],
                  ["feed_id", "username", "list_name"])


def remove_from_watchlist(db: Session, feed_id: int, username: str, list_name: str | None = None) -> None:
    db.execute(delete(WatchlistEntry).where(WatchlistEntry.feed_id == feed_id,
                                            WatchlistEntry.username == normalise(username),
                                            WatchlistEntry.list_name == _list_name(list_name)))


def watchlists_of(db: Session, feed_id: int, usernames: list[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    if not usernames:
        return result
    for name, list_name in db.execute(select(WatchlistEntry.username, WatchlistEntry.list_name).where(
            WatchlistEntry.feed_id == feed_id, WatchlistEntry.username.in_(usernames))
            .order_by(WatchlistEntry.list_name)).all():
        result.setdefault(name, []).append(list_name)
    return result


def watchlist_names(db: Session, feed_id: int) -> list[str]:
    return list(db.execute(select(WatchlistEntry.list_name).where(WatchlistEntry.feed_id == feed_id)
                           .distinct().order_by(WatchlistEntry.list_name)).scalars())


def set_exclusion(db: Session, username: str, excluded: bool, now: datetime) -> None:
    set_excluded(db, normalise(username), excluded, now)
