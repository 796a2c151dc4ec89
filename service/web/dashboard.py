"""Pages: dashboard (see the module's routes)."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

__all__ = ["dashboard_routes"]


def dashboard_routes() -> list[HTTPRouteHandler]:
    return []
