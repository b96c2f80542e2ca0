"""Replaying stored events through a pipeline step: how derived tables are rebuilt.

Events are read in keyset chunks in stream (id) order and parsed exactly as live ingest parsed
them, so a step sees the same :class:`StoredEvent` values either way and produces the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenroom.events.models import Event
from greenroom.events.parse import MalformedEvent, parse_event
from greenroom.events.store import StoredEvent


def replay(db: Session, feed_id: int, apply: Callable[[Sequence[StoredEvent]], None], *, chunk: int = 5000,
           progress: Callable[[int], None] | None = None) -> int:
    """Call ``apply`` with every known event of the feed, in order, ``chunk`` at a time."""
    last_pk = 0
    done = 0
    while True:
        rows = db.execute(
            select(Event.id, Event.payload, Event.received_at)
            .where(Event.feed_id == feed_id, Event.known.is_(True), Event.id > last_pk)
            .order_by(Event.id).limit(chunk)
        ).all()
        if not rows:
            return done
        batch: list[StoredEvent] = []
        for pk, payload, received_at in rows:
            try:
                batch.append(StoredEvent(pk, parse_event(payload, received_at)))
            except MalformedEvent:  # stored as known, so it parsed once; a parser change may refuse it now
                continue
        last_pk = rows[-1][0]
        apply(batch)
        done += len(rows)
        db.expunge_all()  # keeps memory flat on large stores
        if progress:
            progress(done)
