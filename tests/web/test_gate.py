"""Every route is closed unless listed as open; discovered from the app, so new routes are covered."""

from __future__ import annotations

import re

import pytest

from greenroom.db.types import utcnow
from greenroom.web.app import route_table
from greenroom.web.auth import create_api_token
from greenroom.web.gate import OPEN_ROUTES
from tests.web.web_helpers import csrf_of

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def _routes(app):
    for method, path in route_table(app):
        yield method, "/static/app.css" if path == "/static/*" else _concrete(path)


def test_every_route_but_the_open_ones_needs_a_login(client, app):
    checked = 0
    for method, path in _routes(app):
        answer = client.request(method, path, follow_redirects=False)
        if (method, path) in OPEN_ROUTES or path.startswith("/static/"):
            assert answer.status_code < 400 or path == "/login", (method, path, answer.status_code)
            continue
        checked += 1
        if path.startswith("/api"):
            assert answer.status_code == 401, (method, path)
            assert answer.json()["error"]["code"] == "unauthorized"
        else:
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next="), (method, path)
    assert checked >= 10  # the app really has routes behind the gate


def test_every_state_changing_route_refuses_a_cookie_without_the_csrf_token(signed_in, app):
    unsafe = [(m, p) for m, p in _routes(app) if m in UNSAFE and (m, p) not in OPEN_ROUTES]
    assert ("POST", "/logout") in unsafe
    for method, path in unsafe:
        answer = signed_in.request(method, path, data={"csrf_token": "wrong"}, follow_redirects=False)
        assert answer.status_code == 403, (method, path)
        answer = signed_in.request(method, path, json={}, headers={"X-CSRF-Token": "wrong"}, follow_redirects=False)
        assert answer.status_code == 403, (method, path)
    # Still signed in: nothing above took effect.
    assert signed_in.get("/", follow_redirects=False).status_code == 200


def test_a_script_signed_in_by_cookie_passes_csrf_with_the_header(signed_in):
    token = csrf_of(signed_in)
    answer = signed_in.post("/logout", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert signed_in.get("/", follow_redirects=False).status_code == 303


def test_a_bearer_token_opens_the_api_and_needs_no_csrf(client, database):
    with database.write() as db:
        raw = create_api_token(db, "monitor", now=utcnow())
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/events", headers=headers).status_code == 200
    assert client.get("/api/feeds", headers=headers).json() == {"feeds": []}
    # POST with a bearer token is not stopped by CSRF (it is stopped by there being no such route).
    assert client.post("/api/events", headers=headers).status_code == 405


@pytest.mark.parametrize("header", ["Bearer grt_wrong", "Bearer ", "Basic abc"])
def test_a_wrong_bearer_token_is_refused_with_json(client, header):
    answer = client.get("/api/events", headers={"Authorization": header})
    assert answer.status_code == 401 and "error" in answer.json()


def test_a_revoked_token_stops_working_at_once(client, database):
    from greenroom.web.auth import revoke_api_token

    with database.write() as db:
        raw = create_api_token(db, "phone", now=utcnow())
    assert client.get("/api/events", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    with database.write() as db:
        revoke_api_token(db, "phone")
    assert client.get("/api/events", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


@pytest.mark.parametrize("path", ["/login", "/api/health", "/static/app.css", "/", "/nowhere"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path, follow_redirects=False).headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script(signed_in):
    for path in ("/", "/admin", "/live", "/login", "/api/docs"):
        html = signed_in.get(path).text
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, (path, tag)
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path


def _extra_routes(app):
    from fastapi import APIRouter, Form

    from greenroom.errors import Conflict

    router = APIRouter()

    @router.get("/api/boom")
    def api_boom():
        raise Conflict("that session is already finalized")

    @router.get("/boom")
    def page_boom():
        raise Conflict("that session is already <b>finalized</b>")

    @router.post("/echo")
    def echo(note: str = Form()):
        return {"note": note}

    app.include_router(router)


def test_domain_errors_become_json_for_the_api_and_an_html_page_otherwise(signed_in, app):
    _extra_routes(app)
    api = signed_in.get("/api/boom")
    assert api.status_code == 409
    assert api.json() == {"error": {"code": "conflict", "message": "that session is already finalized"}}
    page = signed_in.get("/boom")
    assert page.status_code == 409 and "text/html" in page.headers["content-type"]
    assert "already &lt;b&gt;finalized&lt;/b&gt;" in page.text


def test_a_form_with_the_csrf_token_reaches_its_endpoint_with_its_fields(signed_in, app):
    _extra_routes(app)
    answer = signed_in.post("/echo", data={"csrf_token": csrf_of(signed_in), "note": "<hi>"})
    assert answer.status_code == 200 and answer.json() == {"note": "<hi>"}
    assert signed_in.post("/echo", data={"note": "<hi>"}).status_code == 403
