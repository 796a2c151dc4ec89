"""What every controller shares: problem responses for OpenAPI, dependencies, ETags."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.handlers import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter, SkipValidation

from engine.access import Principal
from service.errors import PROBLEM_JSON, BadHeader, MediaTypeRefused, PreconditionRequired
from service.schemas import Problem
from service.usecases import UseCases

__all__ = [
    "MOVE",
    "READ",
    "RECORD",
    "WRITE",
    "Caller",
    "PathId",
    "PathVersion",
    "QueryId",
    "Ws",
    "authenticated",
    "check_media_type",
    "etag",
    "expected_version",
    "problems",
    "provide_principal",
    "provide_workspace",
]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
PathId = Annotated[str, PathParameter(pattern=ID_PATTERN, max_length=128)]
"""An id in a path: what Peerloop makes or templates name (letters, digits and `_.:@-`)."""
PathVersion = Annotated[int, PathParameter(ge=1, le=2_147_483_647)]
QueryId = Annotated[str | None, QueryParameter(pattern=ID_PATTERN, max_length=128)]

Caller = NamedDependency[SkipValidation[Principal]]
"""The authenticated person calling (401 when there is none)."""
Ws = NamedDependency[SkipValidation[UseCases]]
"""The use cases: a route parses, calls `ws.handle(message, principal)` and presents."""

READ = (400, 401, 403, 404, 422)
WRITE = (400, 401, 403, 404, 409, 413, 415, 422)
MOVE = (*WRITE, 412, 428)
RECORD = (*WRITE, 412)

_DESCRIPTIONS = {
    400: "The request could not be read (malformed JSON, a bad header)",
    401: "No usable bearer token: missing, unknown, expired or revoked",
    403: "Your roles do not allow this",
    404: "No such resource, or not one you may see",
    409: "The resource is not in a state that allows this (with every reason)",
    412: "If-Match does not carry the resource's current version (someone changed it)",
    413: "The request body or file is too large",
    415: "The body's or file's media type is not accepted",
    422: "The request is not valid; `errors` lists every field at fault",
    428: "This change needs an If-Match header with the version (ETag) it is based on",
    429: "Too many failed sign-ins lately: try again after `Retry-After` seconds",
}


def problems(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for the problem statuses a route can answer."""
    return {
        code: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS.get(code, HTTPStatus(code).phrase),
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for code in codes
    }


async def check_media_type(request: Request[Any, Any, Any]) -> None:
    """Refuse (415) a body of another media type than the route reads, before reading it."""
    field = request.route_handler.parsed_data_field
    if field is None:
        return
    declared = getattr(field.kwarg_definition, "media_type", None) or RequestEncodingType.JSON
    expected = str(getattr(declared, "value", declared))
    ctype = request.headers.get("content-type")
    if not ctype:
        # A body must say what it is: one without a media type is not guessed to be JSON.
        sent = request.headers.get("content-length", "0").strip() not in ("", "0")
        if sent or "transfer-encoding" in request.headers:
            raise MediaTypeRefused(f"the body has no Content-Type: send it as {expected}")
        return
    base = ctype.split(";")[0].strip().lower()
    if expected == RequestEncodingType.JSON.value:
        ok = base == "application/json" or base.endswith("+json")
    else:
        ok = base == expected
    if not ok:
        raise MediaTypeRefused(f"this endpoint reads {expected} (even without a file), not {base}")


def provide_workspace(request: Request[Any, Any, Any]) -> UseCases:
    ws: UseCases = request.app.state["workspace"]
    return ws


async def authenticated(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """The API's guard: who is calling, settled before anything else is read (body included),
    so that a caller without a usable token learns nothing but 401."""
    ws: UseCases = connection.app.state["workspace"]
    header = connection.headers.get("authorization")
    principal = await anyio.to_thread.run_sync(ws.authenticate, header)
    state = connection.scope["state"]
    state["principal"] = principal.id  # for the request log
    state["principal_object"] = principal


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.scope["state"]["principal_object"]
    return principal


def etag(version: int) -> str:
    return f'"{version}"'


_TAG = re.compile(r'^\s*(?:W/)?"(\d{1,18})"\s*$')


def expected_version(request: Request[Any, Any, Any], *, required: bool) -> int | None:
    """The version an `If-Match` header carries (`"7"`); no header gives None.

    A move (`required`) must name the version it is based on: no header, or `*` (which names
    none), is answered 428. A record may send `*` for "whatever the version". A value that is
    not an entity tag is a malformed request (400), not a stale one.
    """
    value = request.headers.get("if-match")
    if value is None or value.strip() == "*":
        if required:
            raise PreconditionRequired(
                "this move needs an If-Match header with the cycle version it is based on "
                '(the ETag of GET /cycles/{id}, such as "3"); `*` names no version'
            )
        return None
    m = _TAG.match(value.split(",")[0])
    if m is None:
        raise BadHeader(
            f'If-Match must be the cycle\'s ETag, a version in double quotes such as "3", '
            f"not {value[:40]!r}"
        )
    return int(m.group(1))
