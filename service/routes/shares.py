"""Sharing the review report: the host school's head decides who else sees it; an admin who
must read it takes a break-glass."""

from __future__ import annotations

from litestar import Response, delete, get, post
from litestar.params import JSONBody

from service.presenters import break_glass_view, content_read_view, share_view
from service.routes.common import READ, WRITE, Caller, PathId, Ws, problems
from service.schemas import ShareCreate, ShareView
from service.schemas.access import BreakGlassCreate, BreakGlassView, ContentReadView
from service.usecases.messages import (
    BreakTheGlass,
    ContentReads,
    ReadCycle,
    RevokeShare,
    ShareReport,
)

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


@get(
    "/cycles/{cycle_id:str}/reads",
    tags=TAGS,
    summary="Who outside the host school read the cycle's confidential content, and why",
    description=(
        "Every read of the report, the self-review or an evidence file by someone who is not "
        "of the host school's staff: who, what, when, and on what grounds (`team`, `role`, "
        "`share` or `break_glass`). Only those who decide who reads the report may list it."
    ),
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_reads(cycle_id: PathId, principal: Caller, ws: Ws) -> list[ContentReadView]:
    return [content_read_view(r) for r in ws.handle(ContentReads(cycle_id), principal)]


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


@post(
    "/cycles/{cycle_id:str}/break-glass",
    tags=TAGS,
    summary="Open the report, self-review and evidence files to yourself for 24 hours (admin)",
    description=(
        "For an admin who must read a cycle's confidential content (a complaint, a "
        "safeguarding concern, a legal request). `reason` is required, in at least three "
        "words. The opening is recorded in the cycle's history with the reason, and the host "
        "school's head is told at once. It ends by itself after 24 hours (`until`)."
    ),
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def break_glass(
    cycle_id: PathId, data: JSONBody[BreakGlassCreate], principal: Caller, ws: Ws
) -> Response[BreakGlassView]:
    opened = ws.handle(BreakTheGlass(cycle_id, data.reason), principal)
    return Response(break_glass_view(opened), status_code=201)


ROUTES = [list_shares, list_reads, share, unshare, break_glass]
