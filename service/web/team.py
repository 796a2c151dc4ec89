"""Setting a cycle's people and dates in the browser: the review team and improvement champion
(independence problems said as the team is set), the cycle's dates, the stage's sign-offs, and
starting a cycle.

Like every page, these parse, call one use case and render; who may set what, and when, is the
use cases' and the template's decision.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect, Template

from engine.calendar import DEFAULT_TIMEZONE
from engine.errors import (
    NotFound,
    PeerloopError,
)
from service.routes.common import PathId, QueryId
from service.usecases.messages import (
    AssignMember,
    RemoveMember,
    SetCycleDate,
    SignOff,
    StartCycle,
    StartOptions,
    TeamPage,
)
from service.web.pages import Form, _check_csrf, _chrome, _cycle_page, _page, _viewer, _ws
from service.web.view import REFUSED, refusal, refusal_status, sentence

__all__ = ["team_routes"]

VISIT_TIME = time(9, 0)
"""A date chosen on the page is taken as the start of the school day, London time."""


def _team_page(
    request: Request[Any, Any, Any],
    cycle_id: str,
    status: int = 200,
    errors: list[tuple[str, str]] | None = None,
    refused: tuple[str, PeerloopError, str] | None = None,
    **extra: Any,
) -> Template:
    """The team page; `refused` is (field, what the rules refused, what was tried)."""
    principal, secret = _viewer(request)
    page = _ws(request).handle(TeamPage(cycle_id), principal)
    if refused is not None:
        field, exc, what = refused
        errors = [*(errors or []), (field, refusal(page.template, page.cycle, exc, what))]
    return _page(
        request,
        "team.html",
        status=status,
        page=page,
        errors=errors,
        saved=request.query_params.get("saved"),
        **_chrome(request, principal, secret),
        **extra,
    )


@get("/app/cycles/{cycle_id:str}/team", include_in_schema=False, sync_to_thread=True)
def team(request: Request[Any, Any, Any], cycle_id: PathId) -> Template:
    return _team_page(request, cycle_id)


@post(
    "/app/cycles/{cycle_id:str}/team",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def add_member(request: Request[Any, Any, Any], cycle_id: PathId, data: Form) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    person = (data.get("person") or "").strip()
    role = (data.get("role") or "").strip()
    errors = []
    if not person:
        errors.append(("person", "Choose who to add"))
    if not role:
        errors.append(("role", "Choose their role"))
    if not errors:
        try:
            _ws(request).handle(AssignMember(cycle_id, person, role), principal)
        except NotFound as exc:
            if exc.kind != "person":
                raise
            errors.append(("person", "Choose someone from the list"))
        except REFUSED as exc:
            field = "role" if getattr(exc, "field", "") == "role" else "person"
            refused = (field, exc, "change the team")
            return _team_page(
                request, cycle_id, refusal_status(exc), refused=refused, chosen=person
            )
        else:
            return Redirect(
                path=f"/app/cycles/{quote(cycle_id)}/team?saved={quote(person)}", status_code=303
            )
    return _team_page(request, cycle_id, 400, errors=errors, chosen=person)


@post(
    "/app/cycles/{cycle_id:str}/team/{person_id:str}/remove",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def remove_member(
    request: Request[Any, Any, Any], cycle_id: PathId, person_id: PathId, data: Form
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    try:
        _ws(request).handle(RemoveMember(cycle_id, person_id), principal)
    except REFUSED as exc:
        refused = ("person", exc, "change the team")
        return _team_page(request, cycle_id, refusal_status(exc), refused=refused)
    return Redirect(path=f"/app/cycles/{quote(cycle_id)}/team?saved=removed", status_code=303)


def _day(text: str) -> date | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    # A visit is planned for now or a few years ahead; anything else is a typing slip.
    return day if 2000 <= day.year <= 2100 else None


@post(
    "/app/cycles/{cycle_id:str}/dates/{date_id:str}",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def set_date(
    request: Request[Any, Any, Any], cycle_id: PathId, date_id: PathId, data: Form
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    field = f"date-{date_id}"
    day = _day((data.get("day") or "").strip())
    if day is None:
        message = "Enter the date as a real day, for example 14 March 2027"
        return _team_page(request, cycle_id, 400, errors=[(field, message)])
    at = datetime.combine(day, VISIT_TIME, ZoneInfo(DEFAULT_TIMEZONE))
    try:
        _ws(request).handle(SetCycleDate(cycle_id, date_id, at), principal)
    except REFUSED as exc:
        refused = (field, exc, "set the dates")
        return _team_page(request, cycle_id, refusal_status(exc), refused=refused)
    return Redirect(path=f"/app/cycles/{quote(cycle_id)}/team?saved=date", status_code=303)


@post(
    "/app/cycles/{cycle_id:str}/signoffs",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def sign_off(request: Request[Any, Any, Any], cycle_id: PathId, data: Form) -> Response[Any]:
    """Signing off the stage's work in one of the caller's roles, from the cycle page."""
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    role = (data.get("role") or "").strip()
    try:
        _ws(request).handle(SignOff(cycle_id, role), principal)
    except REFUSED as exc:
        status = refusal_status(exc)
        return _cycle_page(request, principal, secret, cycle_id, status, signoff_refused=exc)
    return Redirect(
        path=f"/app/cycles/{quote(cycle_id)}?signed={quote(role)}#signoffs", status_code=303
    )


def _start_page(request: Request[Any, Any, Any], status: int = 200, **extra: Any) -> Template:
    principal, secret = _viewer(request)
    choices = _ws(request).handle(StartOptions(), principal)
    return _page(
        request,
        "start.html",
        status=status,
        choices=choices,
        **_chrome(request, principal, secret),
        **extra,
    )


@get("/app/start", include_in_schema=False, sync_to_thread=True)
def start_form(
    request: Request[Any, Any, Any], school: QueryId = None, template: QueryId = None
) -> Template:
    """`?school=` (and `?template=`) choose in advance, as the network dashboard links do."""
    return _start_page(request, school=school, template=template)


@post("/app/start", include_in_schema=False, sync_to_thread=True, status_code=303)
def start(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    template_id = (data.get("template") or "").strip()
    school_id = (data.get("school") or "").strip()
    errors = []
    if not template_id:
        errors.append(("template", "Choose the framework"))
    if not school_id:
        errors.append(("school", "Choose the school"))
    if not errors:
        # The form's own token makes a double click start one cycle, not two.
        key = (data.get("csrf") or "")[:16] + ":" + template_id + ":" + school_id
        try:
            started = _ws(request).handle(
                StartCycle(template_id, school_id, idempotency_key=key), principal
            )
        except PeerloopError as exc:
            errors.append(("school", sentence(str(exc))))
        else:
            cycle_id = started.context.cycle.id
            return Redirect(path=f"/app/cycles/{quote(cycle_id)}?started=1", status_code=303)
    return _start_page(request, 400, errors=errors, template=template_id, school=school_id)


def team_routes() -> list[HTTPRouteHandler]:
    return [team, add_member, remove_member, set_date, sign_off, start_form, start]
