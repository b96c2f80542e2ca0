"""``greenroom backup PATH`` and ``greenroom restore PATH``: the whole installation in one file."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from greenroom.backup.archive import BackupError
from greenroom.backup.dump import write_backup
from greenroom.backup.restore import is_encrypted, restore, verify
from greenroom.config import Settings, get_settings, register_secrets
from greenroom.db.engine import Database
from greenroom.errors import ConfigError, GreenroomError
from greenroom.secrets import redact

PASSWORD_ENV = "GREENROOM_BACKUP_PASSWORD"  # noqa: S105 (the variable's name, not a value)


def _settings() -> Settings:
    try:
        settings = get_settings()
    except ConfigError as exc:
        typer.echo(f"Configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    register_secrets(settings)
    return settings


def read_password(password_file: Path | None, *, confirm: bool) -> str:
    """From ``--password-file``, else ``GREENROOM_BACKUP_PASSWORD``, else a hidden prompt."""
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BackupError(f"cannot read the password file {password_file}: {type(exc).__name__}") from None
        password = lines[0] if lines else ""
    elif os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV]
    elif sys.stdin.isatty():
        password = typer.prompt("Backup password", hide_input=True, confirmation_prompt=confirm)
    else:
        raise BackupError(f"a password is needed: use --password-file FILE or set {PASSWORD_ENV}")
    if not password:
        raise BackupError("the backup password is empty")
    return password


class _Bar:
    """A rich progress bar fed by the ("table", name, total) / ("rows", name, n) callbacks."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=False)
        self.task: Any = None

    def __call__(self, event: str, table: str, n: int) -> None:
        if event == "table":
            if self.task is not None:
                self.progress.update(self.task, completed=self.progress.tasks[-1].total)
            self.task = self.progress.add_task(table, total=max(n, 1) if n else 0)
        elif self.task is not None:
            self.progress.advance(self.task, n)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:,.1f} GB"


@contextmanager
def _database_and_bar(settings: Any, err: Console, quiet: bool) -> Iterator[tuple[Database, _Bar | None]]:
    """The configured database and, unless quiet, a running progress bar; both closed after."""
    database = Database(settings.sqlalchemy_url)
    bar = None if quiet else _Bar(err)
    try:
        if bar:
            bar.progress.start()
        yield database, bar
    finally:
        if bar:
            bar.progress.stop()
        database.dispose()


def backup_command(
    path: Path = typer.Argument(..., help="The file to write (replaced if it exists)."),
    encrypt: bool = typer.Option(False, "--encrypt", help="Encrypt with a password (scrypt + AES-256-GCM)."),
    password_file: Path | None = typer.Option(None, "--password-file", help="Read the password from FILE."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Write the whole installation (every table, images included, and the data folder's key) to one file."""
    settings = _settings()
    err = Console(stderr=True)
    try:
        password = read_password(password_file, confirm=True) if encrypt else None
        if not encrypt:
            err.print("[yellow]Warning:[/] this backup is not encrypted. It holds everything saved in the "
                      "database, API keys entered in Settings included: keep it private, or use --encrypt.")
        with _database_and_bar(settings, err, quiet) as (database, bar):
            stats = write_backup(database, settings.data_dir, path, password=password, progress=bar)
    except (GreenroomError, OSError) as exc:
        typer.echo(f"Backup failed: {redact(str(exc))}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Backup written to {path}: {stats.tables} tables, {stats.rows:,} rows, {_size(stats.bytes_out)}"
               f"{' (encrypted)' if password else ''} in {stats.seconds:.1f} s.")


def restore_command(
    path: Path = typer.Argument(..., help="A file written by `greenroom backup`."),
    force: bool = typer.Option(False, "--force", help="Replace everything in a database that is not empty."),
    password_file: Path | None = typer.Option(None, "--password-file", help="Read the password from FILE."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Restore a backup into the configured installation (stop every Greenroom process first)."""
    settings = _settings()
    err = Console(stderr=True)
    try:
        if not path.is_file():
            raise BackupError(f"no backup file at {path}")
        password = read_password(password_file, confirm=False) if is_encrypted(path) else None
        if not quiet:
            err.print("Checking the backup…")
        manifest = verify(path, password)
        with _database_and_bar(settings, err, quiet) as (database, bar):
            stats = restore(database, settings.data_dir, path, password=password, force=force,
                            progress=bar, manifest=manifest)
    except (GreenroomError, OSError) as exc:
        typer.echo(f"Restore failed, nothing was changed: {redact(str(exc))}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Restored {path} (made {manifest.get('created_at')} on {manifest.get('engine')}, schema "
               f"{stats.schema_revision}): {stats.tables} tables, {stats.rows:,} rows, {stats.files} data "
               f"file(s) in {stats.seconds:.1f} s.")


def register(app: typer.Typer) -> None:
    """Adds this feature's commands to ``app``."""
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
