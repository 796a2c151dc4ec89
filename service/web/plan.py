"""The agreed actions and their follow-up in the browser (with a RAG view), and school-to-school
support with its dated activity log.

Like every page, these parse, call one use case and render; who may record what, and at which
stage, is the use cases' decision (the forms shown follow `engine.records.collectable`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect, Template

from engine.access import Principal
from engine.cycle import ACTION_STATUSES, Action, Finding
from engine.deadlines import DUE_SOON
from engine.directory import School
from engine.errors import (
    CycleClosed,
    InvalidRecord,
    NotCollectedHere,
    NotFound,
    RoleNotAllowed,
    StaleCycle,
    UnknownRecord,
)
from engine.records import collectable
from service.routes.common import PathId
from service.usecases.base import CycleContext
from service.usecases.dashboard_reports import PartnerSuggestions
from service.usecases.messages import (
    AddSupportLink,
    LogSupportActivity,
    PlanPage,
    SaveAction,
    SetActionStatus,
)
from service.usecases.tasks import PageOfPlan, action_flag
from service.web.pages import Form, _check_csrf, _chrome, _page, _viewer, _ws
from service.web.view import refusal, role_title

__all__ = ["STATUS_WORDS", "Rag", "plan_routes", "rag"]

STATUS_WORDS = {s: s.replace("_", " ").capitalize() for s in ACTION_STATUSES}
"""Not started, In progress, Met, Partially met, Not met."""

_KIND_WORDS = {"www": "What went well", "ebi": "Even better if"}
_TO_DEVELOP = ("area_to_develop", "area_for_improvement", "ebi")
"""Finding kinds that name what the host needs support with."""

Errors = list[tuple[str | None, str]]
"""(the id of the field at fault, or None; what to do, in words)."""


# -- what the pages show ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rag:
    """An action's RAG rating ("red", "amber", "green", or "" while open and not yet due)."""

    colour: str
    words: str

    @property
    def name(self) -> str:
        return self.colour.capitalize() if self.colour else "Open"

    @property
    def label(self) -> str:
        return f"{self.name}: {self.words.lower()}"

    @property
    def tag(self) -> str:
        return {"red": "tag-red", "amber": "tag-amber", "green": "tag-green"}.get(
            self.colour, "tag-grey"
        )


RAG_ORDER = ("red", "amber", "green", "")


def rag(action: Action, flag: str | None) -> Rag:
    """Green when met; amber when partially met, or open and due soon; red when not met, or
    open and overdue; no colour while open and not due yet (too early to rate)."""
    if action.status == "met":
        return Rag("green", "Met")
    if action.status == "partially_met":
        return Rag("amber", "Partially met")
    if action.status == "not_met":
        return Rag("red", "Not met")
    doing = STATUS_WORDS.get(action.status or "", "No update yet")
    if flag == "overdue":
        return Rag("red", f"Overdue, {doing.lower()}")
    if flag == "due soon":
        return Rag("amber", f"Due soon, {doing.lower()}")
    return Rag("", doing)


def _kind(kind: str) -> str:
    return _KIND_WORDS.get(kind, kind.replace("_", " ").capitalize())


@dataclass(frozen=True, slots=True)
class Row:
    action: Action
    owner: str
    flag: str | None
    rag: Rag
    finding: Finding | None
    """The finding it answers, when the viewer may read findings."""


@dataclass(frozen=True, slots=True)
class Plan:
    """A cycle's plan as one viewer may see it, with the choices its forms offer."""

    ctx: CycleContext
    school: str
    names: dict[str, str]
    rows: list[Row]
    owners: list[tuple[str, list[tuple[str, str]]]]
    """Groups of (person id, label) an owner is chosen from."""
    findings: list[Finding] | None
    """The cycle's findings; None when the viewer may not read them."""
    may: dict[str, bool]
    """What the viewer may record now, by kind (actions, action_status, support)."""
    schools: dict[str, tuple[str, str | None]]
    """Every school by id: its name and network (for choosing a partner school)."""
    networks: dict[str, str]
    suggestions: PartnerSuggestions
    """Partner schools strong where the review found areas to develop."""

    @property
    def counts(self) -> list[tuple[Rag, int]]:
        """How many actions have each rating, red first."""
        seen = Counter(r.rag.colour for r in self.rows)
        return [(Rag(c, ""), seen[c]) for c in RAG_ORDER]

    def name(self, who: str | None) -> str:
        if not who:
            return ""
        return self.names.get(who) or self.names.get(who.lower()) or who

    def finding_label(self, f: Finding) -> str:
        return f"{_kind(f.kind)}: {f.text}"

    def row(self, action_id: str) -> Row:
        for r in self.rows:
            if r.action.id == action_id:
                return r
        raise NotFound("action", action_id)


