"""The demo partnership: a fictional borough with three NLCs, people in every role, and cycles
spread over every stage, moved there by the same rules people follow (nothing is forced)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from adapters.clock import FixedClock
from engine import records as R
from engine.cycle import Actor, Cycle, Member
from engine.directory import Grant, Network, Person, School
from engine.requirements import resolved_params
from engine.template import Template
from service.auth import hash_password, issue_token
from service.usecases.core import Peerloop

__all__ = [
    "DEMO_PEOPLE",
    "DEMO_STEPS",
    "DemoCredentials",
    "DemoSummary",
    "demo_credentials",
    "load_demo",
]

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"

# name, phase, urn; every name is invented.
_NLCS: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "nlc-north": (
        "Northbank NLC",
        [
            ("Alder Grove Primary School", "Primary", "131201"),
            ("Brookfield Primary School", "Primary", "131202"),
            ("Northbank Academy", "Secondary", "138304"),
            ("Kestrel Nursery School", "Nursery", "100505"),
            ("Wrenfield Special School", "Special", "102606"),
        ],
    ),
    "nlc-central": (
        "Central Riverside NLC",
        [
            ("St Anselm's CE Primary School", "Primary", "133107"),
            ("Riverside Green Primary School", "Primary", "133108"),
            ("Mulberry Park Secondary School", "Secondary", "139209"),
            ("Foxglove Infant School", "Primary", "133110"),
        ],
    ),
    "nlc-south": (
        "Southmere NLC",
        [
            ("Southmere Primary School", "Primary", "134111"),
            ("Hollybank Junior School", "Primary", "134112"),
            ("Larkrise All-Through School", "All-through", "141213"),
            ("Oakhurst Primary School", "Primary", "134114"),
            ("Willowmead Secondary School", "Secondary", "140215"),
            ("Cedar Lodge Special School", "Special", "102716"),
        ],
    ),
}

_FIRST = [
    "Amira",
    "Ben",
    "Chloe",
    "Dev",
    "Ellen",
    "Farid",
    "Grace",
    "Hugo",
    "Isla",
    "Jonah",
    "Kemi",
    "Leo",
    "Maya",
    "Niall",
    "Orla",
    "Priya",
    "Quentin",
    "Rosa",
    "Sami",
    "Tess",
]
_LAST = [
    "Adeyemi",
    "Brennan",
    "Clarke",
    "Desai",
    "Evans",
    "Fischer",
    "Greene",
    "Hughes",
    "Iqbal",
    "Jones",
    "Kowalski",
    "Lewis",
    "Mensah",
    "Novak",
    "Okafor",
    "Patel",
]

DEMO_STEPS = 2 + sum(len(schools) for _, schools in _NLCS.values())
"""How many times `load_demo` reports progress."""

DEMO_PEOPLE = {
    "admin": "p-admin",
    "network_lead": "p-chair-north",
    "partnership_lead": "p-pl-north",
    "school_lead": "p-head-131201",
    "school_staff": "p-staff-131201",
    "review_lead": "p-head-131202",
    "reviewer": "p-head-138304",
    "improvement_champion": "p-head-133107",
}
"""One person per role, for the tokens `make run` prints and the README tour."""

# Where each demo cycle is taken, by template: the main path, stage by stage.
_PATHS = {
    "spp-cycle": [
        "submit_self_review",
        "start_peer_review",
        "complete_peer_review",
        "agree_actions",
        "begin_follow_up",
        "close",
    ],
    "cqa": ["agree_data_and_audit", "complete_review_days", "agree_profile", "agree_plan", "close"],
}


@dataclass
class DemoSummary:
    networks: int = 0
    schools: int = 0
    people: int = 0
    cycles: dict[str, str] = field(default_factory=dict)


@dataclass
class DemoCredentials:
    """The demo people's password, and a token per role (person, secret): shown once."""

    password: str
    tokens: dict[str, tuple[Person, str]]


DEMO_ISSUER = "system:operator"
"""Who the demo's tokens are recorded as made by: the process on the server that loaded it."""


