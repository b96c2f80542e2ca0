"""The data tools as queued jobs, so the Admin page can start them and show their progress:
``data.rebuild`` (every derived table from the event store; owner data and summaries are kept)
and ``data.doctor`` (invariant checks; repairs with ``fix``).

These jobs sit at the top of the layers (they drive every derived feature), which is why they
live here and not in one feature. Progress goes to a small JSON file in the data folder rather
than the database: the rebuild is one write transaction, and on SQLite a second writer (a progress
row) would wait for that very transaction to end.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from greenroom.jobs.registry import JobContext, job
from greenroom.maintenance.rebuild import rebuild_all
from greenroom.prefs.service import effective
from greenroom.sessions.doctor import run_doctor
from greenroom.sessions.service import Windows

KEPT = ("session notes and tags", "manual session edits (replayed)", "summaries, every version",
        "excluded users", "settings and jobs")


def progress_path(settings: Any, run_id: int) -> Path:
    return Path(getattr(settings, "data_dir", ".")) / "progress" / f"run-{int(run_id)}.json"


def read_progress(settings: Any, run_id: int) -> dict[str, Any] | None:
    try:
        return json.loads(progress_path(settings, run_id).read_text())
    except (OSError, ValueError):
        return None


class _Reporter:
    """Writes (phase, done, total) at most a few times a second, atomically (rename)."""

    def __init__(self, settings: Any, run_id: int | None) -> None:
        self.path = progress_path(settings, run_id) if run_id is not None else None
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int, *, force: bool = False) -> None:
        if self.path is None or (not force and time.monotonic() - self.last < 0.3 and done < total):
            return
        self.last = time.monotonic()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"phase": phase, "done": done, "total": total}))
        os.replace(tmp, self.path)


def _settings(ctx: JobContext) -> Any:
    with ctx.database.read() as db:
        return effective(db, ctx.settings)


@job("data.rebuild", max_attempts=1, timeout=6 * 3600)
def rebuild_job(ctx: JobContext) -> dict[str, Any]:
    """Rebuild sessions, stats, people, inbox and visits from the event store, keeping owner data."""
    settings = _settings(ctx)
    report = _Reporter(ctx.settings, ctx.run_id)
    report("starting", 0, 1, force=True)
    with ctx.database.write() as db:
        full = rebuild_all(db, ctx.now, Windows.from_settings(settings), progress=report)
    report("done", 1, 1, force=True)
    result = full.sessions
    return {"events": result.events, "sessions": result.sessions, "links": result.links,
            "edits_replayed": result.edits_replayed, "edits_skipped": result.edits_skipped,
            "people_events": full.people_events, "inbox_events": full.inbox_events,
            "visit_events": full.visit_events}


@job("data.doctor", max_attempts=1, timeout=3600)
def doctor_job(ctx: JobContext) -> dict[str, Any]:
    """Check the data's invariants; with fix=true also repair what can be repaired."""
    settings = _settings(ctx)
    fix = bool(ctx.args.get("fix"))
    report = _Reporter(ctx.settings, ctx.run_id)
    report("checking", 0, 1, force=True)
    unit = ctx.database.write() if fix else ctx.database.read()
    with unit as db:
        result = run_doctor(db, ctx.now, Windows.from_settings(settings), fix=fix)
    report("done", 1, 1, force=True)
    return {"fix": fix, "ok": result.ok, "fixed": result.fixed,
            "findings": [{"check": f.check, "detail": f.detail, "fixable": f.fixable} for f in result.findings]}
