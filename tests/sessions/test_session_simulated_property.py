"""Hypothesis over the simulator's room scripts: the product's stitching and rollups against a
ground truth computed here from the script's envelopes and broadcast windows."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from greenroom.events.parse import parse_event
from greenroom.sessions.rollups import StatEvent, rollup
from greenroom.sessions.stitching import EventRef, closed_segments, stitch
from greenroom.simulator.script import ScriptConfig, build_script

MERGE = timedelta(minutes=30)


def truth(script) -> list[dict]:
    groups: list[list[tuple]] = []
    for i, window in enumerate(script.broadcasts):
        if i in script.restarts:
            groups[-1].append(window)
        else:
            groups.append([window])
    earlier: set[str] = set()
    out = []
    for windows in groups:
        inside = [(e, at) for e, at in zip(script.events, script.event_times, strict=True)
                  if any(a <= at <= b for a, b in windows)]

        def user(e):
            return e["object"]["user"]["username"].lower()

        visitors = {user(e) for e, _ in inside if e["method"] == "userEnter"}
        # Presence: each user's own enter/leave intervals, clipped by the window that holds them.
        viewer_seconds, peak = 0.0, 0
        for a, b in windows:
            mine = [(e, at) for e, at in inside if a <= at <= b and e["method"] in ("userEnter", "userLeave")]
            since: dict[str, object] = {}
            for e, at in mine:
                name = user(e)
                if e["method"] == "userEnter" and name not in since:
                    since[name] = at
                elif e["method"] == "userLeave" and name in since:
                    viewer_seconds += (at - since.pop(name)).total_seconds()
            viewer_seconds += sum((b - start).total_seconds() for start in since.values())
            state: dict[str, bool] = {}
            for instant in sorted({at for _, at in mine}):
                for e, at in mine:
                    if at == instant:
                        state[user(e)] = e["method"] == "userEnter"
                peak = max(peak, sum(state.values()))
        tips = [e["object"]["tip"] for e, _ in inside if e["method"] == "tip"]
        media = sum(int(e["object"]["media"]["tokens"]) for e, _ in inside if e["method"] == "mediaPurchase")
        seconds = sum((b - a).total_seconds() for a, b in windows)
        out.append({
            "segments": len(windows),
            "duration_seconds": sum(int((b - a).total_seconds()) for a, b in windows),
            "tokens": sum(int(t["tokens"]) for t in tips) + media, "media_tokens": media, "tip_count": len(tips),
            "biggest_tip": max((int(t["tokens"]) for t in tips), default=0),
            "chat_messages": sum(e["method"] == "chatMessage" for e, _ in inside),
            "private_messages": sum(e["method"] == "privateMessage" for e, _ in inside),
            "follows": sum(e["method"] == "follow" for e, _ in inside),
            "unique_visitors": len(visitors), "returning_visitors": len(visitors & earlier),
            "peak_viewers": peak, "avg_viewers": viewer_seconds / seconds if seconds else 0.0,
            "subjects": [e["object"]["subject"] for e, _ in inside if e["method"] == "roomSubjectChange"],
        })
        earlier |= visitors
    return out


def product(script) -> list[dict]:
    parsed = [parse_event(e, at) for e, at in zip(script.events, script.event_times, strict=True)]
    refs = [EventRef(i, p.method, p.event_time) for i, p in enumerate(parsed)]
    drafts = stitch(None, refs, merge_window=MERGE, stale_after=timedelta(hours=2))
    out, earlier = [], set()
    for d in drafts:
        events = []
        for i in d.linked:
            p = parsed[i]
            tokens = p.tip.tokens if p.tip else p.media.tokens if p.media else 0
            events.append(StatEvent(i, p.method, p.username, p.event_time, tokens, bool(p.tip and p.tip.is_anon),
                                    p.subject))
        r = rollup(events, closed_segments(d.segments, d.last_event_at), excluded=frozenset(),
                   earlier_visitors=earlier)
        keys = ("duration_seconds", "tokens", "media_tokens", "tip_count", "biggest_tip", "chat_messages",
                "private_messages", "follows", "unique_visitors", "returning_visitors", "peak_viewers",
                "avg_viewers")
        out.append({"segments": len(d.segments), **{k: r.stats[k] for k in keys},
                    "subjects": [s["subject"] for s in r.subjects]})
        earlier |= {e.username for e in events if e.method == "userEnter"}
    return out


@settings(max_examples=500, deadline=None)
@given(seed=st.integers(0, 10**6), per_day=st.floats(0.5, 4), audience=st.integers(1, 12),
       restart=st.floats(0, 1), days=st.floats(0.3, 2.5), offline=st.booleans())
def test_simulated_room_scripts_give_the_stats_counted_from_the_script(seed, per_day, audience, restart, days,
                                                                        offline):
    script = build_script(ScriptConfig(seed=seed, days=days, broadcasts_per_day=per_day, audience=audience,
                                       viewer_pool=4 * audience + 5, quirks=False, restart_probability=restart,
                                       offline_activity=offline))
    got, want = product(script), truth(script)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        # The average is a float division done two ways; it must agree to its shown precision.
        assert abs(g.pop("avg_viewers") - w.pop("avg_viewers")) <= 0.006
        assert g == w
