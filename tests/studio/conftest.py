"""Studio fixtures: an app on a real database whose rooms are added through the Admin API, and
simulated rooms (one SimulatorServer per broadcaster, each with its own token)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from greenroom.config import Settings
from greenroom.events.models import FeedLease
from greenroom.events.store import record_batch
from greenroom.ingest.pipeline import load_steps, process_new_events
from greenroom.simulator.script import Script, ScriptConfig, build_script
from greenroom.simulator.server import SimulatorServer
from tests.web import conftest as web_fixtures
from tests.web.web_helpers import PASSWORD, chat, login, tip

SECRET_KEY = "studio-secret-key-shared-by-every-machine"

# The web tests' fixtures, over the studio's own settings (below).
cheap_password_hashing = web_fixtures.cheap_password_hashing
clock = web_fixtures.clock
app = web_fixtures.app


def token_for(name: str) -> str:
    return f"Tok-{name}-kept-out-of-every-log-0123456789"


class RecordingSimulator(SimulatorServer):
    """A simulator that remembers when each feed request began and ended (monotonic seconds), to
    prove that no two processes ever polled one room at the same time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.polls: list[tuple[float, float]] = []
        self._polls_lock = threading.Lock()

    def _handle(self, req: Any) -> None:
        if not req.path.startswith("/events/"):
            return super()._handle(req)
        started = time.monotonic()
        try:
            return super()._handle(req)
        finally:
            with self._polls_lock:
                self.polls.append((started, time.monotonic()))

    def overlapping_polls(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        with self._polls_lock:
            spans = sorted(self.polls)
        overlaps = []
        latest_end: tuple[float, float] | None = None
        for span in spans:
            if latest_end is not None and span[0] < latest_end[1] - 0.001:
                overlaps.append((latest_end, span))
            if latest_end is None or span[1] > latest_end[1]:
                latest_end = span
        return overlaps


def room_script(name: str, seed: int, *, audience: int = 20, days: float = 0.5) -> Script:
    return build_script(ScriptConfig(seed=seed, broadcaster=name, days=days, audience=audience, viewer_pool=120,
                                     broadcasts_per_day=2))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The web tests' installation, with a secret key every machine of the studio shares."""
    return Settings(_env_file=None, data_dir=tmp_path / "data", owner_password=PASSWORD,
                    timezone="Europe/Berlin", secret_key=SECRET_KEY)


@pytest.fixture
def signed_in(app: Any) -> TestClient:
    client = TestClient(app)
    assert login(client).status_code == 303
    return client


def csrf(client: TestClient) -> str:
    page = client.get("/admin?tab=rooms")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def simulators() -> Iterator[Callable[..., RecordingSimulator]]:
    started: list[RecordingSimulator] = []

    def start(name: str, seed: int, **options: Any) -> RecordingSimulator:
        script = options.pop("script", None) or room_script(name, seed)
        options.setdefault("speed", "instant")
        options.setdefault("batch_limit", 50)
        server = RecordingSimulator(script, token=token_for(name), **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def fill_room(database, feed_id: int, clock, name: str, start: int) -> None:
    """Events and everything derived from them (sessions, people, inbox), as ingest stores them."""
    load_steps()
    envelopes = [{"method": "broadcastStart", "id": f"{1_764_340_000_000 + start}-0",
                  "object": {"broadcaster": name, "user": {"username": name}}}]
    envelopes += [tip(start + i, username=f"{name}_fan{i}") for i in range(1, 4)]
    envelopes += [chat(start + 10, "hello", username=f"{name}_fan1")]
    for envelope in envelopes:
        envelope["object"]["broadcaster"] = name
    with database.write() as db:
        db.execute(FeedLease.__table__.update().where(FeedLease.feed_id == feed_id).values(holder=None))
        batch = record_batch(db, feed_id=feed_id, envelopes=envelopes, cursor="i=x", cursor_event_id="x",
                             received_at=clock(), lease_holder=None)
        process_new_events(db, feed_id, batch.new, clock())


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
