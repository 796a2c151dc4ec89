"""Schools, known by their DfE URN."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import JSONBody

from service.presenters import school_view
from service.routes.common import READ, WRITE, Caller, PathId, QueryId, Ws, problems
from service.schemas import SchoolCreate, SchoolView
from service.usecases.messages import AddSchool, GetSchool, ListSchools

__all__ = ["ROUTES"]

TAGS = ["directory"]


@get(
    "/schools",
    tags=TAGS,
    summary="Schools (public information), optionally of one network",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_schools(
    principal: Caller,
    ws: Ws,
    network: QueryId = None,
) -> list[SchoolView]:
    return [school_view(s) for s in ws.handle(ListSchools(network), principal)]


@get(
    "/schools/{school_id:str}",
    tags=TAGS,
    summary="A school",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_school(school_id: PathId, principal: Caller, ws: Ws) -> SchoolView:
    return school_view(ws.handle(GetSchool(school_id), principal))


@post(
    "/schools",
    tags=TAGS,
    summary="Add a school (admin)",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def add_school(data: JSONBody[SchoolCreate], principal: Caller, ws: Ws) -> Response[SchoolView]:
    s = ws.handle(AddSchool(data.id, data.urn, data.name, data.network_id, data.phase), principal)
    return Response(school_view(s), status_code=201, headers={"Location": f"/schools/{s.id}"})


ROUTES = [list_schools, get_school, add_school]
