"""Admin › Jobs: every job with its state, schedule, last run and next due time, its recent runs
and errors, and Run now / Enable / Disable (a core job needs an explicit confirmation to go off)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from greenroom.jobs import queries, service
from greenroom.jobs.models import RunStatus
from greenroom.jobs.registry import load_jobs
from greenroom.secrets import redact
from greenroom.web.pages.admin import AdminTab, register_admin_tab
from greenroom.web.templating import now

router = APIRouter(include_in_schema=False)
HISTORY = 10


def every_text(every: timedelta | None) -> str:
    if every is None:
        return "when queued"
    seconds = int(every.total_seconds())
    if seconds % 3600 == 0:
        return "every hour" if seconds == 3600 else f"every {seconds // 3600} h"
    if seconds % 60 == 0:
        return "every minute" if seconds == 60 else f"every {seconds // 60} min"
    return f"every {seconds} s"


def run_view(run: Any) -> dict[str, Any]:
    length = None
    if run.started_at and run.finished_at:
        length = round((run.finished_at - run.started_at).total_seconds(), 1)
    return {
        "id": run.id, "status": run.status, "slot": run.slot, "attempts": run.attempts,
        "max_attempts": run.max_attempts, "started_at": run.started_at, "finished_at": run.finished_at,
        "run_after": run.run_after, "seconds": length,
        "error": redact(run.error.split("\n", 1)[0]) if run.error else None,
    }


def state_of(job: Any, runs: list[Any]) -> tuple[str, str]:
    """(label, css class): Running green, Failed red, Disabled and Idle grey."""
    if any(r.status == RunStatus.RUNNING for r in runs):
        return "Running", "running"
    if not job.enabled:
        return "Disabled", "idle"
    if job.last_run is not None and job.last_run.status == RunStatus.FAILED:
        return "Failed", "failed"
    return "Idle", "idle"


def jobs_context(request: Request) -> dict[str, Any]:
    load_jobs()
    current = now(request)
    with request.app.state.database.read() as db:
        jobs = queries.overview(db, current)
        histories = {job.name: queries.history(db, job.name, limit=HISTORY) for job in jobs}
    rows = []
    for job in jobs:
        runs = histories[job.name]
        label, css = state_of(job, runs)
        rows.append({
            "name": job.name, "description": job.description, "core": job.core, "enabled": job.enabled,
            "forced_off": job.forced_off, "schedule": every_text(job.every), "defined": job.defined,
            "state": label, "state_class": css, "next_due": job.next_due,
            "overdue": job.next_due is not None and job.next_due <= current,
            "kind": "core" if job.core else ("on demand" if job.every is None else "optional"),
            "last": run_view(job.last_run) if job.last_run else None, "runs": [run_view(r) for r in runs],
        })
    return {"jobs": rows, "notice": request.query_params.get("notice", "")}


register_admin_tab(AdminTab("jobs", "Jobs", "admin/jobs.html", jobs_context))


def _back(notice: str) -> Response:
    from urllib.parse import quote

    return RedirectResponse(f"/admin?tab=jobs&notice={quote(notice)}#jobs", status_code=303)


@router.post("/admin/jobs/{name}/run")
def run_job(request: Request, name: str) -> Response:
    load_jobs()
    service.get_definition(name)
    # Queued for a worker rather than run inside this request: a job may take minutes.
    with request.app.state.database.write() as db:
        run_id = service.enqueue(db, name, key=f"manual:{uuid.uuid4().hex}", now=now(request))
    return _back(f"{name} queued (run {run_id}); a worker starts it within seconds.")


@router.post("/admin/jobs/{name}/enable")
def enable_job(request: Request, name: str) -> Response:
    load_jobs()
    with request.app.state.database.write() as db:
        service.set_enabled(db, name, True, now=now(request))
    return _back(f"{name} enabled.")


@router.post("/admin/jobs/{name}/disable")
def disable_job(request: Request, name: str, force: str = Form(default="")) -> Response:
    load_jobs()
    with request.app.state.database.write() as db:
        service.set_enabled(db, name, False, now=now(request), force=force == "1")
    return _back(f"{name} disabled.")
