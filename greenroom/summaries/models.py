"""Summaries of sessions: owner data, every version kept.

``session_id`` carries no foreign key on purpose, like the sessions feature's other owner tables:
a rebuild deletes and re-creates ``broadcast_sessions`` (re-using their ids), and a cascading or
restricting key would either delete the summaries or block the rebuild.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from greenroom.db.base import Base
from greenroom.db.types import BigIntPK, JSONType, UTCDateTime


class SummaryStatus(StrEnum):
    OK = "ok"
    UNAVAILABLE = "unavailable"


class NumbersCheck(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the text states a number the stats do not contain
    SKIPPED = "skipped"  # no text to check


class SessionSummary(Base):
    __tablename__ = "session_summaries"
    # One version number per session; also the index for "latest summary of session X".
    __table_args__ = (UniqueConstraint("session_id", "version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(100), default="")
    prompt_version: Mapped[str] = mapped_column(String(32), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    numbers_check: Mapped[str] = mapped_column(String(16), default=NumbersCheck.SKIPPED)
    # Numbers the text states that the stats do not contain (shown to the owner as a warning).
    unverified_numbers: Mapped[Any] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
