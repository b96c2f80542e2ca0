from __future__ import annotations

import re

from sqlalchemy import func, select

from greenroom.web.auth import FAILURES_OVERALL, FAILURES_PER_IP, check_password
from greenroom.web.gate import SESSION_COOKIE
from greenroom.web.models import LoginFailure, Owner
from tests.web.web_helpers import PASSWORD, csrf_of, login


def test_a_page_asked_for_before_signing_in_is_where_signing_in_leads(client):
    first = client.get("/admin?tab=status", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=%2Fadmin%3Ftab%3Dstatus"
    answer = login(client, next_path="/admin?tab=status")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin?tab=status"
    assert client.get("/admin?tab=status").status_code == 200


def test_the_session_cookie_is_httponly_lax_and_secure_only_over_https(client):
    cookie = login(client).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    https = client.__class__(client.app, base_url="https://testserver")
    assert "Secure" in login(https).headers["set-cookie"]


def test_next_only_ever_leads_to_a_local_path(client):
    for hostile in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        answer = login(client, next_path=hostile)
        assert answer.headers["location"] == "/", hostile
        client.cookies.clear()


def test_a_wrong_password_gets_one_generic_error_and_no_session(client):
    answer = login(client, password="wrong")
    assert answer.status_code == 401 and "Sign-in failed" in answer.text
    assert SESSION_COOKIE not in answer.cookies
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_login_form_without_its_own_token_is_refused(client):
    client.get("/login")
    answer = client.post("/login", data={"password": PASSWORD, "next": "/", "form_token": "forged"},
                         follow_redirects=False)
    assert answer.status_code == 403 and SESSION_COOKIE not in answer.cookies


def test_after_five_failures_from_an_address_signing_in_waits_even_with_the_right_password(client, clock):
    for _ in range(FAILURES_PER_IP):
        assert login(client, password="nope").status_code == 401
    refused = login(client)
    assert refused.status_code == 429
    wait = int(re.search(r"Try again in (\d+) s", refused.text).group(1))
    assert 0 < wait <= 300
    clock.advance(seconds=wait)
    assert login(client).status_code == 303


def test_the_rate_limit_is_kept_in_the_database_and_counts_all_addresses_together(client, database, clock):
    from greenroom.web.auth import record_login_failure

    with database.write() as db:
        for i in range(FAILURES_OVERALL):
            record_login_failure(db, f"10.0.0.{i}", now=clock())
    answer = login(client)
    assert answer.status_code == 429 and "Try again in" in answer.text
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(LoginFailure)) == FAILURES_OVERALL


def test_signing_out_ends_the_session_on_the_server(signed_in, app):
    cookie = signed_in.cookies[SESSION_COOKIE]
    answer = signed_in.post("/logout", data={"csrf_token": csrf_of(signed_in)}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    # Replaying the old cookie after sign-out does not work: the server row is gone.
    replay = signed_in.__class__(app)
    replay.cookies.set(SESSION_COOKIE, cookie)
    assert replay.get("/", follow_redirects=False).status_code == 303


def test_a_session_expires(signed_in, clock):
    clock.advance(days=31)
    assert signed_in.get("/", follow_redirects=False).status_code == 303


def test_a_tampered_cookie_is_not_a_session(client):
    client.cookies.set(SESSION_COOKIE, "forged.signature")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_without_an_owner_the_login_page_names_the_command_that_sets_one(database, settings, clock):
    from starlette.testclient import TestClient

    from greenroom.web.app import create_app

    settings.owner_password = None
    client = TestClient(create_app(settings, database, clock=clock))
    page = client.get("/login")
    assert "greenroom owner set-password" in page.text
    assert login(client).status_code == 401


def test_the_owner_password_from_the_environment_is_stored_hashed_with_argon2(app, database):
    with database.read() as db:
        owner = db.get(Owner, 1)
        assert owner.password_hash.startswith("$argon2id$") and PASSWORD not in owner.password_hash
        assert check_password(db, PASSWORD) and not check_password(db, PASSWORD + "x")


def test_a_changed_password_is_not_overwritten_by_the_environment(database, settings):
    from greenroom.db.types import utcnow
    from greenroom.web.auth import ensure_owner, set_owner_password

    assert ensure_owner(database, settings)
    with database.write() as db:
        set_owner_password(db, "a brand new password", now=utcnow())
    assert not ensure_owner(database, settings)
    with database.read() as db:
        assert check_password(db, "a brand new password")


def test_the_signing_key_is_generated_once_into_the_data_folder_readable_only_by_its_owner(tmp_path):
    import stat

    from greenroom.config import Settings
    from greenroom.web.auth import signing_key

    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    first = signing_key(settings)
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 40
    assert signing_key(settings) == first
    assert signing_key(Settings(_env_file=None, data_dir=tmp_path, secret_key="configured-key")) == "configured-key"
