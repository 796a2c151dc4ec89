"""The template validator: every issue at once, each located, before any machine exists."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Mapping

from engine.durations import Duration
from engine.errors import InvalidTemplate
from engine.issues import Issue
from engine.parse import parse_template
from engine.requirements import check_params
from engine.template import ENTRY, Template

__all__ = ["Issue", "build_template", "check", "check_template", "validate"]


def validate(raw: object) -> list[Issue]:
    """Every issue in a template mapping (structural and semantic); empty when it is valid."""
    template, issues = parse_template(raw)
    if template is not None:
        issues = _combined(issues, check_template(template))
    return issues


def check(raw: object) -> tuple[Template | None, list[Issue]]:
    """The template a mapping describes, and every issue in it (the template is None when
    it could not be read; a template with issues is not to be run)."""
    template, issues = parse_template(raw)
    if template is not None:
        issues = _combined(issues, check_template(template))
    return template, issues


def build_template(raw: object) -> Template:
    """A template from a mapping, only if it is valid.

    Raises:
        InvalidTemplate: carrying every issue found.
    """
    template, issues = parse_template(raw)
    if template is not None:
        issues = _combined(issues, check_template(template))
    if issues or template is None:
        raise InvalidTemplate(issues or [Issue("(top)", "not a template", "wrong_type")])
    return template


def _combined(parsed: list[Issue], checked: list[Issue]) -> list[Issue]:
    # A key left out reads as an empty value to the semantic checks (no `from`: no stage named);
    # report that mistake once, as the parser worded it.
    seen = {(i.location, i.code) for i in parsed}
    return parsed + [i for i in checked if (i.location, i.code) not in seen]


def check_template(t: Template) -> list[Issue]:
    """Semantic checks on a parsed template: references, uniqueness, shape of the graph."""
    out: list[Issue] = []
    _duplicates(out, "roles", (r.id for r in t.roles))
    _duplicates(out, "dates", (d.id for d in t.dates))
    _duplicates(out, "finding_kinds", t.finding_kinds, indexed_only=True)
    _duplicates(out, "framework.scale", (p.id for p in t.framework.scale))
    _duplicates(out, "framework.sections", (s.id for s in t.framework.sections))
    _duplicate_questions(out, t)
    _duplicates(out, "stages", (s.id for s in t.stages))
    _duplicates(out, "transitions", (tr.id for tr in t.transitions))

    roles = t.role_ids
    stage_ids = {s.id for s in t.stages}
    dates = frozenset(d.id for d in t.dates)
    kinds = frozenset(t.finding_kinds)
    questions = frozenset(q.id for q in t.framework.questions)

    initial = [i for i, s in enumerate(t.stages) if s.initial]
    if t.stages and not initial:
        out.append(Issue("stages", "no stage is marked 'initial: true'", "no_initial"))
    for i in initial[1:]:
        first = t.stages[initial[0]].id
        out.append(
            Issue(
                f"stages[{i}].initial",
                f"a second initial stage; {first!r} is already initial",
                "several_initial",
            )
        )
    if t.stages and not any(s.terminal for s in t.stages):
        out.append(Issue("stages", "no stage is marked 'terminal: true'", "no_terminal"))

    for i, s in enumerate(t.stages):
        loc = f"stages[{i}]"
        if s.initial and s.terminal:
            out.append(
                Issue(loc, "a stage cannot be both initial and terminal", "initial_terminal")
            )
        for kind, kind_roles in s.collects.items():
            _known(out, f"{loc}.collects.{kind}", kind_roles, roles, "role")
        _notify(out, f"{loc}.notify", s.notify, roles)
        _deadline(out, t, i, roles, dates)

    for i, tr in enumerate(t.transitions):
        loc = f"transitions[{i}]"
        if not tr.sources:
            out.append(Issue(f"{loc}.from", "names no stage", "missing"))
        for j, src in enumerate(tr.sources):
            where = f"{loc}.from" if len(tr.sources) == 1 else f"{loc}.from[{j}]"
            if src not in stage_ids:
                out.append(Issue(where, f"unknown stage {src!r}", "unknown_stage"))
            elif t.stage(src).terminal:
                out.append(
                    Issue(where, f"{src!r} is terminal: nothing may leave it", "from_terminal")
                )
        if tr.dest and tr.dest not in stage_ids:
            out.append(Issue(f"{loc}.to", f"unknown stage {tr.dest!r}", "unknown_stage"))
        if not tr.roles:
            out.append(Issue(f"{loc}.roles", "no role may fire this transition", "missing"))
        _known(out, f"{loc}.roles", tr.roles, roles, "role")
        _notify(out, f"{loc}.notify", tr.notify, roles)
        for j, ref in enumerate(tr.requirements):
            found = check_params(
                ref,
                f"{loc}.requires[{j}]",
                roles=roles,
                dates=dates,
                finding_kinds=kinds,
                questions=questions,
            )
            out.extend(found)
            if ref.name == "signed_off" and not found:
                out.extend(_signoffs_collected(t, tr.sources, ref.params, f"{loc}.requires[{j}]"))

    out.extend(_team_places(t))
    out.extend(_graph(t, stage_ids))
    return out


_NEEDS_PLACE = {
    "review_lead_assigned": ("lead",),
    "review_team_size": ("lead", "member"),
    "review_team_independent": ("lead", "member"),
    "champion_independent": ("champion",),
}
"""The requirements about the review team, and the team places they need a role in."""


def _team_places(t: Template) -> list[Issue]:
    """One role leads the review and one is its champion at most; the team's requirements and
    the stages collecting the team need roles with a place on it (`Role.team`)."""
    out: list[Issue] = []
    for place in ("lead", "champion"):
        first = None
        for i, role in enumerate(t.roles):
            if role.team != place:
                continue
            if first is None:
                first = role.id
            else:
                out.append(
                    Issue(
                        f"roles[{i}].team",
                        f"a second role with the team place {place!r}; {first!r} already "
                        "has it, and a review has one",
                        "several_team_place",
                    )
                )
    for i, s in enumerate(t.stages):
        if "team" in s.collects and not t.team_roles():
            out.append(
                Issue(
                    f"stages[{i}].collects.team",
                    "no role has a place on the review team: give one 'team: lead', "
                    "'team: member' or 'team: champion'",
                    "no_team_place",
                )
            )
    for i, tr in enumerate(t.transitions):
        for j, ref in enumerate(tr.requirements):
            places = _NEEDS_PLACE.get(ref.name)
            if places and not t.team_roles(*places):
                out.append(
                    Issue(
                        f"transitions[{i}].requires[{j}]",
                        f"{ref.name} needs a role with the team place "
                        f"{' or '.join(map(repr, places))}, and no role has it",
                        "no_team_place",
                    )
                )
    return out


def _signoffs_collected(
    t: Template, sources: Iterable[str], params: Mapping[str, object], loc: str
) -> list[Issue]:
    """A sign-off a transition needs must be one its source stage collects, or it can never fire."""
    out: list[Issue] = []
    roles = params.get("roles")
    wanted = [str(r) for r in roles] if isinstance(roles, list) else []
    for src in sources:
        if not t.has_stage(src):
            continue
        given = t.stage(src).collects.get("signoffs", ())
        missing = [r for r in wanted if r not in given]
        if missing:
            out.append(
                Issue(
                    f"{loc}.roles",
                    f"stage {src!r} does not collect sign-offs from {', '.join(missing)}; "
                    "add them under its collects.signoffs",
                    "signoff_not_collected",
                )
            )
    return out


def _duplicates(
    out: list[Issue], where: str, ids: Iterable[str], *, indexed_only: bool = False
) -> None:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value and value in seen:
            loc = f"{where}[{i}]" if indexed_only else f"{where}[{i}].id"
            out.append(Issue(loc, f"duplicate id {value!r}", "duplicate_id"))
        seen.add(value)


def _duplicate_questions(out: list[Issue], t: Template) -> None:
    seen: set[str] = set()
    for i, sec in enumerate(t.framework.sections):
        for j, q in enumerate(sec.questions):
            if q.id and q.id in seen:
                out.append(
                    Issue(
                        f"framework.sections[{i}].questions[{j}].id",
                        f"duplicate question id {q.id!r}",
                        "duplicate_id",
                    )
                )
            seen.add(q.id)


def _known(
    out: list[Issue], loc: str, values: Iterable[str], known: Iterable[str], noun: str
) -> None:
    known_set = set(known)
    for value in values:
        if value not in known_set:
            out.append(Issue(loc, f"unknown {noun} {value!r}", f"unknown_{noun.replace(' ', '_')}"))


def _notify(out: list[Issue], loc: str, told: Iterable[str], roles: frozenset[str]) -> None:
    """Each role told is known and named once; located by its index, so each has its line."""
    seen: set[str] = set()
    for j, role in enumerate(told):
        if role not in roles:
            out.append(Issue(f"{loc}[{j}]", f"unknown role {role!r}", "unknown_role"))
        elif role in seen:
            out.append(Issue(f"{loc}[{j}]", f"duplicate role {role!r}", "duplicate_role"))
        seen.add(role)


def _deadline(
    out: list[Issue], t: Template, i: int, roles: frozenset[str], dates: frozenset[str]
) -> None:
    s = t.stages[i]
    d = s.deadline
    if d is None:
        return
    loc = f"stages[{i}].deadline"
    if s.terminal:
        out.append(Issue(loc, "a terminal stage has no deadline", "terminal_deadline"))
    if d.anchor != ENTRY and d.anchor not in dates:
        out.append(
            Issue(
                f"{loc}.from",
                f"unknown cycle date {d.anchor!r}; use '{ENTRY}' or a date declared under 'dates'",
                "unknown_date",
            )
        )
    if d.anchor == ENTRY and _negative(d.due):
        out.append(
            Issue(f"{loc}.due", "a deadline cannot fall before the stage starts", "bad_duration")
        )
    for j, rem in enumerate(d.reminders):
        if _negative(rem) or _zero(rem):
            out.append(
                Issue(
                    f"{loc}.reminders[{j}]",
                    "a reminder is a positive offset before the due time",
                    "bad_duration",
                )
            )
    outgoing = t.transitions_from(s.id)
    for j, rule in enumerate(d.on_expiry):
        rloc = f"{loc}.on_expiry[{j}]"
        if rule.after is not None and _negative(rule.after):
            out.append(Issue(f"{rloc}.after", "must not be negative", "bad_duration"))
        if rule.kind == "fire":
            tr = t.transition(rule.transition or "")
            if tr is None:
                out.append(
                    Issue(
                        f"{rloc}.fire",
                        f"unknown transition {rule.transition!r}",
                        "unknown_transition",
                    )
                )
            elif tr not in outgoing or tr.dest == s.id:
                out.append(
                    Issue(
                        f"{rloc}.fire",
                        f"transition {tr.id!r} does not leave stage {s.id!r}",
                        "expiry_does_not_leave",
                    )
                )
        else:
            if not rule.roles:
                out.append(Issue(f"{rloc}.{rule.kind}", "names no role", "missing"))
            _known(out, f"{rloc}.{rule.kind}", rule.roles, roles, "role")


def _negative(d: Duration) -> bool:
    return _sign(d) < 0


def _zero(d: Duration) -> bool:
    return _sign(d) == 0


def _sign(d: Duration) -> int:
    amount = d.delta.total_seconds() if d.delta is not None else (d.school_days or 0)
    return (amount > 0) - (amount < 0)


def _graph(t: Template, stage_ids: set[str]) -> list[Issue]:
    """Unreachable stages, and stages from which no terminal stage can be reached."""
    out: list[Issue] = []
    initial = [s.id for s in t.stages if s.initial]
    if len(initial) != 1 or Counter(s.id for s in t.stages).most_common(1)[0][1] > 1:
        # Reachability means little until the stages themselves are sound.
        return out
    forward: dict[str, set[str]] = {s: set() for s in stage_ids}
    backward: dict[str, set[str]] = {s: set() for s in stage_ids}
    for tr in t.transitions:
        if tr.dest not in stage_ids:
            continue
        for src in tr.sources:
            if src in stage_ids:
                forward[src].add(tr.dest)
                backward[tr.dest].add(src)
    reachable = _closure(initial, forward)
    terminals = [s.id for s in t.stages if s.terminal]
    finishing = _closure(terminals, backward)
    for i, s in enumerate(t.stages):
        if s.id not in reachable:
            out.append(
                Issue(
                    f"stages[{i}]",
                    f"stage {s.id!r} cannot be reached from the initial stage {initial[0]!r}",
                    "unreachable",
                )
            )
        elif terminals and s.id not in finishing:
            out.append(
                Issue(
                    f"stages[{i}]",
                    f"no terminal stage can be reached from stage {s.id!r}",
                    "dead_end",
                )
            )
    return out


def _closure(start: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(start)
    queue = deque(seen)
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
