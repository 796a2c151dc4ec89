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
