"""Token-history imports over JSON: upload (parsed and kept as a preview), import, discard, list.

Uploads are multipart (``file``). A malformed file answers 422 with every line error and nothing
is imported; the parsed rows of a good file wait as a preview until ``POST /{id}/import`` queues
the job that inserts them (follow it at ``/api/admin/runs/{run_id}``).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from greenroom.errors import GreenroomError
from greenroom.imports import queries, service
from greenroom.imports.models import ImportStatus
from greenroom.imports.parse import MAX_BYTES
from greenroom.jobs import service as jobs
from greenroom.web.api.people_common import clock, require_feed, room_param
from greenroom.web.api.schemas import ERROR_RESPONSES, ErrorOut

router = APIRouter(prefix="/api/imports", tags=["imports"], dependencies=[Depends(room_param)])
READ_CHUNK = 256 * 1024


class ImportRejectedError(GreenroomError):
    status_code = 422
    code = "import_rejected"


class CategoryOut(BaseModel):
    category: str
    label: str
    count: int
    tokens: int
    counted: bool = False


class LineErrorOut(BaseModel):
    line: int | None
    reason: str


class PreviewRowOut(BaseModel):
    line: int
    occurred_at: str
    username: str
    tokens: int
    category: str
    type: str
    note: str


class ImportOut(BaseModel):
    id: int
    feed_id: int
    filename: str
    source: str
    status: str
    size_bytes: int
    rows_read: int
    rows_new: int
    rows_present: int
    first_at: str | None
    last_at: str | None
    categories: list[CategoryOut]
    income_tokens: int
    people: int
    timezone: str | None
    columns: dict[str, str]
    errors: list[LineErrorOut]
    more_errors: bool
    run_id: int | None
    error: str | None
    created_at: str
    finished_at: str | None
    preview: list[PreviewRowOut] | None = None


class ImportsOut(BaseModel):
    imports: list[ImportOut]
    stored_transactions: int


class QueuedOut(BaseModel):
    run_id: int
    progress_url: str
    import_: ImportOut = Field(alias="import")


class DeletedOut(BaseModel):
    deleted: int


class IncomeCategoryOut(BaseModel):
    category: str
    label: str
    count: int
    tokens: int


class ImportedIncomeOut(BaseModel):
    """Income the Events API cannot see (private and spy shows, fan-club payments...), read from
    imported token history; tips and media purchases are never part of it."""

    source: str
    total_tokens: int
    count: int
    categories: list[IncomeCategoryOut]
    first_at: str | None
    last_at: str | None


REJECTED = {422: {"model": ErrorOut, "description": "The file is malformed: nothing was imported."}}
MISSING = {404: {"model": ErrorOut, "description": "No such import, or no room yet."}}
STATE = {409: {"model": ErrorOut, "description": "The import is not a preview (queued, done or rejected)."}}


async def read_upload(file: UploadFile) -> bytes:
    """The upload's bytes, refusing more than the size limit without keeping them."""
    data = bytearray()
    while chunk := await file.read(READ_CHUNK):
        data.extend(chunk)
        if len(data) > MAX_BYTES:
            raise ImportRejectedError(f"the file is too big (the limit is {MAX_BYTES:,} bytes): nothing was imported")
    return bytes(data)


def stage_upload(request: Request, feed_id: int, filename: str, data: bytes) -> Any:
    with request.app.state.database.write() as db:
        return service.stage(db, feed_id=feed_id, filename=filename, data=data,
                             timezone=request.app.state.settings.timezone, now=clock(request))


def queue_import(request: Request, feed_id: int, import_id: int) -> tuple[int, Any]:
    with request.app.state.database.write() as db:
        service.check_queueable(service.get_import(db, import_id, feed_id))
        run_id = jobs.enqueue(db, "imports.apply", args={"import_id": import_id},
                              key=f"import:{import_id}:{uuid.uuid4().hex}", now=clock(request))
        return run_id, service.mark_queued(db, import_id, run_id, feed_id)


def rejection_message(errors: list[dict[str, Any]]) -> str:
    parts = [f"line {e['line']}: {e['reason']}" if e.get("line") else e["reason"] for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "the file was rejected, nothing was imported: " + "; ".join(parts) + more


@router.get("", summary="Past token-history imports of the room being looked at", response_model=ImportsOut,
            responses={**ERROR_RESPONSES, **MISSING})
def list_imports(request: Request) -> dict[str, Any]:
    feed_id = require_feed(request)
    with request.app.state.database.read() as db:
        return {"imports": [queries.import_json(r) for r in queries.list_imports(db, feed_id, limit=50)],
                "stored_transactions": queries.stored_count(db, feed_id)}


@router.post("", summary="Upload a token-history CSV: parsed and kept as a preview (nothing imported yet)",
             response_model=ImportOut, status_code=201, responses={**ERROR_RESPONSES, **MISSING, **REJECTED})
async def upload(request: Request, file: UploadFile = File(..., description="The site's token-history CSV")) -> Any:
    feed_id = require_feed(request)
    data = await read_upload(file)
    record = stage_upload(request, feed_id, file.filename or "upload.csv", data)
    out = queries.import_json(record, with_rows=True)
    if record.status == ImportStatus.REJECTED:
        body = {"error": {"code": ImportRejectedError.code, "message": rejection_message(out["errors"])},
                "import": out}
        return JSONResponse(body, status_code=422)
    return out


@router.get("/{import_id}", summary="One import: counts and sums by type, first rows, errors",
            response_model=ImportOut, responses={**ERROR_RESPONSES, **MISSING})
def get_import(request: Request, import_id: int) -> dict[str, Any]:
    feed_id = require_feed(request)
    with request.app.state.database.read() as db:
        return queries.import_json(service.get_import(db, import_id, feed_id), with_rows=True)


@router.post("/{import_id}/import", summary="Import a previewed file's new transactions (runs as a job)",
             response_model=QueuedOut, status_code=202, responses={**ERROR_RESPONSES, **MISSING, **STATE})
def apply_import(request: Request, import_id: int) -> dict[str, Any]:
    feed_id = require_feed(request)
    run_id, record = queue_import(request, feed_id, import_id)
    return {"run_id": run_id, "progress_url": f"/api/admin/runs/{run_id}",
            "import": queries.import_json(record, with_rows=False)}


@router.delete("/{import_id}", summary="Discard a preview or a rejected upload (imported rows stay)",
               response_model=DeletedOut, responses={**ERROR_RESPONSES, **MISSING, **STATE})
def discard(request: Request, import_id: int) -> dict[str, Any]:
    feed_id = require_feed(request)
    with request.app.state.database.write() as db:
        service.discard(db, import_id, feed_id)
    return {"deleted": import_id}

