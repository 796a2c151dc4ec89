"""Series of recurring cycles: a template's cycles started for a school on given days."""

from __future__ import annotations

from litestar import get, post
from litestar.params import JSONBody

from service.presenters import series_view
from service.routes.common import READ, WRITE, Caller, PathId, Ws, problems
from service.schemas import SeriesCreate, SeriesView
from service.usecases.messages import CancelSeries, CreateSeries, ListSeries

__all__ = ["ROUTES"]

TAGS = ["series"]


@post(
    "/series",
    tags=TAGS,
    summary="Start a template's cycles for a school on given school days, or every year",
    description="By whoever may start the template's cycles for the school (the admin, or a "
    "role the template gives `start_cycles`, for the school's network). Each day must be a "
    "school day on the network's calendar and not past (422 names the first that is not). On "
    "each day, at 07:00, the scheduler starts the cycle as the series' maker, with the "
    "`participants` taking part (the template's first stage must take them from the maker).",
    status_code=201,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def create_series(data: JSONBody[SeriesCreate], principal: Caller, ws: Ws) -> SeriesView:
    message = CreateSeries(
        data.template_id,
        data.host_school_id,
        tuple(data.days),
        data.yearly,
        tuple(data.participants),
        data.title,
    )
    return series_view(ws.handle(message, principal))


@get(
    "/series",
    tags=TAGS,
    summary="The series you may see, with the cycles they started and their next days",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_series(principal: Caller, ws: Ws) -> list[SeriesView]:
    return [series_view(s) for s in ws.handle(ListSeries(), principal)]


@post(
    "/series/{series_id:str}/cancellation",
    tags=TAGS,
    summary="Stop a series: no more cycles start (those started go on)",
    status_code=200,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def cancel_series(series_id: PathId, principal: Caller, ws: Ws) -> SeriesView:
    return series_view(ws.handle(CancelSeries(series_id), principal))


ROUTES = [create_series, list_series, cancel_series]
