"""Raw envelope -> typed event. Pure: no I/O, no clock (receive time is passed in).

Upstream quirks handled here (EVENTS_API.md): numbers as strings, ``media.id`` as number or
string, optional keys missing, usernames in display case, unknown methods. A payload that breaks
a rule we rely on raises :class:`MalformedEvent` with a reason; the store keeps it quarantined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Method(StrEnum):
    BROADCAST_START = "broadcastStart"
    BROADCAST_STOP = "broadcastStop"
    USER_ENTER = "userEnter"
    USER_LEAVE = "userLeave"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    FANCLUB_JOIN = "fanclubJoin"
    TIP = "tip"
    CHAT_MESSAGE = "chatMessage"
    PRIVATE_MESSAGE = "privateMessage"
    MEDIA_PURCHASE = "mediaPurchase"
    ROOM_SUBJECT_CHANGE = "roomSubjectChange"


KNOWN_METHODS = frozenset(m.value for m in Method)
_USER_METHODS = KNOWN_METHODS - {Method.ROOM_SUBJECT_CHANGE.value}
MAX_ID_LENGTH = 64
MAX_USERNAME_LENGTH = 64
_ID_TIME = re.compile(r"^(\d{12,14})-\d+$")
# Event times outside this range are not trusted as a clock (a garbled id): use receive time.
_MIN_EVENT_MS = 946_684_800_000  # 2000-01-01
_MAX_EVENT_MS = 4_102_444_800_000  # 2100-01-01


class MalformedEvent(ValueError):
    """The payload cannot be processed; ``reason`` says why (stored with the quarantined event)."""

    def __init__(self, reason: str, event_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class User:
    username: str  # normalised (lower case): identity
    display_name: str  # as sent
    attributes: dict[str, Any] = field(default_factory=dict)  # every other key, as sent


@dataclass(frozen=True, slots=True)
class Tip:
    tokens: int
    is_anon: bool
    message: str


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    color: str | None = None
    bg_color: str | None = None
    font: str | None = None
    orig: str | None = None
    from_user: str | None = None  # normalised
    to_user: str | None = None  # normalised


@dataclass(frozen=True, slots=True)
class Media:
    id: str
    name: str
    type: str
    tokens: int


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    event_id: str
    method: str
    known: bool
    broadcaster: str | None  # normalised; "" for a direct message outside the room
    event_time: datetime
    received_at: datetime
    user: User | None = None
    tip: Tip | None = None
    message: Message | None = None
    media: Media | None = None
    subject: str | None = None

    @property
    def username(self) -> str | None:
        return self.user.username if self.user else None


def event_time_from_id(event_id: str, received_at: datetime) -> datetime:
    """Upstream ids look like ``<epoch ms>-<seq>``; anything else falls back to receive time."""
    match = _ID_TIME.match(event_id)
    if match:
        ms = int(match.group(1))
        if _MIN_EVENT_MS <= ms <= _MAX_EVENT_MS:
            return datetime.fromtimestamp(ms / 1000, tz=UTC)
    return received_at


def normalise_id(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise MalformedEvent("missing or invalid id")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise MalformedEvent(f"id has type {type(value).__name__}")
    if not text or len(text) > MAX_ID_LENGTH:
        raise MalformedEvent("missing or invalid id")
    if _CONTROL.search(text):
        raise MalformedEvent("id contains control characters")
    return text


_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Replace what no database column can hold (NUL, lone surrogates) with U+FFFD. The raw
    payload keeps the original; derived text columns get this."""
    return _UNSAFE_TEXT.sub("\ufffd", value) if _UNSAFE_TEXT.search(value) else value


