"""Structured JSON logs that carry the correlation id of the event being handled.

Every line a service writes is one JSON object: ``time`` in RFC 3339, UTC, to the millisecond;
``level``, ``logger``, ``message``, ``service`` and ``correlation_id``, and ``trace_id`` and
``span_id`` while a span is active (``tracing``), to find a line's trace. The libraries that log
on their own terms are brought into line: FastStream's loggers (plain text with ANSI colours,
on stdout and stderr, not propagated) hand their records to ours, and uvicorn's
``color_message`` (the same message with ANSI codes) is dropped.
"""

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Final

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
# Loggers that FastStream gives handlers of their own, with colours.
OWN_HANDLERS: Final = ("faststream",)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        record.__dict__.pop("color_message", None)
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            record.trace_id = trace.format_trace_id(span.trace_id)
            record.span_id = trace.format_span_id(span.span_id)
        return True


class _Rfc3339Formatter(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        at = datetime.fromtimestamp(record.created, UTC)
        return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def configure(service: str, level: str = "INFO") -> None:
    """One JSON object per line on stderr, for every logger in the process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(
        _Rfc3339Formatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in list(logging.root.manager.loggerDict):
        if name in OWN_HANDLERS or name.startswith(tuple(f"{n}." for n in OWN_HANDLERS)):
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate = True
