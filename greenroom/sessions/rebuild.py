"""Rebuild every session table from the event store, keeping the owner's data.

The whole rebuild is one transaction: a crash (even kill -9) rolls it back and leaves the previous
sessions exactly as they were; a commit publishes the complete new state. Events are streamed in
keyset chunks in stream (id) order through the same ``apply_refs`` that live ingest uses, and the
owner's manual edits are replayed at the point of the stream where they were made, so the result
equals what live ingest produced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from greenroom.errors import GreenroomError
from greenroom.events.models import Event
from greenroom.sessions import manual
from greenroom.sessions.models import BroadcastSession, SessionEdit, SessionEvent, SessionStatus, SessionVisitor
from greenroom.sessions.service import Windows, apply_refs, end_stale, finalize_due
from greenroom.sessions.stats import refresh_stats
from greenroom.sessions.stitching import EventRef

CHUNK = 5000
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class RebuildReport:
    events: int = 0
    sessions: int = 0
    links: int = 0
    edits_replayed: int = 0
    edits_skipped: list[str] = field(default_factory=list)


def rebuild(db: Session, now: datetime, windows: Windows, *, progress: Progress | None = None,
            chunk: int = CHUNK) -> RebuildReport:
    """Recompute sessions, links and stats of every feed. Runs inside the caller's transaction."""
    report = RebuildReport()
    old = db.execute(select(BroadcastSession.feed_id, BroadcastSession.started_at, BroadcastSession.id,
                            BroadcastSession.finalized_at)).all()
    hints: dict[int, dict[datetime, int]] = {}
    finalized: dict[int, datetime] = {}
    for feed_id, started_at, sid, finalized_at in old:
        hints.setdefault(feed_id, {})[started_at] = sid
        if finalized_at is not None:
            finalized[sid] = finalized_at
    db.execute(delete(SessionEvent))
    db.execute(delete(SessionVisitor))
    db.execute(delete(BroadcastSession))
    db.expunge_all()

    total = db.scalar(select(func.count()).select_from(Event).where(Event.known.is_(True))) or 0
    edits: dict[int, list[SessionEdit]] = {}
    for edit in db.execute(select(SessionEdit).order_by(SessionEdit.id)).scalars():
        edits.setdefault(edit.feed_id, []).append(edit)
    done = 0
    last_pk = 0
    while True:
        # A plain primary-key range over all feeds: filtering by feed here would make SQLite walk
        # a (feed, time) index and sort, re-reading the feed's events for every chunk.
        rows = db.execute(
            select(Event.id, Event.feed_id, Event.method, Event.event_time)
            .where(Event.id > last_pk, Event.known.is_(True))
            .order_by(Event.id).limit(chunk)
        ).all()
        if not rows:
            break
        last_pk = rows[-1][0]
        by_feed: dict[int, list[EventRef]] = {}
        for pk, feed_id, method, at in rows:
            by_feed.setdefault(feed_id, []).append(EventRef(pk, method, at))
        for feed_id, refs in by_feed.items():
            _apply_chunk(db, feed_id, refs, edits.get(feed_id, []), windows, hints.get(feed_id, {}), report)
        done += len(rows)
        report.events = done
        db.expunge_all()  # keeps memory flat: nothing from earlier chunks is held
        if progress:
            progress("events", done, total)
    for feed_id, pending in edits.items():
        for edit in pending:
            _replay(db, edit, windows, hints.get(feed_id, {}), report)

    # The clock-driven transitions the jobs would have made by now.
    end_stale(db, now, windows, refresh=False)
    ids = list(db.execute(select(BroadcastSession.id).order_by(BroadcastSession.started_at,
                                                               BroadcastSession.id)).scalars())
    seen: dict[int, set[str]] = {}
    for i, sid in enumerate(ids, 1):
        refresh_stats(db, [sid], now, seen=seen)
        db.expunge_all()
        if progress:
            progress("stats", i, len(ids))
    finalize_due(db, now, refresh=False)
    # A session whose summary was already made stays finalized.
    keep = [sid for sid in ids if sid in finalized]
    for sid in keep:
        db.execute(update(BroadcastSession)
                   .where(BroadcastSession.id == sid, BroadcastSession.status == SessionStatus.PENDING_FINALIZE)
                   .values(status=SessionStatus.FINALIZED, finalized_at=finalized[sid])
                   .execution_options(synchronize_session=False))
    report.sessions = len(ids)
    report.links = db.scalar(select(func.count()).select_from(SessionEvent)) or 0
    return report


def _apply_chunk(db: Session, feed_id: int, refs: list[EventRef], edits: list[SessionEdit], windows: Windows,
                 hints: dict[datetime, int], report: RebuildReport) -> None:
    """Stitch one feed's part of a chunk; edits made before an event are replayed before it.
    Consumes the replayed edits from ``edits``."""
    while refs:
        if edits and edits[0].after_event_pk < refs[0].pk:
            _replay(db, edits.pop(0), windows, hints, report)
            continue
        cut = len(refs) if not edits else next(
            (i for i, r in enumerate(refs) if r.pk > edits[0].after_event_pk), len(refs))
        apply_refs(db, feed_id, refs[:cut], windows, id_hints=hints)
        refs = refs[cut:]


def _replay(db: Session, edit: SessionEdit, windows: Windows, hints: dict[datetime, int],
            report: RebuildReport) -> None:
    sid = db.scalar(select(BroadcastSession.id).where(
        BroadcastSession.feed_id == edit.feed_id, BroadcastSession.started_at == edit.anchor))
    if sid is None:
        report.edits_skipped.append(f"edit {edit.id} ({edit.kind}): its session no longer exists")
        return
    params = edit.params or {}
    at = datetime.fromisoformat(params["at"]) if "at" in params else None
    try:
        if edit.kind == "end":
            manual.end_now(db, sid, at or edit.created_at, windows, record=False)
        elif edit.kind == "finalize":
            manual.finalize_now(db, sid, at or edit.created_at, windows, record=False)
        elif edit.kind == "reopen":
            manual.reopen(db, sid, edit.created_at, windows, record=False)
        elif edit.kind == "split" and at is not None:
            manual.split(db, sid, at, edit.created_at, windows, record=False, id_hint=hints.get(at))
        elif edit.kind == "merge":
            manual.merge(db, sid, params.get("direction", "next"), edit.created_at, record=False)
        elif edit.kind == "correct_end" and at is not None:
            manual.correct_end(db, sid, at, edit.created_at, windows, record=False)
        else:
            report.edits_skipped.append(f"edit {edit.id}: unknown kind {edit.kind!r}")
            return
    except GreenroomError as exc:  # an edit that no longer fits is reported, not fatal
        report.edits_skipped.append(f"edit {edit.id} ({edit.kind}): {exc.message}")
        return
    report.edits_replayed += 1
