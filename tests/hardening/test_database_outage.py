"""PostgreSQL goes away under a running ingester: its connections are cut again and again, then the
database refuses connections for seconds before it comes back. The ingester recovers by itself,
and the store ends with every served event exactly once (the machine's cluster is never stopped:
only this test's own database is cut off)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from greenroom.db.engine import Database
from greenroom.simulator.script import ScriptConfig, build_script
from greenroom.simulator.server import SimulatorServer
from tests.conftest import PG_ADMIN_URL, create_pg_database
from tests.ingest.conftest import TOKEN, feed_state, served_ids, start_ingester, stored_ids, wait_for  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture
def own_database() -> Iterator[tuple[str, str]]:
    """(url, name) of a database of this test's own, so cutting it off disturbs no other test."""
    url, name, admin = create_pg_database("greenroom_outage")
    yield url, name
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Saboteur:
    """Terminates every backend of one database, over and over, from the admin connection."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.cuts = 0

    def cut(self) -> int:
        with self.admin.connect() as conn:
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": self.name}).scalar() or 0
        self.cuts += killed
        return killed

    def allow(self, allowed: bool) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))


def test_an_ingester_whose_database_goes_away_and_comes_back_loses_and_doubles_nothing(
    own_database, start_ingester  # noqa: F811
):
    url, name = own_database
    database = Database(url)
    script = build_script(ScriptConfig(seed=8, target_events=6000, audience=60, viewer_pool=300))
    saboteur = Saboteur(name)
    stop = threading.Event()
    with SimulatorServer(script, token=TOKEN, speed="instant", batch_limit=25) as server:
        running = start_ingester(database, server, lease_seconds=5)
        wait_for(lambda: len(stored_ids(database)) >= 200, what="ingest under way")

        def sabotage() -> None:
            while not stop.wait(0.15):
                saboteur.cut()

        thread = threading.Thread(target=sabotage, daemon=True)
        thread.start()
        time.sleep(3.0)
        stop.set()
        thread.join()
        # The database refuses every connection for a while, then comes back.
        saboteur.allow(False)
        saboteur.cut()
        time.sleep(3.0)
        saboteur.allow(True)
        wait_for(lambda: len(stored_ids(database)) >= len(script.events), timeout=120,
                 what="all events after the outage")
        assert running.thread.is_alive(), "the ingester stopped instead of riding out the outage"
        wait_for(lambda: feed_state(database) == "polling", what="polling again")
        running.stop()
        expected = served_ids(server)
    assert saboteur.cuts >= 5
    stored = stored_ids(database)
    assert len(stored) == len(set(stored)), "an event was stored twice"
    assert stored == expected
    database.dispose()
    saboteur.admin.dispose()
