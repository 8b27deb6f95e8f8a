"""Structured logging: JSON lines with the request id bound per request. Secrets are never
passed to the logger; settings are logged only through `safe_settings`."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from marketred.settings import Settings
from marketred.tracing import current_ids

_SECRET_FIELDS = ("secret", "key", "password", "database_url", "smtp_url", "metrics_token")


def _trace_ids(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """trace_id / span_id of the current OpenTelemetry span (when tracing is on)."""
    for key, value in current_ids().items():
        event.setdefault(key, value)
    return event


def configure_logging(settings: Settings) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _trace_ids,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelName(settings.log_level.upper())
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr, format="%(message)s")


def safe_settings(settings: Settings) -> dict[str, Any]:
    return {
        k: ("***" if any(s in k for s in _SECRET_FIELDS) and v else v)
        for k, v in settings.model_dump(mode="json").items()
    }


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
