"""End-to-end ingest throughput (parse -> store -> cursor -> derived steps) against a raw batched
INSERT of the same rows into the same kind of database, in one run.

Both sides write in batches of the Events API's response size, one transaction per batch, into a
fresh migrated database with the same indexes. The ratio is what matters: absolute numbers move
with the machine's load.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from greenroom.events.feeds import ensure_feed, try_acquire_lease
from greenroom.events.parse import MalformedEvent, parse_event
from greenroom.events.store import record_batch
from greenroom.ingest.pipeline import load_steps, process_new_events
from greenroom.simulator.script import ScriptConfig, build_script

from .common import engines, fresh_database, timed

BATCH = 100


def _feed(database: Any) -> int:
    now = datetime.now(UTC)
    with database.write() as db:
        feed = ensure_feed(db, broadcaster="alice", url_masked="https://bench/events/alice/****/",
                           url_fingerprint="bench", is_demo=False, now=now)
        try_acquire_lease(db, feed.id, "bench", now, 3600)
        return feed.id


def _ours(database: Any, envelopes: list[dict[str, Any]], with_steps: bool) -> float:
    feed_id = _feed(database)

    def run() -> None:
        for start in range(0, len(envelopes), BATCH):
            batch = envelopes[start : start + BATCH]
            now = datetime.now(UTC)
            with database.write() as db:
                result = record_batch(
                    db, feed_id=feed_id, envelopes=batch, cursor=f"i={batch[-1]['id']}",
                    cursor_event_id=batch[-1]["id"], received_at=now, lease_holder="bench", lease_ttl=3600,
                )
                if with_steps:
                    process_new_events(db, feed_id, result.new, now)

    return timed(run)


def _raw(database: Any, envelopes: list[dict[str, Any]]) -> float:
    """The floor: pre-computed row tuples, DBAPI executemany, same table, same batches."""
    feed_id = _feed(database)
    now = datetime.now(UTC)
    rows = []
    for envelope in envelopes:
        try:
            parsed = parse_event(envelope, now)
            row = (feed_id, parsed.event_id, parsed.method, parsed.broadcaster, parsed.username,
                   parsed.event_time, now, parsed.known, None)
        except MalformedEvent:
            row = (feed_id, envelope["id"], envelope.get("method", "?"), None, None, now, now, False, "bad")
        rows.append(row + (json.dumps(envelope, ensure_ascii=True, separators=(",", ":")),))
    sqlite = database.is_sqlite
    if sqlite:  # SQLite stores naive UTC text, as the UTCDateTime column does
        rows = [r[:5] + (r[5].replace(tzinfo=None), r[6].replace(tzinfo=None)) + r[7:] for r in rows]
    mark = "?" if sqlite else "%s"
    sql = ("INSERT INTO events (feed_id, event_id, method, broadcaster, username, event_time, received_at, "
           f"known, quarantine_reason, payload) VALUES ({', '.join([mark] * 10)})")

    def run() -> None:
        connection = database.engine.raw_connection()
        try:
            for start in range(0, len(rows), BATCH):
                cursor = connection.cursor()
                if sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                cursor.executemany(sql, rows[start : start + BATCH])
                connection.commit()
                cursor.close()
        finally:
            connection.close()

    return timed(run)


def run(n_events: int = 50_000) -> dict[str, Any]:
    load_steps()
    envelopes = build_script(ScriptConfig(seed=11, target_events=n_events)).events[:n_events]
    results: dict[str, Any] = {"events": len(envelopes), "batch": BATCH, "engines": {}}
    for engine in engines():
        with fresh_database(engine) as database:
            raw = _raw(database, envelopes)
        with fresh_database(engine) as database:
            store_only = _ours(database, envelopes, with_steps=False)
        with fresh_database(engine) as database:
            full = _ours(database, envelopes, with_steps=True)
        n = len(envelopes)
        results["engines"][engine] = {
            "raw_eps": n / raw, "store_eps": n / store_only, "full_eps": n / full,
            "store_ratio": raw / store_only, "full_ratio": raw / full,
        }
    return results


def report(results: dict[str, Any]) -> str:
    lines = [
        "## Ingest throughput",
        "",
        f"{results['events']:,} simulated events, batches of {results['batch']} (one transaction each), "
        "fresh migrated database per measurement.",
        "",
        "| engine | raw batched INSERT (ev/s) | store + cursor (ev/s) | ratio | + derived steps (ev/s) | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for engine, r in results["engines"].items():
        lines.append(
            f"| {engine} | {r['raw_eps']:,.0f} | {r['store_eps']:,.0f} | {r['store_ratio']:.0%} | "
            f"{r['full_eps']:,.0f} | {r['full_ratio']:.0%} |"
        )
    lines += ["", "Target: store + cursor ≥ 30% of the raw rate.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
