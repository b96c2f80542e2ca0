"""Helpers shared by the benchmarks: fresh databases on each engine, timing, the report."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, text

from greenroom.db.engine import Database
from greenroom.db.migrate import upgrade

PG_ADMIN_URL = os.environ.get("GREENROOM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def fresh_database(engine: str) -> Iterator[Database]:
    """An empty, migrated database on `engine` ("sqlite" or "postgresql"), removed afterwards."""
    if engine == "sqlite":
        folder = tempfile.mkdtemp(prefix="greenroom-bench-")
        database = Database(f"sqlite:///{folder}/bench.db")
        upgrade(database.engine)
        try:
            yield database
        finally:
            database.dispose()
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"greenroom_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
    upgrade(database.engine)
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def engines() -> list[str]:
    return ["sqlite", "postgresql"] if pg_available() else ["sqlite"]
