"""A framework that is not SPP or CQA, run by roles of its own through HTTP: the template says
what each role reads and may do, its roles are granted and sign off, its lead starts cycles,
and nothing is forced. People in the built-in roles get from it only what it gives them."""

from __future__ import annotations

from tests.e2e.flows import evidence, move, ok
from tests.e2e.world import World

MODERATION = """\
format: 2
id: writing-moderation
version: 1
title: Writing moderation
roles:
  - id: lead_moderator
    title: Lead moderator
    reads: [evidence, evidence_files, report, plan]
    may: [start_cycles, share_report]
  - id: moderator
    title: Moderator
    reads: [evidence, evidence_files]
  - id: observer
    title: Observer
framework:
  scale: []
  sections:
    - id: writing
      title: Writing
      questions:
        - {id: writing.ks2, text: "Are the school's KS2 writing judgements secure?"}
stages:
  - id: sampling
    title: Sampling
    initial: true
    collects:
      evidence: [moderator, lead_moderator]
      findings: [lead_moderator]
      signoffs: [moderator, lead_moderator]
  - id: agreed
    title: Judgements agreed
    terminal: true
transitions:
  - id: agree
    title: Agree the judgements
    from: sampling
    to: agreed
    roles: [lead_moderator]
    requires:
      - evidence_per_question: {min: 1}
      - signed_off: {roles: [moderator]}
"""

LEAD, MODERATOR, OBSERVER = "review_lead", "reviewer", "reviewer2"
"""People of the test partnership given this framework's roles (their SPP grants aside)."""


def _grant(world: World, who: str, role: str, kind: str, scope: str) -> None:
    body = {"person_id": world.person(who), "role": role, "scope_kind": kind, "scope_id": scope}
    ok(world.post("admin", "/grants", json=body), 201)


def _published(world: World) -> None:
    r = world.post(
        "admin",
        "/templates?publish=true",
        content=MODERATION,
        headers={"content-type": "text/yaml"},
    )
    ok(r, 201)


def test_a_framework_is_run_end_to_end_by_its_own_roles_with_nothing_forced(world: World) -> None:
    _published(world)
    _grant(world, LEAD, "lead_moderator", "network", "nlc-n")
    _grant(world, MODERATOR, "moderator", "school", "sch-h")
    _grant(world, OBSERVER, "observer", "school", "sch-h")

    # The lead moderator starts it (the template gives them start_cycles in their network);
    # the SPP's partnership lead may not, as this template gives that role nothing.
    body = {"template_id": "writing-moderation", "host_school_id": "sch-h"}
    refused = world.post("pl_own", "/cycles", json=body)
    assert refused.status_code == 403 and "Lead moderator" in refused.json()["detail"]
    c = ok(world.post(LEAD, "/cycles", json=body), 201)["id"]

    # Blocked until the moderator has added a sample and signed off, said in words.
    blocked = world.fire(LEAD, c, "agree")
    assert blocked.status_code == 409
    assert "not yet signed off by the moderator" in blocked.text
    evidence(
        world, MODERATOR, c, "writing.ks2", file=("sample.pdf", b"%PDF-1.4 x", "application/pdf")
    )
    ok(world.post(MODERATOR, f"/cycles/{c}/signoffs", json={"role": "moderator"}), 201)
    ok(world.post(LEAD, f"/cycles/{c}/findings", json={"kind": "strength", "text": "Secure."}), 201)
    moved = move(world, LEAD, c, "agree")
    assert moved["to_stage"] == "agreed" and moved["forced"] is False

    # Each role reads what the template gives it.
    assert world.get(MODERATOR, f"/cycles/{c}/evidence").status_code == 200
    assert world.get(MODERATOR, f"/cycles/{c}/findings").status_code == 403
    assert world.get(LEAD, f"/cycles/{c}/findings").status_code == 200
    assert world.get(OBSERVER, f"/cycles/{c}").status_code == 200  # the overview
    assert world.get(OBSERVER, f"/cycles/{c}/evidence").status_code == 403
    # The host's SPP head holds school_lead, which this template does not declare.
    assert world.get("head_own", f"/cycles/{c}/evidence").status_code == 403

    # The lead shares the report (share_report); the moderator may not.
    share = {"grantee_kind": "school", "grantee_id": "sch-a"}
    assert world.post(MODERATOR, f"/cycles/{c}/shares", json=share).status_code == 403
    ok(world.post(LEAD, f"/cycles/{c}/shares", json=share), 201)
    history = world.get(LEAD, f"/cycles/{c}/history").json()
    assert [e["transition"] for e in history if e.get("transition")] == ["agree"]
    assert not any(e.get("forced") for e in history)


def test_a_role_no_template_declares_is_refused_by_name(world: World) -> None:
    body = {"person_id": world.person(MODERATOR), "role": "moderator", "scope_kind": "school"}
    refused = world.post("admin", "/grants", json={**body, "scope_id": "sch-h"})
    assert refused.status_code == 422
    assert "no template declares the role 'moderator'" in refused.json()["detail"]
    _published(world)
    assert world.post("admin", "/grants", json={**body, "scope_id": "sch-h"}).status_code == 201
    spp = world.post(
        "reviewer", "/cycles", json={"template_id": "spp-cycle", "host_school_id": "sch-h"}
    )
    assert spp.status_code == 403


def test_nobody_gives_themselves_a_template_role_that_opens_confidential_content(
    world: World,
) -> None:
    _published(world)
    body = {
        "person_id": world.person("admin"),
        "role": "moderator",
        "scope_kind": "school",
        "scope_id": "sch-h",
    }
    refused = world.post("admin", "/grants", json=body)
    assert refused.status_code == 403 and "evidence_files" in refused.json()["detail"]
    ok(world.post("admin", "/grants", json={**body, "role": "observer"}), 201)
