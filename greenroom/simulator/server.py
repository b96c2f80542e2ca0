"""A local HTTP server speaking the Events API long-poll protocol over a `Script`.

Stdlib only (`ThreadingHTTPServer`), one daemon thread per connection. The delivery position
lives in the client's URL (`i=<last id>`), as upstream, so the server keeps no per-client state
beyond the ground truth of what it has delivered. Request logging is off: feed URLs carry the
token, and a simulator must not teach anyone to log them.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import math
import socket
import ssl
import threading
import time
from array import array
from collections.abc import Iterable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ._respond import respond
from .faults import Fault, FaultPlan, FaultRecord
from .script import Script
from .stats import RoomStats, serve_stats
from .timeline import Speed, Timeline, parse_speed

_log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 10
MAX_TIMEOUT = 90


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sim: SimulatorServer, tls: ssl.SSLContext | None) -> None:
        self.sim = sim
        self.tls = tls
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        if self.tls is not None:
            # Handshake later, in the connection's own thread, so a slow client cannot stall accept().
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-response is part of the job (fault tests do it on purpose).
        _log.debug("simulator connection error", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    timeout = 120  # idle keep-alive connections must not pin a thread forever

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()
        self.server.sim._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.sim._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the request line contains the feed token."""

    def do_GET(self) -> None:
        self.server.sim._handle(self)

    def send_body(self, status: int, body: bytes, ctype: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status: int, payload: object, headers: Iterable[tuple[str, str]] = ()) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_body(status, body, "application/json; charset=utf-8", headers)


