"""People: personal data, so each sees only whom they need to (see service.visibility)."""

from __future__ import annotations

from litestar import Response, get, post, put
from litestar.params import JSONBody

from adapters.ics_feed import person_feed
from engine.directory import Person
from service.errors import Forbidden, Hidden
from service.handlers import new_id
from service.presenters import grant_view, person_view
from service.routes.common import READ, WRITE, Caller, PathId, QueryId, Ws, problems, require_admin
from service.schemas import GrantView, PasswordSet, PersonCreate, PersonView
from service.visibility import can_see_person

__all__ = ["ROUTES"]

TAGS = ["directory"]


@get(
    "/people/me",
    tags=TAGS,
    summary="Who you are",
    responses=problems(*READ),
    sync_to_thread=True,
)
def me(principal: Caller) -> PersonView:
    return person_view(principal.person)


@get(
    "/people",
    tags=TAGS,
    summary="The people you may see, optionally of one school",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_people(
    principal: Caller,
    ws: Ws,
    school: QueryId = None,
) -> list[PersonView]:
    with ws.app.uow(readonly=True) as uow:
        found = uow.directory.people(school)
    return [person_view(p) for p in found if can_see_person(principal, p)]


def _visible(ws: Ws, principal: Caller, person_id: str) -> Person:
    with ws.app.uow(readonly=True) as uow:
        person = uow.directory.get_person(person_id)
    if not can_see_person(principal, person):
        raise Hidden("person", person_id)
    return person


@get(
    "/people/{person_id:str}",
    tags=TAGS,
    summary="A person",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_person(person_id: PathId, principal: Caller, ws: Ws) -> PersonView:
    return person_view(_visible(ws, principal, person_id))


@get(
    "/people/{person_id:str}/grants",
    tags=TAGS,
    summary="A person's role grants (the admin's or your own)",
    responses=problems(*READ),
    sync_to_thread=True,
)
def person_grants(person_id: PathId, principal: Caller, ws: Ws) -> list[GrantView]:
    _visible(ws, principal, person_id)
    if not (principal.is_admin or principal.id == person_id):
        raise Forbidden("only an admin or the person may see their grants")
    with ws.app.uow(readonly=True) as uow:
        return [grant_view(g) for g in uow.directory.grants_for(person_id)]


@post(
    "/people",
    tags=TAGS,
    summary="Add a person (admin)",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def add_person(data: JSONBody[PersonCreate], principal: Caller, ws: Ws) -> Response[PersonView]:
    require_admin(principal)
    p = ws.add_person(Person(data.id or new_id("p"), data.name, data.email, data.school_id))
    return Response(person_view(p), status_code=201, headers={"Location": f"/people/{p.id}"})


@put(
    "/people/{person_id:str}/password",
    tags=TAGS,
    summary="Set a password (your own, or anyone's as the admin); stored as an argon2 hash",
    status_code=204,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def set_password(person_id: PathId, data: JSONBody[PasswordSet], principal: Caller, ws: Ws) -> None:
    _visible(ws, principal, person_id)
    if not (principal.is_admin or principal.id == person_id):
        raise Forbidden("only an admin or the person may set their password")
    ws.set_password(person_id, data.password)


@get(
    "/people/me/deadlines.ics",
    tags=TAGS,
    summary="Your deadlines as an iCalendar feed",
    description="Stage due dates and action due dates of the cycles you hold a role on, for "
    "the calendar you already use.",
    responses=problems(*READ),
    sync_to_thread=True,
    media_type="text/calendar",
)
def my_deadlines_feed(principal: Caller, ws: Ws) -> Response[bytes]:
    tz = ws.app.registry.calendar.tz
    with ws.app.uow(readonly=True) as uow:
        data = person_feed(uow.connection, principal.person.id, ws.now, tz)  # type: ignore[attr-defined]
    return Response(
        data,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="peerloop-deadlines.ics"'},
    )


ROUTES = [me, my_deadlines_feed, list_people, get_person, person_grants, add_person, set_password]
