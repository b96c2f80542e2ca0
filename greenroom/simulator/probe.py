"""A minimal reference consumer of the feed, used to check the simulator end to end.

It is deliberately naive but careful: keep the cursor, retry anything that is not a clean
response, follow nextUrl only on the same host, de-duplicate by id. If it gets every event
through every fault, a real ingester can too. Plain stdlib, blocking.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit


@dataclass
class Reply:
    status: int | None  # None: no complete response (disconnect, timeout, incomplete body)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed: float = 0.0
    error: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(url: str, *, deadline: float = 15.0) -> Reply:
    """One GET with a total deadline (a per-read timeout alone never fires on a trickling body)."""
    parts = urlsplit(url)
    began = time.monotonic()
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=deadline)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("GET", path)
        sock = conn.sock  # kept: http.client drops its reference when the response will close
        resp = conn.getresponse()
        chunks: list[bytes] = []
        while True:
            remaining = deadline - (time.monotonic() - began)
            try:
                if remaining <= 0 or sock is None:
                    raise TimeoutError
                sock.settimeout(remaining)
                chunk = resp.read1(65536)
            except TimeoutError:
                return Reply(None, dict(resp.getheaders()), b"".join(chunks), time.monotonic() - began, "deadline")
            if not chunk:
                break
            chunks.append(chunk)
        return Reply(resp.status, dict(resp.getheaders()), b"".join(chunks), time.monotonic() - began)
    except (OSError, http.client.HTTPException) as exc:
        return Reply(None, {}, b"", time.monotonic() - began, type(exc).__name__)
    finally:
        conn.close()


@dataclass
class Collected:
    ids: list[str] = field(default_factory=list)  # unique, in arrival order
    raw_ids: list[str] = field(default_factory=list)  # every id received, duplicates included
    replies: list[Reply] = field(default_factory=list)
    refused_next: list[str] = field(default_factory=list)


def naive_collect(url: str, *, expected: int, poll_timeout: int = 1, give_up: float = 30.0) -> Collected:
    """Poll from `url` until `expected` distinct ids arrived (or `give_up` seconds passed)."""
    out, seen = Collected(), set()
    url = f"{url}?timeout={poll_timeout}"
    host = urlsplit(url).netloc
    stop_at = time.monotonic() + give_up
    while len(out.ids) < expected and time.monotonic() < stop_at:
        reply = fetch(url, deadline=poll_timeout + 3)
        out.replies.append(reply)
        if reply.status not in (200, 400):
            time.sleep(0.02)
            continue
        try:
            data = reply.json()
        except ValueError:
            continue
        for event in data.get("events", []):
            out.raw_ids.append(event["id"])
            if event["id"] not in seen:
                seen.add(event["id"])
                out.ids.append(event["id"])
        following = urljoin(url, data.get("nextUrl") or url)
        if urlsplit(following).netloc != host:
            out.refused_next.append(following)
            continue
        url = following
    return out


def raw_get(port: int, path: str, *, read_for: float) -> tuple[bytes, float, bool]:
    """Read a response byte-wise for up to `read_for` s; returns (bytes, seconds, closed by server)."""
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while time.monotonic() - began < read_for:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return data, time.monotonic() - began, True
            data += chunk
        return data, time.monotonic() - began, False
