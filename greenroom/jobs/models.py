"""Jobs and their runs. The database is the queue: a run row is claimed by a conditional UPDATE and
"when must this happen" is the indexed ``run_after`` column, so there is no broker to run or lose.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from greenroom.db.base import Base
from greenroom.db.types import BigIntPK, JSONType, UTCDateTime


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class Job(Base):
    """The owner's switches for one job defined in code (``@job``). The definition itself (schedule,
    core or not) stays in code; this row holds what the owner decided about it."""

    __tablename__ = "jobs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    # A core job switched off with --force stays off across restarts; one switched off any other
    # way (a hand edit, a bug) is switched back on when a worker starts.
    forced_off: Mapped[bool] = mapped_column(default=False)
    # Per-job settings, handed to the job as defaults under the run's own args.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRun(Base):
    """One execution (with its retries) of a job.

    ``slot`` makes runs idempotent: a periodic run's slot is the ISO start of its interval, so N
    workers scheduling the same interval insert one row; queued work uses the caller's key (or a
    random one), manual runs a ``manual:`` key.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "slot"),
        # Claiming: "queued and due, oldest first".
        Index("ix_job_runs_claim", "status", "run_after"),
        # Finding runs whose worker vanished: "running and lease passed".
        Index("ix_job_runs_lease", "status", "lease_until"),
        Index("ix_job_runs_history", "job", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    slot: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.QUEUED)
    args: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    worker_id: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    result: Mapped[Any] = mapped_column(JSONType, nullable=True, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
