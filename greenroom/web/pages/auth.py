"""Sign in and sign out.

The login form is the one form without a session, so it carries its own CSRF proof: a random value
in a short-lived cookie that the form must echo (double submit). That stops another site from
signing the browser in to an account of the attacker's choosing.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from greenroom.web import auth
from greenroom.web.gate import SESSION_COOKIE
from greenroom.web.templating import current_principal, now, render

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "greenroom_login"
GENERIC_ERROR = "Sign-in failed. Check the password and try again."


def safe_next(value: str | None) -> str:
    """Only a path on this site; anything else (another host, a scheme, "//host") goes home."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith("/login"):
        return "/"
    return value


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(request: Request, *, next_path: str, error: str | None = None, status_code: int = 200) -> Response:
    with request.app.state.database.read() as db:
        has_owner = auth.owner_exists(db)
    form_token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request, "login.html",
        {"next_path": next_path, "error": error, "has_owner": has_owner, "form_token": form_token},
        status_code=status_code,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, form_token, max_age=3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/login")
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the URL says next
    if current_principal(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_path=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    password: str = Form(default=""),
    next: str = Form(default="/"),  # noqa: A002
    form_token: str = Form(default=""),
) -> Response:
    next_path = safe_next(next)
    if not auth.csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE), form_token):
        return _login_page(request, next_path=next_path, status_code=403,
                           error="This sign-in form has expired. Please try again.")
    ip = _client_ip(request)
    moment = now(request)
    database = request.app.state.database
    with database.write() as db:
        wait = auth.login_retry_after(db, ip, now=moment)
        if wait:
            return _login_page(request, next_path=next_path, error=f"Too many attempts. Try again in {wait} s.",
                               status_code=429)
        if not auth.check_password(db, password):
            auth.record_login_failure(db, ip, now=moment)
            failed = True
        else:
            failed = False
            auth.clear_login_failures(db, ip)
            raw = auth.create_login_session(db, now=moment, ip=ip, user_agent=request.headers.get("user-agent"))
    # The failure row is committed before answering, so the limit holds even if this worker dies.
    if failed:
        return _login_page(request, next_path=next_path, error=GENERIC_ERROR, status_code=401)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, request.app.state.signer.sign(raw).decode(), max_age=int(auth.SESSION_LIFETIME.total_seconds()),
        httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    principal = current_principal(request)
    if principal is not None and principal.session_pk is not None:
        with request.app.state.database.write() as db:
            auth.end_login_session(db, principal.session_pk)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
