"""The admin's pages: the template library (upload or paste a version, its issues shown at their
lines, the diagram, publish, a diff between two versions), people and their grants, and schools
with the GIAS import (a preview first, nothing stored until confirmed).

Like every page, these parse, call one use case and render; only an admin may use them, and
that is the use cases' decision (anyone else gets the 403 page).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from markupsafe import Markup

from engine.diagram import svg
from engine.directory import ScopeKind
from engine.errors import AccessDenied, Conflict, InvalidRecord, InvalidTemplate, NotFound

# As for the JSON API's validation route: the issues' lines come from reading the document
# again with the template-file adapter (the use case reports locations, not lines), and the
# size limit is the API's.
from engine.issues import Located
from engine.parse import MAX_TEMPLATE_BYTES
from service.routes.common import PathId, PathVersion
from service.usecases.admin import MAX_SCHOOLS_CSV_BYTES
from service.usecases.messages import (
    AddGrant,
    AddPerson,
    AdminPage,
    DeleteTemplateDraft,
    ImportSchools,
    ListTemplates,
    PeoplePage,
    PublishTemplate,
    RemoveGrant,
    RetireTemplate,
    SchoolsPage,
    TemplateLibraryPage,
    TemplateVersionsPage,
    UploadTemplate,
)
from service.web.pages import Form, _check_csrf, _chrome, _page, _viewer, _ws
from service.web.view import sentence, size_in_words

__all__ = ["admin_routes", "file_bytes", "read_form", "render_admin"]

Errors = list[tuple[str, str]]
"""(field id, message): the error summary links each message to its field."""

_BREAKS = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
"""The line breaks YAML counts, so that a line number from the validator is the line shown."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTEXT = 3
"""Unchanged lines shown around each change in a diff; longer unchanged runs are folded."""


def _lines(text: str) -> list[str]:
    lines = _BREAKS.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def render_admin(
    request: Request[Any, Any, Any],
    name: str,
    query: object,
    status: int = 200,
    **extra: Any,
) -> Template:
    """An admin page: its one query (refused to anyone but an admin), the chrome, `extra`."""
    principal, secret = _viewer(request)
    data = _ws(request).handle(query, principal)
    return _page(
        request,
        name,
        status=status,
        data=data,
        saved=request.query_params.get("saved"),
        **_chrome(request, principal, secret),
        **extra,
    )


@get("/app/admin", include_in_schema=False, sync_to_thread=True)
def admin_index(request: Request[Any, Any, Any]) -> Template:
    return render_admin(request, "admin_index.html", AdminPage())


# -- the template library ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceLine:
    number: int
    text: str
    problems: tuple[str, ...] = ()


def _source(text: str, issues: Sequence[Located] = ()) -> list[SourceLine]:
    at: dict[int, list[str]] = {}
    for i in issues:
        if i.line:
            at.setdefault(i.line, []).append(f"{i.issue.location}: {i.issue.message}")
    return [SourceLine(n, line, tuple(at.get(n, ()))) for n, line in enumerate(_lines(text), 1)]


def _issue_errors(issues: list[Located], lines: int) -> Errors:
    """Each issue once, in line order, linked to its line (or to the box when it has none, or
    one past the end, as a syntax error at the end of the text has)."""
    ordered = sorted(issues, key=lambda i: (i.line is None, i.line or 0))
    errors: Errors = []
    for i in ordered:
        what = f"{i.issue.location}: {i.issue.message}"
        if i.line is None:
            errors.append(("source", sentence(what)))
        else:
            anchor = f"line-{i.line}" if i.line <= lines else "source"
            errors.append((anchor, f"line {i.line}: {what}"))
    return errors


def _library(request: Request[Any, Any, Any], status: int = 200, **extra: Any) -> Template:
    return render_admin(
        request,
        "admin_templates.html",
        TemplateLibraryPage(),
        status,
        max_template=size_in_words(MAX_TEMPLATE_BYTES),
        **extra,
    )


