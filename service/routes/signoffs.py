"""Sign-offs: a stage signed off in one of the roles the caller holds."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody

from engine.cycle import school_of
from service.presenters import signoff_view
from service.routes.common import (
    READ,
    RECORD,
    Caller,
    PathId,
    Ws,
    etag,
    expected_version,
    problems,
)
from service.schemas import SignOffCreate, SignOffView
from service.usecases.messages import ReadCycle, SignOff

__all__ = ["ROUTES"]

TAGS = ["signoffs"]


@get(
    "/cycles/{cycle_id:str}/signoffs",
    tags=TAGS,
    summary="Sign-offs given, by stage and role",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_signoffs(cycle_id: PathId, principal: Caller, ws: Ws) -> list[SignOffView]:
    ctx = ws.handle(ReadCycle(cycle_id, "plan"), principal)
    return [signoff_view(s) for s in ctx.cycle.signoffs.values()]


@post(
    "/cycles/{cycle_id:str}/signoffs",
    tags=TAGS,
    summary="Sign off the current stage in one of your roles",
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def sign_off(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    data: JSONBody[SignOffCreate],
    principal: Caller,
    ws: Ws,
) -> Response[SignOffView]:
    expected = expected_version(request, required=False)
    done = ws.handle(SignOff(cycle_id, data.role, expected, data.school_id), principal)
    cycle = done.cycle
    s = cycle.signoffs[(cycle.stage, data.role, school_of(done.record_id)[1])]
    return Response(
        signoff_view(s),
        status_code=201,
        headers={"ETag": etag(cycle.version)},
    )


ROUTES = [list_signoffs, sign_off]
