"""Networks (NLCs)."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import JSONBody

from engine.directory import Network
from service.handlers import new_id
from service.presenters import network_view
from service.routes.common import READ, WRITE, Caller, PathId, Ws, problems, require_admin
from service.schemas import NetworkCreate, NetworkView

__all__ = ["ROUTES"]

TAGS = ["directory"]


@get(
    "/networks", tags=TAGS, summary="Every network", responses=problems(*READ), sync_to_thread=True
)
def list_networks(principal: Caller, ws: Ws) -> list[NetworkView]:
    with ws.app.uow(readonly=True) as uow:
        return [network_view(n) for n in uow.directory.networks()]


@get(
    "/networks/{network_id:str}",
    tags=TAGS,
    summary="A network",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_network(network_id: PathId, principal: Caller, ws: Ws) -> NetworkView:
    with ws.app.uow(readonly=True) as uow:
        return network_view(uow.directory.get_network(network_id))


@post(
    "/networks",
    tags=TAGS,
    summary="Add a network (admin)",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def add_network(data: JSONBody[NetworkCreate], principal: Caller, ws: Ws) -> Response[NetworkView]:
    require_admin(principal)
    n = ws.add_network(Network(data.id or new_id("nlc"), data.name, data.chair_person_id))
    return Response(network_view(n), status_code=201, headers={"Location": f"/networks/{n.id}"})


ROUTES = [list_networks, get_network, add_network]