@get("/app/admin/templates", include_in_schema=False, sync_to_thread=True)
def templates(request: Request[Any, Any, Any]) -> Template:
    return _library(request)


async def read_form(request: Request[Any, Any, Any]) -> Any:
    """The form, or None when the body is over the route's limit."""
    try:
        return await request.form()
    except HTTPException as exc:
        if exc.status_code == 413:
            return None
        raise


async def file_bytes(value: object, limit: int) -> tuple[str, bytes] | None:
    """A chosen file's name and at most `limit + 1` bytes of it (None: no file chosen)."""
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    return value.filename, await value.read(limit + 1)


def _upload_template(
    request: Request[Any, Any, Any], token: dict[str, str], text: str, name: str
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(token, secret)
    if not text.strip():
        errors = [("source", "Paste the template, or choose its file")]
        return _library(request, 400, errors=errors, source=text)
    try:
        stored = _ws(request).handle(UploadTemplate(text, name), principal)
    except InvalidTemplate as exc:
        issues = [Located(i, line) for i, line in zip(exc.issues, exc.lines, strict=True)]
        lines = _source(text, issues)
        errors = _issue_errors(issues, len(lines))
        return _library(request, 400, errors=errors, source=text, issues=issues, lines=lines)
    except Conflict as exc:
        return _library(request, 409, errors=[("source", sentence(exc.detail))], source=text)
    return Redirect(
        path=f"/app/admin/templates/{quote(stored.template_id)}?version={stored.version}"
        "&saved=uploaded",
        status_code=303,
    )


def upload_route() -> HTTPRouteHandler:
    """The upload: a file or the pasted text (a file, when chosen, is used), each at most the
    template size the API takes."""

    async def upload(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        if form is None:
            message = f"The template is larger than {size_in_words(MAX_TEMPLATE_BYTES)}"
            return await anyio.to_thread.run_sync(
                lambda: _library(request, 413, errors=[("source", message)], source="")
            )
        token = {"csrf": str(form.get("csrf") or "")}
        text = str(form.get("source") or "")
        name = "template.yaml"
        chosen = await file_bytes(form.get("file"), MAX_TEMPLATE_BYTES)
        if chosen is not None:
            name, raw = chosen
            if len(raw) > MAX_TEMPLATE_BYTES:
                limit = size_in_words(MAX_TEMPLATE_BYTES)
                errors = [("file", f"The file is larger than {limit}: templates are smaller")]
                return await anyio.to_thread.run_sync(
                    lambda: _library(request, 413, errors=errors, source=text)
                )
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                errors = [("file", "The file is not a text file: choose the .yaml or .json")]
                return await anyio.to_thread.run_sync(
                    lambda: _library(request, 400, errors=errors, source=text)
                )
        return await anyio.to_thread.run_sync(lambda: _upload_template(request, token, text, name))

    return post(
        "/app/admin/templates",
        include_in_schema=False,
        status_code=303,
        # Room for the pasted text and a file, both of the largest size, and the form's parts.
        request_max_body_size=2 * MAX_TEMPLATE_BYTES + 64 * 1024,
    )(upload)


@get("/app/admin/templates/{template_id:str}", include_in_schema=False, sync_to_thread=True)
def template_page(
    request: Request[Any, Any, Any], template_id: PathId, version: FromQuery[int | None] = None
) -> Template:
    principal, secret = _viewer(request)
    page = _ws(request).handle(TemplateVersionsPage(template_id, version), principal)
    versions = page.entry.versions
    # The engine escapes every template string it puts in the SVG.
    diagram = Markup(svg(page.template))  # noqa: S704
    return _page(
        request,
        "admin_template.html",
        page=page,
        diagram=diagram,
        lines=_source(page.shown.source),
        diff_from=versions[1].version if len(versions) > 1 else versions[0].version,
        diff_to=versions[0].version,
        saved=request.query_params.get("saved"),
        deleted=request.query_params.get("deleted"),
        moved=request.query_params.get("moved"),
        **_chrome(request, principal, secret),
    )


@dataclass(frozen=True, slots=True)
class DiffRow:
    change: str  # "added", "removed", "unchanged" or "folded" (unchanged lines not shown)
    old: int | None
    new: int | None
    text: str
    folded: int = 0


def diff_rows(old: str, new: str) -> list[DiffRow]:
    """The lines of `old` removed and of `new` added, with a few unchanged lines around each
    change; longer unchanged runs are one folded row."""
    a, b = _lines(old), _lines(new)
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            run = [DiffRow("unchanged", i1 + k + 1, j1 + k + 1, a[i1 + k]) for k in range(i2 - i1)]
            head = _CONTEXT if rows else 0
            tail = _CONTEXT if i2 < len(a) or j2 < len(b) else 0
            if len(run) > head + tail + 1:
                folded = DiffRow("folded", None, None, "", len(run) - head - tail)
                run = run[:head] + [folded] + (run[-tail:] if tail else [])
            rows.extend(run)
            continue
        rows.extend(DiffRow("removed", i + 1, None, a[i]) for i in range(i1, i2))
        rows.extend(DiffRow("added", None, j + 1, b[j]) for j in range(j1, j2))
    return rows


@get("/app/admin/templates/{template_id:str}/diff", include_in_schema=False, sync_to_thread=True)
def template_diff(
    request: Request[Any, Any, Any],
    template_id: PathId,
    from_version: FromQuery[str] = "",
    to_version: FromQuery[str] = "",
) -> Template:
    principal, secret = _viewer(request)
    page = _ws(request).handle(TemplateVersionsPage(template_id), principal)
    versions = {v.version: v for v in page.entry.versions}
    errors: Errors = []
    chosen: list[int] = []
    for field, text in (("from_version", from_version), ("to_version", to_version)):
        try:
            number = int(text)
        except ValueError:
            number = 0
        if number not in versions:
            errors.append((field, "Choose a version from the list"))
        chosen.append(number)
    if not errors and chosen[0] == chosen[1]:
        errors.append(("to_version", "Choose two different versions to compare"))
    rows = [] if errors else diff_rows(versions[chosen[0]].source, versions[chosen[1]].source)
    return _page(
        request,
        "admin_template_diff.html",
        status=400 if errors else 200,
        page=page,
        errors=errors,
        old=versions.get(chosen[0]),
        new=versions.get(chosen[1]),
        rows=rows,
        added=sum(1 for r in rows if r.change == "added"),
        removed=sum(1 for r in rows if r.change == "removed"),
        **_chrome(request, principal, secret),
    )


@post(
    "/app/admin/templates/{template_id:str}/versions/{version:int}/publish",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def publish(
    request: Request[Any, Any, Any], template_id: PathId, version: PathVersion, data: Form
) -> Redirect:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    _ws(request).handle(PublishTemplate(template_id, version), principal)
    return Redirect(
        path=f"/app/admin/templates/{quote(template_id)}?version={version}&saved=published",
        status_code=303,
    )


@post(
    "/app/admin/templates/{template_id:str}/versions/{version:int}/retire",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def retire(
    request: Request[Any, Any, Any], template_id: PathId, version: PathVersion, data: Form
) -> Redirect:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    _ws(request).handle(RetireTemplate(template_id, version), principal)
    return Redirect(
        path=f"/app/admin/templates/{quote(template_id)}?version={version}&saved=retired",
        status_code=303,
    )


@post(
    "/app/admin/templates/{template_id:str}/versions/{version:int}/delete",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def delete_draft(
    request: Request[Any, Any, Any], template_id: PathId, version: PathVersion, data: Form
) -> Redirect:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    ws = _ws(request)
    ws.handle(DeleteTemplateDraft(template_id, version), principal)
    try:
        ws.handle(ListTemplates(template_id), principal)
    except NotFound:  # its only version: the template is gone with it
        return Redirect(path="/app/admin/templates?saved=deleted", status_code=303)
    where = f"/app/admin/templates/{quote(template_id)}?saved=deleted&deleted={version}"
    return Redirect(path=where, status_code=303)


# -- people and grants ------------------------------------------------------------------------


def _people(request: Request[Any, Any, Any], status: int = 200, **extra: Any) -> Template:
    return render_admin(request, "admin_people.html", PeoplePage(), status, **extra)


@get("/app/admin/people", include_in_schema=False, sync_to_thread=True)
def people(request: Request[Any, Any, Any]) -> Template:
    return _people(request, who=request.query_params.get("who"))


@post("/app/admin/people", include_in_schema=False, sync_to_thread=True, status_code=303)
def add_person(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    name = (data.get("name") or "").strip()
    email = (data.get("email") or "").strip()
    school = (data.get("school") or "").strip() or None
    errors: Errors = []
    if not name:
        errors.append(("name", "Enter the person's full name"))
    elif len(name) > 200:
        errors.append(("name", "The name must be 200 characters or fewer"))
    if not email:
        errors.append(("email", "Enter their email address"))
    elif not _EMAIL.match(email) or len(email) > 320:
        errors.append(("email", "Enter an email address like name@school.example"))
    if not errors:
        try:
            person = _ws(request).handle(AddPerson(None, name, email, school), principal)
        except NotFound:
            errors.append(("school", "Choose a school from the list"))
        except Conflict as exc:
            errors.append(("email", sentence(exc.detail)))
        else:
            return Redirect(
                path=f"/app/admin/people?saved=person&who={quote(person.id)}", status_code=303
            )
    typed = {"name": name, "email": email, "school": school or ""}
    return _people(request, 400, errors=errors, typed=typed)


def _scope(value: str) -> tuple[ScopeKind, str | None] | None:
    """The form's "where" (`global`, `network:<id>`, `school:<id>`) as a grant's scope."""
    kind, _, scope_id = value.partition(":")
    if kind == "global" and not scope_id:
        return "global", None
    if kind == "network" and scope_id:
        return "network", scope_id
    if kind == "school" and scope_id:
        return "school", scope_id
    return None


@post("/app/admin/grants", include_in_schema=False, sync_to_thread=True, status_code=303)
def add_grant(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    person = (data.get("person") or "").strip()
    role = (data.get("role") or "").strip()
    scope = _scope((data.get("where") or "").strip())
    errors: Errors = []
    if not person:
        errors.append(("grant-person", "Choose who gets the role"))
    if not role:
        errors.append(("grant-role", "Choose the role"))
    if scope is None:
        errors.append(("grant-where", "Choose where the role holds"))
    typed = {"person": person, "role": role, "where": data.get("where") or ""}
    if errors or scope is None:
        return _people(request, 400, errors=errors, grant=typed)
    try:
        _ws(request).handle(AddGrant(person, role, scope[0], scope[1]), principal)
    except NotFound as exc:
        field = "grant-person" if exc.kind == "person" else "grant-where"
        return _people(request, 400, errors=[(field, "Choose one from the list")], grant=typed)
    except InvalidRecord as exc:
        return _people(request, 400, errors=[("grant-where", sentence(exc.detail))], grant=typed)
    except (AccessDenied, Conflict) as exc:
        # A rule refused this grant (for the admin, the page itself shows again; anyone else
        # is refused the page as well): the reason, in words.
        message = sentence(getattr(exc, "detail", str(exc)))
        return _people(request, 409, errors=[("grant-person", message)], grant=typed)
    return Redirect(path=f"/app/admin/people?saved=grant&who={quote(person)}", status_code=303)


@post(
    "/app/admin/grants/{grant_id:str}/remove",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def remove_grant(request: Request[Any, Any, Any], grant_id: PathId, data: Form) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    person = (data.get("person") or "").strip()
    try:
        _ws(request).handle(RemoveGrant(grant_id), principal)
    except (AccessDenied, Conflict) as exc:
        message = sentence(getattr(exc, "detail", str(exc)))
        return _people(request, 409, errors=[(f"person-{person}", message)])
    return Redirect(path=f"/app/admin/people?saved=removed&who={quote(person)}", status_code=303)


# -- schools and the GIAS import ---------------------------------------------------------------


def _schools(request: Request[Any, Any, Any], status: int = 200, **extra: Any) -> Template:
    return render_admin(
        request,
        "admin_schools.html",
        SchoolsPage(),
        status,
        imported=request.query_params.get("imported"),
        max_csv=size_in_words(MAX_SCHOOLS_CSV_BYTES),
        **extra,
    )


@get("/app/admin/schools", include_in_schema=False, sync_to_thread=True)
def schools(request: Request[Any, Any, Any]) -> Template:
    return _schools(request)


def _network(value: str) -> str | None:
    return None if value == "none" else value


def _csv_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")  # GIAS downloads are often Windows-1252


def _import(
    request: Request[Any, Any, Any],
    token: dict[str, str],
    text: str,
    network: str,
    confirm: bool,
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(token, secret)
    if not network:
        errors = [("network", "Choose the network these schools join, or No network")]
        return _schools(request, 400, errors=errors, network=network)
    try:
        found = _ws(request).handle(
            ImportSchools(text, _network(network), dry_run=not confirm), principal
        )
    except InvalidRecord as exc:
        field = "network" if exc.field == "network" else "file"
        return _schools(request, 400, errors=[(field, sentence(exc.detail))], network=network)
    except Conflict as exc:
        return _schools(request, 409, errors=[("file", sentence(exc.detail))], network=network)
    if confirm:
        return Redirect(path=f"/app/admin/schools?imported={len(found.to_add)}", status_code=303)
    if found.problems and not (found.to_add or found.known):
        # No row could be read: the file is refused, each row's problem listed by its line.
        errors = [("file", f"Line {p.line}: {p.message}") for p in found.problems]
        return _schools(request, 400, errors=errors, network=network)
    # The confirm form sends the file back as it was read: the preview is what is imported.
    return render_admin(
        request, "admin_schools_import.html", SchoolsPage(), found=found, csv=text, network=network
    )


def import_route() -> HTTPRouteHandler:
    async def import_schools(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        if form is None:
            message = f"The file is larger than {size_in_words(MAX_SCHOOLS_CSV_BYTES)}"
            return await anyio.to_thread.run_sync(
                lambda: _schools(request, 413, errors=[("file", message)])
            )
        token = {"csrf": str(form.get("csrf") or "")}
        network = str(form.get("network") or "")
        chosen = await file_bytes(form.get("file"), MAX_SCHOOLS_CSV_BYTES)
        if chosen is None:
            errors = [("file", "Choose the CSV file exported from GIAS")]
            return await anyio.to_thread.run_sync(
                lambda: _schools(request, 400, errors=errors, network=network)
            )
        return await anyio.to_thread.run_sync(
            lambda: _import(request, token, _csv_text(chosen[1]), network, confirm=False)
        )

    return post(
        "/app/admin/schools/import",
        include_in_schema=False,
        status_code=303,
        request_max_body_size=MAX_SCHOOLS_CSV_BYTES + 64 * 1024,
    )(import_schools)


@post(
    "/app/admin/schools/import/confirm",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
    # The preview sends the file back as form text, which URL-encoding can make three times
    # larger.
    request_max_body_size=3 * MAX_SCHOOLS_CSV_BYTES + 64 * 1024,
)
def confirm_import(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    return _import(request, data, data.get("csv") or "", data.get("network") or "", confirm=True)


def admin_routes() -> list[HTTPRouteHandler]:
    return [
        admin_index,
        templates,
        upload_route(),
        template_page,
        template_diff,
        publish,
        retire,
        delete_draft,
        people,
        add_person,
        add_grant,
        remove_grant,
        schools,
        import_route(),
        confirm_import,
    ]