class SimulatorServer:
    """Serve `script` at `/events/<username>/<token>/`; see EVENTS_API.md for the protocol."""

    def __init__(
        self,
        script: Script,
        *,
        token: str,
        username: str | None = None,
        speed: Speed | str = "instant",
        backlog: int | None = None,
        batch_limit: int = 100,
        faults: Iterable[Fault] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        seed: int = 0,
        live_from: datetime | None = None,
        wall_clock_ids: bool = False,
    ) -> None:
        self.script = script
        self.username = username or script.config.broadcaster
        self._token = token
        self.speed = parse_speed(speed)
        self.backlog = backlog
        self.batch_limit = max(1, batch_limit)
        self.host, self.port = host, port
        self.ssl_context = ssl_context
        self.live_from = live_from
        self.wall_clock_ids = wall_clock_ids
        self._plan = FaultPlan(seed)
        self._plan.add(*(faults or ()))
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._served = array("I", [0]) * len(script.events)  # delivery count per event
        self._requests = 0
        self._conns: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.timeline: Timeline | None = None
        self.stats = RoomStats(script, seed)  # the Stats API at /statsapi/ (see stats.py)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SimulatorServer:
        live_ms = int(self.live_from.timestamp() * 1000) if self.live_from is not None else None
        self.timeline = Timeline(
            self.script.times_ms, self.script.events, speed=self.speed, live_from_ms=live_ms,
            now_ms=time.time_ns() // 1_000_000, now_mono=time.monotonic(), wall_clock_ids=self.wall_clock_ids,
        )
        self._httpd = _HTTPServer((self.host, self.port), self, self.ssl_context)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="events-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        for conn in list(self._conns):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._cond:
            (self._conns.add if add else self._conns.discard)(conn)

    # -- public helpers --------------------------------------------------------------------------

    @property
    def feed_url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host  # noqa: S104 - display only
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{self.port}/events/{quote(self.username, safe='')}/{quote(self._token, safe='')}/"

    @property
    def stats_url(self) -> str:
        """The simulated Stats API URL (same host and token as the feed)."""
        base = self.feed_url.split("/events/", 1)[0]
        return f"{base}/statsapi/?username={quote(self.username, safe='')}&token={quote(self._token, safe='')}"

    @property
    def fault_log(self) -> list[FaultRecord]:
        return list(self._plan.log)

    @property
    def request_count(self) -> int:
        return self._requests

    def set_token(self, token: str) -> None:
        """Replace the token (revocation): waiting polls with the old one end with 401."""
        with self._cond:
            self._token = token
            self._cond.notify_all()

    def add_faults(self, *faults: Fault) -> None:
        self._plan.add(*faults)

    def clear_faults(self) -> None:
        self._plan.clear()

    def served_ids(self) -> list[str]:
        tl = self._require_timeline()
        return [tl.served_id(k) for k in range(len(self._served)) if self._served[k]]

    def served_events(self) -> list[dict[str, Any]]:
        """Envelopes actually delivered in a complete response, unique by id, in order."""
        tl = self._require_timeline()
        return [tl.envelope(k) for k in range(len(self._served)) if self._served[k]]

    def _require_timeline(self) -> Timeline:
        if self.timeline is None:
            raise RuntimeError("the simulator has not been started")
        return self.timeline

    # -- request handling ------------------------------------------------------------------------

    def _handle(self, req: _Handler) -> None:
        url = urlsplit(req.path)
        if url.path.rstrip("/") == "/_sim/health":
            return req.send_json(200, {"status": "ok"})
        if url.path.rstrip("/") == "/_sim/truth":
            faults = [{"request": r.request, "kind": r.kind} for r in self._plan.log]
            return req.send_json(200, {"served": self.served_ids(), "script_count": len(self.script.events),
                                       "faults": faults})
        if url.path.rstrip("/") == "/statsapi":
            return serve_stats(self, req, url.query)
        parts = [p for p in url.path.split("/") if p]
        if len(parts) != 3 or parts[0] != "events":
            return req.send_json(404, {"status": "Not found"})
        query = parse_qs(url.query)
        cursor = query.get("i", [None])[0]
        timeout = _timeout(query.get("timeout", [None])[0])
        with self._cond:
            self._requests += 1
            number = self._requests
        if unquote(parts[1]).lower() != self.username.lower():
            return req.send_json(404, {"status": "Not found: no such broadcaster"})
        token = unquote(parts[2])
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            return req.send_json(401, {"status": "Unauthorized: invalid or revoked token"})
        host = req.headers.get("Host") or f"{self.host}:{self.port}"
        scheme = "https" if self.ssl_context else "http"
        base = f"{scheme}://{host}/events/{parts[1]}/{parts[2]}/"
        fault = self._plan.pick(number, cursor)
        return respond(self, req, fault, base=base, cursor=cursor, timeout=timeout, token=token)

    def _start_position(self, cursor: str | None) -> int:
        tl = self._require_timeline()
        position = tl.position_after(cursor) if cursor else None
        if position is None:
            available = tl.available(time.monotonic())
            position = 0 if self.backlog is None else max(0, available - self.backlog)
        return position

    def _wait(self, position: int, timeout: float, token: str) -> tuple[int, bool]:
        """Hold until an event past `position` is available or `timeout` passes.

        Returns (available count, token still valid). Wakes on the next event's due time, on
        token change and on stop, never by polling in a loop.
        """
        tl = self._require_timeline()
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if token != self._token:
                    return 0, False
                now = time.monotonic()
                available = tl.available(now)
                if available > position or now >= deadline or self._stopping.is_set():
                    return available, True
                due = tl.due(position)
                wake = deadline if math.isinf(due) else min(deadline, due)
                self._cond.wait(max(0.001, wake - now))

    def _claim(self, start: int, end: int, delta: int = 1) -> None:
        """Count events [start, end) as delivered (delta=-1 takes a failed write back).

        Claimed before the body is written, so a client that reads its last response and asks
        for the truth at once never races the server's bookkeeping.
        """
        with self._cond:
            for k in range(start, end):
                self._served[k] += delta

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; False when the server is stopping."""
        return not self._stopping.wait(seconds)


def _timeout(raw: str | None) -> int:
    try:
        value = int(float(raw)) if raw is not None else DEFAULT_TIMEOUT
    except (ValueError, OverflowError):  # "abc", "nan", "inf": fall back like upstream's default
        value = DEFAULT_TIMEOUT
    return min(MAX_TIMEOUT, max(0, value))
