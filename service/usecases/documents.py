"""Use cases: a cycle's documents to hand over (the self-evaluation, the review report, the
action plan), read with exactly the rules of the pages that show the same content.

Each document is answered by the page query of its content (`ReportPage`, `PlanPage`,
`SelfReviewPage`), so a document is refused to exactly those its page is refused to: to
someone who may not read the report there is no report, and no document of it (NotFound).
Producing a document records nothing, as reading its page does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.access import Principal
from engine.cycle import Cycle
from engine.template import Template
from service.usecases.base import CycleContext, UseCases, handles
from service.usecases.messages import CycleDocument, PlanPage, ReportPage, SelfReviewPage
from service.usecases.tasks import PageOfPlan, PageOfReport, plan_page, report_page
from service.usecases.tasks import self_review_page as self_review_query

__all__ = ["Document"]


@dataclass(frozen=True, slots=True)
class Document:
    """What a document holds: its cycle as the reader may see it, the host school, and who it
    was produced for and when (in the school calendar's time zone).

    `report` is set for the review report, `plan` for the action plan; the self-evaluation
    needs only the cycle.
    """

    kind: str
    context: CycleContext
    school: str
    names: dict[str, str]
    produced_for: str
    produced_at: datetime
    report: PageOfReport | None = None
    plan: PageOfPlan | None = None

    @property
    def cycle(self) -> Cycle:
        return self.context.cycle

    @property
    def template(self) -> Template:
        return self.context.template


@handles(CycleDocument)
def cycle_document(uc: UseCases, q: CycleDocument, caller: Principal) -> Document:
    """Raises NotFound for an unknown or invisible cycle, and for the report to someone who
    may not read it; AccessDenied for the plan or the self-evaluation to someone who sees the
    cycle but not that part of it."""
    at = uc.now.astimezone(uc.core.registry.calendars.tz)
    who = caller.person.name
    if q.kind == "report":
        found = report_page(uc, ReportPage(q.cycle_id), caller)
        page = found.page
        return Document(q.kind, page.context, page.school, page.names, who, at, report=found)
    if q.kind == "plan":
        plan = plan_page(uc, PlanPage(q.cycle_id), caller)
        page = plan.page
        return Document(q.kind, page.context, page.school, page.names, who, at, plan=plan)
    if q.kind == "self_review":
        ctx = self_review_query(uc, SelfReviewPage(q.cycle_id), caller).context
        with uc.uow(readonly=True) as uow:
            school = uow.directory.get_school(ctx.cycle.host_school_id).name
        return Document(q.kind, ctx, school, {}, who, at)
    raise ValueError(f"no document of kind {q.kind!r}")
