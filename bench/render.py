"""The `render` group: the pages a head of a busy school opens most (my tasks, a cycle), each
against the JSON API calls that return the same data, timed in process in the same rounds, on
SQLite and PostgreSQL.

Requests go straight into the ASGI app on one event loop (no sockets, no HTTP client), so a
ratio compares the server's work for the page with the server's work for the JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import structlog
from litestar import Litestar

from adapters.clock import FixedClock
from bench.common import REGISTRY, Case, Comparison, group
from bench.persistence import PG_URL
from engine import records as R
from engine.cycle import Actor
from engine.notices import Notice
from service.app import create_app
from service.auth import issue_token
from service.bootstrap import Container, build

# The demo's own cycle runner: it makes every move by the rules, recording what each needs as
# the people whose part it is, so the busy school's records are those real use leaves.
from service.demo import DEMO_PEOPLE, _run_cycle, load_demo
from service.settings import Settings
from service.usecases.messages import SetPassword
from service.web.session import SESSION_COOKIE, SESSION_HOURS

__all__ = ["render"]

TARGET = 1.5
"""A page may cost at most half as much again as the JSON calls that return its data."""

_NOW = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)  # a Monday morning in term
_HEAD = DEMO_PEOPLE["school_lead"]
_SCHOOL = "sch-131201"
_PASSWORD = "bench horse battery staple"
_UNREAD = 12
_READ = 40

# The head's school's cycles besides the demo's own: (template, moves made, days ago started).
# Six closed over the years, and five under way at different stages, with every record the
# rules ask for (evidence for every question, self- and peer judgements, findings, actions and
# their follow-up, support, sign-offs) and the history of every move and record.
_CYCLES: tuple[tuple[str, int, int], ...] = (
    ("spp-cycle", 6, 6 * 365),
    ("cqa", 5, 5 * 365),
    ("spp-cycle", 6, 4 * 365),
    ("cqa", 5, 3 * 365),
    ("spp-cycle", 6, 2 * 365),
    ("spp-cycle", 6, 365),
    ("spp-cycle", 5, 190),
    ("spp-cycle", 4, 160),
    ("spp-cycle", 3, 130),
    ("spp-cycle", 2, 100),
    ("spp-cycle", 1, 70),
)
_WORKSHOP_CYCLE = "cyc-131201-8"
_OWN_ACTIONS = (
    ("Share the reading spine with every class teacher", -5),
    ("Set up pupil voice panels for writing", 9),
    ("Moderate writing with the partner school", 30),
    ("Report progress on attendance to governors", 60),
)
"""Actions the head owns, agreed in the workshop: one overdue, one due soon, two later."""
_PAGE_CYCLE = "cyc-131201-6"
"""The cycle page timed: the one furthest on that is still open (follow-up), so the fullest."""


class _InProcess:
    """GET requests straight into the ASGI app, on one event loop kept for the whole run."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()

    def get(self, path: str, headers: Sequence[tuple[str, str]]) -> tuple[int, bytes]:
        return self.loop.run_until_complete(self._get(path, headers))

    async def _get(self, path: str, headers: Sequence[tuple[str, str]]) -> tuple[int, bytes]:
        scope: Any = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"peerloop.test"),
                *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("peerloop.test", 80),
            "state": {},
        }
        status = 0
        body: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(body)

    def close(self) -> None:
        self.loop.close()


@dataclass
class _School:
    """A busy school on one database, its head signed in for the pages and holding a token."""

    label: str
    container: Container
    app: Litestar
    client: _InProcess
    cookie: str
    bearer: str

    def page(self, path: str) -> Callable[[], bytes]:
        headers = [("cookie", f"{SESSION_COOKIE}={self.cookie}"), ("accept", "text/html")]
        return self._getter([path], headers)

    def api(self, *paths: str) -> Callable[[], bytes]:
        return self._getter(list(paths), [("authorization", f"Bearer {self.bearer}")])

    def _getter(self, paths: list[str], headers: list[tuple[str, str]]) -> Callable[[], bytes]:
        client = self.client

        def call() -> bytes:
            out = b""
            for path in paths:
                status, body = client.get(path, headers)
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
                out += body
            return out

        return call

    def close(self) -> None:
        self.client.close()
        self.container.close()


