"""Reading one Stats API answer into typed values (pure). Upstream numbers may arrive as strings,
keys may be missing and extra keys may appear: a value that cannot be read becomes None (the raw
answer is kept with the sample), it never fails the sample."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from greenroom.statsapi.models import INT_METRICS

MAX_COUNT = 10**15  # larger than any real counter, far inside a BIGINT
KNOWN_KEYS = frozenset({*INT_METRICS, "satisfaction_score", "time_online", "last_broadcast", "username"})


@dataclass
class SampleValues:
    ints: dict[str, int | None] = field(default_factory=dict)
    satisfaction_score: float | None = None
    time_online_minutes: int | None = None
    last_broadcast: datetime | None = None
    username: str | None = None

    def row(self) -> dict[str, Any]:
        return {**self.ints, "satisfaction_score": self.satisfaction_score,
                "time_online_minutes": self.time_online_minutes, "last_broadcast": self.last_broadcast}


def number(value: Any) -> float | None:
    """A finite number from an int, a float or a numeric string ("1,234", " 97 ", "97%")."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "").rstrip("%").strip()
        if not text or len(text) > 40:
            return None
        try:
            result = float(text)
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def count(value: Any) -> int | None:
    result = number(value)
    if result is None or result < 0 or result > MAX_COUNT:
        return None
    return int(result)


def when(value: Any) -> datetime | None:
    """``last_broadcast``: an ISO time (naive means UTC), or -1 for "never"."""
    if not isinstance(value, str) or not value.strip() or value.strip() == "-1" or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def read_values(data: dict[str, Any]) -> SampleValues:
    values = SampleValues(ints={name: count(data.get(name)) for name in INT_METRICS})
    score = number(data.get("satisfaction_score"))
    values.satisfaction_score = score if score is not None and 0 <= score <= 100 else None
    online = number(data.get("time_online"))
    values.time_online_minutes = int(online) if online is not None and 0 <= online <= 10**7 else None
    values.last_broadcast = when(data.get("last_broadcast"))
    name = data.get("username")
    values.username = name.strip().lower()[:64] if isinstance(name, str) and name.strip() else None
    return values


def has_known_fields(data: dict[str, Any]) -> bool:
    return any(key in data for key in KNOWN_KEYS - {"username"})
