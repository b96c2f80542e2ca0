"""Visits and presence, and the owner's alert rules.

Derived (rebuilt from the event store): ``room_states`` (is the room live, from broadcastStart/Stop)
and ``visits`` (one row per userEnter, closed by the matching userLeave or by broadcastStop; an
open visit of a live room is someone in the room now). Owner data: ``alert_rules`` and
``alert_hits`` (a log of what fired and whether the owner acknowledged it; a rebuild neither
deletes nor re-fires them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from greenroom.db.base import Base
from greenroom.db.types import BigIntPK, UTCDateTime


class RoomState(Base):
    __tablename__ = "room_states"

    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"), primary_key=True)
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_feed_entered", "feed_id", "entered_at"),
        Index("ix_visits_feed_user", "feed_id", "username", "entered_at"),
        # "Who is in the room now" reads only the open visits.
        Index("ix_visits_open", "feed_id", "left_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    enter_pk: Mapped[int] = mapped_column(BigInteger)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    live: Mapped[bool] = mapped_column(Boolean)  # the room was broadcasting when they entered


class AlertKind:
    BIG_SPENDER_ENTERED = "big_spender_entered"  # a person with >= threshold lifetime tokens entered
    FRIEND_ENTERED = "friend_entered"
    TIP_AT_LEAST = "tip_at_least"


ALERT_KINDS = (AlertKind.BIG_SPENDER_ENTERED, AlertKind.FRIEND_ENTERED, AlertKind.TIP_AT_LEAST)


class AlertRule(Base):
    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[int] = mapped_column(BigInteger, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    sound: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertHit(Base):
    __tablename__ = "alert_hits"
    __table_args__ = (Index("ix_alert_hits_feed_at", "feed_id", "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(64))
    event_pk: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
