"""Peerloop's benchmarks: every result is a ratio against a baseline timed in the same run.

To add a group, write a module that decorates a builder with `bench.common.group(...)` and
returns `Comparison`s (or yields them, then cleans up), then name the module in `MODULES`.
`python -m bench NAME` runs one group.
"""

from __future__ import annotations

import importlib

__all__ = ["MODULES", "load"]

MODULES: tuple[str, ...] = (
    "bench.engine",
    "bench.persistence",
    "bench.compare",
    "bench.scale",
    "bench.deadlines",
    "bench.http_load",
    "bench.render",
)
"""Modules that register benchmark groups, in the order the report lists them."""


def load() -> None:
    """Import every group module so that its groups register themselves."""
    for name in MODULES:
        importlib.import_module(name)
