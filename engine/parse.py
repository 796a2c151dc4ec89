"""Reading a template from a plain mapping (as loaded from YAML or JSON), collecting every issue.

Structural problems (missing keys, wrong types, bad durations) are found here; references
between parts of the template are checked afterwards by `engine.validation`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from engine.durations import Duration, DurationError, parse_duration
from engine.issues import Issue, shown
from engine.template import (
    COLLECT_KINDS,
    ENTRY,
    FORMAT_1_ROLES,
    FORMAT_2_ROLES,
    FORMAT_VERSION,
    FORMATS,
    PARTS,
    POWERS,
    READABLE_SECTIONS,
    TEAM_PLACES,
    DateSpec,
    DeadlineSpec,
    ExpiryRule,
    Framework,
    Question,
    RequirementRef,
    Role,
    ScalePoint,
    Section,
    Stage,
    Template,
    Transition,
)

__all__ = ["MAX_TEMPLATE_BYTES", "parse_template"]

MAX_TEMPLATE_BYTES = 512 * 1024
"""Templates are small; anything larger is refused before parsing."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_TOP_KEYS = {
    "format",
    "id",
    "version",
    "title",
    "description",
    "roles",
    "dates",
    "finding_kinds",
    "shared_with_participants",
    "retention",
    "framework",
    "stages",
    "transitions",
}
_MISSING = object()


