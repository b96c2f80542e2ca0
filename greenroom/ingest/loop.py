"""The ingest loop: hold the feed's lease, long-poll with no transaction open, then store the batch,
its cursor and everything derived from it in one transaction.

Backoff is a few lines here rather than a retry library: between attempts the loop must record
its state (backing off, credentials rejected) and keep renewing its lease, which a decorator-style
retry cannot do.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import InterfaceError, OperationalError

from greenroom.db.engine import Database
from greenroom.db.types import utcnow
from greenroom.events.feeds import (
    LeaseLost,
    ensure_feed,
    fingerprint,
    release_lease,
    renew_lease,
    try_acquire_lease,
)
from greenroom.events.models import Feed, FeedState
from greenroom.events.store import record_batch, set_feed_state
from greenroom.ingest.client import CredentialsRejected, FeedClient, PollError, TransientError, describe
from greenroom.ingest.pipeline import load_steps, process_new_events
from greenroom.logs import get_logger
from greenroom.secrets import FeedUrl, register_secret

log = get_logger("greenroom.ingest")


def make_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff_delay(attempt: int, *, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter in the upper half: base·2^attempt, capped."""
    rng = rng or random
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    return ceiling * (0.5 + rng.random() / 2)


class Ingester:
    def __init__(
        self,
        database: Database,
        feed_url: FeedUrl,
        *,
        poll_timeout: int = 30,
        lease_seconds: float = 120.0,
        backoff_cap: float = 300.0,
        credential_retry: float = 60.0,
        is_demo: bool = False,
        holder: str | None = None,
        client: FeedClient | None = None,
        clock: Callable[[], datetime] = utcnow,
        feed_id: int | None = None,
        wait_for_lease: bool = True,
    ) -> None:
        """``feed_id`` names a room that already exists (the studio supervisor's rooms): it is not
        created from the URL. ``wait_for_lease=False`` returns instead of waiting while another
        process holds the room (the supervisor decides what to follow next)."""
        register_secret(feed_url.token)
        self.database = database
        self.feed_url = feed_url
        self.lease_seconds = lease_seconds
        self.backoff_cap = backoff_cap
        self.credential_retry = credential_retry
        self.is_demo = is_demo
        self.holder = holder or make_holder_id()
        self.client = client or FeedClient(feed_url, timeout=poll_timeout)
        self.clock = clock
        self.stop_event = threading.Event()
        self.feed_id: int | None = feed_id
        self.wait_for_lease = wait_for_lease
        self.polls = 0
        load_steps()

    @property
    def live_state(self) -> str:
        return FeedState.DEMO if self.is_demo else FeedState.POLLING

    def stop(self) -> None:
        self.stop_event.set()

    def run(self, max_polls: int | None = None) -> None:
        if self.feed_id is None:
            with self.database.write() as db:
                feed = ensure_feed(
                    db, broadcaster=self.feed_url.username, url_masked=self.feed_url.masked,
                    url_fingerprint=fingerprint(self.feed_url.base), is_demo=self.is_demo, now=self.clock(),
                )
                self.feed_id = feed.id
        log.info("ingest starting", feed=self.feed_url.masked, holder=self.holder)
        outages = 0
        try:
            while not self.stop_event.is_set():
                try:
                    if not self._acquire():
                        return
                    self._poll_until_stopped(max_polls)
                except LeaseLost:
                    log.warning("lease lost; another ingester took over this feed", feed=self.feed_url.masked)
                    continue
                except (OperationalError, InterfaceError) as exc:
                    # The database went away (restart, failover, cut connection): the batch in
                    # flight rolled back and its cursor with it, so waiting and starting again
                    # from the saved cursor loses nothing. Dying here would stop ingest silently.
                    outages += 1
                    log.warning("database unavailable; ingest will retry", error=describe(exc),
                                feed=self.feed_url.masked)
                    self.stop_event.wait(backoff_delay(outages - 1, cap=min(self.backoff_cap, 30.0)))
                    continue
                return
        finally:
            self._shutdown()

    def _acquire(self) -> bool:
        assert self.feed_id is not None
        announced = False
        while not self.stop_event.is_set():
            with self.database.write() as db:
                if try_acquire_lease(db, self.feed_id, self.holder, self.clock(), self.lease_seconds):
                    set_feed_state(db, self.feed_id, self.live_state, now=self.clock())
                    log.info("lease acquired", feed=self.feed_url.masked)
                    return True
            if not self.wait_for_lease:
                return False
            if not announced:
                log.info("another ingester holds this feed; waiting", feed=self.feed_url.masked)
                announced = True
            self.stop_event.wait(min(5.0, self.lease_seconds / 4))
        return False

    def _poll_until_stopped(self, max_polls: int | None) -> None:
        assert self.feed_id is not None
        failures = 0
        while not self.stop_event.is_set():
            if max_polls is not None and self.polls >= max_polls:
                return
            with self.database.read() as db:
                feed = db.get(Feed, self.feed_id)
                if feed is None:  # the room was removed with its data
                    raise LeaseLost(f"feed {self.feed_id} no longer exists")
                cursor = feed.cursor
            self.polls += 1
            try:
                result = self.client.poll(cursor)  # no transaction open while we wait
            except CredentialsRejected as exc:
                failures += 1
                self._record_failure(FeedState.CREDENTIALS_REJECTED, str(exc))
                self._sleep(min(self.credential_retry * (2 ** min(failures - 1, 4)), 900.0))
                continue
            except PollError as exc:
                failures += 1
                delay = backoff_delay(failures - 1, cap=self.backoff_cap)
                if isinstance(exc, TransientError) and exc.retry_after:
                    delay = max(delay, exc.retry_after)
                self._record_failure(FeedState.BACKING_OFF, str(exc))
                self._sleep(delay)
                continue
            now = self.clock()
            with self.database.write() as db:
                batch = record_batch(
                    db, feed_id=self.feed_id, envelopes=result.events, cursor=result.cursor,
                    cursor_event_id=result.cursor_event_id, received_at=now,
                    lease_holder=self.holder, lease_ttl=self.lease_seconds,
                )
                process_new_events(db, self.feed_id, batch.new, now)
                if result.refused_next_url:
                    set_feed_state(db, self.feed_id, FeedState.BACKING_OFF, now=now,
                                   error="refused a nextUrl pointing to another host")
                else:
                    set_feed_state(db, self.feed_id, self.live_state, now=now)
            if batch.quarantined:
                log.warning("events quarantined", count=batch.quarantined, feed=self.feed_url.masked)
            if result.refused_next_url:
                failures += 1
                log.warning("refused a nextUrl pointing to another host", feed=self.feed_url.masked)
                self._sleep(backoff_delay(failures - 1, cap=self.backoff_cap))
                continue
            failures = 0

    def _record_failure(self, state: str, message: str) -> None:
        assert self.feed_id is not None
        log.warning("poll failed", state=state, error=message, feed=self.feed_url.masked)
        with self.database.write() as db:
            renew_lease(db, self.feed_id, self.holder, self.clock(), self.lease_seconds)
            set_feed_state(db, self.feed_id, state, now=self.clock(), error=message)

    def _sleep(self, seconds: float) -> None:
        """Wait, renewing the lease often enough that it never lapses while we back off."""
        assert self.feed_id is not None
        remaining = seconds
        slice_ = max(1.0, self.lease_seconds / 3)
        while remaining > 0 and not self.stop_event.is_set():
            step = min(slice_, remaining)
            self.stop_event.wait(step)
            remaining -= step
            if remaining > 0:
                with self.database.write() as db:
                    renew_lease(db, self.feed_id, self.holder, self.clock(), self.lease_seconds)

    def _shutdown(self) -> None:
        self.client.close()
        if self.feed_id is None:
            return
        try:
            with self.database.write() as db:
                if release_lease(db, self.feed_id, self.holder):
                    set_feed_state(db, self.feed_id, FeedState.STOPPED, now=self.clock())
        except Exception as exc:  # shutting down: report, never raise over the original error
            log.warning("could not release the ingest lease", error=describe(exc))
