"""One structured log line and one metrics sample per HTTP request, whatever its outcome.

Wraps the app's whole ASGI handler, so that requests Litestar answers before any route (an
unknown path, a wrong method) are logged and counted like the rest. A path that carries a
secret (a calendar feed link, `/calendar/<secret>.ics`) is logged redacted.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.metrics import Metrics

__all__ = ["RequestLog", "redact_path"]

_log = structlog.get_logger("peerloop.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Everything after `/calendar/` is a feed link's secret (or a guess at one): matched however
# the path is spelt, since an unrouted spelling is logged too.
_SECRET_PATH = re.compile(r"^(/+calendar/).*$", re.IGNORECASE | re.DOTALL)


def redact_path(path: str) -> str:
    """The path as it may be logged: the secret of a calendar feed link replaced by `***`."""
    return _SECRET_PATH.sub(r"\1***", path)


class RequestLog:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        # Bound for every line logged while answering (the transition line, errors); the
        # request line names it itself, being written as the context closes.
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - start
                route = scope.get("path_template") or "unmatched"
                method = scope.get("method", "")
                self.metrics.request(str(method), str(route), status, seconds)
                _log.info(
                    "request",
                    request_id=request_id,
                    method=method,
                    path=redact_path(str(scope.get("path", ""))),
                    route=route,
                    status=status,
                    principal=state.get("principal"),
                    duration_ms=round(seconds * 1000, 2),
                )
