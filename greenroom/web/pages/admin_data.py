"""Admin › Data: Rebuild and Doctor started from the page as queued jobs, with progress polled
from ``GET /api/admin/runs/{id}`` by our own small script (static/admin.js)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from greenroom.errors import BadRequest, NotFound
from greenroom.jobs import queries, service
from greenroom.jobs.models import FINISHED, JobRun
from greenroom.secrets import redact
from greenroom.web.datatools import KEPT, read_progress
from greenroom.web.pages.admin import AdminTab, register_admin_tab
from greenroom.web.pages.admin_import import import_context
from greenroom.web.templating import now

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/admin", tags=["admin"])
TOOLS = {"rebuild": "data.rebuild", "doctor": "data.doctor"}


def run_status(request: Request, run: JobRun) -> dict[str, Any]:
    progress = read_progress(request.app.state.settings, run.id) if run.status not in FINISHED else None
    return {
        "id": run.id, "job": run.job, "status": run.status, "finished": run.status in FINISHED,
        "progress": progress, "result": run.result if run.status in FINISHED else None,
        "error": redact(run.error.split("\n", 1)[0]) if run.error else None,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def data_context(request: Request) -> dict[str, Any]:
    with request.app.state.database.read() as db:
        runs = {tool: queries.history(db, job, limit=5) for tool, job in TOOLS.items()}
    return {"kept": KEPT, "dt": lambda iso: datetime.fromisoformat(iso) if iso else None,
            "runs": {tool: [run_status(request, r) for r in rs] for tool, rs in runs.items()},
            **import_context(request)}


register_admin_tab(AdminTab("data", "Data", "admin/data.html", data_context))


@router.post("/admin/data/{tool}")
def start_tool(request: Request, tool: str, fix: str = Form(default=""), confirmed: str = Form(default="")) -> Response:
    if tool not in TOOLS:
        raise NotFound(f"no data tool {tool!r}")
    if tool == "rebuild" and confirmed != "1":
        raise BadRequest("confirm the rebuild first")
    with request.app.state.database.write() as db:
        service.enqueue(db, TOOLS[tool], args={"fix": fix == "1"} if tool == "doctor" else {},
                        key=f"manual:{uuid.uuid4().hex}", now=now(request))
    return RedirectResponse(f"/admin?tab=data#{tool}", status_code=303)


@api.get("/runs/{run_id}", summary="A job run's status, progress and result (data tools)")
def get_run(request: Request, run_id: int) -> dict[str, Any]:
    with request.app.state.database.read() as db:
        run = db.execute(select(JobRun).where(JobRun.id == run_id)).scalar_one_or_none()
        if run is None:
            raise NotFound(f"no job run {run_id}")
        return run_status(request, run)


router.include_router(api)
