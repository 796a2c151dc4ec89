"""Use cases over the in-memory fakes, in milliseconds: what each does, who is told, and that
a refused command changes nothing and tells nobody."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.clock import FixedClock
from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from engine.access import Principal
from engine.calendar import WeekdayCalendar
from engine.directory import Grant, Network, Person, School
from engine.errors import AccessDenied, NotFound, RoleNotAllowed
from service.messagebus import MessageBus
from service.usecases import UseCases
from service.usecases.core import Peerloop, TemplateRegistry
from service.usecases.messages import (
    AddGrant,
    AssignMember,
    FireTransition,
    ListNotifications,
    ReadCycle,
    SetEmailPreference,
    ShareReport,
    StartCycle,
)
from service.usecases.notify import Notifier, event_handlers
from service.usecases.work import emit_after_commit

SPP = Path(__file__).resolve().parents[2] / "workflows" / "spp-cycle.yaml"
T0 = datetime(2026, 9, 14, 8, 0, tzinfo=UTC)
PEOPLE = {
    "admin": ("p-admin", None, [("admin", "global", None)]),
    "pl": ("p-pl", None, [("partnership_lead", "network", "n1")]),
    "head": ("p-head", "s-h", [("school_lead", "school", "s-h")]),
    "lead": ("p-lead", "s-a", [("school_lead", "school", "s-a")]),
    "other": ("p-other", "s-b", [("school_lead", "school", "s-b")]),
}


class NoFiles:
    def put(self, chunks: Any) -> Any:
        raise AssertionError("no files in these tests")

    def open(self, sha256: str) -> Any:
        raise FileNotFoundError(sha256)

    def delete(self, sha256: str) -> None:
        pass


@pytest.fixture
def world() -> tuple[UseCases, InMemoryStore, dict[str, Principal]]:
    store = InMemoryStore()
    calendar = WeekdayCalendar(ZoneInfo("Europe/London"))
    core = Peerloop(
        emit_after_commit(lambda **kw: InMemoryUnitOfWork(store, calendar=calendar, **kw)),
        FixedClock(T0),
        TemplateRegistry(calendar),
    )
    uc = UseCases(
        core,
        NoFiles(),
        MessageBus(event_handlers(Notifier(core, ZoneInfo("Europe/London")))),
        lambda *a: b"",
    )
    callers = {}
    with core.uow() as uow:
        uow.directory.add_network(Network("n1", "North NLC"))
        for sid in ("s-h", "s-a", "s-b"):
            uow.directory.add_school(School(sid, sid[-1] * 6, f"School {sid}", "Primary", "n1"))
        for who, (pid, school, grants) in PEOPLE.items():
            uow.directory.add_person(Person(pid, who.title(), f"{pid}@example.org", school))
            for i, (role, kind, scope) in enumerate(grants):
                uow.directory.add_grant(Grant(f"g-{pid}-{i}", pid, role, kind, scope))  # type: ignore[arg-type]
        uow.commit()
        for who, (pid, _, _) in PEOPLE.items():
            callers[who] = Principal(
                uow.directory.get_person(pid), tuple(uow.directory.grants_for(pid))
            )
    core.upload_template(SPP.read_bytes(), SPP.name, publish=True)
    return uc, store, callers


def inbox(uc: UseCases, caller: Principal) -> list[str]:
    return [n.subject for n in uc.handle(ListNotifications(), caller).notifications]


def test_a_team_member_is_told_and_the_one_who_acted_is_not(world: Any) -> None:
    uc, store, who = world
    started = uc.handle(StartCycle("spp-cycle", "s-h"), who["pl"])
    cycle_id = started.context.cycle.id
    # The team is formed in pre-review: the admin forces the move for this test's brevity.
    version = started.context.cycle.version
    uc.handle(
        FireTransition(cycle_id, "submit_self_review", version, force_reason="paper"),
        who["admin"],
    )
    assert inbox(uc, who["pl"]) == ["School s-h: submit the self-review — now at Pre-review"]
    uc.handle(AssignMember(cycle_id, "p-lead", "review_lead"), who["pl"])
    assert inbox(uc, who["lead"]) == [
        "You are a Review lead for School s-h's Schools Partnership Programme cycle"
    ]
    assert len(inbox(uc, who["pl"])) == 1  # the partnership lead acted: not told again
    assert [m.recipient for m in store.data.mail] == ["p-pl@example.org", "p-lead@example.org"]


def test_a_refused_share_changes_nothing_and_tells_nobody(world: Any) -> None:
    uc, store, who = world
    cycle_id = uc.handle(StartCycle("spp-cycle", "s-h"), who["pl"]).context.cycle.id
    with pytest.raises(RoleNotAllowed):
        uc.handle(ShareReport(cycle_id, "person", "p-other"), who["pl"])
    with pytest.raises(NotFound):  # another school's head does not learn the cycle exists
        uc.handle(ShareReport(cycle_id, "person", "p-other"), who["other"])
    assert inbox(uc, who["other"]) == [] and store.data.mail == []
    uc.handle(ShareReport(cycle_id, "person", "p-other"), who["head"])
    assert inbox(uc, who["other"]) == ["School s-h's review report is shared with you"]
    assert uc.handle(ReadCycle(cycle_id, "report"), who["other"]).access.shared


def test_sections_are_refused_by_the_use_case_not_the_door(world: Any) -> None:
    uc, _, who = world
    cycle_id = uc.handle(StartCycle("spp-cycle", "s-h"), who["pl"]).context.cycle.id
    with pytest.raises(AccessDenied):
        uc.handle(ReadCycle(cycle_id, "report"), who["pl"])
    with pytest.raises(NotFound):
        uc.handle(ReadCycle(cycle_id), who["other"])


def test_a_grant_tells_the_grantee_and_email_follows_the_preference(world: Any) -> None:
    uc, store, who = world
    uc.handle(SetEmailPreference("daily"), who["other"])
    uc.handle(AddGrant("p-other", "network_lead", "network", "n1"), who["admin"])
    assert inbox(uc, who["other"]) == ["You now hold the role network lead in North NLC"]
    assert [(m.recipient, m.hold) for m in store.data.mail] == [("p-other@example.org", True)]
