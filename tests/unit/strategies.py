"""Hypothesis strategies for the engine: valid template mappings, broken ones, and garbage."""

from __future__ import annotations

import copy
import string
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from engine.requirements import LIBRARY
from engine.template import ADMIN_ROLE, COLLECT_KINDS, ENTRY

__all__ = [
    "MUTATIONS",
    "TRICKY_IDS",
    "durations",
    "garbage",
    "ids",
    "insert_notify",
    "iso_duration_like_text",
    "iso_durations",
    "mutated_templates",
    "structural_garbage",
    "valid_templates",
]

Doc = dict[str, Any]

_FIRST = string.ascii_letters + string.digits
_REST = _FIRST + "_.-"

TRICKY_IDS = (
    # Names that mean something to `transitions`, to the engine or to YAML.
    "stage",
    "state",
    "trigger",
    "initial",
    "events",
    "models",
    "to_x",
    "on_enter_x",
    "is_x",
    "admin",
    "system",
    "stage_entry",
    "None",
    "true",
    "0",
    "1.5",
    "a.b",
    "x-y",
    "x" * 64,
)
"""Valid ids that a careless implementation might trip over."""


# Strategies are built once: building them inside composites, per draw, dominated run time.
_PLAIN_IDS = st.builds(
    lambda first, rest: first + rest, st.sampled_from(_FIRST), st.text(_REST, max_size=10)
)
_IDS = st.one_of(_PLAIN_IDS, _PLAIN_IDS, st.sampled_from(TRICKY_IDS))
_TITLES = st.one_of(st.sampled_from(["Self-review", "Peer review", "Closed", ""]), st.text())
_TEXTS = st.text(max_size=40)


def ids() -> st.SearchStrategy[str]:
    """Valid ids: letters, digits, '_', '-', '.', starting with a letter or digit, at most 64."""
    return _IDS


def titles() -> st.SearchStrategy[str]:
    return _TITLES


def _choose(draw: st.DrawFn, items: list[Any] | tuple[Any, ...]) -> Any:
    return items[draw(st.integers(0, len(items) - 1))]


def _some(draw: st.DrawFn, items: list[str], low: int, high: int) -> list[str]:
    """Between `low` and `high` items (repeats allowed: the engine must not mind them)."""
    return [_choose(draw, items) for _ in range(draw(st.integers(low, high)))]


# --- durations ---------------------------------------------------------------------------------


@st.composite
def iso_durations(draw: st.DrawFn, sign: str = "positive") -> str:
    """An ISO 8601 duration in the units the engine reads, within a school year or so.

    `sign` is `positive` (more than zero), `nonneg` (zero allowed) or `any` (may be negative).
    """
    units = {
        "W": draw(st.none() | st.integers(0, 20)),
        "D": draw(st.none() | st.integers(0, 60)),
        "H": draw(st.none() | st.integers(0, 48)),
        "M": draw(st.none() | st.integers(0, 90)),
        "S": draw(st.none() | st.integers(0, 90)),
    }
    if all(v is None for v in units.values()):
        units["D"] = 0
    if sign == "positive" and not any(units.values()):
        units["D"] = draw(st.integers(1, 30))
    date_part = "".join(f"{units[u]}{u}" for u in "WD" if units[u] is not None)
    time_part = "".join(f"{units[u]}{u}" for u in "HMS" if units[u] is not None)
    text = "P" + date_part + (f"T{time_part}" if time_part else "")
    prefix = draw(st.sampled_from(["", "+", "-"] if sign == "any" else ["", "+"]))
    return prefix + text


def _durations(sign: str) -> st.SearchStrategy[object]:
    low = {"positive": 1, "nonneg": 0, "any": -20}[sign]
    school = st.builds(lambda n: {"school_days": n}, st.integers(low, 40))
    return st.one_of(iso_durations(sign), school)


_DURATIONS = {sign: _durations(sign) for sign in ("positive", "nonneg", "any")}


def durations(sign: str = "positive") -> st.SearchStrategy[object]:
    """A template duration: ISO text or `{school_days: N}`."""
    return _DURATIONS[sign]


def iso_duration_like_text() -> st.SearchStrategy[str]:
    """Text shaped like an ISO duration with unbounded (and not only ASCII) digits."""
    return st.from_regex(
        r"\A[-+]?P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?\Z", fullmatch=True
    )


# --- valid templates ---------------------------------------------------------------------------


