"""Reading and saving the owner's settings. Never commits: the caller owns the transaction.

:func:`effective` returns the environment's ``Settings`` with the owner's saved values laid over
it, so code that takes a settings object (``Windows.from_settings``, the summary providers) needs
no second way of reading configuration. API keys are write-only: :func:`public_view` shows only
whether one is set, and every key read is registered with the redactor so no log line carries it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from greenroom.config import parse_stats_url
from greenroom.db.util import insert_ignore
from greenroom.errors import BadRequest, ConfigError
from greenroom.prefs.models import Preference
from greenroom.secrets import register_secret

PROVIDERS = ("offline", "anthropic", "openai", "off")
SECRET_KEYS = ("anthropic_api_key", "openai_api_key", "stats_url")


def _int(low: int, high: int) -> Any:
    def check(value: Any) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return check


def _timezone(value: Any) -> str:
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use a name like Europe/Berlin)") from None
    return name


def _provider(value: Any) -> str:
    name = str(value).strip().lower()
    if name not in PROVIDERS:
        raise ValueError(f"must be one of {', '.join(PROVIDERS)}")
    return name


def _text(limit: int) -> Any:
    def check(value: Any) -> str:
        text = str(value).strip()
        if len(text) > limit:
            raise ValueError(f"must be at most {limit} characters")
        return text

    return check


def _url(value: Any) -> str:
    text = str(value).strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL such as https://api.example.com/v1")
    return text


def _secret(value: Any) -> str:
    text = str(value).strip()
    if len(text) > 500 or any(c.isspace() for c in text):
        raise ValueError("does not look like an API key")
    return text


def _stats_url(value: Any) -> str:
    text = str(value).strip()
    try:
        register_secret(parse_stats_url(text).token)
    except ConfigError as exc:  # the message never repeats the URL (it holds the token)
        raise ValueError(str(exc).removeprefix("the Stats API URL ")) from None
    return text


def _register(key: str, value: str) -> None:
    register_secret(value)
    if key == "stats_url":
        with contextlib.suppress(ConfigError):  # a value edited by hand; the sampler reports it as not set
            register_secret(parse_stats_url(value).token)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(value: Any) -> str:
    name = str(value).strip().lower()
    if name not in WEEKDAYS:
        raise ValueError(f"must be a day of the week ({', '.join(WEEKDAYS)})")
    return name


# Settings kept only here (no environment variable): key -> default.
OWNER_ONLY: dict[str, Any] = {"week_start": "monday"}

# key -> (label, validator). The keys are ``Settings`` field names.
FIELDS: dict[str, tuple[str, Any]] = {
    "merge_window_minutes": ("Merge window (minutes)", _int(0, 24 * 60)),
    "stale_session_minutes": ("Watchdog idle time (minutes)", _int(1, 7 * 24 * 60)),
    "timezone": ("Time zone", _timezone),
    "summary_provider": ("Summary provider", _provider),
    "summary_model": ("Summary model", _text(100)),
    "summary_delay_minutes": ("Summary delay (minutes)", _int(0, 24 * 60)),
    "anthropic_base_url": ("Anthropic base URL", _url),
    "openai_base_url": ("OpenAI-compatible base URL", _url),
    "anthropic_api_key": ("Anthropic API key", _secret),
    "openai_api_key": ("OpenAI API key", _secret),
    "stats_url": ("Stats API URL", _stats_url),
    "week_start": ("Week starts on", _weekday),
}


def saved(db: Session) -> dict[str, Any]:
    """The values the owner saved (keys included; never hand this to a page)."""
    values = {}
    for row in db.execute(select(Preference)).scalars():
        if row.key in FIELDS and isinstance(row.value, dict) and "v" in row.value:
            values[row.key] = row.value["v"]
    return values


def week_start(db: Session) -> str:
    """The first day of a week for leaderboards (saved by the owner; Monday by default)."""
    value = saved(db).get("week_start")
    return value if value in WEEKDAYS else OWNER_ONLY["week_start"]


def effective(db: Session, settings: Any) -> Any:
    """``settings`` with the owner's saved values over it (a copy; ``settings`` is not changed)."""
    values = saved(db)
    update: dict[str, Any] = {}
    for key, value in values.items():
        if key in SECRET_KEYS:
            if value:
                _register(key, value)
                update[key] = SecretStr(value)
        elif hasattr(settings, key):
            update[key] = value
    if not update:
        return settings
    if hasattr(settings, "model_copy"):
        return settings.model_copy(update=update)
    copy = type("EffectiveSettings", (), {})()
    copy.__dict__.update({**getattr(settings, "__dict__", {}), **update})
    return copy


def validate(changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean values and per-field error messages. Unknown keys are an error; an empty key field
    means "keep the current key" and is dropped."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, raw in changes.items():
        if key not in FIELDS:
            errors[key] = "unknown setting"
            continue
        if key in SECRET_KEYS and (raw is None or str(raw).strip() == ""):
            continue
        label, check = FIELDS[key]
        try:
            clean[key] = check(raw)
        except ValueError as exc:
            errors[key] = f"{label} {exc}"
    return clean, errors


def save(db: Session, changes: dict[str, Any], now: datetime, *, clear_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate and store ``changes``; raises :class:`BadRequest` listing every problem, and stores
    nothing then. ``clear_keys`` removes saved API keys. Returns what was stored (keys masked)."""
    clean, errors = validate(changes)
    unknown = [k for k in clear_keys if k not in SECRET_KEYS]
    if unknown:
        errors["clear"] = f"only API keys can be cleared, not {', '.join(unknown)}"
    if errors:
        raise BadRequest("; ".join(errors.values()))
    for key, value in clean.items():
        if key in SECRET_KEYS:
            _register(key, value)
        insert_ignore(db, Preference.__table__, [{"key": key, "value": {"v": value}, "updated_at": now}], ["key"])
        row = db.get(Preference, key, populate_existing=True)
        assert row is not None
        row.value, row.updated_at = {"v": value}, now
    for key in clear_keys:
        db.execute(delete(Preference).where(Preference.key == key))
    db.flush()
    return {k: ("set" if k in SECRET_KEYS else v) for k, v in clean.items()}


def public_view(db: Session, settings: Any) -> dict[str, Any]:
    """Every setting as the Admin page shows it: values, and for API keys only "set"/"not set"."""
    current = effective(db, settings)
    view: dict[str, Any] = {}
    for key in FIELDS:
        value = getattr(current, key, None)
        if value is None and key in OWNER_ONLY:
            value = saved(db).get(key, OWNER_ONLY[key])
        if key in SECRET_KEYS:
            view[key] = "set" if value is not None and value.get_secret_value() else "not set"
        else:
            view[key] = "" if value is None else value
    return view
