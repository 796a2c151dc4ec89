"""The network dashboard in the browser: a network's cycles by stage (a chart and its table),
overdue cycles and actions, deadlines ahead, who has not started this school year; the borough
view (every network side by side); the lists behind every figure; the judgement heatmap and
the support map, drawn only from the reports the viewer may read.

Like every page, these parse, call one use case and render; whose network a dashboard is, and
which cycle or report counts, is the use cases' decision.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter
from litestar.response import Template
from markupsafe import Markup

from engine.access import Principal
from engine.charts import Bar, bar_chart
from service.routes.common import PathId, QueryId
from service.usecases.dashboard import (
    BoroughPage,
    NetworkCyclesPage,
    NetworkPage,
    TemplateStages,
)
from service.usecases.messages import (
    BoroughView,
    JudgementHeatmap,
    NetworkCycles,
    NetworkDashboard,
    NetworkSupportMap,
)
from service.web.pages import _chrome, _page, _viewer, _ws

__all__ = ["dashboard_routes"]

Flag = Annotated[str | None, Parameter(pattern=r"^[01]$")]
"""A yes/no filter in a query string: `1` to narrow, `0` or nothing not to."""
Days = Annotated[int | None, Parameter(ge=1, le=366)]
Stage = Annotated[str | None, Parameter(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Year = Annotated[str | None, Parameter(pattern=r"^this$")]


def _markup(svg: str) -> Markup:
    # engine.charts escapes every label it writes into the SVG.
    return Markup(svg)  # noqa: S704


def _stage_chart(t: TemplateStages, where: str) -> Markup:
    bars = [Bar(r.title, r.cycles) for r in t.rows if not r.ended]
    return _markup(
        bar_chart(
            bars,
            title=f"{t.title}: cycles under way by stage, {where}",
            description=(
                f"{t.under_way} cycle{'s' * (t.under_way != 1)} under way: "
                + ", ".join(f"{b.label} {b.value}" for b in bars)
                + ". The table beside the chart holds the same figures."
            ),
            chart_id=f"chart-{t.template_id}",
            empty="No cycle of this framework is under way",
        )
    )


def _render(
    request: Request[Any, Any, Any], principal: Principal, secret: str, name: str, **context: Any
) -> Template:
    return _page(request, name, **context, **_chrome(request, principal, secret))


def _dashboard(request: Request[Any, Any, Any], network_id: str | None) -> Template:
    principal, secret = _viewer(request)
    page: NetworkPage = _ws(request).handle(NetworkDashboard(network_id), principal)
    chrome = _chrome(request, principal, secret)
    if page.network is None:
        return _page(request, "network_choose.html", page=page, **chrome)
    charts = {t.template_id: _stage_chart(t, page.network.name) for t in page.stages}
    return _page(request, "network.html", page=page, charts=charts, **chrome)


@get("/app/network", include_in_schema=False, sync_to_thread=True)
def network_home(request: Request[Any, Any, Any]) -> Template:
    return _dashboard(request, None)


@get("/app/network/{network_id:str}", include_in_schema=False, sync_to_thread=True)
def network(request: Request[Any, Any, Any], network_id: PathId) -> Template:
    return _dashboard(request, network_id)


@get("/app/borough", include_in_schema=False, sync_to_thread=True)
def borough(request: Request[Any, Any, Any]) -> Template:
    principal, secret = _viewer(request)
    page: BoroughPage = _ws(request).handle(BoroughView(), principal)
    bars = [Bar(r.network.name, r.under_way) for r in page.rows]
    chart = _markup(
        bar_chart(
            bars,
            title="Cycles under way in each network",
            description=(
                ", ".join(f"{b.label} {b.value}" for b in bars)
                + ". The table below holds the same figures, with more."
            ),
            chart_id="chart-borough",
            empty="No network yet",
        )
    )
    return _render(request, principal, secret, "network_borough.html", page=page, chart=chart)


@get("/app/network/{network_id:str}/cycles", include_in_schema=False, sync_to_thread=True)
def network_cycles(
    request: Request[Any, Any, Any],
    network_id: PathId,
    stage: Stage = None,
    template: QueryId = None,
    overdue: Flag = None,
    due: Days = None,
    started: Year = None,
    active: Flag = None,
) -> Template:
    principal, secret = _viewer(request)
    query = NetworkCycles(
        network_id,
        stage=stage,
        template_id=template,
        overdue=overdue == "1",
        due_within_days=due,
        started_this_year=started == "this",
        under_way=active == "1",
    )
    found = _ws(request).handle(query, principal)
    return _render(
        request,
        principal,
        secret,
        "network_cycles.html",
        found=found,
        heading=_heading(query, found),
    )


def _heading(q: NetworkCycles, found: NetworkCyclesPage) -> str:
    """What the list holds, in words: the figure it is behind."""
    what = "Overdue cycles" if q.overdue else "Cycles"
    if q.under_way:
        what += " under way"
    if found.stage:
        what += f" at {found.stage}"
    if found.template:
        what += f" ({found.template})"
    if q.due_within_days:
        days = q.due_within_days
        weeks = f"{days // 7} weeks" if days % 7 == 0 and days > 7 else f"{days} days"
        what += f" due in the next {'week' if days == 7 else weeks}"
    if q.started_this_year:
        what += " started this school year"
    return what if what != "Cycles" else "Every cycle"


@get("/app/network/{network_id:str}/heatmap", include_in_schema=False, sync_to_thread=True)
def heatmap(
    request: Request[Any, Any, Any], network_id: PathId, template: QueryId = None
) -> Template:
    principal, secret = _viewer(request)
    found = _ws(request).handle(JudgementHeatmap(network_id, template), principal)
    return _render(request, principal, secret, "network_heatmap.html", found=found)


@get("/app/network/{network_id:str}/support", include_in_schema=False, sync_to_thread=True)
def support_map(
    request: Request[Any, Any, Any], network_id: PathId, template: QueryId = None
) -> Template:
    principal, secret = _viewer(request)
    found = _ws(request).handle(NetworkSupportMap(network_id, template), principal)
    return _render(request, principal, secret, "network_support.html", found=found)


def dashboard_routes() -> list[HTTPRouteHandler]:
    return [network_home, network, borough, network_cycles, heatmap, support_map]
