from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from greenroom.events.models import Event, Feed
from greenroom.ingest.client import FeedClient
from greenroom.ingest.loop import Ingester
from greenroom.secrets import parse_feed_url
from greenroom.simulator.script import Script, ScriptConfig, build_script
from greenroom.simulator.server import SimulatorServer

TOKEN = "Tok3n-never-to-be-seen-0123456789"


@pytest.fixture(scope="session")
def scenario() -> Script:
    """A small but complete room: a few broadcasts, a restart, offline visits, quirks."""
    return build_script(ScriptConfig(seed=5, days=1.0, audience=30, viewer_pool=200, broadcasts_per_day=2))


@pytest.fixture
def simulator(scenario: Script) -> Iterator[SimulatorServer]:
    with SimulatorServer(scenario, token=TOKEN, speed="instant", batch_limit=50) as server:
        yield server


class RunningIngester:
    def __init__(self, ingester: Ingester) -> None:
        self.ingester = ingester
        self.thread = threading.Thread(target=ingester.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.ingester.stop()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


@pytest.fixture
def start_ingester() -> Iterator[Callable[..., RunningIngester]]:
    """Start an ingester thread on (database, simulator); every one is stopped at teardown."""
    running: list[RunningIngester] = []

    def start(database: Any, server: SimulatorServer, **overrides: Any) -> RunningIngester:
        feed = parse_feed_url(server.feed_url)
        options: dict[str, Any] = {"poll_timeout": 1, "lease_seconds": 10, "backoff_cap": 0.3,
                                   "credential_retry": 0.3}
        options.update(overrides)
        client = FeedClient(feed, timeout=options["poll_timeout"], total_deadline=options.pop("deadline", 8.0))
        item = RunningIngester(Ingester(database, feed, client=client, **options))
        running.append(item)
        return item

    yield start
    for item in running:
        item.stop()


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stored_ids(database: Any) -> list[str]:
    with database.read() as db:
        return list(db.scalars(select(Event.event_id).order_by(Event.id)))


def feed_row(database: Any) -> Feed | None:
    with database.read() as db:
        return db.scalars(select(Feed)).one_or_none()


def feed_state(database: Any) -> str | None:
    feed = feed_row(database)
    return feed.state if feed else None


def served_ids(server: SimulatorServer) -> list[str]:
    """Every id the server will serve, re-anchored as it serves them (instant mode moves times)."""
    assert server.timeline is not None
    return [server.timeline.envelope(k)["id"] for k in range(len(server.script.events))]
