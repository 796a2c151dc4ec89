"""School-to-school support: links to partner schools and the activity logged on them."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody

from service.presenters import support_view
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
from service.schemas import SupportActivityCreate, SupportLinkCreate, SupportLinkView
from service.usecases.messages import AddSupportLink, LogSupportActivity, ReadCycle

__all__ = ["ROUTES"]

TAGS = ["support"]


@get(
    "/cycles/{cycle_id:str}/support",
    tags=TAGS,
    summary="Support links and their activity",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_support(cycle_id: PathId, principal: Caller, ws: Ws) -> list[SupportLinkView]:
    ctx = ws.handle(ReadCycle(cycle_id, "plan"), principal)
    return [support_view(s) for s in ctx.cycle.support.values()]


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
    expected = expected_version(request, required=False)
    done = ws.handle(
        AddSupportLink(cycle_id, data.supporting_school_id, data.area, expected), principal
    )
    cycle, link_id = done.cycle, done.record_id
    return Response(
        support_view(cycle.support[link_id]), status_code=201, headers={"ETag": etag(cycle.version)}
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
    expected = expected_version(request, required=False)
    cycle = ws.handle(LogSupportActivity(cycle_id, link_id, data.text, expected), principal).cycle
    return Response(
        support_view(cycle.support[link_id]), status_code=201, headers={"ETag": etag(cycle.version)}
    )


ROUTES = [list_support, add_link, log_activity]
