"""Security promises not covered by the gate tests: an unexpected error still carries the security
headers, every cookie is HttpOnly and SameSite (and Secure over TLS), uploads are judged by their
bytes and never come back as something a browser would run."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from fastapi import APIRouter
from starlette.testclient import TestClient

from greenroom.config import Settings
from greenroom.web.app import create_app, route_table
from greenroom.web.auth import create_api_token, ensure_owner
from greenroom.web.gate import OPEN_ROUTES
from tests.web.web_helpers import PASSWORD, csrf_of, login

from .helpers import ingest

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr("greenroom.web.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def app(sqlite_database, tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", owner_password=PASSWORD)
    ensure_owner(sqlite_database, settings)
    return create_app(settings, sqlite_database, clock=lambda: NOW)


def _failing_routes(app):
    router = APIRouter()

    @router.get("/api/explode")
    def api_explode():
        raise RuntimeError("an unexpected bug")

    @router.get("/explode")
    def page_explode():
        raise ZeroDivisionError("an unexpected bug")

    app.include_router(router)


@pytest.mark.parametrize("path", ["/api/explode", "/explode"])
def test_an_unexpected_error_answers_500_with_every_security_header(app, path):
    _failing_routes(app)
    client = TestClient(app, raise_server_exceptions=False)
    assert login(client).status_code == 303
    answer = client.get(path)
    assert answer.status_code == 500
    assert "an unexpected bug" not in answer.text  # details go to the log, not to the browser
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("base_url", ["http://testserver", "https://testserver"])
def test_every_cookie_set_while_signing_in_and_out_is_httponly_samesite_and_secure_over_tls(app, base_url):
    client = TestClient(app, base_url=base_url)
    cookies = [client.get("/login").headers.get_list("set-cookie")]
    cookies.append(login(client).headers.get_list("set-cookie"))
    for path in ("/", "/admin", "/sessions"):
        cookies.append(client.get(path).headers.get_list("set-cookie"))
    cookies.append(client.post("/logout", data={"csrf_token": csrf_of(client)}, follow_redirects=False)
                   .headers.get_list("set-cookie"))
    flat = [c for group in cookies for c in group]
    assert flat, "signing in sets a cookie"
    for cookie in flat:
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        if "max-age=0" in cookie.lower().replace(" ", ""):
            continue  # a deletion: it carries no value to steal
        assert "httponly" in attributes and "samesite" in attributes, cookie
        assert ("secure" in attributes) == base_url.startswith("https"), cookie


def _png(width: int = 1, height: int = 1, tail: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"") + tail)


def test_uploads_are_judged_by_their_bytes_capped_in_size_and_never_served_as_html(app, sqlite_database):
    ingest(sqlite_database, [[{"method": "userEnter", "id": "1764340000000-0",
                               "object": {"broadcaster": "alice", "user": {"username": "Target"}}}]], NOW)
    with sqlite_database.write() as db:
        token = create_api_token(db, "uploads", now=NOW)
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    url = "/api/people/target/images"
    refused = {
        "html named .png": ("x.png", b"<!doctype html><script>alert(1)</script>", "image/png"),
        "svg with script": ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                            "image/svg+xml"),
        "empty": ("x.png", b"", "image/png"),
        "over 10 MB": ("big.png", _png() + b"\x00" * (10 * 1024 * 1024), "image/png"),
    }
    for what, upload in refused.items():
        answer = client.post(url, files={"file": upload})
        assert answer.status_code in (400, 413, 422), (what, answer.status_code)
    # A polyglot: real PNG magic with HTML after it. Stored as what its bytes say, and served
    # so that no browser would render it as a page.
    polyglot = _png(tail=b"<html><script>alert(1)</script></html>")
    answer = client.post(url, files={"file": ("x.html", polyglot, "text/html")})
    assert answer.status_code == 201, answer.text
    image_url = answer.json()["image_url"]
    assert image_url.startswith("/people/target/images/"), image_url
    served = client.get(image_url)
    assert served.status_code == 200 and served.content == polyglot
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in served.headers["content-security-policy"]
    assert not served.headers.get("content-disposition", "inline").startswith("attachment; filename=x.html")


@pytest.mark.parametrize("value", [str(2**64), "-1", "0", "1e3", "%00"])
def test_ids_out_of_any_range_in_every_route_are_refused_never_a_server_error(database, tmp_path, value):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", owner_password=PASSWORD)
    ensure_owner(database, settings)
    ingest(database, [[{"method": "userEnter", "id": "1764340000000-0",
                        "object": {"broadcaster": "alice", "user": {"username": "someone"}}}]], NOW)
    client = TestClient(create_app(settings, database, clock=lambda: NOW, stream_seconds=0.2),
                        raise_server_exceptions=False)
    assert login(client).status_code == 303
    token = csrf_of(client)
    checked = 0
    for method, path in route_table(client.app):
        if "{" not in path or path.endswith("/*"):
            continue
        concrete = re.sub(r"\{[^}]*_id\}", value, re.sub(r"\{username\}", "someone", path))
        concrete = re.sub(r"\{[^}]+\}", "x", concrete)
        answer = client.request(method, concrete, headers={"X-CSRF-Token": token}, json={})
        assert answer.status_code < 500, (method, concrete, answer.status_code)
        checked += 1
    assert checked >= 10


def test_only_health_login_and_static_files_are_open():
    # The gate's own list: a new open route has to be added here on purpose, with a reason.
    assert {("GET", "/api/health"), ("GET", "/login"), ("POST", "/login")} == OPEN_ROUTES
