"""People: personal data, so each sees only whom they need to (see service.visibility)."""

from __future__ import annotations

from litestar import Response, get, post, put
from litestar.params import JSONBody

from service.presenters import grant_view, person_view
from service.routes.common import READ, WRITE, Caller, PathId, QueryId, Ws, problems
from service.schemas import GrantView, PasswordSet, PersonCreate, PersonView
from service.schemas.directory import ErasureCreate, ErasureView
from service.usecases.messages import (
    AddPerson,
    ErasePerson,
    GetPerson,
    ListPeople,
    MyDeadlineFeed,
    PersonGrants,
    SetPassword,
)

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
    return [person_view(p) for p in ws.handle(ListPeople(school), principal)]


@get(
    "/people/{person_id:str}",
    tags=TAGS,
    summary="A person",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_person(person_id: PathId, principal: Caller, ws: Ws) -> PersonView:
    return person_view(ws.handle(GetPerson(person_id), principal))


@get(
    "/people/{person_id:str}/grants",
    tags=TAGS,
    summary="A person's role grants (the admin's or your own)",
    responses=problems(*READ),
    sync_to_thread=True,
)
def person_grants(person_id: PathId, principal: Caller, ws: Ws) -> list[GrantView]:
    return [grant_view(g) for g in ws.handle(PersonGrants(person_id), principal)]


@post(
    "/people",
    tags=TAGS,
    summary="Add a person (admin)",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def add_person(data: JSONBody[PersonCreate], principal: Caller, ws: Ws) -> Response[PersonView]:
    p = ws.handle(AddPerson(data.id, data.name, data.email, data.school_id), principal)
    return Response(person_view(p), status_code=201, headers={"Location": f"/people/{p.id}"})


@post(
    "/people/{person_id:str}/erasure",
    tags=TAGS,
    summary="Erase a person's personal data (a right-to-erasure request; admin)",
    description=(
        "Their name, email, school, password, tokens, grants, inbox, calendar link and mail "
        "to them go, and their name from the notices others were given; their id stays in the "
        'history and records (shown as "Erased person"), so the history still verifies. '
        "The erasure is recorded with who asked, why, who did it and when."
    ),
    status_code=201,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def erase_person(
    person_id: PathId, data: JSONBody[ErasureCreate], principal: Caller, ws: Ws
) -> ErasureView:
    e = ws.handle(ErasePerson(person_id, data.asked_by, data.reason), principal)
    return ErasureView(
        person_id=e.person_id,
        asked_by=e.asked_by,
        reason=e.reason,
        erased_by=e.erased_by,
        at=e.at,
        removed=dict(e.removed),
    )


@put(
    "/people/{person_id:str}/password",
    tags=TAGS,
    summary="Set a password (your own, or anyone's as the admin); stored as an argon2 hash",
    status_code=204,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def set_password(person_id: PathId, data: JSONBody[PasswordSet], principal: Caller, ws: Ws) -> None:
    ws.handle(SetPassword(person_id, data.password), principal)


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
    data = ws.handle(MyDeadlineFeed(), principal)
    return Response(
        data,
        media_type="text/calendar",
        headers={"Content-Disposition": 'inline; filename="peerloop-deadlines.ics"'},
    )


ROUTES = [
    me,
    my_deadlines_feed,
    list_people,
    get_person,
    person_grants,
    add_person,
    erase_person,
    set_password,
]
