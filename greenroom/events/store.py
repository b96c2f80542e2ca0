"""Append-only event store: one idempotent write per polled batch, cursor included.

``record_batch`` runs inside the caller's unit of work. It renews the feed lease first (fencing),
parses, skips ids already stored (so a re-delivered backlog or a retried poll adds nothing), keeps
malformed payloads quarantined with their reason, and saves the cursor in the same transaction:
after a crash either all of it is there or none of it, and the next poll resumes from the cursor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from greenroom.db.types import encode_raw_json
from greenroom.db.util import insert_ignore
from greenroom.events.feeds import renew_lease
from greenroom.events.models import Feed, QuarantinedPayload
from greenroom.events.parse import MAX_ID_LENGTH, MalformedEvent, ParsedEvent, parse_event


@dataclass(frozen=True, slots=True)
class StoredEvent:
    pk: int
    event: ParsedEvent


@dataclass
class BatchResult:
    new: list[StoredEvent] = field(default_factory=list)
    duplicates: int = 0
    quarantined: int = 0
    unknown: int = 0


def _method_of(envelope: Any) -> str:
    method = envelope.get("method") if isinstance(envelope, dict) else None
    return method[:40] if isinstance(method, str) and method else "?"


def _row(feed_id: int, parsed: ParsedEvent, envelope: Any) -> dict[str, Any]:
    return {
        "feed_id": feed_id, "event_id": parsed.event_id, "method": parsed.method,
        "broadcaster": parsed.broadcaster, "username": parsed.username, "event_time": parsed.event_time,
        "received_at": parsed.received_at, "known": parsed.known, "quarantine_reason": None,
        "payload": envelope,
    }


def record_batch(
    db: Session,
    *,
    feed_id: int,
    envelopes: Sequence[Any],
    cursor: str | None,
    cursor_event_id: str | None,
    received_at: datetime,
    lease_holder: str | None,
    lease_ttl: float = 120.0,
) -> BatchResult:
    """Store a polled batch and its cursor. Returns the events that were new, in order."""
    if lease_holder is not None:
        renew_lease(db, feed_id, lease_holder, received_at, lease_ttl)
    result = BatchResult()
    candidates: list[tuple[dict[str, Any], ParsedEvent | None]] = []
    seen: set[str] = set()
    orphans: list[dict[str, Any]] = []
    for envelope in envelopes:
        try:
            parsed: ParsedEvent | None = parse_event(envelope, received_at)
            row = _row(feed_id, parsed, envelope)  # type: ignore[arg-type]
        except MalformedEvent as exc:
            if exc.event_id is None:
                orphans.append(_orphan(feed_id, envelope, exc.reason, received_at))
                continue
            parsed = None
            raw_obj = envelope.get("object") if isinstance(envelope, dict) else None
            broadcaster = raw_obj.get("broadcaster") if isinstance(raw_obj, dict) else None
            row = {
                "feed_id": feed_id, "event_id": exc.event_id, "method": _method_of(envelope),
                "broadcaster": broadcaster.lower()[:64] if isinstance(broadcaster, str) else None,
                "username": None, "event_time": received_at, "received_at": received_at,
                "known": False, "quarantine_reason": exc.reason, "payload": envelope,
            }
        if row["event_id"] in seen:
            result.duplicates += 1  # same id twice in one response: the first copy wins
            continue
        seen.add(row["event_id"])
        candidates.append((row, parsed))

    if candidates:
        # ON CONFLICT on the unique key rather than a pre-check: the database decides what is new
        # through the index, in one round trip, however large the table grows.
        new_pk = _insert_new([row for row, _ in candidates], db)
        result.duplicates += len(candidates) - len(new_pk)
        for row, parsed in candidates:  # keep delivery order
            pk = new_pk.get(row["event_id"])
            if pk is None:
                continue
            if parsed is None:
                result.quarantined += 1
            elif not parsed.known:
                result.unknown += 1
            else:
                result.new.append(StoredEvent(pk, parsed))
        stored = len(new_pk)
    else:
        stored = 0
    if orphans:
        insert_ignore(db, QuarantinedPayload.__table__, orphans, ["feed_id", "raw_sha256"])
        result.quarantined += len(orphans)

    values: dict[str, Any] = {
        "last_poll_at": received_at, "last_error": None, "last_error_at": None,
        "events_stored": Feed.events_stored + stored,
        "events_quarantined": Feed.events_quarantined + result.quarantined,
    }
    if cursor is not None:
        values["cursor"] = cursor
        values["cursor_event_id"] = cursor_event_id[:MAX_ID_LENGTH] if cursor_event_id else None
    if stored:
        values["last_event_at"] = received_at
    db.execute(update(Feed).where(Feed.id == feed_id).values(**values).execution_options(synchronize_session=False))
    return result


_COLUMNS = ("feed_id", "event_id", "method", "broadcaster", "username", "event_time", "received_at", "known",
            "quarantine_reason", "payload")
# PostgreSQL: a short constant statement run once per row through psycopg's pipelined executemany
# (psycopg parses it once and sends all rows in one round trip). A 100-row VALUES list would be
# re-parsed in Python for every batch, and text arrays pay for escaping every quote in the payload.
_PG_INSERT = (
    "INSERT INTO events (feed_id, event_id, method, broadcaster, username, event_time, received_at, known, "
    "quarantine_reason, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (feed_id, event_id) DO NOTHING RETURNING id, event_id"
)


def _insert_new(rows: list[dict[str, Any]], db: Session) -> dict[str, int]:
    """Insert rows, skipping ids already stored; returns {event_id: pk} of the rows inserted."""
    if db.get_bind().dialect.name == "postgresql":
        values = [tuple(row[c] for c in _COLUMNS[:-1]) + (encode_raw_json(row["payload"]),) for row in rows]
        cursor = db.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(_PG_INSERT, values, returning=True)
            inserted = []
            while True:
                inserted.extend(cursor.fetchall())
                if not cursor.nextset():
                    break
        finally:
            cursor.close()
    else:
        # SQLite: executemany cannot return rows, but this transaction began IMMEDIATE, so no one
        # else writes while it runs: the rows inserted now are exactly those above the old max id.
        conn = db.connection()
        before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM events").scalar()
        times: dict[datetime, str] = {}  # a batch shares one receive time and many event times

        def as_text(value: datetime) -> str:
            text = times.get(value)
            if text is None:
                text = times[value] = _sqlite_time(value)
            return text

        values = [
            (row["feed_id"], row["event_id"], row["method"], row["broadcaster"], row["username"],
             as_text(row["event_time"]), as_text(row["received_at"]), row["known"], row["quarantine_reason"],
             encode_raw_json(row["payload"]))
            for row in rows
        ]
        conn.exec_driver_sql(_SQLITE_INSERT, values)
        inserted = conn.exec_driver_sql("SELECT id, event_id FROM events WHERE id > ?", (before,)).all()
    return {event_id: pk for pk, event_id in inserted}


_SQLITE_INSERT = (
    "INSERT INTO events (feed_id, event_id, method, broadcaster, username, event_time, received_at, known, "
    "quarantine_reason, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (feed_id, event_id) DO NOTHING"
)


def _sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC, always with microseconds);
    checked against it in tests, since ordering compares these strings."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _orphan(feed_id: int, envelope: Any, reason: str, received_at: datetime) -> dict[str, Any]:
    try:
        raw = json.dumps(envelope, sort_keys=True, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        raw = repr(envelope)
    return {
        "feed_id": feed_id, "raw_sha256": hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest(),
        "raw": raw, "reason": reason, "received_at": received_at,
    }


def set_feed_state(db: Session, feed_id: int, state: str, *, now: datetime, error: str | None = None) -> None:
    values: dict[str, Any] = {"state": state}
    if error is not None:
        values["last_error"] = error
        values["last_error_at"] = now
    db.execute(update(Feed).where(Feed.id == feed_id).values(**values).execution_options(synchronize_session=False))
