"""Every template shipped in workflows/ validates and builds a machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.template_files import read_file
from engine.machine import WorkflowMachine

WORKFLOWS = sorted((Path(__file__).parents[2] / "workflows").glob("*.yaml"))


def test_there_are_shipped_templates() -> None:
    assert {p.name for p in WORKFLOWS} >= {"spp-cycle.yaml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_shipped_template_is_valid(path: Path) -> None:
    doc = read_file(path)
    assert [str(i) for i in doc.validate()] == []
    template = doc.build()
    machine = WorkflowMachine(template)
    assert machine.template.initial_stage.id


# Product rule: few messages, never about finished work. These are the only moments the
# shipped templates tell anyone about; every other transition and every stage tells nobody.
NOTIFY = {
    "spp-cycle.yaml": {
        "submit_self_review": ("partnership_lead", "review_lead", "reviewer"),
        "complete_peer_review": ("school_lead",),
    },
    "cqa.yaml": {
        "agree_data_and_audit": ("review_lead", "reviewer"),
        "complete_review_days": ("school_lead",),
    },
    "challenge-partners-qa.yaml": {"finish_review": ("school_lead",)},
    "cluster-moderation.yaml": {},
}


def test_every_shipped_template_has_its_notify_lists() -> None:
    assert {p.name for p in WORKFLOWS} == set(NOTIFY)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_shipped_template_notifies_exactly_the_agreed_moments(path: Path) -> None:
    template = read_file(path).build()
    told = {t.id: t.notify for t in template.transitions if t.notify}
    assert told == NOTIFY[path.name]
    assert [s.id for s in template.stages if s.notify] == []
    for transition_id in told:
        transition = template.transition(transition_id)
        assert transition is not None
        assert not template.stage(transition.dest).terminal