def _seed(data_dir: Path, database_url: str, label: str) -> _School:
    """The demo partnership, eleven more cycles for the head's school, a full inbox, and the
    head's session and token."""
    clock = FixedClock(_NOW)
    settings = Settings(data_dir=data_dir, database_url=database_url, demo=False, jobs=False)
    container = build(settings, clock=clock, migrate=True)
    app = container.app
    load_demo(app, _NOW)
    with container.uow(readonly=True) as uow:
        heads = {s.id: f"p-head-{s.urn}" for s in uow.directory.schools()}
        email = uow.directory.get_person(_HEAD).email
    rng = random.Random(13)  # the same school every run
    for n, (template, moves, days_ago) in enumerate(_CYCLES):
        cycle_id = f"cyc-131201-{n}"
        _run_cycle(app, _NOW, cycle_id, _SCHOOL, template, moves, days_ago, heads, rng)
    head = Actor(_HEAD, frozenset({"school_lead"}))
    for n, (title, days) in enumerate(_OWN_ACTIONS):
        due = (_NOW + timedelta(days=days)).date()
        app.record(
            _WORKSHOP_CYCLE,
            lambda c: head,
            lambda t, c, a, at, n=n, title=title, due=due: R.save_action(
                t, c, a, f"a-head-{n}", title, email, due, "Seen at the follow-up visit", at
            ),
        )
    with container.uow() as uow:
        # What the head's inbox holds after a busy half-term: older news read, a dozen unread.
        older = [_notice(n, _NOW - timedelta(days=60 - n)) for n in range(_READ)]
        for notice, at in older:
            uow.inbox.deliver([notice], at)
        uow.inbox.mark_read(_HEAD, None, _NOW - timedelta(days=14))
        for n in range(_UNREAD):
            notice, at = _notice(_READ + n, _NOW - timedelta(hours=_UNREAD - n))
            uow.inbox.deliver([notice], at)
        _, bearer = issue_token(uow, _HEAD, "bench", _NOW, _NOW + timedelta(days=1))
        uow.commit()
    usecases = container.usecases
    usecases.handle(SetPassword(_HEAD, _PASSWORD), usecases.authenticate(f"Bearer {bearer}"))
    # The page's session, made as signing in makes it.
    _, cookie = usecases.login(email, _PASSWORD, SESSION_HOURS, "web session")
    web = create_app(container)
    return _School(label, container, web, _InProcess(web), cookie, bearer)


def _notice(n: int, at: datetime) -> tuple[Notice, datetime]:
    cycle_id = f"cyc-131201-{6 + n % 5}"
    subject = (
        f"The review team recorded its findings for Alder Grove Primary School ({n + 1})"
        if n % 2
        else f"You have a new action to follow up at Alder Grove Primary School ({n + 1})"
    )
    notice = Notice(
        _HEAD,
        "transition" if n % 2 else "action",
        subject,
        "Open the cycle to see what changed and what waits on you.",
        cycle_id,
        f"/cycles/{cycle_id}",
        f"bench:{n}",
    )
    return notice, at


def _check(school: _School) -> list[str]:
    """Each page and its JSON answer as the head expects, before anything is timed."""
    tasks = school.page("/app")().decode()
    cycle = school.page(f"/app/cycles/{_PAGE_CYCLE}")().decode()
    for needle in ("Cycles waiting on you", "New for you", f">{_UNREAD}<"):
        if needle not in tasks:
            raise RuntimeError(f"my tasks lacks {needle!r}")
    for needle in ("What you can do", "History", "Where the cycle is"):
        if needle not in cycle:
            raise RuntimeError(f"the cycle page lacks {needle!r}")
    with school.container.uow(readonly=True) as uow:
        history = len(uow.history.for_cycle(_PAGE_CYCLE))
        cycle_row = uow.cycles.get(_PAGE_CYCLE)
    json_tasks = school.api("/me/tasks")()
    json_cycle = school.api(*_cycle_calls())()
    listed = json.loads(json_tasks)
    waiting = sum(1 for c in listed["cycles"] if c["moves"])
    return [
        f"- {school.label}: my tasks lists {len(listed['cycles'])} open cycles ({waiting} "
        f"waiting on the head), {len(listed['actions'])} actions and "
        f"{len(listed['notifications'])} notifications: {len(tasks.encode()):,} bytes of HTML "
        f"against {len(json_tasks):,} of JSON. The cycle page ({cycle_row.stage}, {history} "
        f"history entries, {len(cycle_row.evidence)} pieces of evidence, "
        f"{len(cycle_row.actions)} action{'' if len(cycle_row.actions) == 1 else 's'}): "
        f"{len(cycle.encode()):,} bytes of HTML against "
        f"{len(json_cycle):,} of JSON in three answers."
    ]


