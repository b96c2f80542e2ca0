"""Admin › Data › Token-history import: upload → preview → Import (a job with a progress bar) →
summary, and the list of past imports. Plain forms; static/imports.js follows the progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, File, Request, UploadFile
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from greenroom.errors import GreenroomError
from greenroom.imports import queries, service
from greenroom.imports.models import ImportStatus
from greenroom.imports.parse import ALIASES, CATEGORY_LABELS, EVENTS_API_CATEGORIES, INCOME_CATEGORIES, MAX_BYTES
from greenroom.jobs.models import FINISHED, JobRun
from greenroom.secrets import redact
from greenroom.web.api.imports import queue_import, read_upload, stage_upload
from greenroom.web.api.people_common import feed_id_of, require_feed
from greenroom.web.datatools import read_progress
from greenroom.web.templating import render

router = APIRouter(include_in_schema=False)
SECTION = "/admin?tab=data"


def _back(import_id: int | None = None) -> RedirectResponse:
    query = f"&import={int(import_id)}" if import_id is not None else ""
    return RedirectResponse(f"{SECTION}{query}#token-import", status_code=303)


def _run(request: Request, db: Any, run_id: int | None) -> dict[str, Any] | None:
    if not run_id:
        return None
    run = db.execute(select(JobRun).where(JobRun.id == run_id)).scalar_one_or_none()
    if run is None:
        return None
    finished = run.status in FINISHED
    return {"id": run.id, "status": run.status, "finished": finished,
            "progress": None if finished else read_progress(request.app.state.settings, run.id),
            "error": redact(run.error.split("\n", 1)[0]) if run.error else None}


def import_context(request: Request) -> dict[str, Any]:
    """What the Data tab's import section shows: the import being looked at (the one in the URL,
    else the latest one still waiting or running) and the past imports."""
    feed_id = feed_id_of(request)
    ctx: dict[str, Any] = {"imp": None, "imp_run": None, "imports": [], "imp_max_bytes": MAX_BYTES,
                           "imp_aliases": ALIASES, "imp_counted": [CATEGORY_LABELS[c] for c in INCOME_CATEGORIES],
                           "imp_not_counted": [CATEGORY_LABELS[c] for c in EVENTS_API_CATEGORIES],
                           "imp_dt": lambda iso: datetime.fromisoformat(iso) if iso else None, "imp_feed": feed_id}
    if feed_id is None:
        return ctx
    wanted = request.query_params.get("import", "")
    with request.app.state.database.read() as db:
        records = queries.list_imports(db, feed_id, limit=20)
        current = None
        if wanted.isdigit() and len(wanted) < 12:
            try:
                current = service.get_import(db, int(wanted), feed_id)
            except GreenroomError:
                current = None
        if current is None:
            current = next((r for r in records if r.status in (ImportStatus.PREVIEW, ImportStatus.QUEUED)), None)
        if current is not None:
            ctx["imp"] = queries.import_json(current, with_rows=True)
            ctx["imp_run"] = _run(request, db, current.run_id) if current.status == ImportStatus.QUEUED else None
        ctx["imports"] = [queries.import_json(r) for r in records]
        ctx["imp_stored"] = queries.stored_count(db, feed_id)
    return ctx


def _error_page(request: Request, exc: GreenroomError) -> Response:
    return render(request, "error.html", {"status": exc.status_code, "message": exc.message},
                  status_code=exc.status_code)


@router.post("/admin/import/upload")
async def upload(request: Request, file: UploadFile = File(...)) -> Response:
    feed_id = require_feed(request)
    try:
        data = await read_upload(file)
    except GreenroomError as exc:
        return _error_page(request, exc)
    record = stage_upload(request, feed_id, file.filename or "upload.csv", data)
    return _back(record.id)


@router.post("/admin/import/{import_id}/apply")
def apply(request: Request, import_id: int) -> Response:
    feed_id = require_feed(request)
    queue_import(request, feed_id, import_id)
    return _back(import_id)


@router.post("/admin/import/{import_id}/discard")
def discard(request: Request, import_id: int) -> Response:
    feed_id = require_feed(request)
    with request.app.state.database.write() as db:
        service.discard(db, import_id, feed_id)
    return _back()
