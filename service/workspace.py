"""Use cases the HTTP service adds to `Peerloop`: reading a cycle with its shares, sharing the
report, forming the team, evidence files, the directory and credentials.

Each runs in one unit of work and commits everything or nothing, like `service.handlers`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.files import FileStore
from engine import records
from engine.cycle import Actor, Cycle, EvidenceFile, Member
from engine.directory import (
    ApiToken,
    CycleSummary,
    Grant,
    HistoryEntry,
    Network,
    Person,
    ReportShare,
    School,
    ShareGranteeKind,
)
from engine.errors import Conflict, InvalidRecord, NotFound, RoleNotAllowed
from engine.events import RecordChanged
from engine.ports import CycleFilter, DeadlineRow, UnitOfWork
from engine.template import Template
from service.auth import (
    Principal,
    Unauthenticated,
    authenticate,
    check_password,
    hash_password,
    issue_token,
)
from service.handlers import Peerloop, new_id
from service.visibility import CycleAccess, access_to, visible_cycle_filters

__all__ = ["CycleContext", "Workspace"]

SHARE_ROLES = ("school_lead",)
"""Who decides who else sees the review report: the host school's head."""


@dataclass(frozen=True, slots=True)
class CycleContext:
    """A cycle as one caller sees it: the cycle, its template, its shares and their access."""

    cycle: Cycle
    template: Template
    shares: list[ReportShare]
    access: CycleAccess


