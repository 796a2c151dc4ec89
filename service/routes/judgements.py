"""Judgements: the host's self-judgements and the team's peer judgements, per question."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request, Response, get, put
from litestar.params import FromPath, JSONBody

from service.presenters import judgement_view
from service.routes.common import (
    READ,
    RECORD,
    Caller,
    PathId,
    QueryId,
    Ws,
    etag,
    expected_version,
    problems,
)
from service.schemas import JudgementSet, JudgementView
from service.usecases.messages import ReadCycle, RecordJudgement

__all__ = ["ROUTES"]

TAGS = ["judgements"]
_SECTION = {"self": "self_review", "peer": "report"}


@get(
    "/cycles/{cycle_id:str}/judgements",
    tags=TAGS,
    summary="The judgements you may read (self-judgements; peer judgements are the report's)",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_judgements(cycle_id: PathId, principal: Caller, ws: Ws) -> list[JudgementView]:
    ctx = ws.handle(ReadCycle(cycle_id, presents=("self_review", "report")), principal)
    return [
        judgement_view(j)
        for j in ctx.cycle.judgements.values()
        if _SECTION[j.kind] in ctx.access.sections
    ]


@put(
    "/cycles/{cycle_id:str}/judgements/{kind:str}/{question_id:str}",
    tags=TAGS,
    summary="Record (or replace) a self or peer judgement on a framework question",
    description=(
        "`kind` is `self` or `peer`; `grade` only when the template's scale has points. In a "
        "cycle of several schools, `school_id` names the school taking part the judgement is "
        "of (each school's is its own record, read by that school); without it, the "
        "judgement is of the cycle as a whole."
    ),
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def put_judgement(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    kind: FromPath[Literal["self", "peer"]],
    question_id: PathId,
    data: JSONBody[JudgementSet],
    principal: Caller,
    ws: Ws,
    school_id: QueryId = None,
) -> Response[JudgementView]:
    expected = expected_version(request, required=False)
    cycle = ws.handle(
        RecordJudgement(
            cycle_id, kind, question_id, data.narrative, data.grade, expected, school_id
        ),
        principal,
    ).cycle
    j = cycle.judgements[(kind, question_id, school_id)]
    view = judgement_view(j)
    return Response(view, headers={"ETag": etag(cycle.version)})


ROUTES = [list_judgements, put_judgement]
