"""Reading a backup: check it whole first, then load it into an empty (or replaced) database.

1. ``verify`` reads the file once: every member's SHA-256 and size against the manifest (which
   comes last), the format version and the schema revision. A damaged, truncated or tampered file,
   or a wrong password, stops here and nothing has been touched.
2. ``restore`` then, in one transaction: refuses a database holding any row unless ``force``;
   drops what is there; migrates the empty database to the backup's schema revision; loads every
   table in foreign-key order from a second pass over the file (checked again as it is read);
   migrates up to the newest revision; resets PostgreSQL sequences past the highest id. After the
   commit it puts the data folder's files back.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import JSON, Connection, MetaData, Table, func, select, text

from greenroom.backup.archive import (
    DATA_FILES,
    FILE_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    TABLE_PREFIX,
    BackupError,
    decode_value,
)
from greenroom.backup.crypto import MAGIC, BackupCryptoError, DecryptingReader
from greenroom.backup.dump import VERSION_TABLE, data_tables
from greenroom.db.engine import Database
from greenroom.db.migrate import alembic_config

_LOCK_KEY = 0x6772_6E72  # the migration lock: no process migrates while a restore runs
_BATCH = 1000
Progress = Callable[[str, str, int], None]


@dataclass
class RestoreStats:
    tables: int = 0
    rows: int = 0
    files: int = 0
    seconds: float = 0.0
    schema_revision: str | None = None
    per_table: dict[str, int] = field(default_factory=dict)


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


@contextmanager
def _open_tar(path: Path, password: str | None) -> Iterator[tarfile.TarFile]:
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed by the `with` below)
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        source: IO[bytes] | DecryptingReader = handle
        if handle.read(len(MAGIC)) == MAGIC:
            if not password:
                raise BackupError("this backup is encrypted: a password is needed")
            source = DecryptingReader(handle, password)
        else:
            handle.seek(0)
        try:
            with tarfile.open(fileobj=source, mode="r|gz") as tar:  # type: ignore[call-overload]
                yield tar
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise BackupError(f"the backup file is damaged or truncated ({type(exc).__name__})") from None


def _members(tar: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    for info in tar:
        if not info.isfile():
            raise BackupError(f"unexpected entry {info.name!r} in the backup")
        stream = tar.extractfile(info)
        if stream is None:
            raise BackupError(f"unreadable entry {info.name!r} in the backup")
        yield info, stream


def known_revisions() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _check_manifest(manifest: Any, seen: dict[str, tuple[str, int]]) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("this is not a Greenroom backup")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(f"backup format {version!r} is newer than this Greenroom understands; upgrade first")
    listed: dict[str, dict[str, Any]] = {}
    try:
        for table in manifest["tables"]:
            if not isinstance(table["name"], str) or not isinstance(table["columns"], dict):
                raise TypeError
            for member in table["members"]:
                listed[member["name"]] = member
        for member in manifest["files"]:
            listed[member["name"]] = member
    except (KeyError, TypeError):
        raise BackupError("the backup's manifest is damaged") from None
    for name, member in listed.items():
        if name not in seen:
            raise BackupError(f"the backup is incomplete: {name} is missing (truncated file?)")
        if seen[name] != (member.get("sha256"), member.get("bytes")):
            raise BackupError(f"the backup is damaged: {name} does not match its checksum")
    extra = set(seen) - set(listed) - {MANIFEST}
    if extra:
        raise BackupError(f"the backup holds entries its manifest does not list: {sorted(extra)[0]}")
    revision = manifest.get("schema_revision")
    if revision is not None:
        try:
            known = known_revisions().get_revision(revision)
        except CommandError:
            known = None
        if known is None:
            raise BackupError(f"the backup's schema revision {revision!r} is newer than this Greenroom knows; "
                              "upgrade Greenroom first")
    return manifest


def verify(path: Path, password: str | None = None) -> dict[str, Any]:
    """The manifest of a complete, intact backup; a clear ``BackupError`` otherwise."""
    seen: dict[str, tuple[str, int]] = {}
    manifest: Any = None
    try:
        with _open_tar(path, password) as tar:
            for info, stream in _members(tar):
                digest = hashlib.sha256()
                size = 0
                body = bytearray() if info.name == MANIFEST else None
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
                    if body is not None:
                        body += chunk
                if info.name in seen:
                    raise BackupError(f"the backup holds {info.name} twice")
                seen[info.name] = (digest.hexdigest(), size)
                if body is not None:
                    try:
                        manifest = json.loads(body)
                    except ValueError:
                        raise BackupError("the backup's manifest is damaged") from None
    except BackupCryptoError as exc:
        raise BackupError(str(exc)) from None
    if manifest is None:
        raise BackupError("the backup has no manifest: the file is truncated or not a Greenroom backup")
    return _check_manifest(manifest, seen)


def _row_count(conn: Connection, tables: list[Table]) -> bool:
    return any(conn.execute(select(1).select_from(t).limit(1)).first() is not None for t in tables)


def _migrate(conn: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def _target_tables(conn: Connection) -> dict[str, Table]:
    tables = {t.name: t for t in data_tables(conn)}
    for table in tables.values():
        for column in table.columns:
            if isinstance(column.type, JSON):  # SQL NULL stays NULL; JSON null is JSON.NULL
                column.type = type(column.type)(none_as_null=True)
    return tables


def _decode_row(line: bytes, kinds: dict[str, str], sqlite: bool, name: str) -> dict[str, Any]:
    try:
        raw = json.loads(line)
        if not isinstance(raw, dict) or set(raw) != set(kinds):
            raise ValueError("columns differ from the manifest")
        row = {}
        for column, kind in kinds.items():
            value = raw[column]
            if kind == "json" and value is not None:
                value = json.loads(value)
                row[column] = JSON.NULL if value is None else value
            else:
                row[column] = decode_value(kind, value, sqlite=sqlite)
        return row
    except (ValueError, TypeError) as exc:
        raise BackupError(f"a row of {name} in the backup cannot be read: {exc}") from None


def _reset_sequences(conn: Connection, tables: dict[str, Table]) -> None:
    for table in tables.values():
        for column in table.primary_key.columns:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()
            if sequence:
                top = select(func.max(column)).scalar_subquery()
                conn.execute(select(func.setval(sequence, func.coalesce(top, 0) + 1, False)))


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.restore-{os.getpid()}")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def restore(database: Database, data_dir: Path, path: Path, *, password: str | None = None, force: bool = False,
            progress: Progress | None = None, manifest: dict[str, Any] | None = None) -> RestoreStats:
    """Loads the backup at ``path`` into ``database`` (see the module text for the steps)."""
    started = time.monotonic()
    manifest = manifest or verify(path, password)
    stats = RestoreStats(schema_revision=manifest.get("schema_revision"))
    sqlite = database.is_sqlite
    by_prefix = {}
    for index, entry in enumerate(manifest["tables"], 1):
        by_prefix[f"{TABLE_PREFIX}{index:04d}-{entry['name']}/"] = entry
    files: dict[str, bytes] = {}
    with database.engine.execution_options(sqlite_begin="IMMEDIATE").connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        existing = MetaData()
        existing.reflect(conn)
        if _row_count(conn, [t for t in existing.sorted_tables if t.name != VERSION_TABLE]) and not force:
            raise BackupError("the database is not empty: restoring would replace everything in it; "
                              "use --force to do so")
        existing.drop_all(conn)
        if stats.schema_revision:
            _migrate(conn, stats.schema_revision)
        tables = _target_tables(conn)
        for entry in manifest["tables"]:
            target = tables.get(entry["name"])
            if target is None:
                raise BackupError(f"table {entry['name']} of the backup is unknown at its schema revision")
            missing = set(entry["columns"]) - set(target.columns.keys())
            if missing:
                raise BackupError(f"table {entry['name']} of the backup has unknown columns: {sorted(missing)}")
        with _open_tar(path, password) as tar:
            current: str | None = None
            for info, stream in _members(tar):
                if info.name == MANIFEST:
                    continue
                if info.name.startswith(FILE_PREFIX):
                    files[info.name[len(FILE_PREFIX):]] = stream.read()
                    continue
                prefix = info.name.rsplit("/", 1)[0] + "/"
                entry = by_prefix.get(prefix)
                if entry is None:
                    raise BackupError(f"unexpected entry {info.name!r} in the backup")
                name, kinds = entry["name"], entry["columns"]
                if name != current:
                    current = name
                    stats.tables += 1
                    stats.per_table[name] = 0
                    if progress:
                        progress("table", name, int(entry["rows"]))
                digest = hashlib.sha256()
                batch: list[dict[str, Any]] = []
                for line in stream:
                    digest.update(line)
                    batch.append(_decode_row(line, kinds, sqlite, name))
                    if len(batch) >= _BATCH:
                        conn.execute(tables[name].insert(), batch)
                        stats.per_table[name] += len(batch)
                        if progress:
                            progress("rows", name, len(batch))
                        batch = []
                if batch:
                    conn.execute(tables[name].insert(), batch)
                    stats.per_table[name] += len(batch)
                    if progress:
                        progress("rows", name, len(batch))
                listed = next(m for m in entry["members"] if m["name"] == info.name)
                if digest.hexdigest() != listed["sha256"]:
                    raise BackupError(f"the backup changed while it was read: {info.name}")
        for entry in manifest["tables"]:
            if stats.per_table.get(entry["name"], 0) != entry["rows"]:
                raise BackupError(f"table {entry['name']}: {stats.per_table.get(entry['name'], 0)} rows read, "
                                  f"the manifest says {entry['rows']}")
        _migrate(conn, "head")
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn, _target_tables(conn))
    stats.rows = sum(stats.per_table.values())
    for name, data in files.items():
        if name in DATA_FILES:
            _write_file(Path(data_dir) / name, data)
            stats.files += 1
    stats.seconds = time.monotonic() - started
    return stats
