"""The HTTP edge: uvicorn's h11 protocol, with deadlines for reading a request.

Uvicorn closes a connection idle between two requests (`timeout_keep_alive`), but a client
that opens a connection and sends nothing, or sends its headers or its body a byte at a time,
holds the connection (and a slot of the server) for as long as it likes: the slow-loris
denial of service. Here a request's headers must arrive whole within `header_timeout` of its
first byte (or of the connection, for the first request), and its body may not stall for
longer than `body_idle_timeout` between two pieces; either closes the connection. A slow but
steady upload from a school's broadband is never cut off: only a stall is. While the
application itself is not reading (flow control paused the socket), nothing counts against
the client.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import structlog
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["BODY_IDLE_TIMEOUT", "HEADER_TIMEOUT", "timed_h11"]

HEADER_TIMEOUT = 20.0
"""Seconds a request's headers may take to arrive whole."""

BODY_IDLE_TIMEOUT = 30.0
"""Seconds a request's body may stall between two pieces."""

log = structlog.get_logger("peerloop.edge")


def timed_h11(header_timeout: float, body_idle_timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol with these read deadlines (`uvicorn.Config(http=...)`)."""

    class TimedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(header_timeout, "headers")

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and self.conn.their_state is h11.IDLE:
                self._arm(header_timeout, "headers")  # the next request on a kept-alive connection
            super().data_received(data)
            state = self.conn.their_state
            if state is h11.SEND_BODY:
                self._arm(body_idle_timeout, "body")  # each piece of the body resets it
            elif state is not h11.IDLE:
                self._disarm()  # read whole: the application has it

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self, seconds: float, part: str) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._too_slow, seconds, part)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self, seconds: float, part: str) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            if part == "body" and self.flow.read_paused:
                self._arm(seconds, part)  # the application is not reading: not the client's stall
                return
            client: Any = self.client
            log.warning("request.too_slow", part=part, seconds=seconds, client=client and client[0])
            self.transport.close()

    return TimedH11Protocol
