"""The inbox step of the ingest pipeline (order 300) and its rebuild: one bulk insert of messages
and one read + write of the threads a batch touches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from greenroom.events.parse import Method
from greenroom.events.store import StoredEvent
from greenroom.inbox.models import Direction, PmMessage, PmThread
from greenroom.people.derive import counterpart
from greenroom.people.ingest import feed_owner
from greenroom.people.replay import replay

STEP_ORDER = 300
STEP_NAME = "inbox"
_T = PmThread.__table__


def apply_inbox(db: Session, feed_id: int, events: Sequence[StoredEvent], now: datetime) -> None:
    pms = [e for e in events if e.event.method == Method.PRIVATE_MESSAGE and e.event.message is not None]
    if not pms:
        return
    owner = feed_owner(db, feed_id)
    messages: list[dict[str, Any]] = []
    for stored in pms:
        event = stored.event
        other = counterpart(event, owner)
        if not other or other == owner:
            continue
        sender = event.message.from_user or event.username  # type: ignore[union-attr]
        messages.append({
            "event_pk": stored.pk, "feed_id": feed_id, "counterpart": other,
            "direction": Direction.OUT if sender == owner else Direction.IN,
            "is_direct": event.broadcaster == "", "body": event.message.text,  # type: ignore[union-attr]
            "sent_at": event.event_time,
        })
    if not messages:
        return
    db.execute(PmMessage.__table__.insert(), messages)
    names = sorted({m["counterpart"] for m in messages})
    threads = {r.counterpart: dict(r) for r in db.execute(
        select(_T).where(_T.c.feed_id == feed_id, _T.c.counterpart.in_(names))).mappings()}
    fresh: dict[str, dict[str, Any]] = {}
    for m in messages:
        thread = threads.get(m["counterpart"]) or fresh.get(m["counterpart"])
        if thread is None:
            thread = fresh[m["counterpart"]] = {
                "feed_id": feed_id, "counterpart": m["counterpart"], "messages": 0, "received": 0,
                "has_direct": False, "has_room": False, "last_at": m["sent_at"], "last_body": "",
                "last_direction": m["direction"], "last_in_pk": 0,
            }
        thread["messages"] += 1
        thread["has_direct"] = thread["has_direct"] or m["is_direct"]
        thread["has_room"] = thread["has_room"] or not m["is_direct"]
        if m["direction"] == Direction.IN:
            thread["received"] += 1
            thread["last_in_pk"] = max(thread["last_in_pk"], m["event_pk"])
        if m["sent_at"] >= thread["last_at"] or thread["last_body"] == "":
            thread["last_at"], thread["last_body"] = m["sent_at"], m["body"][:300]
            thread["last_direction"] = m["direction"]
    if fresh:
        db.execute(_T.insert(), list(fresh.values()))
    if threads:
        cols = ("messages", "received", "has_direct", "has_room", "last_at", "last_body", "last_direction",
                "last_in_pk")
        stmt = update(_T).where(_T.c.feed_id == bindparam("_feed"), _T.c.counterpart == bindparam("_who")).values(
            {c: bindparam(c) for c in cols})
        db.execute(stmt, [{"_feed": feed_id, "_who": t["counterpart"], **{c: t[c] for c in cols}}
                          for t in threads.values()], execution_options={"synchronize_session": False})


def rebuild_inbox(db: Session, feed_id: int, now: datetime, *, progress: Callable[[int], None] | None = None,
                  chunk: int = 5000) -> int:
    """Recompute the feed's messages and threads through :func:`apply_inbox`; read state stays."""
    db.execute(delete(PmMessage).where(PmMessage.feed_id == feed_id))
    db.execute(delete(PmThread).where(PmThread.feed_id == feed_id))
    return replay(db, feed_id, lambda part: apply_inbox(db, feed_id, part, now), chunk=chunk, progress=progress)


STEP = (STEP_ORDER, STEP_NAME, apply_inbox)


def _register() -> None:
    # Below ingest in the layers: hand the step to the already-loaded pipeline (see load_steps).
    from importlib import import_module

    import_module("greenroom.ingest.pipeline").register_step(*STEP)


_register()
