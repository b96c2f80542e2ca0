"""Feeds, their encrypted URLs, and the one-consumer-per-feed lease.

The lease is a row per feed taken with a conditional UPDATE: it succeeds only when the row is free,
expired, or already ours. Every batch commit renews it with ``WHERE holder = me`` first; if that
matches nothing another ingester took over after our lease lapsed, and the whole batch (events and
cursor) rolls back. On PostgreSQL the renewing UPDATE row-locks the lease, so a takeover waits for
our commit and then sees a fresh expiry; on SQLite ``BEGIN IMMEDIATE`` serialises writers.

A room any ingest process may follow keeps its Events API URL encrypted (Fernet, with a key
derived by HKDF from the installation's secret key): every process of a studio reads it with the
same GREENROOM_SECRET_KEY, and the database alone never gives the token away.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from greenroom.db.util import insert_ignore
from greenroom.events.models import Feed, FeedLease, FeedSource, FeedState
from greenroom.secrets import FeedUrl, parse_feed_url, register_secret


class LeaseLost(RuntimeError):
    """Another ingester holds this feed now; the current batch must not be committed."""


def fingerprint(secret_url: str) -> str:
    return hashlib.sha256(secret_url.encode()).hexdigest()


class FeedUrlUnreadable(RuntimeError):
    """The stored URL cannot be decrypted: this process has another secret key than the one that
    stored it (every machine of a studio must share GREENROOM_SECRET_KEY), or the row was altered."""


class FeedCipher:
    """Encrypts Events API URLs at rest. The key is derived from the installation's secret key,
    with its own HKDF label, so it is never the key that signs login cookies."""

    INFO = b"greenroom.feed-url.v1"

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("a secret key is needed to encrypt feed URLs")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=self.INFO).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, url: FeedUrl) -> str:
        return self._fernet.encrypt(url.base.encode()).decode("ascii")

    def decrypt(self, token: str) -> FeedUrl:
        """The stored URL, parsed; its token is registered for redaction before it is returned."""
        try:
            plain = self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError, UnicodeError):
            raise FeedUrlUnreadable(
                "the stored Events API URL cannot be decrypted with this process's secret key "
                "(every machine must share GREENROOM_SECRET_KEY)"
            ) from None
        url = parse_feed_url(plain)
        register_secret(url.token)
        return url


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
            "events_stored": 0, "events_quarantined": 0, "enabled": True,
            "source": FeedSource.DEMO if is_demo else FeedSource.ENV,
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


def store_feed_url(
    db: Session, cipher: FeedCipher, url: FeedUrl, *, source: str, now: datetime, enabled: bool | None = None
) -> Feed:
    """Follow a room from any ingest process: create it (or revive a removed one, keeping its data
    and cursor) and store its URL encrypted. ``enabled=None`` keeps a paused room paused."""
    register_secret(url.token)
    feed = ensure_feed(
        db, broadcaster=url.username, url_masked=url.masked, url_fingerprint=fingerprint(url.base),
        is_demo=False, now=now,
    )
    feed.url_encrypted = cipher.encrypt(url)
    feed.source = source
    feed.removed_at = None
    feed.updated_at = now
    if enabled is not None:
        feed.enabled = enabled
    db.flush()
    return feed


def followed_feeds(db: Session) -> list[Feed]:
    """Rooms an ingest process should follow: enabled, not removed, with a stored URL."""
    return list(db.scalars(
        select(Feed).where(Feed.enabled.is_(True), Feed.removed_at.is_(None), Feed.url_encrypted.is_not(None),
                           Feed.is_demo.is_(False)).order_by(Feed.id)
    ))


def lease_table(db: Session) -> dict[int, tuple[str | None, datetime | None]]:
    """{feed_id: (holder, expires_at)} of every lease row."""
    return {fid: (holder, expires) for fid, holder, expires in
            db.execute(select(FeedLease.feed_id, FeedLease.holder, FeedLease.expires_at))}


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
