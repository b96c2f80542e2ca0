"""Logging setup. Every log event passes through :func:`greenroom.secrets.redact` last, so a token
that slips into a message or an exception is masked before anything is written.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from greenroom.secrets import redact


def _redact_processor(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = redact(value)
        elif isinstance(value, BaseException):
            event_dict[key] = redact(f"{type(value).__name__}: {value}")
    return event_dict


class _RedactingFilter(logging.Filter):
    """Masks secrets in records from the standard library (uvicorn, httpx2, alembic)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record must not crash logging
            return True
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_configured = False


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    global _configured
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    if not _configured:
        handler = logging.StreamHandler(sys.stderr)
        handler.addFilter(_RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(level.upper())
        # httpx2 logs every request URL at INFO: the URL carries the token.
        for noisy in ("httpx2", "httpcore2", "httpx", "httpcore", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        _configured = True


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
