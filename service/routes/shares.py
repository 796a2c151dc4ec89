"""Sharing the review report: the host school's head decides who else sees it."""

from __future__ import annotations

from litestar import Response, delete, get, post
from litestar.params import JSONBody

from service.presenters import share_view
from service.routes.common import READ, WRITE, Caller, PathId, Ws, problems
from service.schemas import ShareCreate, ShareView
from service.usecases.messages import ReadCycle, RevokeShare, ShareReport

__all__ = ["ROUTES"]

TAGS = ["sharing"]


@get(
    "/cycles/{cycle_id:str}/shares",
    tags=TAGS,
    summary="Who the report is shared with",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_shares(cycle_id: PathId, principal: Caller, ws: Ws) -> list[ShareView]:
    ctx = ws.handle(ReadCycle(cycle_id, "report"), principal)
    return [share_view(s) for s in ctx.shares]


@post(
    "/cycles/{cycle_id:str}/shares",
    tags=TAGS,
    summary="Share the report with a person, a school's head, or a network's leads",
    description="Only the host school's head may. The share is recorded in the cycle's history.",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def share(
    cycle_id: PathId, data: JSONBody[ShareCreate], principal: Caller, ws: Ws
) -> Response[ShareView]:
    made = ws.handle(ShareReport(cycle_id, data.grantee_kind, data.grantee_id), principal)
    return Response(
        share_view(made),
        status_code=201,
        headers={"Location": f"/cycles/{cycle_id}/shares/{made.id}"},
    )


@delete(
    "/cycles/{cycle_id:str}/shares/{share_id:str}",
    tags=TAGS,
    summary="Stop sharing the report (recorded in history)",
    status_code=200,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def unshare(cycle_id: PathId, share_id: PathId, principal: Caller, ws: Ws) -> ShareView:
    return share_view(ws.handle(RevokeShare(cycle_id, share_id), principal))


ROUTES = [list_shares, share, unshare]
