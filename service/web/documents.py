"""Pages: documents (see the module's routes)."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

__all__ = ["documents_routes"]


def documents_routes() -> list[HTTPRouteHandler]:
    return []
