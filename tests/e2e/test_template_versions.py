"""A template's versions over HTTP, as an admin moves a framework on mid-year: numbers go up
one at a time, a draft can be deleted, a published version retired (its running cycles go
on, no new one starts on it), and each refusal says what to do instead."""

from __future__ import annotations

from typing import Any

from tests.e2e.flows import evidence, move, ok
from tests.e2e.test_template_roles import MODERATION
from tests.e2e.world import World

YAML = {"content-type": "text/yaml"}
BASE = "/templates/writing-moderation"


def _upload(world: World, version: int, *, publish: bool = False) -> Any:
    text = MODERATION.replace("version: 1\n", f"version: {version}\n", 1)
    query = "?publish=true" if publish else ""
    return world.post("admin", f"/templates{query}", content=text, headers=YAML)


def _start(world: World, version: int | None = None) -> Any:
    body: dict[str, Any] = {"template_id": "writing-moderation", "host_school_id": "sch-h"}
    if version is not None:
        body["template_version"] = version
    return world.post("admin", "/cycles", json=body)


def _detail(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return str(r.json()["detail"])


def test_versions_go_up_one_at_a_time_and_a_clash_names_the_next(world: World) -> None:
    skip = _detail(_upload(world, 2), 409)
    assert "writing-moderation' has no version yet, so the next is 1" in skip
    ok(_upload(world, 1, publish=True), 201)
    assert "the newest version of 'writing-moderation' is 1, so the next is 2" in _detail(
        _upload(world, 5), 409
    )
    # Published never changes: the message names the version to upload instead.
    assert _detail(_upload(world, 1), 409).endswith("upload it as version 2")
    ok(_upload(world, 2), 201)  # a draft
    ok(_upload(world, 2), 201)  # a draft is replaced as often as wanted
    clash = _detail(_upload(world, 1), 409)
    assert clash.endswith("upload it as version 2, which replaces the draft stored there")
    versions = ok(world.get("admin", BASE))
    assert [(v["version"], v["status"]) for v in versions] == [(1, "published"), (2, "draft")]


def test_a_start_on_a_draft_says_to_publish_it(world: World) -> None:
    ok(_upload(world, 1), 201)
    said = _detail(_start(world), 409)
    assert (
        said
        == "'writing-moderation' has no published version: version 1 is a draft; publish it first"
    )
    ok(world.post("admin", f"{BASE}/versions/1/publish"))
    ok(_upload(world, 2), 201)
    assert "version 2 of 'writing-moderation' is a draft; publish it first; start on version 1" in (
        _detail(_start(world, 2), 409)
    )
    assert ok(_start(world), 201)["template_version"] == 1


def test_a_draft_is_deleted_and_a_published_version_is_not(world: World) -> None:
    ok(_upload(world, 1, publish=True), 201)
    ok(_upload(world, 2), 201)
    assert "retire it" in _detail(world.call("admin", "DELETE", f"{BASE}/versions/1"), 409)
    assert world.call("head_own", "DELETE", f"{BASE}/versions/2").status_code == 403
    assert world.call("admin", "DELETE", f"{BASE}/versions/2").status_code == 204
    assert [v["version"] for v in ok(world.get("admin", BASE))] == [1]
    _detail(world.call("admin", "DELETE", f"{BASE}/versions/2"), 404)
    ok(_upload(world, 2), 201)  # the number is free again


def test_a_retired_version_starts_no_cycle_and_its_running_cycles_go_on(world: World) -> None:
    ok(_upload(world, 1, publish=True), 201)
    running = ok(_start(world), 201)["id"]
    assert world.post("head_own", f"{BASE}/versions/1/retirement").status_code == 403
    retired = ok(world.post("admin", f"{BASE}/versions/1/retirement"))
    assert retired["retired_at"] is not None
    again = ok(world.post("admin", f"{BASE}/versions/1/retirement"))
    assert again["retired_at"] == retired["retired_at"]  # the first retirement is kept

    said = _detail(_start(world), 409)
    assert "every published version of 'writing-moderation' is retired" in said
    assert "is retired: no new cycle starts on it" in _detail(_start(world, 1), 409)

    # The cycle on it carries on to its end, under version 1, moved by its own roles.
    for who, role, kind, scope in (
        ("reviewer", "moderator", "school", "sch-h"),
        ("review_lead", "lead_moderator", "network", "nlc-n"),
    ):
        body = {"person_id": world.person(who), "role": role, "scope_kind": kind, "scope_id": scope}
        ok(world.post("admin", "/grants", json=body), 201)
    evidence(world, "reviewer", running, "writing.ks2")
    ok(world.post("reviewer", f"/cycles/{running}/signoffs", json={"role": "moderator"}), 201)
    assert move(world, "review_lead", running, "agree")["to_stage"] == "agreed"

    # A new version published starts cycles again; a draft cannot be retired.
    ok(_upload(world, 2, publish=True), 201)
    assert ok(_start(world), 201)["template_version"] == 2
    ok(_upload(world, 3), 201)
    assert "delete it rather than retire it" in _detail(
        world.post("admin", f"{BASE}/versions/3/retirement"), 409
    )


def test_the_template_view_gives_each_stage_its_deadline(world: World) -> None:
    spp = ok(world.get("admin", "/templates/spp-cycle/versions/1"))
    deadlines = {s["id"]: s["deadline"] for s in spp["stages"]}
    first = deadlines["self_review"]
    assert first is not None and first["due"] and first["from"]
    assert isinstance(first["reminders"], list) and isinstance(first["on_expiry"], list)
    assert deadlines["closed"] is None
