"""Series of recurring cycles, for people: the series they may see (the cycles each started,
its next days), a form to set one up on the school days chosen, and cancelling one."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect, Response, Template

from engine.errors import AccessDenied, Conflict, InvalidRecord, NotFound
from service.routes.common import PathId
from service.usecases.messages import CancelSeries, CreateSeries, ListSeries, StartOptions
from service.web.pages import ChosenForm, Form, _check_csrf, _chrome, _page, _viewer, _ws, chosen
from service.web.view import sentence

__all__ = ["series_routes"]

DAY_FIELDS = 6
"""Days one form sets up: a term's twilights; more make another series."""


def _series_page(request: Request[Any, Any, Any], status: int = 200, **extra: Any) -> Template:
    principal, secret = _viewer(request)
    ws = _ws(request)
    try:
        choices = ws.handle(StartOptions(), principal)
    except AccessDenied:
        choices = None  # they see series, but set none up
    return _page(
        request,
        "series.html",
        status=status,
        listed=ws.handle(ListSeries(), principal),
        choices=choices,
        day_fields=DAY_FIELDS,
        errors=extra.pop("errors", []),
        typed=extra.pop("typed", {}),
        saved=request.query_params.get("saved"),
        **extra,
        **_chrome(request, principal, secret),
    )


@get("/app/series", include_in_schema=False, sync_to_thread=True)
def series_page(request: Request[Any, Any, Any]) -> Template:
    return _series_page(request)


@post("/app/series", include_in_schema=False, sync_to_thread=True, status_code=303)
def make_series(request: Request[Any, Any, Any], data: ChosenForm) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf({"csrf": str(data.get("csrf") or "")}, secret)
    typed = {k: str(v) for k, v in data.items() if isinstance(v, str)}
    typed["participants"] = chosen(data, "participants")  # type: ignore[assignment]
    errors: list[tuple[str, str]] = []
    template_id = typed.get("template", "").strip()
    school_id = typed.get("school", "").strip()
    if not template_id:
        errors.append(("template", "Choose the framework"))
    if not school_id:
        errors.append(("school", "Choose the lead school"))
    days: list[tuple[str, date]] = []
    for i in range(1, DAY_FIELDS + 1):
        text = typed.get(f"day-{i}", "").strip()
        if not text:
            continue
        try:
            days.append((f"day-{i}", date.fromisoformat(text)))
        except ValueError:
            errors.append((f"day-{i}", "Enter the day as a date, for example 2026-10-01"))
    if not days and not any(f.startswith("day-") for f, _ in errors):
        errors.append(("day-1", "Give at least one day"))
    if errors:
        return _series_page(request, 400, errors=errors, typed=typed)
    message = CreateSeries(
        template_id,
        school_id,
        tuple(d for _, d in days),
        typed.get("yearly") == "yes",
        tuple(typed["participants"]),
        typed.get("title", ""),
    )
    try:
        _ws(request).handle(message, principal)
    except InvalidRecord as exc:
        field = "participants" if exc.field == "participants" else "school"
        if exc.field.startswith("days["):
            field = days[int(exc.field[5:-1])][0]
        return _series_page(request, 400, errors=[(field, sentence(exc.detail))], typed=typed)
    except (AccessDenied, Conflict, NotFound) as exc:
        return _series_page(request, 400, errors=[("school", sentence(str(exc)))], typed=typed)
    return Redirect(path="/app/series?saved=made", status_code=303)


@post(
    "/app/series/{series_id:str}/cancel",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def cancel_series(request: Request[Any, Any, Any], series_id: PathId, data: Form) -> Redirect:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    _ws(request).handle(CancelSeries(series_id), principal)
    return Redirect(path=f"/app/series?saved=cancelled#{quote(series_id)}", status_code=303)


def series_routes() -> list[HTTPRouteHandler]:
    return [series_page, make_series, cancel_series]
