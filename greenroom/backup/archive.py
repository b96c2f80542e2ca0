"""The backup file format, shared by writing and reading.

A backup is a gzip-compressed tar stream (optionally encrypted as a whole, see ``crypto``):

- ``tables/NNNN-<table>/NNNNNN.jsonl``: the rows of each table, in foreign-key order, split into
  members of a few megabytes; one JSON object per line, columns by name. Values: integers, floats,
  strings and booleans as JSON; times as ISO 8601 UTC text; dates as ISO dates; bytes as base64
  text; JSON columns as their JSON text (so SQL NULL and JSON null stay apart). Text columns (raw
  event payloads among them) are kept exactly.
- ``files/<name>``: files of the data folder (the generated cookie-signing key).
- ``manifest.json`` last: format version, schema revision, engine, time, and per table its column
  kinds, row count and members with their SHA-256 and size. It comes last because it can only be
  written once every table is through; readers check the whole file against it before loading.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, LargeBinary, Numeric, Table

from greenroom.errors import GreenroomError

FORMAT = "greenroom-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TABLE_PREFIX = "tables/"
FILE_PREFIX = "files/"
# Files of the data folder that belong in a backup. The SQLite database is dumped table by table,
# never copied; the Events API URL lives in the environment and is never written anywhere.
DATA_FILES = ("secret_key",)
MEMBER_BYTES = 4 * 1024 * 1024


class BackupError(GreenroomError):
    """A backup that cannot be written or read, with a message for the owner."""


def column_kinds(table: Table) -> dict[str, str]:
    """How each column's values are written: int, float, decimal, bool, datetime, date, bytes, json, text."""
    kinds: dict[str, str] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, Boolean):
            kinds[column.name] = "bool"
        elif isinstance(kind, Integer):
            kinds[column.name] = "int"
        elif isinstance(kind, Float):
            kinds[column.name] = "float"
        elif isinstance(kind, Numeric):
            kinds[column.name] = "decimal"
        elif isinstance(kind, DateTime):
            kinds[column.name] = "datetime"
        elif isinstance(kind, Date):
            kinds[column.name] = "date"
        elif isinstance(kind, LargeBinary):
            kinds[column.name] = "bytes"
        elif isinstance(kind, JSON):
            kinds[column.name] = "json"
        else:
            kinds[column.name] = "text"
    return kinds


def encode_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        if value.tzinfo is None:  # SQLite keeps UTC without a zone
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if kind == "date":
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "decimal":
        return str(value)
    if kind == "bool":
        return bool(value)
    return value


def decode_value(kind: str, value: Any, *, sqlite: bool) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("time without a zone")
        parsed = parsed.astimezone(UTC)
        return parsed.replace(tzinfo=None) if sqlite else parsed
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value, validate=True)
    if kind == "decimal":
        return Decimal(value)
    return value


def member_name(table_index: int, table: str, part: int) -> str:
    return f"{TABLE_PREFIX}{table_index:04d}-{table}/{part:06d}.jsonl"
