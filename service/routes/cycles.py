"""Cycles: start one, list them, read one (as the caller may see it), its report, history and
deadlines, and the host's focus and cycle dates."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post, put
from litestar.params import FromQuery, HeaderParameter, JSONBody, QueryParameter

from engine.ports import CycleFilter
from service.presenters import (
    cycle_summary,
    cycle_view,
    deadline_view,
    history_view,
    report_view,
)
from service.routes.common import (
    READ,
    RECORD,
    WRITE,
    Caller,
    PathId,
    QueryId,
    Ws,
    etag,
    expected_version,
    problems,
)
from service.schemas import (
    CycleCreate,
    CycleSummaryView,
    CycleView,
    DateSet,
    DeadlineView,
    FocusSet,
    HistoryEntryView,
    ReportView,
)
from service.usecases.messages import (
    CycleDeadlines,
    CycleHistory,
    ListCycles,
    ReadCycle,
    SetCycleDate,
    SetFocus,
    StartCycle,
)

__all__ = ["ROUTES"]

TAGS = ["cycles"]


@post(
    "/cycles",
    tags=TAGS,
    summary="Start a cycle for a host school on a published template version",
    description="The admin, or the partnership lead of the host school's network, starts it. "
    "`template_version` defaults to the newest published version. Another active cycle of "
    "the template for the school is named in the `Peerloop-Warnings` header. With an "
    "`Idempotency-Key`, a retry answers with the cycle the first request started.",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def start_cycle(
    data: JSONBody[CycleCreate],
    principal: Caller,
    ws: Ws,
    idempotency_key: Annotated[
        str | None, HeaderParameter(name="Idempotency-Key", pattern=r"^[!-~]{1,128}$")
    ] = None,
) -> Response[CycleView]:
    started = ws.handle(
        StartCycle(
            data.template_id,
            data.host_school_id,
            data.template_version,
            data.dates,
            idempotency_key,
        ),
        principal,
    )
    ctx = started.context
    headers = {"ETag": etag(ctx.cycle.version), "Location": f"/cycles/{ctx.cycle.id}"}
    if started.warnings:
        headers["Peerloop-Warnings"] = " | ".join(started.warnings)[:4000]
    return Response(cycle_view(ctx), status_code=201, headers=headers)


@get(
    "/cycles",
    tags=TAGS,
    summary="The cycles you may see, filtered",
    description="A school sees its own cycles, a reviewer the cycles they are on, a network's "
    "leads the cycles of their network, the admin every cycle. `overdue=true` keeps the cycles "
    "whose current stage is past its due time.",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_cycles(
    principal: Caller,
    ws: Ws,
    network: QueryId = None,
    school: QueryId = None,
    stage: QueryId = None,
    template: QueryId = None,
    overdue: FromQuery[bool | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> list[CycleSummaryView]:
    now = ws.now
    where = CycleFilter(
        network_id=network,
        school_id=school,
        stage=stage,
        template_id=template,
        overdue_at=now if overdue else None,
        on_time_at=now if overdue is False else None,
        limit=limit,
    )
    return [cycle_summary(r, now) for r in ws.handle(ListCycles(where), principal)]


@get(
    "/cycles/{cycle_id:str}",
    tags=TAGS,
    summary="A cycle, showing the sections you may read (the others are null)",
    description="The ETag is the cycle's version: send it back as If-Match when you change it.",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_cycle(cycle_id: PathId, principal: Caller, ws: Ws) -> Response[CycleView]:
    # The cycle whole: everything the caller reads of it, confidential parts included.
    ctx = ws.handle(ReadCycle(cycle_id, presents=("self_review", "report")), principal)
    return Response(cycle_view(ctx), headers={"ETag": etag(ctx.cycle.version)})


@get(
    "/cycles/{cycle_id:str}/report",
    tags=TAGS,
    summary="The review report: focus, peer judgements and findings",
    description="For the host school's head, the review team, the improvement champion, and "
    "whoever the head shared it with.",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_report(cycle_id: PathId, principal: Caller, ws: Ws) -> ReportView:
    return report_view(ws.handle(ReadCycle(cycle_id, "report"), principal))


@get(
    "/cycles/{cycle_id:str}/history",
    tags=TAGS,
    summary="The cycle's hash-chained history, oldest first",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_history(cycle_id: PathId, principal: Caller, ws: Ws) -> list[HistoryEntryView]:
    return [history_view(e) for e in ws.handle(CycleHistory(cycle_id), principal)]


@get(
    "/cycles/{cycle_id:str}/deadlines",
    tags=TAGS,
    summary="The cycle's deadlines and reminders, with their status",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_deadlines(cycle_id: PathId, principal: Caller, ws: Ws) -> list[DeadlineView]:
    return [deadline_view(d) for d in ws.handle(CycleDeadlines(cycle_id), principal)]


@put(
    "/cycles/{cycle_id:str}/focus",
    tags=TAGS,
    summary="Set the host school's chosen lines of enquiry",
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def set_focus(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    data: JSONBody[FocusSet],
    principal: Caller,
    ws: Ws,
) -> Response[list[str]]:
    cycle = ws.handle(
        SetFocus(cycle_id, tuple(data.lines), expected_version(request, required=False)),
        principal,
    )
    return Response(list(cycle.focus), headers={"ETag": etag(cycle.version)})


@put(
    "/cycles/{cycle_id:str}/dates/{date_id:str}",
    tags=TAGS,
    summary="Set a cycle date (such as the visit date); deadlines counted from it move too",
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def set_date(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    date_id: PathId,
    data: JSONBody[DateSet],
    principal: Caller,
    ws: Ws,
) -> Response[dict[str, str]]:
    cycle = ws.handle(
        SetCycleDate(cycle_id, date_id, data.at, expected_version(request, required=False)),
        principal,
    )
    return Response(
        {k: v.isoformat() for k, v in cycle.dates.items()}, headers={"ETag": etag(cycle.version)}
    )


ROUTES = [
    start_cycle,
    list_cycles,
    get_cycle,
    get_report,
    get_history,
    get_deadlines,
    set_focus,
    set_date,
]
