"""Reading people: the list (search, filters, sorts, paging), one person's stats, the timeline.

Every list query is bounded by an index: the name prefix is a range/pattern scan of the username
index, sorts walk the matching ``(feed_id, <sort>)`` index, and the page asks for counts only of
what it shows. Usernames are matched case-insensitively (they are stored normalised).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from greenroom.errors import BadRequest, NotFound
from greenroom.events.models import Event
from greenroom.people.models import (
    Person,
    PersonDay,
    PersonEvent,
    PersonProfile,
    Relationship,
    StatExclusion,
    WatchlistEntry,
)

MAX_LIMIT = 200
FILTERS = ("all", "tippers", "regulars", "new", "followers", "unfollowed", "fanclub", "models", "watchlist",
           "excluded")
SORTS = {
    "last_seen": (Person.last_seen.desc(), Person.id.desc()),
    "tokens": (Person.lifetime_tokens.desc(), Person.id.desc()),
    "visits": (Person.visits.desc(), Person.id.desc()),
    "first_seen": (Person.first_seen.desc(), Person.id.desc()),
    "name": (Person.username.asc(),),
}
REGULAR_VISITS = 3
NEW_DAYS = 7


def normalise(username: str) -> str:
    name = (username or "").strip().lower()
    if not name or len(name) > 64:
        raise BadRequest("a username is 1 to 64 characters")
    return name


def _prefix(query: Select[Any], q: str, dialect: str) -> Select[Any]:
    q = q.strip().lower()[:64]
    if not q:
        return query
    if dialect == "postgresql":
        # LIKE with a constant prefix uses the text_pattern_ops index.
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return query.where(Person.username.like(escaped + "%", escape="\\"))
    # SQLite compares with binary collation: the prefix is exactly the range [q, q + U+10FFFF).
    return query.where(Person.username >= q, Person.username < q + "\U0010ffff")


def _filter(query: Select[Any], feed_id: int, name: str, now: datetime) -> Select[Any]:
    if name in ("", "all"):
        return query
    if name == "tippers":
        return query.where(Person.tips > 0)
    if name == "regulars":
        return query.where(Person.visits >= REGULAR_VISITS)
    if name == "new":
        return query.where(Person.first_seen >= now - timedelta(days=NEW_DAYS))
    if name == "followers":
        return query.where(Person.follower.is_(True))
    if name == "unfollowed":
        return query.where(Person.follower.is_(False), Person.unfollowed_at.is_not(None))
    if name == "fanclub":
        return query.where(Person.in_fanclub.is_(True))
    if name == "models":
        marked = exists().where(PersonProfile.feed_id == feed_id, PersonProfile.username == Person.username,
                                PersonProfile.marked_model.is_(True))
        return query.where(or_(Person.seen_broadcasting.is_(True), marked))
    if name == "watchlist":
        return query.where(exists().where(WatchlistEntry.feed_id == feed_id,
                                          WatchlistEntry.username == Person.username))
    if name == "excluded":
        return query.where(exists().where(StatExclusion.username == Person.username))
    raise BadRequest(f"filter is one of {', '.join(FILTERS)}")


@dataclass
class PeoplePage:
    people: list[Person]
    total: int


def search_people(db: Session, feed_id: int, *, q: str = "", filter: str = "all", sort: str = "last_seen",  # noqa: A002
                  relationship_status: str = "", relationship_role: str = "", limit: int = 50, offset: int = 0,
                  now: datetime) -> PeoplePage:
    if sort not in SORTS:
        raise BadRequest(f"sort is one of {', '.join(SORTS)}")
    limit = max(1, min(limit, MAX_LIMIT))
    dialect = db.get_bind().dialect.name
    query = _filter(_prefix(select(Person).where(Person.feed_id == feed_id), q, dialect), feed_id, filter, now)
    if relationship_status or relationship_role:
        rel = select(Relationship.username).where(Relationship.feed_id == feed_id)
        if relationship_status:
            rel = rel.where(Relationship.status == relationship_status)
        rows = list(db.execute(rel).scalars())
        if relationship_role:  # roles are a small JSON list: filter the (few) relationships in Python
            roles = dict(db.execute(select(Relationship.username, Relationship.roles)
                                    .where(Relationship.feed_id == feed_id)).all())
            rows = [n for n in rows if relationship_role in (roles.get(n) or [])]
        query = query.where(Person.username.in_(rows))
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    people = list(db.execute(query.order_by(*SORTS[sort]).limit(limit).offset(offset)).scalars())
    return PeoplePage(people, total)


def get_person(db: Session, feed_id: int, username: str) -> Person:
    name = normalise(username)
    person = db.execute(select(Person).where(Person.feed_id == feed_id, Person.username == name)).scalar_one_or_none()
    if person is None:
        raise NotFound(f"never seen {username.strip()!r}")
    return person


def window_tokens(db: Session, feed_id: int, usernames: list[str], now: datetime) -> dict[str, tuple[int, int]]:
    """(7-day, 30-day) spend per person; a window is whole UTC days, today included."""
    if not usernames:
        return {}
    day7 = now.date() - timedelta(days=6)
    day30 = now.date() - timedelta(days=29)
    result = {name: (0, 0) for name in usernames}
    for window, start in ((0, day7), (1, day30)):
        for name, total in db.execute(
            select(PersonDay.username, func.sum(PersonDay.tokens))
            .where(PersonDay.feed_id == feed_id, PersonDay.username.in_(usernames), PersonDay.day >= start)
            .group_by(PersonDay.username)
        ).all():
            pair = list(result[name])
            pair[window] = int(total or 0)
            result[name] = (pair[0], pair[1])
    return result


def stats_of(person: Person, windows: tuple[int, int]) -> dict[str, int]:
    return {
        "lifetime_tokens": person.lifetime_tokens, "tokens_7d": windows[0], "tokens_30d": windows[1],
        "tips": person.tips, "visits": person.visits, "chat_messages": person.chat_messages,
        "private_messages": person.private_messages,
    }


def person_stats(db: Session, feed_id: int, usernames: list[str], now: datetime) -> dict[str, dict[str, int]]:
    people = db.execute(select(Person).where(Person.feed_id == feed_id, Person.username.in_(usernames))).scalars()
    windows = window_tokens(db, feed_id, usernames, now)
    return {p.username: stats_of(p, windows.get(p.username, (0, 0))) for p in people}


TIMELINE_TYPES = ("tip", "chatMessage", "privateMessage", "userEnter", "userLeave", "follow", "unfollow",
                  "fanclubJoin", "mediaPurchase")


def timeline(db: Session, feed_id: int, username: str, *, types: list[str] | None = None, limit: int = 50,
             before: int | None = None) -> list[Event]:
    """The person's events, newest first; page on with ``before`` = the last event id shown."""
    for kind in types or []:
        if kind not in TIMELINE_TYPES:
            raise BadRequest(f"type is one of {', '.join(TIMELINE_TYPES)}")
    name = normalise(username)
    link = select(PersonEvent.event_pk).where(PersonEvent.feed_id == feed_id, PersonEvent.username == name)
    if types:
        link = link.where(PersonEvent.method.in_(types))
    if before is not None:
        link = link.where(PersonEvent.event_pk < before)
    pks = list(db.execute(link.order_by(PersonEvent.event_pk.desc()).limit(max(1, min(limit, MAX_LIMIT))))
               .scalars())
    if not pks:
        return []
    return list(db.execute(select(Event).where(Event.id.in_(pks)).order_by(Event.id.desc())).scalars())


def suggest(db: Session, feed_id: int, q: str, limit: int = 8) -> list[Person]:
    """Name-prefix suggestions for the top-bar search (most recently seen first among matches)."""
    if not q.strip():
        return []
    query = _prefix(select(Person).where(Person.feed_id == feed_id), q, db.get_bind().dialect.name)
    return list(db.execute(query.order_by(Person.username).limit(limit)).scalars())