def _notify(draw: st.DrawFn, role_ids: list[str]) -> list[str]:
    """A `notify` list: always a list (possibly empty), each role once, `admin` allowed."""
    # A template may declare `admin` itself (it is among the tricky ids): name it once.
    known = list(dict.fromkeys([*role_ids, ADMIN_ROLE]))
    return draw(st.permutations(known))[: draw(st.integers(0, 3))]


def _one_or_list(draw: st.DrawFn, values: list[str]) -> str | list[str]:
    if len(values) == 1 and draw(st.booleans()):
        return values[0]
    return values


def _requirement(
    draw: st.DrawFn, role_ids: list[str], date_ids: list[str], kinds: list[str]
) -> object:
    names = sorted(n for n in LIBRARY if n != "date_set" or date_ids)
    name = _choose(draw, names)
    params: dict[str, object] = {}
    for key, param in LIBRARY[name].params.items():
        if not param.required and draw(st.booleans()):
            continue
        if param.kind == "count":
            params[key] = draw(st.integers(0, 5))
        elif param.kind == "flag":
            params[key] = draw(st.booleans())
        elif param.kind == "date":
            params[key] = _choose(draw, date_ids)
        elif param.kind == "roles":
            params[key] = _some(draw, [*role_ids, ADMIN_ROLE], 1, 3)
        elif param.kind == "question":
            continue  # optional, and the framework's questions are drawn apart from these
        elif param.kind == "judgement_kind":
            params[key] = draw(st.sampled_from(["peer", "self"]))
        else:
            params[key] = _some(draw, kinds, 0, 3) if kinds else []
    if name == "review_team_size":
        low, high = params.get("min", 3), params.get("max", 4)
        assert isinstance(low, int) and isinstance(high, int)
        if low > high:
            params["min"], params["max"] = high, low
    if params:
        return {name: params}
    return _choose(draw, [name, {name: None}, {name: {}}])


def _framework(draw: st.DrawFn) -> Doc | None:
    if not draw(st.booleans()):
        return None
    question_ids = draw(st.lists(ids(), min_size=1, max_size=5, unique=True))
    section_ids = draw(st.lists(ids(), min_size=1, max_size=min(3, len(question_ids)), unique=True))
    sections: list[Doc] = [{"id": s, "title": draw(titles()), "questions": []} for s in section_ids]
    for i, q in enumerate(question_ids):
        question: Doc = {"id": q, "text": draw(st.text(min_size=1, max_size=80))}
        if draw(st.booleans()):
            question["strand"] = draw(titles())
        sections[i % len(sections)]["questions"].append(question)
    framework: Doc = {"sections": sections}
    scale = draw(st.lists(ids(), max_size=4, unique=True))
    if scale or draw(st.booleans()):
        framework["scale"] = [{"id": p, "label": p.title()} for p in scale]
    return framework


def _deadline(draw: st.DrawFn, role_ids: list[str], date_ids: list[str], leaving: list[str]) -> Doc:
    anchor = _choose(draw, [None, ENTRY, *date_ids])
    deadline: Doc = {"due": draw(durations("nonneg" if anchor in (None, ENTRY) else "any"))}
    if anchor is not None:
        deadline["from"] = anchor
    reminders = draw(st.lists(durations("positive"), max_size=2))
    if reminders or draw(st.booleans()):
        deadline["reminders"] = reminders
    rules: list[Doc] = []
    for _ in range(draw(st.integers(0, 3))):
        kind = _choose(draw, ("notify", "escalate", "fire"))
        rule: Doc
        if kind == "fire":
            rule = {"fire": _choose(draw, leaving)}
        else:
            rule = {kind: _one_or_list(draw, _some(draw, [*role_ids, ADMIN_ROLE], 1, 3))}
        if draw(st.booleans()):
            rule["after"] = draw(durations("nonneg"))
        rules.append(rule)
    if rules:
        deadline["on_expiry"] = rules
    return deadline


_COLLECTED = st.lists(st.sampled_from(COLLECT_KINDS), max_size=4, unique=True)


