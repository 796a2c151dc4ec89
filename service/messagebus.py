"""The message bus: after a use case commits, each event goes to the handlers mapped to it.

A handler's failure is logged and does not undo the change (it has committed) or stop the
other handlers: a notice that cannot be delivered must not lose a head's submitted
self-review.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import structlog

__all__ = ["EventHandler", "MessageBus"]

EventHandler = Callable[[object], None]
_log = structlog.get_logger("peerloop.bus")


class MessageBus:
    def __init__(self, handlers: Mapping[type, Sequence[EventHandler]]) -> None:
        self.handlers = handlers

    def publish(self, events: list[object]) -> None:
        for event in events:
            for handler in self.handlers.get(type(event), ()):
                try:
                    handler(event)
                except Exception:
                    _log.exception(
                        "event.handler_failed",
                        event=type(event).__name__,
                        handler=getattr(handler, "__qualname__", repr(handler)),
                    )
