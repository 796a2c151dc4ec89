"""The review team: putting people on a cycle's team (or making them its champion)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, put
from litestar.params import JSONBody

from service.presenters import team_view
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
from service.schemas import MemberSet, MemberView
from service.usecases.messages import AssignMember, ReadCycle, RemoveMember

__all__ = ["ROUTES"]

TAGS = ["team"]


@get(
    "/cycles/{cycle_id:str}/team",
    tags=TAGS,
    summary="The review team and the improvement champion",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_team(cycle_id: PathId, principal: Caller, ws: Ws) -> list[MemberView]:
    return team_view(ws.handle(ReadCycle(cycle_id), principal).cycle)


@put(
    "/cycles/{cycle_id:str}/team/{person_id:str}",
    tags=TAGS,
    summary="Put a person on the team as review lead or reviewer, or make them the champion",
    description="The template's independence rules (no reviewer from the host school, a "
    "champion who was not on the review) are checked when the cycle moves on.",
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def assign(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    person_id: PathId,
    data: JSONBody[MemberSet],
    principal: Caller,
    ws: Ws,
) -> Response[list[MemberView]]:
    expected = expected_version(request, required=False)
    done = ws.handle(AssignMember(cycle_id, person_id, data.role, expected), principal)
    headers = {"ETag": etag(done.cycle.version)}
    if done.warnings:
        # RFC 7234's Warning header is obsolete; the problems go in a header of our own,
        # each in words, so that a caller forming the team sees them before the move refuses.
        headers["Peerloop-Team-Warnings"] = " | ".join(done.warnings)[:4000]
    return Response(team_view(done.cycle), headers=headers)


@delete(
    "/cycles/{cycle_id:str}/team/{person_id:str}",
    tags=TAGS,
    summary="Take a person off the team",
    status_code=200,
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def unassign(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    person_id: PathId,
    principal: Caller,
    ws: Ws,
) -> Response[list[MemberView]]:
    expected = expected_version(request, required=False)
    cycle = ws.handle(RemoveMember(cycle_id, person_id, expected), principal).cycle
    return Response(team_view(cycle), headers={"ETag": etag(cycle.version)})


ROUTES = [get_team, assign, unassign]
