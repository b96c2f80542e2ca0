"""A real server (uvicorn in a thread, free loopback port) and Debian's chromium via Playwright.

Browser tests skip outside CI when /usr/bin/chromium is missing and fail in CI, where it must be.
Run them in their own pytest invocation (``pytest -m browser``): Playwright's sync API runs its
own event loop, which clashes with asyncio-based tests in the same process.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from greenroom.config import Settings
from greenroom.db.engine import Database
from greenroom.events.feeds import ensure_feed, try_acquire_lease
from greenroom.events.store import record_batch, set_feed_state
from greenroom.web.app import create_app
from greenroom.web.auth import ensure_owner

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PASSWORD = "browser test password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, database: Database, feed_id: int) -> None:
        self.database = database
        self.feed_id = feed_id
        self.url = ""

    def store(self, *envelopes: dict[str, Any]) -> None:
        """Store events as the ingester would (same lease, same unit of work)."""
        now = datetime.now(UTC)
        with self.database.write() as db:
            record_batch(db, feed_id=self.feed_id, envelopes=list(envelopes), cursor=None, cursor_event_id=None,
                         received_at=now, lease_holder="browser-test", lease_ttl=3600)


@pytest.fixture
def live_server(sqlite_database: Database, tmp_path: Path) -> Iterator[LiveServer]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", owner_password=PASSWORD, timezone="Europe/Berlin")
    ensure_owner(sqlite_database, settings)
    now = datetime.now(UTC)
    with sqlite_database.write() as db:
        feed = ensure_feed(db, broadcaster="alice", url_masked="https://eventsapi.chaturbate.com/events/alice/****/",
                           url_fingerprint="fp", is_demo=True, now=now)
        try_acquire_lease(db, feed.id, "browser-test", now, 3600)
        set_feed_state(db, feed.id, "demo", now=now)
        feed_id = feed.id
    app = create_app(settings, sqlite_database, stream_seconds=30)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=1, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    live = LiveServer(sqlite_database, feed_id)
    live.url = f"http://127.0.0.1:{port}"
    yield live
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"browser tests need chromium in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        yield context.new_page()
        context.close()
        browser.close()
