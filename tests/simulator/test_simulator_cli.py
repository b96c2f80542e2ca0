"""The `simulate` command, registered on a throwaway Typer app."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from greenroom.simulator import cli
from greenroom.simulator.probe import fetch


def _interrupt_at_once() -> None:
    """Stands in for waiting forever: behaves as if Ctrl-C came right away."""
    raise KeyboardInterrupt


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Greenroom."""

    cli.register(app)
    return app


def test_simulate_prints_the_feed_url_once_and_stops_on_ctrl_c(
    app: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[cli.SimulatorServer] = []
    real_start = cli.SimulatorServer.start

    def spying_start(self: cli.SimulatorServer) -> cli.SimulatorServer:
        started.append(self)
        return real_start(self)

    monkeypatch.setattr(cli.SimulatorServer, "start", spying_start)
    monkeypatch.setattr(cli, "_wait_forever", _interrupt_at_once)
    result = CliRunner().invoke(
        app, ["simulate", "--port", "0", "--token", "tok-123", "--days", "1", "--fault", "503:at=1", "--backlog", "5"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("tok-123") == 1
    line = next(x for x in result.output.splitlines() if x.startswith("GREENROOM_EVENTS_URL="))
    assert line.endswith("/events/alice/tok-123/") and "Fault: 503" in result.output
    assert started and started[0].backlog == 5 and started[0]._httpd is None  # stopped on the way out


def test_the_served_feed_works_while_the_command_runs(app: typer.Typer, monkeypatch: pytest.MonkeyPatch) -> None:
    statuses: list[int | None] = []
    servers: list[cli.SimulatorServer] = []
    real_start = cli.SimulatorServer.start

    def spying_start(self: cli.SimulatorServer) -> cli.SimulatorServer:
        servers.append(self)
        return real_start(self)

    def poll_then_interrupt() -> None:
        url = servers[0].feed_url + "?timeout=0"
        statuses.extend(fetch(url).status for _ in range(2))
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.SimulatorServer, "start", spying_start)
    monkeypatch.setattr(cli, "_wait_forever", poll_then_interrupt)
    result = CliRunner().invoke(app, ["simulate", "--port", "0", "--days", "1", "--fault", "503:at=1"])
    assert result.exit_code == 0, result.output
    assert statuses == [503, 200]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--fault", "teapot"], "unknown fault kind"), (["--speed", "fast"], "speed must be")],
)
def test_bad_options_are_refused_with_a_clear_message(app: typer.Typer, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["simulate", "--port", "0", *args])
    assert result.exit_code == 2
    assert message in result.output
