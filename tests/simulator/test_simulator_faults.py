"""Injected faults: each behaves as upstream would, and a careful retrying client loses nothing."""

from __future__ import annotations

import json
import time

import pytest

from greenroom.simulator.faults import FAULT_KINDS, STATUS_FAULTS, Fault, FaultPlan
from greenroom.simulator.probe import fetch, naive_collect, raw_get
from greenroom.simulator.script import Script
from greenroom.simulator.server import SimulatorServer

QUICK = {"slow_body": 0.6, "endless_body": 2.0}


def _fault(kind: str, **schedule: object) -> Fault:
    return Fault(kind, seconds=QUICK.get(kind), **schedule)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", list(FAULT_KINDS))
def test_a_naive_retrying_client_still_gets_every_event_through_each_fault(
    kind: str, small_script: Script, token: str
) -> None:
    with SimulatorServer(small_script, token=token, batch_limit=60, faults=[_fault(kind, at=(2, 4))]) as sim:
        got = naive_collect(sim.feed_url, expected=len(small_script), give_up=40)
        assert got.ids == sim.served_ids() == [sim.timeline.served_id(k) for k in range(len(small_script))]
        assert [(r.request, r.kind) for r in sim.fault_log] == [(2, kind), (4, kind)]
        faulted = [got.replies[1], got.replies[3]]
        if kind in STATUS_FAULTS:
            assert [r.status for r in faulted] == [int(kind)] * 2
        if kind in ("duplicate", "stale_next"):
            assert len(got.raw_ids) > len(got.ids)
        else:
            assert got.raw_ids == got.ids


def test_429_carries_retry_after_and_cloudflare_errors_carry_an_html_page(small_script: Script, token: str) -> None:
    faults = [Fault("429", at=(1,), retry_after=7), Fault("522", at=(2,)), Fault("500", at=(3,))]
    with SimulatorServer(small_script, token=token, faults=faults) as sim:
        limited, cloudflare, plain = (fetch(sim.feed_url + "?timeout=0") for _ in range(3))
        assert limited.status == 429 and limited.headers["Retry-After"] == "7"
        assert cloudflare.status == 522 and b"522: Connection timed out" in cloudflare.body
        assert cloudflare.headers["Content-Type"].startswith("text/html")
        assert plain.status == 500
        assert sim.served_ids() == []


def test_the_waited_too_long_form_is_a_400_with_a_same_cursor_next_url(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, batch_limit=10, faults=[Fault("waited_too_long", at=(2,))]) as sim:
        first = fetch(sim.feed_url + "?timeout=0").json()
        reply = fetch(first["nextUrl"])
        body = reply.json()
        assert reply.status == 400
        assert "waited too long" in body["status"].lower()
        assert body["events"] == [] and body["nextUrl"] == first["nextUrl"]


def test_a_slow_body_sends_headers_then_trickles_the_body(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, faults=[Fault("slow_body", at=(1,), seconds=1.0)]) as sim:
        data, elapsed, closed = raw_get(sim.port, f"/events/alice/{token}/?timeout=0", read_for=5)
        head, _, body = data.partition(b"\r\n\r\n")
        assert closed and b"200 OK" in head and 0.8 < elapsed < 4
        assert len(json.loads(body)["events"]) == 100


def test_duplicate_delivery_re_sends_events_already_delivered(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, batch_limit=20, faults=[Fault("duplicate", at=(2,))]) as sim:
        first = fetch(sim.feed_url + "?timeout=0").json()
        second = fetch(first["nextUrl"]).json()
        first_ids = [e["id"] for e in first["events"]]
        second_ids = [e["id"] for e in second["events"]]
        assert second_ids[:10] == first_ids[-10:]
        assert len(second_ids) == 20 and second["nextUrl"].endswith(f"i={second_ids[-1]}&timeout=0")


def test_a_stale_next_url_makes_the_next_poll_repeat_the_batch(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, batch_limit=20, faults=[Fault("stale_next", at=(2,))]) as sim:
        first = fetch(sim.feed_url + "?timeout=0").json()
        second = fetch(first["nextUrl"]).json()
        third = fetch(second["nextUrl"]).json()
        assert second["nextUrl"] == first["nextUrl"] and second["events"] == third["events"] != []


