"""Masking of secrets. The Events API URL embeds the broadcaster's token: it must never reach a
log line, an error, a page or an API response, so everything that shows a URL goes through here.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from greenroom.errors import ConfigError

_FEED_PATH = re.compile(r"^/events/(?P<user>[^/]+)/(?P<token>[^/]+)/?$")
_ANY_FEED_PATH = re.compile(r"/events/([^/?#\s]+)/([^/?#\s]+)")

_registry_lock = threading.Lock()
_registered: set[str] = set()


@dataclass(frozen=True)
class FeedUrl:
    scheme: str
    host: str  # netloc (host[:port])
    username: str
    token: str

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}/events/{self.username}/{self.token}/"

    @property
    def masked(self) -> str:
        return f"{self.scheme}://{self.host}/events/{self.username}/****/"


def parse_feed_url(url: str) -> FeedUrl:
    """Split an Events API URL; the error message never repeats the URL (it holds the token)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("the Events API URL must look like https://HOST/events/USERNAME/TOKEN/")
    match = _FEED_PATH.match(parts.path)
    if not match:
        raise ConfigError("the Events API URL must look like https://HOST/events/USERNAME/TOKEN/")
    return FeedUrl(parts.scheme, parts.netloc.lower(), match["user"], match["token"])


def register_secret(value: str | None) -> None:
    """Remember a secret so that :func:`redact` removes it from any text (logs, errors), and make
    sure every log record created in this process is redacted, whichever handler writes it."""
    if value and len(value) >= 4:
        with _registry_lock:
            _registered.add(value)
        _install_record_redaction()


_factory_installed = False


def _install_record_redaction() -> None:
    """Wrap the logging record factory: libraries (httpx2 logs every request URL) and test
    capture handlers see records only after the secrets are masked."""
    global _factory_installed
    with _registry_lock:
        if _factory_installed:
            return
        _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logger's problem, not ours
            return record
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    logging.setLogRecordFactory(factory)


def redact(text: str) -> str:
    """Remove every registered secret and anything shaped like an Events API token path."""
    if not text:
        return text
    text = _ANY_FEED_PATH.sub(lambda m: f"/events/{m.group(1)}/****", text)
    with _registry_lock:
        secrets = sorted(_registered, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "****")
    return text


def mask_url(url: str | None) -> str | None:
    if url is None:
        return None
    return redact(url)
