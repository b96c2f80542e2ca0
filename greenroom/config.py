"""Settings, read from environment variables prefixed ``GREENROOM_`` and an optional ``.env`` file.

Secrets (the Events API URL embeds a token; LLM keys; the owner password) are ``SecretStr`` so
that printing the settings object never shows them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from greenroom.errors import ConfigError
from greenroom.secrets import parse_feed_url, register_secret


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GREENROOM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    events_url: SecretStr | None = Field(
        default=None, description="The Events API URL from the broadcaster's token page (contains the token)."
    )
    stats_url: SecretStr | None = Field(
        default=None, description="The Stats API URL, https://chaturbate.com/statsapi/?username=…&token=… "
        "(contains the token); sampled every 5 minutes when set."
    )
    data_dir: Path = Field(default=Path("greenroom-data"), description="Where SQLite, images and keys live.")
    database_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy URL; default is SQLite in the data folder."
    )
    owner_password: SecretStr | None = Field(
        default=None, description="Sets the owner's password on first start when no owner exists yet."
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs login cookies; generated and kept in the data folder if unset."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    poll_timeout: int = Field(default=30, ge=0, le=90, description="Long-poll ?timeout= in seconds.")
    lease_seconds: int = Field(default=120, ge=2, le=3600, description="Ingest lease lifetime.")
    backoff_cap_seconds: float = Field(default=300.0, gt=0)
    credential_retry_seconds: float = Field(default=60.0, gt=0)
    demo_speed: float = Field(default=5.0, gt=0, description="Speed of the built-in demo room.")
    demo_seed: int = 7
    merge_window_minutes: int = Field(default=30, ge=0, le=24 * 60)
    stale_session_minutes: int = Field(default=120, ge=1)
    timezone: str = "UTC"
    summary_provider: str = Field(default="offline", description="offline, anthropic, openai or off.")
    summary_model: str = Field(default="", description="Model name; empty picks the provider's default.")
    summary_delay_minutes: int = Field(default=0, ge=0, le=24 * 60, description="Wait before summarizing.")
    anthropic_api_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    anthropic_base_url: str | None = Field(default=None, description="Custom Anthropic API URL (proxy).")
    openai_base_url: str | None = Field(default=None, description="OpenAI-compatible API URL (e.g. local).")
    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("events_url")
    @classmethod
    def _check_events_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            parse_feed_url(value.get_secret_value().strip())
        except ConfigError as exc:  # re-raised without the value, which holds the token
            raise ValueError(str(exc)) from None
        return SecretStr(value.get_secret_value().strip())

    @field_validator("stats_url")
    @classmethod
    def _check_stats_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            parse_stats_url(value.get_secret_value())
        except ConfigError as exc:  # re-raised without the value, which holds the token
            raise ValueError(str(exc)) from None
        return SecretStr(value.get_secret_value().strip())

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url is not None and self.database_url.get_secret_value().strip():
            url = self.database_url.get_secret_value().strip()
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{(self.data_dir / 'greenroom.db').resolve()}"


def register_secrets(settings: Settings) -> None:
    """Teach :func:`greenroom.secrets.redact` this installation's secrets (every SecretStr field,
    and the token inside the Events API URL), so no log line or recorded error can carry them."""
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            register_secret(value.get_secret_value())
    if settings.events_url is not None:
        register_secret(parse_feed_url(settings.events_url.get_secret_value()).token)
    if settings.stats_url is not None:
        register_secret(parse_stats_url(settings.stats_url.get_secret_value()).token)


@dataclass(frozen=True)
class StatsUrl:
    """A Stats API URL split up; ``masked`` is the form that may be shown or logged."""

    scheme: str
    host: str  # netloc (host[:port])
    path: str
    username: str
    token: str = field(repr=False)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}?" + urlencode({"username": self.username, "token": self.token})

    @property
    def masked(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}?" + urlencode({"username": self.username}) + "&token=****"


_STATS_URL_SHAPE = "the Stats API URL must look like https://chaturbate.com/statsapi/?username=NAME&token=TOKEN"


def parse_stats_url(url: str) -> StatsUrl:
    """Validate a Stats API URL; the error message never repeats the URL (it holds the token).

    https to any host; plain http only to this machine or a private network (a simulator, a
    local proxy), where the token does not cross the internet in clear text."""
    try:
        parts = urlsplit(url.strip())
        host, _port = parts.hostname, parts.port
    except ValueError:  # an unclosed "[" of an IPv6 address, a port out of range
        raise ConfigError(_STATS_URL_SHAPE) from None
    if parts.scheme not in ("http", "https") or not host or not parts.path.rstrip("/").endswith(
            "/statsapi"):
        raise ConfigError(_STATS_URL_SHAPE)
    query = parse_qs(parts.query)
    username = (query.get("username") or [""])[0].strip()
    token = (query.get("token") or [""])[0].strip()
    if not username or not token or len(username) > 64 or len(token) > 200 or any(c.isspace() for c in token):
        raise ConfigError(_STATS_URL_SHAPE)
    if parts.scheme == "http" and not _local_host(host):
        raise ConfigError("the Stats API URL must use https (plain http only to a local or private address)")
    return StatsUrl(parts.scheme, parts.netloc.lower(), parts.path, username.lower(), token)


def _local_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's message lists fields, never secret values
        raise ConfigError(f"invalid configuration: {exc}") from None


def reset_settings_cache() -> None:
    get_settings.cache_clear()
