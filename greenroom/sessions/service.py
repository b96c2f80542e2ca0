"""Session lifecycle on the write path: ingest, the finalize job, the watchdog.

Services never commit: the ingest iteration, the job or the request owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from greenroom.events.store import StoredEvent
from greenroom.prefs.service import effective
from greenroom.sessions.models import BroadcastSession, SessionEvent, SessionStatus
from greenroom.sessions.rollups import empty_stats
from greenroom.sessions.stats import refresh_stats
from greenroom.sessions.stitching import (
    Draft,
    EventRef,
    end_draft,
    in_segments,
    segments_from_json,
    segments_to_json,
    stitch,
)

# Live stats of an active session are recomputed at most this often (a busy room delivers a batch
# every second or so; recomputing each time would re-read the whole session every second). A
# refresh costs about 25 µs per linked event, so big sessions wait a little longer between
# refreshes: 10 s plus 1 s per 1,000 events, at most 60 s.
LIVE_STATS_INTERVAL = timedelta(seconds=10)
LIVE_STATS_MAX_INTERVAL = timedelta(seconds=60)


def live_interval(event_count: int) -> timedelta:
    return min(LIVE_STATS_INTERVAL + timedelta(seconds=event_count // 1000), LIVE_STATS_MAX_INTERVAL)


@dataclass(frozen=True)
class Windows:
    """The two lifecycle timings, from settings (``merge_window_minutes``, ``stale_session_minutes``)."""

    merge_window: timedelta
    stale_after: timedelta

    @classmethod
    def from_settings(cls, settings: object) -> Windows:
        return cls(
            merge_window=timedelta(minutes=getattr(settings, "merge_window_minutes", 30)),
            stale_after=timedelta(minutes=getattr(settings, "stale_session_minutes", 120)),
        )


def windows_for(db: Session, settings: object) -> Windows:
    """The timings in force: the environment's settings with the owner's saved values (Admin ›
    Settings) over them."""
    return Windows.from_settings(effective(db, settings))


def draft_of(row: BroadcastSession) -> Draft:
    return Draft(
        id=row.id, status=row.status, started_at=row.started_at, last_event_at=row.last_event_at,
        ended_at=row.ended_at, finalize_after=row.finalize_after, segments=segments_from_json(row.segments),
    )


def latest_session(db: Session, feed_id: int) -> BroadcastSession | None:
    """The feed's latest session, row-locked on PostgreSQL: ingest, the jobs and manual edits all
    read-modify-write it, and a lost update would drop a segment or a stop. (SQLite already runs
    one writer at a time.)"""
    return db.execute(
        select(BroadcastSession)
        .where(BroadcastSession.feed_id == feed_id)
        .order_by(BroadcastSession.started_at.desc(), BroadcastSession.id.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def apply_refs(
    db: Session,
    feed_id: int,
    refs: Sequence[EventRef],
    windows: Windows,
    *,
    id_hints: Mapping[datetime, int] | None = None,
) -> list[int]:
    """Stitch ``refs`` (stream order) onto the feed's sessions and store sessions and links.
    Returns the ids of the sessions that changed. ``id_hints`` (rebuild) gives a new session the
    id its start time had before, so links, bookmarks and owner data keep pointing at it."""
    if not refs:
        return []
    row = latest_session(db, feed_id)
    current = draft_of(row) if row is not None else None
    drafts = stitch(current, refs, merge_window=windows.merge_window, stale_after=windows.stale_after)
    changed: list[int] = []
    links: list[dict[str, int]] = []
    for draft in drafts:
        if not draft.changed and not draft.linked:
            continue
        values = {
            "status": str(draft.status), "started_at": draft.started_at, "ended_at": draft.ended_at,
            "last_event_at": draft.last_event_at, "finalize_after": draft.finalize_after,
            "segments": segments_to_json(draft.segments),
        }
        if draft.id is None:
            hinted = id_hints.get(draft.started_at) if id_hints else None
            if hinted is not None:
                values["id"] = hinted
            draft.id = db.execute(
                insert(BroadcastSession).values(
                    feed_id=feed_id, event_count=len(draft.linked), stats=empty_stats(), timeline=[],
                    subjects=[], **values,
                ).returning(BroadcastSession.id)
            ).scalar_one()
        else:
            db.execute(
                update(BroadcastSession).where(BroadcastSession.id == draft.id)
                .values(event_count=BroadcastSession.event_count + len(draft.linked), **values)
                .execution_options(synchronize_session=False)
            )
        links.extend({"event_pk": pk, "session_id": draft.id} for pk in draft.linked)
        changed.append(draft.id)
    linked = {link["event_pk"] for link in links}
    first_start = drafts[0].started_at if drafts else None
    stragglers = [r for r in refs if r.pk not in linked and first_start is not None and r.at < first_start]
    if stragglers:
        for sid, pk in _older_windows(db, feed_id, stragglers, exclude={d.id for d in drafts}):
            links.append({"event_pk": pk, "session_id": sid})
            if sid not in changed:
                changed.append(sid)
    if links:
        db.execute(insert(SessionEvent), links)
        for sid in {link["session_id"] for link in links} - {d.id for d in drafts}:
            _touch_older(db, sid, links)
    return changed


def _older_windows(
    db: Session, feed_id: int, refs: list[EventRef], exclude: set[int | None]
) -> list[tuple[int, int]]:
    """Events stamped inside an earlier session's segment but delivered after it: they belong to
    that session (rare; only looked up when an event is older than the latest session)."""
    rows = db.execute(
        select(BroadcastSession.id, BroadcastSession.segments)
        .where(
            BroadcastSession.feed_id == feed_id,
            BroadcastSession.started_at <= max(r.at for r in refs),
            BroadcastSession.ended_at >= min(r.at for r in refs),
        )
        .order_by(BroadcastSession.started_at.desc(), BroadcastSession.id.desc())
    ).all()
    found: list[tuple[int, int]] = []
    for ref in refs:
        for sid, segments in rows:
            if sid not in exclude and in_segments(segments_from_json(segments), ref.at):
                found.append((sid, ref.pk))
                break
    return found


def _touch_older(db: Session, session_id: int, links: list[dict[str, int]]) -> None:
    added = sum(1 for link in links if link["session_id"] == session_id)
    db.execute(
        update(BroadcastSession).where(BroadcastSession.id == session_id)
        .values(event_count=BroadcastSession.event_count + added)
        .execution_options(synchronize_session=False)
    )


def apply_events(
    db: Session, feed_id: int, events: Sequence[StoredEvent], now: datetime, windows: Windows
) -> list[int]:
    """The ingest step: link the batch's new events to sessions and keep live stats current."""
    refs = [EventRef(s.pk, s.event.method, s.event.event_time) for s in events if s.event.known]
    changed = apply_refs(db, feed_id, refs, windows)
    if changed:
        _refresh_live(db, changed, now)
    return changed


