"""Bodies of my tasks: what waits on the caller across their cycles."""

from __future__ import annotations

from datetime import date, datetime

from service.schemas.cycles import OptionView
from service.schemas.fields import _Out
from service.schemas.inbox import NotificationView

__all__ = ["CycleTasksView", "OwnedActionView", "TasksView"]


class CycleTasksView(_Out, kw_only=True):
    cycle_id: str
    school: str
    template: str
    stage: str
    due_at: datetime | None
    overdue: bool
    moves: list[OptionView]


class OwnedActionView(_Out, kw_only=True):
    cycle_id: str
    school: str
    action_id: str
    title: str
    due: date | None
    flag: str | None


class TasksView(_Out, kw_only=True):
    cycles: list[CycleTasksView]
    actions: list[OwnedActionView]
    notifications: list[NotificationView]
    unread: int
