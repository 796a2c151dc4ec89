"""Templates: validate or upload a version (YAML or JSON), list, read, publish, diagram."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.enums import MediaType
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromQuery, JSONBody, RawBody

from engine.access import Principal
from engine.diagram import mermaid
from engine.errors import InvalidTemplate, NotFound
from engine.parse import MAX_TEMPLATE_BYTES
from engine.template import Template
from service.errors import MediaTypeRefused, TemplateRejected
from service.presenters import dry_run_view, migration_view, template_summary, template_view
from service.routes.common import (
    READ,
    WRITE,
    Caller,
    PathId,
    PathVersion,
    QueryId,
    Ws,
    problems,
)
from service.schemas import (
    DryRunRequest,
    DryRunView,
    FieldError,
    MigrationPreviewRequest,
    MigrationRequest,
    MigrationView,
    TemplateSummary,
    TemplateUploaded,
    TemplateView,
)
from service.usecases import UseCases
from service.usecases.messages import (
    DeleteTemplateDraft,
    DryRunTemplate,
    GetTemplate,
    ListTemplates,
    MigrateCycles,
    PreviewMigration,
    PublishTemplate,
    RetireTemplate,
    UploadTemplate,
    ValidateTemplate,
)

__all__ = ["ROUTES"]

TAGS = ["templates"]
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
JSON_TYPES = ("application/json",)


@dataclass
class _TemplateBody(Operation):
    """The operation of a route that reads a template document as its raw body."""

    def __post_init__(self) -> None:
        text = Schema(type=OpenAPIType.STRING, max_length=MAX_TEMPLATE_BYTES)
        self.request_body = RequestBody(
            required=True,
            description="A template document (see workflows/README.md), as YAML or JSON.",
            content={
                mt: OpenAPIMediaType(schema=text) for mt in (*YAML_TYPES[:1], "application/json")
            },
        )


def _document_name(request: Request[Any, Any, Any]) -> str:
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype in JSON_TYPES or ctype.endswith("+json"):
        return "template.json"
    if ctype in YAML_TYPES or ctype in ("", "text/plain"):
        return "template.yaml"
    raise MediaTypeRefused(
        f"a template is sent as YAML ({', '.join(YAML_TYPES)}) or JSON, not {ctype!r}"
    )


def _check(
    request: Request[Any, Any, Any], body: bytes, ws: UseCases, principal: Principal
) -> tuple[str, Template]:
    name = _document_name(request)
    try:
        return name, ws.handle(ValidateTemplate(body, name), principal)
    except InvalidTemplate as exc:
        errors = [
            FieldError(location=i.location, message=i.message, code=i.code, line=line)
            for i, line in zip(exc.issues, exc.lines, strict=True)
        ]
        raise TemplateRejected(f"the template has {len(errors)} issue(s)", errors) from exc


@post(
    "/templates/validation",
    tags=TAGS,
    summary="Validate a template document without storing it",
    description="Answers 200 when it is valid; 422 with every issue, each with its location "
    "and line, when it is not.",
    status_code=200,
    responses=problems(*WRITE),
    operation_class=_TemplateBody,
    request_max_body_size=MAX_TEMPLATE_BYTES,
    sync_to_thread=True,
)
def validate_template(
    request: Request[Any, Any, Any], body: RawBody, principal: Caller, ws: Ws
) -> dict[str, Any]:
    _, t = _check(request, body, ws, principal)
    return {"valid": True, "template_id": t.id, "version": t.version, "issues": []}


@post(
    "/templates",
    tags=TAGS,
    summary="Upload a template version (admin), as a draft or published at once",
    description="The whole document is validated first: 422 lists every issue with its "
    "location and line, and nothing is stored. A published version never changes (409).",
    responses=problems(*WRITE),
    operation_class=_TemplateBody,
    request_max_body_size=MAX_TEMPLATE_BYTES,
    sync_to_thread=True,
)
def upload_template(
    request: Request[Any, Any, Any],
    body: RawBody,
    principal: Caller,
    ws: Ws,
    publish: FromQuery[bool] = False,
) -> Response[TemplateUploaded]:
    name, _ = _check(request, body, ws, principal)
    stored = ws.handle(UploadTemplate(body, name, publish), principal)
    s = template_summary(stored)
    view = TemplateUploaded(
        template_id=s.template_id,
        version=s.version,
        title=s.title,
        status=s.status,
        source_format=s.source_format,
        created_at=s.created_at,
        published_at=s.published_at,
        valid=True,
        issues=[],
    )
    return Response(
        view,
        status_code=201,
        headers={"Location": f"/templates/{stored.template_id}/versions/{stored.version}"},
    )


@get(
    "/templates",
    tags=TAGS,
    summary="Every template version",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_templates(principal: Caller, ws: Ws) -> list[TemplateSummary]:
    return [template_summary(t) for t in ws.handle(ListTemplates(), principal)]


@get(
    "/templates/{template_id:str}",
    tags=TAGS,
    summary="The versions of one template",
    responses=problems(*READ),
    sync_to_thread=True,
)
def template_versions(template_id: PathId, principal: Caller, ws: Ws) -> list[TemplateSummary]:
    return [template_summary(t) for t in ws.handle(ListTemplates(template_id), principal)]


@get(
    "/templates/{template_id:str}/versions/{version:int}",
    tags=TAGS,
    summary="A template version as the engine reads it",
    responses=problems(*READ),
    sync_to_thread=True,
)
def get_template(
    template_id: PathId, version: PathVersion, principal: Caller, ws: Ws
) -> TemplateView:
    stored, template = ws.handle(GetTemplate(template_id, version), principal)
    return template_view(stored, template)


@post(
    "/templates/{template_id:str}/versions/{version:int}/publish",
    tags=TAGS,
    summary="Publish a draft version (admin); from then on it never changes",
    status_code=200,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def publish_template(
    template_id: PathId, version: PathVersion, principal: Caller, ws: Ws
) -> TemplateSummary:
    return template_summary(ws.handle(PublishTemplate(template_id, version), principal))


@post(
    "/templates/{template_id:str}/versions/{version:int}/retirement",
    tags=TAGS,
    summary="Retire a published version (admin): no new cycle starts on it",
    description="The cycles running on it go on under it. Retiring again changes nothing; a "
    "draft cannot be retired (409: delete it).",
    status_code=200,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def retire_template(
    template_id: PathId, version: PathVersion, principal: Caller, ws: Ws
) -> TemplateSummary:
    return template_summary(ws.handle(RetireTemplate(template_id, version), principal))


@delete(
    "/templates/{template_id:str}/versions/{version:int}",
    tags=TAGS,
    summary="Delete a draft version (admin)",
    description="A published version is never deleted (409: retire it).",
    status_code=204,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def delete_template_draft(
    template_id: PathId, version: PathVersion, principal: Caller, ws: Ws
) -> None:
    ws.handle(DeleteTemplateDraft(template_id, version), principal)


@post(
    "/templates/{template_id:str}/versions/{version:int}/dry-run",
    tags=TAGS,
    summary="A dry run of the version on a network's school calendar",
    description="From a start date: when each stage would be due, and when its reminders, "
    "notices, escalations and automatic moves would come, each in words, assuming every "
    "stage is left when it is due. Nothing is stored. 422 names a cycle date the template "
    "does not declare.",
    status_code=200,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def dry_run(
    template_id: PathId,
    version: PathVersion,
    data: JSONBody[DryRunRequest],
    principal: Caller,
    ws: Ws,
) -> DryRunView:
    message = DryRunTemplate(template_id, version, data.start, data.network_id, data.dates)
    return dry_run_view(ws.handle(message, principal))


@post(
    "/templates/{template_id:str}/versions/{version:int}/migration-preview",
    tags=TAGS,
    summary="What moving running cycles to this version would do, one plan per cycle (admin)",
    description="For each cycle named (or, with none named, every running cycle on an older "
    "version): the stage it would be at, what it holds that this version has no place for "
    "(`blockers`: it cannot move as it is), the requirements of the moves out of that stage "
    "that this version adds (met now or not, and why) or drops, and the stage's deadlines "
    "added, moved or dropped; each plan also in words. `stages` maps a stage this version no "
    "longer has to the one a cycle goes to instead. Nothing is stored.",
    status_code=200,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def migration_preview(
    template_id: PathId,
    version: PathVersion,
    data: JSONBody[MigrationPreviewRequest],
    principal: Caller,
    ws: Ws,
) -> MigrationView:
    message = PreviewMigration(template_id, version, tuple(data.cycle_ids), dict(data.stages))
    return migration_view(ws.handle(message, principal))


@post(
    "/templates/{template_id:str}/versions/{version:int}/migrations",
    tags=TAGS,
    summary="Move running cycles to this version, all or none (admin)",
    description="Carries out the plans the preview gives: each cycle moves to this version "
    "(and the mapped stage), with who moved it, from which version and the `reason` in its "
    "history; its stage's pending deadlines are replaced by this version's, counted from when "
    "it entered the stage (a reminder already past is not sent). If any cycle cannot move "
    "(409, naming each and why), none is moved.",
    status_code=200,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def migrate(
    template_id: PathId,
    version: PathVersion,
    data: JSONBody[MigrationRequest],
    principal: Caller,
    ws: Ws,
) -> MigrationView:
    message = MigrateCycles(
        template_id, version, data.reason, tuple(data.cycle_ids), dict(data.stages)
    )
    return migration_view(ws.handle(message, principal))


@get(
    "/templates/{template_id:str}/versions/{version:int}/diagram",
    tags=TAGS,
    summary="A Mermaid state diagram of the version, optionally highlighting a stage",
    media_type=MediaType.TEXT,
    responses=problems(*READ),
    sync_to_thread=True,
)
def template_diagram(
    template_id: PathId,
    version: PathVersion,
    principal: Caller,
    ws: Ws,
    stage: QueryId = None,
) -> str:
    _, template = ws.handle(GetTemplate(template_id, version), principal)
    if stage is not None and not template.has_stage(stage):
        raise NotFound("stage", stage)
    return mermaid(template, stage)


ROUTES = [
    validate_template,
    upload_template,
    list_templates,
    template_versions,
    get_template,
    publish_template,
    retire_template,
    delete_template_draft,
    dry_run,
    migration_preview,
    migrate,
    template_diagram,
]