@st.composite
def valid_templates(draw: st.DrawFn) -> Doc:
    """A template mapping that is valid by construction.

    Stages are laid out in an order (the initial stage first, terminals last); a spanning tree
    from earlier non-terminal stages makes every stage reachable, and one forward edge out of
    every non-terminal stage lets each reach a terminal. Extra edges (back edges, self-loops,
    parallel transitions) are added on top; the lists are shuffled before they are returned.
    """
    role_ids = draw(st.lists(ids(), min_size=1, max_size=4, unique=True))
    date_ids = draw(st.lists(ids(), max_size=2, unique=True))
    custom_kinds = draw(st.none() | st.lists(ids(), max_size=3, unique=True))
    kinds = ["strength", "area_to_develop"] if custom_kinds is None else custom_kinds

    n_open = draw(st.integers(1, 5))
    n_terminal = draw(st.integers(1, 2))
    n = n_open + n_terminal
    stage_ids = draw(st.lists(ids(), min_size=n, max_size=n, unique=True))

    edges: set[tuple[int, int]] = set()
    for j in range(1, n):
        edges.add((draw(st.integers(0, min(j, n_open) - 1)), j))
    for i in range(n_open):
        edges.add((i, draw(st.integers(i + 1, n - 1))))
    by_dest: dict[int, list[list[int]]] = {}
    for src, dest in sorted(edges):
        groups = by_dest.setdefault(dest, [])
        if groups and draw(st.booleans()):
            groups[-1].append(src)
        else:
            groups.append([src])
    extra = draw(st.lists(st.tuples(st.integers(0, n_open - 1), st.integers(0, n - 1)), max_size=3))
    shapes = [(srcs, dest) for dest, groups in by_dest.items() for srcs in groups]
    shapes += [([src], dest) for src, dest in extra]

    transition_ids = draw(st.lists(ids(), min_size=len(shapes), max_size=len(shapes), unique=True))
    transitions: list[Doc] = []
    leaving: dict[int, list[str]] = {i: [] for i in range(n_open)}
    needed: dict[int, set[str]] = {}
    for tid, (srcs, dest) in zip(transition_ids, shapes, strict=True):
        who = _some(draw, [*role_ids, ADMIN_ROLE], 1, 3)
        tr: Doc = {
            "id": tid,
            "title": draw(titles()),
            "from": _one_or_list(draw, [stage_ids[s] for s in srcs]),
            "to": stage_ids[dest],
            "roles": _one_or_list(draw, who),
        }
        requires = [
            _requirement(draw, role_ids, date_ids, kinds) for _ in range(draw(st.integers(0, 3)))
        ]
        if requires or draw(st.booleans()):
            tr["requires"] = requires
        if draw(st.booleans()):
            tr["description"] = draw(_TEXTS)
        if draw(st.booleans()):
            tr["notify"] = _notify(draw, role_ids)
        transitions.append(tr)
        for s in srcs:
            if s != dest:
                leaving[s].append(tid)
            # A sign-off a transition needs must be collectable in its source stage.
            for ref in requires:
                if isinstance(ref, dict) and "signed_off" in ref:
                    needed.setdefault(s, set()).update(ref["signed_off"]["roles"])

    stages: list[Doc] = []
    for i, sid in enumerate(stage_ids):
        stage: Doc = {"id": sid, "title": draw(titles())}
        if i == 0:
            stage["initial"] = True
        elif draw(st.booleans()):
            stage["initial"] = False
        if i >= n_open:
            stage["terminal"] = True
        elif draw(st.booleans()):
            stage["terminal"] = False
        if draw(st.booleans()):
            stage["description"] = draw(_TEXTS)
        collected = draw(_COLLECTED)
        if collected:
            stage["collects"] = {
                kind: _one_or_list(draw, _some(draw, [*role_ids, ADMIN_ROLE], 1, 4))
                for kind in collected
            }
        if needed.get(i):
            collects = stage.setdefault("collects", {})
            given = collects.get("signoffs", [])
            given = [given] if isinstance(given, str) else list(given)
            collects["signoffs"] = given + sorted(needed[i] - set(given))
        if i < n_open and draw(st.booleans()):
            stage["deadline"] = _deadline(draw, role_ids, date_ids, leaving[i])
        if draw(st.booleans()):
            stage["notify"] = _notify(draw, role_ids)
        stages.append(stage)

    doc: Doc = {
        "id": draw(ids()),
        "version": draw(st.integers(1, 1000)),
        "title": draw(titles()),
        "roles": [
            {"id": r, "title": draw(titles())} if draw(st.booleans()) else {"id": r}
            for r in role_ids
        ],
        "stages": draw(st.permutations(stages)),
        "transitions": draw(st.permutations(transitions)),
    }
    if draw(st.booleans()):
        doc["format"] = 1
    if draw(st.booleans()):
        doc["description"] = draw(_TEXTS)
    if date_ids or draw(st.booleans()):
        doc["dates"] = [{"id": d, "title": draw(titles())} for d in date_ids]
    if custom_kinds is not None:
        doc["finding_kinds"] = custom_kinds
    framework = _framework(draw)
    if framework is not None:
        doc["framework"] = framework
    return doc


