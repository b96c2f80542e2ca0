"""Portable column types."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

# BigInteger primary keys do not autoincrement on SQLite; INTEGER PRIMARY KEY does (rowid).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")

class JSONDoc(TypeDecorator[Any]):
    """JSON documents we produce ourselves (settings, stats): JSONB on PostgreSQL, JSON text
    elsewhere. A TypeDecorator rather than ``with_variant`` so migrations render it as one name."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


JSONType = JSONDoc()


# One encoder for every payload: ingest encodes each event once, so its setup cost counts.
# Payloads come from json.loads and cannot be circular, so the circularity check is skipped.
_RAW_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), check_circular=False)


def encode_raw_json(value: Any) -> str:
    return _RAW_ENCODER.encode(value)


class RawJSON(TypeDecorator[Any]):
    """Lossless JSON for hostile upstream payloads, stored as ASCII text.

    JSONB refuses ``\\u0000`` and PostgreSQL text refuses NUL bytes; lone surrogates cannot be
    encoded as UTF-8 at all. Escaping everything to ASCII keeps every payload storable on every
    engine and still round-trips exactly through ``json.loads``.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        return encode_raw_json(value)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on every engine.

    SQLite has no time zones and hands back naive values: store naive UTC there and re-attach UTC
    on the way out. Naive values going in are refused, because guessing their zone loses data.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
