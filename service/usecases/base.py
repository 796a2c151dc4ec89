"""The application layer's spine: one handler per command or query, the caller, and the bus.

`UseCases.handle(message, caller)` runs the one handler registered for the message's type.
The units of work it commits keep their events; after the handler returns, the message bus
hands those events to its handlers (notify people, wake the deadline sweep), so that nothing
is announced for a change that was rolled back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol, TypeVar

from engine.access import (
    CONFIDENTIAL_SECTIONS,
    CycleAccess,
    Principal,
    access_to,
    may_break_glass,
    part_read,
    read_grounds,
)
from engine.cycle import Actor, Cycle
from engine.directory import ApiToken, ContentRead, ReportShare
from engine.errors import NotFound
from engine.ports import UnitOfWork
from engine.template import ADMIN_ROLE, Template
from service.auth import (
    SignInThrottle,
    Unauthenticated,
    authenticate,
    check_password,
    issue_token,
    normalise_email,
)
from service.usecases.core import Peerloop
from service.usecases.work import acting_with_token_of, collecting

__all__ = ["CycleContext", "EvidenceFiles", "StoredFile", "UseCases", "handles"]

M = TypeVar("M")
Handler = Callable[["UseCases", Any, Principal], Any]
_HANDLERS: dict[type, Handler] = {}


def handles(message_type: type[M]) -> Callable[[Callable[[UseCases, M, Principal], Any]], Any]:
    """Register the use case for one message type (one handler per type, by design)."""

    def register(fn: Callable[[UseCases, M, Principal], Any]) -> Any:
        assert message_type not in _HANDLERS, f"{message_type.__name__} has a handler already"
        _HANDLERS[message_type] = fn
        return fn

    return register


class StoredFile(Protocol):
    sha256: str
    size: int


class EvidenceFiles(Protocol):
    """Where evidence files live, by content hash (the file store)."""

    def put(self, chunks: Iterable[bytes]) -> StoredFile: ...
    def open(self, sha256: str) -> Any: ...
    def delete(self, sha256: str) -> None: ...


class DeadlineFeed(Protocol):
    """A person's deadlines as an iCalendar document, read in the caller's unit of work;
    `leads`: the roles whose holders for a school follow all its cycles' actions."""

    def __call__(
        self, uow: UnitOfWork, person_id: str, now: datetime, tz: tzinfo, leads: frozenset[str]
    ) -> bytes: ...


class Publisher(Protocol):
    def publish(self, events: list[object]) -> None: ...


@dataclass(frozen=True, slots=True)
class CycleContext:
    """A cycle as one caller sees it: the cycle, its template, its shares and their access.

    `cycle` is what the caller may read of it (`engine.access.part_read`: a school taking
    part reads its own part); `whole` is the cycle as stored, for the rules to judge moves
    and requirements by, and never presented.
    """

    cycle: Cycle
    template: Template
    shares: list[ReportShare]
    access: Any  # engine.access.CycleAccess
    whole: Cycle


