from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from greenroom.config import reset_settings_cache
from greenroom.db.engine import Database
from greenroom.web import auth
from greenroom.web.cli import register


@pytest.fixture
def cli(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("GREENROOM_DATABASE_URL", url)
    monkeypatch.setenv("GREENROOM_DATA_DIR", str(tmp_path))
    reset_settings_cache()
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    yield (lambda *args, input=None: runner.invoke(app, list(args), input=input)), url
    reset_settings_cache()


def test_set_password_on_a_new_install_migrates_and_creates_the_owner(cli):
    run, url = cli
    result = run("owner", "set-password", "--password-stdin", input="a long password\n")
    assert result.exit_code == 0, result.output
    database = Database(url)
    with database.read() as db:
        assert auth.check_password(db, "a long password")
    database.dispose()


def test_set_password_prompts_twice_and_refuses_a_mismatch(cli):
    run, url = cli
    mismatch = run("owner", "set-password", input="first password\nsecond password\nfirst password\nfirst password\n")
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output
    database = Database(url)
    with database.read() as db:
        assert auth.check_password(db, "first password")
    database.dispose()


def test_a_too_short_password_is_refused(cli):
    run, _ = cli
    result = run("owner", "set-password", "--password-stdin", input="short\n")
    assert result.exit_code == 1 and "at least 8" in result.output


def test_tokens_are_printed_once_listed_by_name_and_revoked(cli):
    run, url = cli
    created = run("token", "create", "--name", "monitor")
    assert created.exit_code == 0, created.output
    raw = created.stdout.strip().splitlines()[0]
    assert raw.startswith("grt_")
    database = Database(url)
    with database.read() as db:
        principal, _ = auth.principal_for_token(db, raw, now=auth.utcnow())
        assert principal is not None and principal.token_name == "monitor"
    listed = run("token", "list")
    assert "monitor" in listed.output and raw not in listed.output
    assert run("token", "create", "--name", "monitor").exit_code == 1  # names are unique
    assert run("token", "revoke", "monitor").exit_code == 0
    with database.read() as db:
        assert auth.principal_for_token(db, raw, now=auth.utcnow())[0] is None
    assert run("token", "revoke", "monitor").exit_code == 1
    database.dispose()
