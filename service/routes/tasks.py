"""My tasks: what waits on the caller now, the same use case as the home page."""

from __future__ import annotations

from litestar import get

from service.presenters import tasks_view
from service.routes.common import READ, Caller, Ws, problems
from service.schemas.tasks import TasksView
from service.usecases.messages import MyTasks

__all__ = ["ROUTES"]


@get(
    "/me/tasks",
    tags=["inbox"],
    summary="What waits on you: moves (allowed, or blocked with why), actions you own, news",
    responses=problems(*READ),
    sync_to_thread=True,
)
def my_tasks(principal: Caller, ws: Ws) -> TasksView:
    return tasks_view(ws.handle(MyTasks(), principal))


ROUTES = [my_tasks]
