"""The migrations build an empty database on every engine, and the models have not drifted."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import inspect

from greenroom.db.engine import Database
from greenroom.db.migrate import check, upgrade
from greenroom.db.models import metadata


def test_migrations_build_every_table_and_alembic_finds_no_drift(db_url):
    database = Database(db_url)
    try:
        tables = set(inspect(database.engine).get_table_names())
        assert {t.name for t in metadata.sorted_tables} <= tables
        check(database.engine)  # raises on any difference between models and migrations
        upgrade(database.engine)  # idempotent: a second run at head changes nothing
    finally:
        database.dispose()


def test_the_alembic_command_line_check_passes_on_a_fresh_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    for args in (["upgrade", "head"], ["check"]):
        done = subprocess.run([sys.executable, "-m", "alembic", "-x", f"url={url}", *args],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
