"""The web application: pages, the JSON API, auth, errors and static files.

Features add pages and endpoints by listing a module exposing ``router`` in ``ROUTER_MODULES``.
Every route is behind the auth gate (greenroom/web/gate.py) unless the gate lists it as open, and
every state-changing request through a login cookie must carry the session's CSRF token.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Mount

from greenroom.config import Settings
from greenroom.db.engine import Database
from greenroom.db.types import utcnow
from greenroom.errors import GreenroomError
from greenroom.logs import get_logger
from greenroom.web import auth
from greenroom.web.gate import SECURITY_HEADERS, AuthGate, session_signer
from greenroom.web.templating import NAV, current_principal, render

log = get_logger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"

# Modules exposing ``router`` (a FastAPI APIRouter), included in this order.
ROUTER_MODULES = [
    "greenroom.web.pages.auth",
    "greenroom.web.pages.dashboard",
    "greenroom.web.pages.admin",
    "greenroom.web.pages.admin_jobs",
    "greenroom.web.pages.admin_settings",
    "greenroom.web.pages.admin_data",
    "greenroom.web.pages.admin_backup",
    "greenroom.web.pages.stream",
    "greenroom.web.pages.sessions",
    "greenroom.web.pages.people",
    "greenroom.web.pages.profile",
    "greenroom.web.pages.inbox",
    "greenroom.web.pages.visitors",
    "greenroom.web.pages.leaderboards",
    "greenroom.web.pages.admin_feeds",
    "greenroom.web.pages.admin_import",
    "greenroom.web.pages.summaries",
    "greenroom.web.api.health",
    "greenroom.web.api.events",
    "greenroom.web.api.feeds",
    "greenroom.web.api.docs",
    "greenroom.web.api.sessions",
    "greenroom.web.api.summaries",
    "greenroom.web.api.people",
    "greenroom.web.api.inbox",
    "greenroom.web.api.visits",
    "greenroom.web.api.leaderboards",
    "greenroom.web.api.imports",
    "greenroom.web.api.stats",
]
# Navigation pages no router has claimed get an honest "not available yet" page (added last).
PLACEHOLDER_MODULE = "greenroom.web.pages.placeholders"

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _effective_settings(database: Database, settings: Settings) -> Settings:
    from sqlalchemy.exc import SQLAlchemyError

    from greenroom.prefs.service import effective

    try:
        with database.read() as db:
            return effective(db, settings)
    except SQLAlchemyError:  # a database not migrated yet has no saved settings
        return settings


class CsrfRejected(GreenroomError):
    status_code = 403
    code = "csrf_rejected"


async def enforce_csrf(request: Request) -> None:
    """State-changing requests made with a login cookie must prove they come from our own pages:
    forms carry the session's token in ``csrf_token``, scripts send it as ``X-CSRF-Token``. Bearer
    tokens are never sent by a browser on its own, so they need no such proof."""
    if request.method in SAFE_METHODS:
        return
    principal = current_principal(request)
    if principal is None or principal.kind != "session":
        return  # open routes (the login form) check their own token
    given = request.headers.get("x-csrf-token")
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get("csrf_token")
            given = value if isinstance(value, str) else None
    if not auth.csrf_matches(principal.csrf_token, given):
        raise CsrfRejected("this form has expired or did not come from Greenroom; reload the page and try again")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _error_response(request: Request, status: int, code: str, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GreenroomError)
    def _domain_error(request: Request, exc: GreenroomError) -> Response:
        return _error_response(request, exc.status_code, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "There is no such page.", 405: "That method is not allowed here."}
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code not in messages else \
            messages.get(exc.status_code, "The request could not be handled.")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        response = _error_response(request, exc.status_code, code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("query", "body", "path"))
            problems.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg")))
        message = "invalid request: " + "; ".join(problems)
        return _error_response(request, 422 if _is_api(request) else 400, "invalid_request", message)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    def _out_of_range(request: Request, exc: Exception) -> Response:
        # A value no column can hold, e.g. an id of 2**64 in the URL: SQLite refuses to bind it
        # (OverflowError), PostgreSQL refuses the query (DataError). Either way the request's fault.
        log.warning("request with a value out of range", path=request.url.path, error=type(exc).__name__)
        return _error_response(request, 422 if _is_api(request) else 400, "invalid_request",
                               "invalid request: a value is out of range")

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("request failed", path=request.url.path, error=exc)
        response = _error_response(request, 500, "internal_error", "Something went wrong; the log has the details.")
        # Starlette runs this handler outside every middleware, the auth gate's security headers
        # included: an error page must not be the one page that can be framed or sniffed.
        for name, value in SECURITY_HEADERS:
            response.headers.setdefault(name.decode(), value.decode())
        response.headers.setdefault("cache-control", "no-store")
        return response


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, through included routers (mounts as ``/prefix/*``)."""
    table = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            table.append(("GET", route.path + "/*"))
            continue
        path = context.path_format or context.path
        for method in sorted(context.methods or {"GET"}):
            if path is not None and method != "HEAD":
                table.append((method, path))
    return table


def create_app(
    settings: Settings,
    database: Database,
    *,
    runtime_status: Any = None,
    clock: Callable[[], datetime] = utcnow,
    stream_seconds: float = 300.0,
) -> FastAPI:
    """Build the app.

    ``runtime_status`` (optional) is what the running process knows and the database does not
    (which threads it started, demo or real feed): a mapping, a callable returning one, or the
    runtime object itself; the Admin status tab lists it. ``clock`` is the time
    source for sessions, rate limits and "x min ago"; ``stream_seconds`` bounds one live-update
    connection (the browser reconnects and resumes where it left off).
    """
    app = FastAPI(
        title="Greenroom",
        version="0.1.0",
        summary="Streaming intelligence and relationship memory for a broadcaster. JSON API.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(enforce_csrf)],
    )
    # What the environment says, and what is in force: the owner's saved settings over it.
    app.state.env_settings = settings
    app.state.settings = _effective_settings(database, settings)
    app.state.database = database
    app.state.clock = clock
    app.state.runtime_status = runtime_status
    app.state.stream_seconds = stream_seconds
    app.state.signer = session_signer(auth.signing_key(settings))

    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    claimed = {path for _method, path in route_table(app)}
    placeholders = importlib.import_module(PLACEHOLDER_MODULE)
    app.include_router(placeholders.router_for([item for item in NAV if item.path not in claimed]))

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_error_handlers(app)
    app.add_middleware(AuthGate, state=app.state)
    return app