def _plan(request: Request[Any, Any, Any], principal: Principal, cycle_id: str) -> Plan:
    found: PageOfPlan = _ws(request).handle(PlanPage(cycle_id), principal)
    ctx, page = found.context, found.page
    cycle, template = ctx.cycle, ctx.template
    names = page.names
    owners = [
        (
            f"{page.school} (the host school)",
            [(pid, name) for pid, name, part in found.owners if part == "host"],
        ),
        (
            "The review team and the improvement champion",
            [
                (pid, f"{name}, {role_title(template, part)}")
                for pid, name, part in found.owners
                if part != "host"
            ],
        ),
    ]
    by_id = {f.id: f for f in found.findings or ()}
    rows = []
    for a in cycle.actions.values():
        flag = action_flag(a, found.today)
        owner = names.get(a.owner) or names.get(a.owner.lower()) or a.owner
        rows.append(Row(a, owner, flag, rag(a, flag), by_id.get(a.finding_id or "")))
    rows.sort(key=lambda r: (r.action.due or date.max, r.action.title.lower()))
    may = collectable(template, cycle, ctx.access.actor)
    groups = [g for g in owners if g[1]]
    return Plan(
        ctx,
        page.school,
        names,
        rows,
        groups,
        found.findings,
        may,
        found.schools,
        found.networks,
        found.suggestions,
    )


def _clean(data: dict[str, str], key: str) -> str:
    """A form field's text; NUL characters (which no person types) are dropped."""
    return (data.get(key) or "").replace("\x00", "").strip()


_DAY = re.compile(r"[0-9]{1,2}")
_YEAR = re.compile(r"[0-9]{4}")


def _due(data: dict[str, str]) -> tuple[date | None, str | None]:
    """The due date from its day, month and year boxes (all empty: no date)."""
    parts = {p: _clean(data, f"due_{p}") for p in ("day", "month", "year")}
    if not any(parts.values()):
        return None, None
    missing = [p for p, v in parts.items() if not v]
    if missing:
        return None, f"The due date must include a {' and a '.join(missing)}"
    day, month, year = parts["day"], parts["month"], parts["year"]
    if not (_DAY.fullmatch(day) and _DAY.fullmatch(month)):
        return None, "The due date must be a real date, for example 27 3 2027"
    if not _YEAR.fullmatch(year):
        return None, "The year of the due date must have 4 numbers, for example 2027"
    try:
        return date(int(year), int(month), int(day)), None
    except ValueError:
        return None, "The due date must be a real date, for example 27 3 2027"


_FIELDS = {
    # record field -> (form field id, its name in a message, the message when it is empty)
    "title": ("title", "The action", "Enter what the action is"),
    "due": ("due-day", "The due date", ""),
    "success_criteria": ("success_criteria", "The success criteria", ""),
    "note": ("note", "The note", ""),
    "area": ("area", "The area of support", "Enter what the support is for"),
    "activity": ("activity", "What was done", "Enter what was done"),
}
_CHOICES = {
    # record field -> (form field id, the message: it is chosen from a list)
    "owner": ("owner", "Choose the owner from the list: that person is not known to Peerloop"),
    "finding_id": ("finding_id", "Choose a finding of this review from the list"),
    "status": ("status", "Choose how the action is going"),
    "supporting_school_id": ("school", "Choose another school: {detail}"),
}


def _field_error(exc: InvalidRecord, activity_field: str = "activity") -> tuple[str, str]:
    """The form field a refused record points at, and what to do about it, in words."""
    if exc.field in _CHOICES:
        field, message = _CHOICES[exc.field]
        return field, message.format(detail=exc.detail)
    field, name, empty = _FIELDS.get(exc.field, (exc.field, exc.field.capitalize(), ""))
    if exc.field == "activity":
        field = activity_field
    if exc.detail == "must not be empty" and empty:
        return field, empty
    return field, f"{name} {exc.detail}"


_REFUSED = (NotCollectedHere, RoleNotAllowed, CycleClosed, StaleCycle)
"""The stage, a role or a change made meanwhile (what was typed is `InvalidRecord`'s)."""


# -- the action plan --------------------------------------------------------------------------


def _problems(plan: Plan, errors: Errors | None, refused: Exception | None) -> Errors:
    told = refusal(plan.ctx.template, plan.ctx.cycle, refused) if refused else None
    return [*(errors or []), *([(None, told)] if told else [])]


