"""The application layer: every command and query, one use case each (see `base`)."""

from __future__ import annotations

# Importing the modules registers their use cases with `handles`.
from service.usecases import (  # noqa: F401
    admin,
    calendar_feed,
    calendars,
    cycles,
    dashboard,
    directory,
    documents,
    exports,
    inbox,
    migration,
    recording,
    retention,
    series,
    sharing,
    tasks,
    timeline,
)
from service.usecases.base import CycleContext, UseCases

__all__ = ["CycleContext", "UseCases"]
