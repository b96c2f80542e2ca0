"""OpenAI's Chat Completions API (and compatible servers, via a custom base URL) through the
official SDK. The SDK's own retries are off: the jobs framework retries with backoff."""

from __future__ import annotations

import openai

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

DEFAULT_MODEL = "gpt-5.4-mini"


def error_for(exc: Exception) -> ProviderError:
    return sdk_error(exc, openai)


class OpenAIProvider:
    name = "openai"

    def __init__(self, api_key: str, *, model: str | None = None, base_url: str | None = None,
                 timeout: float = 60.0) -> None:
        register_secret(api_key)
        self.model = model or DEFAULT_MODEL
        # OpenAI's current models take ``max_completion_tokens`` and refuse ``max_tokens``; the
        # OpenAI-compatible servers people point a custom URL at (llama.cpp, Ollama, vLLM) know
        # ``max_tokens`` for certain.
        self.limit = {"max_tokens" if base_url else "max_completion_tokens": MAX_OUTPUT_TOKENS}
        self.client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)

    def summarize(self, data: SummaryInput) -> SummaryText:
        try:
            completion = self.client.chat.completions.create(
                model=self.model, **self.limit,
                messages=[{"role": "system", "content": SYSTEM_PROMPT},
                          {"role": "user", "content": user_prompt(data)}],
            )
            choices = completion.choices or []
            text = (choices[0].message.content or "").strip() if choices else ""
        except Exception as exc:  # the SDK's errors, and a reply whose shape it could not read
            raise error_for(exc) from None
        if not text:
            raise ProviderError("the provider's reply held no text")
        return SummaryText(text, self.name, self.model, PROMPT_VERSION)