def _plan_page(
    request: Request[Any, Any, Any],
    cycle_id: str,
    status: int = 200,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    refused: Exception | None = None,
) -> Template:
    principal, secret = _viewer(request)
    plan = _plan(request, principal, cycle_id)
    saved = request.query_params.get("saved")
    saved_action = request.query_params.get("action")
    return _page(
        request,
        "actions.html",
        status=status,
        plan=plan,
        errors=_problems(plan, errors, refused),
        form=form or {},
        saved=saved,
        saved_row=next((r for r in plan.rows if r.action.id == saved_action), None),
        statuses=STATUS_WORDS,
        due_soon_days=DUE_SOON.days,
        **_chrome(request, principal, secret),
    )


@get("/app/cycles/{cycle_id:str}/actions", include_in_schema=False, sync_to_thread=True)
def action_plan(request: Request[Any, Any, Any], cycle_id: PathId) -> Template:
    return _plan_page(request, cycle_id)


def _action_page(
    request: Request[Any, Any, Any],
    cycle_id: str,
    action_id: str,
    status: int = 200,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    refused: Exception | None = None,
) -> Template:
    principal, secret = _viewer(request)
    plan = _plan(request, principal, cycle_id)
    return _page(
        request,
        "action_edit.html",
        status=status,
        plan=plan,
        row=plan.row(action_id),
        errors=_problems(plan, errors, refused),
        form=form or {},
        statuses=STATUS_WORDS,
        due_soon_days=DUE_SOON.days,
        **_chrome(request, principal, secret),
    )


@get(
    "/app/cycles/{cycle_id:str}/actions/{action_id:str}",
    include_in_schema=False,
    sync_to_thread=True,
)
def action_page(request: Request[Any, Any, Any], cycle_id: PathId, action_id: PathId) -> Template:
    return _action_page(request, cycle_id, action_id)


Again = Callable[[int, Errors, Exception | None], Template]
"""The page a form came from, shown again: status, field errors, a stage or role refusal."""


def _attempt(
    request: Request[Any, Any, Any],
    principal: Principal,
    message: object,
    again: Again,
    activity_field: str = "activity",
) -> tuple[Any, Template | None]:
    """Run one command: its result, or the form's page again saying what to put right."""
    try:
        return _ws(request).handle(message, principal), None
    except InvalidRecord as exc:
        return None, again(400, [_field_error(exc, activity_field)], None)
    except UnknownRecord as exc:
        raise NotFound(exc.kind, exc.record_id) from exc
    except _REFUSED as exc:
        return None, again(409, [], exc)


