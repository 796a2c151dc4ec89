"""The schools taking part in a cycle, from its page: the lead school adds one from its network
or takes one out. Who may, and when, is the template's (the stage collecting participants)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect

from service.routes.common import PathId
from service.usecases.messages import AddParticipant, RemoveParticipant
from service.web.pages import Form, _check_csrf, _cycle_page, _viewer, _ws
from service.web.view import REFUSED, refusal_status

__all__ = ["participant_routes"]


@post(
    "/app/cycles/{cycle_id:str}/participants",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def add(request: Request[Any, Any, Any], cycle_id: PathId, data: Form) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    school = (data.get("school_id") or "").strip()
    if not school:
        errors = [("school_id", "Choose the school that takes part")]
        return _cycle_page(request, principal, secret, cycle_id, 400, participant_errors=errors)
    try:
        _ws(request).handle(AddParticipant(cycle_id, school), principal)
    except REFUSED as exc:
        status = refusal_status(exc)
        return _cycle_page(request, principal, secret, cycle_id, status, participant_refused=exc)
    return Redirect(
        path=f"/app/cycles/{quote(cycle_id)}?joined={quote(school)}#schools", status_code=303
    )


@post(
    "/app/cycles/{cycle_id:str}/participants/{school_id:str}/remove",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def remove(
    request: Request[Any, Any, Any], cycle_id: PathId, school_id: PathId, data: Form
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    try:
        _ws(request).handle(RemoveParticipant(cycle_id, school_id), principal)
    except REFUSED as exc:
        status = refusal_status(exc)
        return _cycle_page(request, principal, secret, cycle_id, status, participant_refused=exc)
    return Redirect(
        path=f"/app/cycles/{quote(cycle_id)}?left={quote(school_id)}#schools", status_code=303
    )


def participant_routes() -> list[HTTPRouteHandler]:
    return [add, remove]
