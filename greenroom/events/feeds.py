"""Feeds and the one-consumer-per-feed lease.

The lease is a row per feed taken with a conditional UPDATE: it succeeds only when the row is free,
expired, or already ours. Every batch commit renews it with ``WHERE holder = me`` first; if that
matches nothing another ingester took over after our lease lapsed, and the whole batch (events and
cursor) rolls back. On PostgreSQL the renewing UPDATE row-locks the lease, so a takeover waits for
our commit and then sees a fresh expiry; on SQLite ``BEGIN IMMEDIATE`` serialises writers.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from greenroom.db.util import insert_ignore
from greenroom.events.models import Feed, FeedLease, FeedState


class LeaseLost(RuntimeError):
    """Another ingester holds this feed now; the current batch must not be committed."""


def fingerprint(secret_url: str) -> str:
    return hashlib.sha256(secret_url.encode()).hexdigest()


def ensure_feed(
    db: Session, *, broadcaster: str, url_masked: str, url_fingerprint: str, is_demo: bool, now: datetime
) -> Feed:
    """Get or create the feed row for a broadcaster. A changed token keeps the cursor: the position
    in the room's event stream does not depend on which token reads it."""
    broadcaster = broadcaster.lower()
    insert_ignore(
        db,
        Feed.__table__,
        [{
            "broadcaster": broadcaster, "url_masked": url_masked, "url_fingerprint": url_fingerprint,
            "is_demo": is_demo, "state": FeedState.STOPPED, "created_at": now,
            "events_stored": 0, "events_quarantined": 0,
        }],
        ["broadcaster"],
    )
    feed = db.execute(select(Feed).where(Feed.broadcaster == broadcaster)).scalar_one()
    if feed.url_fingerprint != url_fingerprint or feed.url_masked != url_masked or feed.is_demo != is_demo:
        feed.url_fingerprint = url_fingerprint
        feed.url_masked = url_masked
        feed.is_demo = is_demo
    insert_ignore(db, FeedLease.__table__, [{"feed_id": feed.id}], ["feed_id"])
    db.flush()
    return feed


def try_acquire_lease(db: Session, feed_id: int, holder: str, now: datetime, ttl: float) -> bool:
    result = db.execute(
        update(FeedLease)
        .where(FeedLease.feed_id == feed_id)
        .where((FeedLease.holder.is_(None)) | (FeedLease.holder == holder) | (FeedLease.expires_at < now))
        .values(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def renew_lease(db: Session, feed_id: int, holder: str, now: datetime, ttl: float) -> None:
    """Fencing check + renewal; raises :class:`LeaseLost` when the feed is no longer ours."""
    result = db.execute(
        update(FeedLease)
        .where(FeedLease.feed_id == feed_id, FeedLease.holder == holder)
        .values(expires_at=now + timedelta(seconds=ttl))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise LeaseLost(f"lease on feed {feed_id} is held by another ingester")


def release_lease(db: Session, feed_id: int, holder: str) -> bool:
    """Give the feed up; returns whether we were holding it."""
    result = db.execute(
        update(FeedLease)
        .where(FeedLease.feed_id == feed_id, FeedLease.holder == holder)
        .values(holder=None, expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def lease_holder(db: Session, feed_id: int) -> tuple[str | None, datetime | None]:
    row = db.execute(select(FeedLease.holder, FeedLease.expires_at).where(FeedLease.feed_id == feed_id)).one_or_none()
    return (row[0], row[1]) if row else (None, None)
