"""The owner's account and what proves a request is theirs: login sessions and API tokens.

Login sessions and failed attempts live in the database, not in memory, so "Sign out" ends a session
for every worker process, and the login rate limit survives restarts and holds across processes.
Only hashes of session ids and API tokens are stored: a copy of the database lets no one log in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from greenroom.db.base import Base
from greenroom.db.types import BigIntPK, UTCDateTime


class Owner(Base):
    """The one owner account (a single row with id 1)."""

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginSession(Base):
    __tablename__ = "login_sessions"
    __table_args__ = (Index("ix_login_sessions_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(300), default=None)


class LoginFailure(Base):
    """One failed password attempt; rows older than the rate-limit window are pruned on the next."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_at", "at"), Index("ix_login_failures_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
