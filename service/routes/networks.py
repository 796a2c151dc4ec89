"""Networks (NLCs)."""

from __future__ import annotations

from datetime import date, timedelta

from litestar import Response, delete, get, post, put
from litestar.params import JSONBody

from engine.errors import InvalidRecord
from service.presenters import network_calendar_view, network_view
from service.routes.common import READ, WRITE, Caller, PathId, Ws, problems
from service.schemas import NetworkCreate, NetworkView
from service.schemas.calendar import ClosureIn, NetworkCalendarSet, NetworkCalendarView
from service.usecases.messages import (
    AddNetwork,
    GetNetwork,
    ListNetworks,
    NetworkCalendar,
    RemoveNetworkCalendar,
    SetNetworkCalendar,
)

__all__ = ["ROUTES"]

TAGS = ["directory"]


@get(
    "/networks", tags=TAGS, summary="Every network", responses=problems(*READ), sync_to_thread=True
)
def list_networks(principal: Caller, ws: Ws) -> list[NetworkView]:
    return [network_view(n) for n in ws.handle(ListNetworks(), principal)]


@get(
    "/networks/{network_id:str}",
    tags=TAGS,
    summary="A network",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_network(network_id: PathId, principal: Caller, ws: Ws) -> NetworkView:
    return network_view(ws.handle(GetNetwork(network_id), principal))


@post(
    "/networks",
    tags=TAGS,
    summary="Add a network (admin)",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def add_network(data: JSONBody[NetworkCreate], principal: Caller, ws: Ws) -> Response[NetworkView]:
    n = ws.handle(AddNetwork(data.id, data.name, data.chair_person_id), principal)
    return Response(network_view(n), status_code=201, headers={"Location": f"/networks/{n.id}"})


DEFAULT_CALENDAR = "default"
"""The network id of the partnership's default calendar in calendar paths."""
MAX_CLOSURE_DAYS = 200
"""A summer holiday is about 45 days; a closure far longer is a typing mistake."""


def _calendar_of(network_id: str) -> str | None:
    return None if network_id == DEFAULT_CALENDAR else network_id


def _closure_days(closures: list[ClosureIn]) -> tuple[tuple[str, date], ...]:
    days: list[tuple[str, date]] = []
    for i, c in enumerate(closures):
        last = c.last or c.first
        if last < c.first:
            raise InvalidRecord(f"closures[{i}].last", f"{c.name} ends before it starts")
        if (last - c.first).days > MAX_CLOSURE_DAYS:
            raise InvalidRecord(
                f"closures[{i}].last", f"{c.name} is over {MAX_CLOSURE_DAYS} days long"
            )
        days.extend((c.name, c.first + timedelta(days=n)) for n in range((last - c.first).days + 1))
    return tuple(days)


@get(
    "/networks/{network_id:str}/calendar",
    tags=TAGS,
    summary="A network's school calendar ('default': the partnership's)",
    description="The terms its cycles' deadlines count, each with its school days and closures,"
    " and where they come from: its own, the partnership's default, or Monday to Friday.",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_network_calendar(network_id: PathId, principal: Caller, ws: Ws) -> NetworkCalendarView:
    view = ws.handle(NetworkCalendar(_calendar_of(network_id)), principal)
    return network_calendar_view(view)


@put(
    "/networks/{network_id:str}/calendar",
    tags=TAGS,
    summary="Set a network's terms and closures (admin)",
    description="Replaces what the network had; deadlines planned from now on count them.",
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def set_network_calendar(
    network_id: PathId, data: JSONBody[NetworkCalendarSet], principal: Caller, ws: Ws
) -> NetworkCalendarView:
    terms = tuple((t.name, t.first, t.last) for t in data.terms)
    command = SetNetworkCalendar(_calendar_of(network_id), terms, _closure_days(data.closures))
    return network_calendar_view(ws.handle(command, principal))


@delete(
    "/networks/{network_id:str}/calendar",
    tags=TAGS,
    summary="Drop a network's own calendar (admin): it counts the default again",
    responses=problems(*WRITE),
    status_code=200,
    sync_to_thread=True,
)
def remove_network_calendar(network_id: PathId, principal: Caller, ws: Ws) -> NetworkCalendarView:
    view = ws.handle(RemoveNetworkCalendar(_calendar_of(network_id)), principal)
    return network_calendar_view(view)


ROUTES = [
    list_networks,
    get_network,
    add_network,
    get_network_calendar,
    set_network_calendar,
    remove_network_calendar,
]
