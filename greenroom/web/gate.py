"""The auth gate and the security headers, as one plain ASGI middleware.

Authentication is checked here, before routing, rather than per route: a route added later by any
feature is closed by default, and the only open ones are the few listed in ``OPEN_ROUTES``.
The database look-up runs in a worker thread so the event loop never waits on it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio
from itsdangerous import BadSignature, Signer
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenroom.web import auth

SESSION_COOKIE = "greenroom_session"
OPEN_ROUTES = frozenset({("GET", "/api/health"), ("GET", "/login"), ("POST", "/login")})
OPEN_PREFIXES = ("/static/",)

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def session_signer(key: str) -> Signer:
    return Signer(key, salt="greenroom.login-session")


def is_open(method: str, path: str) -> bool:
    method = "GET" if method == "HEAD" else method
    return (method, path) in OPEN_ROUTES or path.startswith(OPEN_PREFIXES)


class AuthGate:
    def __init__(self, app: ASGIApp, *, state: Any) -> None:
        self.app = app
        self.state = state  # the FastAPI app's state: database, clock, signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        static = path.startswith(OPEN_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                if not static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))  # private data stays out of caches
                message["headers"] = headers
            await send(message)

        if static:
            await self.app(scope, receive, send_with_headers)
            return
        request = Request(scope)
        outcome = await anyio.to_thread.run_sync(self._authenticate, request)
        if outcome is not None and outcome is not _BAD_TOKEN:
            scope.setdefault("state", {})["principal"] = outcome
        elif not is_open(scope["method"], path):
            await self._refuse(request, bad_token=outcome is _BAD_TOKEN)(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _authenticate(self, request: Request) -> Any:
        now = self.state.clock()
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            with self.state.database.read() as db:
                principal, stale = auth.principal_for_token(db, header[7:].strip(), now=now)
            if principal is None:
                return _BAD_TOKEN
            if stale:
                with self.state.database.write() as db:
                    auth.touch_api_token(db, principal.token_name or "", now=now)
            return principal
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        try:
            raw = self.state.signer.unsign(cookie).decode()
        except BadSignature:
            return None
        with self.state.database.read() as db:
            return auth.principal_for_session(db, raw, now=now)

    @staticmethod
    def _refuse(request: Request, *, bad_token: bool) -> Any:
        if request.url.path.startswith("/api") or bad_token or _wants_json(request.headers):
            message = "the bearer token is not valid" if bad_token else \
                "sign in, or send Authorization: Bearer <token>"
            return JSONResponse({"error": {"code": "unauthorized", "message": message}}, status_code=401,
                                headers={"www-authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


class _BadToken:
    """A bearer token was sent and is wrong: refuse even on pages, never fall back to the cookie."""


_BAD_TOKEN = _BadToken()


def _wants_json(headers: Headers) -> bool:
    accept = headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept
