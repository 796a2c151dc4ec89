"""Findings: the review team's strengths and areas to develop (or WWW / EBI)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody

from service.presenters import finding_view
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
from service.schemas import FindingCreate, FindingView
from service.usecases.messages import AddFinding, ReadCycle

__all__ = ["ROUTES"]

TAGS = ["findings"]


@get(
    "/cycles/{cycle_id:str}/findings",
    tags=TAGS,
    summary="The findings (part of the confidential report)",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_findings(cycle_id: PathId, principal: Caller, ws: Ws) -> list[FindingView]:
    ctx = ws.handle(ReadCycle(cycle_id, "report"), principal)
    return [finding_view(f) for f in ctx.cycle.findings.values()]


@post(
    "/cycles/{cycle_id:str}/findings",
    tags=TAGS,
    summary="Record a finding",
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def add_finding(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    data: JSONBody[FindingCreate],
    principal: Caller,
    ws: Ws,
) -> Response[FindingView]:
    expected = expected_version(request, required=False)
    done = ws.handle(
        AddFinding(cycle_id, data.kind, data.text, data.question_id, expected, data.school_id),
        principal,
    )
    cycle, finding_id = done.cycle, done.record_id
    return Response(
        finding_view(cycle.findings[finding_id]),
        status_code=201,
        headers={"ETag": etag(cycle.version)},
    )


ROUTES = [list_findings, add_finding]
