"""Tables of token-history imports.

``token_imports`` is one upload or command-line run: its counts, its summary and, while it waits
for the owner's go-ahead, the parsed rows (never the uploaded bytes). ``token_transactions`` holds
every transaction once per room: its identity is the fingerprint of its normalised content plus
its occurrence number among identical rows of the same file, enforced by a unique constraint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from greenroom.db.base import Base
from greenroom.db.types import BigIntPK, JSONType, UTCDateTime


class ImportStatus:
    PREVIEW = "preview"  # parsed and waiting for the owner to import it
    REJECTED = "rejected"  # malformed: nothing of it is kept but its errors
    QUEUED = "queued"  # the owner said "Import": a job will insert the rows
    DONE = "done"
    FAILED = "failed"  # the insert failed (the database refused); nothing of it was kept


class TokenImport(Base):
    __tablename__ = "token_imports"
    __table_args__ = (Index("ix_token_imports_feed_created", "feed_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16))  # "web" or "cli"
    status: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_new: Mapped[int] = mapped_column(Integer, default=0)
    rows_present: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    summary: Mapped[Any | None] = mapped_column(JSONType, default=None)  # counts and sums by category, columns, zone
    errors: Mapped[Any | None] = mapped_column(JSONType, default=None)  # [{"line": n, "reason": "..."}]
    staged: Mapped[Any | None] = mapped_column(JSONType, default=None)  # parsed rows until imported or discarded
    run_id: Mapped[int | None] = mapped_column(Integer, default=None)  # the job run inserting it
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class TokenTransaction(Base):
    __tablename__ = "token_transactions"
    __table_args__ = (
        UniqueConstraint("feed_id", "fingerprint", "occurrence"),
        Index("ix_token_transactions_feed_time", "feed_id", "occurred_at"),
        Index("ix_token_transactions_feed_username", "feed_id", "username", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("token_imports.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    username: Mapped[str] = mapped_column(String(64))  # lower case; "" when the row names nobody
    display_name: Mapped[str] = mapped_column(String(64))  # as written in the file
    tokens: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(16))
    type_label: Mapped[str] = mapped_column(String(100))  # the file's own transaction type
    note: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    occurrence: Mapped[int] = mapped_column(Integer)