def demo_credentials(app: Peerloop, now: datetime) -> DemoCredentials:
    """A fresh password for the people of `DEMO_PEOPLE` and a token (valid 7 days) for each,
    made with the demo itself (in the loading transaction): the tokens name the operator as
    their issuer, and nobody is notified, since the demo's people come into being with them.
    Random each load, so that a demo is never open to a password anyone could guess."""
    password = secrets.token_urlsafe(9)
    digest = hash_password(password)
    tokens: dict[str, tuple[Person, str]] = {}
    with app.uow() as uow:
        for role, person_id in DEMO_PEOPLE.items():
            person = uow.directory.get_person(person_id)
            uow.credentials.set_password(person_id, digest, now)
            until = now + timedelta(days=7)
            _, secret = issue_token(uow, person_id, "demo", now, until, issued_by=DEMO_ISSUER)
            tokens[role] = (person, secret)
        uow.commit()
    return DemoCredentials(password, tokens)


def load_demo(
    app: Peerloop, now: datetime, progress: Callable[[str], None] = lambda _: None
) -> DemoSummary:
    """Load the demo into an empty database. `now` is the present; cycles started in the past."""
    rng = random.Random(20261123)  # noqa: S311 - not for secrets: the same demo every time
    summary = DemoSummary()
    names = iter(rng.sample([f"{first} {last}" for first in _FIRST for last in _LAST], 120))
    heads: dict[str, str] = {}
    with app.uow() as uow:
        d = uow.directory
        d.add_person(Person("p-admin", "Pat Admin", "admin@peerloop.example", None))
        d.add_grant(Grant("g-admin", "p-admin", "admin", "global"))
        for net_id, (net_name, schools) in _NLCS.items():
            short = net_id.removeprefix("nlc-")
            d.add_network(Network(net_id, net_name))
            summary.networks += 1
            for name, phase, urn in schools:
                sid = f"sch-{urn}"
                d.add_school(School(sid, urn, name, phase, net_id))
                summary.schools += 1
                for kind, role in (("head", "school_lead"), ("staff", "school_staff")):
                    pid = f"p-{kind}-{urn}"
                    full = next(names)
                    d.add_person(Person(pid, full, _email(full, urn), sid))
                    d.add_grant(Grant(f"g-{kind}-{urn}", pid, role, "school", sid))
                heads[sid] = f"p-head-{urn}"
            d.add_person(Person(f"p-chair-{short}", next(names), f"chair.{short}@peerloop.example"))
            d.add_grant(
                Grant(f"g-chair-{short}", f"p-chair-{short}", "network_lead", "network", net_id)
            )
            d.add_person(Person(f"p-pl-{short}", next(names), f"lead.{short}@peerloop.example"))
            d.add_grant(
                Grant(f"g-pl-{short}", f"p-pl-{short}", "partnership_lead", "network", net_id)
            )
        summary.people = len(d.people())
        uow.commit()
    progress("directory")
    for path in sorted(WORKFLOWS.glob("*.yaml")):
        app.upload_template(path.read_bytes(), path.name, publish=True)
    progress("templates")

    # Each school gets a cycle; how far it has got varies, and when it started decides which
    # deadlines have passed by `now`.
    plan: list[tuple[str, str, int, int]] = []  # school, template, steps taken, days ago
    urns = [urn for _, schools in _NLCS.values() for _, _, urn in schools]
    cqa_schools = set(urns[5:9] + urns[13:15])  # the central NLC, and two in the south
    spp_steps = cqa_steps = 0
    for i, urn in enumerate(urns):
        if urn in cqa_schools:
            template, steps = "cqa", cqa_steps % (len(_PATHS["cqa"]) + 1)
            cqa_steps += 1
        else:
            template, steps = "spp-cycle", spp_steps % (len(_PATHS["spp-cycle"]) + 1)
            spp_steps += 1
        # Early enough for every step to fit; some a little later, so their deadlines are close.
        plan.append((f"sch-{urn}", template, steps, 45 + 26 * steps + 9 * (i % 3)))
    for school_id, template_id, steps, days_ago in plan:
        cycle_id = f"cyc-{school_id.removeprefix('sch-')}"
        _run_cycle(app, now, cycle_id, school_id, template_id, steps, days_ago, heads, rng)
        summary.cycles[cycle_id] = app.cycle(cycle_id).stage
        progress(cycle_id)
    # One cycle on hold (a headship change), so the demo shows every kind of stage.
    paused = "cyc-" + next(u for u in reversed(urns) if u not in cqa_schools)
    app.fire(paused, "pause", lambda c: Actor("p-pl-south", frozenset({"partnership_lead"})))
    summary.cycles[paused] = "on_hold"
    return summary


