"""Rebuild every derived table from the event store, in one transaction.

Sessions (with the owner's manual edits replayed), people, inbox threads and visits are each
recomputed through the same code their live ingest step uses. Owner data — notes, tags, manual
edits, relationships, images, watchlists, exclusions, read state, summaries — lives in tables
none of these touch. One transaction: a crash (even kill -9) leaves the previous derived state,
a commit publishes the new one complete; never a mix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenroom.events.models import Event, Feed
from greenroom.inbox.ingest import rebuild_inbox
from greenroom.people.ingest import rebuild_people
from greenroom.sessions.rebuild import RebuildReport
from greenroom.sessions.rebuild import rebuild as rebuild_sessions
from greenroom.sessions.service import Windows
from greenroom.visits.ingest import rebuild_visits

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class FullReport:
    sessions: RebuildReport
    people_events: int = 0
    inbox_events: int = 0
    visit_events: int = 0
    feeds: list[str] = field(default_factory=list)


def rebuild_all(db: Session, now: datetime, windows: Windows, *, progress: Progress | None = None) -> FullReport:
    """Recompute all derived data inside the caller's transaction."""
    report = FullReport(sessions=rebuild_sessions(db, now, windows, progress=progress))
    feeds = db.execute(select(Feed.id, Feed.broadcaster).order_by(Feed.id)).all()
    for feed_id, broadcaster in feeds:
        report.feeds.append(broadcaster)
        total = db.scalar(select(func.count()).select_from(Event).where(Event.feed_id == feed_id)) or 0
        for phase, step in (("people", rebuild_people), ("inbox", rebuild_inbox), ("visits", rebuild_visits)):
            label = f"{phase} ({broadcaster})" if len(feeds) > 1 else phase

            def tick(done: int, label: str = label, total: int = total) -> None:
                if progress is not None:
                    progress(label, done, total)

            tick(0)
            replayed = step(db, feed_id, now, progress=tick)
            tick(total)
            if phase == "people":
                report.people_events += replayed
            elif phase == "inbox":
                report.inbox_events += replayed
            else:
                report.visit_events += replayed
    return report
