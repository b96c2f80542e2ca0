"""``greenroom import-tokens PATH``: import the site's token-history CSV, with a progress bar and a
summary (rows read, new, already present, by type with token sums, date range)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from greenroom.config import get_settings
from greenroom.db.engine import Database
from greenroom.db.migrate import upgrade
from greenroom.db.types import utcnow
from greenroom.errors import GreenroomError
from greenroom.imports import service
from greenroom.imports.models import ImportStatus, TokenImport
from greenroom.imports.parse import MAX_BYTES
from greenroom.prefs.service import effective

console = Console()


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise typer.BadParameter(f"{path} is too big: {size:,} bytes (the limit is {MAX_BYTES:,})")
        return path.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror or exc}") from None


def _ensure_env_room(database: Database, url: str) -> None:
    """The room of GREENROOM_EVENTS_URL, so a file can be imported before Greenroom first runs
    (the run then stores the room's URL, encrypted, on this same row)."""
    from sqlalchemy import select

    from greenroom.events.feeds import ensure_feed, fingerprint
    from greenroom.events.models import Feed
    from greenroom.secrets import parse_feed_url

    feed_url = parse_feed_url(url)
    with database.write() as db:
        if db.scalar(select(Feed.id).where(Feed.broadcaster == feed_url.username.lower())) is None:
            ensure_feed(db, broadcaster=feed_url.username, url_masked=feed_url.masked,
                        url_fingerprint=fingerprint(feed_url.base), is_demo=False, now=utcnow())


def _print_summary(record: TokenImport, tz: str, dry_run: bool) -> None:
    summary = record.summary or {}
    zone = ZoneInfo(tz)
    table = Table(title="By type", show_edge=False)
    table.add_column("Type")
    table.add_column("Rows", justify="right")
    table.add_column("Tokens", justify="right")
    table.add_column("Counted as imported income")
    for entry in summary.get("categories", []):
        table.add_row(escape(entry["label"]), f"{entry['count']:,}", f"{entry['tokens']:,}",
                      "yes" if entry["counted"] else "no (the Events API sees it)" if entry["category"] in
                      ("tip", "media") else "no")
    console.print(table)
    span = ""
    if record.first_at and record.last_at:
        span = (f"{record.first_at.astimezone(zone):%Y-%m-%d %H:%M} to "
                f"{record.last_at.astimezone(zone):%Y-%m-%d %H:%M} ({tz})")
    verb = "would be new" if dry_run else "new"
    console.print(f"Rows read: {record.rows_read:,}; {verb}: {record.rows_new:,}; "
                  f"already present: {record.rows_present:,}.")
    console.print(f"Imported income (private and spy shows, fan club, chargebacks, other): "
                  f"{summary.get('income_tokens', 0):,} tokens; {summary.get('people', 0):,} people named in the file.")
    if span:
        console.print(f"Dates: {escape(span)}. Times without a zone were read as {escape(tz)}.")


def import_tokens(
    path: Path = typer.Argument(..., help="The token-history CSV downloaded from the site."),
    room: str = typer.Option("", "--room", help="The broadcaster whose room this is (needed with several rooms)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and count, store nothing."),
) -> None:
    """Import the site's token-history CSV (private shows, spy shows, fan-club payments...).

    Importing the same file again, or a later download that overlaps, adds only new transactions.
    A malformed file is rejected whole, with line numbers, and nothing is imported."""
    data = _read(path)
    settings = get_settings()
    database = Database(settings.sqlalchemy_url)
    upgrade(database.engine)
    try:
        if settings.events_url is not None:
            _ensure_env_room(database, settings.events_url.get_secret_value())
        with database.read() as db:
            tz = effective(db, settings).timezone
            feed = service.feed_by_name(db, room or None)
        with Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=console, transient=False) as bar:
            tasks: dict[str, int] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=max(total, 1))
                bar.update(tasks[phase], completed=done, total=max(total, 1))

            progress("checking", 0, 1)
            with database.write() as db:
                record = service.import_now(db, feed_id=feed.id, filename=path.name, data=data, timezone=tz,
                                            now=utcnow(), dry_run=dry_run, progress=progress)
    except GreenroomError as exc:
        console.print(f"[red]error[/] {escape(exc.message)}")
        raise typer.Exit(2) from None
    finally:
        database.dispose()
    if record.status == ImportStatus.REJECTED:
        console.print(f"[red]Rejected[/] {escape(path.name)}: nothing was imported.")
        for err in record.errors or []:
            where = f"line {err['line']}: " if err.get("line") else ""
            console.print(f"  {escape(where + err['reason'])}")
        if (record.summary or {}).get("more_errors"):
            console.print("  (more errors not shown)")
        raise typer.Exit(1)
    console.print(f"{'Checked' if dry_run else 'Imported'} {escape(path.name)} into {escape(feed.broadcaster)}'s "
                  f"room{' (dry run: nothing stored)' if dry_run else ''}.")
    _print_summary(record, tz, dry_run)


def register(app: typer.Typer) -> None:
    """Adds this feature's commands to ``app``."""
    app.command("import-tokens")(import_tokens)
