"""Every page, gathered into one router with the pages' error handling."""

from __future__ import annotations

from litestar import Router

from service.web.admin import admin_routes
from service.web.admin_calendars import calendar_routes
from service.web.admin_dry_run import dry_run_routes
from service.web.admin_migration import migration_routes
from service.web.dashboard import dashboard_routes
from service.web.documents import documents_routes
from service.web.pages import PAGE_ROUTES, error_page
from service.web.participants import participant_routes
from service.web.plan import plan_routes
from service.web.review import review_routes
from service.web.self_review import self_review_routes
from service.web.series import series_routes
from service.web.team import team_routes

__all__ = ["pages_router"]


def pages_router(max_upload_bytes: int) -> Router:
    """Every page; uploads take up to five files of `max_upload_bytes` in one form."""
    return Router(
        path="/",
        route_handlers=[
            *self_review_routes(5 * max_upload_bytes + 64 * 1024),
            *review_routes(),
            *plan_routes(),
            *team_routes(),
            *participant_routes(),
            *dashboard_routes(),
            *documents_routes(),
            *admin_routes(),
            *calendar_routes(),
            *dry_run_routes(),
            *migration_routes(),
            *series_routes(),
            *PAGE_ROUTES,
        ],
        exception_handlers={Exception: error_page},
        include_in_schema=False,
    )
