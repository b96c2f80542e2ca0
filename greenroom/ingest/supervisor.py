"""Studio mode: one process follows every room it can take, and N processes share the rooms.

Each ingest process runs one :class:`Supervisor`. Every ``scan_interval`` seconds it:

1. reads the rooms to follow (enabled, not removed, URL stored; see ``followed_feeds``);
2. stops the ingesters of rooms paused, removed or given a new URL since;
3. computes its fair share, ``ceil(rooms / live processes)`` capped by ``max_feeds``: above it, it
   gives one room up (the newest taken) for a process below its share to take; below it, it takes
   rooms whose lease is free or expired (a dead holder's rooms once their lease runs out), one
   conditional UPDATE each, so two processes never both win a room;
4. runs one :class:`~greenroom.ingest.loop.Ingester` thread per room held;
5. writes its heartbeat (``ingest_processes``), so every process can count the live ones.

The ingester keeps the lease and its fencing: a batch from a holder whose lease lapsed rolls back.
Nothing here talks to the other processes; the database is the only meeting point.
"""

from __future__ import annotations

import math
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from greenroom.db.engine import Database
from greenroom.db.types import utcnow
from greenroom.db.util import insert_ignore
from greenroom.events.feeds import (
    FeedCipher,
    followed_feeds,
    lease_table,
    try_acquire_lease,
)
from greenroom.events.models import Feed, IngestProcess
from greenroom.ingest.client import FeedClient, describe
from greenroom.ingest.loop import Ingester, make_holder_id
from greenroom.logs import get_logger
from greenroom.secrets import FeedUrl

log = get_logger("greenroom.ingest.supervisor")
PROCESS_ROWS_KEPT = timedelta(days=1)


@dataclass
class _Held:
    feed_id: int
    broadcaster: str
    fingerprint: str
    ingester: Ingester
    thread: threading.Thread
    started: float
    stopping: bool = False


def fair_share(rooms: int, live_processes: int, max_feeds: int | None) -> int:
    """How many rooms one process should hold: an equal split, rounded up, within its cap."""
    share = math.ceil(rooms / max(1, live_processes)) if rooms else 0
    return share if max_feeds is None else min(share, max_feeds)


