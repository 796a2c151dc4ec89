"""The admin's dry run of a template version: a network and a start date (and the cycle
dates the template counts from) in, the year's timeline out, each stage's due date and its
reminders, notices and automatic moves in words, before the version is published or used.

A GET form: nothing changes, so the timeline's address can be kept or sent to a colleague.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template

from engine.errors import InvalidRecord, NotFound
from engine.timeline import in_words
from service.routes.common import PathId, PathVersion
from service.usecases.messages import DryRunTemplate, ListNetworks, TemplateVersionsPage
from service.web.pages import _chrome, _page, _viewer, _ws
from service.web.view import sentence

__all__ = ["dry_run_routes"]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@get(
    "/app/admin/templates/{template_id:str}/versions/{version:int}/dry-run",
    include_in_schema=False,
    sync_to_thread=True,
)
def dry_run_page(
    request: Request[Any, Any, Any], template_id: PathId, version: PathVersion
) -> Template:
    principal, secret = _viewer(request)
    ws = _ws(request)
    page = ws.handle(TemplateVersionsPage(template_id, version), principal)
    networks = ws.handle(ListNetworks(), principal)
    query = request.query_params
    asked = "start" in query
    errors: list[tuple[str, str]] = []
    start = _date(str(query.get("start") or ""))
    if asked and start is None:
        errors.append(("start", "Enter the start date as a date, for example 2027-03-01"))
    dates: dict[str, date] = {}
    for d in page.template.dates:
        text = str(query.get(f"date-{d.id}") or "").strip()
        if not text:
            continue
        found = _date(text)
        if found is None:
            errors.append((f"date-{d.id}", f"Enter the {d.title.lower()} as a date, or leave it"))
        else:
            dates[d.id] = found
    network = str(query.get("network") or "") or None
    run = None
    if asked and not errors and start is not None:
        try:
            run = ws.handle(DryRunTemplate(template_id, version, start, network, dates), principal)
        except NotFound:
            errors.append(("network", "Choose a network from the list"))
        except InvalidRecord as exc:
            errors.append(("start", sentence(exc.detail)))
    return _page(
        request,
        "admin_dry_run.html",
        status=400 if errors else 200,
        page=page,
        networks=networks,
        run=run,
        errors=errors,
        values={k: str(v) for k, v in query.items()},
        words=in_words,
        **_chrome(request, principal, secret),
    )


def dry_run_routes() -> list[HTTPRouteHandler]:
    return [dry_run_page]
