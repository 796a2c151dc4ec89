"""structlog set-up: readable console lines for people, JSON lines for machines, and never a
credential or a request body in either."""

from __future__ import annotations

import io
import logging
import re
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import ExceptionRenderer, ExcInfo

__all__ = ["configure_logging", "redact", "scrub"]

_CREDENTIAL_KEY = re.compile(
    r"(?:^|[_-])(?:authorization|cookie|password|passwd|secret|token|api[_-]?key|body)$",
    re.IGNORECASE,
)
"""Fields logged as `***` whatever they hold (`authorization`, `set-cookie`, `csrf_token`,
`request_body`...); `token_id` is an identifier, not a secret, and is kept."""

_SECRET_TEXT = [
    # a bearer or basic credential, such as one quoted from a header
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1 ***"),
    # a Peerloop token secret, wherever it appears
    (re.compile(r"\bplt_[A-Za-z0-9_-]+"), "plt_***"),
    # the password of a URL (a database address)
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), r"\1***@"),
]
REDACTED = "***"


def scrub(text: str) -> str:
    """`text` with every credential it quotes replaced by `***`."""
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _redacted(key: object, value: Any, depth: int = 0) -> Any:
    if isinstance(key, str) and _CREDENTIAL_KEY.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return scrub(value)
    if depth > 8:
        return value
    if isinstance(value, dict):
        return {k: _redacted(k, v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redacted(None, v, depth + 1) for v in value)
    return value


def redact(
    _logger: object, _name: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    """A processor: credentials and bodies out of every field, at any depth."""
    return {k: _redacted(k, v) for k, v in event.items()}


class _ScrubbedTraceback:
    """A traceback renderer whose output is scrubbed (an exception's message can quote a
    header or a value)."""

    def __init__(self, inner: ExceptionRenderer) -> None:
        self.inner = inner

    def __call__(self, sio: TextIO, exc_info: ExcInfo) -> None:
        buffer = io.StringIO()
        self.inner(buffer, exc_info)
        sio.write(scrub(buffer.getvalue()))


def _traceback_renderer(colors: bool) -> ExceptionRenderer:
    # Local variables are never shown: they hold request headers, bodies and passwords.
    try:
        inner: ExceptionRenderer = structlog.dev.RichTracebackFormatter(
            color_system="truecolor" if colors else None, show_locals=False
        )
    except (ImportError, ModuleNotFoundError):  # pragma: no cover - rich is a dependency
        inner = structlog.dev.plain_traceback
    return _ScrubbedTraceback(inner)


def configure_logging(fmt: str = "console", level: int = logging.INFO) -> None:
    """Route structlog and the standard library's loggers (uvicorn, apscheduler, sqlalchemy)
    through one formatter."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    colors = sys.stderr.isatty()
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=colors, exception_formatter=_traceback_renderer(colors)
        )
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                # JSON lines carry the traceback as text (without locals), redacted with the rest
                structlog.processors.format_exc_info if fmt == "json" else _identity,
                redact,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    # Our own request log line replaces uvicorn's access log; `transitions` and APScheduler
    # narrate every step at INFO, which our transition and sweep log lines already cover.
    for name in ("uvicorn.access", "transitions", "alembic.runtime.migration", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _identity(
    _logger: object, _name: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    return event
