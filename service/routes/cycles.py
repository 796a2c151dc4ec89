"""Cycles: start one, list them, read one (as the caller may see it), its report, history and
deadlines, and the host's focus and cycle dates."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter

from engine import records
from engine.cycle import Actor
from engine.errors import InvalidRecord
from engine.ports import CycleFilter
from service.errors import Forbidden
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
    actor,
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

__all__ = ["ROUTES"]

TAGS = ["cycles"]
START_ROLES = frozenset({"admin", "partnership_lead"})


@post(
    "/cycles",
    tags=TAGS,
    summary="Start a cycle for a host school on a published template version",
    description="The admin, or the partnership lead of the host school's network, starts it. "
    "`template_version` defaults to the newest published version.",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def start_cycle(data: JSONBody[CycleCreate], principal: Caller, ws: Ws) -> Response[CycleView]:
    with ws.app.uow(readonly=True) as uow:
        school = uow.directory.get_school(data.host_school_id)
    if not (
        principal.is_admin or principal.holds("partnership_lead", "network", school.network_id)
    ):
        raise Forbidden("only an admin or the school's partnership lead may start its cycle")
    roles = frozenset({"admin"} if principal.is_admin else {"partnership_lead"})
    cycle = ws.app.start_cycle(
        data.template_id,
        school.id,
        Actor(principal.id, roles & START_ROLES, principal.person.school_id),
        version=data.template_version,
        dates=data.dates,
    )
    ctx = ws.context(principal, cycle.id)
    return Response(
        cycle_view(ctx),
        status_code=201,
        headers={"ETag": etag(cycle.version), "Location": f"/cycles/{cycle.id}"},
    )


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
    return [cycle_summary(r, now) for r in ws.cycles(principal, where)]


@get(
    "/cycles/{cycle_id:str}",
    tags=TAGS,
    summary="A cycle, showing the sections you may read (the others are null)",
    description="The ETag is the cycle's version: send it back as If-Match when you change it.",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_cycle(cycle_id: PathId, principal: Caller, ws: Ws) -> Response[CycleView]:
    ctx = ws.context(principal, cycle_id)
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
    ctx = ws.context(principal, cycle_id)
    ctx.access.require("report", cycle_id)
    return report_view(ctx)


@get(
    "/cycles/{cycle_id:str}/history",
    tags=TAGS,
    summary="The cycle's hash-chained history, oldest first",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_history(cycle_id: PathId, principal: Caller, ws: Ws) -> list[HistoryEntryView]:
    ws.context(principal, cycle_id)  # visibility
    return [history_view(e) for e in ws.history(cycle_id)]


@get(
    "/cycles/{cycle_id:str}/deadlines",
    tags=TAGS,
    summary="The cycle's deadlines and reminders, with their status",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_deadlines(cycle_id: PathId, principal: Caller, ws: Ws) -> list[DeadlineView]:
    ws.context(principal, cycle_id)
    return [deadline_view(d) for d in ws.deadlines(cycle_id)]


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
    cycle = ws.app.record(
        cycle_id,
        actor(ws, principal),
        lambda t, c, a, now: records.set_focus(t, c, a, list(data.lines), now),
        expected_version=expected_version(request, required=False),
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
    calendar = ws.app.registry.calendar
    if data.at.tzinfo is None:
        raise InvalidRecord("at", "needs a time zone (such as 2026-03-02T09:00:00+00:00)")
    cycle = ws.app.record(
        cycle_id,
        actor(ws, principal),
        lambda t, c, a, now: records.set_date(t, c, a, date_id, data.at, now, calendar),
        expected_version=expected_version(request, required=False),
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
