"""Use cases: admin."""

from __future__ import annotations

__all__: list[str] = []
