"""The fixed library of requirements: named, parameterised guards that explain why they fail.

Templates refer to requirements by name with parameters; they never carry code. Each check
returns the reasons it is unmet, worded for the person trying to move the cycle on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from engine.cycle import Cycle, Member
from engine.issues import Issue, shown
from engine.template import Question, RequirementRef, Template

__all__ = [
    "LIBRARY",
    "About",
    "ChampionProblem",
    "Param",
    "Reason",
    "RequirementDef",
    "ReviewerProblem",
    "champion_independence",
    "check_params",
    "evaluate",
    "owing",
    "reason",
    "resolved_params",
    "reviewer_independence",
    "same_network_allowed",
]

ParamKind = Literal["count", "flag", "roles", "finding_kinds", "date", "question", "judgement_kind"]
_REQUIRED = object()


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a move is blocked.

    Attributes:
        code: `role_not_allowed`, or the name of the unmet requirement.
        message: a sentence a review lead or head understands.
    """

    code: str
    message: str
    question_id: str | None = None
    """The framework question the reason is about, when it is about one (pages show it
    beside that question)."""
    brief: str = ""
    """What is missing, said beside the question (`message` names the question itself)."""


@dataclass(frozen=True, slots=True)
class About:
    """What a check finds unmet about one framework question."""

    question_id: str
    message: str
    brief: str


def reason(code: str, found: str | About) -> Reason:
    """The reason for what a check of requirement `code` found."""
    if isinstance(found, About):
        return Reason(code, found.message, found.question_id, found.brief)
    return Reason(code, found)


@dataclass(frozen=True, slots=True)
class Param:
    kind: ParamKind
    default: object = _REQUIRED
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


Check = Callable[[Template, Cycle, Mapping[str, object]], Iterator[str | About]]


@dataclass(frozen=True, slots=True)
class RequirementDef:
    name: str
    summary: str
    params: Mapping[str, Param]
    check: Check


def _label(q: Question) -> str:
    text = q.text if len(q.text) <= 60 else q.text[:57].rstrip() + "..."
    return f'question {q.id} ("{text}")'


def _judgements_complete(kind: str) -> Check:
    def check(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str | About]:
        graded = bool(t.framework.scale)
        for q in t.framework.questions:
            j = c.judgements.get((kind, q.id, None))
            if j is None:
                brief = f"no {kind}-judgement yet"
                yield About(q.id, f"{_label(q)} has {brief}", brief)
            elif graded and j.grade is None:
                message = f"the {kind}-judgement of {_label(q)} has no grade yet"
                yield About(q.id, message, f"the {kind}-judgement has no grade yet")

    return check


def _evidence_per_question(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str | About]:
    need = _count(p, "min")
    counts: dict[str, int] = {}
    for e in c.evidence.values():
        counts[e.question_id] = counts.get(e.question_id, 0) + 1
    for q in t.framework.questions:
        have = counts.get(q.id, 0)
        if have == 0 and need > 0:
            yield About(q.id, f"{_label(q)} has no evidence yet", "no evidence yet")
        elif have < need:
            brief = f"{have} piece(s) of evidence; {need} are needed"
            yield About(q.id, f"{_label(q)} has {brief}", brief)


