"""Agreed actions and their follow-up status updates."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post, put
from litestar.params import JSONBody

from service.presenters import action_view
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
from service.schemas import ActionCreate, ActionStatusSet, ActionView
from service.usecases.messages import ReadCycle, SaveAction, SetActionStatus

__all__ = ["ROUTES"]

TAGS = ["actions"]


@get(
    "/cycles/{cycle_id:str}/actions",
    tags=TAGS,
    summary="The action plan",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_actions(cycle_id: PathId, principal: Caller, ws: Ws) -> list[ActionView]:
    ctx = ws.handle(ReadCycle(cycle_id, "plan"), principal)
    return [action_view(a) for a in ctx.cycle.actions.values()]


def _save(
    request: Request[Any, Any, Any],
    ws: Ws,
    principal: Caller,
    cycle_id: PathId,
    action_id: str | None,
    data: JSONBody[ActionCreate],
    status: int,
) -> Response[ActionView]:
    expected = expected_version(request, required=False)
    done = ws.handle(
        SaveAction(
            cycle_id,
            data.title,
            data.owner,
            data.due,
            data.success_criteria,
            action_id,
            expected,
            finding_id=data.finding_id,
        ),
        principal,
    )
    cycle, action_id = done.cycle, done.record_id
    return Response(
        action_view(cycle.actions[action_id]),
        status_code=status,
        headers={"ETag": etag(cycle.version)},
    )


@post(
    "/cycles/{cycle_id:str}/actions",
    tags=TAGS,
    summary="Agree an action: what, who owns it, when it is due, how success shows",
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def add_action(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    data: JSONBody[ActionCreate],
    principal: Caller,
    ws: Ws,
) -> Response[ActionView]:
    return _save(request, ws, principal, cycle_id, None, data, 201)


@put(
    "/cycles/{cycle_id:str}/actions/{action_id:str}",
    tags=TAGS,
    summary="Change an agreed action (its follow-up status is kept)",
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def change_action(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    action_id: PathId,
    data: JSONBody[ActionCreate],
    principal: Caller,
    ws: Ws,
) -> Response[ActionView]:
    return _save(request, ws, principal, cycle_id, action_id, data, 200)


@post(
    "/cycles/{cycle_id:str}/actions/{action_id:str}/status",
    tags=TAGS,
    summary="Record an action's follow-up status",
    status_code=200,
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def set_status(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    action_id: PathId,
    data: JSONBody[ActionStatusSet],
    principal: Caller,
    ws: Ws,
) -> Response[ActionView]:
    expected = expected_version(request, required=False)
    cycle = ws.handle(
        SetActionStatus(cycle_id, action_id, data.status, data.note, expected), principal
    ).cycle
    return Response(action_view(cycle.actions[action_id]), headers={"ETag": etag(cycle.version)})


ROUTES = [list_actions, add_action, change_action, set_status]
