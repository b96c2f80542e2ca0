"""The simulator's Stats API (``/statsapi/?username=…&token=…``), consistent with its room script.

Values are those of the room at the latest event available now: ``num_registered_viewers`` is the
concurrency reconstructed from userEnter/userLeave while broadcasting (0 offline), ``num_viewers``
adds guests (the Events API never reports them), followers move with follow/unfollow events and the
token balance grows with tips and media purchases. The script is read once, on the first request.

Faults for tests and demos (``add_fault``): an HTTP status ("401", "403", "404", "429", "500",
"502", "503"), "malformed" (not JSON), "not_object" (a JSON list), "strings" (every number as a
string), "missing" (only a few keys) and "empty" ({}), for the next N requests or for every request.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from array import array
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from .script import Script
    from .server import SimulatorServer, _Handler

STATS_FAULT_KINDS: dict[str, str] = {
    **{code: f"HTTP {code} response" for code in ("401", "403", "404", "429", "500", "502", "503")},
    "malformed": "HTTP 200 with a body that is not JSON",
    "not_object": "HTTP 200 with a JSON list instead of an object",
    "strings": "every number sent as a string",
    "missing": "only username, num_viewers and num_followers",
    "empty": "HTTP 200 with an empty JSON object",
}
HOUR_MS = 3_600_000


class RoomStats:
    """Per-event running totals of one script, and the faults of the Stats API endpoint."""

    def __init__(self, script: Script, seed: int = 0) -> None:
        self.script = script
        self.base_followers = 1_000 + (seed * 7_919) % 4_000
        self.base_balance = 500 + (seed * 104_729) % 20_000
        self.requests = 0
        self._lock = threading.Lock()
        self._built = False
        self._faults: list[list[Any]] = []  # [kind, remaining (None: every request)]

    # -- faults ----------------------------------------------------------------------------------

    def add_fault(self, kind: str, times: int | None = None) -> None:
        if kind not in STATS_FAULT_KINDS:
            raise ValueError(f"unknown Stats API fault {kind!r}; known: {', '.join(STATS_FAULT_KINDS)}")
        with self._lock:
            self._faults.append([kind, times])

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _pick_fault(self) -> str | None:
        with self._lock:
            self.requests += 1
            for entry in self._faults:
                kind, remaining = entry
                if remaining is None:
                    return str(kind)
                if remaining > 0:
                    entry[1] = remaining - 1
                    return str(kind)
            return None

    # -- state -----------------------------------------------------------------------------------

    def _build(self) -> None:
        with self._lock:
            if self._built:
                return
            n = len(self.script.events)
            self._followers = array("q", [0]) * (n + 1)
            self._balance = array("q", [0]) * (n + 1)
            self._present = array("l", [0]) * (n + 1)
            self._tokened = array("l", [0]) * (n + 1)
            self._started = array("l", [-1]) * (n + 1)  # index of the broadcastStart while live, else -1
            self._stopped = array("l", [-1]) * (n + 1)  # index of the latest broadcastStop
            self._tips = array("l", [0]) * (n + 1)
            self._follows = array("l", [0]) * (n + 1)
            self._unfollows = array("l", [0]) * (n + 1)
            self._tip_times: list[int] = []
            present: dict[str, bool] = {}
            followers, balance, started, stopped, tips, follows, unfollows, tokened = 0, 0, -1, -1, 0, 0, 0, 0
            for k, event in enumerate(self.script.events):
                method, obj = event["method"], event.get("object") or {}
                user = obj.get("user") if isinstance(obj.get("user"), dict) else {}
                name = str(user.get("username", "")).lower()
                if method == "broadcastStart":
                    started = k
                elif method == "broadcastStop":
                    started, stopped = -1, k
                elif method == "userEnter" and name:
                    tokened += bool(user.get("hasTokens")) - present.get(name, False)
                    present[name] = bool(user.get("hasTokens"))
                elif method == "userLeave":
                    tokened -= present.pop(name, False)
                elif method == "follow":
                    followers, follows = followers + 1, follows + 1
                elif method == "unfollow":
                    followers, unfollows = followers - 1, unfollows + 1
                elif method == "tip":
                    balance += _int((obj.get("tip") or {}).get("tokens"))
                    tips += 1
                    self._tip_times.append(self.script.times_ms[k])
                elif method == "mediaPurchase":
                    balance += _int((obj.get("media") or {}).get("tokens"))
                live = started >= 0
                self._followers[k + 1], self._balance[k + 1] = followers, balance
                self._present[k + 1] = len(present) if live else 0
                self._tokened[k + 1] = tokened if live else 0
                self._started[k + 1], self._stopped[k + 1] = started, stopped
                self._tips[k + 1], self._follows[k + 1], self._unfollows[k + 1] = tips, follows, unfollows
            self._built = True

    def snapshot(self, sim: SimulatorServer, username: str) -> dict[str, Any]:
        """The Stats API answer for the events available now."""
        self._build()
        timeline = sim._require_timeline()
        k = timeline.available(time.monotonic())
        times = self.script.times_ms
        now_ms = times[k - 1] if k else (times[0] if times else 0)
        live = self._started[k] >= 0
        registered = self._present[k]
        guests = (registered * (40 + (k * 2_654_435_761) % 41)) // 100  # 40-80 % more, steady per event
        up = 120 + self._tips[k] // 4 + self._follows[k]
        down = 4 + self._unfollows[k] * 2 + self._tips[k] // 150
        if live:
            time_online = (now_ms - times[self._started[k]]) // 60_000
            last = _wall(timeline.served_id(k - 1)) if k else None
        else:
            time_online = -1
            last = _wall(timeline.served_id(self._stopped[k])) if self._stopped[k] >= 0 else None
        return {
            "username": username,
            "token_balance": self.base_balance + self._balance[k],
            "tips_in_last_hour": self._tips[k] - bisect_right(self._tip_times, now_ms - HOUR_MS, 0, self._tips[k]),
            "votes_up": up,
            "votes_down": down,
            "satisfaction_score": round(100 * up / (up + down)),
            "last_broadcast": last.isoformat() if last is not None else -1,
            "time_online": time_online,
            "num_followers": max(0, self.base_followers + self._followers[k]),
            "num_viewers": registered + guests,
            "num_registered_viewers": registered,
            "num_tokened_viewers": self._tokened[k],
        }


def _int(value: Any) -> int:
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 0


def _wall(served_id: str) -> datetime:
    ms = int(served_id.partition("-")[0])
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).replace(microsecond=0)


def serve_stats(sim: SimulatorServer, req: _Handler, query: str) -> None:
    """Answer one ``/statsapi/`` request: same token as the feed, unknown user 404, faults."""
    params = parse_qs(query)
    username = (params.get("username") or [""])[0]
    token = (params.get("token") or [""])[0]
    stats = sim.stats
    fault = stats._pick_fault()
    if username.lower() != sim.username.lower():
        return req.send_json(404, {"status": "Not found: no such user"})
    if not hmac.compare_digest(token.encode(), sim._token.encode()):
        return req.send_json(401, {"status": "Unauthorized: invalid or revoked token"})
    if fault is not None and fault.isdigit():
        headers = [("Retry-After", "1")] if fault == "429" else []
        return req.send_json(int(fault), {"status": STATS_FAULT_KINDS[fault]}, headers)
    if fault == "malformed":
        return req.send_body(200, b'{"username": "' + username.encode() + b'", "num_viewers": 1', "application/json")
    if fault == "empty":
        return req.send_json(200, {})
    if fault == "not_object":
        return req.send_json(200, [stats.snapshot(sim, sim.username)])
    body = stats.snapshot(sim, sim.username)
    if fault == "strings":
        body = {key: str(value) if isinstance(value, int) else value for key, value in body.items()}
    elif fault == "missing":
        body = {key: body[key] for key in ("username", "num_viewers", "num_followers")}
    return req.send_body(200, json.dumps(body).encode(), "application/json")
