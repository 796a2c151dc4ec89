"""Judgements: the host's self-judgements and the team's peer judgements, per question."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request, Response, get, put
from litestar.params import FromPath, JSONBody

from engine import records
from service.routes.common import (
    READ,
    RECORD,
    Caller,
    PathId,
    Ws,
    actor,
    etag,
    expected_version,
    problems,
)
from service.schemas import JudgementSet, JudgementView

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
    ctx = ws.context(principal, cycle_id)
    ctx.access.require("overview", cycle_id)
    return [
        JudgementView(
            kind=j.kind,
            question_id=j.question_id,
            narrative=j.narrative,
            grade=j.grade,
            by=j.by,
            at=j.at,
        )
        for j in ctx.cycle.judgements.values()
        if _SECTION[j.kind] in ctx.access.sections
    ]


@put(
    "/cycles/{cycle_id:str}/judgements/{kind:str}/{question_id:str}",
    tags=TAGS,
    summary="Record (or replace) a self or peer judgement on a framework question",
    description="`kind` is `self` or `peer`; `grade` only when the template's scale has points.",
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
) -> Response[JudgementView]:
    cycle = ws.app.record(
        cycle_id,
        actor(ws, principal),
        lambda t, c, a, now: records.record_judgement(
            t, c, a, kind, question_id, data.narrative, data.grade, now
        ),
        expected_version=expected_version(request, required=False),
    )
    j = cycle.judgements[(kind, question_id)]
    view = JudgementView(
        kind=j.kind,
        question_id=j.question_id,
        narrative=j.narrative,
        grade=j.grade,
        by=j.by,
        at=j.at,
    )
    return Response(view, headers={"ETag": etag(cycle.version)})


ROUTES = [list_judgements, put_judgement]
