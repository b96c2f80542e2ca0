"""Writing a backup: every table, read in one consistent snapshot, streamed as a tar of JSON lines.

Memory stays bounded whatever the size of the database: rows are fetched in batches
(``yield_per``), each table is cut into members of a few megabytes, and the output is handed on in
pieces as soon as each member is compressed (``iter_backup`` is a generator of bytes, so the CLI
writes a file and the web page streams a download from the same code).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, Table, Text, cast, func, select, text, type_coerce

from greenroom.backup.archive import (
    DATA_FILES,
    FILE_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MEMBER_BYTES,
    column_kinds,
    encode_value,
    member_name,
)
from greenroom.backup.crypto import EncryptingWriter
from greenroom.db.engine import Database
from greenroom.db.types import utcnow

VERSION_TABLE = "alembic_version"
# Progress: ("table", name, total rows) when a table starts, ("rows", name, n) as rows go by.
Progress = Callable[[str, str, int], None]


@dataclass
class BackupStats:
    tables: int = 0
    rows: int = 0
    bytes_out: int = 0
    seconds: float = 0.0
    per_table: dict[str, int] = field(default_factory=dict)


class _Sink:
    """Collects what tar/gzip/encryption write, for the generator to hand on."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        if data:
            self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing buffered here beyond ``drain``."""

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def schema_revision(conn: Connection) -> str | None:
    tables = MetaData()
    try:
        tables.reflect(conn, only=[VERSION_TABLE])
    except Exception:  # no alembic_version table: an empty, never migrated database
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()  # noqa: S608 (a constant)


def data_tables(conn: Connection) -> list[Table]:
    """Every table of the database except Alembic's, parents before children."""
    reflected = MetaData()
    reflected.reflect(conn)
    return [t for t in reflected.sorted_tables if t.name != VERSION_TABLE]


def _order(table: Table) -> list[Any]:
    pk = list(table.primary_key.columns)
    return pk or list(table.columns)


def _columns(table: Table, kinds: dict[str, str], dialect: str) -> list[Any]:
    """JSON documents are read as their text, so SQL NULL and JSON null stay apart."""
    out: list[Any] = []
    for column in table.columns:
        if kinds[column.name] == "json":
            raw = cast(column, Text) if dialect == "postgresql" else type_coerce(column, Text)
            out.append(raw.label(column.name))
        else:
            out.append(column)
    return out


def _add_member(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))
    return {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def iter_backup(database: Database, data_dir: Path | None, *, password: str | None = None,
                progress: Progress | None = None, stats: BackupStats | None = None,
                now: datetime | None = None) -> Iterator[bytes]:
    """The backup file, in pieces. ``stats`` (if given) is filled in as it goes."""
    stats = stats if stats is not None else BackupStats()
    started = time.monotonic()
    created = now or utcnow()
    sink = _Sink()
    encryptor = EncryptingWriter(sink, password) if password else None
    tar = tarfile.open(fileobj=encryptor or sink, mode="w|gz", format=tarfile.PAX_FORMAT)  # noqa: SIM115 (closed below)
    mtime = created.timestamp()

    def drained() -> bytes:
        out = sink.drain()
        stats.bytes_out += len(out)
        return out

    conn = database.engine.connect()
    if database.dialect == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    try:
        with conn.begin():
            revision = schema_revision(conn)
            tables = data_tables(conn)
            manifest_tables: list[dict[str, Any]] = []
            counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
            for index, table in enumerate(tables, 1):
                kinds = column_kinds(table)
                if progress:
                    progress("table", table.name, counts[table.name])
                entry: dict[str, Any] = {"name": table.name, "columns": kinds, "rows": 0, "members": []}
                buffer = bytearray()
                part_rows = 0
                pending = 0
                result = conn.execution_options(stream_results=True, yield_per=2000).execute(
                    select(*_columns(table, kinds, database.dialect)).order_by(*_order(table)))
                names = list(kinds)
                for row in result:
                    values = row._mapping
                    line = {n: encode_value(kinds[n], values[n]) for n in names}
                    # ASCII escapes keep any text exact, lone surrogates included.
                    buffer += json.dumps(line, separators=(",", ":")).encode("ascii")
                    buffer += b"\n"
                    part_rows += 1
                    pending += 1
                    if pending >= 2000 and progress:
                        progress("rows", table.name, pending)
                        pending = 0
                    if len(buffer) >= MEMBER_BYTES:
                        member = _add_member(tar, member_name(index, table.name, len(entry["members"]) + 1),
                                             bytes(buffer), mtime)
                        entry["members"].append(member | {"rows": part_rows})
                        entry["rows"] += part_rows
                        buffer.clear()
                        part_rows = 0
                        yield drained()
                if part_rows or not entry["members"]:
                    member = _add_member(tar, member_name(index, table.name, len(entry["members"]) + 1),
                                         bytes(buffer), mtime)
                    entry["members"].append(member | {"rows": part_rows})
                    entry["rows"] += part_rows
                if pending and progress:
                    progress("rows", table.name, pending)
                manifest_tables.append(entry)
                stats.tables += 1
                stats.rows += entry["rows"]
                stats.per_table[table.name] = entry["rows"]
                yield drained()
        files: list[dict[str, Any]] = []
        for name in DATA_FILES:
            path = Path(data_dir) / name if data_dir is not None else None
            if path is not None and path.is_file():
                files.append(_add_member(tar, FILE_PREFIX + name, path.read_bytes(), mtime))
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "schema_revision": revision,
            "created_at": created.isoformat(), "engine": database.dialect, "encrypted": bool(password),
            "tables": manifest_tables, "files": files,
        }
        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        _add_member(tar, MANIFEST, body, mtime)
        tar.close()
        if encryptor is not None:
            encryptor.close()
        stats.seconds = time.monotonic() - started
        yield drained()
    finally:
        conn.close()


def write_backup(database: Database, data_dir: Path | None, path: Path, *, password: str | None = None,
                 progress: Progress | None = None) -> BackupStats:
    """Writes the backup to ``path`` (through a temporary name, so a failure leaves no half file)."""
    stats = BackupStats()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        # The file holds every secret saved in the database: readable by its owner only.
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            for piece in iter_backup(database, data_dir, password=password, progress=progress, stats=stats):
                handle.write(piece)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return stats
