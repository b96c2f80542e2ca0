"""Invariant checks over the event store and sessions, with repairs.

``check`` only reads. ``fix`` repairs inside the caller's transaction: the CLI runs it as a dry run
(rolled back) unless ``--fix`` is given, so the owner sees exactly what would change first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from greenroom.events.models import Event
from greenroom.sessions.models import BroadcastSession, SessionEvent, SessionStatus
from greenroom.sessions.notes import orphaned_note_ids
from greenroom.sessions.service import Windows, end_stale, finalize_due
from greenroom.sessions.stats import compute_rollup, excluded_users, refresh_stats
from greenroom.sessions.stitching import closed_segments, segments_from_json


@dataclass
class Finding:
    check: str
    detail: str
    fixable: bool = True


@dataclass
class DoctorReport:
    findings: list[Finding] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def run_doctor(db: Session, now: datetime, windows: Windows, *, fix: bool) -> DoctorReport:
    """Check every invariant; with ``fix`` also repair what can be repaired."""
    report = DoctorReport()
    _duplicates(db, report)
    _unlinked(db, report, fix)
    _stuck(db, now, windows, report, fix)
    _stats(db, now, report, fix)
    for sid in orphaned_note_ids(db):
        report.findings.append(Finding("orphaned_notes", f"notes of session {sid}, which no longer exists "
                                       "(kept; nothing is deleted)", fixable=False))
    return report


def _duplicates(db: Session, report: DoctorReport) -> None:
    rows = db.execute(
        select(Event.feed_id, Event.event_id, func.count()).group_by(Event.feed_id, Event.event_id)
        .having(func.count() > 1)
    ).all()
    for feed_id, event_id, count in rows:
        # The unique key makes this impossible; if it ever shows, a human must look (never delete).
        report.findings.append(Finding("duplicate_events", f"feed {feed_id}: event {event_id} stored {count}×",
                                       fixable=False))


def _unlinked(db: Session, report: DoctorReport, fix: bool) -> None:
    linked = select(SessionEvent.event_pk)
    sessions = db.execute(select(BroadcastSession.id, BroadcastSession.feed_id, BroadcastSession.segments,
                                 BroadcastSession.last_event_at)).all()
    for sid, feed_id, raw, last in sessions:
        for start, end in closed_segments(segments_from_json(raw), last):
            missing = list(db.execute(select(Event.id).where(
                Event.feed_id == feed_id, Event.known.is_(True), Event.event_time >= start,
                Event.event_time <= end, Event.id.not_in(linked),
            )).scalars())
            if not missing:
                continue
            report.findings.append(Finding("unlinked_events", f"session {sid}: {len(missing)} events inside "
                                           f"{start.isoformat()}–{end.isoformat()} are not linked to it"))
            if fix:
                db.execute(insert(SessionEvent), [{"event_pk": pk, "session_id": sid} for pk in missing])
                report.fixed.append(f"linked {len(missing)} events to session {sid}")


def _stuck(db: Session, now: datetime, windows: Windows, report: DoctorReport, fix: bool) -> None:
    stale = db.execute(select(BroadcastSession.id).where(
        BroadcastSession.status == SessionStatus.ACTIVE,
        BroadcastSession.last_event_at < now - windows.stale_after,
    )).scalars().all()
    due = db.execute(select(BroadcastSession.id).where(
        BroadcastSession.status == SessionStatus.ENDED, BroadcastSession.finalize_after <= now,
    )).scalars().all()
    for sid in stale:
        report.findings.append(Finding("stuck_active", f"session {sid} is active with no event for longer "
                                       "than the stale timeout"))
    for sid in due:
        report.findings.append(Finding("stuck_ended", f"session {sid} is ended past its finalize time"))
    if fix and (stale or due):
        ended = end_stale(db, now, windows)
        finalized = finalize_due(db, now)
        report.fixed.append(f"ended {len(ended)} stale sessions, finalized {len(finalized)}")


def _stats(db: Session, now: datetime, report: DoctorReport, fix: bool) -> None:
    excluded = excluded_users(db)
    rows = db.execute(select(BroadcastSession).where(BroadcastSession.status != SessionStatus.ACTIVE)
                      .order_by(BroadcastSession.started_at)).scalars().all()
    for row in rows:
        fresh = compute_rollup(db, row, excluded, store=False)
        count = db.scalar(select(func.count()).select_from(SessionEvent).where(SessionEvent.session_id == row.id))
        if fresh.stats != row.stats or fresh.timeline != row.timeline or count != row.event_count:
            changed = sorted(k for k in fresh.stats if (row.stats or {}).get(k) != fresh.stats[k])
            report.findings.append(Finding("stale_stats", f"session {row.id}: stored stats differ from a "
                                           f"recomputation ({', '.join(changed) or 'timeline/count'})"))
            if fix:
                row.event_count = count or 0
                db.flush()
                refresh_stats(db, [row.id], now)
                report.fixed.append(f"recomputed stats of session {row.id}")
