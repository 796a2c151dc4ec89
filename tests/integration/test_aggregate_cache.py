"""The cycle cache between units of work never serves anything but what storage holds.

Each check compares what an application with the cache reads against a cold load from the
database (a unit of work without a cache), on SQLite and PostgreSQL, including a second
process writing to the same database, units of work that roll back, and a restored backup.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from adapters.aggregate_cache import AggregateCache, cache_for, copy_cycle
from adapters.clock import FixedClock
from adapters.db import create_db_engine
from adapters.migrate import upgrade
from adapters.unit_of_work import SqlUnitOfWork
from engine import records as R
from engine.calendar import WeekdayCalendar
from engine.cycle import Actor, Cycle, Member
from engine.errors import PeerloopError
from engine.events import Event
from engine.template import Template
from service.usecases.core import Peerloop, TemplateRegistry
from tests.integration.test_storage_contract import ADMIN, HEAD, LEAD, T0, as_, seed


def cold(engine: Engine, cycle_id: str) -> Cycle:
    with SqlUnitOfWork(engine, readonly=True, cache=AggregateCache(0)) as uow:
        return uow.cycles.get(cycle_id)


def twin(engine: Engine) -> Engine:
    """A second engine on the same database: another process, with a cache of its own."""
    return create_db_engine(engine.url.render_as_string(hide_password=False))


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    found: Engine = request.getfixturevalue(
        f"{'pg' if request.param == 'postgres' else 'sqlite'}_engine"
    )
    upgrade(found)
    yield found


def test_every_kind_of_record_reads_back_the_same_warm_and_cold(engine: Engine) -> None:
    app = seed(lambda **kw: SqlUnitOfWork(engine, **kw))
    cid = app.start_cycle("spp-cycle", "s_a", LEAD).id
    t = app.template("spp-cycle", 1)
    now = T0 + timedelta(hours=1)
    app.record(cid, as_(HEAD), lambda t, c, a, at: R.set_focus(t, c, a, ["Reading"], at))
    app.record(
        cid,
        as_(HEAD),
        lambda t, c, a, at: R.add_evidence(t, c, a, "ev1", "impact.outcomes", "Data", at),
    )
    for step in ("submit_self_review", "start_peer_review", "complete_peer_review"):
        app.fire(cid, step, as_(ADMIN), force_reason="test set-up")
    champion = Actor("p_ch", frozenset({"improvement_champion"}), "s_c")
    with app.uow() as uow:
        c = uow.cycles.get(cid)
        v = c.version
        events = [
            R.assign_member(t, c, LEAD, Member("p_ch", "improvement_champion", "s_c", "n2"), now),
            R.save_action(t, c, champion, "a1", "Reading", "Deputy", date(2027, 3, 1), "80%", now),
            R.sign_off(t, c, HEAD, "school_lead", now),
        ]
        uow.cycles.save(c, v, events)
        uow.commit()
    warm = app.cycle(cid)
    assert warm == c
    assert cold(engine, cid) == warm
    assert warm.actions["a1"].title == "Reading"


def test_a_write_by_another_process_is_seen(engine: Engine) -> None:
    here = seed(lambda **kw: SqlUnitOfWork(engine, **kw))
    other_engine = twin(engine)
    try:
        there = Peerloop(lambda **kw: SqlUnitOfWork(other_engine, **kw), here.clock, here.registry)
        cid = here.start_cycle("spp-cycle", "s_a", LEAD).id
        before = here.cycle(cid)  # cached here
        there.record(cid, as_(HEAD), lambda t, c, a, at: R.set_focus(t, c, a, ["Maths"], at))
        after = here.cycle(cid)
        assert after.focus == ("Maths",)
        assert after.version == before.version + 1
        assert after == cold(engine, cid)
    finally:
        other_engine.dispose()


def test_a_unit_of_work_that_rolls_back_leaves_the_cache_alone(engine: Engine) -> None:
    app = seed(lambda **kw: SqlUnitOfWork(engine, **kw))
    cid = app.start_cycle("spp-cycle", "s_a", LEAD).id
    t = app.template("spp-cycle", 1)
    with app.uow() as uow:
        c = uow.cycles.get(cid)
        uow.cycles.save(c, c.version, [R.set_focus(t, c, HEAD, ["Never kept"], T0)])
        got = uow.cycles.get(cid)  # this unit of work sees its own write...
        assert got.focus == ("Never kept",)
    assert app.cycle(cid).focus == ()  # ...and nothing else ever does
    assert app.cycle(cid) == cold(engine, cid)


def test_changing_the_cycle_read_changes_nothing_stored(engine: Engine) -> None:
    app = seed(lambda **kw: SqlUnitOfWork(engine, **kw))
    cid = app.start_cycle("spp-cycle", "s_a", LEAD).id
    first = app.cycle(cid)
    first.focus = ("Scribbled on",)
    first.team["x"] = Member("x", "reviewer", "s_b", "n1")
    assert app.cycle(cid) == cold(engine, cid)
    assert app.cycle(cid).team == {}


def test_a_restored_backup_reaching_the_same_version_is_not_mistaken(tmp_path: Path) -> None:
    db = tmp_path / "peerloop.db"
    engine = create_db_engine(f"sqlite:///{db}")
    upgrade(engine)
    try:
        app = seed(lambda **kw: SqlUnitOfWork(engine, **kw))
        cid = app.start_cycle("spp-cycle", "s_a", LEAD).id
        engine.dispose()
        shutil.copy(db, tmp_path / "backup.db")
        app.record(cid, as_(HEAD), lambda t, c, a, at: R.set_focus(t, c, a, ["Before"], at))
        version = app.cycle(cid).version  # cached at this version
        engine.dispose()
        shutil.copy(tmp_path / "backup.db", db)
        restored = create_db_engine(f"sqlite:///{db}")
        try:
            # A later moment: a history entry's hash covers when it was made, by whom, and what.
            later = FixedClock(T0 + timedelta(seconds=1))
            other = Peerloop(lambda **kw: SqlUnitOfWork(restored, **kw), later, app.registry)
            other.record(cid, as_(HEAD), lambda t, c, a, at: R.set_focus(t, c, a, ["After"], at))
        finally:
            restored.dispose()
        seen = app.cycle(cid)
        assert seen.version == version
        assert seen.focus == ("After",)
    finally:
        engine.dispose()


_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["here", "there"]),
        st.sampled_from(["focus", "evidence", "erase", "judgement", "move", "back"]),
        st.booleans(),  # commit, or leave without committing
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=_STEPS)
def test_any_interleaving_reads_what_storage_holds(
    sqlite_engine: Engine, steps: list[tuple[str, str, bool]]
) -> None:
    _interleave(sqlite_engine, steps)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=_STEPS)
def test_any_interleaving_reads_what_storage_holds_postgres(
    pg_engine: Engine, steps: list[tuple[str, str, bool]]
) -> None:
    _interleave(pg_engine, steps)


def _interleave(engine: Engine, steps: list[tuple[str, str, bool]]) -> None:
    upgrade(engine)  # the database lives for all examples; migrating again is a no-op
    with SqlUnitOfWork(engine) as uow:
        seeded = uow.templates.list()
    here = seed(lambda **kw: SqlUnitOfWork(engine, **kw)) if not seeded else _app(engine)
    other_engine = twin(engine)
    try:
        apps = {"here": here, "there": _app(other_engine, here)}
        cid = here.start_cycle("spp-cycle", "s_a", LEAD).id
        t = here.template("spp-cycle", 1)
        for n, (who, what, commit) in enumerate(steps):
            app = apps[who]
            with app.uow() as uow:
                c = uow.cycles.get(cid)
                v = c.version
                at = T0 + timedelta(minutes=n)
                try:
                    events = _change(app, uow, t, c, what, n, at)
                except PeerloopError:  # not collected at this stage, or the cycle is closed
                    continue
                if not events:
                    continue
                uow.cycles.save(c, v, events)
                if commit:
                    uow.commit()
            for reader in apps.values():
                assert reader.cycle(cid) == cold(engine, cid)
    finally:
        other_engine.dispose()


def _change(
    app: Peerloop, uow: SqlUnitOfWork, t: Template, c: Cycle, what: str, n: int, at: datetime
) -> list[Event]:
    if what == "focus":
        return [R.set_focus(t, c, HEAD, [f"Focus {n}"], at)]
    if what == "evidence":
        return [R.add_evidence(t, c, HEAD, f"{c.id}-ev{n}", "impact.outcomes", f"E{n}", at)]
    if what == "erase" and c.evidence:
        return [R.erase_evidence(t, c, ADMIN, sorted(c.evidence)[0], "asked", at)]
    if what == "judgement":
        return [R.record_judgement(t, c, HEAD, "self", "impact.outcomes", f"J{n}", None, at)]
    if what in ("move", "back"):
        machine = app.registry.machine(uow, c.template_id, c.template_version)
        options = [o.transition for o in machine.available(c, ADMIN)]
        if options:
            pick = options[0] if what == "move" else options[-1]
            return machine.fire(c, pick, ADMIN, at, {}, force_reason="test")
    return []


def _app(engine: Engine, like: Peerloop | None = None) -> Peerloop:
    clock = like.clock if like else FixedClock(T0)
    registry = like.registry if like else TemplateRegistry(WeekdayCalendar())
    return Peerloop(lambda **kw: SqlUnitOfWork(engine, **kw), clock, registry)


# -- the cache itself ------------------------------------------------------------------------


def _cycle(cid: str, version: int = 1) -> Cycle:
    return Cycle(cid, "spp-cycle", 1, "s_a", "n1", "self_review", T0, T0, version)


def test_cache_serves_only_the_exact_version_and_head() -> None:
    cache = AggregateCache(4)
    cache.put(_cycle("c1", 3), "head-3")
    assert cache.get("c1", 3, "head-3") == _cycle("c1", 3)
    assert cache.get("c1", 3, "another-head") is None
    assert cache.get("c1", 4, "head-3") is None
    assert cache.get("c2", 3, "head-3") is None
    assert (cache.hits, cache.misses) == (1, 3)


def test_cache_hands_out_copies_and_forgets_the_least_recently_used() -> None:
    cache = AggregateCache(2)
    for cid in ("c1", "c2"):
        cache.put(_cycle(cid), "h")
    got = cache.get("c1", 1, "h")
    assert got is not None
    got.focus = ("changed",)
    got.team["p"] = Member("p", "reviewer", "s_b", "n1")
    again = cache.get("c1", 1, "h")
    assert again is not None and again.focus == () and again.team == {}
    cache.put(_cycle("c3"), "h")  # c2 was used least recently
    assert len(cache) == 2
    assert cache.get("c2", 1, "h") is None
    assert cache.get("c1", 1, "h") is not None
    assert copy_cycle(_cycle("c9")) == _cycle("c9")
    assert AggregateCache(0).get("c1", 1, "h") is None


def test_the_size_setting_reaches_the_cache_and_zero_turns_it_off(tmp_path: Path) -> None:
    from service.bootstrap import build
    from service.settings import Settings

    settings = Settings.from_env({"PEERLOOP_DATA_DIR": str(tmp_path), "PEERLOOP_CYCLE_CACHE": "0"})
    container = build(settings)
    try:
        app = seed(container.uow)
        cid = app.start_cycle("spp-cycle", "s_a", LEAD).id
        container.app.cycle(cid)
        cache = cache_for(container.engine)
        assert cache.size == 0
        assert len(cache) == 0
        cache.resize(1)
        container.app.cycle(cid)
        container.app.cycle(cid)
        assert (len(cache), cache.hits) == (1, 1)
    finally:
        container.close()
