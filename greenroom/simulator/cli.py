"""`greenroom simulate`: run a local, protocol-compatible Events API feed.

Also `start_demo_simulator`, which gives a fresh install something to show without any
credentials: a week of history served at once, then a broadcast going live right now.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta

import typer

from .faults import FAULT_KINDS, Fault
from .script import ScriptConfig, build_script
from .server import SimulatorServer
from .stats import STATS_FAULT_KINDS
from .timeline import Speed, parse_speed

DEMO_BROADCASTS_PER_DAY = 2.0


def start_demo_simulator(
    seed: int = 0,
    speed: float = 5.0,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    username: str = "alice",
    token: str | None = None,
    history_days: float = 7.0,
    live_days: float | None = None,
    faults: list[Fault] | None = None,
    batch_limit: int = 100,
) -> SimulatorServer:
    """Start (and return) a simulator with history in the past and a broadcast starting now.

    History is available immediately (the first poll's backlog); from "now" the script flows at
    `speed` times real time, with enough further broadcasts to keep going for about three real
    days. Live ids carry the wall-clock time each event becomes available (script gaps divided by
    `speed`), so the demo's sessions stop, wait out the merge window and finalize in real time.
    """
    now = datetime.now(UTC).replace(microsecond=0)
    live_days = live_days if live_days is not None else min(30.0, max(2.0, 3.0 * speed))
    config = ScriptConfig(
        seed=seed,
        broadcaster=username,
        start=now - timedelta(days=history_days),
        days=history_days + live_days,
        broadcasts_per_day=DEMO_BROADCASTS_PER_DAY,
        broadcast_at=now,
    )
    server = SimulatorServer(
        build_script(config),
        username=username,
        token=token or secrets.token_urlsafe(18),
        speed=speed,
        backlog=None,
        batch_limit=batch_limit,
        faults=faults,
        host=host,
        port=port,
        seed=seed,
        live_from=now,
        wall_clock_ids=True,
    )
    return server.start()


def _speed(value: str) -> Speed:
    try:
        return parse_speed(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def simulate(
    seed: int = typer.Option(0, "--seed", help="Seed of the generated room script (same seed, same events)."),
    port: int = typer.Option(8765, "--port", help="Port to listen on (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    username: str = typer.Option("alice", "--username", help="Broadcaster username in the feed URL."),
    token: str | None = typer.Option(None, "--token", help="Feed token (default: a random one)."),
    speed: str = typer.Option(
        "instant", "--speed", help="'instant' (all history at once), 'realtime', or a factor like 60."
    ),
    days: float = typer.Option(7.0, "--days", help="Days of room activity to generate."),
    backlog: int | None = typer.Option(
        None, "--backlog", help="Events returned by a first call without a cursor (default: all)."
    ),
    batch_limit: int = typer.Option(100, "--batch-limit", help="Most events per response."),
    fault: list[str] | None = typer.Option(
        None,
        "--fault",
        help="Inject failures: KIND[:p=0.1|:at=3,7|:next=2][:seconds=S]. Repeatable. Kinds: "
        + ", ".join(FAULT_KINDS),
    ),
    demo: bool = typer.Option(
        False, "--demo", help="A week of history at once, then a broadcast going live now (speed default 5)."
    ),
    stats_fault: list[str] | None = typer.Option(
        None, "--stats-fault", help="Make the Stats API fail: KIND or KIND:N (next N requests). Repeatable. Kinds: "
        + ", ".join(STATS_FAULT_KINDS),
    ),
) -> None:
    """Serve a simulated Chaturbate Events API feed until Ctrl-C."""
    try:
        faults = [Fault.parse(spec) for spec in fault or []]
    except (TypeError, ValueError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from None
    chosen = _speed(speed)
    if demo:
        server = start_demo_simulator(
            seed, 5.0 if chosen == "instant" else float(chosen), host=host, port=port,
            username=username, token=token, history_days=days, faults=faults, batch_limit=batch_limit,
        )
    else:
        # The script keeps its fixed default start (same seed, same script on every run); the
        # server re-anchors it onto the wall clock when it starts.
        config = ScriptConfig(seed=seed, broadcaster=username, days=days)
        server = SimulatorServer(
            build_script(config), username=username, token=token or secrets.token_urlsafe(18),
            speed=chosen, backlog=backlog, batch_limit=batch_limit, faults=faults,
            host=host, port=port, seed=seed,
        ).start()
    try:
        for spec in stats_fault or []:
            kind, _, times = spec.strip().partition(":")
            server.stats.add_fault(kind.strip().lower(), int(times) if times.strip() else None)
    except ValueError as exc:
        server.stop()
        raise typer.BadParameter(str(exc), param_hint="--stats-fault") from None
    script = server.script
    typer.echo(
        f"Simulating {len(script.events)} events over {len(script.broadcasts)} broadcasts "
        f"(seed {seed}, speed {speed if not demo else 'demo'})."
    )
    for item in faults:
        typer.echo(f"Fault: {item.kind}")
    # The one place the token is shown: the user needs this URL to point Greenroom at the feed.
    typer.echo(f"GREENROOM_EVENTS_URL={server.feed_url}")
    stats = server.stats_url.rsplit("&token=", 1)[0]
    typer.echo(f"Stats API (same token): GREENROOM_STATS_URL={stats}&token=<the token above>")
    try:
        _wait_forever()
    except KeyboardInterrupt:
        typer.echo("Stopping.")
    finally:
        server.stop()


def _wait_forever() -> None:
    threading.Event().wait()


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
