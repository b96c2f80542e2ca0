"""Shared checks: the event store against the simulator's ground truth, and `greenroom doctor`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from greenroom.config import Settings
from greenroom.db.engine import Database
from greenroom.events.feeds import ensure_feed, try_acquire_lease
from greenroom.events.models import Event
from greenroom.events.store import record_batch, set_feed_state
from greenroom.ingest.pipeline import load_steps, process_new_events
from greenroom.sessions.doctor import run_doctor
from greenroom.sessions.service import Windows


def id_time(event_id: str) -> datetime:
    return datetime.fromtimestamp(int(event_id.split("-")[0]) / 1000, tz=UTC)


def stored(database: Database) -> list[tuple[str, datetime, datetime]]:
    """(event id, event time, receive time) in store order."""
    with database.read() as db:
        return [tuple(r) for r in db.execute(  # type: ignore[misc]
            select(Event.event_id, Event.event_time, Event.received_at).order_by(Event.id))]


def doctor_findings(database: Database, now: datetime, settings: Any = None) -> list[str]:
    """What `greenroom doctor` (dry run) would report, as "check: detail" lines."""
    windows = Windows.from_settings(settings or Settings(_env_file=None))
    with database.write() as db:
        report = run_doctor(db, now, windows, fix=False)
        db.rollback()
    return [f"{f.check}: {f.detail}" for f in report.findings]


def ingest(database: Database, batches: list[list[Any]], received: datetime, room: str = "alice") -> int:
    """Store batches exactly as the ingest loop does: store, cursor and feature steps in one unit."""
    load_steps()
    with database.write() as db:
        feed = ensure_feed(db, broadcaster=room, url_masked="https://eventsapi.chaturbate.com/events/alice/****/",
                           url_fingerprint="fp", is_demo=False, now=received)
        assert try_acquire_lease(db, feed.id, "hostile", received, 3600)
        set_feed_state(db, feed.id, "polling", now=received)
        feed_id = feed.id
    for n, envelopes in enumerate(batches):
        now = received + timedelta(seconds=n)
        with database.write() as db:
            batch = record_batch(db, feed_id=feed_id, envelopes=envelopes, cursor=f"i=batch-{n}",
                                 cursor_event_id=f"batch-{n}", received_at=now, lease_holder="hostile",
                                 lease_ttl=3600)
            process_new_events(db, feed_id, batch.new, now)
    return feed_id
