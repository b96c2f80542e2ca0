"""``greenroom rebuild``: every derived table from the event store, with a progress bar."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from greenroom.config import get_settings
from greenroom.db.engine import Database
from greenroom.db.migrate import upgrade
from greenroom.db.types import utcnow
from greenroom.maintenance.rebuild import rebuild_all
from greenroom.sessions.service import windows_for

console = Console()


def rebuild() -> None:
    """Recompute sessions, stats, people, inbox and visits from the stored events.

    Owner data (notes, tags, manual session edits, relationships, images, summaries) is kept. It
    runs in one transaction: if it is interrupted, the previous data stays as it was."""
    settings = get_settings()
    database = Database(settings.sqlalchemy_url)
    upgrade(database.engine)
    try:
        with Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=console) as bar:
            tasks: dict[str, Any] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=max(total, 1))
                bar.update(tasks[phase], completed=done, total=max(total, 1))

            with database.write() as db:
                report = rebuild_all(db, utcnow(), windows_for(db, settings), progress=progress)
    finally:
        database.dispose()
    sessions = report.sessions
    console.print(f"Rebuilt {sessions.sessions} sessions from {sessions.events} events ({sessions.links} linked); "
                  f"{sessions.edits_replayed} manual edits replayed; people, inbox and visits from "
                  f"{report.people_events} events.")
    for line in sessions.edits_skipped:
        console.print(f"[yellow]skipped[/] {line}")


def register(app: typer.Typer) -> None:
    app.command("rebuild")(rebuild)