# --- mutations that must make a valid template invalid -----------------------------------------

Mutation = Callable[[st.DrawFn, Doc], str]


def _fresh(taken: set[str], stem: str = "unknown") -> str:
    n = 0
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def _stage_ids(doc: Doc) -> set[str]:
    return {s["id"] for s in doc["stages"]}


def _role_ids(doc: Doc) -> set[str]:
    return {r["id"] for r in doc["roles"]} | {ADMIN_ROLE}


def _sources(tr: Doc) -> list[str]:
    return [tr["from"]] if isinstance(tr["from"], str) else list(tr["from"])


def _open_stage(draw: st.DrawFn, doc: Doc) -> Doc:
    return _choose(draw, [s for s in doc["stages"] if not s.get("terminal")])


def _terminal_stage(draw: st.DrawFn, doc: Doc) -> Doc:
    return _choose(draw, [s for s in doc["stages"] if s.get("terminal")])


def _initial_stage(doc: Doc) -> Doc:
    return next(s for s in doc["stages"] if s.get("initial"))


def _ensure_deadline(draw: st.DrawFn, doc: Doc) -> tuple[Doc, Doc]:
    stage = _open_stage(draw, doc)
    deadline = stage.setdefault("deadline", {"due": "P1D"})
    return stage, deadline


def _any_role(doc: Doc) -> str:
    return doc["roles"][0]["id"]


def _m_dest_unknown(draw: st.DrawFn, doc: Doc) -> str:
    _choose(draw, doc["transitions"])["to"] = _fresh(_stage_ids(doc))
    return "transition to an unknown stage"


def _m_source_unknown(draw: st.DrawFn, doc: Doc) -> str:
    tr = _choose(draw, doc["transitions"])
    tr["from"] = [*_sources(tr), _fresh(_stage_ids(doc))]
    return "transition from an unknown stage"


def _m_duplicate_id(draw: st.DrawFn, doc: Doc) -> str:
    part = draw(st.sampled_from(["stages", "transitions", "roles"]))
    items = doc[part]
    if len(items) >= 2:
        a, b = draw(st.permutations(range(len(items))))[:2]
        items[b]["id"] = items[a]["id"]
    else:
        items.append(copy.deepcopy(items[0]))
    return f"duplicate id in {part}"


def _m_no_initial(draw: st.DrawFn, doc: Doc) -> str:
    stage = _initial_stage(doc)
    if draw(st.booleans()):
        del stage["initial"]
    else:
        stage["initial"] = False
    return "no initial stage"


def _m_second_initial(draw: st.DrawFn, doc: Doc) -> str:
    _choose(draw, [s for s in doc["stages"] if not s.get("initial")])["initial"] = True
    return "a second initial stage"


def _m_unknown_role(draw: st.DrawFn, doc: Doc) -> str:
    unknown = _fresh(_role_ids(doc), "role")
    where = draw(
        st.sampled_from(
            ["transition", "collects", "expiry", "signed_off", "transition notify", "stage notify"]
        )
    )
    if where.endswith(" notify"):
        item = _choose(draw, doc["transitions" if where == "transition notify" else "stages"])
        insert_notify(draw, item, unknown)
    elif where == "transition":
        tr = _choose(draw, doc["transitions"])
        tr["roles"] = [unknown] if draw(st.booleans()) else [_any_role(doc), unknown]
    elif where == "collects":
        stage = _choose(draw, doc["stages"])
        stage.setdefault("collects", {})[draw(st.sampled_from(COLLECT_KINDS))] = [unknown]
    elif where == "expiry":
        _, deadline = _ensure_deadline(draw, doc)
        deadline.setdefault("on_expiry", []).append({"notify": unknown})
    else:
        tr = _choose(draw, doc["transitions"])
        tr.setdefault("requires", []).append({"signed_off": {"roles": [unknown]}})
    return f"unknown role in {where}"


def insert_notify(draw: st.DrawFn, item: Doc, role: str) -> int:
    """Put `role` into the `notify` list of a stage or transition; its index in the list."""
    told = item.setdefault("notify", [])
    at = draw(st.integers(0, len(told)))
    told.insert(at, role)
    return at


