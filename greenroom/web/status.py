"""Read-side queries for the ingest status (health, dashboard card, banner) and the database.

The ``feeds`` row says what its ingester last reported; the lease says whether that ingester is
still alive. A crashed ingester cannot update its row, so a missing or expired lease overrides the
row's state with "stopped".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from greenroom.db.models import metadata
from greenroom.events.models import Feed, FeedLease, FeedState
from greenroom.secrets import redact

HEALTHY_STATES = frozenset({FeedState.POLLING, FeedState.DEMO})


@dataclass(frozen=True)
class FeedStatus:
    feed_id: int | None
    broadcaster: str | None
    url_masked: str | None
    is_demo: bool
    state: str
    reported_state: str | None
    alive: bool
    last_poll_at: datetime | None
    last_event_at: datetime | None
    events_stored: int
    events_quarantined: int
    error: str | None
    error_at: datetime | None
    enabled: bool = True
    source: str = "env"
    removed: bool = False
    lease_holder: str | None = None
    lease_expires_at: datetime | None = None

    @property
    def label(self) -> str:
        """The room's name in the switcher: its broadcaster, marked when it is not followed."""
        name = self.broadcaster or "no room"
        if self.is_demo:
            return f"{name} (demo)"
        if self.removed:
            return f"{name} (removed)"
        if not self.enabled:
            return f"{name} (paused)"
        return name

    @property
    def healthy(self) -> bool:
        return self.state in HEALTHY_STATES

    @property
    def failing(self) -> bool:
        """Worth a banner: the ingester is alive but cannot read the feed, or no ingester runs.
        A room the owner paused or removed is not failing: nobody is meant to read it."""
        return self.feed_id is not None and not self.healthy and self.enabled and not self.removed


NO_FEED = FeedStatus(
    feed_id=None, broadcaster=None, url_masked=None, is_demo=False, state=FeedState.STOPPED,
    reported_state=None, alive=False, last_poll_at=None, last_event_at=None, events_stored=0,
    events_quarantined=0, error=None, error_at=None,
)


def feed_statuses(db: Session, *, now: datetime) -> list[FeedStatus]:
    rows = db.execute(
        select(Feed, FeedLease.holder, FeedLease.expires_at).outerjoin(FeedLease, FeedLease.feed_id == Feed.id)
        .order_by(Feed.broadcaster)
    ).all()
    result = []
    for feed, holder, expires_at in rows:
        alive = holder is not None and expires_at is not None and expires_at > now
        result.append(FeedStatus(
            feed_id=feed.id, broadcaster=feed.broadcaster, url_masked=redact(feed.url_masked),
            is_demo=feed.is_demo, state=feed.state if alive else FeedState.STOPPED,
            reported_state=feed.state, alive=alive, last_poll_at=feed.last_poll_at,
            last_event_at=feed.last_event_at, events_stored=feed.events_stored or 0,
            events_quarantined=feed.events_quarantined or 0,
            error=redact(feed.last_error) if feed.last_error else None, error_at=feed.last_error_at,
            enabled=bool(feed.enabled), source=feed.source, removed=feed.removed_at is not None,
            lease_holder=holder if alive else None, lease_expires_at=expires_at if alive else None,
        ))
    return result


def find_room(statuses: list[FeedStatus], name: str) -> FeedStatus | None:
    """The room called ``name`` (its broadcaster, any case)."""
    wanted = name.strip().lower()
    return next((s for s in statuses if s.broadcaster == wanted), None)


def default_room(statuses: list[FeedStatus], *, now: datetime) -> FeedStatus:
    """The room shown when the owner picked none: a followed one with a live ingester first, then
    the latest polled (a removed room only when nothing else is left)."""
    if not statuses:
        return NO_FEED
    floor = datetime.min.replace(tzinfo=now.tzinfo)
    return max(statuses, key=lambda s: (not s.removed, s.alive, s.last_poll_at or floor, s.feed_id or 0))


def active_feed_status(db: Session, *, now: datetime) -> FeedStatus:
    """The feed the owner is looking at: one with a live ingester first, then the latest polled."""
    return default_room(feed_statuses(db, now=now), now=now)


@dataclass(frozen=True)
class DatabaseInfo:
    kind: str
    size_bytes: int | None
    table_counts: list[tuple[str, int]]


def database_info(db: Session) -> DatabaseInfo:
    dialect = db.get_bind().dialect.name
    size: int | None = None
    if dialect == "sqlite":
        pages = db.execute(text("PRAGMA page_count")).scalar() or 0
        page_size = db.execute(text("PRAGMA page_size")).scalar() or 0
        size = int(pages) * int(page_size)
        database = db.get_bind().url.database
        if database and database != ":memory:":
            wal = Path(database + "-wal")
            size += wal.stat().st_size if wal.exists() else 0
    elif dialect == "postgresql":
        size = int(db.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)
    counts = []
    for table in sorted(metadata.sorted_tables, key=lambda t: t.name):
        counts.append((table.name, int(db.scalar(select(func.count()).select_from(table)) or 0)))
    kind = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(dialect, dialect)
    return DatabaseInfo(kind=kind, size_bytes=size, table_counts=counts)
