"""Back up a rich installation, restore it into an empty one, and the app answers identically."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest
from sqlalchemy import func, select

from greenroom.backup.archive import BackupError
from greenroom.backup.dump import write_backup
from greenroom.backup.restore import restore, verify
from greenroom.db.engine import Database
from greenroom.db.migrate import upgrade
from greenroom.events.models import Event
from greenroom.people.models import PersonImage
from tests.backup.kit import API_KEY, PNG, api_answers, build_installation, empty_pg, table_rows


@pytest.fixture
def target(request, tmp_path):
    """An empty installation of the given engine: no tables at all, an empty data folder."""
    engine = getattr(request, "param", "sqlite")
    if engine == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'restored' / 'greenroom.db'}")
        yield database
        database.dispose()
    else:
        url, drop = empty_pg()
        database = Database(url)
        yield database
        database.dispose()
        drop()


def _round_trip(source: Database, target: Database, tmp_path: Path, **kwargs) -> tuple[dict, dict]:
    data_dir = tmp_path / "data"
    clock = build_installation(source, data_dir)
    before = api_answers(source, data_dir, clock)
    rows_before = table_rows(source)
    path = tmp_path / "site.greenroom-backup"
    stats = write_backup(source, data_dir, path, **kwargs)
    assert stats.rows > 1000 and stats.bytes_out == path.stat().st_size
    restored_dir = tmp_path / "restored-data"
    result = restore(target, restored_dir, path, **kwargs)
    assert result.rows == stats.rows and result.files == 1
    assert (restored_dir / "secret_key").read_bytes() == (data_dir / "secret_key").read_bytes()
    # Every row of every table, not only what the API shows (login sessions, jobs, settings, ...).
    rows_after = table_rows(target)
    assert rows_after.keys() == rows_before.keys()
    for name, rows in rows_before.items():
        assert rows_after[name] == rows, name
    assert sum(len(r) for r in rows_before.values()) == stats.rows
    after = api_answers(target, restored_dir, clock)
    return before, after


@pytest.mark.parametrize("target", ["sqlite", "postgresql"], indirect=True)
def test_a_restored_installation_answers_every_api_like_the_original(database, target, tmp_path):
    before, after = _round_trip(database, target, tmp_path)
    assert len(before) > 30
    assert before.keys() == after.keys()
    for key in before:
        assert after[key] == before[key], key
    with target.read() as db:
        image = db.scalars(select(PersonImage)).one()
        assert bytes(image.data) == PNG
        # Sequences continue past the restored rows: new rows get new ids.
        assert db.scalar(select(func.count()).select_from(Event)) == before["health.events_stored"]


def test_an_encrypted_backup_round_trips_and_a_wrong_password_is_refused(sqlite_database, target, tmp_path):
    before, after = _round_trip(sqlite_database, target, tmp_path, password="pässword 1")
    assert after == before
    path = tmp_path / "site.greenroom-backup"
    assert API_KEY.encode() not in path.read_bytes()
    with pytest.raises(BackupError, match="wrong password"):
        verify(path, "password 1")
    with pytest.raises(BackupError, match="encrypted"):
        verify(path, None)


def test_payload_text_and_json_nulls_survive_exactly(sqlite_database, tmp_path):
    from sqlalchemy import text

    build = build_installation(sqlite_database, tmp_path / "data", days=0.3)
    assert build
    with sqlite_database.read() as db:
        raw_before = db.execute(text("SELECT id, payload FROM events ORDER BY id")).all()
        json_before = db.execute(text("SELECT id, result FROM job_runs ORDER BY id")).all()
    path = tmp_path / "b.greenroom-backup"
    write_backup(sqlite_database, tmp_path / "data", path)
    url, drop = empty_pg()
    try:
        pg = Database(url)
        restore(pg, tmp_path / "r", path)
        back = tmp_path / "back.greenroom-backup"
        write_backup(pg, tmp_path / "r", back)
        pg.dispose()
    finally:
        drop()
    again = Database(f"sqlite:///{tmp_path / 'again.db'}")
    restore(again, tmp_path / "again", back)
    with again.read() as db:
        assert db.execute(text("SELECT id, payload FROM events ORDER BY id")).all() == raw_before
        assert db.execute(text("SELECT id, result FROM job_runs ORDER BY id")).all() == json_before
    again.dispose()


def test_cross_engine_postgresql_to_sqlite(target, tmp_path, pg_url):
    from tests.conftest import _truncate_pg

    source = Database(pg_url)
    _truncate_pg(source)
    try:
        before, after = _round_trip(source, target, tmp_path)
    finally:
        source.dispose()
    assert after == before


def test_a_non_empty_target_is_refused_and_force_replaces_it(sqlite_database, tmp_path):
    data_dir = tmp_path / "data"
    clock = build_installation(sqlite_database, data_dir, days=0.5)
    path = tmp_path / "b.greenroom-backup"
    write_backup(sqlite_database, data_dir, path)
    other_path = tmp_path / "other.db"
    other = Database(f"sqlite:///{other_path}")
    upgrade(other.engine)
    build_installation(other, tmp_path / "other-data", seed=11, days=0.5)
    with other.read() as db:
        count = db.scalar(select(func.count()).select_from(Event))
    with pytest.raises(BackupError, match="not empty"):
        restore(other, tmp_path / "other-data", path)
    with other.read() as db:
        assert db.scalar(select(func.count()).select_from(Event)) == count
    restore(other, tmp_path / "other-data", path, force=True)
    assert api_answers(other, tmp_path / "other-data", clock) == api_answers(sqlite_database, data_dir, clock)
    other.dispose()


@pytest.mark.parametrize("damage", ["truncate", "flip", "drop-tail"])
def test_a_damaged_file_is_refused_before_anything_changes(sqlite_database, tmp_path, damage):
    data_dir = tmp_path / "data"
    build_installation(sqlite_database, data_dir, days=0.5)
    path = tmp_path / "b.greenroom-backup"
    write_backup(sqlite_database, data_dir, path)
    good = tmp_path / "good.greenroom-backup"
    shutil.copy(path, good)
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip":
        raw[len(raw) // 3] ^= 0x40
    else:
        raw = raw[:-200]
    path.write_bytes(bytes(raw))
    target = Database(f"sqlite:///{tmp_path / 't.db'}")
    restore(target, tmp_path / "t", good)
    with target.read() as db:
        count = db.scalar(select(func.count()).select_from(Event))
    assert count > 100
    with pytest.raises(BackupError):
        restore(target, tmp_path / "t", path, force=True)
    with target.read() as db:
        assert db.scalar(select(func.count()).select_from(Event)) == count
    target.dispose()


@pytest.mark.parametrize("damage", ["truncate", "flip", "reorder"])
def test_a_damaged_encrypted_file_is_refused(sqlite_database, tmp_path, damage, monkeypatch):
    from greenroom.backup.crypto import MAGIC, TAG

    CHUNK = 4096  # small chunks, so a small backup has many  # noqa: N806
    monkeypatch.setattr("greenroom.backup.crypto.CHUNK", CHUNK)

    data_dir = tmp_path / "data"
    build_installation(sqlite_database, data_dir, days=0.5)
    path = tmp_path / "b.greenroom-backup"
    write_backup(sqlite_database, data_dir, path, password="pw")
    raw = bytearray(path.read_bytes())
    first = len(MAGIC) + 4 + struct.unpack(">I", raw[len(MAGIC):len(MAGIC) + 4])[0]
    size = CHUNK + TAG
    assert len(raw) > first + 3 * size
    if damage == "truncate":  # cut exactly at a chunk boundary: only the last-chunk flag can tell
        raw = raw[:first + 2 * size]
    elif damage == "flip":
        raw[len(raw) // 2] ^= 1
    else:
        a, b = raw[first:first + size], raw[first + size:first + 2 * size]
        raw[first:first + 2 * size] = b + a
    path.write_bytes(bytes(raw))
    with pytest.raises(BackupError):
        verify(path, "pw")
