"""Events API long-poll client.

One ``poll`` = one HTTP request, no retries here: the ingest loop owns backoff and state, so the
dashboard can show what is happening between attempts. Errors raised from here never contain the
feed URL (it carries the token); messages are built from status codes and exception class names.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx2

from greenroom.secrets import FeedUrl, redact

MAX_BODY_BYTES = 64 * 1024 * 1024
USER_AGENT = "greenroom/0.1"


class PollError(Exception):
    """Base for poll failures; ``str()`` is safe to log and show."""


class TransientError(PollError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CredentialsRejected(PollError):
    def __init__(self, status: int) -> None:
        reason = "token rejected" if status in (401, 403) else "feed not found (check the username in the URL)"
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status


@dataclass
class PollResult:
    events: list[Any] = field(default_factory=list)
    cursor: str | None = None  # query string of the nextUrl to follow, e.g. "i=...&timeout=30"
    cursor_event_id: str | None = None
    refused_next_url: bool = False  # nextUrl pointed elsewhere: events kept, cursor not moved
    waited_too_long: bool = False


class FeedClient:
    def __init__(self, feed: FeedUrl, *, timeout: int = 30, transport: httpx2.BaseTransport | None = None,
                 verify: Any = True, total_deadline: float | None = None) -> None:
        self.feed = feed
        self.timeout = max(0, min(90, timeout))
        # The server holds the request for up to `timeout` seconds: the read timeout must exceed it.
        self.read_timeout = self.timeout + 15.0
        # A body that trickles forever would never trip a per-read timeout: cap the whole request.
        self.total_deadline = total_deadline if total_deadline is not None else self.timeout + 60.0
        self._client = httpx2.Client(
            timeout=httpx2.Timeout(connect=10.0, read=self.read_timeout, write=10.0, pool=10.0),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
            transport=transport,
            verify=verify,
        )

    def close(self) -> None:
        self._client.close()

    def url_for(self, cursor: str | None) -> str:
        params = dict(parse_qsl(cursor or "", keep_blank_values=True))
        params["timeout"] = str(self.timeout)
        return self.feed.base + "?" + urlencode(params)

    def poll(self, cursor: str | None) -> PollResult:
        url = self.url_for(cursor)
        started = time.monotonic()
        try:
            with self._client.stream("GET", url) as response:
                status = response.status_code
                retry_after = _retry_after(response.headers.get("Retry-After"))
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_BODY_BYTES:
                        raise TransientError("response body too large")
                    if time.monotonic() - started > self.total_deadline:
                        raise TransientError("response body did not finish in time")
        except httpx2.TimeoutException as exc:
            raise TransientError(f"timeout ({type(exc).__name__})") from None
        except httpx2.HTTPError as exc:
            raise TransientError(f"network error ({type(exc).__name__})") from None
        return self._interpret(url, status, bytes(body), retry_after)

    def _interpret(self, url: str, status: int, body: bytes, retry_after: float | None) -> PollResult:
        if status in (401, 403, 404):
            raise CredentialsRejected(status)
        if status == 429:
            raise TransientError("HTTP 429: rate limited", retry_after)
        if status >= 500:
            raise TransientError(f"HTTP {status}: server error", retry_after)
        data = _json(body)
        if status == 400:
            if isinstance(data, dict) and "waited too long" in str(data.get("status", "")).lower():
                result = self._follow(url, data)
                result.events = []
                result.waited_too_long = True
                return result
            raise TransientError("HTTP 400: bad request")
        if status != 200:
            raise TransientError(f"HTTP {status}: unexpected status")
        if not isinstance(data, dict):
            raise TransientError("malformed response (not a JSON object)")
        events = data.get("events")
        if events is None:
            events = []
        if not isinstance(events, list):
            raise TransientError("malformed response (events is not a list)")
        result = self._follow(url, data)
        result.events = events
        return result

    def _follow(self, request_url: str, data: dict[str, Any]) -> PollResult:
        next_url = data.get("nextUrl")
        if not isinstance(next_url, str) or not next_url.strip():
            return PollResult()
        target = urlsplit(urljoin(request_url, next_url.strip()))
        base = urlsplit(self.feed.base)
        if (target.scheme, target.netloc.lower()) != (base.scheme, base.netloc.lower()) or target.path.rstrip(
            "/"
        ) != base.path.rstrip("/"):
            return PollResult(refused_next_url=True)
        params = dict(parse_qsl(target.query, keep_blank_values=True))
        params.pop("timeout", None)
        return PollResult(cursor=urlencode(params), cursor_event_id=params.get("i"))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise TransientError("malformed response (invalid JSON)") from None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, min(3600.0, float(value)))
    except ValueError:
        return None


def describe(exc: BaseException) -> str:
    """A loggable one-line description of any exception, secrets masked."""
    if isinstance(exc, PollError):
        return str(exc)
    return redact(f"{type(exc).__name__}: {exc}")
