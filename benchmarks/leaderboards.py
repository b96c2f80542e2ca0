"""Leaderboard latency at scale (default 200k people, 5M events), per period and engine.

    python -m benchmarks.leaderboards [--people 200000] [--events 5000000] [--requests 10] [--engine sqlite]

A year of one room is bulk-loaded straight into the tables (events with their payloads, one
session a day with its event links, a visit per enter): 50% chat, 18% enters and leaves each, 8%
tips (5% of them anonymous), 1% media purchases, the rest PMs and follows; a few regulars make most
events. What is measured is reading, through the real app (TestClient, signed in): each request
is ``GET /api/leaderboards`` for one period and metric, so each figure includes routing, the auth
gate, the aggregate query and the name and badge look-up. Prints a markdown report with p50/p95
per period (over every metric) and engine.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from greenroom.events.feeds import ensure_feed
from greenroom.events.models import Event
from greenroom.leaderboards.queries import catch_up
from greenroom.simulator._people import WORDS

from .common import engines, fresh_database
from .people import NOW, Loader, _client

DAYS = 365
LAG = 10_000  # events stored after the running totals' mark (about a minute of a very busy room)
SHOW = timedelta(hours=4)
CHUNK = 100_000
MIX = [("chatMessage", 0.5), ("userEnter", 0.18), ("userLeave", 0.18), ("tip", 0.08), ("privateMessage", 0.03),
       ("follow", 0.02), ("mediaPurchase", 0.01)]
METRICS = ("tokens", "tips", "visits", "watch_time", "chat")


def _payload(method: str, name: str, tokens: int, anon: bool) -> str:
    user = f'{{"username":"{name}","gender":"m","inFanclub":false,"isMod":false}}'
    if method == "tip":
        extra = f',"tip":{{"tokens":{tokens},"isAnon":{"true" if anon else "false"},"message":"thanks"}}'
    elif method == "mediaPurchase":
        extra = f',"media":{{"id":3,"name":"set","type":"photos","tokens":{tokens}}}'
    elif method == "chatMessage":
        extra = ',"message":{"message":"hello everyone, how is it going?","color":"#494949","font":"default"}'
    elif method == "privateMessage":
        extra = f',"message":{{"message":"hi there","fromUser":"{name}","toUser":"alice"}}'
    else:
        extra = ""
    return f'{{"method":"{method}","id":"x","object":{{"broadcaster":"alice","user":{user}{extra}}}}}'


def fill(database: Any, n_people: int, n_events: int, seed: int = 5) -> int:
    rng = random.Random(seed)
    with database.write() as db:
        feed_id = ensure_feed(db, broadcaster="alice", url_masked="bench", url_fingerprint="bench", is_demo=False,
                              now=NOW).id
    load = Loader(database)
    names = [f"{rng.choice(WORDS)}{rng.choice(WORDS)}{i}" for i in range(n_people)]
    first_day = (NOW - timedelta(days=DAYS)).replace(hour=19, minute=0, second=0, microsecond=0)
    starts = [first_day + timedelta(days=d) for d in range(DAYS)]
    sessions = []
    for sid, start in enumerate(starts, 1):
        end = start + SHOW
        segments = json.dumps([[start.isoformat(), end.isoformat()]])
        sessions.append((sid, feed_id, "finalized", load.time(start), load.time(end), load.time(end), segments,
                         0, "{}", "[]", "[]"))
    load.rows("broadcast_sessions", ["id", "feed_id", "status", "started_at", "ended_at", "last_event_at", "segments",
                                     "event_count", "stats", "timeline", "subjects"], sessions)
    methods, weights = [m for m, _ in MIX], [w for _, w in MIX]
    per_session = n_events / DAYS
    show_ms = int(SHOW.total_seconds() * 1000)
    seen: set[int] = set()
    pk = visit_id = 0
    for offset in range(0, n_events, CHUNK):
        count = min(CHUNK, n_events - offset)
        picks = rng.choices(methods, weights, k=count)
        events, links, visits = [], [], []
        for i in range(count):
            pk += 1
            index = offset + i
            sid = min(DAYS - 1, int(index / per_session))
            within = int((index - sid * per_session) / per_session * show_ms)
            at = starts[sid] + timedelta(milliseconds=within)
            who = int(n_people * rng.random() ** 3)
            seen.add(who)
            name, method = names[who], picks[i]
            tokens = rng.choice((1, 5, 10, 25, 50, 100, 500)) if method in ("tip", "mediaPurchase") else 0
            anon = method == "tip" and rng.random() < 0.05
            ms = int(at.timestamp() * 1000)
            events.append((pk, feed_id, f"{ms}-{pk}", method, "alice", name, load.time(at), load.time(at), True,
                           _payload(method, name, tokens, anon)))
            links.append((pk, sid + 1))
            if method == "userEnter":
                visit_id += 1
                left = min(at + timedelta(minutes=rng.randint(1, 90)), starts[sid] + SHOW)
                visits.append((visit_id, feed_id, name, pk, load.time(at), load.time(left), True))
        load.rows("events", ["id", "feed_id", "event_id", "method", "broadcaster", "username", "event_time",
                             "received_at", "known", "payload"], events)
        load.rows("session_events", ["event_pk", "session_id"], links)
        load.rows("visits", ["id", "feed_id", "username", "enter_pk", "entered_at", "left_at", "live"], visits)
    people = [(feed_id, names[i], names[i], False, load.time(first_day), load.time(NOW), "{}", False, False, 0, 0, 0,
               0, 0, 0, 0) for i in sorted(seen)]
    for part in range(0, len(people), CHUNK):
        load.rows("people", ["feed_id", "username", "display_name", "seen_broadcasting", "first_seen", "last_seen",
                             "attributes", "follower", "in_fanclub", "lifetime_tokens", "tip_tokens", "tips",
                             "media_purchases", "visits", "chat_messages", "private_messages"],
                  people[part : part + CHUNK])
    with database.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE feeds SET last_event_at = "
                             + ("?" if load.sqlite else "%s") + " WHERE id = " + str(feed_id),
                             (load.time(starts[-1] + SHOW),))
        if not load.sqlite:
            for table in ("events", "broadcast_sessions", "visits"):
                conn.exec_driver_sql(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        conn.exec_driver_sql("ANALYZE")
    return feed_id


def measure(client: Any, paths: list[str]) -> dict[str, float]:
    timings = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
    timings.sort()
    return {"p50": statistics.median(timings), "p95": timings[max(0, int(len(timings) * 0.95 + 0.5) - 1)],
            "max": timings[-1], "n": len(timings)}


def run(n_people: int, n_events: int, requests: int, engine_names: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {"people": n_people, "events": n_events, "engines": {}}
    rng = random.Random(3)
    for engine in engine_names:
        with fresh_database(engine) as database:
            started = time.perf_counter()
            feed_id = fill(database, n_people, n_events)
            load_s = time.perf_counter() - started
            client = _client(database)

            def paths(period: str, extra: Any) -> list[str]:
                return [f"/api/leaderboards?period={period}&metric={metric}{extra()}"
                        for _ in range(requests) for metric in METRICS]

            periods = {
                "session (latest)": paths("session", lambda: ""),
                "session (any)": paths("session", lambda: f"&session_id={rng.randint(1, DAYS)}"),
                "week": paths("week", lambda: f"&offset={rng.randint(0, 51)}"),
                "month": paths("month", lambda: f"&offset={rng.randint(0, 11)}"),
                "all time": paths("all", lambda: ""),
                "all time, shareable": paths("all", lambda: "&shareable=1"),
            }
            client.get("/api/leaderboards?period=all")  # warm the caches once, as a running server has them
            results["engines"][engine] = {"load_seconds": load_s,
                                          "periods": {k: measure(client, v) for k, v in periods.items()}}
            results["engines"][engine]["page"] = measure(client, ["/leaderboards?period=week"] * requests)
            results["engines"][engine]["page_all"] = measure(client, ["/leaderboards?period=all"] * requests)
            # The running totals as the leaderboards.totals job keeps them: folded up to LAG events ago.
            started = time.perf_counter()
            with database.write() as db:
                stored = db.scalar(select(func.count()).select_from(Event).where(Event.feed_id == feed_id)) or 0
                catch_up(db, feed_id, NOW, max_events=max(stored - LAG, 1))
            results["engines"][engine]["fold_seconds"] = time.perf_counter() - started
            totals = {f"all time, running totals + {LAG:,} events after the mark": paths("all", lambda: ""),
                      "all time, shareable, same": paths("all", lambda: "&shareable=1")}
            results["engines"][engine]["periods"].update({k: measure(client, v) for k, v in totals.items()})
            results["engines"][engine]["page_totals"] = measure(client, ["/leaderboards?period=all"] * requests)
    return results


def report(results: dict[str, Any]) -> str:
    out = io.StringIO()
    out.write(f"## Leaderboards at scale\n\n{results['events']:,} events (up to {results['people']:,} people, "
              f"{DAYS} sessions), bulk-loaded; `GET /api/leaderboards` through the app (signed in), every metric "
              "per period, latency in ms.\n\n")
    out.write("| engine | period | p50 | p95 | max | requests |\n|---|---|---:|---:|---:|---:|\n")
    for engine, r in results["engines"].items():
        for period, m in r["periods"].items():
            out.write(f"| {engine} | {period} | {m['p50']:.1f} | {m['p95']:.1f} | {m['max']:.1f} | {m['n']} |\n")
        for label, key in (("page /leaderboards?period=week", "page"), ("page /leaderboards?period=all", "page_all"),
                           ("same page, running totals", "page_totals")):
            m = r[key]
            out.write(f"| {engine} | {label} | {m['p50']:.1f} | {m['p95']:.1f} | {m['max']:.1f} | {m['n']} |\n")
    for engine, r in results["engines"].items():
        out.write(f"\n{engine}: data loaded in {r['load_seconds']:.0f} s; running totals folded in "
                  f"{r['fold_seconds']:.0f} s.")
    return out.getvalue() + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--engine", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(report(run(args.people, args.events, args.requests, args.engine or engines())))
