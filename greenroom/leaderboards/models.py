"""Running all-time totals, so an all-time board does not read a room's whole history per view.

``leaderboard_totals`` holds, per room, metric (tokens, tips, visits, chat), person and anonymous
flag, the sum of every counted event up to the room's mark in ``leaderboard_marks`` and the time
of the latest one. An all-time board adds the events stored after the mark on the fly, so it is
exact whether or not the totals have caught up. Events are never changed once stored, and each
room has a single writer (its ingest lease), so events of a room commit in store order and a mark
never skips one. Exclusions and the room's own broadcaster are applied when a board is read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from greenroom.db.base import Base
from greenroom.db.types import UTCDateTime


class LeaderboardTotal(Base):
    __tablename__ = "leaderboard_totals"

    feed_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    anon: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1: anonymous tips
    total: Mapped[int] = mapped_column(BigInteger)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LeaderboardMark(Base):
    __tablename__ = "leaderboard_marks"

    feed_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_pk: Mapped[int] = mapped_column(BigInteger)  # events of the room up to here are in the totals
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
