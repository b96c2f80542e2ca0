"""Who an event is about, and what it adds to that person. Pure: no I/O.

The owner (the feed's broadcaster) is never a person of their own room. A private message is about
its counterpart whichever way it went: ``fromUser``/``toUser`` give the direction, and a PM the
owner sent carries the owner as ``user``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from greenroom.events.parse import Method, ParsedEvent

# Attributes kept as "the latest": every key the feed sends except the username itself.
TRUTHY = frozenset({"true", "1", "yes"})


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in TRUTHY
    return bool(value)


def counterpart(event: ParsedEvent, owner: str) -> str | None:
    """The person a PM is with (None when it cannot be told)."""
    msg = event.message
    sender = (msg.from_user if msg else None) or event.username
    if sender == owner:
        return msg.to_user if msg else None
    return sender


def person_of(event: ParsedEvent, owner: str) -> str | None:
    """The normalised username an event is about, or None (room events, the owner's own)."""
    if event.method in (Method.BROADCAST_START, Method.BROADCAST_STOP, Method.ROOM_SUBJECT_CHANGE):
        return None
    name = counterpart(event, owner) if event.method == Method.PRIVATE_MESSAGE else event.username
    if not name or name == owner:
        return None
    return name


def tokens_of(event: ParsedEvent) -> int:
    """Spend: tips and media purchases (the same definition as session tokens)."""
    if event.tip is not None:
        return event.tip.tokens
    if event.media is not None:
        return event.media.tokens
    return 0


@dataclass
class Delta:
    """What one batch adds to one person; applied on top of the stored row (or a new one)."""

    username: str
    display_name: str | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    seen_broadcasting: bool = False
    follower: bool | None = None
    in_fanclub: bool | None = None
    followed_at: datetime | None = None
    unfollowed_at: datetime | None = None
    tokens: int = 0
    tip_tokens: int = 0
    tips: int = 0
    media_purchases: int = 0
    visits: int = 0
    chat_messages: int = 0
    private_messages: int = 0
    last_tip_at: datetime | None = None
    days: dict[date, int] = field(default_factory=dict)
    events: list[tuple[int, str]] = field(default_factory=list)  # (event pk, method)


def _apply(delta: Delta, pk: int, event: ParsedEvent) -> None:
    at = event.event_time
    if delta.first_seen is None or at < delta.first_seen:
        delta.first_seen = at
    if delta.last_seen is None or at >= delta.last_seen:
        delta.last_seen = at
    delta.events.append((pk, event.method))
    user = event.user
    if user is not None and user.username == delta.username:
        # Only the person's own user object describes them (not the owner's, on a sent PM).
        # The feed sometimes sends the lower-case form: it says nothing about how the name is written.
        if delta.display_name is None or user.display_name != user.username:
            delta.display_name = user.display_name
        delta.attributes.update(user.attributes)
        if "isBroadcasting" in user.attributes and truthy(user.attributes["isBroadcasting"]):
            delta.seen_broadcasting = True
        if "isFollower" in user.attributes:
            delta.follower = truthy(user.attributes["isFollower"])
        if "inFanclub" in user.attributes:
            delta.in_fanclub = truthy(user.attributes["inFanclub"])
    method = event.method
    if method == Method.TIP and event.tip is not None:
        delta.tips += 1
        delta.tip_tokens += event.tip.tokens
        delta.last_tip_at = at
    elif method == Method.MEDIA_PURCHASE:
        delta.media_purchases += 1
    elif method == Method.USER_ENTER:
        delta.visits += 1
    elif method == Method.CHAT_MESSAGE:
        delta.chat_messages += 1
    elif method == Method.PRIVATE_MESSAGE:
        delta.private_messages += 1
    elif method == Method.FOLLOW:
        delta.follower, delta.followed_at = True, at
    elif method == Method.UNFOLLOW:
        delta.follower, delta.unfollowed_at = False, at
    elif method == Method.FANCLUB_JOIN:
        delta.in_fanclub = True
    spent = tokens_of(event)
    if spent:
        delta.tokens += spent
        day = at.date()
        delta.days[day] = delta.days.get(day, 0) + spent


def deltas(events: Iterable[tuple[int, ParsedEvent]], owner: str) -> dict[str, Delta]:
    """Fold a batch (stream order) into one :class:`Delta` per person."""
    result: dict[str, Delta] = {}
    for pk, event in events:
        name = person_of(event, owner)
        if name is None:
            continue
        delta = result.get(name)
        if delta is None:
            delta = result[name] = Delta(name)
        _apply(delta, pk, event)
    return result