def _m_duplicate_notify(draw: st.DrawFn, doc: Doc) -> str:
    part = draw(st.sampled_from(["stages", "transitions"]))
    item = _choose(draw, doc[part])
    told = item.get("notify") or [_any_role(doc)]
    item["notify"] = told
    insert_notify(draw, item, _choose(draw, told))
    return f"a role told twice in the notify of {part}"


def _m_unknown_requirement(draw: st.DrawFn, doc: Doc) -> str:
    name = draw(st.sampled_from(["all_done", "self_judgement_complete", "", "SIGNED_OFF"]))
    ref = draw(st.sampled_from([name, {name: None}, {name: {"min": 1}}]))
    _choose(draw, doc["transitions"]).setdefault("requires", []).append(ref)
    return "unknown requirement"


BAD_DURATIONS: tuple[object, ...] = (
    "14 days",
    "P1M",
    "P1Y",
    "P2Y3M",
    "P",
    "PT",
    "P1DT",
    "",
    "1W",
    "P1.5D",
    "PT1.5H",
    "P-1D",
    "P1D1W",
    "P99999999999W",
    "PT99999999999999H",
    "P999999999D",
    14,
    1.5,
    True,
    None,
    [],
    ["P1D"],
    {"days": 3},
    {"school_days": "3"},
    {"school_days": 1.5},
    {"school_days": True},
    {"school_days": 3, "days": 1},
)


def _m_bad_duration(draw: st.DrawFn, doc: Doc) -> str:
    _, deadline = _ensure_deadline(draw, doc)
    bad = draw(st.sampled_from(BAD_DURATIONS))
    where = draw(st.sampled_from(["due", "reminder", "after"]))
    if where == "due":
        deadline["due"] = bad
    elif where == "reminder":
        deadline.setdefault("reminders", []).append(bad)
    else:
        deadline.setdefault("on_expiry", []).append({"notify": _any_role(doc), "after": bad})
    return f"bad duration {bad!r} as {where}"


def _m_semantic_duration(draw: st.DrawFn, doc: Doc) -> str:
    stage, deadline = _ensure_deadline(draw, doc)
    where = draw(st.sampled_from(["due", "reminder", "after"]))
    if where == "due":
        deadline.pop("from", None)
        deadline["due"] = draw(st.sampled_from(["-P1D", "-PT1H", {"school_days": -2}]))
    elif where == "reminder":
        reminder = draw(st.sampled_from(["P0D", "PT0S", "-P1D", {"school_days": 0}]))
        deadline.setdefault("reminders", []).append(reminder)
    else:
        after = draw(st.sampled_from(["-P1D", {"school_days": -1}]))
        deadline.setdefault("on_expiry", []).append({"notify": _any_role(doc), "after": after})
    return f"out-of-range duration as {where} of {stage['id']!r}"


def _bad_params(doc: Doc) -> list[object]:
    unknown_role = _fresh(_role_ids(doc), "role")
    bad_count = ["1", -1, 1.5, True, None, [1]]
    out: list[object] = []
    for name in ("evidence_per_question", "focus_chosen", "findings_recorded", "actions_agreed"):
        out += [{name: {"min": v}} for v in bad_count]
    out += [{"review_team_size": {"min": v}} for v in bad_count]
    out += [{"review_team_size": {"min": 5, "max": 2}}, {"review_team_size": {"min": 5}}]
    out += [{"review_team_independent": {"allow_same_network": v}} for v in ("yes", 1, None)]
    out += [{"actions_followed_up": {"final": v}} for v in ("true", 0, [])]
    out += [{"date_set": {"date": v}} for v in (3, None, ["d"], "", "no_such_date")]
    out += ["date_set", {"date_set": None}, {"date_set": {}}]
    out += [{"signed_off": {"roles": v}} for v in ("x", [], [1], [unknown_role], None, {})]
    out += ["signed_off", {"signed_off": {}}]
    out += [{"findings_recorded": {"kinds": v}} for v in ("strength", [1], ["no_such_kind"])]
    out += [{"focus_chosen": {"mininum": 1}}, {"champion_independent": {"min": 1}}]
    out += [{"focus_chosen": 3}, {"focus_chosen": "min"}, {"focus_chosen": [1]}]
    out += [{"focus_chosen": {}, "actions_agreed": {}}, 5, None, ["focus_chosen"], {}]
    return out


