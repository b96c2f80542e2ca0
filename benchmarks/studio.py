"""Studio ingest throughput: N simulated rooms followed by 1, 2 and 4 `greenroom ingest` processes
sharing them through one PostgreSQL database.

Each room is its own simulator (instant speed, its whole backlog available at once) with its own
broadcaster and token; the rooms are stored as Admin stores them (URL encrypted). The clock runs
from the first stored event to the last, so process start-up is not counted; the rate is events
stored end to end (parse, store, cursor, derived steps) per second. The simulators run in this
process and share the machine's cores with the ingest processes.

    python -m benchmarks.studio [--rooms 8] [--events 3000] [--processes 1,2,4]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from greenroom.events.feeds import FeedCipher, store_feed_url
from greenroom.events.models import Event, FeedLease, FeedSource
from greenroom.secrets import parse_feed_url
from greenroom.simulator.script import ScriptConfig, build_script
from greenroom.simulator.server import SimulatorServer

from .common import fresh_database, pg_available

SECRET_KEY = "benchmark-studio-key"


def _count(database: Any) -> int:
    with database.read() as db:
        return int(db.scalar(select(func.count()).select_from(Event)) or 0)


def _measure(scripts: list[Any], processes: int) -> dict[str, Any]:
    total = sum(len(s.events) for s in scripts)
    servers = [SimulatorServer(s, token=f"bench-token-{i:02d}-0123456789", speed="instant", batch_limit=100).start()
               for i, s in enumerate(scripts)]
    running: list[subprocess.Popen[bytes]] = []
    try:
        with fresh_database("postgresql") as database:
            cipher = FeedCipher(SECRET_KEY)
            with database.write() as db:
                for server in servers:
                    store_feed_url(db, cipher, parse_feed_url(server.feed_url), source=FeedSource.ADMIN,
                                   now=datetime.now(UTC))
            url = database.engine.url.render_as_string(hide_password=False)
            env = dict(os.environ, GREENROOM_DATABASE_URL=url, GREENROOM_SECRET_KEY=SECRET_KEY,
                       GREENROOM_POLL_TIMEOUT="1", GREENROOM_LEASE_SECONDS="30", GREENROOM_LOG_LEVEL="WARNING")
            env.pop("GREENROOM_EVENTS_URL", None)
            folder = tempfile.mkdtemp(prefix="greenroom-studio-bench-")
            for n in range(processes):
                env["GREENROOM_DATA_DIR"] = f"{folder}/p{n}"
                running.append(subprocess.Popen([sys.executable, "-m", "greenroom", "ingest"], env=dict(env),
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            deadline = time.monotonic() + 600
            while _count(database) == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            started = time.perf_counter()
            while (stored := _count(database)) < total and time.monotonic() < deadline:
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
            with database.read() as db:
                split = Counter(h for h in db.scalars(select(FeedLease.holder)) if h)
            for process in running:
                process.send_signal(signal.SIGTERM)
            for process in running:
                process.wait(timeout=60)
            running.clear()
    finally:
        for process in running:
            process.kill()
        for server in servers:
            server.stop()
    return {"processes": processes, "events": stored, "seconds": elapsed, "eps": stored / elapsed,
            "split": sorted(split.values(), reverse=True)}


def run(rooms: int = 8, events: int = 3000, processes: tuple[int, ...] = (1, 2, 4)) -> dict[str, Any]:
    scripts = [build_script(ScriptConfig(seed=100 + i, broadcaster=f"room{i:02d}", target_events=events))
               for i in range(rooms)]
    return {"rooms": rooms, "events": sum(len(s.events) for s in scripts),
            "runs": [_measure(scripts, p) for p in processes]}


def report(results: dict[str, Any]) -> str:
    lines = [
        "## Studio: rooms shared by ingest processes",
        "",
        f"{results['rooms']} simulated rooms, {results['events']:,} events in all, PostgreSQL, one fresh database "
        "per run; events stored end to end (derived steps included) from the first to the last.",
        "",
        "| processes | events/s | seconds | rooms per process |",
        "|---:|---:|---:|---|",
    ]
    for r in results["runs"]:
        lines.append(f"| {r['processes']} | {r['eps']:,.0f} | {r['seconds']:.1f} | "
                     f"{' / '.join(str(n) for n in r['split'])} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=8)
    parser.add_argument("--events", type=int, default=3000, help="events per room (about)")
    parser.add_argument("--processes", default="1,2,4")
    args = parser.parse_args()
    if not pg_available():
        sys.exit("PostgreSQL is needed (GREENROOM_TEST_PG_URL)")
    print(report(run(args.rooms, args.events, tuple(int(p) for p in args.processes.split(",")))))
