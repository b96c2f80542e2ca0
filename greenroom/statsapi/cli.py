"""``greenroom stats sample`` (take one Stats API sample now) and ``greenroom stats latest``."""

from __future__ import annotations

import json
from typing import Any

import typer

from greenroom.config import get_settings, register_secrets
from greenroom.db.engine import Database
from greenroom.errors import GreenroomError
from greenroom.jobs.runner import JobFailed, run_now
from greenroom.logs import configure_logging
from greenroom.statsapi import queries

stats_app = typer.Typer(help="Stats API samples: viewers, followers, token balance, satisfaction.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Adds this feature's commands to ``app``."""
    app.add_typer(stats_app, name="stats")


def _open() -> tuple[Any, Database]:
    try:
        settings = get_settings()
    except GreenroomError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(2) from None
    register_secrets(settings)
    configure_logging(settings.log_level, settings.log_json)
    return settings, Database(settings.sqlalchemy_url)


@stats_app.command("sample")
def sample() -> None:
    """Take the sample of the current 5-minute slot now (recorded as a run of statsapi.sample)."""
    settings, database = _open()
    try:
        result = run_now(database, "statsapi.sample", settings)
    except JobFailed as exc:
        typer.echo(f"sample failed: {exc.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    typer.echo(json.dumps(result, default=str))
    if isinstance(result, dict) and "idle" in result:
        raise typer.Exit(2)


@stats_app.command("latest")
def latest() -> None:
    """Print the newest sample and the account's state as JSON (the token is never shown)."""
    settings, database = _open()
    try:
        with database.read() as db:
            view = queries.account_json(queries.account(db, settings))
    finally:
        database.dispose()
    typer.echo(json.dumps(view, default=str, indent=2))
