"""Staging, previewing and applying token-history imports.

A web upload is parsed and staged (status ``preview``: the parsed rows, never the bytes); the
owner's "Import" queues a job that inserts them. The command line does both in one go. Either way
the rows go in within one transaction and the unique key ``(feed_id, fingerprint, occurrence)``
makes a second import of the same rows a no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from greenroom.db.util import chunks, insert_ignore
from greenroom.errors import BadRequest, Conflict, NotFound
from greenroom.events.models import Feed
from greenroom.imports.models import ImportStatus, TokenImport, TokenTransaction
from greenroom.imports.parse import ImportRejected, ParsedRow, ParseResult, parse_csv, summarize

Progress = Callable[[str, int, int], None]
BATCH = 500
PREVIEW_ROWS = 20
KEEP_REJECTED = 20  # rejected uploads kept for their error list


def _noop(_phase: str, _done: int, _total: int) -> None:
    return None


def feed_by_name(db: Session, broadcaster: str | None) -> Feed:
    """The room an import belongs to: the one named, or the only one there is."""
    feeds = list(db.scalars(select(Feed).order_by(Feed.id)))
    if broadcaster:
        for feed in feeds:
            if feed.broadcaster.lower() == broadcaster.strip().lower():
                return feed
        known = ", ".join(f.broadcaster for f in feeds) or "none yet"
        raise NotFound(f"no room {broadcaster!r} (rooms: {known})")
    if not feeds:
        raise NotFound("no room yet: start Greenroom with an Events API URL first")
    if len(feeds) > 1:
        raise BadRequest("several rooms: pick one with --room (" + ", ".join(f.broadcaster for f in feeds) + ")")
    return feeds[0]


def present_keys(db: Session, feed_id: int, rows: Sequence[ParsedRow]) -> set[tuple[str, int]]:
    """The (fingerprint, occurrence) pairs of ``rows`` already stored for this room: one range
    read on ``(feed_id, occurred_at)`` over the rows' time span."""
    if not rows:
        return set()
    wanted = {(r.fingerprint, r.occurrence) for r in rows}
    stored = db.execute(
        select(TokenTransaction.fingerprint, TokenTransaction.occurrence).where(
            TokenTransaction.feed_id == feed_id,
            TokenTransaction.occurred_at >= min(r.occurred_at for r in rows),
            TokenTransaction.occurred_at <= max(r.occurred_at for r in rows),
        ))
    return {(fp, occurrence) for fp, occurrence in stored if (fp, occurrence) in wanted}


def _preview_rows(rows: Sequence[ParsedRow]) -> list[dict[str, Any]]:
    return [{"line": r.line, "occurred_at": r.occurred_at.isoformat(), "username": r.display_name,
             "tokens": r.tokens, "category": r.category, "type": r.type_label, "note": r.note}
            for r in rows[:PREVIEW_ROWS]]


def _summary(parsed: ParseResult, present: int) -> dict[str, Any]:
    out = summarize(parsed.rows)
    out.update({"columns": parsed.columns, "delimiter": parsed.delimiter, "timezone": parsed.timezone,
                "preview": _preview_rows(parsed.rows), "present_at_preview": present,
                "more_errors": parsed.more_errors})
    return out


def stage(db: Session, *, feed_id: int, filename: str, data: bytes, timezone: str, now: datetime,
          source: str = "web") -> TokenImport:
    """Parse an upload and keep it as a preview (or as a rejection with its errors)."""
    record = TokenImport(feed_id=feed_id, filename=(filename or "upload.csv")[:255], source=source,
                         size_bytes=len(data), rows_read=0, rows_new=0, rows_present=0, created_at=now)
    try:
        parsed = parse_csv(data, timezone, now=now)
    except ImportRejected as exc:
        record.status, record.errors = ImportStatus.REJECTED, [exc.as_error()]
        record.summary = {"categories": [], "preview": [], "timezone": timezone}
    else:
        record.rows_read = len(parsed.rows)
        if parsed.ok:
            present = len(present_keys(db, feed_id, parsed.rows))
            record.status, record.rows_present = ImportStatus.PREVIEW, present
            record.rows_new = len(parsed.rows) - present
            record.staged = [r.as_staged() for r in parsed.rows]
        else:
            present = 0
            record.status, record.errors = ImportStatus.REJECTED, parsed.errors
        record.summary = _summary(parsed, present)
        if parsed.rows:
            record.first_at = min(r.occurred_at for r in parsed.rows)
            record.last_at = max(r.occurred_at for r in parsed.rows)
    db.add(record)
    db.flush()
    _forget_old_rejections(db, feed_id)
    return record


