"""Anthropic's Messages API through the official SDK. The SDK's own retries are off: the jobs
framework retries with backoff and records every attempt."""

from __future__ import annotations

import anthropic

from greenroom.secrets import register_secret
from greenroom.summaries.input import SummaryInput
from greenroom.summaries.providers.base import (
    MAX_OUTPUT_TOKENS,
    PROMPT_VERSION,
    SYSTEM_PROMPT,
    ProviderError,
    SummaryText,
    sdk_error,
    user_prompt,
)

DEFAULT_MODEL = "claude-sonnet-5"


def error_for(exc: Exception) -> ProviderError:
    return sdk_error(exc, anthropic)


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
