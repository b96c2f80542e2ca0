"""A credential failure is visible where the owner looks (health API, Dashboard, Admin), and the
token appears in no output of the run."""

from __future__ import annotations

import logging

from argon2 import PasswordHasher
from starlette.testclient import TestClient

from greenroom.config import Settings
from greenroom.simulator.faults import Fault
from greenroom.web.app import create_app
from greenroom.web.auth import ensure_owner
from tests.web.web_helpers import PASSWORD, login

from .conftest import TOKEN, feed_state, wait_for


def test_a_rejected_token_shows_on_health_and_every_page_and_never_leaks(
    database, simulator, start_ingester, tmp_path, caplog, capsys, monkeypatch
):
    monkeypatch.setattr("greenroom.web.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    caplog.set_level(logging.DEBUG)
    simulator.add_faults(Fault("401", next=10_000))
    start_ingester(database, simulator)
    wait_for(lambda: feed_state(database) == "credentials_rejected", what="credentials_rejected")

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", owner_password=PASSWORD,
                        events_url=simulator.feed_url)
    ensure_owner(database, settings)
    client = TestClient(create_app(settings, database))
    health = client.get("/api/health").json()
    assert health["status"] == "degraded"
    assert health["ingest"]["state"] == "credentials_rejected"
    assert "401" in health["ingest"]["error"]

    assert login(client).status_code == 303
    bodies = [client.get(path).text for path in ("/", "/admin", "/sessions", "/api/feeds", "/api/events")]
    assert "token rejected" in bodies[0].lower()
    out = capsys.readouterr()
    for text in [*bodies, str(health), caplog.text, out.out, out.err]:
        assert TOKEN not in text
