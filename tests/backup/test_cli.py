"""`greenroom backup` / `greenroom restore` as the owner runs them, and schema revisions."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile

import pytest
from sqlalchemy import func, select, text

from greenroom.backup.archive import MANIFEST, BackupError
from greenroom.backup.dump import write_backup
from greenroom.backup.restore import restore, verify
from greenroom.db.engine import Database
from greenroom.db.migrate import upgrade
from greenroom.events.models import Event
from tests.backup.kit import API_KEY, api_answers, build_installation


def _run(args, tmp_path, db_file, data_dir, **env):
    environment = {"PATH": "/usr/bin:/bin", "GREENROOM_DATABASE_URL": f"sqlite:///{db_file}",
                   "GREENROOM_DATA_DIR": str(data_dir), "HOME": str(tmp_path)} | env
    return subprocess.run([sys.executable, "-m", "greenroom", *args], env=environment, capture_output=True,
                          text=True, timeout=300, check=False, cwd=tmp_path)


def test_backup_and_restore_commands_with_a_password_file(sqlite_database, tmp_path):
    data_dir = tmp_path / "data"
    clock = build_installation(sqlite_database, data_dir, days=0.5)
    source_file = sqlite_database.url.removeprefix("sqlite:///")
    secret = tmp_path / "pw.txt"
    secret.write_text("correct horse\n")
    out = tmp_path / "site.greenroom-backup"
    done = _run(["backup", str(out), "--encrypt", "--password-file", str(secret), "--quiet"], tmp_path,
                source_file, data_dir)
    assert done.returncode == 0, done.stderr
    assert "Backup written to" in done.stdout and "(encrypted)" in done.stdout and "rows" in done.stdout
    assert "correct horse" not in done.stdout + done.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    restored_db, restored_dir = tmp_path / "new" / "greenroom.db", tmp_path / "new-data"
    wrong = _run(["restore", str(out), "--quiet"], tmp_path, restored_db, restored_dir,
                 GREENROOM_BACKUP_PASSWORD="wrong horse")
    assert wrong.returncode == 1 and "wrong password" in wrong.stderr and "Traceback" not in wrong.stderr
    done = _run(["restore", str(out)], tmp_path, restored_db, restored_dir,
                GREENROOM_BACKUP_PASSWORD="correct horse")
    assert done.returncode == 0, done.stderr
    assert "Restored" in done.stdout and "tables" in done.stdout
    again = _run(["restore", str(out), "--quiet"], tmp_path, restored_db, restored_dir,
                 GREENROOM_BACKUP_PASSWORD="correct horse")
    assert again.returncode == 1 and "--force" in again.stderr
    target = Database(f"sqlite:///{restored_db}")
    assert api_answers(target, restored_dir, clock) == api_answers(sqlite_database, data_dir, clock)
    target.dispose()


def test_an_unencrypted_backup_warns_that_it_holds_secrets(sqlite_database, tmp_path):
    data_dir = tmp_path / "data"
    build_installation(sqlite_database, data_dir, days=0.3)
    out = tmp_path / "plain.greenroom-backup"
    done = _run(["backup", str(out)], tmp_path, sqlite_database.url.removeprefix("sqlite:///"), data_dir,
                GREENROOM_EVENTS_URL="https://eventsapi.chaturbate.com/events/alice/tokenNEVERsaved42/")
    assert done.returncode == 0, done.stderr
    assert "not encrypted" in done.stderr and "API keys" in done.stderr
    raw = out.read_bytes()
    import gzip

    body = gzip.decompress(raw)
    assert API_KEY.encode() in body  # saved in the database, so in the backup: hence the warning
    assert b"tokenNEVERsaved42" not in body


def test_restore_of_a_missing_or_foreign_file_is_a_clear_error(tmp_path):
    done = _run(["restore", str(tmp_path / "nope")], tmp_path, tmp_path / "x.db", tmp_path / "d")
    assert done.returncode == 1 and "no backup file" in done.stderr
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a backup at all" * 100)
    done = _run(["restore", str(junk)], tmp_path, tmp_path / "x.db", tmp_path / "d")
    assert done.returncode == 1 and "damaged" in done.stderr and "Traceback" not in done.stderr


def _rewrite_manifest(path, change):
    members = []
    with tarfile.open(path, "r:gz") as tar:
        for info in tar:
            members.append((info, tar.extractfile(info).read()))
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if info.name == MANIFEST:
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_a_backup_from_a_newer_schema_is_refused(sqlite_database, tmp_path):
    path = tmp_path / "b.greenroom-backup"
    write_backup(sqlite_database, tmp_path, path)
    _rewrite_manifest(path, lambda m: m.update(schema_revision="9999_from_the_future"))
    with pytest.raises(BackupError, match="newer than this Greenroom knows"):
        verify(path)
    _rewrite_manifest(path, lambda m: m.update(schema_revision="0005", format_version=99))
    with pytest.raises(BackupError, match="format 99 is newer"):
        verify(path)


def test_a_backup_of_an_older_schema_is_restored_then_migrated_up(tmp_path):
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(old.engine, "0001")
    with old.write() as db:
        db.execute(text("INSERT INTO feeds (broadcaster, url_masked, url_fingerprint, is_demo, state, "
                        "events_stored, events_quarantined, created_at) VALUES ('alice', 'm', 'f', 0, "
                        "'stopped', 0, 0, '2026-01-01 00:00:00.000000')"))
    path = tmp_path / "old.greenroom-backup"
    write_backup(old, tmp_path, path)
    old.dispose()
    assert verify(path)["schema_revision"] == "0001"
    new = Database(f"sqlite:///{tmp_path / 'new.db'}")
    restore(new, tmp_path / "n", path)
    with new.read() as db:
        assert db.execute(text("SELECT version_num FROM alembic_version")).scalar() != "0001"
        assert db.execute(text("SELECT broadcaster FROM feeds")).scalar() == "alice"
    new.dispose()


def test_five_thousand_events_back_up_and_restore_with_bounded_members(database, tmp_path, monkeypatch):
    monkeypatch.setattr("greenroom.backup.dump.MEMBER_BYTES", 256 * 1024)
    data_dir = tmp_path / "data"
    build_installation(database, data_dir, days=0.2, target_events=5200, audience=40)
    with database.read() as db:
        events = db.scalar(select(func.count()).select_from(Event))
    assert events >= 5000
    path = tmp_path / "big.greenroom-backup"
    write_backup(database, data_dir, path)
    manifest = verify(path)
    event_table = next(t for t in manifest["tables"] if t["name"] == "events")
    assert event_table["rows"] == events and len(event_table["members"]) > 2
    target = Database(f"sqlite:///{tmp_path / 'r.db'}")
    stats = restore(target, tmp_path / "r", path)
    assert stats.per_table["events"] == events
    target.dispose()