def _refresh_live(db: Session, session_ids: list[int], now: datetime) -> None:
    rows = db.execute(
        select(BroadcastSession.id, BroadcastSession.status, BroadcastSession.stats_at, BroadcastSession.event_count)
        .where(BroadcastSession.id.in_(session_ids))
    ).all()
    due = [
        sid for sid, status, stats_at, count in rows
        # Lifecycle changes (a stop, a re-open) always refresh; a running session at most every
        # live_interval(). Stats become final when the session leaves ``ended``.
        if status != SessionStatus.ACTIVE or stats_at is None or now - stats_at >= live_interval(count)
    ]
    if due:
        refresh_stats(db, due, now)


STALE_STATS_PER_RUN = 25


def refresh_lagging(db: Session, now: datetime) -> list[int]:
    """Run by the minute job: active sessions whose live stats predate their last event (the
    room went quiet before the next refresh was due), and up to STALE_STATS_PER_RUN sessions
    marked stale (``stats_at`` cleared, e.g. by a change of the exclusion list)."""
    ids = list(db.execute(
        select(BroadcastSession.id).where(
            BroadcastSession.status == SessionStatus.ACTIVE,
            BroadcastSession.stats_at < BroadcastSession.last_event_at,
        )
    ).scalars())
    ids += db.execute(
        select(BroadcastSession.id).where(BroadcastSession.stats_at.is_(None))
        .order_by(BroadcastSession.started_at).limit(STALE_STATS_PER_RUN)
    ).scalars()
    if ids:
        refresh_stats(db, ids, now)
    return ids


def end_stale(db: Session, now: datetime, windows: Windows, *, refresh: bool = True) -> list[int]:
    """Watchdog: end every active session with no event for longer than the stale timeout, at its
    last event time (the moment the broadcast is last known to have been running)."""
    rows = db.execute(
        select(BroadcastSession).where(
            BroadcastSession.status == SessionStatus.ACTIVE,
            BroadcastSession.last_event_at < now - windows.stale_after,
        ).order_by(BroadcastSession.id).with_for_update().execution_options(populate_existing=True)
    ).scalars().all()
    for row in rows:
        draft = draft_of(row)
        end_draft(draft, row.last_event_at, windows.merge_window)
        store_draft(db, row, draft)
    if rows and refresh:
        refresh_stats(db, [r.id for r in rows], now)
    return [r.id for r in rows]


def finalize_due(db: Session, now: datetime, *, refresh: bool = True) -> list[int]:
    """Move every ``ended`` session whose ``finalize_after`` has passed to ``pending_finalize``,
    with final stats. Uses the (status, finalize_after) index; idempotent."""
    ids = list(db.execute(
        select(BroadcastSession.id).where(
            BroadcastSession.status == SessionStatus.ENDED, BroadcastSession.finalize_after <= now
        ).order_by(BroadcastSession.id)
    ).scalars())
    if ids and refresh:
        # Final stats first, then the status, so that no reader sees pending_finalize with stats
        # from the last live refresh.
        refresh_stats(db, ids, now)
    if ids:
        db.execute(
            update(BroadcastSession)
            .where(BroadcastSession.id.in_(ids), BroadcastSession.status == SessionStatus.ENDED)
            .values(status=SessionStatus.PENDING_FINALIZE)
            .execution_options(synchronize_session=False)
        )
    return ids


def mark_finalized(db: Session, session_id: int, now: datetime) -> bool:
    """For the summary step: the summary is attached (or unavailable for good). Only a
    ``pending_finalize`` session moves; returns whether it did."""
    result = db.execute(
        update(BroadcastSession)
        .where(BroadcastSession.id == session_id, BroadcastSession.status == SessionStatus.PENDING_FINALIZE)
        .values(status=SessionStatus.FINALIZED, finalized_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def store_draft(db: Session, row: BroadcastSession, draft: Draft) -> None:
    row.status = str(draft.status)
    row.started_at = draft.started_at
    row.ended_at = draft.ended_at
    row.finalize_after = draft.finalize_after
    row.last_event_at = draft.last_event_at
    row.segments = segments_to_json(draft.segments)
    db.flush()
