"""The template model: a versioned, declarative definition of a review cycle (data, never code)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from engine.durations import Duration

__all__ = [
    "ADMIN_ROLE",
    "COLLECT_KINDS",
    "ENTRY",
    "FORMATS",
    "FORMAT_1_ROLES",
    "FORMAT_2_ROLES",
    "FORMAT_VERSION",
    "PARTS",
    "POWERS",
    "READABLE_SECTIONS",
    "TEAM_PLACES",
    "DateSpec",
    "DeadlineSpec",
    "ExpiryRule",
    "Framework",
    "Question",
    "RequirementRef",
    "Role",
    "ScalePoint",
    "Section",
    "Stage",
    "Template",
    "Transition",
]

FORMAT_VERSION = 3
"""The version of the template file format this engine writes about; it reads `FORMATS`.

Format 3 says everything a role is by the role's declaration: what it reads and may do
(`Role.reads`, `Role.may`), its place on the review team (`Role.team`) and whether a network's
chair holds it (`Role.chair`). Earlier formats left part of that to the role's name, and a
template of one is read with the table of its format (`FORMAT_1_ROLES`, `FORMAT_2_ROLES`), so
its cycles behave as they always did: these tables are the only place a role's name means
anything.
"""
FORMATS = (1, 2, 3)

READABLE_SECTIONS = ("evidence", "evidence_files", "self_review", "report", "plan")
"""What a role may be given to read of a cycle, beyond the overview (stage, dates, team,
deadlines, history) that everyone who sees the cycle reads: the evidence list, its files, the
self-review (focus and self-judgements), the report (findings and peer judgements) and the
plan (actions, support, sign-offs)."""

PARTS = ("evidence", "findings", "judgements")
"""What of a cycle of several schools is of one school taking part: its evidence (and the
files), the findings and the judgements about it. A participating school reads only its own
part of each, beside what is of the cycle as a whole, unless the template shares that part
with every school taking part (`Template.shared_with_participants`)."""

POWERS = ("share_report", "start_cycles", "erase_evidence", "follow_network")
"""What else a role may be given: decide who else reads the host's report (the host's lead,
who is also told when anyone opens it), start cycles of the template for schools in the
networks it is granted, erase evidence (a data-protection duty of the host), and follow the
networks it is granted as a whole: their dashboard, their people (to form review teams) and
the reports shared with the network (granted everywhere: every network, the borough view)."""

TEAM_PLACES = ("lead", "member", "champion")
"""A role's place on a cycle's review team, when it has one: the one `lead` of the review, a
`member` of it, or the `champion`, who turns the findings into agreed actions and must be
independent of the review (not on it, not of the host or of a school on the review)."""

ADMIN_ROLE = "admin"
"""The platform role every template knows without declaring it; only it may force a move."""

ENTRY = "stage_entry"
"""The anchor of a deadline counted from the moment the cycle entered the stage."""

COLLECT_KINDS = (
    "evidence",
    "focus",
    "dates",
    "team",
    "self_judgements",
    "peer_judgements",
    "findings",
    "actions",
    "action_status",
    "support",
    "signoffs",
    "participants",
)
"""What a stage may collect; each maps to the roles allowed to record it (`participants`:
the schools taking part beside the host, added and removed)."""


@dataclass(frozen=True, slots=True)
class Role:
    """A role the template declares: its title, what it reads, and what else it may do.

    Attributes:
        reads: sections of `READABLE_SECTIONS` it reads (the overview is always read).
        may: powers of `POWERS` it holds.
        team: its place on the review team (`TEAM_PLACES`): held by being put on a cycle's
            team in that role, not by a grant; None for a role that is granted.
        chair: whether the chair of the cycle's network holds it on the cycle (and is told
            what it is told) without a grant.
    """

    id: str
    title: str
    reads: frozenset[str] = frozenset()
    may: frozenset[str] = frozenset()
    team: Literal["lead", "member", "champion"] | None = None
    chair: bool = False


@dataclass(frozen=True, slots=True)
class DateSpec:
    """A named cycle date (such as the visit date) that deadlines may count from."""

    id: str
    title: str


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: str
    strand: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class ScalePoint:
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Framework:
    """Sections of questions and a judgement scale; an empty scale means no grades (as in SPP)."""

    sections: tuple[Section, ...] = ()
    scale: tuple[ScalePoint, ...] = ()
    questions: tuple[Question, ...] = field(init=False, repr=False, compare=False)
    """Every question of every section, in order (computed once: requirements read it often)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "questions", tuple(q for s in self.sections for q in s.questions))


@dataclass(frozen=True, slots=True)
class ExpiryRule:
    """What happens when a stage's deadline passes.

    Attributes:
        kind: `notify` or `escalate` (send to `roles`) or `fire` (run `transition`).
        roles: who is told, for notify and escalate.
        transition: the transition to fire, for fire.
        after: how long after the due time the rule applies (none: at the due time).
    """

    kind: Literal["notify", "escalate", "fire"]
    roles: tuple[str, ...] = ()
    transition: str | None = None
    after: Duration | None = None


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    """When a stage is due, counted from stage entry or a cycle date, with reminders."""

    due: Duration
    anchor: str = ENTRY
    reminders: tuple[Duration, ...] = ()
    on_expiry: tuple[ExpiryRule, ...] = ()


@dataclass(frozen=True, slots=True)
class Stage:
    id: str
    title: str
    description: str = ""
    initial: bool = False
    terminal: bool = False
    deadline: DeadlineSpec | None = None
    collects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notify: tuple[str, ...] = ()
    """The roles told when a cycle enters this stage, by any transition (automatic ones too)."""


