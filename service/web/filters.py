"""Jinja filters the page templates use: words for dates, roles, history and the diagram."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from markupsafe import Markup

from engine import diagram
from engine.directory import HistoryEntry
from engine.machine import Option
from engine.template import Template
from service.usecases.tasks import PageOfCycle
from service.web.view import (
    Step,
    history_line,
    in_words,
    refusal,
    role_title,
    size_in_words,
    timeline,
)

__all__ = ["FILTERS"]


def _mine(options: Iterable[Option]) -> list[Option]:
    """The moves the viewer's roles make: allowed now, or blocked only by what must be true."""
    return [
        o for o in options if o.allowed or not any(r.code == "role_not_allowed" for r in o.reasons)
    ]


def _steps(page: PageOfCycle) -> list[Step]:
    return timeline(page.template, page.cycle, page.history)


def _diagram(page: PageOfCycle) -> Markup:
    render = getattr(diagram, "svg", None)
    if render is None:
        return Markup("")
    done = [s.stage_id for s in _steps(page) if s.state == "done"]
    # The engine escapes every template string it puts in the SVG.
    return Markup(render(page.template, page.cycle.stage, done=done))  # noqa: S704


def _ends_the_cycle(option: Option, page: PageOfCycle) -> bool:
    """A move out of the main path into an end (withdraw): shown as a warning, not as the way on."""
    main = {s.stage_id for s in _steps(page)}
    dest = page.template.stage(option.to_stage)
    return dest.terminal and option.to_stage not in main


def _page_link(link: str) -> str:
    """Links in notices lead to the pages (older notices pointed at the API's paths)."""
    if link.startswith("/cycles/"):
        return "/app" + link.split("/report")[0].split("/actions")[0]
    return link if link.startswith("/app") else "/app"


def _line(entry: HistoryEntry, template: Template, names: dict[str, str] | None = None) -> str:
    return history_line(template, entry, names)


def _role(role: str, template: Template) -> str:
    return role_title(template, role)


def _when(value: datetime | None) -> str:
    return in_words(value)


def _day(value: date | None) -> str:
    return in_words(value) if value else "no date"


FILTERS: dict[str, Any] = {
    "when": _when,
    "day": _day,
    "role": _role,
    "line": _line,
    "steps": _steps,
    "diagram": _diagram,
    "page_link": _page_link,
    "mine": _mine,
    "ends_the_cycle": _ends_the_cycle,
    "filesize": size_in_words,
    "refusal": lambda exc, template, cycle, what="do this": refusal(template, cycle, exc, what),
}
