"""The admin's move of running cycles to a newer version of their template: every cycle on
an older version listed with its preview in words (its stage, the requirements newly applying
and whether they are met, the deadlines moved, added or dropped, and anything that stops it),
then the cycles chosen moved at once, with the reason recorded in each one's history.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect, Response, Template

from engine.errors import Conflict, InvalidRecord
from service.routes.common import PathId, PathVersion
from service.usecases.messages import MigrateCycles, PreviewMigration, TemplateVersionsPage
from service.usecases.migration import Migration
from service.web.pages import ChosenForm, _check_csrf, _chrome, _page, _viewer, _ws, chosen
from service.web.view import sentence

__all__ = ["migration_routes"]


def _path(template_id: str, version: int) -> str:
    return f"/app/admin/templates/{quote(template_id)}/versions/{version}/move-cycles"


def _show(
    request: Request[Any, Any, Any],
    template_id: str,
    version: int,
    status: int = 200,
    **extra: Any,
) -> Template:
    principal, secret = _viewer(request)
    ws = _ws(request)
    page = ws.handle(TemplateVersionsPage(template_id, version), principal)
    preview: Migration = ws.handle(PreviewMigration(template_id, version), principal)
    return _page(
        request,
        "admin_migration.html",
        status=status,
        page=page,
        preview=preview,
        action=_path(template_id, version),
        errors=extra.pop("errors", []),
        **extra,
        **_chrome(request, principal, secret),
    )


@get(
    "/app/admin/templates/{template_id:str}/versions/{version:int}/move-cycles",
    include_in_schema=False,
    sync_to_thread=True,
)
def move_cycles_page(
    request: Request[Any, Any, Any], template_id: PathId, version: PathVersion
) -> Template:
    return _show(request, template_id, version)


@post(
    "/app/admin/templates/{template_id:str}/versions/{version:int}/move-cycles",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def move_cycles(
    request: Request[Any, Any, Any],
    template_id: PathId,
    version: PathVersion,
    data: ChosenForm,
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf({"csrf": str(data.get("csrf") or "")}, secret)
    picked = tuple(chosen(data, "cycle"))
    reason = str(data.get("reason") or "").strip()
    errors: list[tuple[str, str]] = []
    if not picked:
        errors.append(("cycles", "Choose the cycles to move"))
    if not reason:
        errors.append(("reason", "Say why the cycles move to the new version"))
    typed = {"reason": reason, "chosen": set(picked)}
    if errors:
        return _show(request, template_id, version, 400, errors=errors, typed=typed)
    try:
        moved = _ws(request).handle(MigrateCycles(template_id, version, reason, picked), principal)
    except InvalidRecord as exc:
        field = "reason" if exc.field == "reason" else "cycles"
        return _show(
            request, template_id, version, 400, errors=[(field, sentence(exc.detail))], typed=typed
        )
    except Conflict as exc:
        return _show(
            request,
            template_id,
            version,
            409,
            errors=[("cycles", sentence(exc.detail))],
            typed=typed,
        )
    return Redirect(
        path=f"/app/admin/templates/{quote(template_id)}?version={version}&saved=moved"
        f"&moved={len(moved.plans)}",
        status_code=303,
    )


def migration_routes() -> list[HTTPRouteHandler]:
    return [move_cycles_page, move_cycles]