def _m_bad_param(draw: st.DrawFn, doc: Doc) -> str:
    # A date declared as `no_such_date` or a kind `no_such_kind` would make those valid.
    doc["dates"] = [d for d in doc.get("dates", []) if d["id"] != "no_such_date"]
    if "no_such_kind" in doc.get("finding_kinds", []):
        doc["finding_kinds"].remove("no_such_kind")
    ref = draw(st.sampled_from(_bad_params(doc)))
    _choose(draw, doc["transitions"]).setdefault("requires", []).append(ref)
    return f"bad requirement {ref!r}"


_REQUIRED: dict[str, tuple[str, ...]] = {
    "top": ("id", "version", "title", "roles", "stages", "transitions"),
    "stage": ("id", "title"),
    "transition": ("id", "from", "to", "title", "roles"),
    "role": ("id",),
    "deadline": ("due",),
}


def _m_delete_required(draw: st.DrawFn, doc: Doc) -> str:
    part = draw(st.sampled_from(sorted(_REQUIRED)))
    key = draw(st.sampled_from(_REQUIRED[part]))
    holder: Doc
    if part == "top":
        holder = doc
    elif part == "stage":
        holder = _choose(draw, doc["stages"])
    elif part == "transition":
        holder = _choose(draw, doc["transitions"])
    elif part == "role":
        holder = _choose(draw, doc["roles"])
    else:
        _, holder = _ensure_deadline(draw, doc)
    if draw(st.booleans()):
        del holder[key]
    else:
        holder[key] = None
    return f"required {part} key {key!r} removed"


# A bare role name is refused too: `notify` is always written as a list.
_BAD_NOTIFY: tuple[object, ...] = ("admin", "x", 5, True, {"admin": 1}, [1], [None], [["admin"]])

_WRONG_TYPES: dict[str, dict[str, tuple[object, ...]]] = {
    "top": {
        "id": (5, ["x"], {"x": 1}, True),
        "version": ("1", 0, -3, True, 1.5, [1]),
        "title": (5, [], {}),
        "description": (5, ["x"]),
        "format": (2, "1", 0, True, None, 1.5),
        "roles": ({"id": "x"}, "x", 5),
        "dates": ("x", {"id": "d"}, 5, [5], ["d"]),
        "finding_kinds": (5, {"a": 1}, [1], [None], None),
        "framework": ("x", [], 5, {"sections": "x"}, {"scale": [1]}, {"sections": [{}]}),
        "stages": ({}, "x", 5),
        "transitions": ({}, "x", 5),
    },
    "stage": {
        "id": (5, None, [], True),
        "title": ([], 5),
        "description": (1, []),
        "initial": ("yes", 1),
        "terminal": ("true", 0, []),
        "deadline": ("P1D", ["P1D"], 5, {}),
        "collects": ([], "evidence", 5, {"evidence": 5}, {"evidence": [1]}),
        "notify": _BAD_NOTIFY,
    },
    "transition": {
        "id": (5, None, ["x"]),
        "from": (5, {"a": 1}, [1], None),
        "to": (5, ["x"], None, {"x": 1}),
        "title": (5, []),
        "roles": (5, [1], {"x": 1}),
        "requires": ("x", {"focus_chosen": {}}, 5),
        "description": ([], 2),
        "notify": _BAD_NOTIFY,
    },
    "role": {"id": (5, None), "title": (5, [])},
    "whole": {"stage": ("x", 5, None, []), "transition": ("x", 5, None), "role": ("x", 5)},
}


def _m_wrong_type(draw: st.DrawFn, doc: Doc) -> str:
    part = draw(st.sampled_from(sorted(_WRONG_TYPES)))
    key = draw(st.sampled_from(sorted(_WRONG_TYPES[part])))
    bad = draw(st.sampled_from(_WRONG_TYPES[part][key]))
    if part == "top":
        doc[key] = bad
    elif part == "whole":
        items = doc[{"stage": "stages", "transition": "transitions", "role": "roles"}[key]]
        items[draw(st.integers(0, len(items) - 1))] = bad
    else:
        items = doc[part + "s"]
        _choose(draw, items)[key] = bad
    return f"{part}.{key} = {bad!r}"


def _m_unreachable(draw: st.DrawFn, doc: Doc) -> str:
    sid = _fresh(_stage_ids(doc), "island")
    terminal = draw(st.booleans())
    doc["stages"].append({"id": sid, "title": "Island", "terminal": terminal})
    if not terminal:
        doc["transitions"].append(
            {
                "id": _fresh({t["id"] for t in doc["transitions"]}, "leave_island"),
                "title": "Leave",
                "from": sid,
                "to": _terminal_stage(draw, doc)["id"],
                "roles": [_any_role(doc)],
            }
        )
    return "an unreachable stage"


