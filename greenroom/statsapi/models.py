"""Tables of Stats API samples.

``stats_samples``: one row per 5-minute slot and account. The room is named by the URL's
``username``; ``feed_id`` links the sample to that broadcaster's Events API feed when one exists.
Samples taken before the feed row exists keep ``feed_id`` empty and are linked by the next sample
(the broadcaster name is always stored), so nothing is lost and no feed row is invented here.

``stats_sources``: per account, what the last attempt did (time, error), shown on the Dashboard
and in the API. The URL is never stored: only its masked form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from greenroom.db.base import Base
from greenroom.db.types import BigIntPK, RawJSON, UTCDateTime

# Counters of the Stats API answer stored in their own (nullable) columns, by their upstream names.
INT_METRICS = ("num_viewers", "num_registered_viewers", "num_tokened_viewers", "num_followers", "token_balance",
               "tips_in_last_hour", "votes_up", "votes_down")


class StatsSample(Base):
    __tablename__ = "stats_samples"
    __table_args__ = (
        UniqueConstraint("broadcaster", "slot"),
        Index("ix_stats_samples_feed_time", "feed_id", "sampled_at"),
        Index("ix_stats_samples_time", "sampled_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(Integer, default=None)
    broadcaster: Mapped[str] = mapped_column(String(64))
    slot: Mapped[datetime] = mapped_column(UTCDateTime)  # start of the 5-minute slot
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    num_viewers: Mapped[int | None] = mapped_column(BigInteger, default=None)
    num_registered_viewers: Mapped[int | None] = mapped_column(BigInteger, default=None)
    num_tokened_viewers: Mapped[int | None] = mapped_column(BigInteger, default=None)
    num_followers: Mapped[int | None] = mapped_column(BigInteger, default=None)
    token_balance: Mapped[int | None] = mapped_column(BigInteger, default=None)
    tips_in_last_hour: Mapped[int | None] = mapped_column(BigInteger, default=None)
    votes_up: Mapped[int | None] = mapped_column(BigInteger, default=None)
    votes_down: Mapped[int | None] = mapped_column(BigInteger, default=None)
    satisfaction_score: Mapped[float | None] = mapped_column(Float, default=None)
    time_online_minutes: Mapped[int | None] = mapped_column(Integer, default=None)  # None: not broadcasting
    last_broadcast: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    raw: Mapped[Any] = mapped_column(RawJSON)


class StatsSource(Base):
    __tablename__ = "stats_sources"

    broadcaster: Mapped[str] = mapped_column(String(64), primary_key=True)
    url_masked: Mapped[str] = mapped_column(String(300))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
