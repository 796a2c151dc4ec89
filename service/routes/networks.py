"""Networks (NLCs)."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import JSONBody

from service.presenters import network_view
from service.routes.common import READ, WRITE, Caller, PathId, Ws, problems
from service.schemas import NetworkCreate, NetworkView
from service.usecases.messages import AddNetwork, GetNetwork, ListNetworks

__all__ = ["ROUTES"]

TAGS = ["directory"]


@get(
    "/networks", tags=TAGS, summary="Every network", responses=problems(*READ), sync_to_thread=True
)
def list_networks(principal: Caller, ws: Ws) -> list[NetworkView]:
    return [network_view(n) for n in ws.handle(ListNetworks(), principal)]


@get(
    "/networks/{network_id:str}",
    tags=TAGS,
    summary="A network",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_network(network_id: PathId, principal: Caller, ws: Ws) -> NetworkView:
    return network_view(ws.handle(GetNetwork(network_id), principal))


@post(
    "/networks",
    tags=TAGS,
    summary="Add a network (admin)",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def add_network(data: JSONBody[NetworkCreate], principal: Caller, ws: Ws) -> Response[NetworkView]:
    n = ws.handle(AddNetwork(data.id, data.name, data.chair_person_id), principal)
    return Response(network_view(n), status_code=201, headers={"Location": f"/networks/{n.id}"})


ROUTES = [list_networks, get_network, add_network]