def _cycle_calls() -> tuple[str, ...]:
    return (
        f"/cycles/{_PAGE_CYCLE}",
        f"/cycles/{_PAGE_CYCLE}/transitions",
        f"/cycles/{_PAGE_CYCLE}/history",
    )


def _comparisons(school: _School) -> list[Comparison]:
    label = school.label
    return [
        Comparison(
            Case(f"GET /app (my tasks), {label}", school.page("/app")),
            Case(f"GET /me/tasks, {label}", school.api("/me/tasks")),
            TARGET,
        ),
        Comparison(
            Case(
                f"GET /app/cycles/{{id}} (the cycle page), {label}",
                school.page(f"/app/cycles/{_PAGE_CYCLE}"),
            ),
            Case(
                f"GET /cycles/{{id}} + /transitions + /history, {label}",
                school.api(*_cycle_calls()),
            ),
            TARGET,
        ),
    ]


NOTES = (
    "A head of a busy school: the demo partnership (15 schools, each with a cycle), and the "
    f"head's school with {len(_CYCLES) + 1} cycles over the years, six closed and the rest at "
    "every stage from self-review to follow-up, each with the records its moves needed "
    "(evidence for every question, self- and peer judgements, findings, actions and their "
    "follow-up, support, sign-offs) and the history of every move and record; the head owns "
    f"{len(_OWN_ACTIONS)} of the actions. The inbox holds {_READ} read notifications and "
    f"{_UNREAD} unread (my tasks shows the newest ten).",
    "The head signs in as the sign-in page does (a `web session` token in the "
    "`peerloop_session` cookie) for the pages, and uses a bearer token for the JSON API.",
    "My tasks: `GET /app` against `GET /me/tasks`, the same use case as JSON. The cycle page "
    "(the cycle in follow-up): `GET /app/cycles/{id}` against the three calls a JSON client "
    "makes to show what it shows: `GET /cycles/{id}` (stage, roles, team, champion), "
    "`GET /cycles/{id}/transitions` (the moves and why not) and `GET /cycles/{id}/history`, "
    "timed one after another as one case. The page also names the people and the school and "
    "shows the unread count, which those three answers do not carry.",
    "In process: each request goes straight into the ASGI app (service.app.create_app, with "
    "its request log and security headers) on one event loop, no sockets or HTTP client; "
    "log lines below WARNING are dropped on both sides. Target: a page costs at most "
    f"{TARGET} times its JSON.",
)


@group(
    "render",
    title="Rendering: the pages against the JSON API that returns the same data",
    libraries=("litestar", "Jinja2", "SQLAlchemy", "psycopg"),
    notes=NOTES,
)
def render() -> Iterator[list[Comparison]]:
    report = REGISTRY["render"].report
    report.clear()
    # The request log's line per request is the same on both sides; dropped, so that what is
    # compared is the pages' work and the API's.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    tmp = Path(tempfile.mkdtemp(prefix="peerloop-bench-render-"))
    schools: list[_School] = []
    schema = f"bench_render_{uuid.uuid4().hex[:8]}"
    try:
        schools.append(_seed(tmp / "sqlite", "", "SQLite"))
        try:
            with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as admin:
                admin.execute(f'CREATE SCHEMA "{schema}"')
        except psycopg.Error as exc:
            print(f"(PostgreSQL skipped: {exc})")
            schema = ""
        if schema:
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
            schools.append(_seed(tmp / "pg", url, "PostgreSQL"))
        for s in schools:
            report += _check(s)
        yield [c for s in schools for c in _comparisons(s)]
    finally:
        for s in schools:
            s.close()
        shutil.rmtree(tmp, ignore_errors=True)
        if schema:
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        structlog.reset_defaults()
