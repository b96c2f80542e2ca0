"""Load on loopback: a simulated room at 100× real time feeds `greenroom serve` (web, ingest and
jobs in one process, as the owner runs it) while N signed-in clients read the dashboard and the
API as fast as they can for a bounded time.

    python -m benchmarks.load [--seconds 60] [--clients 8] [--speed 100] [--engine sqlite|postgresql]

Reports p50/p95/max page time per page, errors (any status but 200, any transport error) and the
store check: once the clients stop and the ingester has caught up, the stored events must be
exactly the served ones, in order, each once. Prints a markdown section to stdout.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import select

from greenroom.events.models import Event
from greenroom.simulator.script import ScriptConfig, build_script
from greenroom.simulator.server import SimulatorServer

from .common import fresh_database

PASSWORD = "load test owner password"
TOKEN = "load-test-feed-token-3c9e1f"
# What an owner's browser and a monitoring script read while broadcasting.
PAGES = ["/", "/api/health", "/api/events?limit=100", "/sessions", "/api/sessions?limit=20", "/api/sessions/current"]


@dataclass
class LoadResult:
    engine: str
    seconds: float
    clients: int
    speed: float
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    served: int = 0
    stored: int = 0
    missing: int = 0
    duplicated: int = 0
    out_of_order: bool = False
    catch_up_seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.timings.values())

    def markdown(self) -> str:
        rows = []
        every = [t for v in self.timings.values() for t in v]
        for path in [*PAGES, "all pages"]:
            values = every if path == "all pages" else self.timings.get(path, [])
            if not values:
                continue
            rows.append(f"| `{path}` | {len(values)} | {_ms(_pct(values, 50))} | {_ms(_pct(values, 95))} | "
                        f"{_ms(max(values))} |")
        return "\n".join([
            f"## Load: dashboard and API read while a {self.speed:g}× room is ingested ({self.engine})",
            "",
            f"`greenroom serve` on loopback; {self.clients} signed-in clients reading {len(PAGES)} pages in turn "
            f"for {self.seconds:g} s while the simulator streams the room at {self.speed:g}× real time.",
            "",
            "| page | requests | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"- Throughput: {self.requests / self.seconds:.0f} requests/s; errors: {len(self.errors)}"
            + (f" (first: {self.errors[0]})" if self.errors else ""),
            f"- Events: {self.served} served during the run ({self.served / self.seconds:.0f}/s), {self.stored} "
            f"stored; missing {self.missing}, "
            f"stored twice {self.duplicated}, order {'WRONG' if self.out_of_order else 'kept'}; the ingester "
            f"caught up {self.catch_up_seconds:.1f} s after the clients stopped.",
            "",
        ])

    @property
    def ok(self) -> bool:
        return not self.errors and not self.missing and not self.duplicated and not self.out_of_order


def _pct(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds >= 0.01 else f"{seconds * 1000:.1f}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sign_in(client: httpx2.Client) -> None:
    form = re.search(r'name="form_token" value="([^"]+)"', client.get("/login").text)
    assert form, "no login form"
    answer = client.post("/login", data={"password": PASSWORD, "next": "/", "form_token": form.group(1)})
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in failed: HTTP {answer.status_code}")


def _reader(base: str, stop: threading.Event, result: LoadResult, lock: threading.Lock, offset: int) -> None:
    with httpx2.Client(base_url=base, timeout=30) as client:
        _sign_in(client)
        i = offset
        while not stop.is_set():
            path = PAGES[i % len(PAGES)]
            i += 1
            started = time.perf_counter()
            try:
                status = client.get(path).status_code
                error = None if status == 200 else f"HTTP {status} on {path}"
            except httpx2.HTTPError as exc:
                error = f"{type(exc).__name__} on {path}"
            elapsed = time.perf_counter() - started
            with lock:
                result.timings[path].append(elapsed)
                if error:
                    result.errors.append(error)


def run_load(*, seconds: float = 60.0, clients: int = 8, speed: float = 100.0, engine: str = "sqlite",
             audience: int = 1500, log: Path | None = None) -> LoadResult:
    result = LoadResult(engine=engine, seconds=seconds, clients=clients, speed=speed)
    script = build_script(ScriptConfig(seed=21, days=1.0, audience=audience, broadcasts_per_day=1,
                                       restart_probability=0, offline_activity=False))
    live_from = script.broadcasts[0][0]
    with fresh_database(engine) as database, tempfile.TemporaryDirectory(prefix="greenroom-load-") as folder, \
            SimulatorServer(script, token=TOKEN, speed=speed, live_from=live_from, batch_limit=100) as feed:
        port = _free_port()
        env = dict(os.environ, GREENROOM_EVENTS_URL=feed.feed_url, GREENROOM_DATABASE_URL=database.url,
                   GREENROOM_DATA_DIR=folder, GREENROOM_PORT=str(port), GREENROOM_OWNER_PASSWORD=PASSWORD,
                   GREENROOM_POLL_TIMEOUT="5", GREENROOM_LOG_LEVEL="WARNING")
        out = (log or Path(folder) / "serve.log").open("ab")
        server = subprocess.Popen([sys.executable, "-m", "greenroom", "serve"], env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base, server)
            stop = threading.Event()
            lock = threading.Lock()
            readers = [threading.Thread(target=_reader, args=(base, stop, result, lock, n), daemon=True)
                       for n in range(clients)]
            for reader in readers:
                reader.start()
            time.sleep(seconds)
            stop.set()
            for reader in readers:
                reader.join(timeout=60)
            # Everything the feed had made available by now must end up stored, exactly.
            assert feed.timeline is not None
            target = feed.timeline.available(time.monotonic())
            stopped_at = time.monotonic()
            while _count(database) < target and time.monotonic() - stopped_at < 120:
                time.sleep(0.1)
            result.catch_up_seconds = time.monotonic() - stopped_at
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
            out.close()
        with database.read() as db:
            stored = list(db.scalars(select(Event.event_id).order_by(Event.id)))
        served = [feed.timeline.served_id(k) for k in range(len(stored) if stored else 0)]
        result.served = max(target, len(stored))
        result.stored = len(stored)
        result.duplicated = len(stored) - len(set(stored))
        result.missing = max(0, target - len(set(stored)))
        result.out_of_order = stored != served
    return result


def _count(database: Any) -> int:
    from sqlalchemy import func

    with database.read() as db:
        return db.scalar(select(func.count()).select_from(Event)) or 0


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("greenroom serve exited during start-up")
        try:
            if httpx2.get(base + "/api/health", timeout=2).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("greenroom serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--speed", type=float, default=100.0)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    result = run_load(seconds=args.seconds, clients=args.clients, speed=args.speed, engine=args.engine)
    print(result.markdown())
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
