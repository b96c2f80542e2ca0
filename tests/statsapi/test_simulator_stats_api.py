"""The simulator's Stats API over real loopback HTTP: the feed's token, values that agree with the
room script, and the faults tests use."""

from __future__ import annotations

import time

import httpx2
import pytest

from greenroom.simulator.script import ScriptConfig, build_script
from greenroom.simulator.server import SimulatorServer
from tests.statsapi.conftest import TOKEN


def _ints(script, upto, method):
    return sum(1 for e in script.events[:upto] if e["method"] == method)


def test_values_follow_the_room_script(sim):
    body = httpx2.get(sim.stats_url, timeout=5).json()
    assert body["username"] == "alice"
    assert set(body) >= {"token_balance", "tips_in_last_hour", "votes_up", "votes_down", "satisfaction_score",
                         "last_broadcast", "time_online", "num_followers", "num_viewers", "num_registered_viewers",
                         "num_tokened_viewers"}
    # The room went live "now": broadcasting, with registered viewers and guests on top.
    assert body["time_online"] >= 0
    assert body["num_viewers"] >= body["num_registered_viewers"] >= body["num_tokened_viewers"] >= 0
    assert 0 <= body["satisfaction_score"] <= 100
    time.sleep(1.5)  # 90 script seconds at 60x: the room fills and tips arrive
    later = httpx2.get(sim.stats_url, timeout=5).json()
    assert later["token_balance"] >= body["token_balance"]
    assert later["num_registered_viewers"] > 0


def test_followers_and_balance_are_the_script_totals_at_the_end():
    script = build_script(ScriptConfig(seed=5, days=1.0))
    with SimulatorServer(script, token=TOKEN, speed="instant", seed=5) as server:
        body = httpx2.get(server.stats_url, timeout=5).json()
    n = len(script.events)
    follows = _ints(script, n, "follow") - _ints(script, n, "unfollow")
    assert body["num_followers"] == server.stats.base_followers + follows
    tips = sum(int(str(e["object"]["tip"]["tokens"])) for e in script.events if e["method"] == "tip")
    media = sum(int(str(e["object"]["media"]["tokens"])) for e in script.events if e["method"] == "mediaPurchase")
    assert body["token_balance"] == server.stats.base_balance + tips + media
    # The script ends offline: nobody in the room, and the time of the last stop.
    assert body["time_online"] == -1
    assert body["num_viewers"] == 0
    assert body["last_broadcast"] != -1


def test_the_feed_token_is_required_and_the_user_must_match(sim):
    wrong = httpx2.get(sim.stats_url.replace(TOKEN, "x" * 24), timeout=5)
    assert wrong.status_code == 401
    other = httpx2.get(sim.stats_url.replace("username=alice", "username=bob"), timeout=5)
    assert other.status_code == 404


@pytest.mark.parametrize(("kind", "check"), [
    ("401", lambda r: r.status_code == 401),
    ("503", lambda r: r.status_code == 503),
    ("429", lambda r: r.status_code == 429 and r.headers["Retry-After"] == "1"),
    ("malformed", lambda r: r.status_code == 200 and r.text.startswith("{") and not r.text.endswith("}")),
    ("not_object", lambda r: isinstance(r.json(), list)),
    ("strings", lambda r: isinstance(r.json()["num_followers"], str)),
    ("missing", lambda r: set(r.json()) == {"username", "num_viewers", "num_followers"}),
    ("empty", lambda r: r.json() == {}),
])
def test_faults_apply_to_the_next_requests_then_stop(sim, kind, check):
    sim.stats.add_fault(kind, 1)
    assert check(httpx2.get(sim.stats_url, timeout=5))
    assert httpx2.get(sim.stats_url, timeout=5).status_code == 200
    with pytest.raises(ValueError, match="unknown Stats API fault"):
        sim.stats.add_fault("teapot")
