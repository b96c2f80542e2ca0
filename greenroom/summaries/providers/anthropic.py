"""Anthropic's Messages API through the official SDK. The SDK's own retries are off: the jobs
framework retries with backoff and records every attempt."""

from __future__ import annotations

import anthropic

from greenroom.secrets import redact, register_secret
from greenroom.summaries.input import SummaryInput
from greenroom.summaries.providers.base import (
    MAX_OUTPUT_TOKENS,
    PROMPT_VERSION,
    SYSTEM_PROMPT,
    ProviderError,
    SummaryText,
    user_prompt,
)

DEFAULT_MODEL = "claude-sonnet-5"


def _error_type(exc: Exception) -> str:
    """The API's error type ("rate_limit_error"): a fixed word, unlike its message, which may
    quote what was sent (the key included) and is therefore never shown."""
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    return kind if isinstance(kind, str) and kind.replace("_", "").isalnum() and len(kind) <= 40 else ""


def error_for(exc: Exception) -> ProviderError:
    """One readable, key-free reason per failure; auth and bad requests are not worth retrying."""
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderError("the provider did not answer in time")
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderError("could not reach the provider")
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        final = status in (400, 401, 403, 404)
        what = {429: "rate limited", 401: "the API key was rejected", 403: "the API key may not use this model",
                404: "unknown model or URL"}.get(status, "server error" if status >= 500 else "request refused")
        kind = _error_type(exc)
        return ProviderError(redact(f"HTTP {status}{f' ({kind})' if kind else ''}: {what}"), retryable=not final)
    if isinstance(exc, anthropic.APIResponseValidationError):
        return ProviderError("the provider's reply was malformed")
    return ProviderError(f"the provider's reply could not be read ({type(exc).__name__})")


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, api_key: str, *, model: str | None = None, base_url: str | None = None,
                 timeout: float = 60.0) -> None:
        register_secret(api_key)
        self.model = model or DEFAULT_MODEL
        self.client = anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)

    def summarize(self, data: SummaryInput) -> SummaryText:
        try:
            message = self.client.messages.create(
                model=self.model, max_tokens=MAX_OUTPUT_TOKENS, system=SYSTEM_PROMPT,
                messages=[{"role": "user", "content": user_prompt(data)}],
            )
            text = "".join(getattr(block, "text", "") or "" for block in (message.content or [])
                           if getattr(block, "type", None) == "text").strip()
        except ProviderError:
            raise
        except Exception as exc:  # the SDK's errors, and a reply whose shape it could not read
            raise error_for(exc) from None
        if not text:
            raise ProviderError("the provider's reply held no text")
        return SummaryText(text, self.name, self.model, PROMPT_VERSION)
