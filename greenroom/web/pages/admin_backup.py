"""Admin › Data › Backup: download a backup of the whole installation, streamed as it is written
(optionally encrypted with a password typed into the form). Restoring is done with the
``greenroom restore`` command while every Greenroom process is stopped (see docs/backup.md)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.responses import Response, StreamingResponse

from greenroom.backup.dump import iter_backup
from greenroom.errors import BadRequest
from greenroom.web.templating import now

router = APIRouter(include_in_schema=False)
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


@router.post("/admin/backup")
def download_backup(request: Request, password: str = Form(default="", max_length=MAX_PASSWORD),
                    password_again: str = Form(default="", max_length=MAX_PASSWORD)) -> Response:
    """The backup file as a download; with a password it is encrypted (scrypt + AES-256-GCM)."""
    if password or password_again:
        if password != password_again:
            raise BadRequest("the two passwords differ")
        if len(password) < MIN_PASSWORD:
            raise BadRequest(f"the backup password needs at least {MIN_PASSWORD} characters")
    started = now(request)
    name = f"greenroom-{started:%Y%m%d-%H%M%S}{'-encrypted' if password else ''}.greenroom-backup"
    body = iter_backup(request.app.state.database, request.app.state.settings.data_dir,
                       password=password or None, now=started)
    return StreamingResponse(body, media_type="application/octet-stream",
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      "Cache-Control": "no-store"})
