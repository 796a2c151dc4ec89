"""The review in the browser: peer judgements per question, findings, and the report with
who may read it.

Like every page, these parse, call the use cases and render. Who may read the report, what a
stage collects and from whom, and who may share the report are the use cases' decisions; the
pages only word their answers. To someone who may not read the report its pages do not exist
(a 404, as for an unknown cycle): that a review has a report is itself confidential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect, Template

from engine.access import Principal, may_share
from engine.cycle import Cycle, Finding, Judgement
from engine.directory import ContentRead
from engine.errors import (
    Conflict,
    CycleClosed,
    InvalidRecord,
    NotCollectedHere,
    NotFound,
    RoleNotAllowed,
)
from engine.records import collectable
from engine.template import Question
from engine.template import Template as Workflow
from service.routes.common import PathId
from service.usecases.base import CycleContext
from service.usecases.messages import (
    AddFinding,
    RecordJudgement,
    ReportPage,
    RevokeShare,
    ShareReport,
)
from service.usecases.tasks import PageOfCycle, PageOfReport
from service.web.pages import Form, _check_csrf, _chrome, _page, _viewer, _ws
from service.web.view import refusal, sentence

__all__ = ["kind_words", "review_routes"]

_KINDS: dict[str, tuple[str, str]] = {
    "strength": ("Strength", "Strengths"),
    "area_to_develop": ("Area to develop", "Areas to develop"),
    "area_for_improvement": ("Area for improvement", "Areas for improvement"),
    "www": ("What went well (WWW)", "What went well (WWW)"),
    "ebi": ("Even better if (EBI)", "Even better if (EBI)"),
    "area_of_excellence": ("Area of excellence", "Areas of excellence"),
}

_WHAT = {"peer_judgements": "peer judgements", "findings": "findings"}

_GRANTEE_KINDS: dict[str, Literal["person", "school", "network"]] = {
    "person": "person",
    "school": "school",
    "network": "network",
}


def kind_words(kind: str, plural: bool = False) -> str:
    """A finding kind as people say it: `area_to_develop` is "Area to develop"."""
    known = _KINDS.get(kind)
    if known is None:
        return kind.replace("_", " ").capitalize()
    return known[1] if plural else known[0]


@dataclass(frozen=True, slots=True)
class Row:
    """One framework question at the review: the host's view, the team's, and its state."""

    question: Question
    own: Judgement | None
    peer: Judgement | None
    graded: bool
    findings: int

    @property
    def status(self) -> str:
        if self.peer is None:
            return "Not started"
        return "In progress" if self.graded and self.peer.grade is None else "Completed"


def question_rows(template: Workflow, cycle: Cycle) -> list[tuple[str, list[Row]]]:
    counts: dict[str, int] = {}
    for f in cycle.findings.values():
        if f.question_id:
            counts[f.question_id] = counts.get(f.question_id, 0) + 1
    graded = bool(template.framework.scale)
    return [
        (
            section.title,
            [
                Row(
                    q,
                    cycle.judgements.get(("self", q.id, None)),
                    cycle.judgements.get(("peer", q.id, None)),
                    graded,
                    counts.get(q.id, 0),
                )
                for q in section.questions
            ],
        )
        for section in template.framework.sections
    ]


def findings_by_kind(
    template: Workflow, findings: list[Finding]
) -> list[tuple[str, list[Finding]]]:
    """The findings under each of the template's kinds, in its order, oldest first."""
    ordered = sorted(findings, key=lambda f: f.at)
    return [(k, [f for f in ordered if f.kind == k]) for k in template.finding_kinds]


def _read(
    request: Request[Any, Any, Any], principal: Principal, cycle_id: str
) -> tuple[CycleContext, PageOfCycle, PageOfReport]:
    """The cycle as a reader of its report sees it, and the names behind its ids (to anyone
    else there is no report: the use case answers NotFound)."""
    found: PageOfReport = _ws(request).handle(ReportPage(cycle_id), principal)
    return found.context, found.page, found


# -- the review: every question, the findings ---------------------------------------------


