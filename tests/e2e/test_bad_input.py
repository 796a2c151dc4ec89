"""Bad input: every kind gets a clear problem+json 4xx, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.flows import PDF, ok, start
from tests.e2e.world import World, open_world

TABLES = [
    "cycle",
    "history",
    "evidence",
    "finding",
    "action",
    "judgement",
    "template_version",
    "network",
    "school",
    "person",
    "role_grant",
    "api_token",
    "report_share",
    "idempotency_key",
]


def snapshot(w: World) -> dict[str, Any]:
    files = w.container.files.root
    stored = sorted(p.name for p in files.rglob("*") if p.is_file()) if files.exists() else []
    return {**{t: w.table_count(t) for t in TABLES}, "files": stored}


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].startswith("urn:peerloop:problem:")
    return body


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    """One partnership for the cases below: each must leave it exactly as it found it."""
    for w in open_world(tmp_path_factory.mktemp("bad-input")):
        yield w, start(w)


def _form(file: tuple[str, bytes, str]) -> dict[str, Any]:
    return {
        "files": {
            "question_id": (None, "impact.outcomes"),
            "title": (None, "Notes"),
            "file": file,
        }
    }


BIG_JSON = {"lines": ["x" * 1000] * 1100}

CASES: list[tuple[str, Callable[[str], tuple[str, str, str, dict[str, Any]]], int, str]] = [
    (
        "malformed JSON",
        lambda c: (
            "head_own",
            "PUT",
            f"/cycles/{c}/focus",
            {
                "content": b'{"lines": ["a",',
                "headers": {"content-type": "application/json"},
            },
        ),
        400,
        "bad-request",
    ),
    (
        "JSON that is not an object",
        lambda c: ("head_own", "PUT", f"/cycles/{c}/focus", {"json": ["a"]}),
        422,
        "invalid-request",
    ),
    (
        "wrong types and unknown fields, each listed",
        lambda c: (
            "pl_own",
            "POST",
            "/cycles",
            {"json": {"template_id": 7, "host_school_id": ["sch-h"], "colour": "red"}},
        ),
        422,
        "invalid-request",
    ),
    (
        "a missing body",
        lambda c: ("pl_own", "POST", "/cycles", {}),
        422,
        "invalid-request",
    ),
    (
        "bad query parameters",
        lambda c: ("pl_own", "GET", "/cycles?limit=many&overdue=perhaps", {}),
        422,
        "invalid-request",
    ),
    (
        "an oversized JSON body",
        lambda c: ("head_own", "PUT", f"/cycles/{c}/focus", {"json": BIG_JSON}),
        413,
        "request-entity-too-large",
    ),
    (
        "an oversized file",
        lambda c: (
            "head_own",
            "POST",
            f"/cycles/{c}/evidence",
            _form(("big.pdf", PDF + b"0" * (300 * 1024), "application/pdf")),
        ),
        413,
        "file-too-large",
    ),
    (
        "an oversized form",
        lambda c: (
            "head_own",
            "POST",
            f"/cycles/{c}/evidence",
            _form(("huge.pdf", PDF + b"0" * (400 * 1024), "application/pdf")),
        ),
        413,
        "request-entity-too-large",
    ),
    (
        "a path-traversal file name",
        lambda c: (
            "head_own",
            "POST",
            f"/cycles/{c}/evidence",
            _form(("../../../etc/passwd.txt", b"root:x:0:0", "text/plain")),
        ),
        422,
        "invalid-upload",
    ),
    (
        "a Windows path as file name",
        lambda c: (
            "head_own",
            "POST",
            f"/cycles/{c}/evidence",
            _form(("..\\..\\boot.txt", b"x", "text/plain")),
        ),
        422,
        "invalid-upload",
    ),
    (
        "a file type not on the allowlist",
        lambda c: (
            "head_own",
            "POST",
            f"/cycles/{c}/evidence",
            _form(("run.exe", b"MZ\x90\x00", "application/x-msdownload")),
        ),
        415,
        "unsupported-media-type",
    ),
    (
        "an executable dressed as a PDF",
        lambda c: (
            "head_own",
            "POST",
            f"/cycles/{c}/evidence",
            _form(("report.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")),
        ),
        415,
        "unsupported-media-type",
    ),
    (
        "a JSON body where a form is read",
        lambda c: (
            "head_own",
            "POST",
            f"/cycles/{c}/evidence",
            {"json": {"question_id": "impact.outcomes", "title": "x"}},
        ),
        415,
        "unsupported-media-type",
    ),
    (
        "XML where JSON is read",
        lambda c: (
            "head_own",
            "PUT",
            f"/cycles/{c}/focus",
            {"content": b"<lines/>", "headers": {"content-type": "application/xml"}},
        ),
        415,
        "unsupported-media-type",
    ),
    (
        "malformed YAML template",
        lambda c: (
            "admin",
            "POST",
            "/templates",
            {"content": b"id: x\nstages: [a, b\n", "headers": {"content-type": "application/yaml"}},
        ),
        422,
        "invalid-template",
    ),
    (
        "malformed JSON template",
        lambda c: (
            "admin",
            "POST",
            "/templates",
            {"content": b'{"id": "x",', "headers": {"content-type": "application/json"}},
        ),
        422,
        "invalid-template",
    ),
    (
        "an oversized template",
        lambda c: (
            "admin",
            "POST",
            "/templates",
            {
                "content": b"# " + b"x" * (600 * 1024),
                "headers": {"content-type": "application/yaml"},
            },
        ),
        413,
        "request-entity-too-large",
    ),
    (
        "a template as a picture",
        lambda c: (
            "admin",
            "POST",
            "/templates",
            {"content": b"\x89PNG", "headers": {"content-type": "image/png"}},
        ),
        415,
        "unsupported-media-type",
    ),
    (
        "an unknown cycle",
        lambda c: ("admin", "GET", "/cycles/cyc_nope", {}),
        404,
        "not-found",
    ),
    (
        "an unknown transition",
        lambda c: (
            "head_own",
            "POST",
            f"/cycles/{c}/transitions/fly",
            {"headers": {"If-Match": '"1"'}},
        ),
        404,
        "unknown-transition",
    ),
    (
        "an unknown evidence id",
        lambda c: ("head_own", "GET", f"/cycles/{c}/evidence/ev_nope/file", {}),
        404,
        "not-found",
    ),
    (
        "an unknown action",
        lambda c: (
            "head_own",
            "PUT",
            f"/cycles/{c}/actions/act_nope",
            {"json": {"title": "Reading"}},
        ),
        404,
        "not-found",
    ),
    (
        # Whether the stage forms a team is said before whether the person exists (an unknown
        # person at pre-review is 404: tests/e2e/test_security.py).
        "anyone put on the team while the stage forms none",
        lambda c: ("pl_own", "PUT", f"/cycles/{c}/team/p-nobody", {"json": {"role": "reviewer"}}),
        409,
        "not-collected-here",
    ),
    (
        "an unknown route",
        lambda c: ("admin", "GET", "/nothing/here", {}),
        404,
        "not-found",
    ),
    (
        "a move without If-Match",
        lambda c: ("pl_own", "POST", f"/cycles/{c}/transitions/pause", {}),
        428,
        "precondition-required",
    ),
    (
        "a stale If-Match",
        lambda c: (
            "pl_own",
            "POST",
            f"/cycles/{c}/transitions/pause",
            {"headers": {"If-Match": '"41"'}},
        ),
        412,
        "stale-cycle",
    ),
    (
        "a nonsense If-Match",
        lambda c: (
            "pl_own",
            "POST",
            f"/cycles/{c}/transitions/pause",
            {"headers": {"If-Match": "yesterday"}},
        ),
        400,
        "bad-request",
    ),
    (
        "a record a stage does not collect",
        lambda c: (
            "review_lead",
            "POST",
            f"/cycles/{c}/findings",
            {"json": {"kind": "strength", "text": "x"}},
        ),
        404,  # the review lead is not on this cycle's team yet
        "not-found",
    ),
    (
        "a grade on a framework without grades",
        lambda c: (
            "head_own",
            "PUT",
            f"/cycles/{c}/judgements/self/impact.outcomes",
            {"json": {"narrative": "Fine", "grade": "outstanding"}},
        ),
        422,
        "invalid-record",
    ),
    (
        "a question the framework lacks",
        lambda c: (
            "head_own",
            "PUT",
            f"/cycles/{c}/judgements/self/no.such",
            {"json": {"narrative": "Fine"}},
        ),
        422,
        "invalid-record",
    ),
    (
        "a date without a zone",
        lambda c: (
            "pl_own",
            "PUT",
            f"/cycles/{c}/dates/visit_date",
            {"json": {"at": "2026-10-05T09:00:00"}},
        ),
        422,
        "invalid-record",
    ),
    (
        "a grant without its scope",
        lambda c: (
            "admin",
            "POST",
            "/grants",
            {"json": {"person_id": "p-head-f", "role": "school_lead", "scope_kind": "school"}},
        ),
        422,
        "invalid-record",
    ),
    (
        "a second person with the same email",
        lambda c: (
            "admin",
            "POST",
            "/people",
            {"json": {"name": "Twin", "email": "p-head-h@school.example"}},
        ),
        409,
        "conflict",
    ),
]


@pytest.mark.parametrize(("what", "request_of", "status", "kind"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly_and_writes_nothing(
    shared: tuple[World, str],
    what: str,
    request_of: Callable[[str], tuple[str, str, str, dict[str, Any]]],
    status: int,
    kind: str,
) -> None:
    world, cycle = shared
    who, method, path, kwargs = request_of(cycle)
    before = snapshot(world)
    body = problem(world.call(who, method, path, **kwargs), status)
    assert body["type"] == f"urn:peerloop:problem:{kind}"
    assert body["instance"] == path.split("?")[0]
    assert snapshot(world) == before


def test_every_field_at_fault_is_listed(world: World) -> None:
    r = world.post(
        "pl_own",
        "/cycles",
        json={"template_id": 7, "host_school_id": ["sch-h"], "colour": "red"},
    )
    errors = {e["location"]: e["message"] for e in problem(r, 422)["errors"]}
    assert set(errors) == {"body.template_id", "body.host_school_id", "body.colour"}
    assert errors["body.colour"] == "unknown field"
    assert "str" in errors["body.template_id"]
    r = world.get("pl_own", "/cycles?limit=many&overdue=perhaps")
    assert {e["location"] for e in problem(r, 422)["errors"]} == {"query.limit", "query.overdue"}


def test_an_invalid_template_gets_every_issue_with_its_line(world: World) -> None:
    source = (
        b"format: 1\nid: broken\nversion: 1\ntitle: Broken\nroles: []\n"
        b"stages:\n  - id: a\n    initial: true\n"
        b"transitions:\n  - id: go\n    from: a\n    to: nowhere\n    roles: [ghost]\n"
    )
    before = snapshot(world)
    r = world.post("admin", "/templates", content=source, headers={"content-type": "text/yaml"})
    errors = problem(r, 422)["errors"]
    assert len(errors) >= 2
    assert all(e["location"] and e["message"] and e["code"] for e in errors)
    located = {e["location"]: e.get("line") for e in errors}
    assert located.get("transitions[0].to") == 12
    assert snapshot(world) == before
    # the validation endpoint answers the same without storing anything
    r = world.post("head_own", "/templates/validation", content=source)
    assert problem(r, 422)["errors"] == errors


def test_a_template_that_would_blow_up_gets_a_422_and_the_server_goes_on(world: World) -> None:
    # An alias bomb in `version` (72 aliases, 387 million values) and a key written twice:
    # each a 422 naming what is wrong, in a line, nothing stored (JSON nested 10,000 deep is
    # a 400 before any template is read).
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    bomb += "format: 2\nid: boom\nversion: *i\ntitle: Boom\n"
    twice = b"format: 2\nid: twice\nversion: 1\nversion: 2\ntitle: Twice\n"
    before = snapshot(world)
    for body, ctype, wanted, line in (
        (bomb.encode(), "text/yaml", "expand it to more than 300,000 values", None),
        (twice, "text/yaml", "the key 'version' is written twice", 4),
    ):
        r = world.post("admin", "/templates", content=body, headers={"content-type": ctype})
        errors = problem(r, 422)["errors"]
        assert any(wanted in e["message"] for e in errors), errors
        assert all(len(e["message"]) < 400 for e in errors)
        if line is not None:
            assert [e.get("line") for e in errors if wanted in e["message"]] == [line]
        r = world.post(
            "head_own", "/templates/validation", content=body, headers={"content-type": ctype}
        )
        assert problem(r, 422)["errors"] == errors
    assert snapshot(world) == before
    assert world.get("head_own", "/health").status_code == 200


@pytest.mark.parametrize("how", ["missing", "garbage", "wrong scheme", "revoked", "expired"])
def test_unusable_tokens_get_401(world: World, how: str) -> None:
    headers = {
        "missing": {},
        "garbage": {"Authorization": "Bearer plt_not-a-real-token"},
        "wrong scheme": {"Authorization": f"Basic {world.tokens['head_own']}"},
        "revoked": world.auth("head_own"),
        "expired": world.auth("head_own"),
    }[how]
    if how == "revoked":
        mine = ok(world.get("head_own", "/tokens"))[0]["id"]
        ok(world.call("admin", "DELETE", f"/tokens/{mine}"))
    if how == "expired":
        world.clock.advance(timedelta(days=31))
    before = snapshot(world)
    r = world.client.put("/cycles/whatever/focus", json={"lines": ["x"]}, headers=headers)
    body = problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "p-head" not in body["detail"] and world.tokens["head_own"] not in r.text
    assert snapshot(world) == before


def test_a_cycle_full_of_evidence_refuses_more_and_keeps_no_file(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine import records
    from tests.e2e.flows import PDF, evidence, start

    monkeypatch.setattr(records, "MOST_EVIDENCE", 3)  # 400 in use; three make the point
    c = start(world)
    for i in range(3):
        evidence(
            world,
            "head_own",
            c,
            "impact.outcomes",
            file=(f"{i}.pdf", PDF + bytes([i]), "application/pdf"),
        )
    before = snapshot(world)
    parts = {
        "question_id": (None, "impact.outcomes"),
        "title": (None, "One more"),
        "file": ("more.pdf", PDF + b"more", "application/pdf"),
    }
    body = problem(world.post("head_own", f"/cycles/{c}/evidence", files=parts), 422)
    assert "holds 3 pieces of evidence, the most one cycle takes" in body["detail"]
    assert snapshot(world) == before  # no row, and the file it sent is not kept
