"""The deadline sweep on SQLite and PostgreSQL: on time, once, re-checked, late, automatic moves.

Time is a fixed clock moved by hand; nothing here sleeps. The helpers at the top (`World`) are
shared by the other deadline, scheduler and outbox tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.clock import FixedClock
from adapters.migrate import upgrade
from adapters.scheduler import DeadlineSweeper
from adapters.tables import CycleRow, DeadlineTableRow, HistoryRow, OutboxRow
from adapters.unit_of_work import SqlUnitOfWork
from engine import records as R
from engine.calendar import SchoolCalendar, WeekdayCalendar
from engine.cycle import Actor, Cycle
from engine.directory import Grant, Network, Person, School
from engine.machine import WorkflowMachine
from service.bootstrap import sweep_move
from service.usecases.core import Peerloop, TemplateRegistry

SPP = (Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml").read_text()
LONDON = ZoneInfo("Europe/London")
CAL = WeekdayCalendar(LONDON)
T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)  # Monday 7 September 2026, 09:00 in London

HEAD = Actor("p_head_a", frozenset({"school_lead"}), "s_a")
LEAD = Actor("p_pl", frozenset({"partnership_lead"}), None)
ADMIN = Actor("p_admin", frozenset({"admin"}), None)
CHAMPION = Actor("p_ch", frozenset({"improvement_champion"}), "s_c")

DEADLINE = DeadlineTableRow.__table__
OUTBOX = OutboxRow.__table__
HISTORY = HistoryRow.__table__


def as_(actor: Actor) -> Callable[[Cycle], Actor]:
    return lambda cycle: actor


@dataclass
class World:
    """A seeded partnership on one database, with a fixed clock."""

    engine: Engine
    app: Peerloop
    clock: FixedClock

    def machine_for(self, template_id: str, version: int) -> WorkflowMachine:
        return self.app.registry.lookup(self.app.uow)(template_id, version)

    def sweeper(self, **kw: Any) -> DeadlineSweeper:
        kw.setdefault("move", sweep_move(self.app, self.engine))
        return DeadlineSweeper(self.engine, self.machine_for, self.clock.now, **kw)

    def rows(self, cycle_id: str | None = None, **where: Any) -> list[dict[str, Any]]:
        q = sa.select(DEADLINE).order_by(DEADLINE.c.due_at, DEADLINE.c.id)
        if cycle_id is not None:
            q = q.where(DEADLINE.c.cycle_id == cycle_id)
        for column, value in where.items():
            q = q.where(DEADLINE.c[column] == value)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def row(self, cycle_id: str, key: str) -> dict[str, Any]:
        """The most recently planned row with `key` (keys repeat from stage to stage)."""
        return max((r for r in self.rows(cycle_id) if r["key"] == key), key=lambda r: r["id"])

    def outbox(self, **where: Any) -> list[dict[str, Any]]:
        q = sa.select(OUTBOX).order_by(OUTBOX.c.id)
        for column, value in where.items():
            q = q.where(OUTBOX.c[column] == value)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def history(self, cycle_id: str) -> list[dict[str, Any]]:
        q = sa.select(HISTORY).where(HISTORY.c.cycle_id == cycle_id).order_by(HISTORY.c.seq)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def record(self, cycle_id: str, change: Callable[..., Any], actor: Actor) -> Cycle:
        return self.app.record(cycle_id, as_(actor), change)

    def to_stage(self, cycle_id: str, *moves: str) -> None:
        for move in moves:
            self.app.fire(cycle_id, move, as_(ADMIN), force_reason="test set-up")


def make_world(engine: Engine, calendar: SchoolCalendar = CAL, now: datetime = T0) -> World:
    upgrade(engine)
    clock = FixedClock(now)
    app = Peerloop(
        lambda **kw: SqlUnitOfWork(engine, calendar=calendar, **kw),
        clock,
        TemplateRegistry(calendar),
    )
    seed(app)
    return World(engine, app, clock)


def seed(app: Peerloop) -> None:
    """Two networks, four schools, a head, a partnership lead, an NLC chair; SPP published."""
    with app.uow() as uow:
        d = uow.directory
        d.add_network(Network("n1", "North NLC"))
        d.add_network(Network("n2", "South NLC"))
        for sid, urn, net in (
            ("s_a", "100001", "n1"),
            ("s_b", "100002", "n1"),
            ("s_c", "100003", "n2"),
            ("s_d", "100004", "n2"),
        ):
            d.add_school(School(sid, urn, f"School {sid[-1].upper()}", "Primary", net))
        for pid, name, school in (
            ("p_head_a", "Ada Head", "s_a"),
            ("p_pl", "Pat Lead", None),
            ("p_chair", "Chris Chair", "s_b"),
            ("p_ch", "Cam Champion", "s_c"),
            ("p_dep", "Dee Deputy", "s_a"),
        ):
            d.add_person(Person(pid, name, f"{pid}@example.org", school))
        d.add_grant(Grant("g1", "p_head_a", "school_lead", "school", "s_a"))
        d.add_grant(Grant("g2", "p_pl", "partnership_lead", "network", "n1"))
        d.add_grant(Grant("g3", "p_chair", "network_lead", "network", "n1"))
        uow.commit()
    app.upload_template(SPP, "spp-cycle.yaml", publish=True)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest) -> Iterator[Engine]:
    name = "pg_engine" if request.param == "postgres" else "sqlite_engine"
    yield request.getfixturevalue(name)


@pytest.fixture
def world(db: Engine) -> World:
    return make_world(db)


def in_support(w: World, *, logged: bool) -> Cycle:
    """A cycle moved on to school-to-school support (where expiry fires `begin_follow_up`)."""
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.to_stage(cycle.id, "submit_self_review", "start_peer_review", "complete_peer_review")
    w.to_stage(cycle.id, "agree_actions")
    if logged:
        w.record(
            cycle.id,
            lambda t, c, a, now: [
                R.add_support_link(t, c, a, f"l-{c.id}", "s_b", "Early reading", now),
                R.log_support_activity(t, c, a, f"l-{c.id}", "Phonics lead visited", now),
            ],
            LEAD,
        )
    return w.app.cycle(cycle.id)


# -- on time, once -----------------------------------------------------------------------------


def test_a_reminder_fires_at_its_time_once_to_the_role_holders(world: World) -> None:
    w = world
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    first = w.row(cycle.id, "reminder:0")
    # Due in six weeks at 09:00 London time; reminded 14 days before, still in summer time.
    assert first["due_at"] == datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
    assert w.row(cycle.id, "due")["due_at"] == datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    # Escalation a week after the due date: the clocks went back on 25 October, and 09:00 in
    # London is now 09:00 UTC.
    assert w.row(cycle.id, "expiry:1")["due_at"] == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)

    sweeper = w.sweeper()
    assert sweeper.next_due() == first["due_at"]
    w.clock.set(first["due_at"] - timedelta(seconds=1))
    assert sweeper.sweep().claimed == 0
    assert w.outbox() == []

    w.clock.set(first["due_at"])
    result = sweeper.sweep()
    assert result.applied == [first["id"]] and result.fired == 1 and result.late == 0
    row = w.row(cycle.id, "reminder:0")
    assert row["status"] == "fired"
    assert row["claimed_by"] == sweeper.replica_id
    assert row["fired_at"] == first["due_at"] and row["late_seconds"] is None
    mail = w.outbox(channel="email")
    assert {m["recipient"] for m in mail} == {"p_head_a@example.org", "p_pl@example.org"}
    assert all(m["status"] == "pending" for m in mail)
    assert mail[0]["subject"] == "Reminder: Self-review for School A is due Mon 19 Oct 09:00"
    assert mail[0]["body"]["context"]["due_local"] == "Monday 19 October 2026 at 09:00"

    assert sweeper.sweep().claimed == 0, "applied once"
    assert w.sweeper().sweep().claimed == 0, "and not again by another replica"
    assert len(w.outbox()) == 2
    assert sweeper.next_due() == w.row(cycle.id, "reminder:1")["due_at"]


def test_nothing_goes_out_for_a_stage_already_left(world: World) -> None:
    w = world
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.app.fire(cycle.id, "pause", as_(LEAD))
    w.clock.advance(timedelta(days=120))
    assert w.sweeper().sweep().claimed == 0
    assert {r["status"] for r in w.rows(cycle.id)} == {"cancelled"}
    assert w.outbox() == []


def test_a_row_out_of_step_with_its_cycle_is_skipped_not_sent(world: World) -> None:
    """Belt and braces: a pending row for a stage the cycle is not in is re-checked and skipped."""
    w = world
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    with w.engine.begin() as conn:
        conn.execute(
            DEADLINE.update()
            .where(DEADLINE.c.cycle_id == cycle.id, DEADLINE.c.key == "reminder:0")
            .values(stage="pre_review")
        )
    w.clock.set(w.row(cycle.id, "reminder:0")["due_at"])
    result = w.sweeper().sweep()
    assert result.skipped == 1 and result.messages == 0
    row = w.row(cycle.id, "reminder:0")
    assert (row["status"], row["note"]) == ("skipped", "the cycle left the stage")


def test_after_downtime_each_row_fires_once_marked_late(world: World) -> None:
    w = world
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    planned = {r["key"]: r for r in w.rows(cycle.id)}
    # The service was down from before the first reminder until well after the escalation.
    w.clock.set(datetime(2026, 11, 2, 12, 0, tzinfo=UTC))
    now = w.clock.now()
    sweeper = w.sweeper(late_after=timedelta(minutes=2))
    result = sweeper.sweep()
    assert sorted(result.applied) == sorted(r["id"] for r in planned.values())
    assert result.late == len(planned)
    rows = {r["key"]: r for r in w.rows(cycle.id)}
    for key, r in rows.items():
        late = int((now - planned[key]["due_at"]).total_seconds())
        assert r["late_seconds"] == late, key
        assert r["note"].startswith("late by "), key
        assert r["fired_at"] == now
    # Reminders for a due time already passed are not sent: recorded as skipped, with why.
    for key in ("reminder:0", "reminder:1"):
        assert rows[key]["status"] == "skipped"
        assert rows[key]["note"].endswith("its stage's due time had passed")
    assert rows["reminder:0"]["note"] == "late by 28 d 4 h; its stage's due time had passed"
    assert rows["due"]["status"] == rows["expiry:0"]["status"] == "fired"
    assert rows["expiry:1"]["status"] == "fired"
    kinds = sorted(m["body"]["template"] for m in w.outbox(channel="email"))
    assert kinds == ["escalate", "notify"], "one notify (head), one escalation (lead)"
    assert w.outbox()[0]["body"]["context"]["late"] == "14 d 4 h"
    assert sweeper.sweep().claimed == 0 and w.sweeper().sweep().claimed == 0


# -- automatic transitions ---------------------------------------------------------------------


def test_expiry_fires_the_transition_as_the_scheduler_in_history(world: World) -> None:
    w = world
    cycle = in_support(w, logged=True)
    fire = w.row(cycle.id, "expiry:1")
    assert (fire["kind"], fire["transition"]) == ("fire", "begin_follow_up")
    # A stray row of the same stage, due after the move in the same batch: the move cancels it.
    with w.engine.begin() as conn:
        conn.execute(
            DEADLINE.insert().values(
                cycle_id=cycle.id,
                stage="support",
                key="extra",
                kind="notify",
                due_at=fire["due_at"] + timedelta(hours=1),
                stage_due_at=fire["stage_due_at"],
                roles=["school_lead"],
                status="pending",
                note="",
            )
        )
    w.clock.set(fire["due_at"] + timedelta(hours=2))
    result = w.sweeper().sweep()  # the application moves it, as system:scheduler
    moved = w.app.cycle(cycle.id)
    assert moved.stage == "follow_up" and moved.version == cycle.version + 1
    last = w.history(cycle.id)[-1]
    assert (last["kind"], last["actor"], last["role"]) == (
        "transition",
        "system:scheduler",
        "system",
    )
    assert (last["transition"], last["from_stage"], last["to_stage"]) == (
        "begin_follow_up",
        "support",
        "follow_up",
    )
    rows = {r["key"]: r for r in w.rows(cycle.id, stage="support")}
    assert rows["expiry:1"]["status"] == "fired"
    assert rows["expiry:1"]["note"].endswith("moved to follow_up")
    assert (rows["extra"]["status"], rows["extra"]["note"]) == (
        "cancelled",
        "the cycle left the stage",
    )
    assert result.cancelled == 1
    follow = w.rows(cycle.id, stage="follow_up", status="pending")
    assert follow and min(r["due_at"] for r in follow) > w.clock.now(), "planned from the move"
    with w.app.uow(readonly=True) as uow:
        assert uow.history.head(cycle.id) is not None
    from service.usecases.core import verify_history

    with w.app.uow(readonly=True) as uow:
        assert verify_history(uow, [cycle.id]) == []


def test_a_blocked_automatic_move_is_recorded_and_escalated(world: World) -> None:
    w = world
    cycle = in_support(w, logged=False)
    fire = w.row(cycle.id, "expiry:1")
    w.clock.set(fire["due_at"])
    w.sweeper().sweep()
    assert w.app.cycle(cycle.id).stage == "support"
    row = w.row(cycle.id, "expiry:1")
    assert row["status"] == "failed"
    assert row["note"].startswith("could not move on automatically: ")
    assert row["note"].endswith("; escalated")
    (blocked,) = w.outbox(channel="email", recipient="p_pl@example.org", subject=(
        "Action needed: School A could not move on from School-to-school support automatically"
    ))  # fmt: skip
    assert blocked["body"]["template"] == "fire_blocked"
    assert blocked["body"]["context"]["reasons"]
    assert "system:scheduler" not in {h["actor"] for h in w.history(cycle.id)}


def test_a_row_that_cannot_be_applied_fails_alone(world: World) -> None:
    """A poison row (edited by hand into nonsense) is marked failed; its batch still applies."""
    w = world
    good = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    bad = w.app.start_cycle("spp-cycle", "s_b", LEAD)
    with w.engine.begin() as conn:
        conn.execute(
            DEADLINE.update()
            .where(DEADLINE.c.cycle_id == bad.id, DEADLINE.c.key == "reminder:0")
            .values(roles=5)
        )
    w.clock.set(w.row(good.id, "reminder:0")["due_at"])
    result = w.sweeper().sweep()
    assert (result.fired, result.failed) == (1, 1)
    failed = w.row(bad.id, "reminder:0")
    assert failed["status"] == "failed"
    assert failed["note"].startswith("could not be applied: TypeError")
    assert w.row(good.id, "reminder:0")["status"] == "fired"
    assert {m["recipient"] for m in w.outbox()} == {"p_head_a@example.org", "p_pl@example.org"}


# -- action deadlines --------------------------------------------------------------------------


def at_workshop_with_action(w: World, owner: str, due: date) -> Cycle:
    """A cycle at the improvement workshop with one agreed action, `a1`."""
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.to_stage(cycle.id, "submit_self_review", "start_peer_review", "complete_peer_review")
    return save_action(w, cycle.id, owner, due)


def save_action(w: World, cycle_id: str, owner: str, due: date, title: str = "Raise reading"):
    return w.record(
        cycle_id,
        lambda t, c, a, now: R.save_action(t, c, a, "a1", title, owner, due, "80%", now),
        CHAMPION,
    )


def set_status(w: World, cycle_id: str, status: str) -> Cycle:
    return w.record(
        cycle_id, lambda t, c, a, now: R.set_action_status(t, c, a, "a1", status, "", now), HEAD
    )


def action_mail(w: World) -> list[dict[str, Any]]:
    return [m for m in w.outbox(channel="email") if m["body"]["template"].startswith("action_")]


def test_action_reminders_go_to_the_owner_until_the_action_is_done(world: World) -> None:
    w = world
    cycle = at_workshop_with_action(w, "p_dep", date(2026, 10, 16))
    soon = w.row(cycle.id, "action:a1:soon")
    over = w.row(cycle.id, "action:a1:overdue")
    # Overdue from the start of the day after the due date, London time (BST: 23:00 UTC).
    assert over["due_at"] == datetime(2026, 10, 16, 23, 0, tzinfo=UTC)
    assert soon["due_at"] == over["due_at"] - timedelta(days=14)
    # Editing the action without moving its due date keeps the plan as it is.
    save_action(w, cycle.id, "p_dep", date(2026, 10, 16), title="Raise reading for all")
    assert [r["id"] for r in w.rows(cycle.id, action_id="a1")] == [soon["id"], over["id"]]
    w.to_stage(cycle.id, "agree_actions")

    w.clock.set(soon["due_at"])
    w.sweeper().sweep()
    (mail,) = action_mail(w)
    assert mail["recipient"] == "p_dep@example.org", "the owner, and only the owner"
    assert mail["subject"] == "Action due soon: Raise reading for all (School A, due 2026-10-16)"
    assert mail["body"]["context"]["owner_is_reader"] is True

    # A status that is not final keeps the plan: "due soon" is not sent again.
    set_status(w, cycle.id, "in_progress")
    assert w.row(cycle.id, "action:a1:soon")["status"] == "fired"
    assert len(w.rows(cycle.id, action_id="a1")) == 2

    # Done: the overdue reminder is cancelled and never sent.
    set_status(w, cycle.id, "met")
    row = w.row(cycle.id, "action:a1:overdue")
    assert (row["status"], row["note"]) == ("cancelled", "the action is done")
    w.clock.set(over["due_at"] + timedelta(days=1))
    w.sweeper().sweep()
    assert len(action_mail(w)) == 1


def test_a_done_action_is_re_checked_at_fire_time(world: World) -> None:
    """Even if its row were still pending, nothing goes out about a finished action."""
    w = world
    cycle = at_workshop_with_action(w, "p_dep", date(2026, 10, 16))
    w.to_stage(cycle.id, "agree_actions")
    set_status(w, cycle.id, "met")
    with w.engine.begin() as conn:  # as if the cancellation had been lost
        conn.execute(DEADLINE.update().where(DEADLINE.c.action_id == "a1").values(status="pending"))
    w.clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    w.sweeper().sweep()
    notes = {r["key"]: r["note"] for r in w.rows(cycle.id, action_id="a1")}
    assert all(n.endswith("the action is done (met)") for n in notes.values()), notes
    assert action_mail(w) == []


def test_an_owner_named_in_words_is_reached_through_the_headteacher(world: World) -> None:
    w = world
    # Due in three days: "due soon" falls due at once, "overdue" later.
    cycle = at_workshop_with_action(w, "Deputy head", date(2026, 9, 10))
    w.clock.set(T0 + timedelta(hours=1))
    w.sweeper().sweep()
    (mail,) = action_mail(w)
    assert mail["recipient"] == "p_head_a@example.org"
    assert mail["body"]["context"]["owner_is_reader"] is False
    assert mail["body"]["context"]["action_owner"] == "Deputy head"
    # Moving the due date re-plans; what already fired stays fired.
    save_action(w, cycle.id, "Deputy head", date(2026, 12, 4))
    statuses = sorted((r["key"], r["status"]) for r in w.rows(cycle.id, action_id="a1"))
    assert statuses == [
        ("action:a1:overdue", "cancelled"),
        ("action:a1:overdue", "pending"),
        ("action:a1:soon", "fired"),
        ("action:a1:soon", "pending"),
    ]


def test_no_reminder_about_an_action_of_a_closed_cycle(world: World) -> None:
    w = world
    cycle = at_workshop_with_action(w, "p_dep", date(2026, 11, 2))
    w.app.fire(cycle.id, "withdraw", as_(LEAD))
    w.clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    w.sweeper().sweep()
    notes = {r["key"]: r["note"] for r in w.rows(cycle.id, action_id="a1")}
    assert notes["action:a1:overdue"].endswith("the cycle is closed")
    assert notes["action:a1:soon"].endswith("the cycle is closed")
    assert action_mail(w) == []


# -- overdue on the dashboard --------------------------------------------------------------------


def test_a_cycle_stays_overdue_after_its_due_deadline_fires_until_it_moves_on(
    world: World,
) -> None:
    from engine.ports import CycleFilter

    w = world
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    due = w.row(cycle.id, "due")["due_at"]

    def overdue(at: datetime) -> list[tuple[str, datetime | None]]:
        return [(s.id, s.next_due_at) for s in w.app.cycles(CycleFilter(overdue_at=at))]

    assert overdue(due) == []  # due, not yet past it
    assert [s.next_due_at for s in w.app.cycles(CycleFilter())] == [due]
    w.clock.set(due + timedelta(hours=1))
    w.sweeper().sweep()
    assert w.row(cycle.id, "due")["status"] == "fired"
    assert overdue(w.clock.now()) == [(cycle.id, due)]  # the fired row does not clear it

    w.to_stage(cycle.id, "submit_self_review")
    assert overdue(w.clock.now()) == []
    [summary] = w.app.cycles(CycleFilter())
    assert summary.stage == "pre_review"
    assert summary.next_due_at is None  # pre-review is due the day before the visit: no date yet
    visit = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    w.record(
        cycle.id, lambda t, c, a, now: R.set_date(t, c, a, "visit_date", visit, now, CAL), LEAD
    )
    [summary] = w.app.cycles(CycleFilter())
    assert summary.next_due_at == w.row(cycle.id, "due")["due_at"]
    assert summary.next_due_at is not None and summary.next_due_at < visit


def test_a_busy_database_leaves_every_due_row_pending_for_the_next_sweep(tmp_path: Path) -> None:
    """SQLite: another process holds the write lock past the busy timeout. The sweep fails as
    a whole (its job logs it and tries again later); no row is failed for good."""
    import sqlite3

    from adapters.db import create_db_engine, is_unavailable

    engine = create_db_engine(f"sqlite:///{tmp_path / 'busy.db'}", busy_timeout=0.2)
    try:
        w = make_world(engine)
        cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
        w.clock.set(w.row(cycle.id, "due")["due_at"] + timedelta(hours=1))
        holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(sa.exc.OperationalError) as raised:
                w.sweeper().sweep()
            assert is_unavailable(raised.value)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert {r["status"] for r in w.rows(cycle.id)} <= {"pending", "cancelled"}
        assert engine.pool.checkedout() == 0
        result = w.sweeper().sweep()
        assert result.failed == 0 and result.claimed > 0
        assert w.row(cycle.id, "due")["status"] == "fired"
    finally:
        engine.dispose()


def test_the_upgrade_to_0004_gives_each_cycle_the_due_time_the_live_code_wrote(
    world: World,
) -> None:
    """Migration 0004 backfills `cycle.stage_due_at` from the deadline rows; on cycles the live
    code made (due and fired, re-dated after firing, no date yet, due ahead) it must agree with
    what the live code wrote."""
    from adapters.migrate import downgrade

    w = world
    fired = w.app.start_cycle("spp-cycle", "s_a", LEAD).id
    redated = w.app.start_cycle("spp-cycle", "s_b", LEAD).id
    undated = w.app.start_cycle("spp-cycle", "s_c", LEAD).id
    w.to_stage(redated, "submit_self_review")
    w.to_stage(undated, "submit_self_review")

    def set_visit(cid: str, visit: datetime) -> None:
        w.record(cid, lambda t, c, a, now: R.set_date(t, c, a, "visit_date", visit, now, CAL), LEAD)

    set_visit(redated, datetime(2026, 10, 20, 9, 0, tzinfo=UTC))
    [first_due] = [r["due_at"] for r in w.rows(redated, kind="due", stage="pre_review")]
    w.clock.set(first_due + timedelta(hours=1))
    w.sweeper().sweep()
    # Brought forward after its due row fired: the new due time is earlier than the fired one.
    set_visit(redated, first_due + timedelta(hours=3))
    ahead = w.app.start_cycle("spp-cycle", "s_d", LEAD).id

    live = _stage_due(w)
    assert {r["status"] for r in w.rows(fired, kind="due")} == {"fired"}
    assert live[fired] is not None and live[fired] < w.clock.now()
    assert [r["status"] for r in w.rows(redated, kind="due", stage="pre_review")] != ["fired"]
    assert live[redated] is not None and live[redated] < first_due
    assert live[undated] is None
    assert live[ahead] is not None and live[ahead] > w.clock.now()

    downgrade(w.engine, "0003")
    upgrade(w.engine)
    assert _stage_due(w) == live


def _stage_due(w: World) -> dict[str, datetime | None]:
    cycle = CycleRow.__table__
    with w.engine.connect() as conn:
        return dict(conn.execute(sa.select(cycle.c.id, cycle.c.stage_due_at)).tuples().all())
