"""``greenroom doctor`` and ``greenroom sessions ...`` (manual controls). ``greenroom rebuild`` is in
greenroom/maintenance/cli.py: it spans every feature."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console

from greenroom.config import get_settings
from greenroom.db.engine import Database
from greenroom.db.types import utcnow
from greenroom.errors import GreenroomError
from greenroom.sessions import manual, queries
from greenroom.sessions.doctor import run_doctor
from greenroom.sessions.exclusions import add_exclusion, list_exclusions, remove_exclusion
from greenroom.sessions.notes import set_notes
from greenroom.sessions.service import Windows, windows_for

sessions_app = typer.Typer(help="List sessions and apply the owner's manual controls.", no_args_is_help=True)
console = Console()


class _DryRun(Exception):
    """Raised to roll back a doctor run that was only asked to report."""


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
    app.add_typer(sessions_app, name="sessions")


def _database() -> Database:
    return Database(get_settings().sqlalchemy_url)


def _windows() -> Windows:
    database = _database()
    try:
        with database.read() as db:
            return windows_for(db, get_settings())
    finally:
        database.dispose()


def _run(action: Any) -> Any:
    database = _database()
    try:
        with database.write() as db:
            return action(db)
    except GreenroomError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    finally:
        database.dispose()


def doctor(fix: Annotated[bool, typer.Option("--fix", help="Apply the repairs (default: dry run).")] = False
           ) -> None:
    """Check the session invariants; with --fix, repair what can be repaired."""
    database = _database()
    try:
        with database.write() as db:
            report = run_doctor(db, utcnow(), _windows(), fix=True)
            if not fix:
                raise _DryRun
    except _DryRun:
        pass
    finally:
        database.dispose()
    if report.ok:
        console.print("All invariants hold.")
        return
    for finding in report.findings:
        console.print(f"[red]{finding.check}[/] {finding.detail}")
    verb = "Fixed" if fix else "Would fix (run with --fix)"
    for line in report.fixed:
        console.print(f"{verb}: {line}")
    if not fix:
        raise typer.Exit(1)


def _when(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use an ISO time, e.g. 2026-11-01T21:30:00+01:00") from None
    if parsed.tzinfo is None:
        from zoneinfo import ZoneInfo

        parsed = parsed.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return parsed


@sessions_app.command("list")
def list_cmd(limit: int = 20, status: str | None = None) -> None:
    """Newest sessions first, as JSON lines."""
    def action(db: Any) -> None:
        rows, _ = queries.list_sessions(db, status=status, limit=limit)
        for row in rows:
            typer.echo(json.dumps(queries.session_json(row)))

    _run(action)


@sessions_app.command("show")
def show(session_id: int) -> None:
    """One session in full, as JSON."""
    _run(lambda db: typer.echo(json.dumps(queries.session_detail(db, session_id), indent=2)))


@sessions_app.command("end")
def end(session_id: int) -> None:
    """End a live session now."""
    _run(lambda db: manual.end_now(db, session_id, utcnow(), _windows()))


@sessions_app.command("finalize")
def finalize(session_id: int) -> None:
    """Close a session for good now."""
    _run(lambda db: manual.finalize_now(db, session_id, utcnow(), _windows()))


@sessions_app.command("reopen")
def reopen(session_id: int) -> None:
    """Make the latest session live again."""
    _run(lambda db: manual.reopen(db, session_id, utcnow(), _windows()))


@sessions_app.command("split")
def split(session_id: int, at: str) -> None:
    """Split a session at AT (ISO time); prints the new session's id."""
    typer.echo(_run(lambda db: manual.split(db, session_id, _when(at), utcnow(), _windows())))


@sessions_app.command("merge")
def merge(session_id: int, direction: Annotated[str, typer.Argument(help="previous or next")] = "next") -> None:
    """Merge a session with the previous or next one."""
    typer.echo(_run(lambda db: manual.merge(db, session_id, direction, utcnow())))


@sessions_app.command("end-time")
def end_time(session_id: int, at: str) -> None:
    """Correct the end time of a stopped session."""
    _run(lambda db: manual.correct_end(db, session_id, _when(at), utcnow(), _windows()))


@sessions_app.command("notes")
def notes(session_id: int, text: Annotated[str | None, typer.Option("--text")] = None,
          tag: Annotated[list[str] | None, typer.Option("--tag", help="Repeat; replaces all tags.")] = None
          ) -> None:
    """Set a session's notes and/or tags."""
    _run(lambda db: set_notes(db, queries.get_session_row(db, session_id), utcnow(), notes=text, tags=tag))


@sessions_app.command("exclude")
def exclude(username: Annotated[str | None, typer.Argument()] = None,
            remove: Annotated[bool, typer.Option("--remove")] = False) -> None:
    """Exclude a user from every stat (or --remove); without a name, list the excluded users.
    Run `greenroom doctor --fix` afterwards to recompute the stats of finished sessions."""
    if username is None:
        _run(lambda db: [typer.echo(name) for name in list_exclusions(db)])
    elif remove:
        _run(lambda db: remove_exclusion(db, username))
    else:
        _run(lambda db: add_exclusion(db, username, utcnow()))
