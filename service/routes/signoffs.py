"""Sign-offs: a stage signed off in one of the roles the caller holds."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody

from engine import records
from service.routes.common import (
    READ,
    RECORD,
    Caller,
    PathId,
    Ws,
    actor,
    etag,
    expected_version,
    problems,
)
from service.schemas import SignOffCreate, SignOffView

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
    ctx = ws.context(principal, cycle_id)
    ctx.access.require("plan", cycle_id)
    return [
        SignOffView(stage=s.stage, role=s.role, person_id=s.person_id, at=s.at)
        for s in ctx.cycle.signoffs.values()
    ]


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
    cycle = ws.app.record(
        cycle_id,
        actor(ws, principal),
        lambda t, c, a, now: records.sign_off(t, c, a, data.role, now),
        expected_version=expected_version(request, required=False),
    )
    s = cycle.signoffs[(cycle.stage, data.role)]
    return Response(
        SignOffView(stage=s.stage, role=s.role, person_id=s.person_id, at=s.at),
        status_code=201,
        headers={"ETag": etag(cycle.version)},
    )


ROUTES = [list_signoffs, sign_off]
