"""Fetching the Stats API: one GET with short timeouts, a few retries with backoff on 429/5xx and
network errors. Errors raised from here never contain the URL (it carries the token): messages are
built from status codes and exception class names only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx2

from greenroom.config import StatsUrl
from greenroom.errors import GreenroomError

MAX_BODY_BYTES = 1024 * 1024
USER_AGENT = "greenroom/0.1"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


class StatsApiError(GreenroomError):
    """A sample could not be taken; ``str()`` is safe to log and show."""

    status_code = 502
    code = "stats_api_error"


class TokenRejected(StatsApiError):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}: token rejected")
        self.status = status


class MalformedResponse(StatsApiError):
    pass


class Unavailable(StatsApiError):
    pass


def fetch(
    url: StatsUrl,
    *,
    attempts: int = 3,
    backoff: float = 2.0,
    max_wait: float = 20.0,
    timeout: float = 10.0,
    transport: httpx2.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """The Stats API answer as a dict. Raises :class:`TokenRejected` (401/403, no retry),
    :class:`Unavailable` (404, or 429/5xx/network errors after ``attempts`` tries) or
    :class:`MalformedResponse` (not a JSON object)."""
    with httpx2.Client(
        timeout=httpx2.Timeout(connect=min(5.0, timeout), read=timeout, write=timeout, pool=timeout),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        follow_redirects=False,
        transport=transport,
    ) as client:
        problem = "no attempt made"
        for attempt in range(1, max(1, attempts) + 1):
            retry_after: float | None = None
            try:
                status, body, retry_after = _get(client, url.url, timeout)
            except httpx2.TimeoutException as exc:
                problem = f"timeout ({type(exc).__name__})"
            except httpx2.HTTPError as exc:
                problem = f"network error ({type(exc).__name__})"
            except _TooLarge:
                raise MalformedResponse("malformed response (body larger than 1 MB)") from None
            except Exception as exc:  # anything else (an unusable URL, a TLS setup problem): named, not shown
                raise Unavailable(f"request failed ({type(exc).__name__})") from None
            else:
                if status in (401, 403):
                    raise TokenRejected(status)
                if status == 404:
                    raise Unavailable("HTTP 404: not found (check the username in the Stats API URL)")
                if status in RETRY_STATUSES:
                    problem = f"HTTP {status}: " + ("rate limited" if status == 429 else "server error")
                elif status != 200:
                    raise Unavailable(f"HTTP {status}: unexpected status")
                else:
                    return parse_body(body)
            if attempt < attempts:
                wait = retry_after if retry_after is not None else backoff * 2 ** (attempt - 1)
                sleep(min(max_wait, wait))
        raise Unavailable(f"{problem} (after {attempts} attempts)")


class _TooLarge(Exception):
    pass


def _get(client: httpx2.Client, url: str, timeout: float) -> tuple[int, bytes, float | None]:
    started = time.monotonic()
    with client.stream("GET", url) as response:
        body = bytearray()
        for chunk in response.iter_bytes():
            body.extend(chunk)
            if len(body) > MAX_BODY_BYTES:
                raise _TooLarge
            if time.monotonic() - started > timeout * 2:
                raise httpx2.ReadTimeout("body did not finish in time")
        return response.status_code, bytes(body), _retry_after(response.headers.get("Retry-After"))


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedResponse("malformed response (invalid JSON)") from None
    if not isinstance(data, dict):
        raise MalformedResponse("malformed response (not a JSON object)")
    return data


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, min(3600.0, float(value)))
    except ValueError:
        return None
