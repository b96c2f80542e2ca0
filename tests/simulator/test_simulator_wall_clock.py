from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from greenroom.simulator.probe import fetch
from greenroom.simulator.script import ScriptConfig, build_script
from greenroom.simulator.server import SimulatorServer


def test_wall_clock_ids_put_fast_live_events_at_the_time_they_are_served():
    now = datetime.now(UTC).replace(microsecond=0)
    script = build_script(ScriptConfig(seed=3, start=now - timedelta(hours=6), days=0.5, audience=20,
                                       viewer_pool=100, broadcast_at=now))
    with SimulatorServer(script, token="tok-1234", speed=600.0, live_from=now, wall_clock_ids=True) as server:
        time.sleep(1.0)
        ids: list[str] = []
        url = server.feed_url + "?timeout=0"
        while True:
            body = fetch(url, deadline=10).json()
            if not body["events"]:
                break
            ids += [e["id"] for e in body["events"]]
            url = body["nextUrl"]
    served = [(int(i.split("-")[0]), int(i.split("-")[1])) for i in ids]
    assert served == sorted(served) and len(set(ids)) == len(ids)
    newest_ms = served[-1][0]
    assert newest_ms <= time.time() * 1000 + 50  # never ahead of the wall clock
    assert newest_ms >= now.timestamp() * 1000  # and the live part has started
