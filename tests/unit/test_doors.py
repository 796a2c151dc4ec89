"""The doors stay doors: routes never open a unit of work, and every message has a use case."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from service.usecases import UseCases, messages

ROUTES = Path(__file__).resolve().parents[2] / "service" / "routes"


def test_no_route_opens_a_unit_of_work_or_decides_access() -> None:
    offenders = []
    for path in sorted(ROUTES.glob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"\.uow\(|\.access\.require\(|is_admin|\.holds\(", line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []


def test_every_command_and_query_has_exactly_one_use_case() -> None:
    declared = {
        obj for name in messages.__all__ if dataclasses.is_dataclass(obj := getattr(messages, name))
    }
    assert declared - set(UseCases.handled()) == set()