def _review_page(
    request: Request[Any, Any, Any],
    cycle_id: str,
    status: int = 200,
    **extra: Any,
) -> Template:
    principal, secret = _viewer(request)
    ctx, page, _ = _read(request, principal, cycle_id)
    t, c = ctx.template, ctx.cycle
    sections = question_rows(t, c)
    rows = [r for _, rs in sections for r in rs]
    refused = extra.pop("refused", None)
    return _page(
        request,
        "review.html",
        status=status,
        ctx=ctx,
        page=page,
        sections=sections,
        done=sum(1 for r in rows if r.status == "Completed"),
        total=len(rows),
        findings=findings_by_kind(t, list(c.findings.values())),
        can=collectable(t, c, ctx.access.actor),
        grades={p.id: p.label for p in t.framework.scale},
        kind_words=kind_words,
        saved=request.query_params.get("saved"),
        saved_question=t.question(request.query_params.get("question") or ""),
        refusal=refusal(t, c, *refused) if refused else None,
        **_chrome(request, principal, secret),
        **extra,
    )


@get("/app/cycles/{cycle_id:str}/review", include_in_schema=False, sync_to_thread=True)
def review(request: Request[Any, Any, Any], cycle_id: PathId) -> Template:
    return _review_page(request, cycle_id)


