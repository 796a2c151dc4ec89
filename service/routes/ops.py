"""Operations: health, Prometheus metrics, and the offline API reference page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import structlog
from litestar import Request, Response, get
from litestar.enums import MediaType
from prometheus_client import CONTENT_TYPE_LATEST

from service.metrics import Metrics
from service.routes.common import Ws
from service.schemas import HealthView

__all__ = ["ROUTES", "render_reference"]

TAGS = ["operations"]
_log = structlog.get_logger("peerloop.health")
_pages = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parents[1] / "web"),
    autoescape=True,
)


@get(
    "/health",
    tags=TAGS,
    summary="Whether the database answers and the deadline scheduler runs",
    description="200 when the database answers, 503 when it does not. `scheduler` is "
    "`running`, or `not running` when this process runs no scheduler.",
    responses={},
    sync_to_thread=True,
)
def health(request: Request[Any, Any, Any], ws: Ws) -> Response[HealthView]:
    database = "ok"
    try:
        ws.healthy()
    except Exception as exc:  # the point is to report it, not to fail
        _log.warning("health.database", error=type(exc).__name__)
        database = "unavailable"
    scheduler_of = request.app.state.get("scheduler")
    scheduler = scheduler_of() if callable(scheduler_of) else None
    running = scheduler is not None and bool(getattr(scheduler, "running", False))
    view = HealthView(
        status="ok" if database == "ok" else "unavailable",
        database=database,
        scheduler="running" if running else "not running",
    )
    return Response(view, status_code=200 if database == "ok" else 503)


@get(
    "/metrics",
    tags=TAGS,
    summary="Prometheus metrics (request counts and latency, transitions)",
    media_type=CONTENT_TYPE_LATEST,
)
async def metrics(request: Request[Any, Any, Any]) -> bytes:
    m: Metrics = request.app.state["metrics"]
    return m.render()


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "oneOf" in schema or "anyOf" in schema:
        return " | ".join(_type(s) for s in schema.get("oneOf", schema.get("anyOf", [])))
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    return str(kind)


def render_reference(doc: dict[str, Any], schema_url: str) -> str:
    """The API reference as one self-contained HTML page (no scripts, no external assets)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            body = op.get("requestBody", {}).get("content", {})
            entry = {
                "id": op.get("operationId", f"{method}-{path}"),
                "method": method,
                "path": path,
                "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "parameters": [
                    {**p, "type": _type(p.get("schema", {}))} for p in op.get("parameters", [])
                ],
                "body": [(mt, _type(c.get("schema", {}))) for mt, c in body.items()],
                "responses": [
                    (code, r.get("description", "")) for code, r in op.get("responses", {}).items()
                ],
            }
            groups.setdefault((op.get("tags") or ["other"])[0], []).append(entry)
    schemas = [
        (name, [(f, _type(s)) for f, s in spec.get("properties", {}).items()])
        for name, spec in sorted(doc.get("components", {}).get("schemas", {}).items())
    ]
    return _pages.get_template("reference.html").render(
        info=doc.get("info", {}),
        openapi=doc.get("openapi", ""),
        schema_url=schema_url,
        groups=sorted(groups.items()),
        schemas=schemas,
    )


@get(
    "/reference",
    tags=TAGS,
    summary="The API reference, readable offline",
    media_type=MediaType.HTML,
    include_in_schema=False,
)
async def reference(request: Request[Any, Any, Any]) -> str:
    page: str | None = request.app.state.get("reference_page")
    if page is None:
        page = render_reference(request.app.openapi_schema.to_schema(), "/schema/openapi.json")
        request.app.state["reference_page"] = page
    return page


ROUTES = [health, metrics, reference]
