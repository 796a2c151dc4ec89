"""The documents people hand over, as PDF: the self-evaluation, the peer review report and the
action plan (A4, page numbers in the footer, the school, the cycle, the date and who it was
produced for on each).

Like every page, a document's route parses, calls one use case (`CycleDocument`, which answers
with the rules of the page showing the same content) and renders: to someone who may not read
the report there is no report PDF (a 404, as for its page). The HTML of a document comes from
templates of its own (`doc_*.html`) and WeasyPrint draws it, fetching nothing but Peerloop's
own static files.
"""

from __future__ import annotations

import mimetypes
import queue
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler

from engine.cycle import Action, Finding
from service.routes.common import PathId
from service.usecases.documents import Document
from service.usecases.messages import CycleDocument
from service.usecases.tasks import PageOfPlan, action_flag
from service.web.pages import SECURITY_HEADERS, _page, _viewer, _ws
from service.web.plan import Rag, rag
from service.web.review import findings_by_kind, kind_words, question_rows
from service.web.view import in_words

__all__ = [
    "RENDER_SECONDS",
    "STATIC",
    "DocumentTooSlow",
    "attachment",
    "documents_routes",
    "own_static_files",
    "render_pdf",
]

STATIC = Path(__file__).resolve().parent / "static"
"""The only place a document may fetch anything from."""

RENDER_SECONDS = 20.0
"""How long a request waits for its PDF (a normal document takes well under a second)."""

_DRAWING = threading.BoundedSemaphore(2)
"""PDFs drawn at once: a drawing cannot be stopped, so one that outlives its request keeps its
place, and at most two cores are ever busy drawing."""

Kind = Literal["self_review", "report", "plan"]


@dataclass(frozen=True, slots=True)
class _Kind:
    template: str
    title: str
    file: str


_KINDS: dict[Kind, _Kind] = {
    "self_review": _Kind("doc_self_review.html", "Self-evaluation", "self-evaluation"),
    "report": _Kind("doc_report.html", "Peer review report", "peer review report"),
    "plan": _Kind("doc_plan.html", "Action plan", "action plan"),
}


class DocumentTooSlow(Exception):
    """The PDF was not drawn within its time (or no place to draw it came free)."""


# -- fetching and drawing -----------------------------------------------------------------------


def _static_file(url: str) -> Path | None:
    """The static file a `file:` URL names, when it is one of ours (and nothing else)."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(url2pathname(unquote(parts.path))).resolve()
    if not path.is_relative_to(STATIC) or not path.is_file():
        return None
    return path


def own_static_files() -> Any:
    """WeasyPrint's URL fetcher, refusing every URL but a file of ours under `STATIC`: a
    document fetches nothing from the network, nor anything else from the disk."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class OwnStaticFiles(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            path = _static_file(url)
            if path is None:
                raise ValueError(f"a document fetches only Peerloop's static files, not {url}")
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": media_type})

    return OwnStaticFiles(allow_redirects=False)


def _draw(html: str) -> bytes:
    # WeasyPrint loads Pango when imported: imported here, the app starts (and serves every
    # page) on a machine without Pango, where only the PDFs fail.
    from weasyprint import HTML

    document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=own_static_files())
    pdf: bytes = document.write_pdf(pdf_tags=True)
    return pdf


def render_pdf(
    html: str, seconds: float = RENDER_SECONDS, draw: Callable[[str], bytes] = _draw
) -> bytes:
    """The PDF of `html`, or DocumentTooSlow when it is not ready within `seconds`.

    The drawing runs in a thread of its own so that the request stops waiting in time; a
    drawing that takes longer goes on to its end in the background, holding its place.
    """
    if not _DRAWING.acquire(timeout=seconds):
        raise DocumentTooSlow
    out: queue.Queue[tuple[bytes | None, BaseException | None]] = queue.Queue(maxsize=1)

    def work() -> None:
        try:
            out.put((draw(html), None))
        except BaseException as exc:  # handed to the request, which raises it
            out.put((None, exc))
        finally:
            _DRAWING.release()

    threading.Thread(target=work, name="peerloop-pdf", daemon=True).start()
    try:
        pdf, problem = out.get(timeout=seconds)
    except queue.Empty:
        raise DocumentTooSlow from None
    if problem is not None:
        raise problem
    assert pdf is not None
    return pdf


