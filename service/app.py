"""The Litestar application factory."""

from __future__ import annotations

from litestar import Litestar, get

from service.bootstrap import Container

__all__ = ["create_app"]


def create_app(container: Container) -> Litestar:
    """The HTTP app over a built container (see service.bootstrap.build)."""

    @get("/health", sync_to_thread=True)
    def health() -> dict[str, str]:
        with container.uow(readonly=True) as uow:
            uow.templates.list()
        return {"status": "ok", "database": "ok"}

    return Litestar(route_handlers=[health], on_shutdown=[container.close])
