"""The people step of the ingest pipeline (order 100) and its rebuild.

Per batch: one read of the people the batch touches, one bulk insert of new people, one bulk
update of known ones, one bulk insert of event links and one upsert of daily spend — never a query
per event. The pipeline hands over only newly stored events, so nothing is counted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from greenroom.events.models import Feed
from greenroom.events.store import StoredEvent
from greenroom.people.derive import Delta, deltas
from greenroom.people.models import Person, PersonDay, PersonEvent
from greenroom.people.replay import replay

STEP_ORDER = 100
STEP_NAME = "people"
_P = Person.__table__


def feed_owner(db: Session, feed_id: int) -> str:
    return (db.scalar(select(Feed.broadcaster).where(Feed.id == feed_id)) or "").lower()


def apply_people(db: Session, feed_id: int, events: Sequence[StoredEvent], now: datetime) -> None:
    """Fold newly stored events into the feed's people (inside the caller's transaction)."""
    if not events:
        return
    batch = deltas(((e.pk, e.event) for e in events), feed_owner(db, feed_id))
    if not batch:
        return
    existing = {
        row.username: row
        for row in db.execute(
            select(_P).where(_P.c.feed_id == feed_id, _P.c.username.in_(list(batch)))
        ).mappings()
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for name, delta in batch.items():
        row = existing.get(name)
        if row is None:
            inserts.append(_new_row(feed_id, delta))
        else:
            updates.append(_merged_row(row, delta))
    if inserts:
        db.execute(_P.insert(), inserts)
    if updates:
        stmt = update(_P).where(_P.c.id == bindparam("_id")).values(
            {c: bindparam(c) for c in _UPDATED}
        )
        db.execute(stmt, updates, execution_options={"synchronize_session": False})
    links = [{"event_pk": pk, "feed_id": feed_id, "username": name, "method": method}
             for name, delta in batch.items() for pk, method in delta.events]
    db.execute(PersonEvent.__table__.insert(), links)
    days = [{"feed_id": feed_id, "username": name, "day": day, "tokens": tokens}
            for name, delta in batch.items() for day, tokens in delta.days.items()]
    if days:
        _upsert_days(db, days)


_UPDATED = ("display_name", "seen_broadcasting", "first_seen", "last_seen", "attributes", "follower", "in_fanclub",
            "followed_at", "unfollowed_at", "lifetime_tokens", "tip_tokens", "tips", "media_purchases", "visits",
            "chat_messages", "private_messages", "last_tip_at")


def _new_row(feed_id: int, d: Delta) -> dict[str, Any]:
    return {
        "feed_id": feed_id, "username": d.username, "display_name": d.display_name or d.username,
        "seen_broadcasting": d.seen_broadcasting, "first_seen": d.first_seen, "last_seen": d.last_seen,
        "attributes": d.attributes, "follower": bool(d.follower), "in_fanclub": bool(d.in_fanclub),
        "followed_at": d.followed_at, "unfollowed_at": d.unfollowed_at, "lifetime_tokens": d.tokens,
        "tip_tokens": d.tip_tokens, "tips": d.tips, "media_purchases": d.media_purchases, "visits": d.visits,
        "chat_messages": d.chat_messages, "private_messages": d.private_messages, "last_tip_at": d.last_tip_at,
    }


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _merged_row(row: Any, d: Delta) -> dict[str, Any]:
    attributes = dict(row["attributes"] or {})
    attributes.update(d.attributes)
    return {
        "_id": row["id"],
        "display_name": d.display_name if d.display_name and (
            d.display_name != d.username or row["display_name"] == row["username"]) else row["display_name"],
        "seen_broadcasting": row["seen_broadcasting"] or d.seen_broadcasting,
        "first_seen": min(row["first_seen"], d.first_seen) if d.first_seen else row["first_seen"],
        "last_seen": _later(row["last_seen"], d.last_seen),
        "attributes": attributes,
        "follower": row["follower"] if d.follower is None else d.follower,
        "in_fanclub": row["in_fanclub"] if d.in_fanclub is None else d.in_fanclub,
        "followed_at": _later(row["followed_at"], d.followed_at),
        "unfollowed_at": _later(row["unfollowed_at"], d.unfollowed_at),
        "lifetime_tokens": row["lifetime_tokens"] + d.tokens,
        "tip_tokens": row["tip_tokens"] + d.tip_tokens,
        "tips": row["tips"] + d.tips,
        "media_purchases": row["media_purchases"] + d.media_purchases,
        "visits": row["visits"] + d.visits,
        "chat_messages": row["chat_messages"] + d.chat_messages,
        "private_messages": row["private_messages"] + d.private_messages,
        "last_tip_at": _later(row["last_tip_at"], d.last_tip_at),
    }


def _upsert_days(db: Session, rows: list[dict[str, Any]]) -> None:
    module: Any = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    stmt = module.insert(PersonDay.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=["feed_id", "username", "day"],
        set_={"tokens": PersonDay.__table__.c.tokens + stmt.excluded.tokens},
    )
    db.execute(stmt, rows)


def clear_people(db: Session, feed_id: int) -> None:
    """Delete the feed's derived people tables (owner data is in other tables and stays)."""
    db.execute(delete(PersonEvent).where(PersonEvent.feed_id == feed_id))
    db.execute(delete(PersonDay).where(PersonDay.feed_id == feed_id))
    db.execute(delete(Person).where(Person.feed_id == feed_id))


def rebuild_people(db: Session, feed_id: int, now: datetime, *, progress: Callable[[int], None] | None = None,
                   chunk: int = 5000) -> int:
    """Recompute the feed's people from its stored events through :func:`apply_people` (the live
    code path). Runs in the caller's transaction; returns the number of events replayed."""
    clear_people(db, feed_id)
    return replay(db, feed_id, lambda part: apply_people(db, feed_id, part, now), chunk=chunk, progress=progress)


# (order, name, function): what the pipeline needs to call this step.
STEP = (STEP_ORDER, STEP_NAME, apply_people)


def _register() -> None:
    # People sit below ingest in the layers, so this module must not import the pipeline
    # statically; the pipeline imports this module (load_steps) and this hands it the step.
    from importlib import import_module

    import_module("greenroom.ingest.pipeline").register_step(*STEP)


_register()