def _focus_chosen(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    need = _count(p, "min")
    if len(c.focus) < need:
        yield (
            f"the host school has chosen {len(c.focus)} line(s) of enquiry; "
            f"at least {need} are needed"
        )


def _date_set(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    date_id = str(p["date"])
    if date_id not in c.dates:
        title = next((d.title or d.id for d in t.dates if d.id == date_id), date_id)
        yield f"the {title.lower()} has not been set"


def _team(t: Template, c: Cycle) -> list[str]:
    """Who is on the review: the team's members in a lead's or member's role of the template."""
    on_review = t.team_roles("lead", "member")
    return [pid for pid, m in c.team.items() if m.role in on_review]


def _review_team_size(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    low, high = _count(p, "min"), _count(p, "max")
    size = len(_team(t, c))
    if size < low:
        yield f"the review team has {size} member(s); it needs at least {low}"
    elif size > high:
        yield f"the review team has {size} members; it may have at most {high}"


def _review_lead_assigned(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    leads = t.team_roles("lead")
    if not any(m.role in leads for m in c.team.values()):
        yield "no review lead has been assigned to the review team"


ReviewerProblem = Literal["host_school", "host_network"]
ChampionProblem = Literal["on_review", "host_school", "review_school"]


def reviewer_independence(
    cycle: Cycle, member: Member, *, allow_same_network: bool
) -> list[ReviewerProblem]:
    """How a review team member breaks the independence rule on `cycle`, as codes.

    `host_school`: they are from the host school; `host_network`: from the host school's own
    network, where that is not allowed. Shared by the `review_team_independent` requirement
    (which refuses the move) and `records.team_warnings` (which warns on assignment).
    """
    if member.school_id == cycle.host_school_id:
        return ["host_school"]
    if (
        not allow_same_network
        and cycle.network_id is not None
        and member.network_id == cycle.network_id
    ):
        return ["host_network"]
    return []


def champion_independence(
    template: Template, cycle: Cycle, champion: Member
) -> list[ChampionProblem]:
    """How an improvement champion breaks the independence rule on `cycle`, as codes.

    `on_review`: they are on the review team; `host_school`: from the host school;
    `review_school`: from a school a review team member is from. Shared like
    `reviewer_independence`.
    """
    problems: list[ChampionProblem] = []
    if champion.person_id in cycle.team:
        problems.append("on_review")
    if champion.school_id == cycle.host_school_id:
        problems.append("host_school")
    team_schools = {cycle.team[pid].school_id for pid in _team(template, cycle)} - {None}
    if champion.school_id in team_schools:
        problems.append("review_school")
    return problems


def same_network_allowed(template: Template) -> bool:
    """False when any transition's `review_team_independent` forbids the host's network."""
    return all(
        bool(resolved_params(ref)["allow_same_network"])
        for t in template.transitions
        for ref in t.requirements
        if ref.name == "review_team_independent"
    )


_REVIEWER_REASONS: Mapping[ReviewerProblem, str] = {
    "host_school": "reviewer {pid} is from the host school",
    "host_network": "reviewer {pid} is from the host school's own network",
}
_CHAMPION_REASONS: Mapping[ChampionProblem, str] = {
    "on_review": "the improvement champion {pid} was on the review team",
    "host_school": "the improvement champion {pid} is from the host school",
    "review_school": "the improvement champion {pid} is from a school that was on the review",
}


def _review_team_independent(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    same_network_ok = bool(p["allow_same_network"])
    for pid in _team(t, c):
        for problem in reviewer_independence(c, c.team[pid], allow_same_network=same_network_ok):
            yield _REVIEWER_REASONS[problem].format(pid=pid)


def _champion_independent(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    champ = c.champion
    if champ is None:
        yield "no improvement champion has been assigned"
        return
    for problem in champion_independence(t, c, champ):
        yield _CHAMPION_REASONS[problem].format(pid=champ.person_id)


def _findings_recorded(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    need = _count(p, "min")
    kinds = [str(k) for k in _as_list(p["kinds"])]
    if not kinds:
        if len(c.findings) < need:
            yield f"{len(c.findings)} finding(s) recorded; at least {need} are needed"
        return
    for kind in kinds:
        have = sum(1 for f in c.findings.values() if f.kind == kind)
        if have < need:
            yield f"{have} finding(s) of kind {kind!r} recorded; at least {need} are needed"


def _actions_agreed(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    need = _count(p, "min")
    if len(c.actions) < need:
        yield f"{len(c.actions)} action(s) agreed; at least {need} are needed"
    for a in c.actions.values():
        missing = [
            name
            for name, ok in (
                ("owner", bool(a.owner.strip())),
                ("due date", a.due is not None),
                ("success criteria", bool(a.success_criteria.strip())),
            )
            if not ok
        ]
        if missing:
            yield f'action {a.id} ("{a.title}") has no ' + ", no ".join(missing)


def _actions_followed_up(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    final = bool(p["final"])
    for a in c.actions.values():
        if a.status is None:
            yield f'action {a.id} ("{a.title}") has no follow-up status yet'
        elif final and not a.is_done:
            yield (
                f'action {a.id} ("{a.title}") is {a.status.replace("_", " ")}; '
                "the impact review needs met, partially met or not met"
            )


def _support_logged(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    need = _count(p, "min")
    active = [s for s in c.support.values() if s.activities]
    if len(active) < need:
        yield (f"{len(active)} support link(s) with logged activity; at least {need} are needed")


def _signed_off(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    titles = {r.id: r.title or r.id for r in t.roles}
    # A sign-off in the role counts whoever gave it: for the cycle, or for their school.
    given = {(stage, role) for stage, role, _ in c.signoffs}
    for role in _as_list(p["roles"]):
        if (c.stage, str(role)) not in given:
            yield f"not yet signed off by the {titles.get(str(role), str(role)).lower()}"


def _counted_schools(c: Cycle, p: Mapping[str, object]) -> dict[str, str]:
    """The schools a requirement over participants asks of, by id with their names: those
    taking part, and the lead school too when `lead_too`."""
    if p["lead_too"]:
        return _schools_in(c)
    return {sid: part.name for sid, part in c.participants.items()}


def _each_participant_judgement(
    t: Template, c: Cycle, p: Mapping[str, object]
) -> Iterator[str | About]:
    kind = str(p["kind"])
    schools = _counted_schools(c, p)
    for q in t.framework.questions:
        if p["question"] not in (None, q.id):
            continue
        short = [name for sid, name in schools.items() if (kind, q.id, sid) not in c.judgements]
        if short:
            brief = (
                f"{len(short)} of {len(schools)} school(s) have no {kind}-judgement yet: "
                f"{_short(short)}"
            )
            yield About(q.id, f"for {_label(q)}, {brief}", brief)


def _each_participant_signed_off(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    roles = {str(r) for r in _as_list(p["roles"])}
    schools = _counted_schools(c, p)
    done = {school for stage, role, school in c.signoffs if stage == c.stage and role in roles}
    short = [name for sid, name in schools.items() if sid not in done]
    if short:
        titles = {r.id: r.title or r.id for r in t.roles}
        who = " or ".join(titles.get(r, r).lower() for r in sorted(roles))
        yield (
            f"{len(short)} of {len(schools)} school(s) have not yet signed off (as {who}): "
            f"{_short(short)}"
        )


def _schools_in(c: Cycle) -> dict[str, str]:
    """The schools taking part, host first, with the names the cycle knows (the host's is
    not kept on the cycle: "the lead school")."""
    return {c.host_school_id: "the lead school"} | {
        sid: p.name for sid, p in c.participants.items()
    }


def _short(names: list[str]) -> str:
    if len(names) <= 5:
        return ", ".join(names)
    return f"{', '.join(names[:5])} and {len(names) - 5} more"


def _participants(t: Template, c: Cycle, p: Mapping[str, object]) -> Iterator[str]:
    need = _count(p, "min")
    if len(c.participants) < need:
        yield (
            f"{len(c.participants)} school(s) take part beside the lead school; at least "
            f"{need} are needed"
        )


def _evidence_short(
    t: Template, c: Cycle, p: Mapping[str, object]
) -> Iterator[tuple[Question, dict[str, str], dict[str, int]]]:
    """For each question asked for, the schools counted (by id, with their names) and those
    of them with fewer pieces of evidence than needed (with how many they have)."""
    need = _count(p, "min")
    schools = _counted_schools(c, p)
    for q in t.framework.questions:
        if p["question"] not in (None, q.id):
            continue
        have = dict.fromkeys(schools, 0)
        for e in c.evidence.values():
            if e.question_id == q.id and e.school_id in have:
                have[e.school_id] += 1
        yield q, schools, {sid: n for sid, n in have.items() if n < need}


def owing(template: Template, cycle: Cycle) -> frozenset[str] | None:
    """The schools of the cycle (the lead among them) that still owe what a move out of its
    stage requires of each school (`each_participant_evidence`, `..._judgement`,
    `..._signed_off`): whom a reminder is for. None when no move out of the stage requires
    anything of each school."""
    found: set[str] | None = None
    for move in template.transitions_from(cycle.stage):
        for ref in move.requirements:
            if ref.name not in _OF_EACH_SCHOOL:
                continue
            found = found or set()
            params = resolved_params(ref)
            if ref.name == "each_participant_evidence":
                for _, _, short in _evidence_short(template, cycle, params):
                    found |= set(short)
                continue
            names = _counted_schools(cycle, params)
            if ref.name == "each_participant_signed_off":
                roles = {str(r) for r in _as_list(params["roles"])}
                done = {s for st, r, s in cycle.signoffs if st == cycle.stage and r in roles}
                found |= set(names) - done
            else:
                kind, asked = str(params["kind"]), params["question"]
                for q in template.framework.questions:
                    if asked in (None, q.id):
                        found |= {sid for sid in names if (kind, q.id, sid) not in cycle.judgements}
    return None if found is None else frozenset(found)


_OF_EACH_SCHOOL = frozenset(
    {"each_participant_evidence", "each_participant_judgement", "each_participant_signed_off"}
)


def _each_participant_evidence(
    t: Template, c: Cycle, p: Mapping[str, object]
) -> Iterator[str | About]:
    need = _count(p, "min")
    for q, schools, have in _evidence_short(t, c, p):
        short = [f"{schools[sid]} ({n})" for sid, n in have.items()]
        if short:
            brief = (
                f"{len(short)} of {len(schools)} school(s) have fewer than {need} piece(s) of "
                f"evidence: {_short(short)}"
            )
            yield About(q.id, f"for {_label(q)}, {brief}", brief)


def _count(p: Mapping[str, object], key: str) -> int:
    value = p[key]
    # Parameters were type-checked by the validator before the template could be built.
    assert isinstance(value, int)
    return value


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _def(name: str, summary: str, check: Check, **params: Param) -> RequirementDef:
    return RequirementDef(name=name, summary=summary, params=params, check=check)


LIBRARY: Mapping[str, RequirementDef] = {
    d.name: d
    for d in (
        _def(
            "self_judgements_complete",
            "every framework question has a self-judgement (graded, if the scale has points)",
            _judgements_complete("self"),
        ),
        _def(
            "peer_judgements_complete",
            "every framework question has a peer judgement (graded, if the scale has points)",
            _judgements_complete("peer"),
        ),
        _def(
            "evidence_per_question",
            "every framework question has at least `min` pieces of evidence",
            _evidence_per_question,
            min=Param("count", 1, "pieces of evidence needed per question"),
        ),
        _def(
            "focus_chosen",
            "the host school has chosen at least `min` lines of enquiry",
            _focus_chosen,
            min=Param("count", 1, "lines of enquiry needed"),
        ),
        _def(
            "date_set",
            "the cycle date `date` has been set",
            _date_set,
            date=Param("date", doc="a date declared under `dates`"),
        ),
        _def(
            "review_team_size",
            "the review team has between `min` and `max` members",
            _review_team_size,
            min=Param("count", 3),
            max=Param("count", 4),
        ),
        _def(
            "review_lead_assigned",
            "one member of the review team is its review lead",
            _review_lead_assigned,
        ),
        _def(
            "review_team_independent",
            "no reviewer is from the host school (nor its network, unless allowed)",
            _review_team_independent,
            allow_same_network=Param("flag", True),
        ),
        _def(
            "champion_independent",
            "an improvement champion is assigned who was not on the review, nor from its schools",
            _champion_independent,
        ),
        _def(
            "findings_recorded",
            "at least `min` findings (of each kind in `kinds`, when given)",
            _findings_recorded,
            min=Param("count", 1),
            kinds=Param("finding_kinds", []),
        ),
        _def(
            "actions_agreed",
            "at least `min` actions, each with an owner, a due date and success criteria",
            _actions_agreed,
            min=Param("count", 1),
        ),
        _def(
            "actions_followed_up",
            "every action has a follow-up status (a final one: met, partially or not, if `final`)",
            _actions_followed_up,
            final=Param("flag", False),
        ),
        _def(
            "support_logged",
            "at least `min` support links with logged activity",
            _support_logged,
            min=Param("count", 1),
        ),
        _def(
            "participants",
            "at least `min` schools take part beside the lead (host) school",
            _participants,
            min=Param("count", 1, "schools needed beside the lead school"),
        ),
        _def(
            "each_participant_evidence",
            "each participating school has at least `min` pieces of evidence for every"
            " framework question (or for `question` only), naming the schools short of it",
            _each_participant_evidence,
            min=Param("count", 1, "pieces of evidence needed from each school"),
            question=Param("question", None, "one framework question (all when left out)"),
            lead_too=Param("flag", False, "the lead school must send them too"),
        ),
        _def(
            "each_participant_judgement",
            "each participating school has a judgement of `kind` (peer or self) on every"
            " framework question (or on `question` only), naming the schools without one",
            _each_participant_judgement,
            kind=Param("judgement_kind", "peer", "peer or self"),
            question=Param("question", None, "one framework question (all when left out)"),
            lead_too=Param("flag", False, "the lead school needs one too"),
        ),
        _def(
            "each_participant_signed_off",
            "each participating school has signed off the current stage in one of `roles`,"
            " naming the schools that have not",
            _each_participant_signed_off,
            roles=Param("roles"),
            lead_too=Param("flag", False, "the lead school signs off too"),
        ),
        _def(
            "signed_off",
            "the current stage is signed off by every role in `roles`",
            _signed_off,
            roles=Param("roles"),
        ),
    )
}


def resolved_params(ref: RequirementRef) -> dict[str, object]:
    """The reference's parameters with the library's defaults filled in."""
    spec = LIBRARY[ref.name]
    out = {k: p.default for k, p in spec.params.items() if not p.required}
    out.update(ref.params)
    return out


def evaluate(template: Template, cycle: Cycle, ref: RequirementRef) -> list[Reason]:
    """Every reason `ref` is unmet for `cycle` (empty when it is met)."""
    spec = LIBRARY[ref.name]
    return [reason(ref.name, m) for m in spec.check(template, cycle, resolved_params(ref))]


def check_params(
    ref: RequirementRef,
    location: str,
    *,
    roles: frozenset[str],
    dates: frozenset[str],
    finding_kinds: frozenset[str],
    questions: frozenset[str] = frozenset(),
) -> list[Issue]:
    """Issues with a requirement reference: unknown name, unknown, missing or ill-typed params."""
    spec = LIBRARY.get(ref.name)
    if spec is None:
        known = ", ".join(sorted(LIBRARY))
        return [
            Issue(
                location,
                f"unknown requirement {shown(ref.name)}; known: {known}",
                "unknown_requirement",
            )
        ]
    issues: list[Issue] = []
    for key in ref.params:
        if key not in spec.params:
            allowed = ", ".join(spec.params) or "none"
            issues.append(
                Issue(
                    f"{location}.{key}",
                    f"{ref.name!r} has no parameter {shown(key)} (parameters: {allowed})",
                    "unknown_parameter",
                )
            )
    for key, param in spec.params.items():
        if key not in ref.params:
            if param.required:
                issues.append(
                    Issue(
                        f"{location}.{key}",
                        f"{ref.name!r} needs the parameter {key!r}",
                        "missing_parameter",
                    )
                )
            continue
        problem = _param_problem(param, ref.params[key], roles, dates, finding_kinds, questions)
        if problem:
            issues.append(Issue(f"{location}.{key}", problem, "bad_parameter"))
    values = resolved_params(ref)
    low, high = values.get("min"), values.get("max")
    if isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool) and low > high:
        issues.append(
            Issue(f"{location}.min", f"min ({low}) is greater than max ({high})", "bad_parameter")
        )
    return issues


def _param_problem(
    param: Param,
    value: object,
    roles: frozenset[str],
    dates: frozenset[str],
    finding_kinds: frozenset[str],
    questions: frozenset[str] = frozenset(),
) -> str | None:
    if param.kind == "question":
        if not isinstance(value, str):
            return f"expected the id of a framework question, got {shown(value)}"
        if value not in questions:
            return f"the framework has no question {shown(value)}"
        return None
    if param.kind == "judgement_kind":
        if value not in ("peer", "self"):
            return f"expected peer or self, got {shown(value)}"
        return None
    if param.kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"expected a whole number 0 or more, got {shown(value)}"
    elif param.kind == "flag":
        if not isinstance(value, bool):
            return f"expected true or false, got {shown(value)}"
    elif param.kind == "date":
        if not isinstance(value, str):
            return f"expected the id of a cycle date, got {shown(value)}"
        if value not in dates:
            return f"unknown cycle date {shown(value)}; declare it under 'dates'"
    else:
        known = roles if param.kind == "roles" else finding_kinds
        noun = "role" if param.kind == "roles" else "finding kind"
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"expected a list of {noun} ids, got {shown(value)}"
        if param.kind == "roles" and not value:
            return "expected at least one role"
        unknown = [v for v in value if v not in known]
        if unknown:
            return f"unknown {noun}(s): {', '.join(map(str, unknown))}"
    return None
