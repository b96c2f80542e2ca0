"""Upstream faults that deliver nothing usable — a nextUrl to a foreign host, a body that never
ends, truncated JSON, a server error — show as a clear state on /api/health and a banner on the
Dashboard while they last, and ingest recovers by itself with nothing lost or doubled."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from greenroom.config import Settings
from greenroom.simulator.faults import Fault
from greenroom.web.app import create_app
from greenroom.web.auth import ensure_owner
from tests.ingest.conftest import (  # noqa: F401 - fixtures
    feed_row,
    feed_state,
    scenario,
    served_ids,
    simulator,
    start_ingester,
    stored_ids,
    wait_for,
)
from tests.web.web_helpers import PASSWORD, login

pytestmark = pytest.mark.slow

EXPECTED_ERROR = {"foreign_next": "another host", "endless_body": "did not finish", "truncated": "invalid JSON",
                  "503": "HTTP 503"}


@pytest.mark.parametrize("kind", sorted(EXPECTED_ERROR))
def test_a_lasting_fault_is_a_clear_state_on_health_and_the_dashboard_until_it_clears(
    kind, sqlite_database, scenario, simulator, start_ingester, tmp_path, monkeypatch  # noqa: F811
):
    monkeypatch.setattr("greenroom.web.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    database = sqlite_database
    simulator.add_faults(Fault(kind, next=10_000, seconds=30.0 if kind == "endless_body" else None))
    running = start_ingester(database, simulator, deadline=1.5)
    wait_for(lambda: feed_state(database) == "backing_off", what=f"backing_off after {kind}")
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", owner_password=PASSWORD)
    ensure_owner(database, settings)
    client = TestClient(create_app(settings, database))
    health = client.get("/api/health").json()
    assert health["status"] == "degraded" and health["ingest"]["state"] == "backing_off"
    assert EXPECTED_ERROR[kind] in health["ingest"]["error"], health
    assert login(client).status_code == 303
    assert 'data-status="banner" hidden' not in client.get("/").text  # the banner is shown

    simulator.clear_faults()
    wait_for(lambda: len(stored_ids(database)) >= len(scenario.events), what=f"recovery from {kind}")
    wait_for(lambda: feed_state(database) == "polling", what="polling again")
    assert client.get("/api/health").json()["status"] == "ok"
    running.stop()
    assert stored_ids(database) == served_ids(simulator)
    assert feed_row(database).events_stored == len(scenario.events)
