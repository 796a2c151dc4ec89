"""The access rules that keep power traced: no self-granted confidential roles, break-glass
openings that count for their admin only and only while in force, and the token issuer in
history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.template_files import read_file
from engine.access import (
    BREAK_GLASS_PERIOD,
    CONFIDENTIAL_SECTIONS,
    Principal,
    access_to,
    opens_confidential,
    refuse_self_grant,
)
from engine.audit import GENESIS, verify_chain
from engine.cycle import Cycle
from engine.directory import BreakGlass, Grant, Person
from engine.errors import AccessDenied
from engine.events import RecordChanged
from engine.journal import TOKEN_ISSUED_BY, chain_entries

T0 = datetime(2026, 9, 14, 8, 0, tzinfo=UTC)
SPP = read_file(Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml").build()
SHIPPED = [SPP]
CYCLE = Cycle("c1", "spp-cycle", 1, "s-host", "n1", "peer_review", T0, T0)
ADMIN = Principal(
    Person("p-admin", "Pat Admin", "a@x.example"), (Grant("g", "p-admin", "admin", "global"),)
)
HEAD = Principal(
    Person("p-head", "Hana Head", "h@x.example", "s-host"),
    (Grant("g2", "p-head", "school_lead", "school", "s-host"),),
)


def opening(person: str = "p-admin", at: datetime = T0) -> BreakGlass:
    return BreakGlass("bg1", "c1", person, "a complaint to check", at, at + BREAK_GLASS_PERIOD)


def test_which_roles_open_confidential_content_comes_from_what_the_template_says() -> None:
    for role in SPP.roles:
        assert opens_confidential(role.id, SHIPPED) == role.reads & CONFIDENTIAL_SECTIONS, role
    assert not opens_confidential("admin", SHIPPED)
    assert not opens_confidential("partnership_lead", SHIPPED)
    assert opens_confidential("school_staff", SHIPPED) == {"evidence_files", "self_review"}
    assert not opens_confidential("a_role_no_template_declares", SHIPPED)


@pytest.mark.parametrize(
    "role", sorted(r.id for r in SPP.roles if opens_confidential(r.id, SHIPPED))
)
def test_nobody_grants_themselves_a_role_that_opens_confidential_content(role: str) -> None:
    with pytest.raises(AccessDenied, match=f"cannot give yourself the role {role}"):
        refuse_self_grant(ADMIN, "p-admin", role, SHIPPED)
    refuse_self_grant(ADMIN, "p-head", role, SHIPPED)  # someone else: the admin's job


def test_a_role_that_opens_nothing_confidential_may_be_taken_by_oneself() -> None:
    for role in ("admin", "network_lead", "partnership_lead"):
        refuse_self_grant(ADMIN, "p-admin", role, SHIPPED)


def test_a_break_glass_opens_the_confidential_sections_while_it_is_in_force() -> None:
    assert not access_to(
        ADMIN, CYCLE, (), [opening()], T0 - timedelta(seconds=1), template=SPP
    ).may("report")
    during = access_to(ADMIN, CYCLE, (), [opening()], T0 + timedelta(hours=3), template=SPP)
    assert during.sections >= CONFIDENTIAL_SECTIONS and during.break_glass == opening()
    ended = access_to(ADMIN, CYCLE, (), [opening()], T0 + BREAK_GLASS_PERIOD, template=SPP)
    assert not ended.may("report") and ended.break_glass is None
    assert not access_to(ADMIN, CYCLE, (), [opening()], template=SPP).may(
        "report"
    )  # no present given


def test_a_break_glass_counts_for_its_admin_alone_and_only_while_they_are_admin() -> None:
    other_admin = Principal(
        Person("p-admin2", "Sam Admin", "s@x.example"),
        (Grant("g3", "p-admin2", "admin", "global"),),
    )
    assert not access_to(other_admin, CYCLE, (), [opening()], T0, template=SPP).may("report")
    former = Principal(ADMIN.person, ())  # the admin grant was withdrawn since
    assert not access_to(former, CYCLE, (), [opening()], T0, template=SPP).visible
    not_admin = opening(person="p-head")
    head = access_to(HEAD, CYCLE, (), [not_admin], T0, template=SPP)
    assert head.sections == SPP.reads_of("school_lead") and head.break_glass is None


def test_the_history_names_the_maker_of_a_token_used_by_someone_else() -> None:
    plain = RecordChanged("c1", "finding", "f1", "added", "p-head", T0, 2, "", "review_lead")
    delegated = plain._replace(token_issued_by="p-admin")
    [before] = chain_entries("c1", [plain], 0, GENESIS)
    [entry] = chain_entries("c1", [delegated], 0, GENESIS)
    assert entry.actor == "p-head" and entry.detail[TOKEN_ISSUED_BY] == "p-admin"
    assert TOKEN_ISSUED_BY not in before.detail
    assert before.hash != entry.hash
    for e in (before, entry):
        assert verify_chain("c1", [(e.seq, e.prev_hash, e.hash, e.content())], None) == []
