"""The host school's self-review in the browser: each framework question as a task, with its
self-judgement and evidence (several files at once), and the chosen focus.

Like every page, these parse, call one use case and render; the rules (who may record what,
at which stage; the file limits) are the use cases' and the upload parser's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect, Template

from engine.cycle import Cycle
from engine.errors import InvalidRecord, NotFound, PeerloopError, RequirementsUnmet
from engine.template import Question
from engine.template import Template as Workflow
from service.errors import BadUpload, MediaTypeRefused
from service.routes.common import PathId
from service.routes.evidence import read_upload
from service.usecases.base import CycleContext
from service.usecases.messages import (
    AddEvidence,
    ReadCycle,
    RecordJudgement,
    SelfReviewPage,
    SetFocus,
)
from service.web.pages import Form, _check_csrf, _chrome, _page, _viewer, _ws, move
from service.web.view import sentence

__all__ = ["self_review_routes"]


@dataclass(frozen=True, slots=True)
class QuestionState:
    question: Question
    evidence: int
    judged: bool

    @property
    def status(self) -> str:
        if self.evidence and self.judged:
            return "Completed"
        return "In progress" if self.evidence or self.judged else "Not started"


def _states(template: Workflow, cycle: Cycle) -> list[tuple[str, list[QuestionState]]]:
    counts: dict[str, int] = {}
    for e in cycle.evidence.values():
        counts[e.question_id] = counts.get(e.question_id, 0) + 1
    return [
        (
            section.title,
            [
                QuestionState(q, counts.get(q.id, 0), ("self", q.id, None) in cycle.judgements)
                for q in section.questions
            ],
        )
        for section in template.framework.sections
    ]


def _question(ctx: CycleContext, question_id: str) -> Question:
    q = ctx.template.question(question_id)
    if q is None:
        raise NotFound("question", question_id)
    return q


def self_review_page(
    request: Request[Any, Any, Any],
    cycle_id: str,
    status: int = 200,
    blocked: RequirementsUnmet | None = None,
) -> Template:
    """The self-review's questions as tasks; after a refused submit, each reason is shown
    beside the question it names, and the rest (the focus) at the top."""
    principal, secret = _viewer(request)
    page = _ws(request).handle(SelfReviewPage(cycle_id), principal)
    ctx = page.context
    sections = _states(ctx.template, ctx.cycle)
    done = sum(1 for _, qs in sections for q in qs if q.status == "Completed")
    total = sum(len(qs) for _, qs in sections)
    beside: dict[str, list[str]] = {}
    others: list[tuple[str, str]] = []
    for r in blocked.reasons if blocked else ():
        if r.question_id is not None:
            beside.setdefault(r.question_id, []).append(r.brief or r.message)
        else:
            others.append(("focus" if r.code == "focus_chosen" else "", sentence(r.message)))
    # The summary lists what is missing in the order of the page: each question once, then
    # the rest.
    summary = [
        (
            f"q-{q.question.id.replace('.', '-')}",
            f"{q.question.text}: " + ", ".join(beside[q.question.id]),
        )
        for _, qs in sections
        for q in qs
        if q.question.id in beside
    ] + others
    beside = {qid: [sentence(b) for b in briefs] for qid, briefs in beside.items()}
    return _page(
        request,
        "self_review.html",
        status=status,
        ctx=ctx,
        moves=[o for o in page.moves if not ctx.template.stage(o.to_stage).terminal],
        sections=sections,
        done=done,
        total=total,
        blocked=blocked,
        summary=summary,
        beside=beside,
        saved=request.query_params.get("saved"),
        **_chrome(request, principal, secret),
    )


@get("/app/cycles/{cycle_id:str}/self-review", include_in_schema=False, sync_to_thread=True)
def self_review(request: Request[Any, Any, Any], cycle_id: PathId) -> Template:
    return self_review_page(request, cycle_id)


@post(
    "/app/cycles/{cycle_id:str}/focus",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def set_focus(request: Request[Any, Any, Any], cycle_id: PathId, data: Form) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    lines = tuple(line.strip() for line in (data.get("focus") or "").splitlines() if line.strip())
    _ws(request).handle(SetFocus(cycle_id, lines), principal)
    return Redirect(path=f"/app/cycles/{quote(cycle_id)}/self-review?saved=focus", status_code=303)


def _question_page(
    request: Request[Any, Any, Any],
    cycle_id: str,
    question_id: str,
    status: int = 200,
    **extra: Any,
) -> Template:
    principal, secret = _viewer(request)
    ctx = _ws(request).handle(ReadCycle(cycle_id, "self_review"), principal)
    question = _question(ctx, question_id)
    evidence = [e for e in ctx.cycle.evidence.values() if e.question_id == question_id]
    judgement = ctx.cycle.judgements.get(("self", question_id, None))
    return _page(
        request,
        "question.html",
        status=status,
        ctx=ctx,
        question=question,
        evidence=evidence,
        judgement=judgement,
        may_download=ctx.access.may("evidence_files"),
        saved=request.query_params.get("saved"),
        **_chrome(request, principal, secret),
        **extra,
    )


@get(
    "/app/cycles/{cycle_id:str}/questions/{question_id:str}",
    include_in_schema=False,
    sync_to_thread=True,
)
def question(request: Request[Any, Any, Any], cycle_id: PathId, question_id: PathId) -> Template:
    return _question_page(request, cycle_id, question_id)


@post(
    "/app/cycles/{cycle_id:str}/questions/{question_id:str}/judgement",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def save_judgement(
    request: Request[Any, Any, Any], cycle_id: PathId, question_id: PathId, data: Form
) -> Response[Any]:
    principal, secret = _viewer(request)
    _check_csrf(data, secret)
    narrative = (data.get("narrative") or "").strip()
    grade = data.get("grade") or None
    try:
        _ws(request).handle(
            RecordJudgement(cycle_id, "self", question_id, narrative, grade), principal
        )
    except InvalidRecord as exc:
        field = "grade" if exc.field == "grade" else "narrative"
        return _question_page(
            request,
            cycle_id,
            question_id,
            400,
            errors=[(field, sentence(exc.detail))],
            narrative=narrative,
        )
    return Redirect(
        path=f"/app/cycles/{quote(cycle_id)}/questions/{quote(question_id)}?saved=judgement",
        status_code=303,
    )


def upload_page_route(max_body_bytes: int) -> HTTPRouteHandler:
    """The page's upload (several files in one form), with the app's size limit."""

    async def add_files(
        request: Request[Any, Any, Any], cycle_id: PathId, question_id: PathId
    ) -> Response[Any]:
        principal, secret = await anyio.to_thread.run_sync(_viewer, request)
        form = await request.form()
        _check_csrf({"csrf": str(form.get("csrf") or "")}, secret)
        chosen = form.getall("files") if "files" in form else []
        files = [f for f in chosen if isinstance(f, UploadFile) and f.filename]
        title = str(form.get("title") or "").strip()
        if not files:
            return await anyio.to_thread.run_sync(
                lambda: _question_page(
                    request,
                    cycle_id,
                    question_id,
                    400,
                    errors=[("files", "Choose one or more files to add")],
                )
            )

        def add_all() -> Response[Any]:
            added = []
            for f in files:
                try:
                    chunks, media_type, name = read_upload(f)
                    _ws(request).handle(
                        AddEvidence(
                            cycle_id,
                            question_id,
                            title if title and len(files) == 1 else name,
                            chunks,
                            media_type,
                            name,
                        ),
                        principal,
                    )
                except (BadUpload, MediaTypeRefused, PeerloopError, ValueError) as exc:
                    message = getattr(exc, "detail", None) or str(exc)
                    shown = f"{f.filename}: {message}" if len(files) > 1 else message
                    done = f" ({', '.join(added)} added)" if added else ""
                    return _question_page(
                        request,
                        cycle_id,
                        question_id,
                        413 if "larger than" in message else 400,
                        errors=[("files", sentence(shown) + done)],
                    )
                added.append(f.filename)
            return Redirect(
                path=f"/app/cycles/{quote(cycle_id)}/questions/{quote(question_id)}"
                f"?saved={len(added)}",
                status_code=303,
            )

        return await anyio.to_thread.run_sync(add_all)

    return post(
        "/app/cycles/{cycle_id:str}/questions/{question_id:str}/evidence",
        include_in_schema=False,
        status_code=303,
        request_max_body_size=max_body_bytes,
    )(add_files)


@post(
    "/app/cycles/{cycle_id:str}/self-review/moves/{transition:str}",
    include_in_schema=False,
    sync_to_thread=True,
    status_code=303,
)
def submit(
    request: Request[Any, Any, Any], cycle_id: PathId, transition: PathId, data: Form
) -> Response[Any]:
    """A move sent from the self-review: refused, it is said beside the questions."""
    return move(
        request,
        cycle_id,
        transition,
        data,
        when_blocked=lambda exc: self_review_page(request, cycle_id, 409, blocked=exc),
    )


def self_review_routes(max_body_bytes: int) -> list[HTTPRouteHandler]:
    return [
        self_review,
        set_focus,
        question,
        save_judgement,
        submit,
        upload_page_route(max_body_bytes),
    ]
