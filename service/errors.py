"""The one table from errors to HTTP statuses, and RFC 9457 `application/problem+json` bodies.

Service errors (raised by routes and guards, never below `service/`):

HttpProblem
├── Forbidden               403 (the caller sees the resource but may not do this)
├── Hidden                  404 (the caller may not know the resource exists)
├── BadHeader               400 (a malformed If-Match)
├── UnreadableBody          400 (nested too deep, a JSON key twice)
├── MediaTypeRefused        415
├── PreconditionRequired    428 (a move without If-Match)
├── BadUpload               422 (a multipart part missing or malformed)
└── TemplateRejected        422 (every issue of an uploaded template, with its line)

Everything else is mapped by `PROBLEMS` below, walking the exception's class hierarchy; an
error found nowhere there is a bug: logged with its traceback and answered as a bare 500.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from adapters.db import is_unavailable
from adapters.files import FileTooLarge, in_words
from engine.errors import (
    AccessDenied,
    CalendarExhausted,
    Conflict,
    CycleClosed,
    ForceNotAllowed,
    IdempotencyKeyReused,
    InvalidRecord,
    InvalidTemplate,
    NotCollectedHere,
    NotFound,
    RequirementsUnmet,
    RoleNotAllowed,
    StaleCycle,
    TransitionNotAvailable,
    UnknownRecord,
    UnknownTransition,
)
from service.auth import TooManyAttempts, Unauthenticated
from service.request_log import redact_path
from service.schemas import FieldError, Problem, ReasonView, field_errors

__all__ = [
    "PROBLEMS",
    "PROBLEM_JSON",
    "BadHeader",
    "BadUpload",
    "Forbidden",
    "Hidden",
    "HttpProblem",
    "MediaTypeRefused",
    "PreconditionRequired",
    "TemplateRejected",
    "UnreadableBody",
    "handle_exception",
    "problem_response",
]

PROBLEM_JSON = "application/problem+json"
_log = structlog.get_logger("peerloop.http")


class HttpProblem(Exception):
    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        self.detail = detail
        self.errors = errors
        super().__init__(detail)


class Forbidden(HttpProblem):
    pass


class Hidden(HttpProblem):
    """Answered exactly like an unknown id, so that existence does not leak."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"no {kind} {key!r}")


class MediaTypeRefused(HttpProblem):
    pass


class BadHeader(HttpProblem):
    """A request header that cannot be read (a malformed If-Match)."""


class UnreadableBody(HttpProblem):
    """A body refused before it is parsed: nested too deep, or a JSON key written twice."""


class PreconditionRequired(HttpProblem):
    pass


class BadUpload(HttpProblem):
    pass


class TemplateRejected(HttpProblem):
    """A template upload with every issue, each located in the document (line included)."""


@dataclass(frozen=True, slots=True)
class Mapped:
    status: int
    slug: str
    title: str


