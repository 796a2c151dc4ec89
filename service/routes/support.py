"""School-to-school support: links to partner schools and the activity logged on them."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody

from engine import records
from engine.cycle import SupportLink
from service.handlers import new_id
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
from service.schemas import SupportActivityCreate, SupportLinkCreate, SupportLinkView

__all__ = ["ROUTES"]

TAGS = ["support"]


def _view(s: SupportLink) -> SupportLinkView:
    return SupportLinkView(
        id=s.id,
        supporting_school_id=s.supporting_school_id,
        area=s.area,
        activities=list(s.activities),
    )


@get(
    "/cycles/{cycle_id:str}/support",
    tags=TAGS,
    summary="Support links and their activity",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_support(cycle_id: PathId, principal: Caller, ws: Ws) -> list[SupportLinkView]:
    ctx = ws.context(principal, cycle_id)
    ctx.access.require("plan", cycle_id)
    return [_view(s) for s in ctx.cycle.support.values()]


@post(
    "/cycles/{cycle_id:str}/support",
    tags=TAGS,
    summary="Link the host to a partner school that supports it in an area",
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def add_link(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    data: JSONBody[SupportLinkCreate],
    principal: Caller,
    ws: Ws,
) -> Response[SupportLinkView]:
    with ws.app.uow(readonly=True) as uow:
        uow.directory.get_school(data.supporting_school_id)
    link_id = new_id("sup")
    cycle = ws.app.record(
        cycle_id,
        actor(ws, principal),
        lambda t, c, a, now: records.add_support_link(
            t, c, a, link_id, data.supporting_school_id, data.area, now
        ),
        expected_version=expected_version(request, required=False),
    )
    return Response(
        _view(cycle.support[link_id]), status_code=201, headers={"ETag": etag(cycle.version)}
    )


@post(
    "/cycles/{cycle_id:str}/support/{link_id:str}/activities",
    tags=TAGS,
    summary="Log a support activity",
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def log_activity(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    link_id: PathId,
    data: JSONBody[SupportActivityCreate],
    principal: Caller,
    ws: Ws,
) -> Response[SupportLinkView]:
    cycle = ws.app.record(
        cycle_id,
        actor(ws, principal),
        lambda t, c, a, now: records.log_support_activity(t, c, a, link_id, data.text, now),
        expected_version=expected_version(request, required=False),
    )
    return Response(
        _view(cycle.support[link_id]), status_code=201, headers={"ETag": etag(cycle.version)}
    )


ROUTES = [list_support, add_link, log_activity]
