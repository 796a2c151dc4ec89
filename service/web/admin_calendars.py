"""The admin's school-calendar pages: each network's terms and closures with the school days
they give, an ICS or YAML file (or pasted YAML) checked term by term before it is saved, and
dropping a network's own calendar so it counts the partnership's default again.

Only an admin may open them; that is the use cases' decision (anyone else gets the 403 page).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect, Template

from engine.errors import InvalidRecord
from service.routes.common import PathId
from service.usecases.calendars import MAX_CALENDAR_BYTES
from service.usecases.messages import (
    ImportNetworkCalendar,
    NetworkCalendar,
    NetworkCalendars,
    RemoveNetworkCalendar,
)
from service.web.admin import file_bytes, read_form, render_admin
from service.web.pages import Form, _check_csrf, _viewer, _ws
from service.web.view import sentence, size_in_words

__all__ = ["calendar_routes"]

DEFAULT = "default"
"""The partnership's default calendar in the pages' paths, as in the API's."""


def _network(network_id: str) -> str | None:
    return None if network_id == DEFAULT else network_id


def _calendar_page(
    request: Request[Any, Any, Any], network_id: str, status: int = 200, **extra: Any
) -> Template:
    return render_admin(
        request,
        "admin_calendar.html",
        NetworkCalendar(_network(network_id), admin=True),
        status,
        path_id=network_id,
        max_file=size_in_words(MAX_CALENDAR_BYTES),
        **extra,
    )


@get("/app/admin/calendars", include_in_schema=False, sync_to_thread=True)
def calendars(request: Request[Any, Any, Any]) -> Template:
    return render_admin(request, "admin_calendars.html", NetworkCalendars(admin=True))


@get("/app/admin/calendars/{network_id:str}", include_in_schema=False, sync_to_thread=True)
def calendar_page(request: Request[Any, Any, Any], network_id: PathId) -> Template:
    return _calendar_page(request, network_id)


def _import(
    request: Request[Any, Any, Any],
    network_id: str,
    token: dict[str, str],
    data: bytes,
    filename: str,
    confirm: bool,
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(token, secret)
    if not data.strip():
        errors = [("file", "Choose the calendar file, or paste the terms")]
        return _calendar_page(request, network_id, 400, errors=errors)
    command = ImportNetworkCalendar(_network(network_id), data, filename, dry_run=not confirm)
    try:
        found = _ws(request).handle(command, principal)
    except InvalidRecord as exc:
        errors = [("file", sentence(exc.detail))]
        return _calendar_page(request, network_id, 400, errors=errors, source=data.decode())
    if confirm:
        return Redirect(
            path=f"/app/admin/calendars/{quote(network_id)}?saved=imported", status_code=303
        )
    # The confirm form sends the file back as it was read: the preview is what is saved.
    return _calendar_page(
        request, network_id, preview=found, source=data.decode(), filename=filename
    )


def import_route() -> HTTPRouteHandler:
    async def import_calendar(request: Request[Any, Any, Any], network_id: PathId) -> Response[Any]:
        form = await read_form(request)
        too_large = f"The file is larger than {size_in_words(MAX_CALENDAR_BYTES)}"
        if form is None:
            return await anyio.to_thread.run_sync(
                lambda: _calendar_page(request, network_id, 413, errors=[("file", too_large)])
            )
        token = {"csrf": str(form.get("csrf") or "")}
        data, filename = str(form.get("source") or "").encode(), "calendar.yaml"
        chosen = await file_bytes(form.get("file"), MAX_CALENDAR_BYTES)
        if chosen is not None:
            filename, data = chosen
            if len(data) > MAX_CALENDAR_BYTES:
                return await anyio.to_thread.run_sync(
                    lambda: _calendar_page(request, network_id, 413, errors=[("file", too_large)])
                )
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                errors = [("file", "The file is not a text file: choose the .ics or .yaml file")]
                return await anyio.to_thread.run_sync(
                    lambda: _calendar_page(request, network_id, 400, errors=errors)
                )
        return await anyio.to_thread.run_sync(
            lambda: _import(request, network_id, token, data, filename, confirm=False)
        )

    return post(
        "/app/admin/calendars/{network_id:str}/import",
        include_in_schema=False,
        status_code=303,
        request_max_body_size=2 * MAX_CALENDAR_BYTES + 64 * 1024,
    )(import_calendar)


@post(
    "/app/admin/calendars/{network_id:str}/import/confirm",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
    # The preview sends the file back as form text, which URL-encoding can make three times
    # larger.
    request_max_body_size=3 * MAX_CALENDAR_BYTES + 64 * 1024,
)
def confirm_import(
    request: Request[Any, Any, Any], network_id: PathId, data: Form
) -> Response[Any]:
    source = (data.get("source") or "").encode()
    name = data.get("filename") or "calendar.yaml"
    return _import(request, network_id, data, source, name, confirm=True)


@post(
    "/app/admin/calendars/{network_id:str}/remove",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def remove(request: Request[Any, Any, Any], network_id: PathId, data: Form) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    _ws(request).handle(RemoveNetworkCalendar(_network(network_id)), principal)
    return Redirect(path=f"/app/admin/calendars/{quote(network_id)}?saved=removed", status_code=303)


def calendar_routes() -> list[HTTPRouteHandler]:
    return [calendars, calendar_page, import_route(), confirm_import, remove]