def _m_dead_end(draw: st.DrawFn, doc: Doc) -> str:
    sid = _fresh(_stage_ids(doc), "dead_end")
    doc["stages"].append({"id": sid, "title": "Dead end"})
    doc["transitions"].append(
        {
            "id": _fresh({t["id"] for t in doc["transitions"]}, "enter_dead_end"),
            "title": "Go",
            "from": _open_stage(draw, doc)["id"],
            "to": sid,
            "roles": _any_role(doc),
        }
    )
    return "a stage that cannot finish"


def _m_from_terminal(draw: st.DrawFn, doc: Doc) -> str:
    tr = _choose(draw, doc["transitions"])
    tr["from"] = [*_sources(tr), _terminal_stage(draw, doc)["id"]]
    return "a transition out of a terminal stage"


def _m_unknown_key(draw: st.DrawFn, doc: Doc) -> str:
    key = draw(st.sampled_from(["colour", "Initial", "requirements", "to_stage", ""]))
    where = draw(st.sampled_from(["top", "stage", "transition", "role", "deadline"]))
    if where == "top":
        doc[key] = 1
    elif where == "deadline":
        _ensure_deadline(draw, doc)[1][key] = 1
    else:
        _choose(draw, doc[where + "s"])[key] = 1
    return f"unknown key {key!r} in {where}"


BAD_IDS = (
    "",
    " ",
    "bad id",
    "-x",
    ".x",
    "_x",
    "x" * 65,
    "é",
    "a/b",
    "a:b",
    "abc\n",
    "\nabc",
    "a\tb",
)


def _m_bad_id(draw: st.DrawFn, doc: Doc) -> str:
    bad = draw(st.sampled_from(BAD_IDS))
    where = draw(st.sampled_from(["template", "stage", "transition", "role", "date"]))
    if where == "template":
        doc["id"] = bad
    elif where == "date":
        doc.setdefault("dates", []).append({"id": bad})
    else:
        _choose(draw, doc[where + "s"])["id"] = bad
    return f"bad {where} id {bad!r}"


def _m_blank_reference(draw: st.DrawFn, doc: Doc) -> str:
    blank = draw(st.sampled_from(["", " "]))
    where = draw(st.sampled_from(["to", "from", "roles", "fire", "date", "requirement"]))
    if where in ("to", "from", "roles"):
        _choose(draw, doc["transitions"])[where] = blank
    elif where == "fire":
        _ensure_deadline(draw, doc)[1].setdefault("on_expiry", []).append({"fire": blank})
    elif where == "date":
        _ensure_deadline(draw, doc)[1]["from"] = blank if blank else "missing_date"
    else:
        _choose(draw, doc["transitions"]).setdefault("requires", []).append(blank)
    return f"blank {where} {blank!r}"


def _m_empty_list(draw: st.DrawFn, doc: Doc) -> str:
    where = draw(st.sampled_from(["from", "roles", "notify", "escalate"]))
    if where in ("from", "roles"):
        _choose(draw, doc["transitions"])[where] = []
    else:
        _ensure_deadline(draw, doc)[1].setdefault("on_expiry", []).append({where: []})
    return f"empty {where}"


def _m_bad_expiry(draw: st.DrawFn, doc: Doc) -> str:
    stage, deadline = _ensure_deadline(draw, doc)
    tids = {t["id"] for t in doc["transitions"]}
    role = _any_role(doc)
    choice = draw(st.integers(0, 5))
    if choice == 0:
        rule: object = {"fire": _fresh(tids, "no_such_transition")}
    elif choice == 1:
        loop = _fresh(tids, "loop")
        doc["transitions"].append(
            {"id": loop, "title": "Loop", "from": stage["id"], "to": stage["id"], "roles": role}
        )
        rule = {"fire": loop}
    elif choice == 2:
        rule = {"notify": role, "fire": next(iter(tids))}
    elif choice == 3:
        rule = {"after": "P1D"}
    elif choice == 4:
        rule = {"fire": 5}
    else:
        rule = draw(st.sampled_from(["notify", 5, None, ["notify"], {"remind": role}]))
    deadline.setdefault("on_expiry", []).append(rule)
    return f"bad expiry rule {rule!r}"


