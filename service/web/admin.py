"""Pages: admin (see the module's routes)."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

__all__ = ["admin_routes"]


def admin_routes() -> list[HTTPRouteHandler]:
    return []
