"""``greenroom worker`` and ``greenroom jobs list|run|enable|disable|history``."""

from __future__ import annotations

import json
import signal
import threading
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from greenroom.config import get_settings, register_secrets
from greenroom.db.engine import Database
from greenroom.db.types import utcnow
from greenroom.errors import GreenroomError
from greenroom.jobs import queries, service
from greenroom.jobs.registry import load_jobs
from greenroom.jobs.runner import JobFailed, run_now
from greenroom.jobs.worker import Worker
from greenroom.logs import configure_logging

jobs_app = typer.Typer(help="List, run, enable and disable background jobs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.add_typer(jobs_app, name="jobs")


def _settings() -> Any:
    try:
        settings = get_settings()
    except GreenroomError as exc:
        raise _fail(exc.message) from None
    # Anything a job logs or records passes through redact(): teach it this installation's secrets.
    register_secrets(settings)
    # Logs go to stderr so that `jobs run` prints nothing but the result on stdout.
    configure_logging(settings.log_level, settings.log_json)
    return settings


def _database() -> Database:
    return Database(_settings().sqlalchemy_url)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M:%S")


def _span(value: timedelta | None) -> str:
    if value is None:
        return "queued only"
    seconds = value.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"every {seconds // size:g}{unit}"
    return f"every {seconds:g}s"


def _parse_args(pairs: list[str]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--arg")
        try:  # numbers, booleans and JSON arrive typed; anything else is a string
            args[key] = json.loads(raw)
        except ValueError:
            args[key] = raw
    return args


def worker(
    poll_interval: Annotated[float, typer.Option(help="Seconds between looks at the queue when idle.")] = 1.0,
) -> None:
    """Run background jobs until Ctrl-C or SIGTERM (several workers may share one database)."""
    from greenroom.db.migrate import upgrade  # alembic is slow to import; only this command needs it

    settings = _settings()
    database = Database(settings.sqlalchemy_url)
    upgrade(database.engine)
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        # The first signal lets the current run finish; a second one stops at once (the run's lease
        # then lapses and another worker picks it up again).
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        Worker(database, settings, poll_interval=poll_interval).run(stop)
    finally:
        database.dispose()


@jobs_app.command("list")
def list_jobs() -> None:
    """Every job: core or optional, enabled, schedule, last run and when it is next due."""
    load_jobs()
    database = _database()
    now = utcnow()
    with database.read() as db:
        rows = queries.overview(db, now)
    table = Table("job", "kind", "enabled", "schedule", "last run", "next due")
    for row in rows:
        kind = ("core" if row.core else "optional") if row.defined else "not defined"
        enabled = "yes" if row.enabled else ("off (forced)" if row.forced_off else "no")
        last = f"{row.last_run.status} {_when(row.last_run.finished_at or row.last_run.started_at)}" if (
            row.last_run
        ) else "never"
        due = "now" if row.next_due is not None and row.next_due <= now else _when(row.next_due)
        table.add_row(row.name, kind, enabled, _span(row.every), last, due)
    Console(width=160).print(table)
    database.dispose()


@jobs_app.command("run")
def run_job(
    name: str,
    arg: Annotated[list[str] | None, typer.Option("--arg", help="KEY=VALUE passed to the job.")] = None,
) -> None:
    """Run a job once now, in this process, and print its result."""
    args = _parse_args(arg or [])
    database = _database()
    try:
        result = run_now(database, name, _settings(), args)
    except JobFailed as exc:
        raise _fail(f"{name} failed (run {exc.run_id}): {exc.message}") from None
    except GreenroomError as exc:
        raise _fail(exc.message) from None
    finally:
        database.dispose()
    typer.echo(json.dumps(result, indent=2, default=str))


@jobs_app.command("enable")
def enable(name: str) -> None:
    """Switch a job on."""
    _set(name, True, force=False)


@jobs_app.command("disable")
def disable(
    name: str,
    force: Annotated[bool, typer.Option("--force", help="Needed to switch off a core job.")] = False,
) -> None:
    """Switch a job off (its queued runs wait until it is switched on again)."""
    _set(name, False, force=force)


def _set(name: str, enabled: bool, *, force: bool) -> None:
    load_jobs()
    database = _database()
    try:
        with database.write() as db:
            service.set_enabled(db, name, enabled, now=utcnow(), force=force)
    except GreenroomError as exc:
        raise _fail(exc.message) from None
    finally:
        database.dispose()
    typer.echo(f"{name} {'enabled' if enabled else 'disabled'}")


@jobs_app.command("history")
def history(
    name: str, limit: Annotated[int, typer.Option(help="How many runs to show.")] = 20
) -> None:
    """The latest runs of a job, newest first."""
    load_jobs()
    database = _database()
    with database.read() as db:
        runs = queries.history(db, name, limit=limit)
    database.dispose()
    if not runs:
        try:
            service.get_definition(name)
        except GreenroomError as exc:
            raise _fail(exc.message) from None
    table = Table("run", "slot", "status", "tries", "started", "finished", "outcome")
    for run in runs:
        outcome = (run.error or "").split("\n", 1)[0] or json.dumps(run.result, default=str)
        table.add_row(str(run.id), run.slot, run.status, str(run.attempts), _when(run.started_at),
                      _when(run.finished_at), outcome[:80])
    Console(width=160).print(table)
