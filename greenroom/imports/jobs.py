"""Jobs of this feature: ``imports.apply`` inserts a staged token-history import.

Progress goes to the same small JSON file the Admin page already follows for its data tools
(``<data_dir>/progress/run-<id>.json``): the insert is one write transaction, and on SQLite a
progress row written beside it would wait for that very transaction.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from greenroom.imports import service
from greenroom.jobs.registry import JobContext, job
from greenroom.secrets import redact


class FileProgress:
    """Writes (phase, done, total) at most a few times a second, atomically (rename)."""

    def __init__(self, settings: Any, run_id: int | None) -> None:
        base = Path(getattr(settings, "data_dir", "."))
        self.path = base / "progress" / f"run-{int(run_id)}.json" if run_id is not None else None
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int, *, force: bool = False) -> None:
        if self.path is None or (not force and time.monotonic() - self.last < 0.3 and done < total):
            return
        self.last = time.monotonic()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"phase": phase, "done": done, "total": total}))
        os.replace(tmp, self.path)


@job("imports.apply", max_attempts=1, timeout=3600)
def apply_job(ctx: JobContext) -> dict[str, Any]:
    """Import the rows of a previewed token-history file (new transactions only)."""
    import_id = int(ctx.args["import_id"])
    report = FileProgress(ctx.settings, ctx.run_id)
    report("starting", 0, 1, force=True)
    try:
        with ctx.database.write() as db:
            record = service.apply(db, import_id, ctx.now, report)
            result = {"import_id": import_id, "rows_read": record.rows_read, "rows_new": record.rows_new,
                      "rows_present": record.rows_present}
    except Exception as exc:
        with ctx.database.write() as db:
            service.mark_failed(db, import_id, redact(f"{type(exc).__name__}: {exc}"), ctx.now)
        raise
    report("done", 1, 1, force=True)
    return result
