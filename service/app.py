"""The Litestar application factory: routes, dependencies, errors, OpenAPI and logging wired in
one place."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
from litestar import Litestar, Router
from litestar._openapi.schema_generation import SchemaCreator
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, Schema, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.typing import FieldDefinition

from service.bodies import PeerloopRequest
from service.bootstrap import Container
from service.errors import handle_exception
from service.metrics import Metrics
from service.request_log import RequestLog
from service.routes import (
    actions,
    calendar,
    cycles,
    evidence,
    exports,
    findings,
    grants,
    inbox,
    judgements,
    networks,
    ops,
    participants,
    people,
    schools,
    series,
    shares,
    signoffs,
    support,
    tasks,
    team,
    templates,
    tokens,
    transitions,
)
from service.routes.common import (
    authenticated,
    check_media_type,
    provide_principal,
    provide_workspace,
)
from service.web.filters import FILTERS
from service.web.router import pages_router
from service.web.session import SESSION_COOKIE

__all__ = ["JSON_BODY_LIMIT", "PUBLIC_BODY_LIMIT", "create_app"]

WEB = Path(__file__).parent / "web"

JSON_BODY_LIMIT = 1024 * 1024
"""The largest JSON body any route reads; uploads have their own limit (settings)."""
PUBLIC_BODY_LIMIT = 64 * 1024
"""The largest body a route open to anyone reads (signing in takes an email and a password)."""

_MULTIPART_OVERHEAD = 64 * 1024
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]

_API = [
    *templates.ROUTES,
    *networks.ROUTES,
    *schools.ROUTES,
    *people.ROUTES,
    *exports.ROUTES,
    *grants.ROUTES,
    *[r for r in tokens.ROUTES if r is not tokens.login],
    *cycles.ROUTES,
    *transitions.ROUTES,
    *evidence.ROUTES,
    *judgements.ROUTES,
    *findings.ROUTES,
    *actions.ROUTES,
    *participants.ROUTES,
    *series.ROUTES,
    *support.ROUTES,
    *signoffs.ROUTES,
    *team.ROUTES,
    *shares.ROUTES,
    *inbox.ROUTES,
    *calendar.ROUTES,
    *tasks.ROUTES,
]


def create_app(container: Container) -> Litestar:
    """The HTTP app over a built container (see service.bootstrap.build)."""
    metrics = Metrics()
    workspace = container.usecases
    upload = evidence.upload_route(container.settings.max_upload_bytes + _MULTIPART_OVERHEAD)
    api = Router(
        path="/",
        route_handlers=[*_API, upload],
        guards=[authenticated],
        security=_SECURITY,
        request_max_body_size=JSON_BODY_LIMIT,
    )
    public = Router(
        path="/",
        route_handlers=[*ops.ROUTES, tokens.login, *calendar.PUBLIC_ROUTES],
        request_max_body_size=PUBLIC_BODY_LIMIT,
    )
    app = Litestar(
        route_handlers=[api, public, pages_router(container.settings.max_upload_bytes), _static()],
        template_config=TemplateConfig(
            directory=WEB / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: engine.engine.filters.update(FILTERS),
        ),
        dependencies={
            "ws": Provide(provide_workspace, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        exception_handlers={Exception: handle_exception},
        request_class=PeerloopRequest,
        before_request=check_media_type,
        openapi_config=OpenAPIConfig(
            title="Peerloop",
            version="0.1.0",
            description="Peer-review cycles for school partnerships.",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="An API token from `peerloop tokens create`, POST /tokens "
                        "or POST /auth/login.",
                    )
                }
            ),
        ),
        plugins=[_StrictStructs()],
        logging_config=None,
        state=None,
        on_shutdown=[container.close],
        debug=False,
    )
    app.state["workspace"] = workspace
    app.state["metrics"] = metrics
    app.state["public_url"] = container.settings.base_url  # for links made here (calendar feeds)
    app.state["secure_cookies"] = container.settings.secure_cookies
    app.state["max_upload_bytes"] = container.settings.max_upload_bytes
    app.state["scheduler"] = lambda: getattr(container, "scheduler", None)  # read when asked
    app.asgi_handler = RequestLog(_DefaultHeaders(_CorrectAllow(app)), metrics)
    return app


def _static() -> Router:
    """The pages' own assets (no CDN: Peerloop works offline), cached for a day."""
    return create_static_files_router(
        path="/static",
        directories=[WEB / "static"],
        cache_control=CacheControlHeader(max_age=86400, public=True),
        include_in_schema=False,
    )


class _StrictStructs(StructSchemaPlugin):
    """Request structs refuse unknown fields; say so in their schemas
    (`additionalProperties: false`), which Litestar's own struct plugin leaves out."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


_DEFAULT_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
# JSON and files are never documents to run scripts in or frame; the pages set their own policy.
_NO_CONTENT_POLICY = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_NO_STORE = (b"cache-control", b"no-store")
_SESSION = SESSION_COOKIE.encode()


class _DefaultHeaders:
    """Security headers on every answer that does not set its own: no sniffing, no framing,
    no referrer, no active content (a page, HTML, sets its own policy), and nothing asked
    for with credentials (a bearer token or a session cookie) kept by a cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        credentials = any(
            k == b"authorization" or (k == b"cookie" and _SESSION in v) for k, v in scope["headers"]
        )

        async def send_with_defaults(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower(): v for k, v in headers}
                wanted = list(_DEFAULT_HEADERS)
                if not present.get(b"content-type", b"").startswith(b"text/html"):
                    wanted.append(_NO_CONTENT_POLICY)
                if credentials:
                    wanted.append(_NO_STORE)
                headers += [(k, v) for k, v in wanted if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_defaults)


class _CorrectAllow:
    """Answers OPTIONS with every method of the path.

    Litestar makes a path's OPTIONS handler when the path's first handler is registered and it
    keeps that first list (here GET /cycles alone, without POST) when more are added.
    """

    def __init__(self, app: Litestar) -> None:
        self.inner = app.asgi_handler
        self.allowed = {
            re.sub(r":\w+}", "}", route.path): ", ".join(sorted(route.methods))
            for route in app.routes
            if isinstance(route, HTTPRoute)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") != "OPTIONS":
            await self.inner(scope, receive, send)
            return

        async def send_allow(message: Message) -> None:
            allowed = self.allowed.get(str(scope.get("path_template", "")))
            if message["type"] == "http.response.start" and allowed:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message["headers"] = [*headers, (b"allow", allowed.encode())]
            await send(message)

        await self.inner(scope, receive, send_allow)