def _save_action(
    request: Request[Any, Any, Any], cycle_id: str, action_id: str | None, data: dict[str, str]
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    form = {k: _clean(data, k) for k in data if k != "csrf"}

    def again(status: int, errors: Errors, refused: Exception | None) -> Template:
        if action_id is None:
            return _plan_page(request, cycle_id, status, errors, form, refused)
        return _action_page(request, cycle_id, action_id, status, errors, form, refused)

    due, problem = _due(data)
    if problem:
        return again(400, [("due-day", problem)], None)
    message = SaveAction(
        cycle_id,
        form.get("title", ""),
        form.get("owner", ""),
        due,
        form.get("success_criteria", ""),
        action_id,
        finding_id=form.get("finding_id") or None,
        owner_is_person=True,
    )
    done, refused = _attempt(request, principal, message, again)
    if refused is not None:
        return refused
    how = "changed" if action_id else "added"
    return Redirect(
        path=f"/app/cycles/{quote(cycle_id)}/actions?saved={how}&action={quote(done.record_id)}",
        status_code=303,
    )


@post(
    "/app/cycles/{cycle_id:str}/actions",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def add_action(request: Request[Any, Any, Any], cycle_id: PathId, data: Form) -> Response[Any]:
    return _save_action(request, cycle_id, None, data)


@post(
    "/app/cycles/{cycle_id:str}/actions/{action_id:str}",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def change_action(
    request: Request[Any, Any, Any], cycle_id: PathId, action_id: PathId, data: Form
) -> Response[Any]:
    return _save_action(request, cycle_id, action_id, data)


@post(
    "/app/cycles/{cycle_id:str}/actions/{action_id:str}/status",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def record_status(
    request: Request[Any, Any, Any], cycle_id: PathId, action_id: PathId, data: Form
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    form = {k: _clean(data, k) for k in ("status", "note")}
    message = SetActionStatus(cycle_id, action_id, form["status"], form["note"])
    _, refused = _attempt(
        request,
        principal,
        message,
        lambda status, errors, exc: _action_page(
            request, cycle_id, action_id, status, errors, form, exc
        ),
    )
    if refused is not None:
        return refused
    return Redirect(
        path=f"/app/cycles/{quote(cycle_id)}/actions?saved=status&action={quote(action_id)}",
        status_code=303,
    )


# -- school-to-school support -----------------------------------------------------------------


def _support_page(
    request: Request[Any, Any, Any],
    cycle_id: str,
    status: int = 200,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    refused: Exception | None = None,
) -> Template:
    principal, secret = _viewer(request)
    plan = _plan(request, principal, cycle_id)
    host = plan.ctx.cycle.host_school_id
    schools = [
        School(sid, "", name, "", net) for sid, (name, net) in plan.schools.items() if sid != host
    ]
    networks = plan.networks
    home = plan.ctx.cycle.network_id
    groups: dict[str, list[tuple[str, str]]] = {}
    # The host's own network first: partner schools are usually found there.
    for s in sorted(schools, key=lambda s: (s.network_id != home, s.network_id or "", s.name)):
        groups.setdefault(networks.get(s.network_id or "", "No network"), []).append((s.id, s.name))
    school_names = {s.id: s.name for s in schools}
    areas = [f.text for f in plan.findings or () if f.kind in _TO_DEVELOP]
    # Schools strong in the question of an area to develop come first, and each area says
    # which they are: the support map's suggestions, from the reports the viewer reads.
    strong_in = {
        text: list(dict.fromkeys(s.partner.school_id for s in plan.suggestions.for_area(text)))
        for text in dict.fromkeys(areas)
    }
    suggested = list(dict.fromkeys(sid for sids in strong_in.values() for sid in sids))
    if suggested:
        groups = {
            net: [(sid, name) for sid, name in members if sid not in suggested]
            for net, members in groups.items()
        }
        groups = {
            "Suggested: strong where the review found areas to develop": [
                (sid, school_names.get(sid, sid)) for sid in suggested
            ],
            **{net: members for net, members in groups.items() if members},
        }
    return _page(
        request,
        "support.html",
        status=status,
        plan=plan,
        links=list(plan.ctx.cycle.support.values()),
        school_names=school_names,
        school_groups=list(groups.items()),
        areas=list(dict.fromkeys(areas)),
        strong_in={
            t: [school_names.get(sid, sid) for sid in sids] for t, sids in strong_in.items()
        },
        suggested_from=plan.suggestions.reports if suggested else 0,
        errors=_problems(plan, errors, refused),
        form=form or {},
        saved=request.query_params.get("saved"),
        **_chrome(request, principal, secret),
    )


@get("/app/cycles/{cycle_id:str}/support", include_in_schema=False, sync_to_thread=True)
def support(request: Request[Any, Any, Any], cycle_id: PathId) -> Template:
    return _support_page(request, cycle_id)


@post(
    "/app/cycles/{cycle_id:str}/support",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def add_link(request: Request[Any, Any, Any], cycle_id: PathId, data: Form) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    form = {k: _clean(data, k) for k in ("school", "area_choice", "area")}

    def again(status: int, errors: Errors, refused: Exception | None) -> Template:
        return _support_page(request, cycle_id, status, errors, form, refused)

    if not form["school"]:
        return again(400, [("school", "Choose the partner school")], None)
    choice = form["area_choice"]
    area = choice if choice and choice != "other" else form["area"]
    try:
        _, refused = _attempt(
            request, principal, AddSupportLink(cycle_id, form["school"], area), again
        )
    except NotFound as exc:
        if exc.kind != "school":
            raise
        return again(400, [("school", "Choose the partner school from the list")], None)
    if refused is not None:
        return refused
    return Redirect(path=f"/app/cycles/{quote(cycle_id)}/support?saved=link", status_code=303)


@post(
    "/app/cycles/{cycle_id:str}/support/{link_id:str}/activities",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def log_activity(
    request: Request[Any, Any, Any], cycle_id: PathId, link_id: PathId, data: Form
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    field = f"activity-{link_id}"
    text = _clean(data, "activity")
    _, refused = _attempt(
        request,
        principal,
        LogSupportActivity(cycle_id, link_id, text),
        lambda status, errors, exc: _support_page(
            request, cycle_id, status, errors, {field: text}, exc
        ),
        field,
    )
    if refused is not None:
        return refused
    return Redirect(
        path=f"/app/cycles/{quote(cycle_id)}/support?saved=activity#link-{quote(link_id)}",
        status_code=303,
    )


def plan_routes() -> list[HTTPRouteHandler]:
    return [
        action_plan,
        add_action,
        action_page,
        change_action,
        record_status,
        support,
        add_link,
        log_activity,
    ]
