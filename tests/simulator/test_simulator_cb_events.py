"""An independent check: the public `cb-events` client (PyPI) consumes the simulator over TLS.

cb-events only accepts https on the two official hosts, without a port. The simulator serves
TLS with a certificate for those names from a throwaway CA, and the only thing faked is name
resolution: an aiohttp resolver maps the official host names to 127.0.0.1 and the simulator's
port (the resolver result carries the port, as an SRV lookup would). URLs, Host headers, SNI,
certificate checks and nextUrl validation are all the client's own.

Documented differences of cb-events, asserted here rather than hidden: it passes duplicates
through, drops events whose method it does not know, leaves `event.media` empty when
`media.id` is a JSON number, and does not retry HTTP 520.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import cb_events
import cb_events._client
import pytest
import trustme
from aiohttp.abc import AbstractResolver, ResolveResult
from cb_events import AuthError, ClientConfig, Event, EventClient, EventsError, ServerError

from greenroom.simulator.faults import Fault
from greenroom.simulator.script import KNOWN_METHODS, Script
from greenroom.simulator.server import SimulatorServer

HOSTS = ("eventsapi.chaturbate.com", "events.testbed.cb.dev")
FAST = ClientConfig(timeout=1, retry_backoff=0.01, retry_max_delay=0.05, retry_factor=1.5, retry_attempts=30)


class LoopbackResolver(AbstractResolver):
    """Resolves the official Events API host names to the local simulator; nothing else."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in HOSTS:
            raise OSError(f"no route to {host} in this test")
        return [ResolveResult(hostname=host, host="127.0.0.1", port=self.port, family=socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST)]

    async def close(self) -> None:
        return None


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*HOSTS).configure_cert(context)
    return context


@pytest.fixture
def tls_sim(
    small_script: Script, token: str, server_tls: ssl.SSLContext, ca: trustme.CA, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., SimulatorServer]]:
    """Start a TLS simulator and point cb-events' own HTTP session at it through DNS only."""
    started: list[SimulatorServer] = []
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)

    def start(script: Script | None = None, **options: Any) -> SimulatorServer:
        sim = SimulatorServer(script or small_script, token=token, ssl_context=server_tls, **options).start()
        started.append(sim)

        def session(**kwargs: Any) -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(resolver=LoopbackResolver(sim.port), ssl=client_tls)
            return aiohttp.ClientSession(connector=connector, **kwargs)

        monkeypatch.setattr(cb_events._client, "ClientSession", session)
        return sim

    yield start
    for sim in started:
        sim.stop()


def _official_url(token: str, host: str = HOSTS[0]) -> str:
    return f"https://{host}/events/alice/{token}/"


async def _consume(url: str, until: Callable[[list[Event]], bool], config: ClientConfig = FAST) -> list[Event]:
    received: list[Event] = []
    async with EventClient(url, config=config) as client:
        async for event in client:
            received.append(event)
            if until(received):
                break
    return received


def _distinct(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _run(coro: Any, timeout: float = 45) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.mark.parametrize("host", HOSTS)
def test_cb_events_receives_exactly_the_ids_the_simulator_served_through_retryable_faults(
    host: str, tls_sim: Callable[..., SimulatorServer], small_script: Script, token: str
) -> None:
    faults = [Fault(kind, at=(n,)) for n, kind in enumerate(
        ["429", "500", "502", "503", "521", "522", "523", "524", "waited_too_long", "duplicate", "stale_next"], 2)]
    faults.append(Fault("slow_body", at=(14,), seconds=0.5))
    sim = tls_sim(batch_limit=25, faults=faults)
    timeline = sim.timeline
    assert timeline is not None
    known = [timeline.served_id(k) for k, e in enumerate(small_script.events) if e["method"] in KNOWN_METHODS]

    events = _run(_consume(_official_url(token, host), lambda got: len({e.id for e in got}) >= len(known)))

    ids = [e.id for e in events]
    served = sim.served_events()
    assert len(served) == len(small_script)
    # cb-events drops methods it does not know; everything else matches the served truth exactly.
    assert _distinct(ids) == [e["id"] for e in served if e["method"] in KNOWN_METHODS] == known
    assert len(ids) > len(set(ids))  # duplicates are passed through, not removed
    assert {r.kind for r in sim.fault_log} == {f.kind for f in faults}


def test_cb_events_parses_payloads_with_its_documented_differences(
    tls_sim: Callable[..., SimulatorServer], make_script: Callable[..., Script], token: str
) -> None:
    script = make_script(seed=21, days=3.0, audience=40)
    sim = tls_sim(script, batch_limit=500)
    known = sum(e["method"] in KNOWN_METHODS for e in script.events)
    events = _run(_consume(_official_url(token), lambda got: len(got) >= known))
    by_id = {e["id"]: e for e in sim.served_events()}
    assert len(events) == known and len(by_id) == len(script)

    purchases = [e for e in events if e.type == cb_events.EventType.MEDIA_PURCHASE]
    numeric = [e for e in purchases if isinstance(by_id[e.id]["object"]["media"]["id"], int)]
    textual = [e for e in purchases if isinstance(by_id[e.id]["object"]["media"]["id"], str)]
    assert numeric and all(e.media is None for e in numeric)
    assert textual and all(e.media is not None and e.media.id == by_id[e.id]["object"]["media"]["id"]
                           for e in textual)
    tips = [e for e in events if e.type == cb_events.EventType.TIP]
    assert all(e.tip is not None and e.tip.tokens == int(by_id[e.id]["object"]["tip"]["tokens"]) for e in tips)
    assert any(isinstance(by_id[e.id]["object"]["tip"]["tokens"], str) for e in tips)
    pms = [e for e in events if e.type == cb_events.EventType.PRIVATE_MESSAGE]
    dms = [e for e in pms if by_id[e.id]["object"]["broadcaster"] == ""]
    assert dms and all(e.broadcaster is None and e.message is not None and e.message.is_private for e in dms)


def test_cb_events_stops_with_an_auth_error_when_the_token_is_revoked(
    tls_sim: Callable[..., SimulatorServer], token: str
) -> None:
    sim = tls_sim(batch_limit=50)

    async def scenario() -> list[Event]:
        received: list[Event] = []
        async with EventClient(_official_url(token), config=FAST) as client:
            async for event in client:
                received.append(event)
                if len(received) == 60:
                    sim.set_token("rotated")
        return received

    with pytest.raises(AuthError):
        _run(scenario())
    assert len(sim.served_ids()) >= 60


def test_cb_events_refuses_a_next_url_on_a_foreign_host(tls_sim: Callable[..., SimulatorServer], token: str) -> None:
    tls_sim(faults=[Fault("foreign_next", at=(1,))])
    with pytest.raises(EventsError, match="host is not allowed"):
        _run(_consume(_official_url(token), lambda got: False))


def test_cb_events_gives_up_on_http_520_instead_of_retrying(
    tls_sim: Callable[..., SimulatorServer], token: str
) -> None:
    # A difference Greenroom's own client must not copy: 520 is a transient Cloudflare error.
    tls_sim(faults=[Fault("520", at=(1,))])
    with pytest.raises(ServerError):
        _run(_consume(_official_url(token), lambda got: False))
