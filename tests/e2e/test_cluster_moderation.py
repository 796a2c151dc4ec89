"""The shipped cluster-moderation template run end to end over HTTP by people of five schools,
by its own roles, with nothing forced: the lead school names the schools taking part (with
history), each school's moderator sends its samples as their own school's, the round waits
for the schools still short, by name, and a school that does not take part sees nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.jobs import build_sweeper
from service.usecases.core import verify_history
from tests.e2e.flows import PDF, evidence, move, ok
from tests.e2e.world import WORKFLOWS, World

LEAD = "head_own"  # the lead school's (sch-h) moderation lead
MODERATORS = {  # a teacher who moderates for each school taking part
    "review_lead": "sch-a",
    "reviewer": "sch-b",
    "reviewer2": "sch-c",
    "champion": "sch-d",
}
OUTSIDER = "head_other"  # a moderator of Elm Primary, which does not take part


def _grant(world: World, who: str, role: str, kind: str, scope: str) -> None:
    body = {"person_id": world.person(who), "role": role, "scope_kind": kind, "scope_id": scope}
    ok(world.post("admin", "/grants", json=body), 201)


def _set_up(world: World) -> None:
    text = (WORKFLOWS / "cluster-moderation.yaml").read_bytes()
    r = world.post(
        "admin", "/templates?publish=true", content=text, headers={"content-type": "text/yaml"}
    )
    ok(r, 201)
    _grant(world, LEAD, "lead_moderator", "network", "nlc-n")
    for who, school in MODERATORS.items():
        _grant(world, who, "moderator", "school", school)
    _grant(world, OUTSIDER, "moderator", "school", "sch-e")


def _start(world: World) -> str:
    body = {"template_id": "cluster-moderation", "host_school_id": "sch-h"}
    return str(ok(world.post(LEAD, "/cycles", json=body), 201)["id"])


def _samples(world: World, who: str, cycle_id: str, n: int = 3) -> list[dict[str, Any]]:
    return [
        evidence(world, who, cycle_id, question)
        for question in ("writing.y2", "writing.y6")
        for _ in range(n)
    ]


def _sign(world: World, who: str, cycle_id: str, role: str = "moderator") -> dict[str, Any]:
    return dict(ok(world.post(who, f"/cycles/{cycle_id}/signoffs", json={"role": role}), 201))


def _outcome(world: World, cycle_id: str, question: str, school: str, text: str) -> Any:
    """The lead records one school's agreed outcome on a year group's task."""
    body = {"narrative": text, "grade": "exs"}
    path = f"/cycles/{cycle_id}/judgements/peer/{question}?school_id={school}"
    return world.put(LEAD, path, json=body)


def test_a_round_of_five_schools_runs_by_its_own_roles_with_nothing_forced(world: World) -> None:
    _set_up(world)
    c = _start(world)
    # Before a school takes part, its moderator does not see the round at all.
    assert world.get("review_lead", f"/cycles/{c}").status_code == 404

    # The lead names the schools (a moderator may not), and the twilight's date.
    refused = world.post("review_lead", f"/cycles/{c}/participants", json={"school_id": "sch-a"})
    assert refused.status_code == 404  # not taking part yet: the round does not exist to them
    for school in MODERATORS.values():
        joined = ok(world.post(LEAD, f"/cycles/{c}/participants", json={"school_id": school}), 201)
        assert joined["school_id"] == school and joined["added_by"] == world.person(LEAD)
    again = world.post(LEAD, f"/cycles/{c}/participants", json={"school_id": "sch-a"})
    assert again.status_code == 422 and "takes part already" in again.text
    host = world.post(LEAD, f"/cycles/{c}/participants", json={"school_id": "sch-h"})
    assert host.status_code == 422 and "leads this cycle" in host.text
    put = world.put(LEAD, f"/cycles/{c}/dates/twilight", json={"at": "2026-10-08T16:00:00+01:00"})
    ok(put)
    move(world, LEAD, c, "open_for_samples")

    # Each school's moderator now holds the role on this round (their grant is for their
    # school), sends samples as their own school's, and may not send another school's.
    view = ok(world.get("review_lead", f"/cycles/{c}"))
    assert "moderator" in view["roles"]  # (their head's SPP role reads only the overview)
    assert [p["school_id"] for p in view["participants"]] == list(MODERATORS.values())
    for who, school in list(MODERATORS.items())[:3]:
        sent = _samples(world, who, c)
        assert {e["school_id"] for e in sent} == {school}
        # Each school's moderator signs off that its samples are in: a sign-off of their school.
        assert _sign(world, who, c)["school_id"] == school
    other = world.post(
        "review_lead",
        f"/cycles/{c}/evidence",
        files={
            "question_id": (None, "writing.y2"),
            "title": (None, "Birch's sample"),
            "school_id": (None, "sch-b"),
        },
    )
    assert other.status_code == 422 and "only for your own school" in other.text

    # The round waits for the schools still short, named: Damson has sent nothing, the lead
    # school one of three.
    evidence(world, LEAD, c, "writing.y2")
    blocked = world.fire(LEAD, c, "begin_twilight")
    assert blocked.status_code == 409
    said = " ".join(r["message"] for r in blocked.json()["reasons"])
    assert "Damson Infant School (0)" in said and "the lead school (1)" in said
    assert "Alder Primary School" not in said
    # Nor has every school signed off: Damson and the lead school have not, by name.
    assert "2 of 5 school(s) have not yet signed off" in said
    assert "Damson Infant School, the lead school" in said or "the lead school, Damson" in said
    _samples(world, "champion", c)
    evidence(world, LEAD, c, "writing.y2")
    evidence(world, LEAD, c, "writing.y2")
    _samples(world, LEAD, c)
    _sign(world, "champion", c)
    blocked = world.fire(LEAD, c, "begin_twilight")
    assert blocked.status_code == 409 and "1 of 5 school(s)" in blocked.text
    assert _sign(world, LEAD, c, "lead_moderator")["school_id"] == "sch-h"
    move(world, LEAD, c, "begin_twilight")

    # A school that does not take part sees nothing of it, and cannot send to it.
    assert world.get(OUTSIDER, f"/cycles/{c}").status_code == 404
    assert world.get(OUTSIDER, f"/cycles/{c}/evidence").status_code == 404
    listed = ok(world.get(OUTSIDER, "/cycles?template_id=cluster-moderation"))
    assert c not in [s["id"] for s in listed]
    assert c in [s["id"] for s in ok(world.get("champion", "/cycles"))]

    # At the twilight the lead records each school's outcome for each year group; the round
    # is not done while a school has none, named.
    finding = {"kind": "next_step", "text": "Every school: model paragraphing in Year 6."}
    ok(world.post(LEAD, f"/cycles/{c}/findings", json=finding), 201)
    _sign(world, LEAD, c, "lead_moderator")
    for school in ["sch-h", *MODERATORS.values()]:
        for question in ("writing.y2", "writing.y6"):
            if (school, question) == ("sch-d", "writing.y6"):
                continue
            made = ok(_outcome(world, c, question, school, "Secure: 24 of 28 agreed."))
            assert made["school_id"] == school and made["grade"] == "exs"
    blocked = world.fire(LEAD, c, "send_outcomes")
    assert blocked.status_code == 409
    said = " ".join(r["message"] for r in blocked.json()["reasons"])
    assert "1 of 5 school(s) have no peer-judgement yet: Damson Infant School" in said
    ok(_outcome(world, c, "writing.y6", "sch-d", "Secure, with two children adjusted."))
    # An outcome for a school that does not take part is refused, naming the school.
    elm = _outcome(world, c, "writing.y6", "sch-e", "Elm's")
    assert elm.status_code == 422 and "sch-e does not take part" in elm.text
    assert move(world, LEAD, c, "send_outcomes")["to_stage"] == "outcomes_sent"

    with world.container.uow(readonly=True) as uow:  # each school's records as history says
        assert verify_history(uow, [c]) == []
    history = ok(world.get(LEAD, f"/cycles/{c}/history"))
    assert not any(e.get("forced") for e in history)
    moves = [e["transition"] for e in history if e.get("transition")]
    assert moves == ["open_for_samples", "begin_twilight", "send_outcomes"]
    joined = [e for e in history if (e.get("detail") or {}).get("record") == "participants"]
    assert [e["reason"] for e in joined] == [
        "Alder Primary School joined",
        "Birch Academy joined",
        "Cedar Primary School joined",
        "Damson Infant School joined",
    ]


def test_a_school_taken_out_leaves_a_trace_and_loses_the_round(world: World) -> None:
    _set_up(world)
    c = _start(world)
    ok(world.post(LEAD, f"/cycles/{c}/participants", json={"school_id": "sch-a"}), 201)
    assert world.get("review_lead", f"/cycles/{c}").status_code == 200
    gone = world.call(LEAD, "DELETE", f"/cycles/{c}/participants/sch-a")
    assert gone.status_code == 204
    assert world.get("review_lead", f"/cycles/{c}").status_code == 404
    assert world.call(LEAD, "DELETE", f"/cycles/{c}/participants/sch-a").status_code == 404
    history = ok(world.get(LEAD, f"/cycles/{c}/history"))
    said = [e["reason"] for e in history if (e.get("detail") or {}).get("record") == "participants"]
    assert said == ["Alder Primary School joined", "Alder Primary School left"]
    assert ok(world.get(LEAD, f"/cycles/{c}/participants")) == []


def test_each_school_reads_its_own_samples_and_the_outcomes_about_it(world: World) -> None:
    _set_up(world)
    c = _start(world)
    for school in ("sch-a", "sch-b"):
        ok(world.post(LEAD, f"/cycles/{c}/participants", json={"school_id": school}), 201)
    put = world.put(LEAD, f"/cycles/{c}/dates/twilight", json={"at": "2026-10-08T16:00:00+01:00"})
    ok(put)
    move(world, LEAD, c, "open_for_samples")
    pdf = ("sample.pdf", PDF, "application/pdf")
    alder = [evidence(world, "review_lead", c, q, file=pdf) for q in ("writing.y2",) * 3]
    alder += [evidence(world, "review_lead", c, q) for q in ("writing.y6",) * 3]
    birch = [evidence(world, "reviewer", c, q, file=pdf) for q in ("writing.y2",) * 3]
    birch += [evidence(world, "reviewer", c, q) for q in ("writing.y6",) * 3]
    lead = _samples(world, LEAD, c)

    def ids(items: list[dict[str, Any]]) -> set[str]:
        return {e["id"] for e in items}

    # Samples are pupils' work: each school reads its own, the lead school every school's.
    assert ids(ok(world.get("review_lead", f"/cycles/{c}/evidence"))) == ids(alder)
    assert ids(ok(world.get("review_lead", f"/cycles/{c}"))["evidence"]) == ids(alder)
    assert ids(ok(world.get("reviewer", f"/cycles/{c}/evidence"))) == ids(birch)
    assert ids(ok(world.get(LEAD, f"/cycles/{c}/evidence"))) == ids(alder + birch + lead)
    # Another school's file is as unknown as one that never was; its own downloads.
    assert world.get("review_lead", birch[0]["download"]).status_code == 404
    assert world.get("review_lead", alder[0]["download"]).status_code == 200
    assert world.get(LEAD, birch[0]["download"]).status_code == 200
    for who in ("review_lead", "reviewer"):
        _sign(world, who, c)
    _sign(world, LEAD, c, "lead_moderator")
    signed = {s["school_id"] for s in ok(world.get(LEAD, f"/cycles/{c}/signoffs"))}
    assert signed == {"sch-a", "sch-b", "sch-h"}  # each school's sign-off is its own
    # What blocks the round is judged on every school's samples, not on what one reads.
    moves = ok(world.get("review_lead", f"/cycles/{c}/transitions"))
    begin = next(o for o in moves if o["transition"] == "begin_twilight")
    assert [r["code"] for r in begin["reasons"]] == ["role_not_allowed"]  # the lead's to move
    move(world, LEAD, c, "begin_twilight")

    # The lead records outcomes about each school, and next steps for every school.
    def finding(text: str, school: str | None) -> str:
        body: dict[str, Any] = {"kind": "agreed_outcome", "text": text}
        if school:
            body["school_id"] = school
        made = ok(world.post(LEAD, f"/cycles/{c}/findings", json=body), 201)
        assert made["school_id"] == school
        return str(made["id"])

    about_a = finding("Alder: 24 of 28 at the expected standard.", "sch-a")
    about_b = finding("Birch: 19 of 30 at the expected standard.", "sch-b")
    for_all = finding("Every school: model paragraphing in Year 6.", None)
    wrong = world.post(
        LEAD,
        f"/cycles/{c}/findings",
        json={"kind": "agreed_outcome", "text": "Elm's", "school_id": "sch-e"},
    )
    assert wrong.status_code == 422 and "does not take part" in wrong.text

    def read(who: str) -> set[str]:
        return {f["id"] for f in ok(world.get(who, f"/cycles/{c}/findings"))}

    assert read("review_lead") == {about_a, for_all}
    assert read("reviewer") == {about_b, for_all}
    assert read(LEAD) == {about_a, about_b, for_all}
    # And each school's outcome (a judgement of that school) is read by that school only.
    for school, text in (("sch-a", "Alder: secure."), ("sch-b", "Birch: two adjusted.")):
        ok(_outcome(world, c, "writing.y6", school, text))

    def outcomes(who: str) -> set[tuple[str | None, str]]:
        found = ok(world.get(who, f"/cycles/{c}/judgements"))
        return {(j["school_id"], j["narrative"]) for j in found}

    assert outcomes("review_lead") == {("sch-a", "Alder: secure.")}
    assert outcomes("reviewer") == {("sch-b", "Birch: two adjusted.")}
    assert outcomes(LEAD) == {("sch-a", "Alder: secure."), ("sch-b", "Birch: two adjusted.")}
    peer = ok(world.get("review_lead", f"/cycles/{c}/report"))["peer_judgements"]
    assert [j["school_id"] for j in peer] == ["sch-a"]
    report = ok(world.get("review_lead", f"/cycles/{c}/report"))
    assert {f["id"] for f in report["findings"]} == {about_a, for_all}
    # A moderator records no outcome: only the lead does, at the twilight.
    refused = world.post(
        "review_lead", f"/cycles/{c}/findings", json={"kind": "agreed_outcome", "text": "Ours"}
    )
    assert refused.status_code == 403


def test_the_reminder_goes_to_the_schools_still_owing_samples(world: World) -> None:
    _set_up(world)
    c = _start(world)
    for school in MODERATORS.values():
        ok(world.post(LEAD, f"/cycles/{c}/participants", json={"school_id": school}), 201)
    put = world.put(LEAD, f"/cycles/{c}/dates/twilight", json={"at": "2026-10-08T16:00:00+01:00"})
    ok(put)
    move(world, LEAD, c, "open_for_samples")
    _samples(world, "review_lead", c)  # Alder: all it owes
    _sign(world, "review_lead", c)
    _samples(world, "reviewer", c)  # Birch: every sample, but no sign-off yet
    evidence(world, "reviewer2", c, "writing.y2")  # Cedar: one of six; Damson: none

    # Each school's moderator has the round's due date in their calendar feed; an outsider not.
    feed = world.get("reviewer", "/people/me/deadlines.ics")
    assert feed.status_code == 200 and "SUMMARY:Samples in due:" in feed.text
    assert "Samples in due" not in world.get(OUTSIDER, "/people/me/deadlines.ics").text

    def reminders(who: str) -> list[str]:
        inbox = ok(world.get(who, "/me/notifications"))["notifications"]
        return [n["subject"] for n in inbox if n["kind"] == "reminder"]

    # Samples are due two days before the twilight; the reminder comes three days before that.
    world.clock.set(datetime(2026, 10, 3, 15, 1, tzinfo=UTC))  # 16:01 in London
    build_sweeper(world.container).sweep()
    owed = {who for who in [LEAD, *MODERATORS] if reminders(who)}
    # The lead, Birch (which owes its sign-off), Cedar and Damson; not Alder, which is done.
    assert owed == {LEAD, "reviewer", "reviewer2", "champion"}
    assert "Samples in" in reminders("champion")[0]