@dataclass(frozen=True, slots=True)
class RequirementRef:
    """A requirement by name with its parameters, as written in the template."""

    name: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Transition:
    id: str
    sources: tuple[str, ...]
    dest: str
    title: str
    roles: tuple[str, ...]
    requirements: tuple[RequirementRef, ...] = ()
    description: str = ""
    notify: tuple[str, ...] = ()
    """The roles told when this transition fires."""


@dataclass(frozen=True, slots=True)
class Template:
    """A workflow template at one version; built only from a template that validated."""

    id: str
    version: int
    title: str
    description: str
    roles: tuple[Role, ...]
    stages: tuple[Stage, ...]
    transitions: tuple[Transition, ...]
    framework: Framework = Framework()
    dates: tuple[DateSpec, ...] = ()
    finding_kinds: tuple[str, ...] = ("strength", "area_to_develop")
    shared_with_participants: frozenset[str] = frozenset()
    """Of `PARTS`, those every school taking part reads whole (each school's, not only its own)."""
    evidence_kept_years: int | None = None
    """How many years a cycle's evidence (and its files) is kept after the cycle closes, when
    the template says (`retention: {evidence_years: N}`); None: the deployment's rule."""
    _stages: dict[str, Stage] = field(init=False, repr=False, compare=False)
    _transitions: dict[str, Transition] = field(init=False, repr=False, compare=False)
    _questions: dict[str, Question] = field(init=False, repr=False, compare=False)
    _outgoing: dict[str, tuple[Transition, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen, so the lookup tables are set once here rather than recomputed per call.
        object.__setattr__(self, "_stages", {s.id: s for s in self.stages})
        object.__setattr__(self, "_transitions", {t.id: t for t in self.transitions})
        object.__setattr__(self, "_questions", {q.id: q for q in self.framework.questions})
        # One pass over the transitions (a template may have thousands of stages).
        leaving: dict[str, list[Transition]] = {s.id: [] for s in self.stages}
        for t in self.transitions:
            for source in dict.fromkeys(t.sources):
                if source in leaving:
                    leaving[source].append(t)
        outgoing = {sid: tuple(found) for sid, found in leaving.items()}
        object.__setattr__(self, "_outgoing", outgoing)

    def declared_role(self, role_id: str) -> Role | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def reads_of(self, role_id: str) -> frozenset[str]:
        """What holding `role_id` on a cycle of this template reads, the overview included;
        a role the template does not declare reads the overview only."""
        role = self.declared_role(role_id)
        return frozenset({"overview"}) | (role.reads if role else frozenset())

    def roles_that(self, power: str) -> frozenset[str]:
        """The roles holding `power` (one of `POWERS`)."""
        return frozenset(r.id for r in self.roles if power in r.may)

    def team_roles(self, *places: str) -> tuple[str, ...]:
        """The roles with a place on the review team (of `places`, or any), in declared order."""
        return tuple(r.id for r in self.roles if r.team and (not places or r.team in places))

    @property
    def champion_role(self) -> str | None:
        """The role of the improvement champion, when the template has one."""
        return next(iter(self.team_roles("champion")), None)

    @property
    def chair_roles(self) -> frozenset[str]:
        """The roles the chair of a cycle's network holds on it (`Role.chair`)."""
        return frozenset(r.id for r in self.roles if r.chair)

    def roles_reading(self, section: str) -> frozenset[str]:
        """The roles that read `section` of a cycle."""
        return frozenset(r.id for r in self.roles if section in r.reads)

    @property
    def key(self) -> str:
        """The template's identity at this version, as `id@version`."""
        return f"{self.id}@{self.version}"

    @property
    def initial_stage(self) -> Stage:
        return next(s for s in self.stages if s.initial)

    def stage(self, stage_id: str) -> Stage:
        return self._stages[stage_id]

    def has_stage(self, stage_id: str) -> bool:
        return stage_id in self._stages

    def transition(self, transition_id: str) -> Transition | None:
        return self._transitions.get(transition_id)

    def question(self, question_id: str) -> Question | None:
        return self._questions.get(question_id)

    def transitions_from(self, stage_id: str) -> tuple[Transition, ...]:
        return self._outgoing.get(stage_id, ())

    @property
    def role_ids(self) -> frozenset[str]:
        return frozenset(r.id for r in self.roles) | {ADMIN_ROLE}


_EVERYTHING = frozenset(READABLE_SECTIONS)
FORMAT_1_ROLES: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    "network_lead": (frozenset(), frozenset()),
    "partnership_lead": (frozenset({"plan"}), frozenset({"start_cycles"})),
    "review_lead": (_EVERYTHING, frozenset()),
    "reviewer": (_EVERYTHING, frozenset()),
    "improvement_champion": (frozenset({"self_review", "report", "plan"}), frozenset()),
    "school_lead": (_EVERYTHING, frozenset({"share_report", "erase_evidence"})),
    "school_staff": (frozenset({"evidence", "evidence_files", "self_review", "plan"}), frozenset()),
}
"""(reads, may) of each role by its name, as format 1 fixed them; any other role of a format-1
template reads the overview only."""

FORMAT_2_ROLES: Mapping[str, tuple[Literal["lead", "member", "champion"] | None, bool, str]] = {
    "network_lead": (None, True, "follow_network"),
    "partnership_lead": (None, False, "follow_network"),
    "review_lead": ("lead", False, ""),
    "reviewer": ("member", False, ""),
    "improvement_champion": ("champion", False, ""),
}
"""(team place, held by the chair, power) of each role by its name, as formats 1 and 2 fixed
them beside what they declared: the review team's roles, the network's chair and the roles
that follow networks."""
