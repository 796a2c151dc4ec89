"""A template's dry run over HTTP, as an admin checks a framework's dates before publishing:
from a start date, on a network's own terms, each stage's due date, reminder and automatic
move, checked against school days counted by hand across the October half-term and the
clocks going back (Sunday 25 October 2026)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.flows import ok
from tests.e2e.test_calendars import AUTUMN
from tests.e2e.world import World

LONDON = ZoneInfo("Europe/London")

SAMPLES = """\
format: 2
id: samples-round
version: 1
title: Samples round
roles:
  - id: moderator
    title: Moderator
dates:
  - id: twilight
    title: Moderation twilight
stages:
  - id: samples
    title: Samples in
    initial: true
    deadline:
      due: {school_days: 5}
      reminders: [{school_days: 2}]
  - id: moderation
    title: Moderation
    deadline:
      due: PT2H
      from: twilight
      on_expiry:
        - fire: finish
          after: P1D
  - id: hold
    title: On hold
  - id: done
    title: Outcomes sent
    terminal: true
transitions:
  - {id: send, title: Send the samples, from: samples, to: moderation, roles: [moderator]}
  - {id: pause, title: Put on hold, from: [samples, moderation], to: hold, roles: [moderator]}
  - {id: resume, title: Resume, from: hold, to: samples, roles: [moderator]}
  - {id: finish, title: Send the outcomes, from: moderation, to: done, roles: [moderator]}
"""


def _local(at: str | None) -> str:
    assert at is not None
    return datetime.fromisoformat(at).astimezone(LONDON).strftime("%a %d %b %H:%M %Z")


def _run(world: World, body: dict[str, Any], who: str = "admin") -> Any:
    return world.post(who, "/templates/samples-round/versions/1/dry-run", json=body)


def test_a_draft_is_tried_on_a_networks_terms_before_it_is_published(world: World) -> None:
    ok(
        world.post("admin", "/templates", content=SAMPLES, headers={"content-type": "text/yaml"}),
        201,
    )
    ok(world.put("admin", "/networks/nlc-n/calendar", json=AUTUMN))
    body = {"start": "2026-10-19", "network_id": "nlc-n", "dates": {"twilight": "2026-11-05"}}
    run = ok(_run(world, body, who="head_own"))  # anyone signed in may try a template
    assert (run["calendar"], run["network_id"], run["stopped_at"]) == ("own", "nlc-n", None)
    assert [s["stage"] for s in run["stages"]] == ["samples", "moderation", "done"]
    samples, moderation, done = run["stages"]

    # Started Monday 19 October at 09:00 (BST). Five school days: Tue 20, Wed 21, Thu 22,
    # Fri 23, then the half-term week (26-30 October) is skipped: Mon 2 November, at 09:00
    # (now GMT, the clocks having gone back). The reminder two school days before: Thu 22.
    assert _local(samples["entered_at"]) == "Mon 19 Oct 09:00 BST"
    assert _local(samples["due_at"]) == "Mon 02 Nov 09:00 GMT"
    assert [(e["kind"], _local(e["at"]), e["words"]) for e in samples["events"]] == [
        ("reminder", "Thu 22 Oct 09:00 BST", "Reminder to the Moderator: Samples in is due soon"),
        ("due", "Mon 02 Nov 09:00 GMT", "Samples in is due"),
    ]
    assert samples["leaves_by"] == "send"  # the move forward, not "put on hold"

    # Moderation is counted from the twilight (Thursday 5 November, 09:00) plus two hours,
    # and moves on by itself a day after: Friday 6 November, 11:00.
    assert _local(moderation["entered_at"]) == "Mon 02 Nov 09:00 GMT"
    assert _local(moderation["due_at"]) == "Thu 05 Nov 11:00 GMT"
    fire = moderation["events"][-1]
    assert (fire["kind"], _local(fire["at"]), fire["transition"]) == (
        "fire",
        "Fri 06 Nov 11:00 GMT",
        "finish",
    )
    assert fire["words"] == "Moves on by itself: Send the outcomes"
    assert _local(done["entered_at"]) == "Fri 06 Nov 11:00 GMT" and done["events"] == []

    # On Monday-to-Friday school days (no terms), the same five days end within half-term.
    weekdays = ok(_run(world, {**body, "network_id": "nlc-s"}))
    assert weekdays["calendar"] == "weekdays"
    assert _local(weekdays["stages"][0]["due_at"]) == "Mon 26 Oct 09:00 GMT"


def test_a_date_not_given_leaves_its_stage_undated_and_says_which(world: World) -> None:
    ok(
        world.post("admin", "/templates", content=SAMPLES, headers={"content-type": "text/yaml"}),
        201,
    )
    run = ok(_run(world, {"start": "2026-10-19"}))
    moderation = run["stages"][1]
    assert moderation["waits_for"] == "twilight" and moderation["due_at"] is None
    assert run["stopped_at"] == "moderation"
    assert run["stages"][2]["entered_at"] is None


def test_bad_dry_runs_are_refused_by_name(world: World) -> None:
    ok(
        world.post("admin", "/templates", content=SAMPLES, headers={"content-type": "text/yaml"}),
        201,
    )
    wrong = _run(world, {"start": "2026-10-19", "dates": {"visit_date": "2026-11-05"}})
    assert wrong.status_code == 422
    [error] = wrong.json()["errors"]
    assert error["location"] == "body.dates.visit_date"
    assert "Samples round has no cycle date 'visit_date' (its dates: twilight)" in error["message"]
    bad_date = _run(world, {"start": "19 October"})
    assert bad_date.status_code == 422, bad_date.text
    assert [e["location"] for e in bad_date.json()["errors"]] == ["body.start"]
    assert _run(world, {"start": "2026-10-19", "network_id": "nlc-nowhere"}).status_code == 404
    missing = world.post(
        "admin", "/templates/samples-round/versions/9/dry-run", json={"start": "2026-10-19"}
    )
    assert missing.status_code == 404
