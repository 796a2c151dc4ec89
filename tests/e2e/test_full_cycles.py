"""Whole cycles through HTTP, every step by the person whose job it is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.usecases.core import verify_history
from tests.e2e.flows import CQA_QUESTIONS, SPP_QUESTIONS, cqa_to_close, ok, spp_to, start
from tests.e2e.world import WORKFLOWS, World, open_world


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "sqlite":
        yield from open_world(tmp_path)
    else:
        yield request.getfixturevalue("pg_world")


def test_spp_cycle_from_start_to_closed(any_world: World) -> None:
    w = any_world
    c = start(w)
    spp_to(w, c, "closed")

    cycle = ok(w.get("head_own", f"/cycles/{c}"))
    assert cycle["stage"] == "closed" and cycle["terminal"] is True
    assert len(cycle["evidence"]) == len(SPP_QUESTIONS)
    assert {a["status"] for a in cycle["actions"]} == {"met", "partially_met"}
    assert cycle["support"][0]["activities"] == ["Joint book look with Elm's English lead"]

    history = ok(w.get("head_own", f"/cycles/{c}/history"))
    moves = [(e["transition"], e["actor"], e["role"]) for e in history if e["kind"] == "transition"]
    assert moves == [
        ("submit_self_review", "p-head-h", "school_lead"),
        ("start_peer_review", "p-head-a", "review_lead"),
        ("complete_peer_review", "p-head-a", "review_lead"),
        ("agree_actions", "p-head-d", "improvement_champion"),
        ("begin_follow_up", "p-pl-n", "partnership_lead"),
        ("close", "p-pl-n", "partnership_lead"),
    ]
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    assert all(not e["forced"] for e in history)
    # Every record as the history left it, in a fresh read of the store (the audit's).
    with w.container.uow(readonly=True) as uow:
        assert verify_history(uow, [c]) == []

    # A closed cycle offers no moves and takes no more records.
    assert ok(w.get("pl_own", f"/cycles/{c}/transitions")) == []
    r = w.post("head_own", f"/cycles/{c}/signoffs", json={"role": "school_lead"})
    assert r.status_code == 409 and r.json()["type"].endswith("cycle-closed")
    # The evidence file the head uploaded first is still there for the host.
    pdf = next(e for e in cycle["evidence"] if e["file_name"])
    download = w.get("staff_own", pdf["download"])
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")
    assert download.headers["content-disposition"] == "attachment; filename*=utf-8''Data%20pack.pdf"


@pytest.mark.skipif(not (WORKFLOWS / "cqa.yaml").exists(), reason="workflows/cqa.yaml not written")
def test_cqa_cycle_from_start_to_closed(world: World) -> None:
    c = start(world, "cqa")
    moves = cqa_to_close(world, c)
    cycle = ok(world.get("head_own", f"/cycles/{c}"))
    assert cycle["stage"] == "closed"
    assert {j["question_id"] for j in cycle["peer_judgements"]} == set(CQA_QUESTIONS)
    assert {f["kind"] for f in cycle["findings"]} == {"strength", "area_for_improvement"}
    history = ok(world.get("review_lead", f"/cycles/{c}/history"))
    fired = [(e["actor"], e["transition"]) for e in history if e["kind"] == "transition"]
    assert fired == [(world.person(who), name) for who, name in moves]
    assert [name for _, name in moves] == [
        "agree_data_and_audit",
        "complete_review_days",
        "agree_profile",
        "agree_plan",
        "close",
    ]