PROBLEMS: Mapping[type[BaseException], Mapped] = {
    # engine
    InvalidTemplate: Mapped(422, "invalid-template", "The template is not valid"),
    InvalidRecord: Mapped(422, "invalid-record", "The record is not valid"),
    IdempotencyKeyReused: Mapped(422, "idempotency-key-reused", "Idempotency key reused"),
    UnknownTransition: Mapped(404, "unknown-transition", "No such transition"),
    UnknownRecord: Mapped(404, "not-found", "Not found"),
    NotFound: Mapped(404, "not-found", "Not found"),
    RoleNotAllowed: Mapped(403, "role-not-allowed", "Your roles do not allow this"),
    ForceNotAllowed: Mapped(403, "force-not-allowed", "The move cannot be forced"),
    TransitionNotAvailable: Mapped(409, "transition-not-available", "Not from this stage"),
    RequirementsUnmet: Mapped(409, "requirements-unmet", "The move is blocked"),
    NotCollectedHere: Mapped(409, "not-collected-here", "Not recorded at this stage"),
    CycleClosed: Mapped(409, "cycle-closed", "The cycle is closed"),
    CalendarExhausted: Mapped(409, "calendar-exhausted", "The school calendar runs out"),
    Conflict: Mapped(409, "conflict", "Conflict"),
    StaleCycle: Mapped(412, "stale-cycle", "The cycle has changed"),
    # reading a body: a form field that is not UTF-8 text (Litestar decodes form fields)
    UnicodeDecodeError: Mapped(400, "bad-request", "The body could not be read"),
    # adapters
    FileTooLarge: Mapped(413, "file-too-large", "The file is too large"),
    # service
    TooManyAttempts: Mapped(429, "too-many-attempts", "Too many failed sign-ins"),
    Unauthenticated: Mapped(401, "unauthenticated", "Authentication needed"),
    Forbidden: Mapped(403, "forbidden", "Not allowed"),
    AccessDenied: Mapped(403, "forbidden", "Not allowed"),
    BadHeader: Mapped(400, "bad-request", "A header could not be read"),
    UnreadableBody: Mapped(400, "bad-request", "The body could not be read"),
    Hidden: Mapped(404, "not-found", "Not found"),
    MediaTypeRefused: Mapped(415, "unsupported-media-type", "Unsupported media type"),
    PreconditionRequired: Mapped(428, "precondition-required", "If-Match is required"),
    BadUpload: Mapped(422, "invalid-upload", "The upload is not valid"),
    TemplateRejected: Mapped(422, "invalid-template", "The template is not valid"),
    ValidationException: Mapped(422, "invalid-request", "The request is not valid"),
}
"""Error type -> (status, problem type, title). Looked up along the exception's MRO."""


def _extras(exc: BaseException) -> dict[str, Any]:
    """What each error adds to its problem body: every field at fault, every reason..."""
    if isinstance(exc, InvalidTemplate):
        errors = [
            FieldError(location=i.location, message=i.message, code=i.code) for i in exc.issues
        ]
        return {"errors": errors}
    if isinstance(exc, InvalidRecord):
        return {"errors": [FieldError(location=f"body.{exc.field}", message=exc.detail)]}
    if isinstance(exc, RequirementsUnmet):
        return {
            "cycle_id": exc.cycle_id,
            "reasons": [ReasonView(code=r.code, message=r.message) for r in exc.reasons],
        }
    if isinstance(exc, StaleCycle):
        return {"cycle_id": exc.cycle_id, "current_version": exc.actual}
    if isinstance(exc, HttpProblem) and exc.errors:
        return {"errors": exc.errors}
    return {}


def _lookup(exc: BaseException) -> Mapped | None:
    for cls in type(exc).__mro__:
        found = PROBLEMS.get(cls)
        if found is not None:
            return found
    return None


