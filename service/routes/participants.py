"""The schools taking part in a cycle beside its host (lead) school."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.params import JSONBody

from service.presenters import participant_view
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
from service.schemas import ParticipantCreate, ParticipantView
from service.usecases.messages import AddParticipant, ReadCycle, RemoveParticipant

__all__ = ["ROUTES"]

TAGS = ["participants"]


@get(
    "/cycles/{cycle_id:str}/participants",
    tags=TAGS,
    summary="The schools taking part beside the host, in the order they joined",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_participants(cycle_id: PathId, principal: Caller, ws: Ws) -> list[ParticipantView]:
    ctx = ws.handle(ReadCycle(cycle_id, "overview"), principal)
    return [participant_view(p) for p in ctx.cycle.participants.values()]


@post(
    "/cycles/{cycle_id:str}/participants",
    tags=TAGS,
    summary="Add a school taking part (the roles its stage collects participants from)",
    description="Recorded in the cycle's history, with who and when. A role granted for that "
    "school is then held on this cycle.",
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def add_participant(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    data: JSONBody[ParticipantCreate],
    principal: Caller,
    ws: Ws,
) -> Response[ParticipantView]:
    expected = expected_version(request, required=False)
    done = ws.handle(AddParticipant(cycle_id, data.school_id, expected), principal)
    return Response(
        participant_view(done.cycle.participants[done.record_id]),
        status_code=201,
        headers={"ETag": etag(done.cycle.version)},
    )


@delete(
    "/cycles/{cycle_id:str}/participants/{school_id:str}",
    tags=TAGS,
    summary="Take a school out of the cycle (what it recorded stays, still of that school)",
    status_code=204,
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def remove_participant(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    school_id: PathId,
    principal: Caller,
    ws: Ws,
) -> None:
    expected = expected_version(request, required=False)
    ws.handle(RemoveParticipant(cycle_id, school_id, expected), principal)


ROUTES = [list_participants, add_participant, remove_participant]
