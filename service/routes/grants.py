"""Role grants, scoped to everything, a network, a school or a cycle (admin only)."""

from __future__ import annotations

from litestar import Response, delete, post
from litestar.params import JSONBody

from service.presenters import grant_view
from service.routes.common import WRITE, Caller, PathId, Ws, problems
from service.schemas import GrantCreate, GrantView
from service.usecases.messages import AddGrant, RemoveGrant

__all__ = ["ROUTES"]

TAGS = ["directory"]


@post(
    "/grants",
    tags=TAGS,
    summary="Grant a role in a scope (admin)",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def add_grant(data: JSONBody[GrantCreate], principal: Caller, ws: Ws) -> Response[GrantView]:
    g = ws.handle(AddGrant(data.person_id, data.role, data.scope_kind, data.scope_id), principal)
    return Response(grant_view(g), status_code=201)


@delete(
    "/grants/{grant_id:str}",
    tags=TAGS,
    summary="Withdraw a role grant (admin)",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def remove_grant(grant_id: PathId, principal: Caller, ws: Ws) -> None:
    ws.handle(RemoveGrant(grant_id), principal)


ROUTES = [add_grant, remove_grant]
