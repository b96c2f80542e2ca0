"""The simulator's HTTP protocol, checked over real loopback connections."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from greenroom.simulator.cli import start_demo_simulator
from greenroom.simulator.probe import fetch, naive_collect
from greenroom.simulator.script import Script
from greenroom.simulator.server import SimulatorServer


def _cursor(url: str) -> str | None:
    return parse_qs(urlsplit(url).query).get("i", [None])[0]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_following_next_url_delivers_every_event_exactly_once_in_order(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, batch_limit=40) as sim:
        got = naive_collect(sim.feed_url, expected=len(small_script))
        assert got.ids == got.raw_ids == sim.served_ids()
        assert len(got.ids) == len(small_script)
        assert [e["id"] for e in sim.served_events()] == got.ids
        sizes = [len(r.json()["events"]) for r in got.replies if r.status == 200]
        assert max(sizes) == 40
        # The ids are the script's, shifted as a whole onto the wall clock.
        shift = int(got.ids[0].split("-")[0]) - small_script.times_ms[0]
        assert [f"{t + shift}-{i.split('-')[1]}" for t, i in zip(small_script.times_ms, small_script.ids,
                                                                 strict=True)] == got.ids


def test_instant_speed_puts_the_last_event_just_before_now(small_script: Script, token: str) -> None:
    before = _now_ms()
    with SimulatorServer(small_script, token=token, batch_limit=1000) as sim:
        events = fetch(sim.feed_url + "?timeout=0").json()["events"]
        last_ms = int(events[-1]["id"].split("-")[0])
        assert before - 5_000 <= last_ms <= _now_ms()
        assert len(events) == len(small_script)


def test_the_first_call_returns_a_backlog_of_the_last_available_events(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, backlog=25) as sim:
        data = fetch(sim.feed_url + "?timeout=0").json()
        assert len(data["events"]) == 25
        assert data["events"][-1]["id"] == sim.timeline.served_id(len(small_script) - 1)
        assert _cursor(data["nextUrl"]) == data["events"][-1]["id"]
        assert parse_qs(urlsplit(data["nextUrl"]).query)["timeout"] == ["0"]


def test_an_empty_backlog_pins_the_position_without_delivering(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, backlog=0) as sim:
        data = fetch(sim.feed_url + "?timeout=0").json()
        assert data["events"] == [] and _cursor(data["nextUrl"]) == sim.timeline.served_id(len(small_script) - 1)
        assert sim.served_ids() == []


def test_the_long_poll_waits_for_the_timeout_and_keeps_the_cursor_when_nothing_is_new(
    small_script: Script, token: str
) -> None:
    with SimulatorServer(small_script, token=token, batch_limit=1000) as sim:
        first = fetch(sim.feed_url + "?timeout=0").json()
        reply = fetch(first["nextUrl"].replace("timeout=0", "timeout=1"))
        assert reply.status == 200 and reply.json()["events"] == []
        assert 0.9 <= reply.elapsed < 3
        assert _cursor(reply.json()["nextUrl"]) == _cursor(first["nextUrl"])


def test_the_long_poll_returns_early_when_an_event_becomes_available(make_script, token: str) -> None:
    script = make_script(seed=4)
    # History up to just after event 10; event 10 arrives 0.8 s later at this speed.
    gap_ms = script.times_ms[10] - script.times_ms[9]
    live_from = datetime.fromtimestamp((script.times_ms[9] + 1) / 1000, UTC)
    speed = max(gap_ms, 1) / 800
    with SimulatorServer(script, token=token, speed=speed, live_from=live_from) as sim:
        first = fetch(sim.feed_url + "?timeout=0").json()
        assert len(first["events"]) == 10
        began = time.monotonic()
        reply = fetch(first["nextUrl"].replace("timeout=0", "timeout=20"), deadline=25)
        assert reply.json()["events"][0]["id"] == sim.timeline.served_id(10)
        assert 0.5 < time.monotonic() - began < 5


def test_a_speed_factor_releases_events_progressively_on_the_virtual_clock(make_script, token: str) -> None:
    script = make_script(seed=5)
    speed = 3600.0  # an hour of room time per second
    started = _now_ms()
    with SimulatorServer(script, token=token, speed=speed, batch_limit=1000) as sim:
        early = fetch(sim.feed_url + "?timeout=0").json()["events"]
        assert 1 <= len(early) < len(script)
        time.sleep(1.0)
        later = fetch(sim.feed_url + "?timeout=0").json()["events"]
        assert len(later) > len(early)
        first_ms = int(later[0]["id"].split("-")[0])
        assert abs(first_ms - started) < 2_000  # the first event is "now"
        offset = script.times_ms[len(later) - 1] - script.times_ms[0]
        assert offset <= (_now_ms() - started) * speed


def test_live_from_serves_history_at_once_and_the_rest_as_it_happens(make_script, token: str) -> None:
    script = make_script(seed=6)
    live_from = script.broadcasts[1][0]
    with SimulatorServer(script, token=token, speed=1.0, live_from=live_from, batch_limit=1000) as sim:
        events = fetch(sim.feed_url + "?timeout=0").json()["events"]
        assert events[-1]["method"] == "broadcastStart"
        assert len(events) == script.event_times.index(live_from) + 1
        assert abs(int(events[-1]["id"].split("-")[0]) - _now_ms()) < 2_000


def test_timeout_defaults_to_ten_and_is_clamped_to_ninety(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token) as sim:
        assert "timeout=10" in fetch(sim.feed_url).json()["nextUrl"]
        assert "timeout=90" in fetch(sim.feed_url + "?timeout=500").json()["nextUrl"]
        assert "timeout=0" in fetch(sim.feed_url + "?timeout=-3").json()["nextUrl"]
        assert "timeout=10" in fetch(sim.feed_url + "?timeout=inf").json()["nextUrl"]


def test_a_wrong_token_is_401_and_a_wrong_username_is_404(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token) as sim:
        bad_token = fetch(sim.feed_url.replace(token, "nope") + "?timeout=0")
        bad_user = fetch(sim.feed_url.replace("/alice/", "/bob/") + "?timeout=0")
        assert bad_token.status == 401 and "status" in bad_token.json()
        assert bad_user.status == 404
        assert fetch(sim.feed_url.replace("/alice/", "/ALICE/") + "?timeout=0").status == 200
        assert sim.served_ids()


def test_revoking_the_token_ends_a_waiting_poll_with_401(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, batch_limit=1000) as sim:
        following = fetch(sim.feed_url + "?timeout=0").json()["nextUrl"].replace("timeout=0", "timeout=30")
        threading.Timer(0.5, sim.set_token, args=("rotated",)).start()
        reply = fetch(following, deadline=10)
        assert reply.status == 401 and reply.elapsed < 5
        assert fetch(following.replace(token, "rotated").replace("timeout=30", "timeout=0")).status == 200


def test_truth_and_health_endpoints_describe_what_was_served(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, backlog=10) as sim:
        origin = sim.feed_url.split("/events/")[0]
        assert fetch(origin + "/_sim/health").json() == {"status": "ok"}
        fetch(sim.feed_url + "?timeout=0")
        truth = fetch(origin + "/_sim/truth").json()
        assert truth["script_count"] == len(small_script)
        assert truth["served"] == sim.served_ids() and len(truth["served"]) == 10
        assert token not in json.dumps(truth)


def test_nothing_the_server_prints_or_logs_contains_the_token(
    small_script: Script, token: str, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    with SimulatorServer(small_script, token=token) as sim:
        fetch(sim.feed_url + "?timeout=0")
        fetch(sim.feed_url.replace("/events/", "/nope/"))
        fetch(sim.feed_url + "?timeout=zz&i=garbage")
        with socket.create_connection(("127.0.0.1", sim.port)) as sock:
            sock.sendall(f"BREW /events/alice/{token}/ HTTP/1.1\r\n\r\n".encode())
            sock.recv(1000)
    out, err = capfd.readouterr()
    assert token not in out + err + caplog.text


def test_two_clients_polling_at_once_both_get_everything(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, batch_limit=30) as sim:
        results: list[list[str]] = []
        threads = [threading.Thread(target=lambda: results.append(
            naive_collect(sim.feed_url, expected=len(small_script)).ids)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(results) == 2 and results[0] == results[1] == sim.served_ids()


def test_the_demo_has_a_week_of_history_and_a_broadcast_going_live_now() -> None:
    sim = start_demo_simulator(seed=1, speed=5.0, live_days=1.0)
    try:
        tl = sim.timeline
        available = tl.available(time.monotonic())
        history = sim.script.event_times[: available]
        assert history[-1] - history[0] >= timedelta(days=6)
        live = sim.script.events[available - 1]
        assert live["method"] == "broadcastStart"
        assert abs(int(tl.served_id(available - 1).split("-")[0]) - _now_ms()) < 3_000
        assert len(sim.script) > available  # and more is to come, flowing from now
        assert sim.feed_url.startswith("http://127.0.0.1:")
    finally:
        sim.stop()
