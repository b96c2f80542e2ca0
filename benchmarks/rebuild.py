"""Rebuild benchmark: sessions, links and stats from N stored events (default 1M).

    python benchmarks/rebuild.py --events 1000000 [--url sqlite:////tmp/bench.db] [--keep]

The event store is filled in a separate process (a simulated room, stored batch by batch as the
ingester would, without the session step), then this process migrates nothing, rebuilds once and
reports events/s and its own peak RSS, so the figure is the rebuild's alone. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def fill(url: str, events: int) -> None:
    from greenroom.db.engine import Database
    from greenroom.db.migrate import upgrade
    from greenroom.events.feeds import ensure_feed
    from greenroom.events.store import record_batch
    from greenroom.simulator.script import ScriptConfig, build_script

    database = Database(url)
    upgrade(database.engine)
    script = build_script(ScriptConfig(seed=11, target_events=events, audience=400, broadcasts_per_day=1.5))
    now = datetime.now(UTC)
    with database.write() as db:
        feed_id = ensure_feed(db, broadcaster="alice", url_masked="bench", url_fingerprint="bench",
                              is_demo=True, now=now).id
    for i in range(0, len(script.events), 5000):
        with database.write() as db:
            record_batch(db, feed_id=feed_id, envelopes=script.events[i : i + 5000], cursor=None,
                         cursor_event_id=None, received_at=now, lease_holder=None)
    database.dispose()


def run(url: str) -> dict[str, object]:
    from sqlalchemy import func, select

    from greenroom.db.engine import Database
    from greenroom.events.models import Event
    from greenroom.sessions.rebuild import rebuild
    from greenroom.sessions.service import Windows

    database = Database(url)
    with database.read() as db:
        stored = db.scalar(select(func.count()).select_from(Event)) or 0
    windows = Windows.from_settings(object())
    started = time.perf_counter()
    with database.write() as db:
        report = rebuild(db, datetime.now(UTC), windows)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    database.dispose()
    return {
        "engine": database.dialect, "events_stored": stored, "events_processed": report.events,
        "sessions": report.sessions, "links": report.links, "seconds": round(seconds, 1),
        "events_per_second": round(report.events / seconds), "peak_rss_mib": round(peak_kib / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--url", default="sqlite:////tmp/greenroom-bench-rebuild.db")
    parser.add_argument("--keep", action="store_true", help="reuse an already filled database")
    parser.add_argument("--fill-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill_only:
        fill(args.url, args.events)
        return
    if not args.keep:
        if args.url.startswith("sqlite:///"):
            for suffix in ("", "-wal", "-shm"):
                Path(args.url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        subprocess.run([sys.executable, __file__, "--fill-only", "--events", str(args.events), "--url", args.url],
                       check=True)
    print(json.dumps(run(args.url)))


if __name__ == "__main__":
    main()
