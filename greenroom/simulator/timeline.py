"""Placing a script on the wall clock: which events are available now, and their served ids.

A script is written in its own virtual time. When a server starts, one constant shift maps it
onto real time:

- ``instant``: the last event lands just before now; everything is in the past and available.
- a float speed ``N``: script time ``live_from`` lands on "now"; events before it are history
  (available at once), events after it become available when ``elapsed_wall * N`` reaches their
  distance from ``live_from``. Without ``live_from`` the first event is "now".

Because the shift is constant (whole milliseconds), events that shared a millisecond still share
one, so each served id is the shifted millisecond plus the script's own sequence number, and
ids stay strictly increasing.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Any, Literal

Speed = float | Literal["instant"]


def parse_speed(value: str | float) -> Speed:
    """Accept `instant`, `realtime` (1.0) or a positive number."""
    problem = f"speed must be 'instant', 'realtime' or a positive number, not {value!r}"
    if isinstance(value, str) and value.strip().lower() in ("instant", "realtime"):
        return "instant" if value.strip().lower() == "instant" else 1.0
    try:
        speed = float(value)
    except ValueError:
        raise ValueError(problem) from None
    if not speed > 0 or math.isinf(speed):
        raise ValueError(problem)
    return speed


def parse_id(value: str) -> tuple[int, int] | None:
    ms, sep, seq = value.partition("-")
    try:
        return int(ms), int(seq) if sep else 0
    except ValueError:
        return None


class Timeline:
    def __init__(
        self,
        times_ms: list[int],
        events: list[dict[str, Any]],
        *,
        speed: Speed,
        live_from_ms: int | None,
        now_ms: int,
        now_mono: float,
        wall_clock_ids: bool = False,
    ) -> None:
        self._times = times_ms
        self._events = events
        self._mono0 = now_mono
        if speed == "instant" or not times_ms:
            self._live = times_ms[-1] if times_ms else 0
            self._speed = math.inf
            self.shift = now_ms - 1 - self._live
        else:
            self._live = times_ms[0] if live_from_ms is None else live_from_ms
            self._speed = speed  # script milliseconds per wall millisecond
            self.shift = now_ms - self._live
        self._seq = [e["id"].rpartition("-")[2] for e in events]
        # With wall-clock ids, live events are stamped with the wall time they become available
        # (script gaps divided by the speed), so a fast demo still has event times that agree with
        # the clock: merge windows, finalize due times and the idle watchdog behave as in real life.
        self._ids: list[str] | None = None
        self._index: dict[str, int] | None = None
        if wall_clock_ids and not math.isinf(self._speed) and self._speed != 1.0:
            self._ids = self._compressed_ids()
            self._index = {value: k for k, value in enumerate(self._ids)}

    def _compressed_ids(self) -> list[str]:
        ids: list[str] = []
        previous, seq = None, 0
        for k, t in enumerate(self._times):
            if t < self._live:
                ids.append(f"{t + self.shift}-{self._seq[k]}")
                continue
            ms = self._live + self.shift + int((t - self._live) / self._speed)
            seq = seq + 1 if ms == previous else 0
            previous = ms
            ids.append(f"{ms}-{seq}")
        return ids

    def __len__(self) -> int:
        return len(self._times)

    def served_id(self, index: int) -> str:
        if self._ids is not None:
            return self._ids[index]
        return f"{self._times[index] + self.shift}-{self._seq[index]}"

    def envelope(self, index: int) -> dict[str, Any]:
        # A shallow copy: only the id differs from the script; the object is shared, read-only.
        event = self._events[index]
        return {"method": event["method"], "id": self.served_id(index), "object": event["object"]}

    def available(self, now_mono: float) -> int:
        """How many events (a prefix of the script) are available at this monotonic time."""
        if math.isinf(self._speed):
            return len(self._times)
        horizon = self._live + (now_mono - self._mono0) * 1000.0 * self._speed
        return bisect_right(self._times, horizon)

    def due(self, index: int) -> float:
        """Monotonic time at which event `index` becomes available (inf past the end)."""
        if index >= len(self._times):
            return math.inf
        if math.isinf(self._speed):
            return self._mono0
        ahead = self._times[index] - self._live
        return self._mono0 + max(0.0, ahead / self._speed / 1000.0)

    def position_after(self, served: str) -> int | None:
        """Index of the first event after the served id `served`; None if it does not parse."""
        if self._index is not None:
            found = self._index.get(served)
            if found is not None:
                return found + 1
        key = parse_id(served)
        if key is None:
            return None
        ms, seq = key[0] - self.shift, key[1]
        lo = bisect_left(self._times, ms)
        hi = bisect_right(self._times, ms, lo)
        return min(hi, lo + seq + 1)
