"""The numbers check: every number a summary states must come from the session's stats.

Numbers are compared by value ("1,250", "1250" and "1250.0" are one number). What counts as
"in the stats" is every numeric stat, top tippers' tokens, how many top tippers there are, the
duration and average watch time in hours and minutes as people write them, floats rounded as
people round them, and the session's own date and start/end times (a summary may say when it
was). Anything else, a number quoted from chat included, fails the check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from greenroom.summaries.input import SummaryInput

# A number as written in prose: 1250, 1,250, 12.5, -3. Digits glued to letters (a username such
# as "fan99", a model name such as "gpt4") are not prose numbers and are skipped.
_NUMBER = re.compile(r"(?<![\w.])[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.,])[-−]?\d+(?:\.\d+)?(?![\w])")


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    unverified: list[str]


def numbers_in(text: str) -> list[str]:
    return [m.group(0) for m in _NUMBER.finditer(text)]


def _value(token: str) -> Decimal | None:
    try:
        return Decimal(token.replace(",", "").replace("−", "-")).normalize()
    except InvalidOperation:
        return None


def _numbers(value: Any) -> Iterable[Decimal]:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield Decimal(value)
        yield Decimal(abs(value))
    elif isinstance(value, float):
        for digits in (0, 1, 2):
            yield Decimal(str(round(value, digits)))
        yield Decimal(int(value))  # "about 12 viewers" for 12.6 reads as truncation, not invention
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list | tuple):
        yield from _numbers(len(value))
        for item in value:
            yield from _numbers(item)


def _durations(seconds: float) -> Iterable[Decimal]:
    minutes = seconds / 60
    hours, rest = divmod(int(seconds) // 60, 60)
    yield from _numbers(round(minutes))
    yield from _numbers(int(minutes))
    yield from _numbers(hours)
    yield from _numbers(rest)
    yield from _numbers(round(seconds / 3600, 1))


def allowed_numbers(data: SummaryInput) -> set[Decimal]:
    stats = data.stats
    allowed: set[Decimal] = set()
    allowed.update(_numbers({k: v for k, v in stats.items()}))
    allowed.update(_durations(float(stats.get("duration_seconds") or 0)))
    allowed.update(_durations(float(stats.get("avg_watch_seconds") or 0)))
    for at in (data.local(data.started_at), data.local(data.ended_at)):
        if at is not None:
            allowed.update(Decimal(n) for n in (at.year, at.month, at.day, at.hour, at.minute))
    return {n.normalize() for n in allowed}


def check_numbers(text: str, data: SummaryInput) -> CheckResult:
    allowed = allowed_numbers(data)
    unverified = []
    for token in numbers_in(text):
        value = _value(token)
        if (value is None or value not in allowed) and token not in unverified:
            unverified.append(token)
    return CheckResult(passed=not unverified, unverified=unverified)
