"""The calendar-feed link repository's contract, over the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from engine.directory import Person
from engine.errors import NotFound
from engine.ports import FeedLink
from tests.integration.conftest import UowFactory

T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)
ADA = FeedLink("p_ada", "a" * 64, T0)
BEN = FeedLink("p_ben", "b" * 64, T0 + timedelta(minutes=1))


@pytest.fixture
def uow(backend: tuple[str, UowFactory, Engine | None]) -> UowFactory:
    factory = backend[1]
    with factory() as work:
        work.directory.add_person(Person("p_ada", "Ada Head", "ada@a.sch.uk", None))
        work.directory.add_person(Person("p_ben", "Ben Head", "ben@b.sch.uk", None))
        work.commit()
    return factory


def test_nobody_has_a_link_at_first(uow: UowFactory) -> None:
    with uow(readonly=True) as work:
        assert work.feed_links.for_person("p_ada") is None
        assert work.feed_links.by_hash(ADA.secret_hash) is None
        assert work.feed_links.remove("p_ada") is False


def test_a_link_round_trips_by_person_and_by_hash(uow: UowFactory) -> None:
    with uow() as work:
        work.feed_links.put(ADA)
        work.feed_links.put(BEN)
        work.commit()
    with uow(readonly=True) as work:
        assert work.feed_links.for_person("p_ada") == ADA
        assert work.feed_links.by_hash(ADA.secret_hash) == ADA
        assert work.feed_links.by_hash(BEN.secret_hash) == BEN
        found = work.feed_links.for_person("p_ben")
    assert found is not None and found.created_at.tzinfo is not None
    assert found.created_at == BEN.created_at and found.last_used_at is None


def test_a_new_link_replaces_the_old_one(uow: UowFactory) -> None:
    with uow() as work:
        work.feed_links.put(ADA)
        work.commit()
    new = FeedLink("p_ada", "c" * 64, T0 + timedelta(days=1))
    with uow() as work:
        work.feed_links.put(new)
        work.commit()
    with uow(readonly=True) as work:
        assert work.feed_links.for_person("p_ada") == new
        assert work.feed_links.by_hash(ADA.secret_hash) is None, "the old secret stops working"
        assert work.feed_links.by_hash(new.secret_hash) == new


def test_removing_revokes_at_once(uow: UowFactory) -> None:
    with uow() as work:
        work.feed_links.put(ADA)
        work.feed_links.put(BEN)
        work.commit()
    with uow() as work:
        assert work.feed_links.remove("p_ada") is True
        assert work.feed_links.by_hash(ADA.secret_hash) is None  # in the same unit of work
        work.commit()
    with uow(readonly=True) as work:
        assert work.feed_links.for_person("p_ada") is None
        assert work.feed_links.by_hash(ADA.secret_hash) is None
        assert work.feed_links.for_person("p_ben") == BEN, "another person's link stays"
    with uow() as work:
        assert work.feed_links.remove("p_ada") is False


def test_touch_records_a_use_of_that_secret_only(uow: UowFactory) -> None:
    used = T0 + timedelta(hours=3)
    with uow() as work:
        work.feed_links.put(ADA)
        work.commit()
    with uow() as work:
        work.feed_links.touch(ADA.secret_hash, used)
        work.feed_links.touch("f" * 64, used)  # an unknown secret: nothing
        work.commit()
    with uow(readonly=True) as work:
        found = work.feed_links.for_person("p_ada")
    assert found is not None and found.last_used_at == used
    assert found.created_at == ADA.created_at

    # A read of the old link that finishes after it was replaced marks nothing on the new one.
    new = FeedLink("p_ada", "c" * 64, T0 + timedelta(days=1))
    with uow() as work:
        work.feed_links.put(new)
        work.feed_links.touch(ADA.secret_hash, used + timedelta(hours=1))
        work.commit()
    with uow(readonly=True) as work:
        assert work.feed_links.for_person("p_ada") == new


def test_replacing_clears_the_last_use(uow: UowFactory) -> None:
    with uow() as work:
        work.feed_links.put(ADA)
        work.feed_links.touch(ADA.secret_hash, T0 + timedelta(hours=1))
        work.feed_links.put(FeedLink("p_ada", "c" * 64, T0 + timedelta(days=1)))
        work.commit()
    with uow(readonly=True) as work:
        found = work.feed_links.for_person("p_ada")
    assert found is not None and found.last_used_at is None


def test_an_unknown_person_has_no_link(uow: UowFactory) -> None:
    with uow() as work, pytest.raises(NotFound):
        work.feed_links.put(FeedLink("nobody", "d" * 64, T0))


def test_nothing_is_stored_without_commit(uow: UowFactory) -> None:
    with uow() as work:
        work.feed_links.put(ADA)
    with uow() as work:
        assert work.feed_links.for_person("p_ada") is None
        work.feed_links.put(ADA)
        work.commit()
    with uow() as work:
        work.feed_links.remove("p_ada")
        work.rollback()
        assert work.feed_links.for_person("p_ada") == ADA
