"""A deterministic, seeded script of one room's Events API traffic (pure: no I/O, no clock).

The same `ScriptConfig` always yields byte-identical events, so a failing test can be replayed
exactly. Generation is linear in the number of events (each broadcast is sorted on its own), so
scripts of a million events are practical.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from operator import itemgetter
from typing import Any

from ._people import Population
from ._room import MINUTE, UNKNOWN_METHOD, Raw, Room

DEFAULT_START = datetime(2025, 8, 4, 18, 0, tzinfo=UTC)
HOUR = 60 * MINUTE
RESTART_WINDOW = 30 * MINUTE
# Long enough to never be mistaken for a restart by a 30-minute merge window.
MIN_GAP = 45 * MINUTE
KNOWN_METHODS = frozenset({
    "broadcastStart", "broadcastStop", "userEnter", "userLeave", "follow", "unfollow", "fanclubJoin",
    "tip", "chatMessage", "privateMessage", "mediaPurchase", "roomSubjectChange",
})


@dataclass(frozen=True)
class ScriptConfig:
    """What to generate. `start` is the virtual time of the first event (aware, UTC)."""

    seed: int = 0
    broadcaster: str = "alice"
    start: datetime = DEFAULT_START
    days: float = 7.0
    broadcasts_per_day: float = 1.0
    viewer_pool: int = 2000
    audience: int = 300  # mean distinct viewers per broadcast
    quirks: bool = True
    # When set, broadcasts continue past `days` until at least this many events exist; the
    # script ends with the broadcast that reaches it (no truncated broadcast at the end).
    target_events: int | None = None
    restart_probability: float = 0.15
    offline_activity: bool = True
    # Force a broadcast to start exactly here (the demo puts "now" on a broadcastStart).
    broadcast_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("start", "broadcast_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"ScriptConfig.{name} must be timezone-aware")
        if not self.broadcaster or self.broadcaster != self.broadcaster.strip():
            raise ValueError("ScriptConfig.broadcaster must be a non-empty username")


@dataclass
class Script:
    """Envelopes in delivery order plus the ground truth tests compare against."""

    config: ScriptConfig
    events: list[dict[str, Any]]
    times_ms: list[int]
    broadcasts: list[tuple[datetime, datetime]]
    restarts: list[int] = field(default_factory=list)  # indexes into `broadcasts`
    viewers: list[int] = field(default_factory=list)  # distinct viewers per broadcast

    def __len__(self) -> int:
        return len(self.events)

    @cached_property
    def event_times(self) -> list[datetime]:
        return [_to_dt(ms) for ms in self.times_ms]

    @property
    def ids(self) -> list[str]:
        return [e["id"] for e in self.events]

    def dumps(self) -> str:
        """Canonical JSON of every envelope (what determinism is judged on)."""
        return json.dumps(self.events, ensure_ascii=False, separators=(",", ":"))


def _to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _to_dt(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def make_ids(times_ms: list[int]) -> list[str]:
    """`<epoch ms>-<seq>` ids: seq counts up within one millisecond, so ids strictly increase."""
    ids: list[str] = []
    prev, seq = None, 0
    for ms in times_ms:
        seq = seq + 1 if ms == prev else 0
        prev = ms
        ids.append(f"{ms}-{seq}")
    return ids


def build_script(config: ScriptConfig) -> Script:
    rng = random.Random(config.seed)
    room = Room(rng, Population(rng, config.viewer_pool, config.broadcaster), config.broadcaster,
                config.quirks, config.audience)
    start = _to_ms(config.start)
    end = start + int(config.days * 24 * HOUR)
    forced = _to_ms(config.broadcast_at) if config.broadcast_at is not None else None
    mean_gap = max(MIN_GAP, int(24 * HOUR / max(config.broadcasts_per_day, 0.01)) - int(2.5 * HOUR))

    raws: list[Raw] = []
    windows: list[tuple[int, int]] = []
    restarts: list[int] = []
    viewers: list[int] = []
    last = start - 1  # time of the latest event generated so far
    next_start = start
    while True:
        duration = rng.randint(1 * HOUR, 4 * HOUR)
        if forced is not None and next_start + duration + 10 * MINUTE > forced and forced > last + MINUTE:
            next_start, forced = forced, None
        if config.target_events is None and next_start >= end:
            break
        if windows and next_start - windows[-1][1] <= RESTART_WINDOW:
            restarts.append(len(windows))
        if config.offline_activity and windows:
            raws.extend(_sorted(room.offline(last + MINUTE, next_start - MINUTE)))
        segment, n_viewers = room.broadcast(next_start, duration)
        segment = _sorted(segment)
        raws.extend(segment)
        windows.append((next_start, next_start + duration))
        viewers.append(n_viewers)
        last = segment[-1][0]
        if config.target_events is not None and len(raws) >= config.target_events:
            break
        stop = next_start + duration
        # The second broadcast is always a restart so every multi-broadcast script has one.
        if len(windows) == 1 or rng.random() < config.restart_probability:
            next_start = max(stop + rng.randint(2 * MINUTE, 25 * MINUTE), last + 1_000)
        else:
            next_start = stop + max(MIN_GAP, int(rng.gauss(mean_gap, mean_gap * 0.3)))
    if config.offline_activity and config.target_events is None and windows and end - last > 2 * MINUTE:
        raws.extend(_sorted(room.offline(last + MINUTE, end)))

    times = [r[0] for r in raws]
    ids = make_ids(times)
    events = [{"method": m, "id": i, "object": o} for (_, m, o), i in zip(raws, ids, strict=True)]
    return Script(
        config=config,
        events=events,
        times_ms=times,
        broadcasts=[(_to_dt(a), _to_dt(b)) for a, b in windows],
        restarts=restarts,
        viewers=viewers,
    )


def _sorted(raws: list[Raw]) -> list[Raw]:
    # Stable: events in the same millisecond keep creation order (e.g. enter before its chat).
    raws.sort(key=itemgetter(0))
    return raws


def is_known_method(method: str) -> bool:
    return method in KNOWN_METHODS


__all__ = [
    "DEFAULT_START", "KNOWN_METHODS", "UNKNOWN_METHOD", "Script", "ScriptConfig", "build_script",
    "is_known_method", "make_ids",
]
