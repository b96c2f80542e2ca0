"""What the Summary block of a session shows, shared by its page and its JSON API."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from greenroom.secrets import redact
from greenroom.sessions.models import BroadcastSession, SessionStatus
from greenroom.summaries import service


def summary_state(db: Session, row: BroadcastSession) -> dict[str, Any]:
    """``state`` is one of: live (no summary while broadcasting), writing, ok, unavailable, none
    (ended, waiting for its window to pass). ``latest`` and ``older`` are summary JSON documents."""
    versions = service.history(db, row.id)
    run = service.active_run(db, row.id)
    latest = versions[0] if versions else None
    if run is not None:
        state = "writing"
    elif row.status == SessionStatus.PENDING_FINALIZE:
        state = "writing"  # the sweep queues its run within a minute
    elif latest is not None:
        state = latest.status
    elif row.status == SessionStatus.ACTIVE:
        state = "live"
    else:
        state = "none"
    pending = None
    if run is not None:
        pending = {
            "run_id": run.id, "status": run.status, "attempts": run.attempts, "max_attempts": run.max_attempts,
            "run_after": run.run_after.isoformat(),
            "last_error": redact((run.error or "").split("\n", 1)[0]) or None,
        }
    return {
        "session_id": row.id, "session_status": row.status, "state": state, "pending": pending,
        "latest": service.summary_json(latest), "older": [service.summary_json(v) for v in versions[1:]],
        "can_regenerate": row.status != SessionStatus.ACTIVE and run is None,
    }
