"""The ``greenroom`` command. Feature modules add their own commands through ``register(app)``."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="greenroom",
    help="Greenroom: streaming intelligence and relationship memory for a Chaturbate broadcaster.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines `register(app: typer.Typer) -> None`.
CLI_MODULES = [
    "greenroom.jobs.cli",
    "greenroom.runtime",
    "greenroom.simulator.cli",
    "greenroom.sessions.cli",
    "greenroom.maintenance.cli",
    "greenroom.web.cli",
    "greenroom.imports.cli",
    "greenroom.backup.cli",
    "greenroom.statsapi.cli",
]

for _module in CLI_MODULES:
    importlib.import_module(_module).register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