def _int(value: Any, what: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise MalformedEvent(f"{what} is a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    else:
        raise MalformedEvent(f"{what} is not a whole number")
    if number < minimum:
        raise MalformedEvent(f"{what} is below {minimum}")
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise MalformedEvent(f"expected text, got {type(value).__name__}")


def _opt_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _username(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MalformedEvent(f"{what} is missing")
    name = value.strip()
    if _CONTROL.search(name):
        raise MalformedEvent(f"{what} contains control characters")
    if len(name) > MAX_USERNAME_LENGTH:
        raise MalformedEvent(f"{what} is longer than {MAX_USERNAME_LENGTH} characters")
    return name


def _user(raw: Any) -> User:
    if not isinstance(raw, dict):
        raise MalformedEvent("user is missing")
    display = _username(raw.get("username"), "user.username")
    attributes = {k: v for k, v in raw.items() if k != "username"}
    return User(username=display.lower(), display_name=display, attributes=attributes)


def parse_event(envelope: Any, received_at: datetime) -> ParsedEvent:
    """Parse one envelope. Raises :class:`MalformedEvent` (with ``event_id`` when it is known)."""
    if not isinstance(envelope, dict):
        raise MalformedEvent(f"event is a {type(envelope).__name__}, not an object")
    event_id = normalise_id(envelope.get("id"))
    try:
        return _parse_body(envelope, event_id, received_at)
    except MalformedEvent as exc:
        exc.event_id = event_id
        raise


def _parse_body(envelope: dict[str, Any], event_id: str, received_at: datetime) -> ParsedEvent:
    method = envelope.get("method")
    if not isinstance(method, str) or not method or len(method) > 40 or _CONTROL.search(method):
        raise MalformedEvent("method is missing or not text")
    event_time = event_time_from_id(event_id, received_at)
    obj = envelope.get("object")
    if obj is None:
        obj = {}
    if not isinstance(obj, dict):
        raise MalformedEvent("object is not an object")
    raw_broadcaster = obj.get("broadcaster")
    broadcaster = raw_broadcaster.strip().lower() if isinstance(raw_broadcaster, str) else None
    if broadcaster is not None and (len(broadcaster) > MAX_USERNAME_LENGTH or _CONTROL.search(broadcaster)):
        raise MalformedEvent("object.broadcaster is not a valid username")
    if method not in KNOWN_METHODS:
        # Stored raw and skipped by processing; keep the user if one is recognisable.
        user = None
        if isinstance(obj.get("user"), dict) and isinstance(obj["user"].get("username"), str):
            try:
                user = _user(obj["user"])
            except MalformedEvent:
                user = None
        return ParsedEvent(event_id, method, False, broadcaster, event_time, received_at, user=user)

    user = _user(obj.get("user")) if method in _USER_METHODS else None
    tip = message = media = subject = None
    if method == Method.TIP:
        raw_tip = obj.get("tip")
        if not isinstance(raw_tip, dict):
            raise MalformedEvent("tip is missing")
        tip = Tip(
            tokens=_int(raw_tip.get("tokens"), "tip.tokens", minimum=1),
            is_anon=_bool(raw_tip.get("isAnon", False)),
            message=_text(raw_tip.get("message")),
        )
    elif method in (Method.CHAT_MESSAGE, Method.PRIVATE_MESSAGE):
        raw_msg = obj.get("message")
        if not isinstance(raw_msg, dict):
            raise MalformedEvent("message is missing")
        from_user = raw_msg.get("fromUser")
        to_user = raw_msg.get("toUser")
        message = Message(
            text=_text(raw_msg.get("message")),
            color=_opt_text(raw_msg.get("color")),
            bg_color=_opt_text(raw_msg.get("bgColor")),
            font=_opt_text(raw_msg.get("font")),
            orig=_opt_text(raw_msg.get("orig")),
            from_user=_username(from_user, "message.fromUser").lower() if from_user else None,
            to_user=_username(to_user, "message.toUser").lower() if to_user else None,
        )
    elif method == Method.MEDIA_PURCHASE:
        raw_media = obj.get("media")
        if not isinstance(raw_media, dict):
            raise MalformedEvent("media is missing")
        media_id = raw_media.get("id")
        if media_id is None or isinstance(media_id, (bool, dict, list)):
            raise MalformedEvent("media.id is missing")
        media = Media(
            id=str(media_id),
            name=_text(raw_media.get("name")),
            type=_text(raw_media.get("type")),
            tokens=_int(raw_media.get("tokens", 0), "media.tokens"),
        )
    elif method == Method.ROOM_SUBJECT_CHANGE:
        subject = _text(obj.get("subject"))
    return ParsedEvent(
        event_id, method, True, broadcaster, event_time, received_at,
        user=user, tip=tip, message=message, media=media, subject=subject,
    )
