"""The API's behaviour beyond the matrix: what each role reads, sharing, tokens and passwords,
templates, the directory, logs, metrics, health, OpenAPI and the reference page."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
import structlog
import yaml

from tests.e2e.flows import ok, spp_to, start
from tests.e2e.world import WORKFLOWS, World, open_world


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    """A partnership with one SPP cycle at its follow-up, everything recorded."""
    for w in open_world(tmp_path_factory.mktemp("api")):
        c = start(w)
        spp_to(w, c, "follow_up")
        yield w, c


# -- what each role reads -------------------------------------------------------------------------

SECTIONS = {
    "head_own": {"evidence", "self_judgements", "peer_judgements", "findings", "actions"},
    "staff_own": {"evidence", "self_judgements", "actions"},
    "review_lead": {"evidence", "self_judgements", "peer_judgements", "findings", "actions"},
    "champion": {"self_judgements", "peer_judgements", "findings", "actions"},
    "pl_own": {"actions"},
    "chair_own": set(),
    "admin": {"evidence", "actions"},
}


@pytest.mark.parametrize("who", sorted(SECTIONS))
def test_each_role_reads_only_its_sections(followed: tuple[World, str], who: str) -> None:
    w, c = followed
    cycle = ok(w.get(who, f"/cycles/{c}"))
    shown = {
        k for k in SECTIONS["head_own"] | {"focus", "support", "signoffs"} if cycle[k] is not None
    }
    assert shown & SECTIONS["head_own"] == SECTIONS[who]
    # everyone who sees the cycle sees its stage, team and deadlines
    assert cycle["stage"] == "follow_up" and len(cycle["team"]) == 3
    assert ok(w.get(who, f"/cycles/{c}/deadlines"))
    judgements = ok(w.get(who, f"/cycles/{c}/judgements"))
    kinds = {j["kind"] for j in judgements}
    assert ("peer" in kinds) == ("peer_judgements" in SECTIONS[who])
    assert ("self" in kinds) == ("self_judgements" in SECTIONS[who])
    if cycle["evidence"] is not None:
        downloads = [e["download"] for e in cycle["evidence"] if e["file_name"]]
        assert bool(downloads[0]) == (who != "admin")  # the admin lists, never opens


def test_a_school_sees_its_own_cycles_and_a_reviewer_theirs(followed: tuple[World, str]) -> None:
    w, c = followed
    other = start(w, school="sch-x", who="pl_other")
    seen = {who: {x["id"] for x in ok(w.get(who, "/cycles"))} for who in w.tokens}
    assert c in seen["head_own"] and other not in seen["head_own"]
    assert c in seen["reviewer"] and other not in seen["reviewer"]
    assert seen["head_other_net"] >= {other} and c not in seen["head_other_net"]
    assert c not in seen["head_other"] and c not in seen["chair_other"]
    assert seen["chair_other"] == {other} and seen["admin"] >= {c, other}
    assert seen["spare"] == set()
    # filters narrow what one may see, never widen it
    assert {x["id"] for x in ok(w.get("chair_own", "/cycles?network=nlc-s"))} == set()
    assert {x["id"] for x in ok(w.get("admin", "/cycles?school=sch-x"))} == {other}
    assert {x["stage"] for x in ok(w.get("admin", "/cycles?stage=follow_up"))} == {"follow_up"}
    assert ok(w.get("admin", "/cycles?template=cqa")) == []
    assert ok(w.get("admin", "/cycles?overdue=true")) == []
    w.clock.advance(timedelta(days=29))  # the follow-up is due in four weeks, self-review in six
    try:
        overdue = ok(w.get("admin", "/cycles?overdue=true"))
        assert c in {x["id"] for x in overdue} and other not in {x["id"] for x in overdue}
        assert all(x["overdue"] for x in overdue)
        assert c not in {x["id"] for x in ok(w.get("admin", "/cycles?overdue=false"))}
    finally:
        w.clock.advance(-timedelta(days=29))


def test_sharing_the_report_opens_it_and_is_in_history(followed: tuple[World, str]) -> None:
    w, c = followed
    assert w.get("chair_own", f"/cycles/{c}/report").status_code == 403
    assert w.get("head_other", f"/cycles/{c}").status_code == 404
    # only the host's head decides
    r = w.post(
        "pl_own", f"/cycles/{c}/shares", json={"grantee_kind": "network", "grantee_id": "nlc-n"}
    )
    assert r.status_code == 403
    net = ok(
        w.post(
            "head_own",
            f"/cycles/{c}/shares",
            json={"grantee_kind": "network", "grantee_id": "nlc-n"},
        ),
        201,
    )
    person = ok(
        w.post(
            "head_own",
            f"/cycles/{c}/shares",
            json={"grantee_kind": "person", "grantee_id": "p-head-e"},
        ),
        201,
    )
    again = w.post(
        "head_own", f"/cycles/{c}/shares", json={"grantee_kind": "person", "grantee_id": "p-head-e"}
    )
    assert again.status_code == 409
    report = ok(w.get("chair_own", f"/cycles/{c}/report"))
    assert report["findings"] and report["focus"] == ["Reading in KS2", "Attendance"]
    assert ok(w.get("head_other", f"/cycles/{c}/report"))["findings"]
    seen = ok(w.get("head_other", f"/cycles/{c}"))
    assert seen["findings"] is not None and seen["evidence"] is None and seen["actions"] is None
    assert c in {x["id"] for x in ok(w.get("head_other", "/cycles"))}
    # the other network's chair is not reached by a share to this network
    assert w.get("chair_other", f"/cycles/{c}/report").status_code == 404
    history = ok(w.get("head_own", f"/cycles/{c}/history"))
    shares = [e for e in history if e["detail"].get("record") == "report_share"]
    assert [(e["detail"]["id"], e["detail"]["change"], e["actor"]) for e in shares] == [
        (net["id"], "added", "p-head-h"),
        (person["id"], "added", "p-head-h"),
    ]
    # ending a share closes the report again, and is recorded too
    ok(w.call("head_own", "DELETE", f"/cycles/{c}/shares/{person['id']}"))
    assert w.get("head_other", f"/cycles/{c}/report").status_code == 404
    ok(w.call("head_own", "DELETE", f"/cycles/{c}/shares/{net['id']}"))
    assert w.get("chair_own", f"/cycles/{c}/report").status_code == 403
    assert ok(w.get("head_own", f"/cycles/{c}/shares")) == []
    history = ok(w.get("head_own", f"/cycles/{c}/history"))
    assert [
        e["detail"]["change"] for e in history if e["detail"].get("record") == "report_share"
    ] == [
        "added",
        "added",
        "removed",
        "removed",
    ]


def test_the_team_can_change_before_the_review(world: World) -> None:
    c = start(world)
    spp_to(world, c, "pre_review", fill=False)
    ok(world.put("pl_own", f"/cycles/{c}/team/p-head-b", json={"role": "reviewer"}))
    assert world.get("reviewer", f"/cycles/{c}").status_code == 200
    team = ok(world.call("pl_own", "DELETE", f"/cycles/{c}/team/p-head-b"))
    assert team == []
    assert world.get("reviewer", f"/cycles/{c}").status_code == 404
    r = world.call("pl_own", "DELETE", f"/cycles/{c}/team/p-head-b")
    assert r.status_code == 404


# -- tokens and passwords -------------------------------------------------------------------------


def test_tokens_are_stored_as_hashes_and_revocation_is_immediate(world: World) -> None:
    made = ok(world.post("admin", "/tokens", json={"person_id": "p-head-f", "name": "laptop"}), 201)
    secret = made["secret"]
    assert secret.startswith("plt_") and len(secret) > 40
    assert made["expires_at"] and made["revoked_at"] is None
    with world.container.engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT token_hash FROM api_token WHERE id = :i"), {"i": made["id"]}
        ).scalar()
        everything = " ".join(
            str(v) for row in conn.execute(sa.text("SELECT * FROM api_token")) for v in row
        )
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in everything
    headers = {"Authorization": f"Bearer {secret}"}
    assert ok(world.client.get("/people/me", headers=headers))["id"] == "p-head-f"
    listed = ok(world.client.get("/tokens", headers=headers))
    assert len(listed) == 2 and made["id"] in {t["id"] for t in listed}  # the seeded one and this
    assert {t["id"] for t in listed} == {t["id"] for t in ok(world.get("spare", "/tokens"))}
    assert all("secret" not in t for t in listed)
    assert next(t for t in listed if t["id"] == made["id"])["last_used_at"] is not None
    # someone else's token is not yours to revoke; your own is
    assert world.call("head_own", "DELETE", f"/tokens/{made['id']}").status_code == 404
    revoked = ok(world.client.delete(f"/tokens/{made['id']}", headers=headers))
    assert revoked["revoked_at"] is not None
    assert world.client.get("/people/me", headers=headers).status_code == 401


def test_passwords_are_argon2_and_log_in_for_a_short_token(world: World) -> None:
    r = world.put(
        "head_own", "/people/p-head-h/password", json={"password": "correct horse battery"}
    )
    assert r.status_code == 204
    assert (
        world.put("head_own", "/people/p-staff-h/password", json={"password": "x" * 12}).status_code
        == 403
    )
    assert (
        world.put("staff_own", "/people/p-staff-h/password", json={"password": "short"}).status_code
        == 422
    )
    with world.container.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT hash FROM password")).scalar()
    assert str(stored).startswith("$argon2id$") and "horse" not in str(stored)
    bad = world.client.post(
        "/auth/login", json={"email": "p-head-h@school.example", "password": "wrong"}
    )
    assert bad.status_code == 401
    nobody = world.client.post("/auth/login", json={"email": "no@school.example", "password": "x"})
    assert nobody.status_code == 401 and nobody.json()["detail"] == bad.json()["detail"]
    token = ok(
        world.client.post(
            "/auth/login",
            json={"email": "P-Head-H@school.example", "password": "correct horse battery"},
        ),
        201,
    )
    assert token["name"] == "login"
    me = world.client.get("/people/me", headers={"Authorization": f"Bearer {token['secret']}"})
    assert ok(me)["id"] == "p-head-h"


# -- templates and the directory -------------------------------------------------------------------


def test_templates_upload_publish_diagram_and_start(world: World) -> None:
    source = (WORKFLOWS / "spp-cycle.yaml").read_text().replace("version: 1", "version: 2")
    checked = ok(world.post("head_own", "/templates/validation", content=source))
    assert checked == {"valid": True, "template_id": "spp-cycle", "version": 2, "issues": []}
    up = ok(
        world.post(
            "admin", "/templates", content=source, headers={"content-type": "application/yaml"}
        ),
        201,
    )
    assert (up["status"], up["version"], up["valid"]) == ("draft", 2, True)
    r = world.post(
        "pl_own",
        "/cycles",
        json={"template_id": "spp-cycle", "template_version": 2, "host_school_id": "sch-h"},
    )
    assert r.status_code == 409 and "draft" in r.json()["detail"]
    versions = ok(world.get("staff_own", "/templates/spp-cycle"))
    assert [(v["version"], v["status"]) for v in versions] == [(1, "published"), (2, "draft")]
    assert (
        ok(world.post("admin", "/templates/spp-cycle/versions/2/publish"))["status"] == "published"
    )
    again = world.post("admin", "/templates", content=source, headers={"content-type": "text/yaml"})
    assert again.status_code == 409
    view = ok(world.get("reviewer", "/templates/spp-cycle/versions/2"))
    assert [s["id"] for s in view["stages"]][:2] == ["self_review", "pre_review"]
    assert view["scale"] == [] and len(view["sections"]) == 4
    diagram = world.get("reviewer", "/templates/spp-cycle/versions/2/diagram?stage=peer_review")
    assert diagram.status_code == 200 and diagram.text.startswith("---")
    assert "stateDiagram-v2" in diagram.text and "class s_peer_review current" in diagram.text
    assert (
        world.get("reviewer", "/templates/spp-cycle/versions/2/diagram?stage=nope").status_code
        == 404
    )
    assert world.get("reviewer", "/templates/nothing").status_code == 404
    created = ok(
        world.post(
            "pl_own", "/cycles", json={"template_id": "spp-cycle", "host_school_id": "sch-h"}
        ),
        201,
    )
    assert created["template_version"] == 2
    # JSON documents are templates too
    as_json = source.replace("version: 2", "version: 3")
    doc = json.dumps(yaml.safe_load(as_json))
    up = ok(
        world.post(
            "admin",
            "/templates?publish=true",
            content=doc,
            headers={"content-type": "application/json"},
        ),
        201,
    )
    assert (up["source_format"], up["status"]) == ("json", "published")


def test_directory_reads_and_admin_writes(world: World) -> None:
    assert ok(world.get("staff_own", "/networks/nlc-n"))["name"] == "Northbank NLC"
    assert ok(world.get("staff_own", "/schools/sch-x"))["urn"] == "200001"
    assert {s["id"] for s in ok(world.get("staff_own", "/schools?network=nlc-s"))} == {
        "sch-x",
        "sch-y",
    }
    assert world.get("staff_own", "/networks/nlc-nope").status_code == 404
    # people are personal data: a school's staff see their own school, a reviewer themselves
    assert {p["id"] for p in ok(world.get("staff_own", "/people"))} == {"p-head-h", "p-staff-h"}
    assert {p["id"] for p in ok(world.get("reviewer", "/people"))} == {"p-head-b"}
    assert len(ok(world.get("pl_other", "/people"))) == len(ok(world.get("admin", "/people")))
    assert world.get("reviewer", "/people/p-head-h").status_code == 404
    made = ok(
        world.post(
            "admin",
            "/grants",
            json={"person_id": "p-head-f", "role": "reviewer", "scope_kind": "global"},
        ),
        201,
    )
    assert {p["id"] for p in ok(world.get("admin", "/people/p-head-f/grants"))} >= {made["id"]}
    assert world.call("pl_own", "DELETE", f"/grants/{made['id']}").status_code == 403
    assert world.call("admin", "DELETE", f"/grants/{made['id']}").status_code == 204
    assert world.call("admin", "DELETE", f"/grants/{made['id']}").status_code == 404
    school = ok(
        world.post(
            "admin",
            "/schools",
            json={"urn": "300300", "name": "Rowan", "phase": "Primary", "network_id": "nlc-n"},
        ),
        201,
    )
    assert school["id"] == "sch-300300"
    assert (
        world.post(
            "admin", "/schools", json={"urn": "300300", "name": "Dup", "phase": "P"}
        ).status_code
        == 409
    )
    bad_net = world.post(
        "admin", "/schools", json={"urn": "300301", "name": "X", "phase": "P", "network_id": "nope"}
    )
    assert bad_net.status_code == 404


# -- logs, metrics, health, errors -------------------------------------------------------------


def test_one_log_line_per_request_and_one_per_move(world: World) -> None:
    c = start(world)
    with structlog.testing.capture_logs() as logs:
        r = world.post(
            "pl_own",
            f"/cycles/{c}/transitions/pause",
            headers={"If-Match": '"1"', "X-Request-ID": "req-42"},
        )
        world.get(None, "/cycles")
    assert r.status_code == 200 and r.headers["x-request-id"] == "req-42"
    requests = [e for e in logs if e["event"] == "request"]
    assert len(requests) == 2
    first, second = requests
    assert first["request_id"] == "req-42" and first["principal"] == "p-pl-n"
    assert first["status"] == 200 and first["duration_ms"] > 0
    assert first["route"] == "/cycles/{cycle_id}/transitions/{name}"
    assert second["status"] == 401 and second["principal"] is None
    moves = [e for e in logs if e["event"] == "transition"]
    assert len(moves) == 1
    assert {k: moves[0][k] for k in ("cycle", "from_stage", "to_stage", "actor")} == {
        "cycle": c,
        "from_stage": "self_review",
        "to_stage": "on_hold",
        "actor": "p-pl-n",
    }


def test_an_unhandled_error_is_logged_and_answered_without_detail(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = world.app.state["workspace"]

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(ws, "handle", boom)
    with structlog.testing.capture_logs() as logs:
        r = world.get("admin", "/cycles")
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert "hunter2" not in r.text and "RuntimeError" not in r.text
    assert body["request_id"] == r.headers["x-request-id"]
    errors = [e for e in logs if e["event"] == "request.error"]
    assert errors and isinstance(errors[0]["exc_info"], RuntimeError)
    assert errors[0]["request_id"] == body["request_id"]


def test_metrics_count_requests_and_moves(world: World) -> None:
    c = start(world)
    ok(world.post("pl_own", f"/cycles/{c}/transitions/pause", headers={"If-Match": '"1"'}))
    world.get(None, "/cycles")
    text = world.get(None, "/metrics").text
    assert 'peerloop_transitions_total{forced="false",transition="pause"} 1.0' in text
    assert re.search(
        r'peerloop_http_requests_total\{method="GET",route="/cycles",status="401"\} 1.0', text
    )
    assert "peerloop_http_request_duration_seconds_bucket" in text
    assert "p-pl-n" not in text  # no people in metrics


def test_health_reports_database_and_scheduler(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ok(world.get(None, "/health")) == {
        "status": "ok",
        "database": "ok",
        "scheduler": "not running",
    }
    monkeypatch.setattr(world.container, "scheduler", SimpleNamespace(running=True))
    assert ok(world.get(None, "/health"))["scheduler"] == "running"
    ws = world.app.state["workspace"]

    def down(**_: Any) -> Any:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(ws, "uow", down)
    r = world.get(None, "/health")
    assert r.status_code == 503 and r.json()["database"] == "unavailable"


def test_openapi_declares_problems_and_the_reference_page_works_offline(world: World) -> None:
    doc = ok(world.get(None, "/schema/openapi.json"))
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    ops = {(m.upper(), p): op for p, item in doc["paths"].items() for m, op in item.items()}
    public = {
        ("GET", "/health"),
        ("GET", "/metrics"),
        ("POST", "/auth/login"),
        ("GET", "/calendar/{feed}"),
    }
    for (method, path), op in ops.items():
        codes = set(op["responses"])
        if (method, path) not in public:
            assert {"401", "403", "404"} <= codes, (method, path)
            assert op.get("security") == [{"bearer": []}], (method, path)
        if method in ("POST", "PUT") and (method, path) not in public:
            assert {"409", "413", "422"} <= codes, (method, path)
        for code in codes - {"200", "201", "204", "503"}:
            content = op["responses"][code].get("content", {})
            assert list(content) == ["application/problem+json"], (method, path, code)
    fire = ops[("POST", "/cycles/{cycle_id}/transitions/{name}")]
    assert {"412", "428"} <= set(fire["responses"])
    assert {p["name"] for p in fire["parameters"]} >= {"Idempotency-Key", "cycle_id", "name"}
    assert (
        "multipart/form-data"
        in ops[("POST", "/cycles/{cycle_id}/evidence")]["requestBody"]["content"]
    )
    assert "application/yaml" in ops[("POST", "/templates")]["requestBody"]["content"]
    page = world.get(None, "/reference")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/cycles/{cycle_id}/transitions/{name}" in page.text and "CycleView" in page.text
    assert "<script" not in page.text and "http://" not in page.text and "https://" not in page.text
    # and the bundled pages that would load scripts from a CDN are not served
    for path in ("/schema/swagger", "/schema/redoc", "/schema/elements"):
        assert world.get(None, path).status_code == 404


def test_deadline_feed_is_a_calendar_of_my_cycles(followed: tuple[World, str]) -> None:
    w, c = followed
    response = w.get("head_own", "/people/me/deadlines.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    body = response.text
    assert body.startswith("BEGIN:VCALENDAR") and "END:VCALENDAR" in body
    assert "BEGIN:VEVENT" in body and c in body
    outsider = w.get("head_other_net", "/people/me/deadlines.ics")
    assert outsider.status_code == 200
    assert c not in outsider.text, "another network's head sees none of this cycle's deadlines"
    assert w.get(None, "/people/me/deadlines.ics").status_code == 401
