"""Transitions: what the caller may do now (and every reason why not), and making a move."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from litestar import Request, Response, get, post
from litestar.params import HeaderParameter, JSONBody

from service.metrics import Metrics
from service.presenters import fired_view, option_view
from service.routes.common import (
    MOVE,
    READ,
    Caller,
    PathId,
    Ws,
    etag,
    expected_version,
    problems,
)
from service.schemas import FiredView, FireRequest, OptionView
from service.usecases.messages import AvailableMoves, FireTransition

__all__ = ["ROUTES"]

TAGS = ["transitions"]
_log = structlog.get_logger("peerloop.transitions")


@get(
    "/cycles/{cycle_id:str}/transitions",
    tags=TAGS,
    summary="Every move out of the current stage: allowed for you or not, with every reason",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_transitions(cycle_id: PathId, principal: Caller, ws: Ws) -> Response[list[OptionView]]:
    moves = ws.handle(AvailableMoves(cycle_id), principal)
    return Response(
        [option_view(o) for o in moves.options], headers={"ETag": etag(moves.cycle.version)}
    )


@post(
    "/cycles/{cycle_id:str}/transitions/{name:str}",
    tags=TAGS,
    summary="Make a move",
    description=(
        "`If-Match` must carry the cycle version the move is based on (its ETag, such as "
        '`"3"`): a stale version is refused with 412 and nothing changes; without the header '
        "the answer is 428, so that nobody moves a cycle they have not seen. With an "
        "`Idempotency-Key` a retry of the same request answers as the first did and changes "
        "nothing more (`replayed: true`); the same key for a different request is a 422. An "
        "admin may `force` a blocked move by giving a `force_reason`; it is recorded as forced."
    ),
    status_code=200,
    responses=problems(*MOVE),
    sync_to_thread=True,
)
def fire(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    name: PathId,
    principal: Caller,
    ws: Ws,
    data: JSONBody[FireRequest | None] = None,
    idempotency_key: Annotated[
        str | None, HeaderParameter(name="Idempotency-Key", pattern=r"^[!-~]{1,128}$")
    ] = None,
) -> Response[FiredView]:
    expected = expected_version(request, required=True)
    body = data or FireRequest()
    result = ws.handle(
        FireTransition(
            cycle_id, name, expected, body.payload or {}, body.force_reason, idempotency_key
        ),
        principal,
    )
    fired, replayed = result.fired, result.replayed
    if not replayed:
        _log.info(
            "transition",
            cycle=fired.cycle_id,
            transition=fired.transition,
            from_stage=fired.from_stage,
            to_stage=fired.to_stage,
            actor=principal.id,
            version=fired.version,
            forced=fired.forced,
        )
        metrics: Metrics = request.app.state["metrics"]
        metrics.transition(fired.transition, fired.forced)
    view = fired_view(fired, replayed=replayed)
    return Response(view, headers={"ETag": etag(fired.version)})


ROUTES = [list_transitions, fire]
