"""Each network's school calendar over HTTP: an admin sets it, everyone signed in reads it, a
cycle's deadlines count its own network's school days, and bad terms are refused by field with
nothing changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.world import World

LONDON = ZoneInfo("Europe/London")
AUTUMN = {
    "terms": [{"name": "Autumn term", "first": "2026-09-03", "last": "2026-12-18"}],
    "closures": [
        {"name": "INSET days", "first": "2026-09-25", "last": "2026-09-28"},
        {"name": "Autumn half-term", "first": "2026-10-26", "last": "2026-10-30"},
    ],
}


def _to_workshop(world: World, host: str) -> Any:
    """A cycle of `host` in the improvement workshop, entered now (Monday 14 September 2026,
    09:00 in London), by the admin forcing each earlier move; its deadline is 15 school days."""
    started = world.post(
        "pl_own" if host == "sch-h" else "admin",
        "/cycles",
        json={"template_id": "spp-cycle", "host_school_id": host},
    )
    assert started.status_code == 201, started.text
    cycle_id = started.json()["id"]
    for move in ("submit_self_review", "start_peer_review", "complete_peer_review"):
        fired = world.fire("admin", cycle_id, move, json={"force_reason": "calendar test set-up"})
        assert fired.status_code == 200, fired.text
    deadlines = world.get("admin", f"/cycles/{cycle_id}/deadlines").json()
    due = [d for d in deadlines if d["stage"] == "improvement_workshop" and d["kind"] == "due"]
    return datetime.fromisoformat(due[0]["due_at"]).astimezone(LONDON)


def test_a_cycle_counts_the_school_days_of_its_own_network(world: World) -> None:
    before = world.get("head_own", "/networks/nlc-n/calendar").json()
    assert (before["source"], before["terms"], before["timezone"]) == (
        "weekdays",
        [],
        "Europe/London",
    )
    put = world.put("admin", "/networks/nlc-n/calendar", json=AUTUMN)
    assert put.status_code == 200, put.text
    view = world.get("head_own", "/networks/nlc-n/calendar").json()
    assert view["source"] == "own" and view["network_name"]
    (term,) = view["terms"]
    # 77 weekdays, less two INSET days (a Friday and a Monday) and the half-term week.
    assert term["school_days"] == 70 == view["school_days"]
    assert [
        (c["name"], c["first"], c["last"], c["school_days_lost"]) for c in term["closures"]
    ] == [
        ("INSET days", "2026-09-25", "2026-09-28", 2),
        ("Autumn half-term", "2026-10-26", "2026-10-30", 5),
    ]
    assert world.get("head_other_net", "/networks/nlc-s/calendar").json()["source"] == "weekdays"
    # 15 school days from Monday 14 September: Monday 5 October on weekdays; the two INSET
    # days push it to Wednesday 7 October in the host's network, still at 09:00.
    north, south = _to_workshop(world, "sch-h"), _to_workshop(world, "sch-x")
    assert (north.date().isoformat(), north.hour) == ("2026-10-07", 9)
    assert (south.date().isoformat(), south.hour) == ("2026-10-05", 9)


def test_the_partnership_default_applies_where_a_network_has_none(world: World) -> None:
    assert world.put("admin", "/networks/default/calendar", json=AUTUMN).status_code == 200
    assert world.get("pl_other", "/networks/nlc-s/calendar").json()["source"] == "default"
    world.put("admin", "/networks/nlc-n/calendar", json={"terms": AUTUMN["terms"]})
    assert world.get("pl_own", "/networks/nlc-n/calendar").json()["school_days"] == 77
    removed = world.call("admin", "DELETE", "/networks/nlc-n/calendar")
    assert removed.status_code == 200 and removed.json()["source"] == "default"
    assert removed.json()["school_days"] == 70


def test_only_an_admin_sets_a_calendar_and_bad_terms_change_nothing(world: World) -> None:
    assert world.put("admin", "/networks/nlc-n/calendar", json=AUTUMN).status_code == 200
    assert world.put("pl_own", "/networks/nlc-n/calendar", json=AUTUMN).status_code == 403
    assert world.call("head_own", "DELETE", "/networks/nlc-n/calendar").status_code == 403
    assert world.get(None, "/networks/nlc-n/calendar").status_code == 401
    assert world.put("admin", "/networks/nlc-missing/calendar", json=AUTUMN).status_code == 404
    refusals = {
        "terms[1].first": {
            "terms": [
                *AUTUMN["terms"],
                {"name": "Spring term", "first": "2026-12-14", "last": "2027-03-26"},
            ]
        },
        "terms[0].last": {
            "terms": [{"name": "Autumn term", "first": "2026-12-18", "last": "2026-09-03"}]
        },
        "closures[0].last": {
            "terms": AUTUMN["terms"],
            "closures": [{"name": "Half-term", "first": "2026-10-30", "last": "2026-10-26"}],
        },
        "terms": {"terms": []},
    }
    for field, body in refusals.items():
        refused = world.put("admin", "/networks/nlc-n/calendar", json=body)
        assert refused.status_code == 422, (field, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert field in refused.text, (field, refused.text)
    unknown = world.put("admin", "/networks/nlc-n/calendar", json={**AUTUMN, "holidays": []})
    assert unknown.status_code in (400, 422)
    assert world.get("admin", "/networks/nlc-n/calendar").json()["school_days"] == 70
