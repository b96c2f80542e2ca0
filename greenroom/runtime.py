"""Run modes: ``serve`` (web + ingest + worker in one process), ``ingest``, ``worker``, ``web``,
and ``db`` maintenance. With no Events API URL configured, ``serve`` starts the built-in simulator
and ingests from it, clearly labelled as a demo.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from greenroom.config import Settings, get_settings, register_secrets
from greenroom.db.engine import Database
from greenroom.db.migrate import check as check_migrations
from greenroom.db.migrate import upgrade
from greenroom.errors import ConfigError
from greenroom.logs import configure_logging, get_logger
from greenroom.secrets import FeedUrl, parse_feed_url

log = get_logger("greenroom")


@dataclass
class Runtime:
    """What one process runs; the web app reads it to say what is happening."""

    settings: Settings
    database: Database
    demo: bool = False
    feed: FeedUrl | None = None
    supervisor: Any = None
    threads: list[threading.Thread] = field(default_factory=list)
    stoppers: list[Any] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        self.stop_event.set()
        for stopper in self.stoppers:
            stopper()
        for thread in self.threads:
            thread.join(timeout=30)


def load_settings() -> Settings:
    try:
        settings = get_settings()
    except ConfigError as exc:
        typer.echo(f"Configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    register_secrets(settings)
    configure_logging(settings.log_level, settings.log_json)
    return settings


def open_database(settings: Settings) -> Database:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.sqlalchemy_url)
    upgrade(database.engine)
    return database


def _feed_cipher(settings: Settings) -> Any:
    from greenroom.events.feeds import FeedCipher
    from greenroom.web.auth import signing_key

    return FeedCipher(signing_key(settings))


def follow_env_room(runtime: Runtime) -> FeedUrl | None:
    """GREENROOM_EVENTS_URL is one more room: stored (encrypted) so any ingest process can follow it."""
    from greenroom.db.types import utcnow
    from greenroom.events.feeds import store_feed_url
    from greenroom.events.models import FeedSource

    settings = runtime.settings
    if settings.events_url is None:
        return None
    feed = parse_feed_url(settings.events_url.get_secret_value())
    with runtime.database.write() as db:
        store_feed_url(db, _feed_cipher(settings), feed, source=FeedSource.ENV, now=utcnow())
    return feed


def has_rooms(database: Database) -> bool:
    """Whether any real room (not the demo) is followed or kept."""
    from sqlalchemy import select

    from greenroom.events.models import Feed

    with database.read() as db:
        return db.scalar(select(Feed.id).where(Feed.is_demo.is_(False), Feed.removed_at.is_(None)).limit(1)) is not None


def start_demo(runtime: Runtime) -> FeedUrl:
    from greenroom.simulator.cli import start_demo_simulator

    settings = runtime.settings
    simulator = start_demo_simulator(seed=settings.demo_seed, speed=settings.demo_speed)
    runtime.stoppers.append(simulator.stop)
    runtime.demo = True
    typer.echo(
        "DEMO MODE: no GREENROOM_EVENTS_URL is set, so Greenroom is following the built-in simulated room.\n"
        "Set GREENROOM_EVENTS_URL to your Events API URL (or add rooms in Admin › Rooms) to follow your real room."
    )
    if settings.stats_url is None:  # the demo samples the simulator's Stats API too (the Account card)
        from pydantic import SecretStr

        runtime.settings = settings.model_copy(update={"stats_url": SecretStr(simulator.stats_url)})
    return parse_feed_url(simulator.feed_url)


def start_ingest(runtime: Runtime, feed: FeedUrl) -> None:
    """One ingester for one room this process alone knows (the demo room)."""
    from greenroom.ingest.loop import Ingester

    settings = runtime.settings
    ingester = Ingester(
        runtime.database, feed, poll_timeout=settings.poll_timeout, lease_seconds=settings.lease_seconds,
        backoff_cap=settings.backoff_cap_seconds, credential_retry=settings.credential_retry_seconds,
        is_demo=runtime.demo,
    )
    thread = threading.Thread(target=_guarded(ingester.run, "ingest"), name="ingest", daemon=True)
    runtime.stoppers.insert(0, ingester.stop)
    runtime.threads.append(thread)
    thread.start()


def start_supervisor(runtime: Runtime, max_feeds: int | None) -> None:
    """Follow every room stored in the database, sharing them with the other ingest processes."""
    from greenroom.ingest.supervisor import Supervisor

    settings = runtime.settings
    supervisor = Supervisor(
        runtime.database, _feed_cipher(settings), poll_timeout=settings.poll_timeout,
        lease_seconds=settings.lease_seconds, backoff_cap=settings.backoff_cap_seconds,
        credential_retry=settings.credential_retry_seconds, max_feeds=max_feeds,
    )
    thread = threading.Thread(target=_guarded(supervisor.run, "ingest supervisor"), name="ingest-supervisor",
                              daemon=True)
    runtime.supervisor = supervisor
    runtime.stoppers.insert(0, supervisor.stop)
    runtime.threads.append(thread)
    thread.start()


MAX_FEEDS_HELP = ("Most rooms this process follows at once (GREENROOM_MAX_FEEDS_PER_PROCESS); 0 or unset: no "
                  "limit. The rooms are shared fairly between the running processes either way.")


def _max_feeds(value: int | None) -> int | None:
    if value is not None and value < 0:
        typer.echo("--max-feeds must be 0 (no limit) or more", err=True)
        raise typer.Exit(2)
    return value or None


def start_worker(runtime: Runtime) -> None:
    from greenroom.jobs.worker import Worker

    worker = Worker(runtime.database, runtime.settings)
    thread = threading.Thread(
        target=_guarded(lambda: worker.run(runtime.stop_event), "worker"), name="worker", daemon=True
    )
    runtime.threads.append(thread)
    thread.start()


def _guarded(fn: Any, name: str) -> Any:
    def run() -> None:
        try:
            fn()
        except Exception as exc:  # a dead thread must be loud, never silent
            log.exception(f"{name} stopped with an error", error=exc)

    return run


def _wait_for_signal(runtime: Runtime) -> None:
    def handle(_signum: int, _frame: Any) -> None:
        runtime.stop_event.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    while not runtime.stop_event.wait(0.5):
        if runtime.threads and not any(t.is_alive() for t in runtime.threads):
            break
    runtime.stop()


def _serve_web(runtime: Runtime) -> None:
    import uvicorn

    from greenroom.web.app import create_app
    from greenroom.web.auth import ensure_owner

    ensure_owner(runtime.database, runtime.settings)
    app = create_app(runtime.settings, runtime.database, runtime_status=runtime)
    typer.echo(f"Greenroom is at http://{runtime.settings.host}:{runtime.settings.port}/")
    uvicorn.run(app, host=runtime.settings.host, port=runtime.settings.port, log_level="warning",
                access_log=False)


def serve(
    no_web: Annotated[bool, typer.Option("--no-web", help="Run ingest and jobs only (a studio's extra machines).")]
    = False,
    max_feeds: Annotated[int | None, typer.Option("--max-feeds", envvar="GREENROOM_MAX_FEEDS_PER_PROCESS",
                                                  help=MAX_FEEDS_HELP)] = None,
) -> None:
    """Run everything in one process: web dashboard, ingest of every room, and background jobs."""
    limit = _max_feeds(max_feeds)
    settings = load_settings()
    runtime = Runtime(settings, open_database(settings))
    runtime.feed = follow_env_room(runtime)
    if runtime.feed is None and not has_rooms(runtime.database) and not no_web:
        # No URL and no room added in Admin: the built-in demo room, as before any room exists.
        runtime.feed = start_demo(runtime)
        start_ingest(runtime, runtime.feed)
    start_supervisor(runtime, limit)
    start_worker(runtime)
    if no_web:
        _wait_for_signal(runtime)
        return
    try:
        _serve_web(runtime)
    finally:
        runtime.stop()


def ingest(
    max_feeds: Annotated[int | None, typer.Option("--max-feeds", envvar="GREENROOM_MAX_FEEDS_PER_PROCESS",
                                                  help=MAX_FEEDS_HELP)] = None,
) -> None:
    """Follow every room (GREENROOM_EVENTS_URL and the rooms added in Admin) and store every event
    exactly once; any number of these processes share the rooms."""
    limit = _max_feeds(max_feeds)
    settings = load_settings()
    runtime = Runtime(settings, open_database(settings))
    runtime.feed = follow_env_room(runtime)
    if runtime.feed is None and not has_rooms(runtime.database):
        typer.echo("No room to follow yet: set GREENROOM_EVENTS_URL or add a room in Admin › Rooms. "
                   "Waiting for rooms to be added.", err=True)
    start_supervisor(runtime, limit)
    _wait_for_signal(runtime)


def web() -> None:
    """Serve only the web dashboard and API (ingest and jobs run elsewhere)."""
    settings = load_settings()
    runtime = Runtime(settings, open_database(settings))
    _serve_web(runtime)


db_app = typer.Typer(help="Database schema maintenance.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations (done automatically by every run mode)."""
    settings = load_settings()
    open_database(settings).dispose()
    typer.echo("database is up to date")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    settings = load_settings()
    database = open_database(settings)
    try:
        check_migrations(database.engine)
    except Exception as exc:
        typer.echo(f"drift: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo("no drift")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("ingest")(ingest)
    app.command("web")(web)
    app.add_typer(db_app, name="db")