def problem_response(
    request: Request[Any, Any, Any] | None,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extras: Any,
) -> Response[bytes]:
    state = request.scope.get("state", {}) if request is not None else {}
    body = Problem(
        type=f"urn:peerloop:problem:{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        request_id=state.get("request_id"),
        **extras,
    )
    return Response(
        msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> list[FieldError]:
    """Every field at fault: the body checked field by field, and Litestar's parameter errors."""
    extra = [e for e in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(e, dict)]
    errors: list[FieldError] = []
    body = [e for e in extra if e.get("source") == "body" or e.get("key") == "data"]
    if body:
        handler = request.scope.get("route_handler")
        struct = getattr(getattr(handler, "parsed_data_field", None), "annotation", None)
        raw = ScopeState.from_scope(request.scope).json
        if raw is Empty:
            errors.append(FieldError(location="body", message="a JSON body is required"))
        elif isinstance(struct, type) and issubclass(struct, msgspec.Struct):
            errors.extend(field_errors(struct, raw))
        if not errors:
            errors.extend(
                FieldError(
                    location="body" if e.get("key") in (None, "data") else f"body.{e['key']}",
                    message=str(e.get("message", "is not valid")),
                )
                for e in body
            )
    for e in extra:
        if e in body:
            continue
        src = e.get("source") or "request"
        key, source = str(e.get("key", "")), str(getattr(src, "value", src))
        where = f"{source}.{key}" if key else source
        errors.append(FieldError(location=where, message=str(e.get("message", "is not valid"))))
    return errors


def _http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        errors = _validation(request, exc)
        detail = "; ".join(f"{e.location}: {e.message}" for e in errors) or str(exc.detail)
        return problem_response(
            request,
            422,
            "invalid-request",
            "The request is not valid",
            detail,
            errors=errors or [FieldError(location="request", message=str(exc.detail))],
        )
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    slug = phrase.lower().replace(" ", "-").replace("'", "")
    detail = str(exc.detail) if exc.detail else phrase
    if status == 400 and exc.__cause__ is not None:
        detail = f"the body could not be read: {detail}"
    headers = dict(exc.headers or {})
    if status == 413:
        limit = getattr(getattr(request, "route_handler", None), "request_max_body_size", None)
        detail = (
            f"the request is larger than the {in_words(limit)} this endpoint accepts: send a "
            "smaller file (or split it)"
            if isinstance(limit, int) and limit > 0
            else "the request body is larger than this endpoint accepts"
        )
    if status >= 500 and exc.detail == _GONE:
        # The client went away before sending its whole body (or was cut off as too slow:
        # `service.edge`): nobody reads the answer, and nothing went wrong on our side.
        _log.info(
            "request.abandoned",
            request_id=request.scope.get("state", {}).get("request_id"),
            method=request.method,
            path=redact_path(request.url.path),
        )
        return problem_response(request, 400, "abandoned", "Request abandoned", _GONE)
    if status >= 500:
        return _internal(request, exc)
    return problem_response(request, status, slug, phrase, detail, headers)


_GONE = "client disconnected prematurely"
"""What Litestar says when the client leaves while the body is read."""


def _log_failure(
    request: Request[Any, Any, Any], exc: BaseException, event: str, *, error: bool
) -> None:
    """Log what the problem body leaves out, under the request id the body gives."""
    (_log.error if error else _log.warning)(
        event,
        request_id=request.scope.get("state", {}).get("request_id"),
        method=request.method,
        path=redact_path(request.url.path),
        error=type(getattr(exc, "orig", None) or exc).__name__,
        exc_info=exc,
    )


def _internal(request: Request[Any, Any, Any], exc: BaseException) -> Response[bytes]:
    _log_failure(request, exc, "request.error", error=True)
    return problem_response(
        request,
        500,
        "internal-error",
        "Internal error",
        "something went wrong on our side; it has been logged with the request id",
    )


def _unavailable(request: Request[Any, Any, Any], exc: BaseException) -> Response[bytes]:
    # The body says nothing of the database's own message: it names tables and columns.
    _log_failure(request, exc, "request.storage_unavailable", error=False)
    return problem_response(
        request,
        503,
        "storage-unavailable",
        "The database is unavailable; retry",
        "the database could not be reached or stayed busy, and nothing was saved: send the"
        " request again in a moment",
        {"Retry-After": "1"},
    )


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """The one exception handler: our table first, then Litestar's own HTTP errors, then 500.

    A database that is down or busy is a 503 to retry; any other database error is a fault
    (a 500, logged), whatever class the driver gives it.
    """
    if is_unavailable(exc):
        return _unavailable(request, exc)
    mapped = _lookup(exc)
    if mapped is not None and not isinstance(exc, ValidationException):
        headers: dict[str, str] = {}
        if mapped.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="peerloop"'
        if isinstance(exc, TooManyAttempts):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        detail = str(exc)
        if isinstance(exc, UnicodeDecodeError):
            detail = f"the body holds a field that is not UTF-8 text (byte {exc.start})"
        return problem_response(
            request, mapped.status, mapped.slug, mapped.title, detail, headers, **_extras(exc)
        )
    if isinstance(exc, HTTPException):
        return _http_exception(request, exc)
    return _internal(request, exc)


ExceptionHandler = Callable[[Request[Any, Any, Any], Exception], Response[bytes]]
