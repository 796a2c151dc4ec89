"""Series of recurring cycles over HTTP: a lead moderator sets a term's three moderation
twilights for their cluster, each day a school day on the network's calendar (a Saturday, a
past day and an outsider refused, named); on each day the scheduler starts the round as the
lead, with the schools taking part, once however often it runs; the series lists the cycles it
started and its next days; cancelled, it starts no more."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.ports import CycleFilter
from service.jobs import start_series
from tests.e2e.flows import ok
from tests.e2e.test_cluster_moderation import LEAD, OUTSIDER, _set_up
from tests.e2e.world import World

TWILIGHTS = ["2026-10-01", "2026-11-05", "2026-12-03"]  # a Thursday each half-term


def _series(world: World, who: str = LEAD, **changes: Any) -> Any:
    body: dict[str, Any] = {
        "template_id": "cluster-moderation",
        "host_school_id": "sch-h",
        "days": TWILIGHTS,
        "participants": ["sch-a", "sch-b"],
        "title": "Writing moderation, autumn term",
        **changes,
    }
    return world.post(who, "/series", json=body)


def _rounds(world: World) -> list[str]:
    """Every round started, read from storage (past the test tokens' month, too)."""
    return [c.id for c in world.container.app.cycles(CycleFilter(template_id="cluster-moderation"))]


def test_a_terms_twilights_start_on_their_days_once_and_stop_when_cancelled(
    world: World,
) -> None:
    _set_up(world)
    made = ok(_series(world), 201)
    assert made["next_days"] == TWILIGHTS and made["started"] == []
    assert [p["name"] for p in made["participants"]] == ["Alder Primary School", "Birch Academy"]
    assert made["school"] and made["template_title"] == "Cluster moderation"

    # Nothing before its day's start (07:00 in London), then the one round, once.
    world.clock.set(datetime(2026, 10, 1, 5, 59, tzinfo=UTC))
    assert start_series(world.container).started == []
    world.clock.set(datetime(2026, 10, 1, 6, 0, tzinfo=UTC))
    first = start_series(world.container).started
    assert [(d.isoformat(), sid) for sid, d, _ in first] == [("2026-10-01", made["id"])]
    assert start_series(world.container).started == []  # run again: nothing new
    (cycle_id,) = _rounds(world)
    cycle = ok(world.get(LEAD, f"/cycles/{cycle_id}"))
    assert [p["school_id"] for p in cycle["participants"]] == ["sch-a", "sch-b"]
    assert world.get("review_lead", f"/cycles/{cycle_id}").status_code == 200  # Alder's
    history = ok(world.get(LEAD, f"/cycles/{cycle_id}/history"))
    assert history[0]["kind"] == "started" and history[0]["actor"] == world.person(LEAD)
    assert [e["reason"] for e in history[1:]] == [
        "Alder Primary School joined",
        "Birch Academy joined",
    ]

    (listed,) = ok(world.get(LEAD, "/series"))
    assert listed["started"] == [{"day": "2026-10-01", "cycle_id": cycle_id}]
    assert listed["next_days"] == TWILIGHTS[1:]
    assert ok(world.get(OUTSIDER, "/series")) == []  # another network's school sees none

    # Cancelled: the round started goes on, no other starts.
    assert world.post(OUTSIDER, f"/series/{made['id']}/cancellation").status_code == 404
    stopped = ok(world.post(LEAD, f"/series/{made['id']}/cancellation"))
    assert stopped["cancelled_by"] == world.person(LEAD) and stopped["next_days"] == []
    world.clock.set(datetime(2026, 11, 6, 9, 0, tzinfo=UTC))
    assert start_series(world.container).started == []
    assert _rounds(world) == [cycle_id]


def test_days_that_are_not_school_days_or_past_and_people_who_may_not_are_refused(
    world: World,
) -> None:
    _set_up(world)
    saturday = _series(world, days=["2026-10-03"])
    assert saturday.status_code == 422
    assert "Saturday 3 October 2026 is not a school day" in saturday.text
    past = _series(world, days=["2026-09-01"])
    assert past.status_code == 422 and "2026-09-01 has passed" in past.text
    assert _series(world, OUTSIDER).status_code == 403  # may not start its cycles
    spp = _series(world, template_id="spp-cycle", participants=["sch-a"], who="pl_own")
    assert spp.status_code == 422 and "does not take the schools taking part" in spp.text
    assert ok(_series(world, template_id="spp-cycle", participants=[], who="pl_own"), 201)
    assert ok(world.get(LEAD, "/series")) != []
