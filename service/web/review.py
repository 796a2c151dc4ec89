"""The review in the browser: peer judgements per question, findings, and the report with
who may read it."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

__all__ = ["review_routes"]


def review_routes() -> list[HTTPRouteHandler]:
    return []
