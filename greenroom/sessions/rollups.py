"""Session stats from the session's events. Pure: the same events give the same bytes.

Definitions are in docs/sessions.md ("Stats"); the names here are the JSON field names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

BUCKET = timedelta(minutes=5)
TOP_TIPPERS = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

STAT_FIELDS = (
    "duration_seconds", "tokens", "tip_tokens", "media_tokens", "tip_count", "unique_tippers",
    "biggest_tip", "top_tippers", "follows", "unfollows", "net_followers", "fanclub_joins",
    "unique_visitors", "unique_chatters", "chat_messages", "private_messages", "peak_viewers",
    "avg_viewers", "avg_watch_seconds", "new_visitors", "returning_visitors", "tokens_per_hour",
)


@dataclass(frozen=True, slots=True)
class StatEvent:
    pk: int
    method: str
    username: str | None
    at: datetime
    tokens: int = 0  # tip or media tokens
    is_anon: bool = False
    subject: str | None = None


@dataclass(frozen=True)
class Rollup:
    stats: dict[str, Any]
    timeline: list[dict[str, Any]]
    subjects: list[dict[str, Any]]


def bucket_start(at: datetime) -> datetime:
    return at - (at - _EPOCH) % BUCKET


def empty_stats() -> dict[str, Any]:
    stats: dict[str, Any] = {name: 0 for name in STAT_FIELDS}
    stats["top_tippers"] = []
    stats["avg_viewers"] = 0.0
    stats["avg_watch_seconds"] = 0.0
    stats["tokens_per_hour"] = 0.0
    return stats


def rollup(
    events: Iterable[StatEvent],
    segments: list[tuple[datetime, datetime]],
    *,
    excluded: frozenset[str] | set[str],
    earlier_visitors: frozenset[str] | set[str],
) -> Rollup:
    """Stats, 5-minute timeline and subject changes of one session.

    ``events`` are the session's linked events; they are ordered here by (time, pk).
    ``segments`` are closed broadcast periods. ``earlier_visitors`` are the visitors of earlier
    sessions of the feed (for new vs returning); excluded users count nowhere.
    """
    ordered = sorted(
        (e for e in events if e.username is None or e.username not in excluded), key=lambda e: (e.at, e.pk)
    )
    stats = empty_stats()
    tippers: dict[tuple[bool, str], int] = defaultdict(int)
    tipper_names: set[str] = set()
    visitors: set[str] = set()
    chatters: set[str] = set()
    subjects: list[dict[str, Any]] = []
    buckets: dict[datetime, dict[str, Any]] = {}

    def bucket(at: datetime) -> dict[str, Any]:
        key = bucket_start(at)
        if key not in buckets:
            buckets[key] = {"viewers": 0, "messages": 0, "chatters": set(), "tokens": 0}
        return buckets[key]

    for e in ordered:
        m = e.method
        if m == "tip":
            stats["tip_tokens"] += e.tokens
            stats["tip_count"] += 1
            stats["biggest_tip"] = max(stats["biggest_tip"], e.tokens)
            if e.username:
                tipper_names.add(e.username)
                tippers[(e.is_anon, "anonymous" if e.is_anon else e.username)] += e.tokens
            bucket(e.at)["tokens"] += e.tokens
        elif m == "mediaPurchase":
            stats["media_tokens"] += e.tokens
            bucket(e.at)["tokens"] += e.tokens
        elif m == "follow":
            stats["follows"] += 1
        elif m == "unfollow":
            stats["unfollows"] += 1
        elif m == "fanclubJoin":
            stats["fanclub_joins"] += 1
        elif m == "userEnter" and e.username:
            visitors.add(e.username)
        elif m == "chatMessage":
            stats["chat_messages"] += 1
            b = bucket(e.at)
            b["messages"] += 1
            if e.username:
                chatters.add(e.username)
                b["chatters"].add(e.username)
        elif m == "privateMessage":
            stats["private_messages"] += 1
        elif m == "roomSubjectChange":
            subjects.append({"at": e.at.isoformat(), "subject": e.subject or ""})

    presence = _presence(ordered, segments)
    duration = sum(int((end - start).total_seconds()) for start, end in segments)
    total_seconds = sum((end - start).total_seconds() for start, end in segments)
    stats["duration_seconds"] = duration
    stats["tokens"] = stats["tip_tokens"] + stats["media_tokens"]
    stats["unique_tippers"] = len(tipper_names)
    stats["top_tippers"] = [
        {"username": name, "tokens": tokens, "anonymous": anon}
        for (anon, name), tokens in sorted(tippers.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1]))
    ][:TOP_TIPPERS]
    stats["net_followers"] = stats["follows"] - stats["unfollows"]
    stats["unique_visitors"] = len(visitors)
    stats["unique_chatters"] = len(chatters)
    stats["peak_viewers"] = presence.peak
    stats["avg_viewers"] = round(presence.area / total_seconds, 2) if total_seconds > 0 else 0.0
    stats["avg_watch_seconds"] = round(presence.area / len(visitors), 1) if visitors else 0.0
    stats["returning_visitors"] = len(visitors & set(earlier_visitors))
    stats["new_visitors"] = len(visitors) - stats["returning_visitors"]
    stats["tokens_per_hour"] = round(stats["tokens"] * 3600 / duration, 2) if duration > 0 else 0.0

    for key, peak in presence.bucket_peaks.items():
        bucket(key)["viewers"] = peak
    timeline = _timeline(buckets, segments)
    return Rollup(stats=stats, timeline=timeline, subjects=subjects)


def _timeline(
    buckets: dict[datetime, dict[str, Any]], segments: list[tuple[datetime, datetime]]
) -> list[dict[str, Any]]:
    if not segments and not buckets:
        return []
    keys = list(buckets)
    if segments:
        keys += [bucket_start(segments[0][0]), bucket_start(segments[-1][1])]
    first, last = min(keys), max(keys)
    out = []
    at = first
    while at <= last:
        b = buckets.get(at)
        out.append({
            "t": at.isoformat(),
            "viewers": b["viewers"] if b else 0,
            "messages": b["messages"] if b else 0,
            "chatters": len(b["chatters"]) if b else 0,
            "tokens": b["tokens"] if b else 0,
        })
        at += BUCKET
    return out


@dataclass
class _Presence:
    peak: int
    area: float  # viewer-seconds
    bucket_peaks: dict[datetime, int]


def _presence(ordered: list[StatEvent], segments: list[tuple[datetime, datetime]]) -> _Presence:
    """Viewers from enter/leave, inside broadcast time only. Everyone present leaves when a
    segment ends (the broadcast is over). Counts are taken after all events of one instant."""
    peaks: dict[datetime, int] = {}
    peak = 0
    area = 0.0
    idx = 0
    n = len(ordered)
    for seg_start, seg_end in segments:
        while idx < n and ordered[idx].at < seg_start:
            idx += 1  # an enter/leave stamped before the segment began is not presence
        present: set[str] = set()
        last = seg_start
        b = bucket_start(seg_start)
        while b <= seg_end:  # a bucket the broadcast touched shows at least 0 viewers
            peaks.setdefault(b, 0)
            b += BUCKET
        while idx < n and ordered[idx].at <= seg_end:
            now = ordered[idx].at
            area += len(present) * (now - last).total_seconds()
            # buckets crossed while the count stayed the same keep that count as their peak
            b = bucket_start(last) + BUCKET
            while b <= now:
                peaks[b] = max(peaks.get(b, 0), len(present))
                b += BUCKET
            last = now
            while idx < n and ordered[idx].at == now:
                e = ordered[idx]
                if e.username and e.method == "userEnter":
                    present.add(e.username)
                elif e.username and e.method == "userLeave":
                    present.discard(e.username)
                idx += 1
            peak = max(peak, len(present))
            key = bucket_start(now)
            peaks[key] = max(peaks.get(key, 0), len(present))
        area += len(present) * (seg_end - last).total_seconds()
        b = bucket_start(last) + BUCKET
        while b < seg_end:
            peaks[b] = max(peaks.get(b, 0), len(present))
            b += BUCKET
    return _Presence(peak=peak, area=area, bucket_peaks=peaks)