class _Reader:
    """Collects issues while reading; every getter returns a usable fallback on error."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def issue(self, location: str, message: str, code: str) -> None:
        self.issues.append(Issue(location, message, code))

    def mapping(self, raw: object, loc: str, keys: set[str]) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            self.issue(loc or "(top)", f"expected a mapping, got {_kind(raw)}", "wrong_type")
            return {}
        for key in raw:
            if key not in keys:
                allowed = ", ".join(sorted(keys))
                # (A key is the author's text: as long as an id may be, or cut short.)
                named = str(key) if len(str(key)) <= 64 else shown(str(key))
                where = _at(loc, named) or "(top)"
                self.issue(where, f"unknown key (allowed: {allowed})", "unknown_key")
        return raw

    def seq(self, raw: Mapping[str, Any], key: str, loc: str, required: bool) -> list[Any]:
        value = raw.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.issue(_at(loc, key), "is required", "missing")
            return []
        if not isinstance(value, list):
            self.issue(_at(loc, key), f"expected a list, got {_kind(value)}", "wrong_type")
            return []
        return value

    def text(self, raw: Mapping[str, Any], key: str, loc: str, *, required: bool) -> str:
        value = raw.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.issue(_at(loc, key), "is required", "missing")
            return ""
        if not isinstance(value, str):
            self.issue(_at(loc, key), f"expected text, got {_kind(value)}", "wrong_type")
            return ""
        return value

    def ident(self, raw: Mapping[str, Any], key: str, loc: str) -> str:
        value = self.text(raw, key, loc, required=True)
        # An empty id is an id given badly, not a missing one; fullmatch, because `$` also
        # matches before a trailing newline.
        if isinstance(raw.get(key), str) and not _ID.fullmatch(value):
            self.issue(
                _at(loc, key),
                f"{shown(value)} is not a valid id (letters, digits, '_', '-', '.'; at most 64)",
                "bad_id",
            )
        return value

    def flag(self, raw: Mapping[str, Any], key: str, loc: str) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            self.issue(_at(loc, key), f"expected true or false, got {_kind(value)}", "wrong_type")
            return False
        return value

    def names(self, value: object, loc: str, noun: str) -> tuple[str, ...]:
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.issue(loc, f"expected a {noun} id or a list of them", "wrong_type")
            return ()
        return tuple(value)

    def role_list(self, raw: Mapping[str, Any], key: str, loc: str) -> tuple[str, ...]:
        """A list of role ids that must be written as a list, even of one (as `notify` is)."""
        value = raw.get(key)
        if value is None:
            return ()
        where = _at(loc, key)
        if isinstance(value, str):
            # `notify: a, b` reads as one text; in brackets it is the list that was meant.
            hint = f" (write [{value}])" if len(value) <= 80 else ""
            message = f"expected a list of role ids, got text{hint}"
            self.issue(where, message, "wrong_type")
            return ()
        if not isinstance(value, list):
            self.issue(where, f"expected a list of role ids, got {_kind(value)}", "wrong_type")
            return ()
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.issue(f"{where}[{i}]", f"expected a role id, got {_kind(item)}", "wrong_type")
        return tuple(item for item in value if isinstance(item, str))

    def duration(self, value: object, loc: str) -> Duration | None:
        try:
            return parse_duration(value)
        except DurationError as exc:
            self.issue(loc, str(exc), "bad_duration")
            return None


def _at(loc: str, key: str) -> str:
    return f"{loc}.{key}" if loc else key


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def parse_template(raw: object) -> tuple[Template | None, list[Issue]]:
    """Read a template mapping, best effort.

    Returns:
        The template as far as it could be read (None when `raw` is not a mapping at all), and
        the structural issues found. A template that comes with issues is only fit for validation.
    """
    r = _Reader()
    top = r.mapping(raw, "", _TOP_KEYS)
    if not top:
        if isinstance(raw, Mapping):
            r.issue("(top)", "the template is empty", "missing")
        return None, r.issues
    fmt = top.get("format", 1)
    if isinstance(fmt, bool) or fmt not in FORMATS:
        r.issue(
            "format",
            f"unsupported format {shown(fmt)}; this engine reads formats "
            f"{', '.join(map(str, FORMATS[:-1]))} and {FORMATS[-1]}",
            "format",
        )
        fmt = FORMAT_VERSION
    template_id = r.ident(top, "id", "")
    version = top.get("version", _MISSING)
    if version is _MISSING:
        r.issue("version", "is required", "missing")
        version = 0
    elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
        r.issue("version", f"expected a whole number 1 or more, got {shown(version)}", "wrong_type")
        version = 0
    title = r.text(top, "title", "", required=True)
    description = r.text(top, "description", "", required=False)

    roles = tuple(
        _role(r, item, f"roles[{i}]", fmt) for i, item in enumerate(r.seq(top, "roles", "", True))
    )
    if fmt in (1, 2):
        # Formats 1 and 2 put people on any template's team in the team's roles by name,
        # declared or not: such a role reads the overview only, as it did.
        declared = {role.id for role in roles}
        roles += tuple(
            Role(role_id, role_id.replace("_", " ").capitalize(), team=place)
            for role_id, (place, _, _) in FORMAT_2_ROLES.items()
            if place is not None and role_id not in declared
        )
    dates = tuple(
        _date(r, item, f"dates[{i}]") for i, item in enumerate(r.seq(top, "dates", "", False))
    )
    finding_kinds: tuple[str, ...] = ("strength", "area_to_develop")
    if "finding_kinds" in top:
        finding_kinds = r.names(top["finding_kinds"], "finding_kinds", "finding kind")
    shared = _choices(
        r, top, "shared_with_participants", "shared_with_participants", PARTS, "part", "shared"
    )
    kept = _retention(r, top.get("retention"), "retention")
    framework = _framework(r, top.get("framework"), "framework")
    stages = tuple(
        _stage(r, item, f"stages[{i}]") for i, item in enumerate(r.seq(top, "stages", "", True))
    )
    transitions = tuple(
        _transition(r, item, f"transitions[{i}]")
        for i, item in enumerate(r.seq(top, "transitions", "", True))
    )
    # Built even when issues were found, so that the validator can still check references
    # and report every problem at once; such a template never reaches the machine.
    template = Template(
        id=template_id,
        version=int(version),
        title=title,
        description=description,
        roles=roles,
        stages=stages,
        transitions=transitions,
        framework=framework,
        dates=dates,
        finding_kinds=finding_kinds,
        shared_with_participants=shared,
        evidence_kept_years=kept,
    )
    return template, r.issues


def _retention(r: _Reader, raw: object, loc: str) -> int | None:
    """`retention: {evidence_years: N}`: evidence goes N years after its cycle closes."""
    if raw is None:
        return None
    m = r.mapping(raw, loc, {"evidence_years"})
    years = m.get("evidence_years")
    if years is None:
        return None
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 100:
        r.issue(
            f"{loc}.evidence_years",
            f"expected a whole number of years from 1 to 100, got {shown(years)}",
            "bad_value",
        )
        return None
    return years


def _role(r: _Reader, raw: object, loc: str, fmt: object) -> Role:
    if fmt == 1:
        # Format 1 fixed what each role reads and may do by its name.
        m = r.mapping(raw, loc, {"id", "title"})
        role_id = r.ident(m, "id", loc)
        reads, may = FORMAT_1_ROLES.get(role_id, (frozenset(), frozenset()))
        return _named(Role(role_id, r.text(m, "title", loc, required=False), reads, may))
    if fmt == 2:
        m = r.mapping(raw, loc, {"id", "title", "reads", "may"})
    else:
        m = r.mapping(raw, loc, {"id", "title", "reads", "may", "team", "chair"})
    role_id = r.ident(m, "id", loc)
    reads = _choices(r, m, "reads", f"{loc}.reads", READABLE_SECTIONS, "section")
    may = _choices(r, m, "may", f"{loc}.may", POWERS, "power")
    role = Role(role_id, r.text(m, "title", loc, required=False), reads, may)
    if fmt == 2:
        return _named(role)
    team = m.get("team")
    if team is not None and team not in TEAM_PLACES:
        r.issue(
            f"{loc}.team",
            f"unknown team place {shown(team)}; a role's place on the team is one of "
            f"{', '.join(TEAM_PLACES)}",
            "bad_value",
        )
        team = None
    chair = m.get("chair", False)
    if not isinstance(chair, bool):
        r.issue(f"{loc}.chair", f"expected true or false, got {shown(chair)}", "bad_value")
        chair = False
    if team is not None and chair:
        r.issue(
            f"{loc}.chair",
            "a role on the review team is held by a place on a cycle's team, not by "
            "chairing its network",
            "bad_value",
        )
    return dataclasses.replace(role, team=team, chair=chair)


def _named(role: Role) -> Role:
    """A role of format 1 or 2 with what its name gave it then (`FORMAT_2_ROLES`)."""
    team, chair, power = FORMAT_2_ROLES.get(role.id, (None, False, ""))
    may = role.may | {power} if power else role.may
    return dataclasses.replace(role, team=team, chair=chair, may=may)


def _choices(
    r: _Reader,
    m: Mapping[str, Any],
    key: str,
    loc: str,
    known: tuple[str, ...],
    noun: str,
    verb: str = "given",
) -> frozenset[str]:
    if key not in m:
        return frozenset()
    given = r.names(m[key], loc, noun)
    for name in given:
        if name not in known:
            what = "a role may be given" if verb == "given" else f"a {noun} that may be {verb}"
            r.issue(
                loc,
                f"unknown {noun} {shown(name)}; {what}: {', '.join(known)}",
                "unknown_ref",
            )
    return frozenset(n for n in given if n in known)


def _date(r: _Reader, raw: object, loc: str) -> DateSpec:
    m = r.mapping(raw, loc, {"id", "title"})
    return DateSpec(id=r.ident(m, "id", loc), title=r.text(m, "title", loc, required=False))


def _framework(r: _Reader, raw: object, loc: str) -> Framework:
    if raw is None:
        return Framework()
    m = r.mapping(raw, loc, {"sections", "scale"})
    sections = []
    for i, sec in enumerate(r.seq(m, "sections", loc, False)):
        sloc = f"{loc}.sections[{i}]"
        sm = r.mapping(sec, sloc, {"id", "title", "questions"})
        questions = []
        for j, q in enumerate(r.seq(sm, "questions", sloc, True)):
            qloc = f"{sloc}.questions[{j}]"
            qm = r.mapping(q, qloc, {"id", "text", "strand"})
            questions.append(
                Question(
                    id=r.ident(qm, "id", qloc),
                    text=r.text(qm, "text", qloc, required=True),
                    strand=r.text(qm, "strand", qloc, required=False),
                )
            )
        sections.append(
            Section(
                id=r.ident(sm, "id", sloc),
                title=r.text(sm, "title", sloc, required=True),
                questions=tuple(questions),
            )
        )
    scale = []
    for i, point in enumerate(r.seq(m, "scale", loc, False)):
        ploc = f"{loc}.scale[{i}]"
        pm = r.mapping(point, ploc, {"id", "label"})
        scale.append(
            ScalePoint(id=r.ident(pm, "id", ploc), label=r.text(pm, "label", ploc, required=True))
        )
    return Framework(sections=tuple(sections), scale=tuple(scale))


def _stage(r: _Reader, raw: object, loc: str) -> Stage:
    m = r.mapping(
        raw,
        loc,
        {"id", "title", "description", "initial", "terminal", "deadline", "collects", "notify"},
    )
    collects: dict[str, tuple[str, ...]] = {}
    if m.get("collects") is not None:
        cloc = f"{loc}.collects"
        cm = r.mapping(m["collects"], cloc, set(COLLECT_KINDS))
        for kind, roles in cm.items():
            if kind in COLLECT_KINDS:
                collects[kind] = r.names(roles, f"{cloc}.{kind}", "role")
    deadline = None
    if m.get("deadline") is not None:
        deadline = _deadline(r, m["deadline"], f"{loc}.deadline")
    return Stage(
        id=r.ident(m, "id", loc),
        title=r.text(m, "title", loc, required=True),
        description=r.text(m, "description", loc, required=False),
        initial=r.flag(m, "initial", loc),
        terminal=r.flag(m, "terminal", loc),
        deadline=deadline,
        collects=collects,
        notify=r.role_list(m, "notify", loc),
    )


def _deadline(r: _Reader, raw: object, loc: str) -> DeadlineSpec | None:
    m = r.mapping(raw, loc, {"due", "from", "reminders", "on_expiry"})
    if "due" not in m:
        r.issue(f"{loc}.due", "is required", "missing")
        return None
    due = r.duration(m["due"], f"{loc}.due")
    anchor = r.text(m, "from", loc, required=False) or ENTRY
    reminders = []
    for i, item in enumerate(r.seq(m, "reminders", loc, False)):
        d = r.duration(item, f"{loc}.reminders[{i}]")
        if d is not None:
            reminders.append(d)
    rules = []
    for i, item in enumerate(r.seq(m, "on_expiry", loc, False)):
        rule = _expiry(r, item, f"{loc}.on_expiry[{i}]")
        if rule is not None:
            rules.append(rule)
    if due is None:
        return None
    return DeadlineSpec(due=due, anchor=anchor, reminders=tuple(reminders), on_expiry=tuple(rules))


def _expiry(r: _Reader, raw: object, loc: str) -> ExpiryRule | None:
    m = r.mapping(raw, loc, {"notify", "escalate", "fire", "after"})
    kinds = [k for k in ("notify", "escalate", "fire") if k in m]
    if len(kinds) != 1:
        r.issue(loc, "give exactly one of 'notify', 'escalate' or 'fire'", "bad_expiry")
        return None
    kind = kinds[0]
    after = r.duration(m["after"], f"{loc}.after") if "after" in m else None
    if kind == "fire":
        target = m["fire"]
        if not isinstance(target, str):
            r.issue(f"{loc}.fire", "expected the id of a transition", "wrong_type")
            return None
        return ExpiryRule(kind="fire", transition=target, after=after)
    roles = r.names(m[kind], f"{loc}.{kind}", "role")
    return ExpiryRule(kind="notify" if kind == "notify" else "escalate", roles=roles, after=after)


def _transition(r: _Reader, raw: object, loc: str) -> Transition:
    m = r.mapping(
        raw, loc, {"id", "title", "description", "from", "to", "roles", "requires", "notify"}
    )
    sources: tuple[str, ...] = ()
    if "from" not in m:
        r.issue(f"{loc}.from", "is required", "missing")
    else:
        sources = r.names(m["from"], f"{loc}.from", "stage")
    roles: tuple[str, ...] = ()
    if "roles" not in m:
        r.issue(f"{loc}.roles", "is required: who may fire this transition", "missing")
    else:
        roles = r.names(m["roles"], f"{loc}.roles", "role")
    requirements = []
    for i, item in enumerate(r.seq(m, "requires", loc, False)):
        ref = _requirement(r, item, f"{loc}.requires[{i}]")
        if ref is not None:
            requirements.append(ref)
    return Transition(
        id=r.ident(m, "id", loc),
        sources=sources,
        dest=r.ident(m, "to", loc),
        title=r.text(m, "title", loc, required=True),
        roles=roles,
        requirements=tuple(requirements),
        description=r.text(m, "description", loc, required=False),
        notify=r.role_list(m, "notify", loc),
    )


def _requirement(r: _Reader, raw: object, loc: str) -> RequirementRef | None:
    if isinstance(raw, str):
        return RequirementRef(name=raw)
    if isinstance(raw, Mapping) and len(raw) == 1:
        ((name, params),) = raw.items()
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            r.issue(
                f"{loc}.{name}",
                f"expected a mapping of parameters, got {_kind(params)}",
                "wrong_type",
            )
            return None
        return RequirementRef(name=str(name), params=dict(params))
    r.issue(loc, "expected a requirement name, or a mapping {name: {parameters}}", "wrong_type")
    return None