class UseCases:
    """Every use case, reached through `handle`; the doors hold one of these and nothing else."""

    def __init__(
        self,
        core: Peerloop,
        files: EvidenceFiles,
        bus: Publisher,
        feeds: DeadlineFeed,
        throttle: SignInThrottle | None = None,
    ) -> None:
        self.core = core
        self.files = files
        self.bus = bus
        self.feeds = feeds
        self.throttle = throttle or SignInThrottle()

    # -- who is calling (before there is a caller) -----------------------------------------

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller behind an `Authorization` header. Raises Unauthenticated."""
        now = self.now
        with self.uow(readonly=True) as uow:
            try:
                principal, touch = authenticate(uow, authorization, now)
            except NotFound as exc:  # the token's person was removed
                raise Unauthenticated("the token is not valid") from exc
        if touch and principal.token_id is not None:
            with self.uow() as uow:
                uow.credentials.touch_token(principal.token_id, now)
                uow.commit()
        return principal

    def login(
        self,
        email: str,
        password: str,
        hours: int = 12,
        name: str = "login",
        *,
        client: str | None = None,
    ) -> tuple[ApiToken, str]:
        """A short-lived token for the right email and password.

        `client` is the caller's address: failures are counted per account and per address
        (see SignInThrottle). Raises TooManyAttempts (an Unauthenticated) while the caller
        must wait, without checking the password; Unauthenticated when it is not right.
        """
        now = self.now
        self.throttle.check(email, client, now)
        with self.uow(readonly=True) as uow:
            person = uow.directory.person_by_email(normalise_email(email))
            stored = uow.credentials.password_hash(person.id) if person else None
        if not check_password(stored, password) or person is None:
            self.throttle.failed(email, client, now)
            raise Unauthenticated("the email or password is not right")
        self.throttle.succeeded(email, client)
        with self.uow() as uow:
            token, secret = issue_token(uow, person.id, name, now, now + timedelta(hours=hours))
            uow.commit()
        return token, secret

    def sign_out(self, principal: Principal) -> None:
        """End the session (or revoke the token) the caller came with."""
        if principal.token_id is None:
            return
        with self.uow() as uow:
            uow.credentials.revoke_token(principal.token_id, self.now)
            uow.commit()

    def healthy(self) -> None:
        """Raises the storage's error when the database does not answer."""
        with self.uow(readonly=True) as uow:
            uow.directory.networks()

    # -- for the handlers --------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.core.clock.now()

    def uow(self, **kw: Any) -> UnitOfWork:
        return self.core.uow(**kw)

    def actor_of(self, caller: Principal) -> Callable[[Cycle], Actor]:
        """The caller on a cycle, or NotFound when it is invisible to them. (A break-glass
        opens sections to an admin, who sees every cycle anyway, and gives no role: it is not
        looked up here.)"""

        def resolve(cycle: Cycle) -> Actor:
            with self.uow(readonly=True) as uow:
                shares = uow.shares.for_cycle(cycle.id)
                template = self.template_of(uow, cycle)
            access = access_to(caller, cycle, shares, template=template)
            if not access.visible:
                raise NotFound("cycle", cycle.id)
            return access.actor

        return resolve

    def context(self, uow: UnitOfWork, caller: Principal, cycle_id: str) -> CycleContext:
        """The cycle as the caller sees it. Raises NotFound when unknown or invisible."""
        cycle = uow.cycles.get(cycle_id)
        shares = uow.shares.for_cycle(cycle_id)
        # Only an admin's break-glass can open anything: nobody else's is looked up.
        openings = uow.break_glass.for_cycle(cycle_id) if may_break_glass(caller) else []
        template = self.template_of(uow, cycle)
        access = access_to(caller, cycle, shares, openings, self.now, template=template)
        if not access.visible:
            raise NotFound("cycle", cycle_id)
        return CycleContext(part_read(cycle, access, template), template, shares, access, cycle)

    def note_reads(self, ctx: CycleContext, caller: Principal, sections: Iterable[str]) -> None:
        """Record that the caller was served these sections of the cycle, those of them that
        are confidential, when the caller is not of the host school's staff (who, what, when,
        on what grounds: `engine.access.read_grounds`). The host's head reads the list."""
        served = sorted(set(sections) & CONFIDENTIAL_SECTIONS & ctx.access.sections)
        grounds = read_grounds(caller, ctx.whole, ctx.access) if served else None
        if grounds is None:
            return
        now, issuer = self.now, caller.token_issued_by
        reads = [ContentRead(ctx.whole.id, caller.id, s, grounds, now, issuer) for s in served]
        with self.uow() as uow:
            uow.reads.add(reads)
            uow.commit()

    def feed_of(self, uow: UnitOfWork, person_id: str) -> bytes:
        """The person's deadlines as an iCalendar document. A school's leads (the roles the
        templates let decide who reads its report) see every action of their school's cycles."""
        leads = frozenset(r for t in self.published(uow) for r in t.roles_that("share_report"))
        return self.feeds(uow, person_id, self.now, self.core.registry.calendars.tz, leads)

    def template_of(self, uow: UnitOfWork, cycle: Cycle) -> Template:
        """The template version `cycle` runs on, which says what each role reads and does."""
        return self.core.registry.machine(uow, cycle.template_id, cycle.template_version).template

    def published(self, uow: UnitOfWork) -> list[Template]:
        """Every published template version: what the roles of running cycles mean."""
        return self.core.registry.published(uow)

    def with_powers(self, caller: Principal) -> Principal:
        """The caller with the roles of theirs that follow networks (`Principal.follows`):
        looked up only for someone granted a role for a network or everywhere, the only
        grants that can make a network's lead."""
        wide = {g.role for g in caller.grants if g.scope_kind in ("network", "global")}
        wide.discard(ADMIN_ROLE)
        if not wide or wide <= caller.follows:
            return caller
        with self.uow(readonly=True) as uow:
            follows = self.core.registry.followers(uow) & wide
        return dataclasses.replace(caller, follows=follows)

    def access(self, uow: UnitOfWork, caller: Principal, cycle: Cycle) -> CycleAccess:
        """The caller's access to `cycle` (shares counted, no break-glass)."""
        shares = uow.shares.for_cycle(cycle.id)
        return access_to(caller, cycle, shares, template=self.template_of(uow, cycle))

    def accesses(
        self, uow: UnitOfWork, caller: Principal, cycles: Iterable[Cycle]
    ) -> dict[str, CycleAccess]:
        """The caller's access to each of `cycles`, by id, their shares read at once."""
        cycles = list(cycles)
        shares = uow.shares.for_cycles(c.id for c in cycles)
        return {
            c.id: access_to(caller, c, shares[c.id], template=self.template_of(uow, c))
            for c in cycles
        }

    def reached(self, uow: UnitOfWork, caller: Principal) -> Callable[[set[str]], set[str]]:
        """Those of the cycles shared with one of the caller's schools that reach the caller
        (for `engine.access.visible_cycle_filters`): its template says whose the share is."""

        def reaches(cycle_ids: set[str]) -> set[str]:
            cycles = uow.cycles.get_many(cycle_ids, records=False).values()
            return {cid for cid, a in self.accesses(uow, caller, cycles).items() if a.shared}

        return reaches

    # -- the one entry ---------------------------------------------------------------------

    def handle(self, message: object, caller: Principal) -> Any:
        """Run the use case for `message` as `caller`; then announce what it committed."""
        handler = _HANDLERS.get(type(message))
        if handler is None:
            raise TypeError(f"no use case handles {type(message).__name__}")
        caller = self.with_powers(caller)
        with collecting() as events, acting_with_token_of(caller.id, caller.token_issued_by):
            result = handler(self, message, caller)
        if events:
            self.bus.publish(events)
        return result

    @staticmethod
    def handled() -> Iterator[type]:
        """Every message type with a use case (for the tests that check none is missing)."""
        return iter(_HANDLERS)
