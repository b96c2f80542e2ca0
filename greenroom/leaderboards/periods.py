"""Period boundaries in the owner's time zone: weeks (from the configured first day), months,
all time. Pure: the clock and the zone are passed in. Every boundary is a local midnight turned
into a UTC instant; a period is the half-open range ``[start, end)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from greenroom.errors import BadRequest

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WEEK_START = "monday"
PERIODS = ("session", "week", "month", "all")
MAX_WEEKS_BACK = 1040  # 20 years
MAX_MONTHS_BACK = 240


@dataclass(frozen=True)
class Span:
    """``[start, end)`` in UTC; None on both sides for all time. ``first_day``/``last_day`` are the
    local dates the period covers (for labels)."""

    kind: str
    offset: int
    start: datetime | None
    end: datetime | None
    first_day: date | None = None
    last_day: date | None = None

    @property
    def label(self) -> str:
        if self.kind == "all":
            return "All time"
        assert self.first_day is not None and self.last_day is not None
        if self.kind == "month":
            return self.first_day.strftime("%B %Y")
        return f"{self.first_day:%a %d %b %Y} – {self.last_day:%a %d %b %Y}"

    @property
    def name(self) -> str:
        """"This week", "Last week", "3 weeks ago", ..."""
        if self.kind == "all":
            return "All time"
        unit = "week" if self.kind == "week" else "month"
        if self.offset == 0:
            return f"This {unit}"
        if self.offset == 1:
            return f"Last {unit}"
        return f"{self.offset} {unit}s ago"


def week_start_index(name: str | None) -> int:
    value = (name or DEFAULT_WEEK_START).strip().lower()
    if value not in WEEKDAYS:
        raise BadRequest(f"week start must be one of {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(value)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # A local midnight skipped by a DST change resolves to the first instant after the gap.
    local = datetime.combine(day, time(0), tzinfo=zone)
    utc = local.astimezone(ZoneInfo("UTC"))
    return utc if utc.astimezone(zone).date() == day else datetime.combine(day, time(1), tzinfo=zone).astimezone(
        ZoneInfo("UTC"))


def week_span(now: datetime, tz: str, week_start: str | None, offset: int) -> Span:
    if not 0 <= offset <= MAX_WEEKS_BACK:
        raise BadRequest(f"offset must be between 0 and {MAX_WEEKS_BACK} weeks")
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=(today.weekday() - week_start_index(week_start)) % 7 + 7 * offset)
    after = first + timedelta(days=7)
    return Span("week", offset, _midnight(first, zone), _midnight(after, zone), first, after - timedelta(days=1))


def month_span(now: datetime, tz: str, offset: int) -> Span:
    if not 0 <= offset <= MAX_MONTHS_BACK:
        raise BadRequest(f"offset must be between 0 and {MAX_MONTHS_BACK} months")
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    index = today.year * 12 + today.month - 1 - offset
    first = date(index // 12, index % 12 + 1, 1)
    after = date((index + 1) // 12, (index + 1) % 12 + 1, 1)
    return Span("month", offset, _midnight(first, zone), _midnight(after, zone), first, after - timedelta(days=1))


def all_time() -> Span:
    return Span("all", 0, None, None)
