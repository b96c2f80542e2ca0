"""The event store: feeds, their ingest leases, raw events and quarantined payloads.

Everything downstream (sessions, people, inbox) is derived from ``events`` and keyed by feed, so a
studio installation can follow several rooms from one database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from greenroom.db.base import Base
from greenroom.db.types import BigIntPK, RawJSON, UTCDateTime


class FeedState:
    POLLING = "polling"
    BACKING_OFF = "backing_off"
    CREDENTIALS_REJECTED = "credentials_rejected"
    STOPPED = "stopped"
    DEMO = "demo"


class FeedSource:
    """Where a room comes from: the environment's GREENROOM_EVENTS_URL, Admin › Rooms, the demo."""

    ENV = "env"
    ADMIN = "admin"
    DEMO = "demo"


class Feed(Base):
    """One Events API feed (one broadcaster's room). The URL is never stored in clear: its masked
    form, a fingerprint, and (for rooms any ingest process may follow) the URL encrypted with a key
    derived from the installation's secret key (``greenroom.events.feeds.FeedCipher``). The cursor
    keeps just the query part of ``nextUrl``, so the token is not there either.

    ``enabled`` is false while the room is paused; ``removed_at`` is set when the owner stopped
    following the room but kept its data (its URL is then forgotten)."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcaster: Mapped[str] = mapped_column(String(64), unique=True)
    url_masked: Mapped[str] = mapped_column(String(300))
    url_fingerprint: Mapped[str] = mapped_column(String(64))
    is_demo: Mapped[bool] = mapped_column(default=False)
    cursor: Mapped[str | None] = mapped_column(Text, default=None)
    cursor_event_id: Mapped[str | None] = mapped_column(String(64), default=None)
    state: Mapped[str] = mapped_column(String(32), default=FeedState.STOPPED)
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    events_stored: Mapped[int] = mapped_column(BigInteger, default=0)
    events_quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    url_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    source: Mapped[str] = mapped_column(String(16), default=FeedSource.ENV, server_default=FeedSource.ENV)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class IngestProcess(Base):
    """An ingest process that follows rooms (``greenroom ingest`` / ``serve``): a heartbeat row,
    so the processes of a studio can share the rooms fairly without talking to each other."""

    __tablename__ = "ingest_processes"

    holder: Mapped[str] = mapped_column(String(128), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(128))
    pid: Mapped[int] = mapped_column(Integer)
    max_feeds: Mapped[int | None] = mapped_column(Integer, default=None)
    feeds_held: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedLease(Base):
    """At most one ingester holds a feed. Taken and renewed by conditional UPDATEs; whoever's
    lease has expired loses the feed, and every batch commit re-checks the lease (fencing)."""

    __tablename__ = "feed_leases"

    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128), default=None)
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Event(Base):
    """A raw upstream event, stored once per (feed, upstream id)."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("feed_id", "event_id"),
        Index("ix_events_feed_time", "feed_id", "event_time"),
        Index("ix_events_feed_username", "feed_id", "username", "id"),
        Index("ix_events_feed_method", "feed_id", "method", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"))
    event_id: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(40))
    broadcaster: Mapped[str | None] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(64))
    event_time: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    known: Mapped[bool] = mapped_column(default=True)
    quarantine_reason: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[Any] = mapped_column(RawJSON)


class QuarantinedPayload(Base):
    """A payload that cannot even be keyed (no usable id, not an object). Kept verbatim with the
    reason; de-duplicated by a hash of its text so re-delivery does not pile up copies."""

    __tablename__ = "quarantined_payloads"
    __table_args__ = (UniqueConstraint("feed_id", "raw_sha256"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"))
    raw_sha256: Mapped[str] = mapped_column(String(64))
    raw: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
