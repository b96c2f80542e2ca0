"""Building the response to one feed request, normal or faulted.

Only complete, successfully written responses mark events as served: a truncated or endless
body delivered nothing a client could use, so the ground truth must not claim otherwise.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from .faults import STATUS_FAULTS, Fault, cloudflare_html

if TYPE_CHECKING:
    from .server import SimulatorServer, _Handler

WAITED_TOO_LONG = "Waited too long for events. Use nextUrl to continue."
STATUS_JSON = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 429: "Too many requests"}
TRICKLE_INTERVAL = 0.5


def next_url(base: str, cursor: str | None, timeout: int) -> str:
    if cursor:
        return f"{base}?i={quote(cursor, safe='-')}&timeout={timeout}"
    return f"{base}?timeout={timeout}"


def respond(
    sim: SimulatorServer,
    req: _Handler,
    fault: Fault | None,
    *,
    base: str,
    cursor: str | None,
    timeout: int,
    token: str,
) -> None:
    kind = fault.kind if fault else None
    host = urlsplit(base).hostname or "localhost"
    if fault is not None and kind in STATUS_FAULTS:
        return _status(req, fault, host)
    if kind == "disconnect":
        req.close_connection = True  # the handler closes the socket without writing a byte
        return None
    if fault is not None and kind == "waited_too_long":
        sim._sleep(fault.seconds or 0.0)
        return req.send_json(400, {"status": WAITED_TOO_LONG, "nextUrl": next_url(base, cursor, timeout),
                                   "events": []})
    if kind == "foreign_next":
        parts = urlsplit(base)
        netloc = f"{parts.hostname}.attacker.invalid" + (f":{parts.port}" if parts.port else "")
        foreign = parts._replace(netloc=netloc).geturl()
        return req.send_json(200, {"events": [], "nextUrl": next_url(foreign, cursor, timeout)})
    if fault is not None and kind == "endless_body":
        return _endless(sim, req, fault)

    tl = sim._require_timeline()
    position = sim._start_position(cursor)
    if kind == "duplicate" and 0 < position <= tl.available(time.monotonic()):
        # Re-send up to half a batch already delivered, then whatever new is there, at once.
        start = max(0, position - max(1, sim.batch_limit // 2))
        end = min(tl.available(time.monotonic()), start + sim.batch_limit)
        end = max(end, position)
    else:
        available, valid = sim._wait(position, timeout, token)
        if not valid:
            return req.send_json(401, {"status": "Unauthorized: invalid or revoked token"})
        start, end = position, max(position, min(available, position + sim.batch_limit))
    events = [tl.envelope(k) for k in range(start, end)]
    if kind == "stale_next":
        following = cursor  # the fault: the next poll repeats this one
    elif end > start:
        following = tl.served_id(end - 1)
    elif cursor is None and position > 0:
        following = tl.served_id(position - 1)  # a first call with an empty backlog still pins the position
    else:
        following = cursor
    body = json.dumps({"events": events, "nextUrl": next_url(base, following, timeout)},
                      ensure_ascii=False).encode()
    if kind == "truncated":
        req.close_connection = True
        return req.send_body(200, body[: len(body) // 2], "application/json; charset=utf-8")
    sim._claim(start, end)
    try:
        if fault is not None and kind == "slow_body":
            if not _trickle(sim, req, body, fault.seconds if fault.seconds is not None else 3.0):
                sim._claim(start, end, -1)
        else:
            req.send_body(200, body, "application/json; charset=utf-8")
    except OSError:
        sim._claim(start, end, -1)
        raise
    return None


def _status(req: _Handler, fault: Fault, host: str) -> None:
    status = STATUS_FAULTS[fault.kind]
    if status in STATUS_JSON:
        headers = [("Retry-After", str(fault.retry_after))] if status == 429 else []
        return req.send_json(status, {"status": STATUS_JSON[status]}, headers)
    if status == 500:
        return req.send_body(500, b"<h1>Server Error (500)</h1>", "text/html")
    return req.send_body(status, cloudflare_html(status, host), "text/html; charset=UTF-8")


def _trickle(sim: SimulatorServer, req: _Handler, body: bytes, seconds: float) -> bool:
    """Headers at once, then the body in slices spread over `seconds`; True when all was written."""
    req.send_response(200)
    req.send_header("Content-Type", "application/json; charset=utf-8")
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    req.wfile.flush()
    slices = max(2, min(20, len(body)))
    step = -(-len(body) // slices)
    for offset in range(0, len(body), step):
        if offset and not sim._sleep(seconds / slices):
            req.close_connection = True
            return False
        req.wfile.write(body[offset : offset + step])
        req.wfile.flush()
    return True


def _endless(sim: SimulatorServer, req: _Handler, fault: Fault) -> None:
    """A 200 whose body never completes, bounded so the thread always ends (default 100 s)."""
    req.close_connection = True
    req.send_response(200)
    req.send_header("Content-Type", "application/json; charset=utf-8")
    req.send_header("Connection", "close")
    req.end_headers()
    deadline = time.monotonic() + (fault.seconds if fault.seconds is not None else 100.0)
    try:
        req.wfile.write(b'{"events": [')
        while time.monotonic() < deadline and sim._sleep(TRICKLE_INTERVAL):
            req.wfile.write(b" ")
            req.wfile.flush()
    except OSError:
        return  # the client gave up, which is the point
    with contextlib.suppress(OSError):
        req.connection.shutdown(socket.SHUT_RDWR)