def _m_misplaced_deadline(draw: st.DrawFn, doc: Doc) -> str:
    if draw(st.booleans()):
        _terminal_stage(draw, doc)["deadline"] = {"due": "P1D"}
        return "a deadline on a terminal stage"
    dates = {d["id"] for d in doc.get("dates", [])}
    _ensure_deadline(draw, doc)[1]["from"] = _fresh(dates | {ENTRY}, "date")
    return "a deadline from an undeclared date"


def _m_flags(draw: st.DrawFn, doc: Doc) -> str:
    if draw(st.booleans()):
        for stage in doc["stages"]:
            stage.pop("terminal", None)
        return "no terminal stage"
    _initial_stage(doc)["terminal"] = True
    return "the initial stage is terminal"


def _m_bad_framework(draw: st.DrawFn, doc: Doc) -> str:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        doc["framework"] = {
            "sections": [
                {"id": "s1", "title": "A", "questions": [{"id": "q", "text": "?"}]},
                {"id": "s2", "title": "B", "questions": [{"id": "q", "text": "?"}]},
            ]
        }
        return "duplicate question id"
    if choice == 1:
        doc["framework"] = {"scale": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]}
        return "duplicate scale point"
    if choice == 2:
        doc["framework"] = {"sections": [{"id": "s", "title": "S"}]}
        return "a section without questions"
    doc["finding_kinds"] = ["strength", "strength"]
    return "duplicate finding kind"


MUTATIONS: tuple[Mutation, ...] = (
    _m_dest_unknown,
    _m_source_unknown,
    _m_duplicate_id,
    _m_no_initial,
    _m_second_initial,
    _m_unknown_role,
    _m_duplicate_notify,
    _m_unknown_requirement,
    _m_bad_duration,
    _m_semantic_duration,
    _m_bad_param,
    _m_delete_required,
    _m_wrong_type,
    _m_unreachable,
    _m_dead_end,
    _m_from_terminal,
    _m_unknown_key,
    _m_bad_id,
    _m_blank_reference,
    _m_empty_list,
    _m_bad_expiry,
    _m_misplaced_deadline,
    _m_flags,
    _m_bad_framework,
)


@st.composite
def mutated_templates(draw: st.DrawFn) -> tuple[str, Doc]:
    """A valid template with one mutation that must make it invalid, and what was done."""
    doc = copy.deepcopy(draw(valid_templates()))
    mutation = draw(st.sampled_from(MUTATIONS))
    return mutation(draw, doc), doc


# --- garbage -----------------------------------------------------------------------------------

_KNOWN_KEYS = sorted(
    {
        "format",
        "id",
        "version",
        "title",
        "description",
        "roles",
        "dates",
        "finding_kinds",
        "framework",
        "sections",
        "questions",
        "text",
        "strand",
        "scale",
        "label",
        "stages",
        "transitions",
        "initial",
        "terminal",
        "deadline",
        "collects",
        "due",
        "from",
        "to",
        "reminders",
        "on_expiry",
        "notify",
        "escalate",
        "fire",
        "after",
        "requires",
        "school_days",
        *COLLECT_KINDS,
        *LIBRARY,
        *(k for d in LIBRARY.values() for k in d.params),
    }
)


_EXOTIC_TYPES: tuple[type, ...] = (
    bytes,
    bytearray,
    complex,
    Decimal,
    Fraction,
    date,
    datetime,
    timedelta,
    tuple,
    frozenset,
    set,
)


def _leaves() -> st.SearchStrategy[object]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=12),
        st.sampled_from(_KNOWN_KEYS),
        ids(),
        iso_duration_like_text(),
    )


def garbage(*, exotic: bool = False) -> st.SearchStrategy[object]:
    """JSON-like values (as YAML or JSON loading gives them), keyed mostly by template keys.

    With `exotic`, leaves also include values of other Python types (`st.from_type`), such as
    a careless caller or a permissive loader might hand over.
    """
    leaves = _leaves()
    if exotic:
        leaves = st.one_of(leaves, st.sampled_from(_EXOTIC_TYPES).flatmap(st.from_type))
    keys = st.one_of(st.sampled_from(_KNOWN_KEYS), st.text(max_size=8), st.integers())
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(keys, inner, max_size=5),
        ),
        max_leaves=25,
    )


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def structural_garbage(draw: st.DrawFn) -> object:
    """A valid template with a few nodes (anywhere in the tree) replaced by garbage."""
    doc: Any = copy.deepcopy(draw(valid_templates()))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        replacement = draw(garbage())
        if not path:
            return replacement
        holder = doc
        for step in path[:-1]:
            holder = holder[step]
        holder[path[-1]] = replacement
    return doc
