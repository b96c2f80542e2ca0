"""Inbox: private messages threaded per counterpart.

Derived (rebuilt from the event store): ``pm_messages`` and ``pm_threads``. Owner data:
``inbox_reads`` (how far the owner has read each thread), which a rebuild never touches; it points
at event ids, which a rebuild does not change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from greenroom.db.base import Base
from greenroom.db.types import BigIntPK, UTCDateTime


class Direction:
    IN = "in"  # from the counterpart to the owner
    OUT = "out"  # sent by the owner


class PmMessage(Base):
    __tablename__ = "pm_messages"
    __table_args__ = (
        Index("ix_pm_messages_thread", "feed_id", "counterpart", "event_pk"),
        Index("ix_pm_messages_feed_time", "feed_id", "sent_at"),
    )

    event_pk: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    feed_id: Mapped[int] = mapped_column(Integer)
    counterpart: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))
    is_direct: Mapped[bool] = mapped_column(Boolean, default=False)  # sent outside the room
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PmThread(Base):
    __tablename__ = "pm_threads"
    __table_args__ = (Index("ix_pm_threads_feed_last", "feed_id", "last_at"),)

    feed_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counterpart: Mapped[str] = mapped_column(String(64), primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    received: Mapped[int] = mapped_column(Integer, default=0)
    has_direct: Mapped[bool] = mapped_column(Boolean, default=False)
    has_room: Mapped[bool] = mapped_column(Boolean, default=False)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_body: Mapped[str] = mapped_column(Text, default="")
    last_direction: Mapped[str] = mapped_column(String(3))
    last_in_pk: Mapped[int] = mapped_column(BigInteger, default=0)  # newest received message


class InboxRead(Base):
    """The owner has read a thread up to (and including) this event id."""

    __tablename__ = "inbox_reads"

    feed_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counterpart: Mapped[str] = mapped_column(String(64), primary_key=True)
    read_through_pk: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
