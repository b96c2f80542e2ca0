"""How times and events read on a page. Pure functions: the owner's zone and ``now`` are inputs.

Every string that came from upstream is returned as plain text; escaping is the template's job
(Jinja autoescape) or the script's (``textContent``), never done here, so it cannot be forgotten
in one place and doubled in another.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from greenroom.errors import BadRequest
from greenroom.events.parse import MalformedEvent, Method, parse_event

CHIP_CLASSES = {
    Method.TIP: "tip", Method.MEDIA_PURCHASE: "tip", Method.CHAT_MESSAGE: "chat",
    Method.PRIVATE_MESSAGE: "pm", Method.USER_ENTER: "enter", Method.USER_LEAVE: "leave",
    Method.FOLLOW: "follow", Method.UNFOLLOW: "unfollow", Method.FANCLUB_JOIN: "fanclub",
    Method.BROADCAST_START: "broadcast", Method.BROADCAST_STOP: "broadcast",
}
CHIP_LABELS = {
    Method.TIP: "Tip", Method.MEDIA_PURCHASE: "Media", Method.CHAT_MESSAGE: "Chat",
    Method.PRIVATE_MESSAGE: "PM", Method.USER_ENTER: "Enter", Method.USER_LEAVE: "Leave",
    Method.FOLLOW: "Follow", Method.UNFOLLOW: "Unfollow", Method.FANCLUB_JOIN: "Fan club",
    Method.BROADCAST_START: "Live", Method.BROADCAST_STOP: "Offline", Method.ROOM_SUBJECT_CHANGE: "Subject",
}


def local(value: datetime, tz: str) -> datetime:
    return value.astimezone(ZoneInfo(tz))


def format_time(value: datetime | None, tz: str, *, seconds: bool = False) -> str:
    """"21:05 CET"; 24-hour, zone named."""
    if value is None:
        return "never"
    shown = local(value, tz)
    return shown.strftime("%H:%M:%S %Z" if seconds else "%H:%M %Z")


def format_datetime(value: datetime | None, tz: str) -> str:
    """"28 Nov 2026 21:05:12 CET": the exact form, for titles and tables."""
    if value is None:
        return "never"
    shown = local(value, tz)
    return f"{shown.day} {shown.strftime('%b %Y %H:%M:%S %Z')}"


def format_relative(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    seconds = int((now - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            amount = f"{round(seconds / size)} {unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "just now"  # pragma: no cover - loop always returns for seconds >= 45


def format_bytes(size: int | None) -> str:
    if size is None:
        return "unknown"
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TB"  # pragma: no cover


def iso_utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


@dataclass(frozen=True)
class EventView:
    """One event as a row: the same fields feed the HTML template and the live stream."""

    pk: int
    event_id: str
    method: str
    chip: str
    label: str
    username: str
    detail: str
    time: str
    time_title: str
    time_iso: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def event_detail(payload: Any, received_at: datetime) -> tuple[str, str]:
    """(display name, short detail) from a raw payload; hostile or malformed payloads give ""."""
    try:
        parsed = parse_event(payload, received_at)
    except MalformedEvent:
        return "", "(malformed event kept in quarantine)"
    name = parsed.user.display_name if parsed.user else ""
    if parsed.tip is not None:
        detail = f"{parsed.tip.tokens} tokens" + (" (anon)" if parsed.tip.is_anon else "")
        note = parsed.tip.message.removeprefix("| ").strip()
        return name, f"{detail} — {note}" if note else detail
    if parsed.method == Method.PRIVATE_MESSAGE and parsed.message is not None:
        direction = f"{parsed.message.from_user or '?'} → {parsed.message.to_user or '?'}"
        return name, f"{direction}: {parsed.message.text}"
    if parsed.message is not None:
        return name, parsed.message.text
    if parsed.media is not None:
        return name, f"{parsed.media.name} ({parsed.media.type}) — {parsed.media.tokens} tokens"
    if parsed.subject is not None:
        return name, f"New subject: {parsed.subject}"
    return name, ""


def event_view(
    *, pk: int, event_id: str, method: str, username: str | None, event_time: datetime,
    received_at: datetime, payload: Any, tz: str,
) -> EventView:
    name, detail = event_detail(payload, received_at)
    return EventView(
        pk=pk, event_id=event_id, method=method, chip=CHIP_CLASSES.get(method, "other"),  # type: ignore[call-overload]
        label=CHIP_LABELS.get(method, method),  # type: ignore[call-overload]
        username=name or username or "", detail=detail[:300], time=format_time(event_time, tz, seconds=True),
        time_title=format_datetime(event_time, tz), time_iso=iso_utc(event_time) or "",
    )


STATE_LABELS = {
    "polling": "Receiving events", "demo": "Demo room", "backing_off": "Retrying",
    "credentials_rejected": "Token rejected", "stopped": "Stopped",
}
_BANNER_REASONS = {
    "credentials_rejected": "token rejected", "backing_off": "the feed is failing, retrying",
    "stopped": "ingest is not running",
}


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def feed_banner(state: str, last_event_at: datetime | None, tz: str) -> str:
    """"No events since 21:04 CET — token rejected"."""
    reason = _BANNER_REASONS.get(state, state_label(state).lower())
    since = f"No events since {format_time(last_event_at, tz)}" if last_event_at else "No events yet"
    return f"{since} — {reason}"


def form_time(value: str, tz: str) -> datetime:
    """A time typed into a form (``datetime-local``: no zone) read in the owner's time zone."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest("give the time as YYYY-MM-DDTHH:MM") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))