def _email(full: str, urn: str) -> str:
    first, last = full.lower().split(" ", 1)
    return f"{first}.{last.replace(' ', '')}.{urn}@school.example"


def _run_cycle(
    base: Peerloop,
    now: datetime,
    cycle_id: str,
    school_id: str,
    template_id: str,
    steps: int,
    days_ago: int,
    heads: dict[str, str],
    rng: random.Random,
) -> None:
    clock = FixedClock(now - timedelta(days=days_ago))
    app = Peerloop(base.uow, clock, base.registry)
    with app.uow(readonly=True) as uow:
        school = uow.directory.get_school(school_id)
        others = [s for s in uow.directory.schools() if s.id != school_id]
    pl = Actor(
        f"p-pl-{(school.network_id or '').removeprefix('nlc-')}", frozenset({"partnership_lead"})
    )
    app.start_cycle(template_id, school_id, pl, cycle_id=cycle_id)
    cast = _Cast(school, heads, rng.sample(others, len(others)), pl)
    for name in _PATHS[template_id][:steps]:
        clock.advance(timedelta(days=rng.randint(12, 24)))
        if clock.now() >= now:
            break
        cycle = app.cycle(cycle_id)
        template = app.template(cycle.template_id, cycle.template_version)
        t = template.transition(name)
        assert t is not None
        for ref in t.requirements:
            _satisfy(app, template, cycle_id, ref.name, resolved_params(ref), cast, clock.now())
        role = t.roles[0]
        app.fire(cycle_id, name, lambda c, role=role: cast.actor(role, c))


class _Cast:
    """The people who play each role on one demo cycle."""

    def __init__(
        self, host: School, heads: dict[str, str], others: list[School], pl: Actor
    ) -> None:
        self.host = host
        self.heads = heads
        self.others = others
        self.pl = pl
        # The demo people of DEMO_PEOPLE take the same parts wherever they can, so that the
        # tokens `make run` prints (and the README tour) find them on real cycles.
        favourite = {"sch-131202": 0, "sch-138304": 1}
        others = sorted(others, key=lambda s: favourite.get(s.id, 2))
        self.team = [
            Member(heads[s.id], "review_lead" if i == 0 else "reviewer", s.id, s.network_id)
            for i, s in enumerate(others[:3])
        ]
        rest = [s for s in others[3:] if s.id == "sch-133107"] + others[3:]
        others = others[:3] + list(dict.fromkeys(rest))
        self.others = others
        champ_school = others[3]
        self.champion = Member(
            heads[champ_school.id], "improvement_champion", champ_school.id, champ_school.network_id
        )

    def actor(self, role: str, cycle: Cycle) -> Actor:
        urn = self.host.urn
        people = {
            "school_lead": f"p-head-{urn}",
            "school_staff": f"p-staff-{urn}",
            "partnership_lead": self.pl.id,
            "network_lead": self.pl.id.replace("p-pl-", "p-chair-"),
            "review_lead": self.team[0].person_id,
            "reviewer": self.team[1].person_id,
            "improvement_champion": self.champion.person_id,
        }
        return Actor(people[role], frozenset({role}))

    def by(self, t: Template, cycle: Cycle, kind: str) -> Actor:
        roles = t.stage(cycle.stage).collects[kind]
        return self.actor(roles[0], cycle)