def _forget_old_rejections(db: Session, feed_id: int) -> None:
    old = list(db.scalars(select(TokenImport.id).where(
        TokenImport.feed_id == feed_id, TokenImport.status == ImportStatus.REJECTED,
    ).order_by(TokenImport.id.desc()).offset(KEEP_REJECTED)))
    if old:
        db.execute(delete(TokenImport).where(TokenImport.id.in_(old)))


def insert_rows(db: Session, feed_id: int, import_id: int | None, rows: Sequence[ParsedRow],
                progress: Progress = _noop) -> tuple[int, int]:
    """Insert what is not stored yet; returns (new, already present). Rows already there are
    skipped up front; the unique key still drops any that another import stored meanwhile."""
    total = len(rows)
    progress("importing", 0, total)
    present = present_keys(db, feed_id, rows)
    fresh = [r for r in rows if (r.fingerprint, r.occurrence) not in present]
    table: Any = TokenTransaction.__table__
    for done, part in enumerate(chunks(fresh, BATCH), start=1):
        insert_ignore(db, table, [{
            "feed_id": feed_id, "import_id": import_id, "occurred_at": r.occurred_at, "username": r.username,
            "display_name": r.display_name, "tokens": r.tokens, "category": r.category,
            "type_label": r.type_label, "note": r.note, "fingerprint": r.fingerprint, "occurrence": r.occurrence,
        } for r in part], ["feed_id", "fingerprint", "occurrence"])
        progress("importing", total - len(fresh) + min(done * BATCH, len(fresh)), total)
    progress("importing", total, total)
    return len(fresh), total - len(fresh)


def get_import(db: Session, import_id: int, feed_id: int | None = None) -> TokenImport:
    record = db.get(TokenImport, import_id)
    if record is None or (feed_id is not None and record.feed_id != feed_id):
        raise NotFound(f"no import {import_id}")
    return record


def check_queueable(record: TokenImport) -> None:
    if record.status not in (ImportStatus.PREVIEW, ImportStatus.FAILED) or record.staged is None:
        raise Conflict(f"import {record.id} is {record.status}: only a preview can be imported")


def mark_queued(db: Session, import_id: int, run_id: int, feed_id: int | None = None) -> TokenImport:
    record = get_import(db, import_id, feed_id)
    check_queueable(record)
    record.status, record.run_id, record.error = ImportStatus.QUEUED, run_id, None
    return record


def apply(db: Session, import_id: int, now: datetime, progress: Progress = _noop) -> TokenImport:
    """Insert a staged import's rows. Applying one that is done already changes nothing."""
    record = get_import(db, import_id)
    if record.status == ImportStatus.DONE:
        return record
    if record.status == ImportStatus.REJECTED or record.staged is None:
        raise Conflict(f"import {import_id} has nothing to import ({record.status})")
    rows = [ParsedRow.from_staged(item) for item in record.staged]
    new, present = insert_rows(db, record.feed_id, record.id, rows, progress)
    record.rows_new, record.rows_present = new, present
    record.status, record.finished_at, record.staged, record.error = ImportStatus.DONE, now, None, None
    return record


def mark_failed(db: Session, import_id: int, error: str, now: datetime) -> None:
    record = db.get(TokenImport, import_id)
    if record is not None and record.status != ImportStatus.DONE:
        record.status, record.error, record.finished_at = ImportStatus.FAILED, error[:500], now


def discard(db: Session, import_id: int, feed_id: int | None = None) -> None:
    record = get_import(db, import_id, feed_id)
    if record.status not in (ImportStatus.PREVIEW, ImportStatus.REJECTED, ImportStatus.FAILED):
        raise Conflict(f"import {import_id} is {record.status}: it cannot be discarded")
    db.delete(record)


def import_now(db: Session, *, feed_id: int, filename: str, data: bytes, timezone: str, now: datetime,
               dry_run: bool = False, progress: Progress = _noop) -> TokenImport:
    """Parse and insert in one transaction (the command line). A rejected file is recorded with its
    errors and inserts nothing; a dry run records nothing at all."""
    record = stage(db, feed_id=feed_id, filename=filename, data=data, timezone=timezone, now=now, source="cli")
    progress("checking", 1, 1)
    if record.status == ImportStatus.PREVIEW and not dry_run:
        apply(db, record.id, now, progress)
    if dry_run:
        db.expunge(record)
        db.rollback()
    return record
