"""People search and Profile page latency at scale (default 200k people, 5M events).

    python -m benchmarks.people [--people 200000] [--events 5000000] [--requests 60] [--engine sqlite]

The data is bulk-loaded straight into the tables (events, person links, daily spend, people),
not through ingest: what is measured is reading, through the real app (TestClient, signed in),
so each figure includes routing, the auth gate, queries and template rendering. Prints a
markdown report with p50/p95 per page and engine.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from greenroom.config import Settings
from greenroom.events.feeds import ensure_feed
from greenroom.simulator._people import WORDS
from greenroom.web.app import create_app
from greenroom.web.auth import ensure_owner

from .common import engines, fresh_database

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=365)
CHUNK = 100_000
PASSWORD = "benchmark password"
# (method, share): a room's usual mix.
MIX = [("chatMessage", 0.5), ("userEnter", 0.18), ("userLeave", 0.18), ("tip", 0.08), ("privateMessage", 0.04),
       ("follow", 0.02)]


def _names(n: int, rng: random.Random) -> list[str]:
    return [f"{rng.choice(WORDS)}{rng.choice(WORDS)}{i}" for i in range(n)]


def _payload(method: str, name: str, tokens: int) -> str:
    user = f'{{"username":"{name}","gender":"m","recentTips":"some","isFollower":true}}'
    if method == "tip":
        extra = f',"tip":{{"tokens":{tokens},"isAnon":false,"message":"thanks"}}'
    elif method == "chatMessage":
        extra = ',"message":{"message":"hello everyone, how is it going?","color":"#494949","font":"default"}'
    elif method == "privateMessage":
        extra = f',"message":{{"message":"hi there","fromUser":"{name}","toUser":"alice"}}'
    else:
        extra = ""
    return f'{{"method":"{method}","id":"x","object":{{"broadcaster":"alice","user":{user}{extra}}}}}'


class Loader:
    """Bulk rows into one engine: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, database: Any) -> None:
        self.database = database
        self.sqlite = database.is_sqlite

    def rows(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        raw = self.database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.sqlite:
                cursor.execute("BEGIN")
                marks = ", ".join("?" * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            else:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
        finally:
            raw.close()

    def time(self, value: datetime) -> Any:
        return value.replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite else value


def fill(database: Any, n_people: int, n_events: int, seed: int = 7) -> tuple[int, list[str]]:
    rng = random.Random(seed)
    now = NOW
    with database.write() as db:
        feed_id = ensure_feed(db, broadcaster="alice", url_masked="bench", url_fingerprint="bench", is_demo=False,
                              now=now).id
    names = _names(n_people, rng)
    load = Loader(database)
    stats = [[0] * 7 for _ in range(n_people)]  # tokens, tips, visits, chat, pms, first_ms, last_ms
    days: dict[tuple[int, date], int] = {}
    methods = [m for m, _ in MIX]
    weights = [w for _, w in MIX]
    span_ms = int((now - START).total_seconds() * 1000)
    start_ms = int(START.timestamp() * 1000)
    pk = 0
    for offset in range(0, n_events, CHUNK):
        count = min(CHUNK, n_events - offset)
        # Event times rise with the id, as in the real store; a few regulars make most events.
        picks = rng.choices(methods, weights, k=count)
        events, links = [], []
        for i in range(count):
            pk += 1
            ms = start_ms + (offset + i) * span_ms // n_events
            who = int(n_people * rng.random() ** 3)
            name, method = names[who], picks[i]
            tokens = rng.choice((1, 5, 10, 25, 50, 100, 500)) if method == "tip" else 0
            at = datetime.fromtimestamp(ms / 1000, UTC)
            events.append((pk, feed_id, f"{ms}-{pk}", method, "alice", name, load.time(at), load.time(at), True,
                           _payload(method, name, tokens)))
            links.append((pk, feed_id, name, method))
            s = stats[who]
            if method == "tip":
                s[0] += tokens
                s[1] += 1
                day = at.date()
                days[(who, day)] = days.get((who, day), 0) + tokens
            s[2] += method == "userEnter"
            s[3] += method == "chatMessage"
            s[4] += method == "privateMessage"
            s[5] = s[5] or ms
            s[6] = ms
        load.rows("events", ["id", "feed_id", "event_id", "method", "broadcaster", "username", "event_time",
                             "received_at", "known", "payload"], events)
        load.rows("person_events", ["event_pk", "feed_id", "username", "method"], links)
    people = []
    for i, (name, s) in enumerate(zip(names, stats, strict=True)):
        first = datetime.fromtimestamp((s[5] or start_ms + i) / 1000, UTC)
        last = datetime.fromtimestamp((s[6] or start_ms + i) / 1000, UTC)
        attrs = json.dumps({"gender": "m", "recentTips": "some", "isBroadcasting": i % 97 == 0})
        people.append((feed_id, name, name.capitalize() if i % 5 == 0 else name, i % 97 == 0, load.time(first),
                       load.time(last), attrs, i % 3 == 0, i % 11 == 0, s[0], s[0], s[1], 0, s[2], s[3], s[4]))
    for part in range(0, len(people), CHUNK):
        load.rows("people", ["feed_id", "username", "display_name", "seen_broadcasting", "first_seen", "last_seen",
                             "attributes", "follower", "in_fanclub", "lifetime_tokens", "tip_tokens", "tips",
                             "media_purchases", "visits", "chat_messages", "private_messages"],
                  people[part : part + CHUNK])
    day_rows = [(feed_id, names[who], day.isoformat() if load.sqlite else day, tokens)
                for (who, day), tokens in days.items()]
    for part in range(0, len(day_rows), CHUNK):
        load.rows("person_days", ["feed_id", "username", "day", "tokens"], day_rows[part : part + CHUNK])
    if not load.sqlite:
        with database.engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval('events_id_seq', (SELECT max(id) FROM events))")
            conn.exec_driver_sql("ANALYZE")
    else:
        with database.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    busiest = [names[i] for i in range(5)]  # the heaviest profiles: thousands of events each
    return feed_id, busiest + [names[rng.randrange(n_people)] for _ in range(20)]


def _client(database: Any) -> TestClient:
    data_dir = Path(tempfile.mkdtemp(prefix="greenroom-bench-"))
    settings = Settings(_env_file=None, data_dir=data_dir, owner_password=PASSWORD, timezone="Europe/Berlin")
    ensure_owner(database, settings)
    client = TestClient(create_app(settings, database, clock=lambda: NOW))
    page = client.get("/login")
    token = page.text.split('name="form_token" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"password": PASSWORD, "next": "/", "form_token": token}, follow_redirects=False)
    return client


def measure(client: TestClient, paths: list[str]) -> dict[str, float]:
    timings = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    timings.sort()
    return {"p50": statistics.median(timings), "p95": timings[max(0, int(len(timings) * 0.95) - 1)],
            "n": len(timings)}


def run(n_people: int, n_events: int, requests: int, engine_names: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {"people": n_people, "events": n_events, "engines": {}}
    rng = random.Random(3)
    for engine in engine_names:
        with fresh_database(engine) as database:
            started = time.perf_counter()
            _, profiles = fill(database, n_people, n_events)
            load_s = time.perf_counter() - started
            client = _client(database)
            prefixes = [rng.choice(WORDS)[:k] for k in (2, 3, 4) for _ in range(requests // 3 + 1)][:requests]
            pages = {
                "People (default: last seen)": ["/people"] * requests,
                "People search by prefix": [f"/people?q={p}" for p in prefixes],
                "People sort by tokens, page 40": ["/people?sort=tokens&page=40"] * requests,
                "People filter tippers": ["/people?filter=tippers&sort=visits"] * requests,
                "API /api/people?q=": [f"/api/people?q={p}&limit=50" for p in prefixes],
                "Profile page": [f"/people/{profiles[i % len(profiles)]}" for i in range(requests)],
                "API /api/people/{username}": [f"/api/people/{profiles[i % len(profiles)]}" for i in range(requests)],
            }
            for path in ("/people", f"/people/{profiles[0]}"):
                client.get(path)  # warm the caches once, as a running server has them
            results["engines"][engine] = {"load_seconds": load_s,
                                          "pages": {k: measure(client, v) for k, v in pages.items()}}
    return results


def report(results: dict[str, Any]) -> str:
    out = io.StringIO()
    out.write(f"## People at scale\n\n{results['people']:,} people, {results['events']:,} events, bulk-loaded; "
              "each page requested through the app (signed in), latency in ms.\n\n")
    out.write("| engine | page | p50 | p95 | requests |\n|---|---|---:|---:|---:|\n")
    for engine, r in results["engines"].items():
        for page, m in r["pages"].items():
            out.write(f"| {engine} | {page} | {m['p50']:.1f} | {m['p95']:.1f} | {m['n']} |\n")
    for engine, r in results["engines"].items():
        out.write(f"\n{engine}: data loaded in {r['load_seconds']:.0f} s.")
    return out.getvalue() + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--engine", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(report(run(args.people, args.events, args.requests, args.engine or engines())))
