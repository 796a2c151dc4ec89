"""Storing the action plan: the finding an action answers and when and by whom each support
activity was logged, on every backend; and data stored before these were kept, still read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine

from adapters.aggregate_cache import AggregateCache
from adapters.migrate import downgrade, upgrade
from adapters.unit_of_work import SqlUnitOfWork
from engine import records as R
from engine.cycle import Actor, SupportActivity
from service.usecases.core import Peerloop
from tests.integration.conftest import UowFactory
from tests.integration.test_storage_contract import ADMIN, HEAD, LEAD, T0, as_, seed

REVIEWER = Actor("p_rev", frozenset({"reviewer"}), "s_c")


def planned(app: Peerloop) -> str:
    """A cycle in school-to-school support: a finding, an action answering it, a support link
    with two activities logged a day apart."""
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    for step in ("submit_self_review", "start_peer_review"):
        app.fire(cycle.id, step, as_(ADMIN), force_reason="test set-up")
    app.record(
        cycle.id,
        as_(REVIEWER),
        lambda t, c, a, now: R.add_finding(t, c, a, "f1", "area_to_develop", "Feedback", None, now),
    )
    app.fire(cycle.id, "complete_peer_review", as_(ADMIN), force_reason="test set-up")
    app.record(
        cycle.id,
        as_(HEAD),
        lambda t, c, a, now: R.save_action(
            t, c, a, "a1", "Feedback policy", "p_head_a", date(2027, 2, 1), "Seen", now,
            finding_id="f1",
        ),
    )  # fmt: skip
    app.fire(cycle.id, "agree_actions", as_(ADMIN), force_reason="test set-up")
    app.record(
        cycle.id, as_(HEAD), lambda t, c, a, now: R.add_support_link(t, c, a, "l1", "s_b", "X", now)
    )
    for text in ("Visit", "Book look"):
        app.record(
            cycle.id,
            as_(HEAD),
            lambda t, c, a, now, text=text: R.log_support_activity(t, c, a, "l1", text, now),
        )
        app.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    return cycle.id


def test_the_finding_and_the_activity_stamps_round_trip(
    backend: tuple[str, UowFactory, Engine | None],
) -> None:
    app = seed(backend[1])
    cycle_id = planned(app)
    loaded = app.cycle(cycle_id)
    assert loaded.actions["a1"].finding_id == "f1"
    # (Equality leaves the stamps out: they are compared here, one by one.)
    assert loaded.support["l1"].log == (
        SupportActivity("Visit", T0, "p_head_a"),
        SupportActivity("Book look", T0 + timedelta(days=1), "p_head_a"),
    )


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    name = "pg_engine" if request.param == "postgres" else "sqlite_engine"
    engine: Engine = request.getfixturevalue(name)
    upgrade(engine)
    return engine


def test_rows_stored_before_the_columns_existed_are_read_undated(engine: Engine) -> None:
    # No cycle cache: the rows are changed behind Peerloop's back, as a migration does.
    app = seed(lambda **kw: SqlUnitOfWork(engine, cache=AggregateCache(0), **kw))
    cycle_id = planned(app)
    # Back to the schema before the finding and the stamps were kept, and up again: the rows
    # now hold what older Peerloop wrote.
    downgrade(engine, "0006")
    upgrade(engine)
    loaded = app.cycle(cycle_id)
    assert loaded.actions["a1"].finding_id is None
    assert loaded.support["l1"].log == (SupportActivity("Visit"), SupportActivity("Book look"))
    # A new activity is stamped; the old ones keep their places, undated.
    app.record(
        cycle_id,
        as_(HEAD),
        lambda t, c, a, now: R.log_support_activity(t, c, a, "l1", "Moderation", now),
    )
    log = app.cycle(cycle_id).support["l1"].log
    assert [(a.text, a.at, a.by) for a in log] == [
        ("Visit", None, None),
        ("Book look", None, None),
        ("Moderation", T0 + timedelta(days=2), "p_head_a"),
    ]