class Supervisor:
    def __init__(
        self,
        database: Database,
        cipher: FeedCipher,
        *,
        poll_timeout: int = 30,
        lease_seconds: float = 120.0,
        backoff_cap: float = 300.0,
        credential_retry: float = 60.0,
        max_feeds: int | None = None,
        scan_interval: float = 2.0,
        holder: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        client_factory: Callable[[FeedUrl], FeedClient] | None = None,
    ) -> None:
        if max_feeds is not None and max_feeds < 1:
            raise ValueError("max_feeds must be at least 1 (or None for no limit)")
        self.database = database
        self.cipher = cipher
        self.poll_timeout = poll_timeout
        self.lease_seconds = lease_seconds
        self.backoff_cap = backoff_cap
        self.credential_retry = credential_retry
        self.max_feeds = max_feeds
        self.scan_interval = scan_interval
        # A process that misses this many scans no longer counts in the fair share.
        self.stale_after = timedelta(seconds=max(5 * scan_interval, 5.0))
        self.holder = holder or make_holder_id()
        self.clock = clock
        self.client_factory = client_factory
        self.stop_event = threading.Event()
        self.held: dict[int, _Held] = {}
        self._unreadable: set[tuple[int, str]] = set()
        self._lock = threading.Lock()

    # -- what the process reports ---------------------------------------------------------------

    def rooms(self) -> list[str]:
        """Broadcasters this process follows right now."""
        with self._lock:
            return sorted(h.broadcaster for h in self.held.values() if not h.stopping)

    def stop(self) -> None:
        self.stop_event.set()

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> None:
        log.info("ingest supervisor starting", holder=self.holder, max_feeds=self.max_feeds or "no limit")
        try:
            self._heartbeat_safely()
            # Processes started together register before anyone takes rooms, so the first split
            # is already fair rather than corrected a room at a time.
            self.stop_event.wait(self.scan_interval)
            failures = 0
            while not self.stop_event.is_set():
                try:
                    self.tick()
                    failures = 0
                except (OperationalError, InterfaceError) as exc:
                    failures += 1
                    log.warning("database unavailable; the supervisor will retry", error=describe(exc))
                    self.stop_event.wait(min(30.0, self.scan_interval * 2 ** min(failures, 4)))
                    continue
                self.stop_event.wait(self.scan_interval)
        finally:
            self._shutdown()

    def tick(self) -> None:
        """One scan: follow changes in the rooms, rebalance, take free rooms, then the heartbeat
        (saying how many rooms this process holds now)."""
        self._reap()
        now = self.clock()
        self._rebalance(now)
        self._heartbeat(self.clock())

    def _rebalance(self, now: datetime) -> None:
        with self.database.read() as db:
            rooms = {feed.id: (feed.broadcaster, feed.url_fingerprint, feed.url_encrypted)
                     for feed in followed_feeds(db)}
            leases = lease_table(db)
            live = db.scalar(select(func.count()).select_from(IngestProcess)
                             .where(IngestProcess.heartbeat_at >= now - self.stale_after)) or 1

        with self._lock:
            for held in self.held.values():
                room = rooms.get(held.feed_id)
                if held.stopping:
                    continue
                if room is None:
                    self._let_go(held, "the room was paused or removed")
                elif room[1] != held.fingerprint:
                    self._let_go(held, "the room's URL was replaced")
            active = [h for h in self.held.values() if not h.stopping]
            busy = set(self.held)  # rooms with a thread of ours, stopping or not

        share = fair_share(len(rooms), int(live), self.max_feeds)
        if len(active) > share:
            newest = max(active, key=lambda h: h.started)
            with self._lock:
                self._let_go(newest, f"handing over to a process with fewer rooms (share {share})")
            return
        free = [
            fid for fid in rooms
            if fid not in busy and _is_free(leases.get(fid), self.holder, now)
        ]
        random.shuffle(free)  # processes scanning at once try different rooms first
        for fid in free:
            if len(active) >= share or self.stop_event.is_set():
                break
            broadcaster, fp, encrypted = rooms[fid]
            held = self._take(fid, broadcaster, fp, encrypted)
            if held is not None:
                active.append(held)

    # -- taking and giving up rooms --------------------------------------------------------------

    def _take(self, feed_id: int, broadcaster: str, fp: str, encrypted: str | None) -> _Held | None:
        if encrypted is None:
            return None
        try:
            url = self.cipher.decrypt(encrypted)  # registers the token for redaction
        except Exception as exc:  # FeedUrlUnreadable, or a URL that no longer parses
            self._report_unreadable(feed_id, fp, describe(exc))
            return None
        with self.database.write() as db:
            if not try_acquire_lease(db, feed_id, self.holder, self.clock(), self.lease_seconds):
                return None  # another process was quicker
        client = self.client_factory(url) if self.client_factory else None
        ingester = Ingester(
            self.database, url, poll_timeout=self.poll_timeout, lease_seconds=self.lease_seconds,
            backoff_cap=self.backoff_cap, credential_retry=self.credential_retry, holder=self.holder,
            client=client, feed_id=feed_id, wait_for_lease=False,
        )
        thread = threading.Thread(target=self._run_ingester, args=(ingester,), name=f"ingest:{broadcaster}",
                                  daemon=True)
        held = _Held(feed_id, broadcaster, fp, ingester, thread, time.monotonic())
        with self._lock:
            self.held[feed_id] = held
        thread.start()
        log.info("following room", broadcaster=broadcaster, feed=url.masked, holder=self.holder)
        return held

    @staticmethod
    def _run_ingester(ingester: Ingester) -> None:
        try:
            ingester.run()
        except Exception as exc:  # the supervisor takes the room again on a later scan
            log.error("ingester stopped with an error", feed=ingester.feed_url.masked, error=describe(exc))

    def _let_go(self, held: _Held, reason: str) -> None:
        """Ask the room's ingester to stop; it releases the lease when its poll in flight ends."""
        held.stopping = True
        held.ingester.stop()
        log.info("giving up room", broadcaster=held.broadcaster, reason=reason)

    def _reap(self) -> None:
        with self._lock:
            for fid in [fid for fid, h in self.held.items() if not h.thread.is_alive()]:
                del self.held[fid]

    def _report_unreadable(self, feed_id: int, fp: str, message: str) -> None:
        if (feed_id, fp) in self._unreadable:
            return
        self._unreadable.add((feed_id, fp))
        log.error("cannot read a room's stored URL", feed_id=feed_id, error=message)
        with self.database.write() as db:
            db.execute(update(Feed).where(Feed.id == feed_id)
                       .values(last_error=message, last_error_at=self.clock())
                       .execution_options(synchronize_session=False))

    # -- heartbeat -------------------------------------------------------------------------------

    def _heartbeat(self, now: datetime) -> None:
        with self._lock:
            count = sum(1 for h in self.held.values() if not h.stopping)
        with self.database.write() as db:
            insert_ignore(db, IngestProcess.__table__, [{
                "holder": self.holder, "hostname": socket.gethostname()[:128], "pid": os.getpid(),
                "max_feeds": self.max_feeds, "feeds_held": count, "started_at": now, "heartbeat_at": now,
            }], ["holder"])
            db.execute(update(IngestProcess).where(IngestProcess.holder == self.holder)
                       .values(heartbeat_at=now, feeds_held=count)
                       .execution_options(synchronize_session=False))
            db.execute(delete(IngestProcess).where(IngestProcess.heartbeat_at < now - PROCESS_ROWS_KEPT)
                       .execution_options(synchronize_session=False))

    def _heartbeat_safely(self) -> None:
        try:
            self._heartbeat(self.clock())
        except (OperationalError, InterfaceError) as exc:
            log.warning("database unavailable; the supervisor will retry", error=describe(exc))

    def _shutdown(self) -> None:
        with self._lock:
            held = list(self.held.values())
        for item in held:
            item.ingester.stop()
        deadline = time.monotonic() + self.poll_timeout + 20.0
        for item in held:
            item.thread.join(timeout=max(0.1, deadline - time.monotonic()))
        try:
            with self.database.write() as db:
                db.execute(delete(IngestProcess).where(IngestProcess.holder == self.holder)
                           .execution_options(synchronize_session=False))
        except Exception as exc:  # shutting down: report, never raise
            log.warning("could not remove the process heartbeat", error=describe(exc))
        log.info("ingest supervisor stopped", holder=self.holder)


def _is_free(lease: tuple[str | None, datetime | None] | None, holder: str, now: datetime) -> bool:
    if lease is None:
        return True  # no lease row yet: try_acquire_lease decides (and finds none to take)
    who, expires = lease
    return who is None or who == holder or expires is None or expires < now
