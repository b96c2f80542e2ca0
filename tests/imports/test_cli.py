"""``greenroom import-tokens`` through typer's runner, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from greenroom.config import reset_settings_cache
from greenroom.db.engine import Database
from greenroom.events.feeds import ensure_feed
from greenroom.events.models import Feed
from greenroom.imports.cli import register
from greenroom.imports.models import TokenImport, TokenTransaction

SAMPLE = Path(__file__).parent / "data" / "token_history.csv"
HEADER = "User,Token change,Timestamp,Note,Transaction type\n"


@pytest.fixture
def cli(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GREENROOM_DATABASE_URL", db_url)
    monkeypatch.setenv("GREENROOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GREENROOM_TIMEZONE", "America/New_York")
    reset_settings_cache()
    database = Database(db_url)
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, as in the real ``greenroom`` app, so the command keeps its name
    register(app)
    runner = CliRunner()

    def add_room(name: str) -> int:
        with database.write() as db:
            return ensure_feed(db, broadcaster=name, url_masked=f"https://h/events/{name}/****/",
                               url_fingerprint=name, is_demo=False, now=datetime(2026, 11, 1, tzinfo=UTC)).id

    yield (lambda *args: runner.invoke(app, ["import-tokens", *map(str, args)])), database, add_room
    database.dispose()
    reset_settings_cache()


def count(database, model) -> int:
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(model))


def test_import_then_again_with_a_summary_by_type(cli):
    run, database, add_room = cli
    add_room("alice")
    first = run(SAMPLE)
    assert first.exit_code == 0, first.output
    out = " ".join(first.output.split())
    assert "Imported token_history.csv into alice's room" in out
    assert "Rows read: 7; new: 7; already present: 0." in out
    assert "Private shows" in out and "1,200" in out and "no (the Events API sees it)" in out
    assert "2026-11-20 21:04 to 2026-11-22 04:00 (America/New_York)" in out  # naive times read in that zone
    second = run(SAMPLE)
    assert "Rows read: 7; new: 0; already present: 7." in " ".join(second.output.split())
    assert count(database, TokenTransaction) == 7 and count(database, TokenImport) == 2


def test_dry_run_stores_nothing(cli):
    run, database, add_room = cli
    add_room("alice")
    result = run(SAMPLE, "--dry-run")
    assert result.exit_code == 0 and "would be new: 7" in result.output
    assert count(database, TokenTransaction) == 0 and count(database, TokenImport) == 0


def test_a_malformed_file_exits_non_zero_with_line_numbers_and_imports_nothing(cli, tmp_path):
    run, database, add_room = cli
    add_room("alice")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "a,5,2026-11-01 20:00,,Tip\nb,5,not a date,,Tip\nc,5\n")
    result = run(bad)
    assert result.exit_code == 1
    assert "Rejected bad.csv: nothing was imported." in result.output
    assert "line 3: bad date 'not a date'" in result.output and "line 4: wrong column count" in result.output
    assert count(database, TokenTransaction) == 0
    assert run(tmp_path / "missing.csv").exit_code == 2  # unreadable path: a usage error, no traceback


def test_several_rooms_need_room_and_it_picks_one_by_name(cli):
    run, database, add_room = cli
    add_room("alice")
    bob = add_room("Bob")
    ambiguous = run(SAMPLE)
    assert ambiguous.exit_code == 2 and "several rooms" in ambiguous.output
    assert run(SAMPLE, "--room", "nobody").exit_code == 2
    assert run(SAMPLE, "--room", "bob").exit_code == 0
    with database.read() as db:
        assert set(db.scalars(select(TokenTransaction.feed_id))) == {bob}


def test_a_file_can_be_imported_before_the_first_run_into_the_configured_room(cli, monkeypatch):
    run, database, _add_room = cli
    token = "FirstRunToken0123456789"
    monkeypatch.setenv("GREENROOM_EVENTS_URL", f"https://eventsapi.chaturbate.com/events/Carol/{token}/")
    reset_settings_cache()
    result = run(SAMPLE)
    assert result.exit_code == 0, result.output
    assert "carol" in result.output.lower() and token not in result.output
    with database.read() as db:
        feeds = list(db.scalars(select(Feed)))
        assert [(f.broadcaster, f.is_demo) for f in feeds] == [("carol", False)]
        assert token not in feeds[0].url_masked
        assert set(db.scalars(select(TokenTransaction.feed_id))) == {feeds[0].id}
    assert run(SAMPLE).exit_code == 0  # the same room again, nothing new
