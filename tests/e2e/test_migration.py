"""Moving running cycles to a newer version of their template over HTTP: the preview of each
cycle asserted before the move (its stage, the requirements newly applying and whether they are
met, its deadlines moved and added, against times worked out by hand across the clock change),
then the move, recorded in history with who and why, its deadlines replaced and the new rules
applied; all or none when one cycle cannot move; the admin's only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.flows import SPP_QUESTIONS, evidence, ok, spp_self_review, start
from tests.e2e.world import WORKFLOWS, World

SPP = (WORKFLOWS / "spp-cycle.yaml").read_text()
V2 = (
    SPP.replace("version: 1", "version: 2", 1)
    # The self-review gets two more weeks, and a last reminder the day before it is due...
    .replace(
        "      due: P6W\n      reminders: [P14D, P3D]",
        "      due: P8W\n      reminders: [P14D, P3D, P1D]",
        1,
    )
    # ...and asks for two pieces of evidence for each question, not one.
    .replace(
        "      - evidence_per_question: {min: 1}\n      - focus_chosen: {min: 1}",
        "      - evidence_per_question: {min: 2}\n      - focus_chosen: {min: 1}",
        1,
    )
)
PREVIEW = "/templates/spp-cycle/versions/2/migration-preview"
MIGRATE = "/templates/spp-cycle/versions/2/migrations"


def _publish(world: World, text: str, *, publish: bool = True) -> None:
    query = "?publish=true" if publish else ""
    r = world.post(
        "admin", f"/templates{query}", content=text, headers={"content-type": "text/yaml"}
    )
    ok(r, 201)


def _by_key(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{d['kind']}:{d['key']}": d for d in plan["deadlines"]}


def test_a_running_cycle_moves_to_the_new_version_as_its_preview_says(world: World) -> None:
    assert "due: P8W" in V2 and "{min: 2}" in V2  # the edits above took
    c = start(world)
    done_cycle = start(world, school="sch-h")
    _publish(world, V2)
    world.clock.advance(timedelta(days=7))  # a week into the self-review: Monday 21 September

    r = world.post("admin", PREVIEW, json={"cycle_ids": [c]})
    preview = ok(r)
    assert preview["done"] is False and [p["cycle_id"] for p in preview["cycles"]] == [c]
    plan = preview["cycles"][0]
    assert plan["ok"] and plan["blockers"] == []
    assert (plan["from_version"], plan["to_version"]) == (1, 2)
    assert plan["from_stage"] == plan["to_stage"] == "self_review"

    # The requirement newly applying, not met yet (nothing is recorded), and the one it replaces.
    changes = {(r["change"], r["requirement"]): r for r in plan["requirements"]}
    assert set(changes) == {
        ("added", "evidence_per_question {min: 2}"),
        ("dropped", "evidence_per_question {min: 1}"),
    }
    added = changes[("added", "evidence_per_question {min: 2}")]
    assert added["transition"] == "submit_self_review" and not added["met"]
    assert len(added["reasons"]) == len(SPP_QUESTIONS)

    # Deadlines counted from the stage's entry (Monday 14 September, 09:00 in London), by hand:
    # six weeks is Monday 26 October at 09:00 GMT (the clocks went back on the 25th), eight
    # weeks Monday 9 November; reminders 14 and 3 days before, and the new one a day before.
    d = _by_key(plan)
    assert (d["due:due"]["change"], d["due:due"]["before"], d["due:due"]["after"]) == (
        "moved",
        "2026-10-26T09:00:00Z",
        "2026-11-09T09:00:00Z",
    )
    assert (d["reminder:reminder:0"]["before"], d["reminder:reminder:0"]["after"]) == (
        "2026-10-12T09:00:00+01:00",  # BST
        "2026-10-26T09:00:00Z",
    )
    assert d["reminder:reminder:1"]["after"] == "2026-11-06T09:00:00Z"
    new_reminder = d["reminder:reminder:2"]
    assert (new_reminder["change"], new_reminder["before"], new_reminder["after"]) == (
        "added",
        None,
        "2026-11-08T09:00:00Z",
    )
    assert d["escalate:expiry:1"]["after"] == "2026-11-16T09:00:00Z"
    said = " ".join(plan["words"])
    assert "Stays at Self-review, moving from version 1 to 2." in said
    assert (
        "Moved: Self-review is due, from Monday 26 October 2026 at 09:00 to Monday 9 November "
        "2026 at 09:00." in said
    )
    assert (
        "Added: Reminder to the Host headteacher and Partnership lead: Self-review is due soon, "
        "Sunday 8 November 2026 at 09:00." in said
    )
    assert (
        "Newly needed to submit the self-review: evidence_per_question {min: 2}, not met now"
        in said
    )

    # Nothing is stored by a preview.
    assert ok(world.get("admin", f"/cycles/{c}"))["template_version"] == 1

    # Only the admin moves cycles, and says why.
    assert world.post("pl_own", MIGRATE, json={"cycle_ids": [c], "reason": "x"}).status_code == 403
    assert world.post("admin", MIGRATE, json={"cycle_ids": [c], "reason": " "}).status_code == 422
    moved = ok(
        world.post(
            "admin",
            MIGRATE,
            json={
                "cycle_ids": [c],
                "reason": "The partnership agreed two pieces of evidence per question",
            },
        )
    )
    assert moved["done"] is True and moved["cycles"][0]["deadlines"] == plan["deadlines"]

    view = ok(world.get("head_own", f"/cycles/{c}"))
    assert (view["template_version"], view["stage"]) == (2, "self_review")
    entry = ok(world.get("head_own", f"/cycles/{c}/history"))[-1]
    assert entry["actor"] == world.person("admin") and entry["role"] == "admin"
    assert entry["reason"] == (
        "moved from version 1 to version 2 of Schools Partnership Programme cycle, giving the "
        "reason: The partnership agreed two pieces of evidence per question"
    )
    pending = {
        (r["kind"], r["key"]): r["due_at"]
        for r in ok(world.get("head_own", f"/cycles/{c}/deadlines"))
        if r["status"] == "pending"
    }
    assert pending[("due", "due")] == "2026-11-09T09:00:00Z"
    assert pending[("reminder", "reminder:2")] == "2026-11-08T09:00:00Z"
    assert len(pending) == len([x for x in plan["deadlines"] if x["after"]])  # the old ones gone
    listed = ok(world.get("pl_own", "/cycles?overdue=false"))
    assert next(s for s in listed if s["id"] == c)["next_due_at"] == "2026-11-09T09:00:00Z"

    # The new version's rules now apply: one piece of evidence per question is not enough.
    spp_self_review(world, c)
    blocked = world.fire("head_own", c, "submit_self_review")
    assert blocked.status_code == 409 and "evidence_per_question" in blocked.text
    for q in SPP_QUESTIONS:
        evidence(world, "staff_own", c, q)
    assert ok(world.fire("head_own", c, "submit_self_review"))["to_stage"] == "pre_review"

    # It cannot be moved again to the version it is on; the other cycle still can.
    again = ok(world.post("admin", PREVIEW, json={}))
    assert [p["cycle_id"] for p in again["cycles"]] == [done_cycle]


def test_one_cycle_that_cannot_move_stops_them_all(world: World) -> None:
    a, b = start(world), start(world)
    evidence(world, "head_own", b, "impact.outcomes")
    # Version 2 drops the question b holds evidence for: b cannot move, so neither moves.
    _publish(
        world,
        SPP.replace("version: 1", "version: 2", 1).replace("impact.outcomes", "impact.results"),
    )
    plans = {p["cycle_id"]: p for p in ok(world.post("admin", PREVIEW, json={}))["cycles"]}
    assert plans[a]["ok"] and not plans[b]["ok"]
    assert plans[b]["blockers"] == [
        "version 2 has no question 'impact.outcomes', which holds 1 piece(s) of evidence"
    ]
    refused = world.post("admin", MIGRATE, json={"reason": "New framework wording"})
    assert refused.status_code == 409
    assert b in refused.json()["detail"] and "no cycle was moved" in refused.json()["detail"]
    for c in (a, b):
        assert ok(world.get("admin", f"/cycles/{c}"))["template_version"] == 1
        assert "migrated" not in world.get("admin", f"/cycles/{c}/history").text


def test_a_draft_version_or_a_stage_it_lacks_is_said_before_anything_moves(world: World) -> None:
    c = start(world)
    _publish(world, V2, publish=False)
    draft = world.post("admin", PREVIEW, json={"cycle_ids": [c]})
    assert draft.status_code == 409 and "draft" in draft.text
    ok(world.post("admin", "/templates/spp-cycle/versions/2/publish"))
    plan = ok(
        world.post("admin", PREVIEW, json={"cycle_ids": [c], "stages": {"self_review": "nowhere"}})
    )
    assert plan["cycles"][0]["blockers"] == [
        "version 2 has no stage 'nowhere' (self_review, pre_review, peer_review, "
        "improvement_workshop, "
        "support, follow_up, on_hold)"
    ]
    unknown = world.post("admin", PREVIEW, json={"cycle_ids": ["cyc-nope"]})
    assert unknown.status_code == 404