def _satisfy(
    app: Peerloop,
    t: Template,
    cycle_id: str,
    name: str,
    p: dict[str, object],
    cast: _Cast,
    now: datetime,
) -> None:
    """Record what requirement `name` asks for, as the people allowed to record it."""

    def rec(kind: str, change: Callable[[Template, Cycle, Actor, datetime], object]) -> None:
        app.record(cycle_id, lambda c: cast.by(t, c, kind), change)  # type: ignore[arg-type]

    cycle = app.cycle(cycle_id)
    questions = t.framework.questions
    grade = t.framework.scale[1].id if t.framework.scale else None
    if name == "evidence_per_question":
        for q in questions:
            for n in range(int(str(p["min"])) - cycle.evidence_count(q.id)):
                rec(
                    "evidence",
                    lambda tt, c, a, at, q=q, n=n: R.add_evidence(
                        tt,
                        c,
                        a,
                        f"ev-{c.id}-{q.id}-{n}",
                        q.id,
                        f"{q.strand or 'Evidence'}: summary {n + 1}",
                        at,
                    ),
                )
    elif name in ("self_judgements_complete", "peer_judgements_complete"):
        kind = name.split("_")[0]
        for q in questions:
            rec(
                f"{kind}_judgements",
                lambda tt, c, a, at, q=q, kind=kind: R.record_judgement(
                    tt,
                    c,
                    a,
                    kind,
                    q.id,
                    "Secure practice, with clear next steps identified.",
                    grade,
                    at,
                ),
            )
    elif name == "focus_chosen":
        rec(
            "focus",
            lambda tt, c, a, at: R.set_focus(
                tt, c, a, ["Reading for pleasure in KS2", "Attendance of disadvantaged pupils"], at
            ),
        )
    elif name == "date_set":
        date_id = str(p["date"])
        if date_id not in cycle.dates:
            when = now + timedelta(days=2)
            rec(
                "dates",
                lambda tt, c, a, at: R.set_date(
                    tt, c, a, date_id, when, at, app.registry.calendars.for_network(c.network_id)
                ),
            )
    elif name in ("review_team_size", "review_lead_assigned", "review_team_independent"):
        for m in cast.team[
            : max(int(str(p.get("min", 1))), 1) if name == "review_team_size" else 1
        ]:
            if m.person_id not in app.cycle(cycle_id).team:
                rec("team", lambda tt, c, a, at, m=m: R.assign_member(tt, c, a, m, at))
    elif name == "champion_independent":
        rec("team", lambda tt, c, a, at: R.assign_member(tt, c, a, cast.champion, at))
    elif name == "findings_recorded":
        kinds = [str(k) for k in p["kinds"]] or list(t.finding_kinds)  # type: ignore[attr-defined]
        for kind in kinds:
            rec(
                "findings",
                lambda tt, c, a, at, kind=kind: R.add_finding(
                    tt,
                    c,
                    a,
                    f"f-{c.id}-{kind}",
                    kind,
                    _FINDINGS.get(kind, "Noted by the team."),
                    None,
                    at,
                ),
            )
    elif name == "actions_agreed":
        for n in range(int(str(p["min"]))):
            due = (now + timedelta(days=30 + 45 * n)).date()
            rec(
                "actions",
                lambda tt, c, a, at, n=n, due=due: R.save_action(
                    tt,
                    c,
                    a,
                    f"a-{c.id}-{n}",
                    _ACTIONS[n % len(_ACTIONS)],
                    "Deputy headteacher",
                    due,
                    "Seen in book looks and pupil voice at the follow-up",
                    at,
                ),
            )
    elif name == "actions_followed_up":
        for n, action_id in enumerate(sorted(cycle.actions)):
            status = ("met", "partially_met", "met")[n % 3]
            rec(
                "action_status",
                lambda tt, c, a, at, aid=action_id, s=status: R.set_action_status(
                    tt, c, a, aid, s, "Reviewed at the impact meeting", at
                ),
            )
    elif name == "support_logged":
        partner = cast.others[4]
        rec(
            "support",
            lambda tt, c, a, at: R.add_support_link(
                tt, c, a, f"l-{c.id}", partner.id, "Early reading and phonics", at
            ),
        )
        rec(
            "support",
            lambda tt, c, a, at: R.log_support_activity(
                tt, c, a, f"l-{c.id}", "Phonics lead visit and joint lesson study", at
            ),
        )
    elif name == "signed_off":
        for role in p["roles"]:  # type: ignore[attr-defined]
            app.record(
                cycle_id,
                lambda c, role=role: cast.actor(role, c),
                lambda tt, c, a, at: R.sign_off(tt, c, a, next(iter(a.roles)), at),
            )


_FINDINGS = {
    "strength": "Pupils talk confidently about their reading and choose books with enthusiasm.",
    "area_to_develop": "Feedback in writing is not yet consistently acted on by pupils.",
    "area_for_improvement": "Assessment information is not yet used to adapt lessons swiftly.",
    "www": "Leaders know the school well and share a clear vision.",
    "ebi": "Even better if subject leaders checked the impact of the curriculum more often.",
}
_ACTIONS = [
    "Introduce a whole-school feedback policy for writing",
    "Train subject leaders in monitoring curriculum impact",
    "Run termly reading-for-pleasure events with families",
]
