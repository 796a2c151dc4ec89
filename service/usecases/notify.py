"""Event handlers that tell people what someone else did: one notice per person, in words.

Each handler reads what it needs in a unit of work of its own, after the change committed,
and delivers the notices (inbox, and email by the person's preference) in the same unit.
Nobody is told of their own act; nobody is told of a move into a stage where the cycle ends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, tzinfo

from engine.access import (
    SYSTEM_SCHEDULER,
    Principal,
    holders,
    holders_of,
    opens_confidential,
)
from engine.cycle import Cycle
from engine.directory import ApiToken, BreakGlass, Person
from engine.errors import NotFound
from engine.events import DeadlinesScheduled, TransitionFired
from engine.notices import Notice, recipients, roles_told_of_move
from engine.ports import UnitOfWork
from engine.template import Template
from service.usecases.core import Peerloop
from service.usecases.events import ActionAssigned, ReportShared, RoleGranted, TeamChanged

__all__ = [
    "Notifier",
    "break_glass_notices",
    "event_handlers",
    "in_words",
    "password_set_notice",
    "token_made_notice",
]

_SECTION_WORDS = {
    "evidence_files": "evidence files",
    "self_review": "self-review",
    "report": "review report",
}


def in_words(day: date | datetime, tz: tzinfo | None = None) -> str:
    """`Friday 14 March 2027` (with `at 09:00` for a time), in local time."""
    if isinstance(day, datetime):
        local = day.astimezone(tz) if tz is not None else day
        return f"{local:%A} {local.day} {local:%B %Y at %H:%M}"
    return f"{day:%A} {day.day} {day:%B %Y}"


def role_title(template: Template | None, role: str) -> str:
    if template is not None:
        for r in template.roles:
            if r.id == role:
                return r.title
    return role.replace("_", " ")


def _caller_name(caller: Principal) -> str:
    return "The Peerloop operator" if caller.id.startswith("system:") else caller.person.name


def token_made_notice(token: ApiToken, issuer: Principal, tz: tzinfo) -> Notice:
    """Telling a person that someone else made an API token in their name."""
    until = f", valid until {in_words(token.expires_at, tz)}" if token.expires_at else ""
    who = _caller_name(issuer)
    return Notice(
        token.person_id,
        "token",
        "An API token was made for you",
        f"{who} made an API token “{token.name}” for you{until}. What is done with it is "
        f"recorded as done by you, using a token made by {who}. If you did not ask for it, "
        "revoke it (DELETE /tokens/" + token.id + ") and tell your partnership lead.",
        None,
        "/app",
        f"token:{token.id}",
    )


def password_set_notice(person_id: str, setter: Principal, at: datetime) -> Notice:
    """Telling a person that someone else set their password."""
    who = _caller_name(setter)
    return Notice(
        person_id,
        "password",
        "Your password was set by someone else",
        f"{who} set a new password for you. Whoever knows it can sign in as you. If you did "
        "not ask for this, tell your partnership lead at once.",
        None,
        "/app",
        f"password:{person_id}:{at.isoformat()}",
    )


def break_glass_notices(
    opening: BreakGlass, heads: Sequence[str], admin: Principal, school: str, tz: tzinfo
) -> list[Notice]:
    """Telling the host school's head(s) that an admin opened its cycle's confidential
    sections, why, and until when (at once, even to someone on the daily digest)."""
    until = in_words(opening.until, tz)
    return [
        Notice(
            person,
            "break_glass",
            f"{admin.person.name} opened {school}'s review report (break-glass)",
            f"{admin.person.name}, an admin, opened the confidential parts of {school}'s cycle "
            f"(the review report, the self-review and the evidence files) until {until}. The "
            f"reason they gave: “{opening.reason}”. It is recorded in the cycle's history. "
            "If you did not expect this, raise it with the partnership.",
            opening.cycle_id,
            f"/app/cycles/{opening.cycle_id}",
            f"break_glass:{opening.id}:{person}",
            urgent=True,
        )
        for person in recipients(heads, admin.id)
    ]


class Notifier:
    """Builds and delivers notices for the events of the use cases."""

    def __init__(self, core: Peerloop, tz: tzinfo) -> None:
        self.core = core
        self.tz = tz

    # -- helpers ---------------------------------------------------------------------------

    def _name(self, uow: UnitOfWork, person_id: str) -> str:
        if person_id == SYSTEM_SCHEDULER:
            return "Peerloop (automatically)"
        if person_id.startswith("system:"):
            return "The Peerloop operator"
        try:
            return uow.directory.get_person(person_id).name
        except NotFound:
            return person_id

    def _holders(
        self, uow: UnitOfWork, cycle: Cycle, template: Template, roles: Sequence[str]
    ) -> list[str]:
        # The network's chair holds the template's chair roles (`Role.chair`).
        chair = None
        if cycle.network_id is not None and template.chair_roles & set(roles):
            chair = uow.directory.get_network(cycle.network_id).chair_person_id
        grants = uow.directory.grants_with_roles(frozenset(roles))
        return holders(cycle, roles, grants, chair, template.chair_roles)

    def _deliver(self, uow: UnitOfWork, notices: list[Notice]) -> None:
        if notices:
            uow.inbox.deliver(notices, self.core.clock.now())
        uow.commit()

    def _cycle(self, uow: UnitOfWork, cycle_id: str) -> tuple[Cycle, Template, str]:
        cycle = uow.cycles.get(cycle_id)
        template = self.core.registry.machine(
            uow, cycle.template_id, cycle.template_version
        ).template
        school = uow.directory.get_school(cycle.host_school_id).name
        return cycle, template, school

    # -- handlers --------------------------------------------------------------------------

    def transition_fired(self, event: object) -> None:
        assert isinstance(event, TransitionFired)
        with self.core.uow() as uow:
            cycle, template, school = self._cycle(uow, event.cycle_id)
            roles = roles_told_of_move(template, event.transition, event.to_stage)
            if not roles:
                return
            transition = template.transition(event.transition)
            title = transition.title if transition else event.transition
            stage = template.stage(event.to_stage).title
            who = self._name(uow, event.actor)
            as_role = f" ({role_title(template, event.role)})" if event.role else ""
            text = (
                f"{who}{as_role} made the move “{title}” in {school}'s {template.title}. "
                f"The cycle is now at {stage}."
            )
            notices = [
                Notice(
                    person,
                    "transition",
                    f"{school}: {title.lower()} — now at {stage}",
                    text,
                    cycle.id,
                    f"/app/cycles/{cycle.id}",
                    f"move:{cycle.id}:{event.version}:{person}",
                )
                for person in recipients(self._holders(uow, cycle, template, roles), event.actor)
            ]
            self._deliver(uow, notices)

    def webhook_move(self, event: object) -> None:
        """A person's move, for the partnership's other systems (the sweep sends its own)."""
        assert isinstance(event, TransitionFired)
        if event.actor.startswith("system:"):
            return
        with self.core.uow() as uow:
            cycle = uow.cycles.get(event.cycle_id)
            data = {
                "cycle_id": cycle.id,
                "school_id": cycle.host_school_id,
                "network_id": cycle.network_id,
                "transition": event.transition,
                "from_stage": event.from_stage,
                "to_stage": event.to_stage,
                "version": event.version,
                "actor": event.actor,
                "role": event.role,
                "forced": event.forced,
            }
            key = f"move:{cycle.id}:{event.version}"
            uow.webhooks.send("cycle.moved", event.at, data, cycle.network_id, key)
            uow.commit()

    def team_changed(self, event: object) -> None:
        assert isinstance(event, TeamChanged)
        if event.change not in ("added", "updated") or event.person_id == event.actor:
            return
        with self.core.uow() as uow:
            cycle, template, school = self._cycle(uow, event.cycle_id)
            role = role_title(template, event.role)
            who = self._name(uow, event.actor)
            stage = template.stage(cycle.stage).title
            notice = Notice(
                event.person_id,
                "team",
                f"You are {_article(role)} {role} for {school}'s {template.title}",
                f"{who} {'added you to' if event.change == 'added' else 'changed your role on'}"
                f" the team of {school}'s {template.title}: you are {role}. "
                f"The cycle is at {stage}.",
                cycle.id,
                f"/app/cycles/{cycle.id}",
                f"team:{cycle.id}:{event.person_id}:{event.role}:{event.at.isoformat()}",
            )
            self._deliver(uow, [notice])

    def role_granted(self, event: object) -> None:
        assert isinstance(event, RoleGranted)
        if event.person_id == event.actor:
            return
        with self.core.uow() as uow:
            where = "everywhere"
            if event.scope_kind == "network" and event.scope_id:
                where = f"in {uow.directory.get_network(event.scope_id).name}"
            elif event.scope_kind == "school" and event.scope_id:
                where = f"at {uow.directory.get_school(event.scope_id).name}"
            elif event.scope_kind == "cycle" and event.scope_id:
                _, template, school = self._cycle(uow, event.scope_id)
                where = f"on {school}'s {template.title}"
            role = role_title(None, event.role)
            who = self._name(uow, event.actor)
            cycle_id = event.scope_id if event.scope_kind == "cycle" else None
            notices = [
                Notice(
                    event.person_id,
                    "grant",
                    f"You now hold the role {role} {where}",
                    f"{who} gave you the role {role} {where}.",
                    cycle_id,
                    "/app",
                    f"grant:{event.grant_id}",
                )
            ]
            # A role that opens schools' confidential content is their heads' business too.
            templates = self.core.registry.published(uow)
            opened = opens_confidential(event.role, templates)
            if opened:
                parts = ", ".join(_SECTION_WORDS[x] for x in sorted(opened))
                grantee = self._name(uow, event.person_id)
                text = (
                    f"{who} gave {grantee} the role {role} {where}. It opens your school's "
                    f"{parts}{' of that cycle' if cycle_id else ''}. If you did not expect "
                    "this, raise it with the partnership."
                )
                notices += [
                    Notice(
                        head,
                        "grant",
                        f"{grantee} now holds the role {role} {where}",
                        text,
                        cycle_id,
                        "/app",
                        f"grant:{event.grant_id}:{head}",
                    )
                    for head in recipients(self._heads_opened(uow, event, templates), event.actor)
                    if head != event.person_id
                ]
            self._deliver(uow, notices)

    def _heads_opened(
        self, uow: UnitOfWork, event: RoleGranted, templates: list[Template]
    ) -> list[str]:
        """The heads of the schools a grant reaches (one school, a cycle's host, a network's
        schools, or every school), each once, in id order: the holders of a role that decides
        who reads the school's reports."""
        leads = frozenset(role for t in templates for role in t.roles_that("share_report"))
        if event.scope_kind == "cycle" and event.scope_id:
            schools = [uow.directory.get_school(uow.cycles.get(event.scope_id).host_school_id)]
        elif event.scope_kind == "school" and event.scope_id:
            schools = [uow.directory.get_school(event.scope_id)]
        elif event.scope_kind == "network" and event.scope_id:
            schools = uow.directory.schools(event.scope_id)
        else:
            schools = uow.directory.schools()
        grants = uow.directory.grants_with_roles(leads)
        heads: set[str] = set()
        for school in schools:
            heads.update(
                holders_of(
                    sorted(leads),
                    grants,
                    cycle_id=event.scope_id if event.scope_kind == "cycle" else "",
                    network_id=school.network_id,
                    school_id=school.id,
                )
            )
        return sorted(heads)

    def report_shared(self, event: object) -> None:
        assert isinstance(event, ReportShared)
        with self.core.uow() as uow:
            cycle, template, school = self._cycle(uow, event.cycle_id)
            if event.grantee_kind == "person":
                people = [event.grantee_id]
            else:
                # A school's share reaches its head (the roles that share reports); a
                # network's, its leads (the roles that follow networks) and its chair.
                scope = event.grantee_kind
                grants = uow.directory.grants_with_roles(
                    self.core.registry.followers(uow)
                    if scope == "network"
                    else template.roles_that("share_report")
                )
                people = sorted(
                    {
                        g.person_id
                        for g in grants
                        if g.scope_kind == scope and g.scope_id == event.grantee_id
                    }
                )
                if scope == "network" and template.chair_roles:
                    chair = uow.directory.get_network(event.grantee_id).chair_person_id
                    people = sorted({*people, *([chair] if chair else [])})
            who = self._name(uow, event.actor)
            notices = [
                Notice(
                    person,
                    "share",
                    f"{school}'s review report is shared with you",
                    f"{who} shared the report of {school}'s {template.title} with you. It is "
                    "confidential to the school: please do not pass it on.",
                    cycle.id,
                    f"/app/cycles/{cycle.id}",
                    f"share:{event.share_id}:{person}",
                )
                for person in recipients(people, event.actor)
            ]
            self._deliver(uow, notices)

    def action_assigned(self, event: object) -> None:
        assert isinstance(event, ActionAssigned)
        with self.core.uow() as uow:
            cycle, template, school = self._cycle(uow, event.cycle_id)
            # An owner is a person's id or email, or a post in words ("Deputy head"), who
            # hears through the host head instead (the action reminders say so).
            try:
                owner: Person | None = uow.directory.get_person(event.owner)
            except NotFound:
                owner = uow.directory.person_by_email(event.owner)
            if owner is None or owner.id == event.actor:
                return
            due = f", due {in_words(event.due)}" if event.due else ""
            who, where = self._name(uow, event.actor), f"{school}'s {template.title}"
            if event.change == "assigned":
                subject = f"An action for you: {event.title}"
                text = f"{who} made you the owner of the action “{event.title}” in {where}{due}."
            else:
                subject = f"New due date for your action: {event.title}"
                due = due or " (it has no due date now)"
                text = f"{who} moved the due date of your action “{event.title}” in {where}{due}."
            notice = Notice(
                owner.id,
                "action",
                subject,
                text,
                cycle.id,
                f"/app/cycles/{cycle.id}",
                f"action:{cycle.id}:{event.action_id}:{event.change}:{event.at.isoformat()}",
            )
            self._deliver(uow, [notice])


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def event_handlers(
    notifier: Notifier, wake: Callable[[], None] | None = None
) -> Mapping[type, Sequence[Callable[[object], None]]]:
    """The bus's table: each event type -> what happens after it commits."""
    table: dict[type, list[Callable[[object], None]]] = {
        TransitionFired: [notifier.transition_fired, notifier.webhook_move],
        TeamChanged: [notifier.team_changed],
        RoleGranted: [notifier.role_granted],
        ReportShared: [notifier.report_shared],
        ActionAssigned: [notifier.action_assigned],
    }
    if wake is not None:
        table[DeadlinesScheduled] = [lambda _event: wake()]
    return table
