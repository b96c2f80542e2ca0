"""Web fixtures: an app on a real migrated database, an owner, and a signed-in client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from greenroom.config import Settings
from greenroom.db.engine import Database
from greenroom.events.feeds import ensure_feed, try_acquire_lease
from greenroom.events.store import record_batch, set_feed_state
from greenroom.web.app import create_app
from greenroom.web.auth import ensure_owner
from tests.web.web_helpers import NOW, PASSWORD, SECRET_URL, Clock, login


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Production argon2 parameters cost ~0.4 s a hash here; tests need the behaviour, not the cost."""
    monkeypatch.setattr("greenroom.web.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", owner_password=PASSWORD,
                    timezone="Europe/Berlin", events_url=SECRET_URL)


@pytest.fixture
def app(settings: Settings, database: Database, clock: Clock) -> Any:
    ensure_owner(database, settings)
    return create_app(settings, database, clock=clock, stream_seconds=1.5)


@pytest.fixture
def client(app: Any) -> TestClient:
    return TestClient(app)


@pytest.fixture
def signed_in(client: TestClient) -> TestClient:
    assert login(client).status_code == 303
    return client


@pytest.fixture
def feed(database: Database, clock: Clock) -> Callable[..., int]:
    """Make the demo/real feed with a live ingester lease; returns a function storing envelopes."""
    with database.write() as db:
        row = ensure_feed(db, broadcaster="alice", url_masked="https://eventsapi.chaturbate.com/events/alice/****/",
                          url_fingerprint="fp", is_demo=False, now=clock())
        assert try_acquire_lease(db, row.id, "ingester-1", clock(), 600)
        set_feed_state(db, row.id, "polling", now=clock())
        feed_id = row.id

    def store(*envelopes: dict[str, Any]) -> int:
        with database.write() as db:
            record_batch(db, feed_id=feed_id, envelopes=list(envelopes), cursor=None, cursor_event_id=None,
                         received_at=clock(), lease_holder="ingester-1", lease_ttl=600)
        return feed_id

    store.feed_id = feed_id  # type: ignore[attr-defined]
    return store
