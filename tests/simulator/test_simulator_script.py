"""The generated room script: deterministic, realistic, and carrying the upstream quirks."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from greenroom.simulator.script import KNOWN_METHODS, Script, ScriptConfig, build_script

WEEK = ScriptConfig(seed=7, days=7.0)
MINUTES_30 = timedelta(minutes=30)


@pytest.fixture(scope="module")
def week() -> Script:
    return build_script(WEEK)


def _users(script: Script, method: str | None = None) -> list[dict]:
    return [e["object"]["user"] for e in script.events if "user" in e["object"]
            and (method is None or e["method"] == method)]


def test_the_same_seed_and_config_give_a_byte_identical_script(week: Script) -> None:
    assert build_script(WEEK).dumps() == week.dumps()


def test_a_different_seed_gives_a_different_script(week: Script) -> None:
    assert build_script(ScriptConfig(seed=8, days=7.0)).dumps() != week.dumps()


def test_ids_carry_epoch_milliseconds_and_strictly_increase(week: Script) -> None:
    keys = [tuple(int(part) for part in e["id"].split("-")) for e in week.events]
    assert all(a < b for a, b in zip(keys, keys[1:], strict=False))
    assert [k[0] for k in keys] == week.times_ms
    assert week.event_times[0] == WEEK.start
    assert week.event_times[0] == datetime.fromtimestamp(keys[0][0] / 1000, UTC)


def test_every_envelope_has_method_id_and_an_object_with_the_broadcaster(week: Script) -> None:
    for event in week.events:
        assert list(event) == ["method", "id", "object"]
        assert "broadcaster" in event["object"]
        if event["method"] not in ("roomSubjectChange",):
            assert event["object"]["user"]["username"]
    subjects = [e for e in week.events if e["method"] == "roomSubjectChange"]
    assert subjects and all("user" not in e["object"] and e["object"]["subject"] for e in subjects)


def test_broadcast_start_and_stop_carry_the_broadcaster_as_user(week: Script) -> None:
    edges = [e for e in week.events if e["method"] in ("broadcastStart", "broadcastStop")]
    assert len(edges) == 2 * len(week.broadcasts)
    assert all(e["object"]["user"]["username"] == "alice" == e["object"]["broadcaster"] for e in edges)
    assert [e["method"] for e in edges] == ["broadcastStart", "broadcastStop"] * len(week.broadcasts)


def test_broadcasts_last_one_to_four_hours_with_hundreds_of_distinct_viewers(week: Script) -> None:
    assert len(week.broadcasts) >= 5
    for start, stop in week.broadcasts:
        assert timedelta(hours=1) <= stop - start <= timedelta(hours=4)
    assert min(week.viewers) >= 100 and max(week.viewers) >= 300


def test_viewers_come_back_and_concurrency_varies_over_a_broadcast(week: Script) -> None:
    start, stop = week.broadcasts[0]
    inside = [(e, t) for e, t in zip(week.events, week.event_times, strict=True) if start <= t <= stop]
    enters = Counter(e["object"]["user"]["username"].lower() for e, _ in inside if e["method"] == "userEnter")
    assert any(n >= 2 for n in enters.values())
    present: set[str] = set()
    samples = []
    for event, _ in inside:
        name = event["object"].get("user", {}).get("username", "").lower()
        if event["method"] == "userEnter":
            present.add(name)
        elif event["method"] == "userLeave":
            present.discard(name)
        samples.append(len(present))
    assert max(samples) >= 30 and max(samples) - min(samples[len(samples) // 2 :]) >= 10


def test_viewers_only_act_while_present_in_the_room(week: Script) -> None:
    present: dict[str, int] = defaultdict(int)
    live = False
    for event in week.events:
        method, obj = event["method"], event["object"]
        name = obj.get("user", {}).get("username", "").lower()
        if method == "broadcastStart":
            live = True
        elif method == "broadcastStop":
            live = False
        elif method == "userEnter":
            present[name] += 1
        elif method == "userLeave":
            present[name] -= 1
        elif live and method in ("chatMessage", "tip", "fanclubJoin") and name != "alice":
            assert present[name] > 0, event["id"]


def test_a_restart_follows_a_stop_within_thirty_minutes(week: Script) -> None:
    assert week.restarts
    for index in week.restarts:
        assert week.broadcasts[index][0] - week.broadcasts[index - 1][1] <= MINUTES_30
    gaps = [b[0] - a[1] for a, b in zip(week.broadcasts, week.broadcasts[1:], strict=False)]
    assert any(gap > timedelta(hours=2) for gap in gaps)


def test_a_restart_is_guaranteed_with_two_broadcasts_even_at_zero_probability() -> None:
    script = build_script(ScriptConfig(seed=3, days=2.0, restart_probability=0.0, audience=30))
    assert len(script.broadcasts) >= 2 and script.restarts == [1]


def test_the_population_has_regulars_one_offs_and_visiting_models(week: Script) -> None:
    visits = Counter()
    for start, stop in week.broadcasts:
        names = {e["object"]["user"]["username"].lower() for e, t in zip(week.events, week.event_times, strict=True)
                 if e["method"] == "userEnter" and start <= t <= stop}
        visits.update(names)
    n = len(week.broadcasts)
    assert sum(1 for c in visits.values() if c >= n - 1) >= 10
    assert sum(1 for c in visits.values() if c == 1) >= len(visits) // 3
    assert any(u.get("isBroadcasting") for u in _users(week, "userEnter"))


def test_private_messages_flow_both_ways_and_dms_outside_broadcasts_have_an_empty_broadcaster(week: Script) -> None:
    pms = [e["object"] for e in week.events if e["method"] == "privateMessage"]
    to_owner = [o for o in pms if o["message"]["toUser"] == "alice"]
    from_owner = [o for o in pms if o["message"]["fromUser"] == "alice"]
    assert to_owner and from_owner and len(to_owner) + len(from_owner) == len(pms)
    assert all(o["user"]["username"] == o["message"]["fromUser"] for o in pms)
    dms = [o for o in pms if o["broadcaster"] == ""]
    assert any(o["message"]["toUser"] == "alice" for o in dms) and any(o["message"]["fromUser"] == "alice" for o in dms)


def test_tips_include_anonymous_big_noted_and_pipe_prefixed_ones(week: Script) -> None:
    tips = [e["object"] for e in week.events if e["method"] == "tip"]
    amounts = [int(t["tip"]["tokens"]) for t in tips]
    assert min(amounts) >= 1 and max(amounts) >= 1000 and sum(a >= 500 for a in amounts) >= 3
    anon = [t for t in tips if t["tip"]["isAnon"]]
    assert anon and all(t["user"]["username"] for t in anon)
    notes = [t["tip"]["message"] for t in tips]
    assert "" in notes and any(n.startswith("| ") for n in notes) and any(n and not n.startswith("| ") for n in notes)


def test_chat_carries_html_emoji_other_scripts_and_multi_kilobyte_lines(week: Script) -> None:
    lines = [e["object"]["message"]["message"] for e in week.events if e["method"] == "chatMessage"]
    assert "<script>alert(1)</script>" in lines and "<img src=x onerror=alert(1)>" in lines
    assert any("<b>" in line for line in lines)
    assert any(any(ord(ch) > 0xFFFF for ch in line) for line in lines)  # emoji outside the BMP
    assert any("привет" in line for line in lines)
    assert any(len(line.encode()) > 2000 for line in lines)
    chat_users = {e["object"]["user"]["username"] for e in week.events if e["method"] == "chatMessage"}
    assert "alice" in chat_users


def test_follows_fanclub_joins_and_media_purchases_happen(week: Script) -> None:
    methods = Counter(e["method"] for e in week.events)
    assert methods["follow"] and methods["unfollow"] and methods["fanclubJoin"]
    media = [e["object"]["media"] for e in week.events if e["method"] == "mediaPurchase"]
    assert {m["type"] for m in media} == {"photos", "video"}


def test_offline_visits_happen_between_broadcasts(week: Script) -> None:
    def offline(t: datetime) -> bool:
        return not any(a <= t <= b + timedelta(minutes=2) for a, b in week.broadcasts)

    offline_enters = [e for e, t in zip(week.events, week.event_times, strict=True)
                      if e["method"] == "userEnter" and offline(t)]
    assert offline_enters and all(e["object"]["broadcaster"] == "alice" for e in offline_enters)


def test_quirks_appear_when_enabled(week: Script) -> None:
    tips = [e["object"]["tip"]["tokens"] for e in week.events if e["method"] == "tip"]
    assert any(isinstance(t, str) for t in tips) and any(isinstance(t, int) for t in tips)
    media_ids = [e["object"]["media"]["id"] for e in week.events if e["method"] == "mediaPurchase"]
    assert any(isinstance(i, str) for i in media_ids) and any(isinstance(i, int) for i in media_ids)
    users = _users(week)
    assert any(set(u) == {"username"} or len(u) < 10 for u in users)
    names = {u["username"] for u in users}
    assert any(n != n.lower() and n.lower() in names for n in names)  # "CoolGuy" and "coolguy"
    assert any(e["method"] not in KNOWN_METHODS for e in week.events)


def test_without_quirks_payloads_are_clean() -> None:
    script = build_script(ScriptConfig(seed=7, days=3.0, quirks=False, audience=80))
    assert all(e["method"] in KNOWN_METHODS for e in script.events)
    assert all(isinstance(e["object"]["tip"]["tokens"], int) for e in script.events if e["method"] == "tip")
    assert all(isinstance(e["object"]["media"]["id"], int) for e in script.events if e["method"] == "mediaPurchase")
    assert all(len(u) >= 12 for u in _users(script) if u["username"] != "alice")


def test_a_target_event_count_generates_broadcasts_until_it_is_reached() -> None:
    script = build_script(ScriptConfig(seed=5, days=0.5, target_events=20_000))
    assert 20_000 <= len(script) < 30_000
    assert script.events[-1]["method"] in ("broadcastStop", "userLeave")
    assert len(script.broadcasts) >= 5


def test_a_forced_broadcast_start_lands_exactly_where_asked() -> None:
    at = datetime(2025, 8, 9, 20, 0, tzinfo=UTC)
    script = build_script(ScriptConfig(seed=2, days=8.0, broadcast_at=at, audience=50))
    assert at in [start for start, _ in script.broadcasts]


def test_a_naive_start_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ScriptConfig(start=datetime(2025, 1, 1))


def test_a_hundred_thousand_events_generate_in_seconds() -> None:
    began = time.perf_counter()
    script = build_script(ScriptConfig(seed=1, target_events=100_000))
    assert len(script) >= 100_000
    assert time.perf_counter() - began < 15