def test_a_truncated_body_is_invalid_json_and_delivers_nothing(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, faults=[Fault("truncated", at=(1,))]) as sim:
        reply = fetch(sim.feed_url + "?timeout=0")
        assert reply.status == 200
        with pytest.raises(ValueError):
            json.loads(reply.body)
        assert sim.served_ids() == []


def test_an_endless_body_never_completes_and_the_server_bounds_it(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, faults=[Fault("endless_body", next=2, seconds=1.5)]) as sim:
        reply = fetch(sim.feed_url + "?timeout=0", deadline=1.0)
        assert reply.status is None and reply.error == "deadline" and reply.body.startswith(b'{"events": [')
        data, elapsed, closed = raw_get(sim.port, f"/events/alice/{token}/?timeout=0", read_for=6)
        assert closed and 1.2 < elapsed < 4  # the server gave up on its own
        assert sim.served_ids() == []


def test_a_foreign_next_url_points_at_another_host_and_delivers_nothing(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, faults=[Fault("foreign_next", at=(1,))]) as sim:
        body = fetch(sim.feed_url + "?timeout=0").json()
        assert body["events"] == [] and ".attacker.invalid" in body["nextUrl"]
        got = naive_collect(sim.feed_url, expected=len(small_script))
        assert len(got.ids) == len(small_script) and got.refused_next == []


def test_a_disconnect_closes_the_connection_without_a_response(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token, faults=[Fault("disconnect", at=(1,))]) as sim:
        data, _, closed = raw_get(sim.port, f"/events/alice/{token}/?timeout=0", read_for=3)
        assert closed and data == b""


def test_probability_faults_are_deterministic_for_a_seed() -> None:
    def fired(seed: int) -> list[int]:
        plan = FaultPlan(seed)
        plan.add(Fault("503", p=0.3))
        return [n for n in range(1, 200) if plan.pick(n, None)]

    assert fired(1) == fired(1) != fired(2)
    assert 30 < len(fired(1)) < 90


def test_next_k_faults_hit_the_requests_right_after_they_are_added(small_script: Script, token: str) -> None:
    with SimulatorServer(small_script, token=token) as sim:
        assert fetch(sim.feed_url + "?timeout=0").status == 200
        sim.add_faults(Fault("503", next=2))
        assert [fetch(sim.feed_url + "?timeout=0").status for _ in range(3)] == [503, 503, 200]
        sim.add_faults(Fault("500", p=1.0))
        assert fetch(sim.feed_url + "?timeout=0").status == 500
        sim.clear_faults()
        assert fetch(sim.feed_url + "?timeout=0").status == 200
        assert [r.request for r in sim.fault_log] == [2, 3, 5]


def test_fault_specs_parse_like_the_command_line_writes_them() -> None:
    assert Fault.parse("429:p=0.25:retry_after=3") == Fault("429", p=0.25, retry_after=3)
    assert Fault.parse("500:at=3,7") == Fault("500", at=(3, 7))
    assert Fault.parse("endless_body:next=1:seconds=5") == Fault("endless_body", next=1, seconds=5.0)
    assert Fault.parse("truncated").p == 0.1
    for bad in ("teapot", "500:at", "500:often=1", "500:p=2"):
        with pytest.raises(ValueError):
            Fault.parse(bad)


def test_a_fault_run_replays_identically_with_the_same_seed(small_script: Script, token: str) -> None:
    def run() -> list[tuple[int, str]]:
        faults = [Fault("503", p=0.2), Fault("duplicate", p=0.2)]
        with SimulatorServer(small_script, token=token, batch_limit=50, faults=faults, seed=9) as sim:
            naive_collect(sim.feed_url, expected=len(small_script))
            return [(r.request, r.kind) for r in sim.fault_log]

    began = time.monotonic()
    assert run() == run()
    assert time.monotonic() - began < 20
