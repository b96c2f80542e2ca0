"""Summary providers. Each turns a :class:`SummaryInput` into text; :func:`get_provider` picks one
from the effective settings (``summary_provider``, ``summary_model``, keys and base URLs)."""

from __future__ import annotations

from typing import Any

from greenroom.summaries.providers.base import Provider, ProviderError, SummaryText

__all__ = ["Provider", "ProviderError", "SummaryText", "get_provider"]

DEFAULT_TIMEOUT = 60.0


def get_provider(settings: Any, *, timeout: float = DEFAULT_TIMEOUT) -> Provider:
    """The configured provider. Raises :class:`ProviderError` (not retryable) when the choice
    cannot work as configured, e.g. a real provider without a key."""
    name = (getattr(settings, "summary_provider", "offline") or "offline").lower()
    model = getattr(settings, "summary_model", "") or ""
    if name == "offline":
        from greenroom.summaries.providers.offline import OfflineProvider

        return OfflineProvider()
    if name == "anthropic":
        from greenroom.summaries.providers.anthropic import AnthropicProvider

        key = getattr(settings, "anthropic_api_key", None)
        if key is None or not key.get_secret_value():
            raise ProviderError("no Anthropic API key is set (Admin › Settings)", retryable=False)
        return AnthropicProvider(key.get_secret_value(), model=model or None,
                                 base_url=getattr(settings, "anthropic_base_url", None) or None, timeout=timeout)
    if name == "openai":
        from greenroom.summaries.providers.openai import OpenAIProvider

        key = getattr(settings, "openai_api_key", None)
        if key is None or not key.get_secret_value():
            raise ProviderError("no OpenAI API key is set (Admin › Settings)", retryable=False)
        return OpenAIProvider(key.get_secret_value(), model=model or None,
                              base_url=getattr(settings, "openai_base_url", None) or None, timeout=timeout)
    raise ProviderError(f"unknown summary provider {name!r}", retryable=False)
