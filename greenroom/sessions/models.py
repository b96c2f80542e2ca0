"""Sessions: derived tables (rebuilt from the event store) and owner tables (never rebuilt).

Derived: ``broadcast_sessions`` and ``session_events`` (the event-to-session links). Owner data:
``session_notes`` and ``session_edits`` (the manual-edit log, replayed by rebuild); the
exclusion list is people's (``stat_exclusions``). Owner tables carry no foreign key to
``broadcast_sessions`` on purpose: rebuild deletes and re-creates sessions (re-using their ids),
and a cascading or restricting key would either lose the owner's words or block the rebuild.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from greenroom.db.base import Base
from greenroom.db.types import BigIntPK, JSONType, UTCDateTime


class SessionStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"
    PENDING_FINALIZE = "pending_finalize"
    FINALIZED = "finalized"


class BroadcastSession(Base):
    """One or more broadcast segments stitched together (see docs/sessions.md)."""

    __tablename__ = "broadcast_sessions"
    __table_args__ = (
        # What the finalize job asks every minute: ended sessions whose window has passed.
        Index("ix_broadcast_sessions_due", "status", "finalize_after"),
        Index("ix_broadcast_sessions_feed_started", "feed_id", "started_at"),
        # AUTOINCREMENT on SQLite so an id deleted by a rebuild is never handed to another
        # session (a summary or a bookmark pointing at it would silently change meaning).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"))
    status: Mapped[str] = mapped_column(String(24))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finalize_after: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # [[start_iso, end_iso | null], ...] in time order; few per session, always read together.
    segments: Mapped[Any] = mapped_column(JSONType)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[Any] = mapped_column(JSONType)
    timeline: Mapped[Any] = mapped_column(JSONType)
    subjects: Mapped[Any] = mapped_column(JSONType)
    stats_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SessionEvent(Base):
    """Links an event to the session it happened in. An event is in at most one session."""

    __tablename__ = "session_events"
    __table_args__ = (Index("ix_session_events_session", "session_id", "event_pk"),)

    event_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("broadcast_sessions.id", ondelete="CASCADE")
    )


class SessionVisitor(Base):
    """Who entered the room during a session (derived with the stats). "Returning visitor" asks
    this table, whose rows per user grow with sessions attended, not with events."""

    __tablename__ = "session_visitors"
    __table_args__ = (Index("ix_session_visitors_feed_user", "feed_id", "username"),)

    session_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("broadcast_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    feed_id: Mapped[int] = mapped_column(Integer)


class SessionNote(Base):
    """The owner's notes and tags for a session (owner data: survives rebuild)."""

    __tablename__ = "session_notes"

    session_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    feed_id: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SessionEdit(Base):
    """A manual edit, in the order it was made. ``after_event_pk`` is the newest event of the feed
    when the edit was made: rebuild replays the edit at exactly that point of the event stream, so
    the result equals what live ingest produced. ``anchor`` is the session's start time then, which
    identifies it again after a rebuild."""

    __tablename__ = "session_edits"
    __table_args__ = (Index("ix_session_edits_feed", "feed_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int] = mapped_column(Integer)
    session_id: Mapped[int] = mapped_column(BigInteger)
    anchor: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(24))
    params: Mapped[Any] = mapped_column(JSONType)
    after_event_pk: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
