"""Supervisors sharing rooms in one process (the multi-process test does it for real): every room
followed by exactly one of them, a fair split, pause, token rotation and a clean hand-over."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select, update

from greenroom.db.types import utcnow
from greenroom.events.feeds import FeedCipher, store_feed_url
from greenroom.events.models import Event, Feed, FeedLease, FeedSource, IngestProcess
from greenroom.ingest.client import FeedClient
from greenroom.ingest.supervisor import Supervisor, fair_share
from greenroom.secrets import parse_feed_url
from greenroom.web.api.feeds import change_room

from .conftest import SECRET_KEY, wait_for


def test_fair_share():
    assert fair_share(0, 3, None) == 0
    assert fair_share(5, 3, None) == 2
    assert fair_share(8, 4, None) == 2
    assert fair_share(5, 1, None) == 5
    assert fair_share(5, 1, 2) == 2
    assert fair_share(5, 0, None) == 5


class Running:
    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.thread = threading.Thread(target=supervisor.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.supervisor.stop()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


def _supervisor(database: Any, **options: Any) -> Supervisor:
    def client(url: Any) -> FeedClient:
        return FeedClient(url, timeout=1, total_deadline=8.0)

    return Supervisor(database, FeedCipher(SECRET_KEY), poll_timeout=1, lease_seconds=3, backoff_cap=0.3,
                      credential_retry=0.3, scan_interval=0.3, client_factory=client, **options)


def _stored(database: Any, feed_id: int) -> list[str]:
    with database.read() as db:
        return list(db.scalars(select(Event.event_id).where(Event.feed_id == feed_id).order_by(Event.id)))


def _holders(database: Any) -> dict[int, str | None]:
    with database.read() as db:
        return dict(db.execute(select(FeedLease.feed_id, FeedLease.holder)).all())


def test_supervisors_share_rooms_pause_rotate_and_hand_over(database, simulators):
    servers = {name: simulators(name, seed) for name, seed in (("bob", 1), ("carol", 2), ("dora", 3))}
    cipher = FeedCipher(SECRET_KEY)
    ids = {}
    with database.write() as db:
        for name, server in servers.items():
            ids[name] = store_feed_url(db, cipher, parse_feed_url(server.feed_url), source=FeedSource.ADMIN,
                                       now=utcnow()).id
    first, second = Running(_supervisor(database)), Running(_supervisor(database))
    try:
        for name, server in servers.items():
            wait_for(lambda s=server, n=name: len(_stored(database, ids[n])) == len(s.script.events), 90,
                     f"{name}'s events")
        for name, server in servers.items():
            stored = _stored(database, ids[name])
            assert stored == server.served_ids() and len(set(stored)) == len(stored)
            assert server.overlapping_polls() == []
        held = [len(first.supervisor.rooms()), len(second.supervisor.rooms())]
        assert sorted(held) == [1, 2], held  # ceil(3 / 2) = 2 at most each
        with database.read() as db:
            assert db.scalar(select(IngestProcess.feeds_held).where(
                IngestProcess.holder == first.supervisor.holder)) in (1, 2)

        # Pause: whoever holds bob lets it go within seconds.
        with database.write() as db:
            change_room(db, cipher, ids["bob"], utcnow(), enabled=False)
        wait_for(lambda: _holders(database)[ids["bob"]] is None, 15, "bob to be let go")
        assert "bob" not in first.supervisor.rooms() + second.supervisor.rooms()

        # Token rotation: the old token is refused, the new URL is picked up without a restart.
        carol = servers["carol"]
        carol.set_token("Rotated-carol-token-000111222")
        def state_of(feed_id: int) -> str | None:
            with database.read() as db:
                feed = db.get(Feed, feed_id)
                return feed.state if feed else None
        wait_for(lambda: state_of(ids["carol"]) == "credentials_rejected", 20, "carol's old token to be refused")
        new_url = carol.feed_url
        assert "Rotated-carol-token-000111222" in new_url
        with database.write() as db:
            change_room(db, cipher, ids["carol"], utcnow(), url_text=new_url)

        def polling_again() -> bool:
            with database.read() as db:
                feed = db.get(Feed, ids["carol"])
                return feed is not None and feed.state == "polling" and feed.last_error is None
        wait_for(polling_again, 20, "carol to be followed with the new token")

        # One supervisor stops: the other takes its rooms (a clean hand-over: the lease is released).
        first.stop()
        wait_for(lambda: sorted(second.supervisor.rooms()) == ["carol", "dora"], 20, "the hand-over")
        holders = _holders(database)
        assert holders[ids["carol"]] == holders[ids["dora"]] == second.supervisor.holder
    finally:
        first.stop()
        second.stop()
    with database.read() as db:
        assert db.scalars(select(IngestProcess)).all() == []  # both said goodbye
        assert all(h is None for h in _holders(database).values())
    for server in servers.values():
        assert server.overlapping_polls() == []


def test_a_room_whose_url_this_process_cannot_read_is_reported_not_fatal(database, simulators):
    server = simulators("bob", 1)
    with database.write() as db:
        feed_id = store_feed_url(db, FeedCipher("the key of another machine"), parse_feed_url(server.feed_url),
                                 source=FeedSource.ADMIN, now=utcnow()).id
    running = Running(_supervisor(database))
    try:
        def reported() -> bool:
            with database.read() as db:
                error = db.get(Feed, feed_id).last_error
                return error is not None and "GREENROOM_SECRET_KEY" in error
        wait_for(reported, 15, "the unreadable URL to be reported")
        assert running.thread.is_alive() and running.supervisor.rooms() == []
    finally:
        running.stop()
    with database.write() as db:
        db.execute(update(Feed).values(enabled=False))


def test_a_process_never_follows_more_rooms_than_its_limit(database, simulators):
    servers = [simulators(name, seed) for name, seed in (("bob", 1), ("carol", 2))]
    with database.write() as db:
        for server in servers:
            store_feed_url(db, FeedCipher(SECRET_KEY), parse_feed_url(server.feed_url), source=FeedSource.ADMIN,
                           now=utcnow())
    running = Running(_supervisor(database, max_feeds=1))
    try:
        wait_for(lambda: len(running.supervisor.rooms()) == 1, 15, "one room taken")
        threading.Event().wait(1.5)  # several scans later, still one
        assert len(running.supervisor.rooms()) == 1
        assert sorted(h is None for h in _holders(database).values()) == [False, True]
        with database.read() as db:
            row = db.scalars(select(IngestProcess)).one()
            assert row.max_feeds == 1 and row.feeds_held == 1
    finally:
        running.stop()
