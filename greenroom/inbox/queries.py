"""Reading the inbox, and the owner's read state (the only thing written here)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from greenroom.db.util import insert_ignore
from greenroom.errors import BadRequest, NotFound
from greenroom.inbox.models import Direction, InboxRead, PmMessage, PmThread
from greenroom.people.queries import normalise

THREAD_FILTERS = ("all", "unread", "room", "direct")
_read = func.coalesce(InboxRead.read_through_pk, 0)


def _threads_query(feed_id: int) -> Any:
    return (select(PmThread, _read.label("read_through"))
            .outerjoin(InboxRead, and_(InboxRead.feed_id == PmThread.feed_id,
                                       InboxRead.counterpart == PmThread.counterpart))
            .where(PmThread.feed_id == feed_id))


def list_threads(db: Session, feed_id: int, *, filter: str = "all", limit: int = 50,  # noqa: A002
                 offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    if filter not in THREAD_FILTERS:
        raise BadRequest(f"filter is one of {', '.join(THREAD_FILTERS)}")
    query = _threads_query(feed_id)
    if filter == "unread":
        query = query.where(PmThread.last_in_pk > _read)
    elif filter == "room":
        query = query.where(PmThread.has_room.is_(True))
    elif filter == "direct":
        query = query.where(PmThread.has_direct.is_(True))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.execute(query.order_by(PmThread.last_at.desc(), PmThread.counterpart)
                      .limit(max(1, min(limit, 200))).offset(offset)).all()
    return [thread_json(t, read) for t, read in rows], total


def thread_json(t: PmThread, read_through: int) -> dict[str, Any]:
    return {"username": t.counterpart, "messages": t.messages, "received": t.received,
            "sent": t.messages - t.received, "last_at": t.last_at.isoformat(), "last_text": t.last_body,
            "last_direction": t.last_direction, "has_direct": t.has_direct, "has_room": t.has_room,
            "unread": t.last_in_pk > (read_through or 0)}


def get_thread(db: Session, feed_id: int, username: str, *, limit: int = 200,
               before: int | None = None) -> dict[str, Any]:
    """A thread's messages, oldest first (the newest ``limit`` before ``before``)."""
    name = normalise(username)
    row = db.execute(_threads_query(feed_id).where(PmThread.counterpart == name)).first()
    if row is None:
        raise NotFound(f"no messages with {username.strip()!r}")
    query = select(PmMessage).where(PmMessage.feed_id == feed_id, PmMessage.counterpart == name)
    if before is not None:
        query = query.where(PmMessage.event_pk < before)
    messages = list(db.execute(query.order_by(PmMessage.event_pk.desc()).limit(max(1, min(limit, 500)))).scalars())
    messages.reverse()
    thread = thread_json(row[0], row[1])
    thread["items"] = [message_json(m, row[1]) for m in messages]
    return thread


def message_json(m: PmMessage, read_through: int | None = None) -> dict[str, Any]:
    out = {"event_pk": m.event_pk, "username": m.counterpart, "direction": m.direction, "direct": m.is_direct,
           "text": m.body, "sent_at": m.sent_at.isoformat()}
    if read_through is not None:
        out["unread"] = m.direction == Direction.IN and m.event_pk > read_through
    return out


def _set_read(db: Session, feed_id: int, name: str, pk: int, now: datetime) -> None:
    insert_ignore(db, InboxRead.__table__, [{"feed_id": feed_id, "counterpart": name, "read_through_pk": 0,
                                             "updated_at": now}], ["feed_id", "counterpart"])
    row = db.get(InboxRead, (feed_id, name))
    assert row is not None
    row.read_through_pk = pk
    row.updated_at = now
    db.flush()


def mark_read(db: Session, feed_id: int, username: str, now: datetime) -> None:
    name = normalise(username)
    last_in = db.scalar(select(PmThread.last_in_pk).where(PmThread.feed_id == feed_id, PmThread.counterpart == name))
    if last_in is None:
        raise NotFound(f"no messages with {username.strip()!r}")
    _set_read(db, feed_id, name, last_in, now)


def mark_unread(db: Session, feed_id: int, username: str, now: datetime) -> None:
    """Make the newest received message unread again."""
    name = normalise(username)
    last_in = db.scalar(select(PmThread.last_in_pk).where(PmThread.feed_id == feed_id, PmThread.counterpart == name))
    if last_in is None:
        raise NotFound(f"no messages with {username.strip()!r}")
    _set_read(db, feed_id, name, max(0, last_in - 1), now)


def unread_threads(db: Session, feed_id: int) -> int:
    query = _threads_query(feed_id).where(PmThread.last_in_pk > _read)
    return db.scalar(select(func.count()).select_from(query.subquery())) or 0


def search(db: Session, feed_id: int, q: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Messages whose text or counterpart contains ``q`` (case-insensitive), newest first."""
    text = q.strip().lower()
    if not text:
        return []
    rows = db.execute(
        select(PmMessage).where(PmMessage.feed_id == feed_id,
                                or_(func.lower(PmMessage.body).contains(text, autoescape=True),
                                    PmMessage.counterpart.contains(text, autoescape=True)))
        .order_by(PmMessage.event_pk.desc()).limit(max(1, min(limit, 200)))
    ).scalars()
    return [message_json(m) for m in rows]


def counts(db: Session, feed_id: int, now: datetime, days: int = 30) -> dict[str, int]:
    since = now - timedelta(days=days)
    row = db.execute(
        select(func.count(), func.count(func.distinct(PmMessage.counterpart)),
               func.sum(case((PmMessage.direction == Direction.IN, 1), else_=0)))
        .where(PmMessage.feed_id == feed_id, PmMessage.sent_at >= since)
    ).one()
    messages, conversations, received = row[0] or 0, row[1] or 0, int(row[2] or 0)
    return {"messages": messages, "conversations": conversations, "received": received,
            "sent": messages - received, "unread": unread_threads(db, feed_id)}
