"""The machine clock jumps forward days and then back while the ingester runs: nothing is lost or
doubled, every event keeps the time its id carries, the lease holds, and health stays honest."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from starlette.testclient import TestClient

from greenroom.config import Settings
from greenroom.db.types import utcnow
from greenroom.web.app import create_app
from tests.ingest.conftest import feed_state, scenario, served_ids, simulator, start_ingester, wait_for  # noqa: F401 - fixtures

from .helpers import doctor_findings, id_time, stored

FORWARD = timedelta(days=3)
BACK = timedelta(days=-2)


class JumpingClock:
    """Wall time plus an offset chosen by how far the ingester has got, so the jumps land mid-stream
    however fast it runs."""

    def __init__(self) -> None:
        self.ingester = None
        self.offset = timedelta(0)

    def __call__(self):
        polls = self.ingester.polls if self.ingester is not None else 0
        if polls >= 10:
            self.offset = BACK
        elif polls >= 5:
            self.offset = FORWARD
        return utcnow() + self.offset


def test_a_clock_jumping_forward_then_back_loses_nothing_and_keeps_id_times(
    database, scenario, simulator, start_ingester, tmp_path, monkeypatch  # noqa: F811
):
    monkeypatch.setattr("greenroom.web.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    clock = JumpingClock()
    running = start_ingester(database, simulator, clock=clock)
    clock.ingester = running.ingester
    wait_for(lambda: len(stored(database)) >= len(scenario.events), what="every event stored")
    # The web process shares the machine clock: after both jumps it still sees a live ingester.
    app = create_app(Settings(_env_file=None, data_dir=tmp_path / "data"), database, clock=clock)
    health = TestClient(app).get("/api/health").json()
    assert health["status"] == "ok" and health["ingest"]["state"] == "polling", health
    running.stop()
    assert feed_state(database) == "stopped"

    rows = stored(database)
    assert [r[0] for r in rows] == served_ids(simulator)
    assert all(event_time == id_time(event_id) for event_id, event_time, _ in rows)
    # The jumps really happened in the middle of the stream, visible only in the receive times.
    now = utcnow()
    received = [r[2] - now for r in rows]
    assert any(d > timedelta(days=2) for d in received) and any(d < timedelta(days=-1) for d in received)
    assert not any(abs(d) < timedelta(hours=1) for d in received[-50:])
    # Derived state agrees with the store (sessions use event times, not receive times).
    assert [f for f in doctor_findings(database, now) if not f.startswith("stuck_")] == []
