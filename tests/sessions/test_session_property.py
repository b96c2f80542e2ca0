"""Simulated broadcasts: the product's stitching and rollups against a ground truth computed here
from the script alone (second-by-second presence, plain counting)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from greenroom.sessions.rollups import StatEvent, rollup
from greenroom.sessions.stitching import EventRef, closed_segments, stitch

T0 = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)
MERGE = 1800
USERS = ["ann", "bob", "cat", "dan", "eve", "fay"]
ACTIONS = ["userEnter", "userLeave", "tip", "chatMessage", "privateMessage", "follow", "unfollow",
           "fanclubJoin", "mediaPurchase"]


@dataclass
class Scripted:
    second: int
    method: str
    user: str | None = None
    tokens: int = 0
    anon: bool = False


@dataclass
class Scenario:
    events: list[Scripted] = field(default_factory=list)
    broadcasts: list[tuple[int, int]] = field(default_factory=list)
    excluded: set[str] = field(default_factory=set)


@st.composite
def scenarios(draw) -> Scenario:
    sc = Scenario(excluded=set(draw(st.lists(st.sampled_from(USERS), max_size=2))))
    t = 0
    for _ in range(draw(st.integers(1, 4))):
        for _ in range(draw(st.integers(0, 3))):  # offline activity before the broadcast
            t += draw(st.integers(1, 300))
            sc.events.append(Scripted(t, draw(st.sampled_from(["userEnter", "privateMessage", "follow"])),
                                      draw(st.sampled_from(USERS))))
        t += draw(st.one_of(st.integers(1, 600), st.integers(MERGE - 5, MERGE + 5), st.integers(3000, 9000)))
        start = t
        sc.events.append(Scripted(t, "broadcastStart"))
        for _ in range(draw(st.integers(0, 25))):
            t += draw(st.integers(1, 900))
            method = draw(st.sampled_from(ACTIONS))
            tokens = draw(st.integers(1, 500)) if method in ("tip", "mediaPurchase") else 0
            sc.events.append(Scripted(t, method, draw(st.sampled_from(USERS)), tokens, draw(st.booleans())))
        t += draw(st.integers(1, 900))
        sc.events.append(Scripted(t, "broadcastStop"))
        sc.broadcasts.append((start, t))
    return sc


def truth(sc: Scenario) -> list[dict]:
    """Sessions and stats straight from the script."""
    groups: list[list[tuple[int, int]]] = []
    for start, stop in sc.broadcasts:
        if groups and start - groups[-1][-1][1] <= MERGE:
            groups[-1].append((start, stop))
        else:
            groups.append([(start, stop)])
    seen_before: set[str] = set()
    out = []
    for windows in groups:
        evs = [e for e in sc.events if any(a <= e.second <= b for a, b in windows)
               and (e.user is None or e.user not in sc.excluded)]
        tips = [e for e in evs if e.method == "tip"]
        media = sum(e.tokens for e in evs if e.method == "mediaPurchase")
        visitors = {e.user for e in evs if e.method == "userEnter"}
        viewer_seconds, peak = 0, 0
        for a, b in windows:
            present: set[str] = set()
            by_second = {e.second: e for e in evs if a <= e.second <= b}
            for s in range(a, b):
                e = by_second.get(s)
                if e and e.method == "userEnter":
                    present.add(e.user)
                elif e and e.method == "userLeave":
                    present.discard(e.user)
                viewer_seconds += len(present)
                peak = max(peak, len(present))
        duration = sum(b - a for a, b in windows)
        per_tipper: dict[tuple[bool, str], int] = {}
        for e in tips:
            key = (e.anon, "anonymous" if e.anon else e.user)
            per_tipper[key] = per_tipper.get(key, 0) + e.tokens
        tokens = sum(e.tokens for e in tips) + media
        out.append({
            "duration_seconds": duration, "tokens": tokens, "tip_tokens": tokens - media, "media_tokens": media,
            "tip_count": len(tips), "unique_tippers": len({e.user for e in tips}),
            "biggest_tip": max((e.tokens for e in tips), default=0),
            "top_tippers_total": sum(sorted(per_tipper.values(), reverse=True)[:10]),
            "follows": sum(e.method == "follow" for e in evs), "unfollows": sum(e.method == "unfollow" for e in evs),
            "fanclub_joins": sum(e.method == "fanclubJoin" for e in evs),
            "unique_visitors": len(visitors),
            "unique_chatters": len({e.user for e in evs if e.method == "chatMessage"}),
            "chat_messages": sum(e.method == "chatMessage" for e in evs),
            "private_messages": sum(e.method == "privateMessage" for e in evs),
            "peak_viewers": peak, "avg_viewers": round(viewer_seconds / duration, 2) if duration else 0.0,
            "avg_watch_seconds": round(viewer_seconds / len(visitors), 1) if visitors else 0.0,
            "returning_visitors": len(visitors & seen_before), "new_visitors": len(visitors - seen_before),
            "segments": len(windows),
        })
        seen_before |= {e.user for e in sc.events if e.method == "userEnter"
                        and any(a <= e.second <= b for a, b in windows)}
    return out


def product(sc: Scenario) -> list[dict]:
    at = [T0 + timedelta(seconds=e.second) for e in sc.events]
    refs = [EventRef(i, e.method, at[i]) for i, e in enumerate(sc.events)]
    drafts = stitch(None, refs, merge_window=timedelta(seconds=MERGE), stale_after=timedelta(hours=2))
    out, earlier = [], set()
    for d in drafts:
        stat_events = [StatEvent(i, sc.events[i].method, sc.events[i].user, at[i], sc.events[i].tokens,
                                 sc.events[i].anon) for i in d.linked]
        result = rollup(stat_events, closed_segments(d.segments, d.last_event_at),
                        excluded=frozenset(sc.excluded), earlier_visitors=earlier)
        stats = dict(result.stats)
        stats["top_tippers_total"] = sum(t["tokens"] for t in stats.pop("top_tippers"))
        stats.pop("net_followers")
        stats.pop("tokens_per_hour")
        stats["segments"] = len(d.segments)
        out.append(stats)
        earlier |= {e.username for e in stat_events if e.method == "userEnter"}
    return out


@settings(max_examples=600, deadline=None)
@given(scenarios())
def test_simulated_broadcasts_give_the_stats_counted_directly_from_the_script(sc):
    assert product(sc) == truth(sc)