@post(
    "/app/cycles/{cycle_id:str}/findings",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def add_finding(request: Request[Any, Any, Any], cycle_id: PathId, data: Form) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    typed = {
        "kind": (data.get("kind") or "").strip(),
        "text": (data.get("text") or "").strip(),
        "question_id": (data.get("question_id") or "").strip(),
        "school_id": (data.get("school_id") or "").strip(),
    }
    try:
        _ws(request).handle(
            AddFinding(
                cycle_id,
                typed["kind"],
                typed["text"],
                typed["question_id"] or None,
                school_id=typed["school_id"] or None,
            ),
            principal,
        )
    except InvalidRecord as exc:
        errors = [_finding_error(exc)]
        if exc.field != "text" and not typed["text"]:
            # The use case stops at the first problem; an empty finding is worth saying too.
            errors.append(("text", "Write the finding"))
        return _review_page(request, cycle_id, 400, errors=errors, typed=typed)
    except (NotCollectedHere, RoleNotAllowed, CycleClosed) as exc:
        return _review_page(request, cycle_id, 409, refused=(exc, "record findings"), typed=typed)
    return Redirect(path=f"/app/cycles/{quote(cycle_id)}/review?saved=finding", status_code=303)


def _finding_error(exc: InvalidRecord) -> tuple[str, str]:
    if exc.field == "kind":
        return "kind", "Choose what kind of finding this is"
    if exc.field == "question_id":
        return "question_id", "Choose a question from the list, or none"
    if exc.field == "school_id":
        return "school_id", sentence(exc.detail)
    if exc.detail == "must not be empty":
        return "text", "Write the finding"
    return "text", sentence(f"the finding {exc.detail}")


# -- one question: the peer judgement ------------------------------------------------------


def _question_page(
    request: Request[Any, Any, Any],
    cycle_id: str,
    question_id: str,
    status: int = 200,
    **extra: Any,
) -> Template:
    principal, secret = _viewer(request)
    ctx, page, _ = _read(request, principal, cycle_id)
    t, c = ctx.template, ctx.cycle
    question = t.question(question_id)
    if question is None:
        raise NotFound("question", question_id)
    section = next(s for s in t.framework.sections if question in s.questions)
    refused = extra.pop("refused", None)
    # In a cycle of several schools each school has its own outcome on the question, beside
    # the one of the cycle as a whole: the page lists the schools' and records one at a time.
    schools: list[tuple[str, str]] = []
    if c.participants:
        schools = [(c.host_school_id, f"{page.school} (the lead school)")]
        schools += [(sid, p.name) for sid, p in c.participants.items()]
        # Someone of one school taking part reads that school's outcome, not the others'.
        schools = [(sid, n) for sid, n in schools if ctx.access.reads_part("judgements", sid, t)]
    chosen = extra.pop("school", None) or request.query_params.get("school") or None
    if chosen not in {sid for sid, _ in schools}:
        chosen = None
    return _page(
        request,
        "review_question.html",
        status=status,
        ctx=ctx,
        page=page,
        question=question,
        section=section,
        own=c.judgements.get(("self", question_id, None)),
        judgement=c.judgements.get(("peer", question_id, chosen)),
        schools=schools,
        school=chosen,
        saved=request.query_params.get("saved"),
        by_school={sid: c.judgements.get(("peer", question_id, sid)) for sid, _ in schools},
        evidence=[e for e in c.evidence.values() if e.question_id == question_id],
        findings=sorted(
            (f for f in c.findings.values() if f.question_id == question_id), key=lambda f: f.at
        ),
        can=collectable(t, c, ctx.access.actor),
        grades={p.id: p.label for p in t.framework.scale},
        kind_words=kind_words,
        refusal=refusal(t, c, *refused) if refused else None,
        **_chrome(request, principal, secret),
        **extra,
    )


@get(
    "/app/cycles/{cycle_id:str}/review/{question_id:str}",
    include_in_schema=False,
    sync_to_thread=True,
)
def review_question(
    request: Request[Any, Any, Any], cycle_id: PathId, question_id: PathId
) -> Template:
    return _question_page(request, cycle_id, question_id)


@post(
    "/app/cycles/{cycle_id:str}/review/{question_id:str}",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def save_peer_judgement(
    request: Request[Any, Any, Any], cycle_id: PathId, question_id: PathId, data: Form
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    narrative = (data.get("narrative") or "").strip()
    grade = data.get("grade") or None
    school = (data.get("school_id") or "").strip() or None
    try:
        _ws(request).handle(
            RecordJudgement(cycle_id, "peer", question_id, narrative, grade, school_id=school),
            principal,
        )
    except InvalidRecord as exc:
        if exc.field == "question_id":
            raise NotFound("question", question_id) from None
        errors = [_judgement_error(exc)]
        if exc.field != "narrative" and not narrative:
            errors.append(("narrative", "Write what the team found on this question"))
        return _question_page(
            request,
            cycle_id,
            question_id,
            400,
            errors=errors,
            narrative=narrative,
            grade=grade,
            school=school,
        )
    except (NotCollectedHere, RoleNotAllowed, CycleClosed) as exc:
        return _question_page(
            request,
            cycle_id,
            question_id,
            409,
            refused=(exc, "record peer judgements"),
            narrative=narrative,
            grade=grade,
            school=school,
        )
    path = f"/app/cycles/{quote(cycle_id)}/review?saved=judgement&question={quote(question_id)}"
    if school:
        # Back to the question, where the schools still without an outcome are listed.
        path = (
            f"/app/cycles/{quote(cycle_id)}/review/{quote(question_id)}"
            f"?saved=judgement&school={quote(school)}#peer-judgement"
        )
    return Redirect(path=path, status_code=303)


def _judgement_error(exc: InvalidRecord) -> tuple[str, str]:
    if exc.field == "school_id":
        if "own school" in exc.detail:
            return "school_id", "You may record an outcome for your own school only"
        return "school_id", "Choose one of the schools taking part"
    if exc.field == "grade":
        if "no grades" in exc.detail:
            return "grade", "This framework gives no grades: write the judgement in words"
        return "grade", "Choose a grade from the scale"
    if exc.detail == "must not be empty":
        return "narrative", "Write what the team found on this question"
    return "narrative", sentence(f"the judgement {exc.detail}")


# -- the report and who else may read it ---------------------------------------------------

READ_WORDS = {
    "report": "the report",
    "self_review": "the self-review",
    "evidence_files": "an evidence file",
    "team": "on the review team",
    "role": "by their role on the cycle",
    "share": "the report was shared with them",
    "break_glass": "an admin's break-glass",
}
"""A read of confidential content in words: what was read, and on what grounds."""


@dataclass(frozen=True, slots=True)
class ReadsOf:
    """One person's reads of one part on one ground, as the head is shown them: how many
    times, and when last (every page a reviewer opens is a read; the API lists each one)."""

    person_id: str
    section: str
    grounds: str
    issued_by: str | None
    times: int
    last: datetime


def _grouped(reads: list[ContentRead]) -> list[ReadsOf]:
    groups: dict[tuple[str, str, str, str | None], list[ContentRead]] = {}
    for r in reads:
        groups.setdefault((r.person_id, r.section, r.grounds, r.issued_by), []).append(r)
    out = [ReadsOf(*key, len(found), max(r.at for r in found)) for key, found in groups.items()]
    return sorted(out, key=lambda g: g.last, reverse=True)  # the latest first


@dataclass(frozen=True, slots=True)
class Directory:
    """Whom the sharer may choose (people, schools, networks by id) and the names they know."""

    people: dict[str, str]
    schools: dict[str, str]
    networks: dict[str, str]
    names: dict[str, str]

    def whom(self, kind: str, grantee_id: str) -> str:
        """Who a share reaches, in words."""
        if kind == "person":
            return self.names.get(grantee_id, f"Someone else ({grantee_id})")
        if kind == "school":
            return f"The head of {self.schools.get(grantee_id, grantee_id)}"
        return f"The leads of {self.networks.get(grantee_id, grantee_id)}"

    def choices(
        self, cycle: Cycle, me: str, taken: set[tuple[str, str]]
    ) -> dict[str, list[tuple[str, str]]]:
        """What the share form offers: nobody who may read the report already."""

        def free(kind: str, items: dict[str, str], skip: str) -> list[tuple[str, str]]:
            return sorted(
                ((i, n) for i, n in items.items() if i != skip and (kind, i) not in taken),
                key=lambda item: item[1],
            )

        return {
            "person": free("person", self.people, me),
            "school": free("school", self.schools, cycle.host_school_id),
            "network": free("network", self.networks, ""),
        }


def _directory(found: PageOfReport) -> Directory:
    return Directory(
        found.people, found.schools, found.networks, {**found.page.names, **found.people}
    )


def _report_page(
    request: Request[Any, Any, Any],
    cycle_id: str,
    status: int = 200,
    **extra: Any,
) -> Template:
    principal, secret = _viewer(request)
    ctx, page, found = _read(request, principal, cycle_id)
    t, c = ctx.template, ctx.cycle
    sharer = may_share(ctx.access.actor, t)
    directory = _directory(found) if sharer else None
    news = next((k for k in ("shared", "withdrawn") if request.query_params.get(k)), None)
    kind, _, grantee = (request.query_params.get(news) if news else "").partition(":")
    refused = extra.pop("refused", None)
    return _page(
        request,
        "report.html",
        status=status,
        ctx=ctx,
        page=page,
        sections=question_rows(t, c),
        findings=findings_by_kind(t, list(c.findings.values())),
        grades={p.id: p.label for p in t.framework.scale},
        kind_words=kind_words,
        sharer=sharer,
        directory=directory,
        choices=(
            directory.choices(c, principal.id, {(s.grantee_kind, s.grantee_id) for s in ctx.shares})
            if directory
            else {}
        ),
        shares=sorted(ctx.shares, key=lambda s: s.shared_at),
        reads=_grouped(found.reads),
        read_words=READ_WORDS,
        news=news,
        news_whom=directory.whom(kind, grantee) if directory and grantee else "",
        refusal=refusal(t, c, *refused) if refused else None,
        **_chrome(request, principal, secret),
        **extra,
    )


@get("/app/cycles/{cycle_id:str}/report", include_in_schema=False, sync_to_thread=True)
def report(request: Request[Any, Any, Any], cycle_id: PathId) -> Template:
    return _report_page(request, cycle_id)


@post(
    "/app/cycles/{cycle_id:str}/report/shares",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def share(request: Request[Any, Any, Any], cycle_id: PathId, data: Form) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    chosen = (data.get("grantee") or "").strip()
    kind, _, grantee = chosen.partition(":")
    grantee_kind = _GRANTEE_KINDS.get(kind)

    def again(status: int, words: str) -> Template:
        return _report_page(request, cycle_id, status, errors=[("grantee", words)])

    if grantee_kind is None or not grantee:
        words = "Choose who to share the report with"
        return again(400, f"{words} from the list" if chosen else words)
    try:
        _ws(request).handle(ShareReport(cycle_id, grantee_kind, grantee), principal)
    except RoleNotAllowed as exc:
        return _report_page(request, cycle_id, 409, refused=(exc, "share the report"))
    except Conflict:
        return again(409, "The report is already shared with them")
    except NotFound as exc:
        if exc.kind == "cycle":
            raise
        return again(400, "Choose who to share the report with from the list")
    return Redirect(
        path=f"/app/cycles/{quote(cycle_id)}/report?shared={quote(chosen, safe=':')}",
        status_code=303,
    )


@post(
    "/app/cycles/{cycle_id:str}/report/shares/{share_id:str}/withdraw",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def withdraw(
    request: Request[Any, Any, Any], cycle_id: PathId, share_id: PathId, data: Form
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    try:
        gone = _ws(request).handle(RevokeShare(cycle_id, share_id), principal)
    except RoleNotAllowed as exc:
        return _report_page(request, cycle_id, 409, refused=(exc, "stop sharing the report"))
    whom = quote(f"{gone.grantee_kind}:{gone.grantee_id}", safe=":")
    return Redirect(path=f"/app/cycles/{quote(cycle_id)}/report?withdrawn={whom}", status_code=303)


def review_routes() -> list[HTTPRouteHandler]:
    return [review, add_finding, review_question, save_peer_judgement, report, share, withdraw]