class Workspace:
    def __init__(self, app: Peerloop, files: FileStore) -> None:
        self.app = app
        self.files = files

    @property
    def now(self) -> datetime:
        return self.app.clock.now()

    # -- who is calling ------------------------------------------------------------------------

    def principal(self, authorization: str | None) -> Principal:
        """Raises Unauthenticated."""
        now = self.now
        with self.app.uow(readonly=True) as uow:
            try:
                principal, touch = authenticate(uow, authorization, now)
            except NotFound as exc:  # the token's person was removed
                raise Unauthenticated("the token is not valid") from exc
        if touch and principal.token_id is not None:
            with self.app.uow() as uow:
                uow.credentials.touch_token(principal.token_id, now)
                uow.commit()
        return principal

    def seen_key(self, person_id: str, key: str) -> bool:
        """Whether the person already used this idempotency key (keys are per person, as
        `Peerloop.fire` stores them)."""
        with self.app.uow(readonly=True) as uow:
            return uow.idempotency.get(f"{person_id}:{key}") is not None

    def shares_of(self, cycle_id: str) -> list[ReportShare]:
        with self.app.uow(readonly=True) as uow:
            return uow.shares.for_cycle(cycle_id)

    # -- reading cycles ------------------------------------------------------------------------

    def context(self, principal: Principal, cycle_id: str) -> CycleContext:
        """The cycle as `principal` sees it. Raises NotFound when it is unknown or invisible."""
        with self.app.uow(readonly=True) as uow:
            cycle = uow.cycles.get(cycle_id)
            shares = uow.shares.for_cycle(cycle_id)
            access = access_to(principal, cycle, shares)
            if not access.visible:
                raise NotFound("cycle", cycle_id)
            template = self.app.registry.machine(
                uow, cycle.template_id, cycle.template_version
            ).template
        return CycleContext(cycle, template, shares, access)

    def cycles(self, principal: Principal, where: CycleFilter) -> list[CycleSummary]:
        with self.app.uow(readonly=True) as uow:
            filters = visible_cycle_filters(principal, uow, where)
            if filters is None:
                return uow.cycles.list(where)
            found: dict[str, CycleSummary] = {}
            for f in filters:
                for c in uow.cycles.list(f):
                    found[c.id] = c
        rows = sorted(found.values(), key=where.order_key)
        return rows[: where.limit]

    def history(self, cycle_id: str) -> list[HistoryEntry]:
        with self.app.uow(readonly=True) as uow:
            return uow.history.for_cycle(cycle_id)

    def deadlines(self, cycle_id: str) -> list[DeadlineRow]:
        with self.app.uow(readonly=True) as uow:
            return uow.deadlines.for_cycle(cycle_id)

    # -- changing cycles -----------------------------------------------------------------------

    def assign(
        self,
        cycle_id: str,
        actor_of: Callable[[Cycle], Actor],
        person_id: str,
        role: str,
        expected_version: int | None,
    ) -> Cycle:
        """Put a person on the team (or make them the champion), with their school and network."""
        with self.app.uow(readonly=True) as uow:
            person = uow.directory.get_person(person_id)
            school = uow.directory.get_school(person.school_id) if person.school_id else None
        member = Member(person.id, role, person.school_id, school.network_id if school else None)
        return self.app.record(
            cycle_id,
            actor_of,
            lambda t, c, a, now: records.assign_member(t, c, a, member, now),
            expected_version=expected_version,
        )

    def add_evidence(
        self,
        cycle_id: str,
        actor_of: Callable[[Cycle], Actor],
        question_id: str,
        title: str,
        chunks: Iterable[bytes] | None,
        media_type: str | None,
        original_name: str | None,
        expected_version: int | None,
    ) -> tuple[Cycle, str]:
        """Store the file (if any), then record the evidence; a refused record leaves no file."""
        evidence_id = new_id("ev")
        file = None
        if chunks is not None:
            stored = self.files.put(chunks)
            file = EvidenceFile(
                stored.sha256, stored.size, media_type or "", original_name or "evidence"
            )
        try:
            cycle = self.app.record(
                cycle_id,
                actor_of,
                lambda t, c, a, now: records.add_evidence(
                    t, c, a, evidence_id, question_id, title, now, file
                ),
                expected_version=expected_version,
            )
        except BaseException:
            if file is not None:
                with self.app.uow(readonly=True) as uow:
                    used = uow.cycles.file_in_use(file.sha256)
                if not used:
                    self.files.delete(file.sha256)
            raise
        return cycle, evidence_id

    def erase_evidence(
        self, cycle_id: str, evidence_id: str, actor_of: Callable[[Cycle], Actor], reason: str
    ) -> None:
        sha = self.app.erase_evidence(cycle_id, evidence_id, actor_of, reason)
        if sha is not None:
            self.files.delete(sha)

    def share_report(
        self,
        cycle_id: str,
        actor_of: Callable[[Cycle], Actor],
        kind: ShareGranteeKind,
        grantee_id: str,
    ) -> ReportShare:
        """The host's head lets someone else see the report; recorded in the cycle's history."""
        now = self.now
        with self.app.uow() as uow:
            cycle = uow.cycles.get(cycle_id)
            actor = actor_of(cycle)
            if not actor.roles & set(SHARE_ROLES):
                raise RoleNotAllowed(cycle_id, "share the report", actor.roles, SHARE_ROLES)
            if kind == "person":
                uow.directory.get_person(grantee_id)
            elif kind == "school":
                uow.directory.get_school(grantee_id)
            else:
                uow.directory.get_network(grantee_id)
            for s in uow.shares.for_cycle(cycle_id):
                if s.grantee_kind == kind and s.grantee_id == grantee_id:
                    raise Conflict(
                        "share",
                        s.id,
                        f"the report is already shared with {kind} {grantee_id!r} (share {s.id})",
                    )
            share = ReportShare(new_id("shr"), cycle_id, kind, grantee_id, actor.id, now)
            uow.shares.add(share)
            self._journal(
                uow,
                cycle,
                "report_share",
                share.id,
                "added",
                actor,
                now,
                f"shared with {kind} {grantee_id}",
            )
            uow.commit()
        return share

    def revoke_share(
        self, cycle_id: str, share_id: str, actor_of: Callable[[Cycle], Actor]
    ) -> ReportShare:
        now = self.now
        with self.app.uow() as uow:
            cycle = uow.cycles.get(cycle_id)
            actor = actor_of(cycle)
            if not actor.roles & set(SHARE_ROLES):
                raise RoleNotAllowed(cycle_id, "stop sharing the report", actor.roles, SHARE_ROLES)
            share = uow.shares.get(share_id)
            if share.cycle_id != cycle_id:
                raise NotFound("share", share_id)
            if share.revoked_at is not None:
                return share
            share = uow.shares.revoke(share_id, now)
            self._journal(
                uow,
                cycle,
                "report_share",
                share.id,
                "removed",
                actor,
                now,
                f"no longer shared with {share.grantee_kind} {share.grantee_id}",
            )
            uow.commit()
        return share

    @staticmethod
    def _journal(
        uow: UnitOfWork,
        cycle: Cycle,
        kind: str,
        record_id: str,
        change: str,
        actor: Actor,
        now: datetime,
        note: str,
    ) -> None:
        # A share changes who may read the cycle, so it moves the version like any record and
        # takes its place in the hash-chained history.
        expected = cycle.version
        cycle.version += 1
        event = RecordChanged(cycle.id, kind, record_id, change, actor.id, now, cycle.version, note)
        uow.cycles.save(cycle, expected, [event])

    # -- directory -----------------------------------------------------------------------------

    def add_network(self, network: Network) -> Network:
        with self.app.uow() as uow:
            if network.chair_person_id is not None:
                uow.directory.get_person(network.chair_person_id)
            uow.directory.add_network(network)
            uow.commit()
        return network

    def add_school(self, school: School) -> School:
        with self.app.uow() as uow:
            if school.network_id is not None:
                uow.directory.get_network(school.network_id)
            uow.directory.add_school(school)
            uow.commit()
        return school

    def add_person(self, person: Person) -> Person:
        with self.app.uow() as uow:
            if person.school_id is not None:
                uow.directory.get_school(person.school_id)
            if uow.directory.person_by_email(person.email) is not None:
                raise Conflict("person", person.email, "someone already has that email address")
            uow.directory.add_person(person)
            uow.commit()
        return person

    def add_grant(self, grant: Grant) -> Grant:
        with self.app.uow() as uow:
            uow.directory.get_person(grant.person_id)
            if grant.scope_kind == "global":
                if grant.scope_id is not None:
                    raise InvalidRecord("scope_id", "a global grant has no scope id")
            elif grant.scope_id is None:
                raise InvalidRecord("scope_id", f"a {grant.scope_kind} grant needs a scope id")
            elif grant.scope_kind == "network":
                uow.directory.get_network(grant.scope_id)
            elif grant.scope_kind == "school":
                uow.directory.get_school(grant.scope_id)
            else:
                uow.cycles.get(grant.scope_id)
            uow.directory.add_grant(grant)
            uow.commit()
        return grant

    def remove_grant(self, grant_id: str) -> None:
        with self.app.uow() as uow:
            uow.directory.remove_grant(grant_id)
            uow.commit()

    # -- credentials ---------------------------------------------------------------------------

    def create_token(self, person_id: str, name: str, days: int) -> tuple[ApiToken, str]:
        now = self.now
        with self.app.uow() as uow:
            token, secret = issue_token(uow, person_id, name, now, now + timedelta(days=days))
            uow.commit()
        return token, secret

    def revoke_token(self, token_id: str) -> ApiToken:
        with self.app.uow() as uow:
            token = uow.credentials.revoke_token(token_id, self.now)
            uow.commit()
        return token

    def set_password(self, person_id: str, password: str) -> None:
        digest = hash_password(password)  # slow on purpose: outside the transaction
        with self.app.uow() as uow:
            uow.directory.get_person(person_id)
            uow.credentials.set_password(person_id, digest, self.now)
            uow.commit()

    def login(self, email: str, password: str, hours: int = 12) -> tuple[ApiToken, str]:
        """A short-lived token for the right email and password. Raises Unauthenticated."""
        with self.app.uow(readonly=True) as uow:
            person = uow.directory.person_by_email(email)
            stored = uow.credentials.password_hash(person.id) if person else None
        if not check_password(stored, password) or person is None:
            raise Unauthenticated("the email or password is not right")
        now = self.now
        with self.app.uow() as uow:
            token, secret = issue_token(uow, person.id, "login", now, now + timedelta(hours=hours))
            uow.commit()
        return token, secret