# -- naming the file ---------------------------------------------------------------------------

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def _file_name(school: str, what: str, on: date) -> str:
    """`Host Primary School peer review report 2026-09-14.pdf`: nothing a file system refuses."""
    name = re.sub(r"\s+", " ", _UNSAFE.sub(" ", f"{school} {what} {on.isoformat()}")).strip()
    return f"{name}.pdf"


def attachment(file_name: str) -> str:
    """A Content-Disposition for downloading `file_name` (RFC 6266): `filename` in plain ASCII
    for every client, and `filename*` in UTF-8 (RFC 8187) when the name is not plain ASCII."""
    plain = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode("ascii")
    plain = _UNSAFE.sub("", plain).strip() or "document.pdf"
    header = f'attachment; filename="{plain}"'
    if plain != file_name:
        header += f"; filename*=UTF-8''{quote(file_name, safe='')}"
    return header


# -- what each document shows ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanRow:
    action: Action
    owner: str
    rag: Rag
    finding: Finding | None
    answers_hidden: bool
    """It answers a finding the reader may not see (they may not read the report)."""


def _plan_rows(plan: PageOfPlan) -> list[PlanRow]:
    names = plan.page.names
    findings = {f.id: f for f in plan.findings or ()}
    rows = []
    for a in plan.page.cycle.actions.values():
        owner = names.get(a.owner) or names.get(a.owner.lower()) or a.owner
        finding = findings.get(a.finding_id or "")
        hidden = bool(a.finding_id) and finding is None
        rows.append(PlanRow(a, owner, rag(a, action_flag(a, plan.today)), finding, hidden))
    rows.sort(key=lambda r: (r.action.due or date.max, r.action.title.lower()))
    return rows


def _content(doc: Document) -> dict[str, Any]:
    t, c = doc.template, doc.cycle
    grades = {p.id: p.label for p in t.framework.scale}
    if doc.kind == "report":
        return {
            "sections": question_rows(t, c),
            "findings": findings_by_kind(t, list(c.findings.values())),
            "grades": grades,
        }
    if doc.kind == "plan":
        assert doc.plan is not None
        schools = {sid: name for sid, (name, _) in doc.plan.schools.items()}
        return {
            "rows": _plan_rows(doc.plan),
            "support": list(c.support.values()),
            "schools": schools,
        }
    evidence: dict[str, list[str]] = {}
    for e in sorted(c.evidence.values(), key=lambda e: e.added_at):
        evidence.setdefault(e.question_id, []).append(e.title)
    return {"sections": t.framework.sections, "evidence": evidence, "grades": grades}


def _html(request: Request[Any, Any, Any], doc: Document, kind: _Kind) -> str:
    engine = request.app.template_engine
    assert engine is not None
    return str(
        engine.get_template(kind.template).render(
            doc=doc,
            title=kind.title,
            produced_on=in_words(doc.produced_at, doc.produced_at.tzinfo),
            kind_words=kind_words,
            **_content(doc),
        )
    )


def _document(request: Request[Any, Any, Any], cycle_id: str, kind: Kind) -> Response[Any]:
    principal, _ = _viewer(request)
    doc: Document = _ws(request).handle(CycleDocument(cycle_id, kind), principal)
    chosen = _KINDS[kind]
    try:
        pdf = render_pdf(_html(request, doc, chosen))
    except DocumentTooSlow:
        return _page(
            request,
            "error.html",
            status=503,
            headers={"Retry-After": "30"},
            title="The document is not ready",
            text="Making it took too long. Nothing was changed: try again in a minute.",
        )
    name = _file_name(doc.school, chosen.file, doc.produced_at.date())
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={**SECURITY_HEADERS, "Content-Disposition": attachment(name)},
    )


@get("/app/cycles/{cycle_id:str}/report.pdf", include_in_schema=False, sync_to_thread=True)
def report_pdf(request: Request[Any, Any, Any], cycle_id: PathId) -> Response[Any]:
    return _document(request, cycle_id, "report")


@get("/app/cycles/{cycle_id:str}/self-review.pdf", include_in_schema=False, sync_to_thread=True)
def self_review_pdf(request: Request[Any, Any, Any], cycle_id: PathId) -> Response[Any]:
    return _document(request, cycle_id, "self_review")


@get("/app/cycles/{cycle_id:str}/actions.pdf", include_in_schema=False, sync_to_thread=True)
def plan_pdf(request: Request[Any, Any, Any], cycle_id: PathId) -> Response[Any]:
    return _document(request, cycle_id, "plan")


def documents_routes() -> list[HTTPRouteHandler]:
    return [report_pdf, self_review_pdf, plan_pdf]
