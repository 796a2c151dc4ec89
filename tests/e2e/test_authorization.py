"""The authorization matrix: every endpoint x every role, own and other school and network.

Each endpoint lists who may use it; everyone else is refused: 404 when they may not see the
cycle (or person) at all, so that existence does not leak, 403 when they see it but their
roles do not allow the action; 401 without a token. Cycles are prepared once, one per stage,
all hosted by the `own` school; a case that would use up its target (a move, an erasure)
gets a fresh one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.directory import Grant, Person
from tests.e2e.flows import PDF, evidence, ok, spp_self_review, spp_to, start
from tests.e2e.world import World, open_world

PRINCIPALS = [
    "admin",
    "chair_own",
    "chair_other",
    "pl_own",
    "pl_other",
    "head_own",
    "staff_own",
    "review_lead",
    "reviewer",
    "champion",
    "head_other",
    "head_other_net",
    "staff_other_net",
    "anonymous",
]
TEAM = {"review_lead", "reviewer", "champion"}
HOST_SIDE = {"admin", "chair_own", "pl_own", "head_own", "staff_own"}
"""Who sees every cycle of the own school through a grant (the team sees only theirs)."""
ROLE_OF = {
    "admin": "admin",
    "chair_own": "network_lead",
    "chair_other": "network_lead",
    "pl_own": "partnership_lead",
    "pl_other": "partnership_lead",
    "head_own": "school_lead",
    "staff_own": "school_staff",
    "review_lead": "review_lead",
    "reviewer": "reviewer",
    "champion": "improvement_champion",
    "head_other": "school_lead",
    "head_other_net": "school_lead",
    "staff_other_net": "school_staff",
}
_n = itertools.count()


@dataclass
class Ctx:
    w: World
    cycles: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    own: dict[str, str] = field(default_factory=dict)
    """Targets made for the case at hand (an allowed caller's own), by cycle or id key."""

    def cycle(self, key: str) -> str:
        return self.own.get(key) or self.cycles[key]

    def id(self, key: str) -> str:
        return self.own.get(key) or self.ids[key]

    def fresh(self, stage: str) -> str:
        c = start(self.w)
        if stage == "ready":  # self-review done, ready to submit
            spp_self_review(self.w, c)
        elif stage != "self":
            spp_to(self.w, c, stage)
        return c


@dataclass(frozen=True)
class Spec:
    """An endpoint: how to call it, on which prepared cycle, and who may."""

    name: str
    method: str
    path: Callable[[Ctx, str], str]
    allowed: frozenset[str]
    cycle: str | None = None  # the prepared cycle it acts on (None: not about a cycle)
    body: Callable[[Ctx, str], dict[str, Any]] | None = None
    fresh: str | None = None  # allowed callers get a fresh target made so
    ok: int = 200
    deny: int = 403  # for those who may see the target but not do this
    hidden_from: frozenset[str] = frozenset()  # extra people refused with 404

    def expected(self, who: str) -> int:
        if who == "anonymous":
            return 401
        if who in self.allowed:
            return self.ok
        if self.cycle is not None and who not in visible(self.cycle):
            return 404
        if who in self.hidden_from:
            return 404
        return self.deny


def visible(cycle: str) -> set[str]:
    return HOST_SIDE if cycle == "self" else HOST_SIDE | TEAM


def on(key: str, suffix: str = "") -> Callable[[Ctx, str], str]:
    return lambda ctx, who: f"/cycles/{ctx.cycle(key)}{suffix}"


def uid() -> str:
    return f"{next(_n):04d}"


V = frozenset(HOST_SIDE | TEAM)
REPORT = frozenset({"head_own", "review_lead", "reviewer", "champion"})
EVIDENCE = frozenset({"admin", "head_own", "staff_own", "review_lead", "reviewer"})
FILES = frozenset({"head_own", "staff_own", "review_lead", "reviewer"})
PLAN = V - {"chair_own"}
EVERYONE = frozenset(set(PRINCIPALS) - {"anonymous"})
ADMIN = frozenset({"admin"})
PEOPLE_SEERS = frozenset(
    {"admin", "chair_own", "chair_other", "pl_own", "pl_other", "head_own", "staff_own"}
)

SPECS: list[Spec] = [
    # -- reading a cycle (the follow-up cycle holds every kind of record) ---------------------
    Spec("cycle", "GET", on("follow"), V, "follow"),
    Spec("transitions", "GET", on("follow", "/transitions"), V, "follow"),
    Spec("history", "GET", on("follow", "/history"), V, "follow"),
    Spec("deadlines", "GET", on("follow", "/deadlines"), V, "follow"),
    Spec("team", "GET", on("follow", "/team"), V, "follow"),
    Spec("judgements", "GET", on("follow", "/judgements"), V, "follow"),
    Spec("report", "GET", on("follow", "/report"), REPORT, "follow"),
    Spec("findings", "GET", on("follow", "/findings"), REPORT, "follow"),
    Spec("shares", "GET", on("follow", "/shares"), REPORT, "follow"),
    # Who outside the school read its confidential content: the host head's alone.
    Spec("reads", "GET", on("follow", "/reads"), frozenset({"head_own"}), "follow"),
    Spec("evidence", "GET", on("follow", "/evidence"), EVIDENCE, "follow"),
    Spec(
        "evidence file",
        "GET",
        lambda ctx, who: f"/cycles/{ctx.cycles['follow']}/evidence/{ctx.ids['file']}/file",
        FILES,
        "follow",
    ),
    Spec("actions", "GET", on("follow", "/actions"), PLAN, "follow"),
    Spec("support", "GET", on("follow", "/support"), PLAN, "follow"),
    Spec("signoffs", "GET", on("follow", "/signoffs"), PLAN, "follow"),
    # -- recording, each at a stage that collects it -------------------------------------------
    Spec(
        "add evidence",
        "POST",
        on("self", "/evidence"),
        frozenset({"head_own", "staff_own"}),
        "self",
        body=lambda ctx, who: {
            "files": {
                "question_id": (None, "impact.outcomes"),
                "title": (None, "Minutes"),
                "file": ("minutes.pdf", PDF, "application/pdf"),
            }
        },
        ok=201,
    ),
    Spec(
        "self judgement",
        "PUT",
        on("self", "/judgements/self/impact.outcomes"),
        frozenset({"head_own"}),
        "self",
        body=lambda ctx, who: {"json": {"narrative": "Secure."}},
    ),
    Spec(
        "focus",
        "PUT",
        on("self", "/focus"),
        frozenset({"head_own"}),
        "self",
        body=lambda ctx, who: {"json": {"lines": ["Reading"]}},
    ),
    Spec(
        "assign team",
        "PUT",
        lambda ctx, who: f"/cycles/{ctx.cycles['pre']}/team/p-head-f",
        frozenset({"pl_own"}),
        "pre",
        body=lambda ctx, who: {"json": {"role": "reviewer"}},
    ),
    Spec(
        "visit date",
        "PUT",
        on("pre", "/dates/visit_date"),
        frozenset({"pl_own", "review_lead"}),
        "pre",
        body=lambda ctx, who: {"json": {"at": "2026-10-06T08:30:00Z"}},
    ),
    Spec(
        "peer judgement",
        "PUT",
        on("peer", "/judgements/peer/impact.outcomes"),
        frozenset({"review_lead", "reviewer"}),
        "peer",
        body=lambda ctx, who: {"json": {"narrative": "Strong."}},
    ),
    Spec(
        "add finding",
        "POST",
        on("peer", "/findings"),
        frozenset({"review_lead", "reviewer"}),
        "peer",
        body=lambda ctx, who: {"json": {"kind": "strength", "text": "Calm classrooms."}},
        ok=201,
    ),
    Spec(
        "add action",
        "POST",
        on("workshop", "/actions"),
        frozenset({"champion", "head_own"}),
        "workshop",
        body=lambda ctx, who: {"json": {"title": "Phonics training", "owner": "Deputy"}},
        ok=201,
    ),
    Spec(
        "change action",
        "PUT",
        lambda ctx, who: f"/cycles/{ctx.cycles['workshop']}/actions/{ctx.ids['action']}",
        frozenset({"champion", "head_own"}),
        "workshop",
        body=lambda ctx, who: {"json": {"title": "Phonics training for all", "owner": "Deputy"}},
    ),
    Spec(
        "sign off",
        "POST",
        on("workshop", "/signoffs"),
        frozenset({"champion", "head_own"}),
        "workshop",
        body=lambda ctx, who: {"json": {"role": ROLE_OF.get(who, "admin")}},
        ok=201,
    ),
    Spec(
        "support link",
        "POST",
        on("support", "/support"),
        frozenset({"head_own", "pl_own"}),
        "support",
        body=lambda ctx, who: {"json": {"supporting_school_id": "sch-c", "area": "Maths"}},
        ok=201,
    ),
    Spec(
        "support activity",
        "POST",
        lambda ctx, who: f"/cycles/{ctx.cycles['support']}/support/{ctx.ids['link']}/activities",
        frozenset({"head_own", "pl_own"}),
        "support",
        body=lambda ctx, who: {"json": {"text": "Maths lead visit"}},
        ok=201,
    ),
    Spec(
        "action status",
        "POST",
        lambda ctx, who: (
            f"/cycles/{ctx.cycles['follow']}/actions/{ctx.ids['follow_action']}/status"
        ),
        frozenset({"head_own", "pl_own"}),
        "follow",
        body=lambda ctx, who: {"json": {"status": "met"}},
    ),
    Spec(
        "share report",
        "POST",
        on("follow", "/shares"),
        frozenset({"head_own"}),
        "follow",
        body=lambda ctx, who: {"json": {"grantee_kind": "person", "grantee_id": "p-head-y"}},
        ok=201,
    ),
    Spec(
        "erase evidence",
        "POST",
        lambda ctx, who: f"/cycles/{ctx.cycle('self')}/evidence/{ctx.id('erase')}/erasure",
        frozenset({"admin", "head_own"}),
        "self",
        body=lambda ctx, who: {"json": {"reason": "Pupil's name visible"}},
        fresh="evidence",
        ok=204,
    ),
    Spec(
        "break the glass",
        "POST",
        on("self", "/break-glass"),
        ADMIN,
        "self",
        body=lambda ctx, who: {"json": {"reason": "A complaint about the review visit"}},
        fresh="self",  # it opens the report to the admin: never on a cycle others test on
        ok=201,
    ),
    # -- the schools taking part (the SPP's stages collect none: nobody adds one) ---------------
    Spec("participants", "GET", on("follow", "/participants"), V, "follow"),
    Spec(
        "add a participant",
        "POST",
        on("self", "/participants"),
        frozenset(),
        "self",
        body=lambda ctx, who: {"json": {"school_id": "sch-y"}},
        deny=409,  # seen, but not collected at this stage
    ),
    Spec(
        "remove a participant",
        "DELETE",
        on("self", "/participants/sch-y"),
        frozenset(),
        "self",
        deny=409,
    ),
    # -- moving ---------------------------------------------------------------------------------
    Spec(
        "submit self-review",
        "POST",
        on("ready", "/transitions/submit_self_review"),
        frozenset({"head_own"}),
        "self",
        fresh="ready",
    ),
    Spec(
        "pause",
        "POST",
        on("ready", "/transitions/pause"),
        frozenset({"pl_own"}),
        "self",
        fresh="ready",
    ),
    Spec(
        "force a blocked move",
        "POST",
        on("self", "/transitions/submit_self_review"),
        ADMIN,
        "self",
        body=lambda ctx, who: {"json": {"force_reason": "Paper self-review accepted"}},
        fresh="self",
    ),
    Spec(
        "start a cycle",
        "POST",
        lambda ctx, who: "/cycles",
        frozenset({"admin", "pl_own"}),
        body=lambda ctx, who: {"json": {"template_id": "spp-cycle", "host_school_id": "sch-h"}},
        ok=201,
    ),
    Spec("list cycles", "GET", lambda ctx, who: "/cycles", EVERYONE),
    # -- directory, templates, tokens -----------------------------------------------------------
    Spec("networks", "GET", lambda ctx, who: "/networks", EVERYONE),
    Spec("a network's calendar", "GET", lambda ctx, who: "/networks/nlc-n/calendar", EVERYONE),
    Spec(
        "set a network's calendar",
        "PUT",
        lambda ctx, who: "/networks/nlc-s/calendar",
        ADMIN,
        body=lambda ctx, who: {
            "json": {"terms": [{"name": "Autumn", "first": "2026-09-03", "last": "2026-12-18"}]}
        },
    ),
    Spec("drop a network's calendar", "DELETE", lambda ctx, who: "/networks/nlc-s/calendar", ADMIN),
    Spec("schools", "GET", lambda ctx, who: "/schools", EVERYONE),
    Spec("templates", "GET", lambda ctx, who: "/templates", EVERYONE),
    Spec("template", "GET", lambda ctx, who: "/templates/spp-cycle/versions/1", EVERYONE),
    Spec("diagram", "GET", lambda ctx, who: "/templates/spp-cycle/versions/1/diagram", EVERYONE),
    Spec("me", "GET", lambda ctx, who: "/people/me", EVERYONE),
    Spec(
        "a person",
        "GET",
        lambda ctx, who: "/people/p-head-h",
        PEOPLE_SEERS,
        deny=404,
    ),
    Spec(
        "a person's grants",
        "GET",
        lambda ctx, who: "/people/p-head-h/grants",
        frozenset({"admin", "head_own"}),
        hidden_from=EVERYONE - PEOPLE_SEERS,
    ),
    # -- data protection: exports and erasure ---------------------------------------------
    Spec("export a school", "GET", lambda ctx, who: "/schools/sch-h/export", ADMIN),
    Spec(
        "export a person",
        "GET",
        lambda ctx, who: "/people/p-head-h/export",
        frozenset({"admin", "head_own"}),  # the person themselves, or the admin
    ),
    Spec(
        "erase a person",
        "POST",
        lambda ctx, who: f"/people/{ctx.id('erasable')}/erasure",
        ADMIN,
        body=lambda ctx, who: {"json": {"asked_by": "The person", "reason": "Request 1/12"}},
        fresh="person",  # a person of their own: an erasure is once only
        ok=201,
    ),
    Spec("my tokens", "GET", lambda ctx, who: "/tokens", EVERYONE),
    Spec("my notifications", "GET", lambda ctx, who: "/me/notifications", EVERYONE),
    Spec("my tasks", "GET", lambda ctx, who: "/me/tasks", EVERYONE),
    Spec("make my feed link", "POST", lambda ctx, who: "/me/calendar-feed", EVERYONE, ok=201),
    Spec("my feed link", "GET", lambda ctx, who: "/me/calendar-feed", EVERYONE),
    Spec("revoke my feed link", "DELETE", lambda ctx, who: "/me/calendar-feed", EVERYONE, ok=204),
    Spec(
        "mark my notifications read",
        "POST",
        lambda ctx, who: "/me/notifications/read",
        EVERYONE,
        body=lambda ctx, who: {"json": {}},
    ),
    Spec(
        "my email preference",
        "PUT",
        lambda ctx, who: "/me/notification-preference",
        EVERYONE,
        body=lambda ctx, who: {"json": {"email": "immediate"}},
        ok=204,
    ),
    Spec(
        "add network",
        "POST",
        lambda ctx, who: "/networks",
        ADMIN,
        body=lambda ctx, who: {"json": {"id": f"nlc-{uid()}", "name": "East NLC"}},
        ok=201,
    ),
    Spec(
        "add school",
        "POST",
        lambda ctx, who: "/schools",
        ADMIN,
        body=lambda ctx, who: {
            "json": {"urn": f"30{uid()}", "name": "New School", "phase": "Primary"}
        },
        ok=201,
    ),
    Spec(
        "add person",
        "POST",
        lambda ctx, who: "/people",
        ADMIN,
        body=lambda ctx, who: {"json": {"name": "New Person", "email": f"n{uid()}@x.example"}},
        ok=201,
    ),
    Spec(
        "grant a role",
        "POST",
        lambda ctx, who: "/grants",
        ADMIN,
        body=lambda ctx, who: {
            "json": {
                "person_id": "p-head-y",
                "role": "school_staff",
                "scope_kind": "school",
                "scope_id": "sch-y",
            }
        },
        ok=201,
    ),
    Spec(
        "issue token",
        "POST",
        lambda ctx, who: "/tokens",
        ADMIN,
        body=lambda ctx, who: {"json": {"person_id": "p-head-y"}},
        ok=201,
    ),
    Spec(
        "revoke a head's token",
        "DELETE",
        lambda ctx, who: f"/tokens/{ctx.id('token')}",
        frozenset({"admin", "head_own"}),
        fresh="token",
        deny=404,
    ),
    Spec(
        "upload template",
        "POST",
        lambda ctx, who: "/templates",
        ADMIN,
        body=lambda ctx, who: {
            "content": (Path(__file__).resolve().parents[2] / "workflows/spp-cycle.yaml")
            .read_text()
            # A new template each time: its versions go up one at a time from 1.
            .replace("id: spp-cycle", f"id: spp-matrix-{next(_n)}", 1),
            "headers": {"content-type": "application/yaml"},
        },
        ok=201,
    ),
    Spec(
        "publish template",
        "POST",
        lambda ctx, who: "/templates/spp-cycle/versions/1/publish",
        ADMIN,
    ),
    Spec(
        "dry run of a template",
        "POST",
        lambda ctx, who: "/templates/spp-cycle/versions/1/dry-run",
        EVERYONE,
        body=lambda ctx, who: {"json": {"start": "2026-10-19", "network_id": "nlc-n"}},
    ),
    Spec(
        "preview moving cycles to a version",
        "POST",
        lambda ctx, who: "/templates/spp-cycle/versions/1/migration-preview",
        ADMIN,
        body=lambda ctx, who: {"json": {}},
    ),
    Spec(
        "move cycles to a version",
        "POST",
        lambda ctx, who: "/templates/spp-cycle/versions/1/migrations",
        ADMIN,
        body=lambda ctx, who: {"json": {"reason": "The partnership agreed the new version"}},
    ),
    Spec("series", "GET", lambda ctx, who: "/series", EVERYONE),
    Spec(
        "make a series",
        "POST",
        lambda ctx, who: "/series",
        frozenset({"admin", "pl_own"}),
        body=lambda ctx, who: {
            "json": {"template_id": "spp-cycle", "host_school_id": "sch-h", "days": ["2026-10-01"]}
        },
        ok=201,
    ),
    Spec(
        "cancel a series",
        "POST",
        lambda ctx, who: f"/series/{_series_of_its_own(ctx)}/cancellation",
        frozenset({"admin", "pl_own"}),
        hidden_from=EVERYONE - {"admin", "pl_own", "chair_own", "head_own", "staff_own"},
    ),
    Spec(
        "retire a template version",
        "POST",
        lambda ctx, who: f"{_template_of_its_own(ctx, who, publish=True)}/retirement",
        ADMIN,
    ),
    Spec(
        "delete a draft template version",
        "DELETE",
        lambda ctx, who: _template_of_its_own(ctx, who, publish=False),
        ADMIN,
        ok=204,
    ),
]


def _series_of_its_own(ctx: Ctx) -> str:
    """A series of the own school, made by the admin, for each caller to try to cancel."""
    body = {"template_id": "spp-cycle", "host_school_id": "sch-h", "days": ["2026-10-01"]}
    r = ctx.w.post("admin", "/series", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _template_of_its_own(ctx: Ctx, who: str, *, publish: bool) -> str:
    """A version of a template of its own for the admin to retire or delete (the others are
    refused on the SPP's, which stays as it is)."""
    if who != "admin":
        return "/templates/spp-cycle/versions/1"
    n = uid()
    text = (Path(__file__).resolve().parents[2] / "workflows/spp-cycle.yaml").read_text()
    text = text.replace("id: spp-cycle", f"id: spp-lifecycle-{n}", 1)
    query = "?publish=true" if publish else ""
    r = ctx.w.post(
        "admin", f"/templates{query}", content=text, headers={"content-type": "text/yaml"}
    )
    assert r.status_code == 201, r.text
    return f"/templates/spp-lifecycle-{n}/versions/1"


CASES = [(s, who) for s in SPECS for who in PRINCIPALS]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    for w in open_world(tmp_path_factory.mktemp("matrix")):
        with w.container.uow() as uow:  # someone outside the matrix to share with
            uow.directory.add_person(Person("p-head-y", "Yew Head", "y@x.example", "sch-y"))
            uow.directory.add_grant(Grant("g-y", "p-head-y", "school_lead", "school", "sch-y"))
            uow.commit()
        c = Ctx(w)
        c.cycles["self"] = start(w)
        c.cycles["ready"] = c.fresh("ready")
        for key, stage in (
            ("pre", "pre_review"),
            ("peer", "peer_review"),
            ("workshop", "improvement_workshop"),
            ("support", "support"),
            ("follow", "follow_up"),
        ):
            c.cycles[key] = c.fresh(stage)
        cyc = ok(w.get("head_own", f"/cycles/{c.cycles['follow']}"))
        c.ids["file"] = next(e["id"] for e in cyc["evidence"] if e["file_name"])
        c.ids["follow_action"] = cyc["actions"][0]["id"]
        c.ids["link"] = ok(w.get("head_own", f"/cycles/{c.cycles['support']}/support"))[0]["id"]
        c.ids["action"] = ok(
            w.post(
                "head_own",
                f"/cycles/{c.cycles['workshop']}/actions",
                json={"title": "Reading fair", "owner": "Head"},
            ),
            201,
        )["id"]
        c.ids["erase"] = evidence(w, "head_own", c.cycles["self"], "impact.outcomes")["id"]
        c.ids["token"] = ok(w.get("head_own", "/tokens"))[0]["id"]
        c.ids["erasable"] = "p-head-y"  # refused to everyone but the admin, who gets their own
        yield c


def _prepare(ctx: Ctx, spec: Spec) -> None:
    """Give an allowed caller a target of their own, for cases that use theirs up."""
    w = ctx.w
    if spec.fresh in ("ready", "self"):
        ctx.own[spec.fresh] = ctx.fresh(spec.fresh)
    elif spec.fresh == "evidence":
        ctx.own["erase"] = evidence(w, "head_own", ctx.cycles["self"], "impact.outcomes")["id"]
    elif spec.fresh == "person":
        made = {"name": "Erin Erasable", "email": f"erin.{uid()}@x.example"}
        ctx.own["erasable"] = ok(w.post("admin", "/people", json=made), 201)["id"]
    elif spec.fresh == "token":
        ctx.own["token"] = ok(
            w.post("admin", "/tokens", json={"person_id": "p-head-h", "name": "spare"}), 201
        )["id"]


@pytest.mark.parametrize(("spec", "who"), CASES, ids=[f"{s.name}-{who}" for s, who in CASES])
def test_matrix(ctx: Ctx, spec: Spec, who: str) -> None:
    expected = spec.expected(who)
    ctx.own.clear()
    if spec.fresh and expected == spec.ok:
        _prepare(ctx, spec)
    kwargs = spec.body(ctx, who) if spec.body else {}
    path = spec.path(ctx, who)
    if spec.method == "POST" and "/transitions/" in path:
        kwargs.setdefault("headers", {})["If-Match"] = ctx.w.version("admin", path.split("/")[2])
    r = ctx.w.call(None if who == "anonymous" else who, spec.method, path, **kwargs)
    assert r.status_code == expected, f"{spec.name} as {who}: {r.status_code} {r.text[:300]}"
    if expected >= 400:
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == expected


def test_matrix_covers_every_route_and_role(ctx: Ctx) -> None:
    """Every route of the API was called in the matrix (the request metrics say which), but
    for the public ones and a few with tests of their own (test_api.py)."""
    import re

    metrics = ctx.w.app.state["metrics"]
    called = {
        (s.labels["method"], s.labels["route"])
        for metric in metrics.registry.collect()
        if metric.name == "peerloop_http_requests"
        for s in metric.samples
        if s.name.endswith("_total")
    }
    routes = {
        (method, re.sub(r":\w+}", "}", route.path))
        for route in ctx.w.app.routes
        for method in getattr(route, "methods", set())
        if method not in ("OPTIONS", "HEAD")
    }
    elsewhere = {
        ("GET", "/health"),
        ("GET", "/metrics"),
        ("GET", "/reference"),
        ("GET", "/schema"),
        ("GET", "/schema/openapi.json"),
        ("GET", "/schema/{path}"),
        ("POST", "/auth/login"),
        ("POST", "/templates/validation"),
        ("GET", "/templates/{template_id}"),
        ("GET", "/people"),
        ("GET", "/people/me/deadlines.ics"),
        ("GET", "/calendar/{feed}"),
        ("PUT", "/people/{person_id}/password"),
        ("GET", "/networks/{network_id}"),
        ("GET", "/schools/{school_id}"),
        ("DELETE", "/grants/{grant_id}"),
        ("DELETE", "/cycles/{cycle_id}/team/{person_id}"),
        ("DELETE", "/cycles/{cycle_id}/shares/{share_id}"),
    }
    # The pages (and their assets) answer a browser's session, not a bearer token: their
    # access rules are the use cases' own, tested through them in test_pages.py.
    elsewhere |= {(m, p) for m, p in routes if p == "/" or p.startswith(("/app", "/static"))}
    assert routes - elsewhere <= called, sorted(routes - elsewhere - called)
    print(
        f"\nauthorization matrix: {len(SPECS)} endpoints x {len(PRINCIPALS)} callers "
        f"= {len(CASES)} cases over {len(routes - elsewhere)} of {len(routes)} routes"
    )
    assert len(CASES) == len(SPECS) * len(PRINCIPALS)
