"""Webhooks through the outbox to a real local HTTP server: signed JSON, retried while down."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.notify_webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookSender,
    refused_address,
    sign,
    verify,
    webhook_lookup,
)
from adapters.outbox import Backoff, OutboxDispatcher
from adapters.tables import DeliveryLogRow, WebhookRow
from tests.integration.test_deadlines_sweep import LEAD, World, make_world

SECRET = "whsec-0123456789"
LOG = DeliveryLogRow.__table__


@pytest.fixture
def w(sqlite_engine: Engine) -> World:
    return make_world(sqlite_engine)


@pytest.fixture(params=["sqlite", "postgres"])
def w_any(request: pytest.FixtureRequest) -> World:
    """On both databases: where the outbox's SQL differs between them (leasing)."""
    return make_world(request.getfixturevalue(f"{request.param.replace('postgres', 'pg')}_engine"))


class Receiver:
    """An HTTP server in a thread that records each request and answers with `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200
        self.location = ""
        """Where a redirect (a 3xx `status`) points."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/peerloop"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def add_webhook(w: World, hook_id: str, url: str, network: str | None = "n1") -> None:
    with w.engine.begin() as conn:
        conn.execute(
            WebhookRow.__table__.insert().values(
                id=hook_id, network_id=network, url=url, secret=SECRET, active=True
            )
        )


def dispatcher(w: World, **kw: Any) -> OutboxDispatcher:
    # The receiver is on this machine: a private address, allowed here only.
    sender = WebhookSender(webhook_lookup(w.engine), w.clock.now, timeout=5, allow_private=True)
    return OutboxDispatcher(w.engine, {"webhook": sender}, w.clock.now, **kw)


def test_a_deadline_event_is_posted_signed(w: World, receiver: Receiver) -> None:
    add_webhook(w, "wh1", receiver.url)
    add_webhook(w, "wh_south", receiver.url + "?south", network="n2")  # another NLC's
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    due = w.row(cycle.id, "reminder:0")
    w.clock.set(due["due_at"])
    w.sweeper().sweep()
    assert dispatcher(w).dispatch().sent == 1

    ((path, headers, body),) = receiver.requests
    assert path == "/hooks/peerloop"
    assert headers["Content-Type"] == "application/json"
    ts, signature = headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]
    assert signature.startswith("sha256=")
    assert verify(SECRET, ts, body, signature, now=w.clock.now())
    assert not verify("another secret", ts, body, signature)
    assert not verify(SECRET, ts, body + b" ", signature), "the body is covered"
    stale = w.clock.now() + timedelta(minutes=10)
    assert not verify(SECRET, ts, body, signature, now=stale), "an old request replayed"
    doc = json.loads(body)
    assert doc["event"] == "deadline.reminder"
    assert doc["data"]["cycle_id"] == cycle.id
    assert doc["data"]["deadline_id"] == due["id"]
    assert doc["data"]["due_at"] == "2026-10-05T08:00:00+00:00"
    assert doc["data"]["roles"] == ["school_lead", "partnership_lead"]


def test_while_the_target_fails_the_outbox_retries_with_backoff(
    w_any: World, receiver: Receiver
) -> None:
    w = w_any
    add_webhook(w, "wh1", receiver.url)
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.clock.set(w.row(cycle.id, "reminder:0")["due_at"])
    w.sweeper().sweep()
    out = dispatcher(w, backoff=Backoff(first=timedelta(seconds=10)))

    receiver.status = 503
    assert out.dispatch().retrying == 1
    w.clock.advance(timedelta(seconds=10))
    assert out.dispatch().retrying == 1
    (row,) = w.outbox(channel="webhook")
    assert (row["status"], row["attempts"]) == ("pending", 2)
    assert row["next_attempt_at"] == w.clock.now() + timedelta(seconds=20), "doubling"

    receiver.status = 200
    w.clock.advance(timedelta(seconds=20))
    assert out.dispatch().sent == 1
    assert len(receiver.requests) == 3
    deliveries = {r[1]["X-Peerloop-Delivery"] for r in receiver.requests}
    assert deliveries == {str(row["id"])}, "the same delivery id each time, for receivers"
    with w.engine.connect() as conn:
        log = conn.execute(sa.select(LOG.c.ok, LOG.c.detail).order_by(LOG.c.id)).all()
    assert [ok for ok, _ in log] == [False, False, True]
    assert log[0].detail.startswith("attempt 1 failed: WebhookDeliveryError: HTTP 503")


def test_while_the_target_is_down_nothing_is_lost(w: World) -> None:
    receiver = Receiver()
    url = receiver.url
    receiver.close()  # nobody listens there now
    add_webhook(w, "wh1", url)
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.clock.set(w.row(cycle.id, "reminder:0")["due_at"])
    w.sweeper().sweep()
    out = dispatcher(w, backoff=Backoff(first=timedelta(seconds=10)))
    assert out.dispatch().retrying == 1
    assert "Connection refused" in w.outbox(channel="webhook")[0]["last_error"]

    back = Receiver()
    try:
        with w.engine.begin() as conn:
            conn.execute(
                WebhookRow.__table__.update().where(WebhookRow.__table__.c.id == "wh1"),
                {"url": back.url},
            )
        w.clock.advance(timedelta(seconds=10))
        assert out.dispatch().sent == 1
        assert len(back.requests) == 1
    finally:
        back.close()


def test_a_switched_off_webhook_is_not_called(w: World, receiver: Receiver) -> None:
    add_webhook(w, "wh1", receiver.url)
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.clock.set(w.row(cycle.id, "reminder:0")["due_at"])
    w.sweeper().sweep()
    with w.engine.begin() as conn:
        conn.execute(WebhookRow.__table__.update().values(active=False))
    result = dispatcher(w).dispatch()
    assert result.retrying == 1 and "switched off" in result.errors[0]
    assert receiver.requests == []


def test_the_signature_is_hmac_sha256_over_timestamp_and_body() -> None:
    import hashlib
    import hmac

    body = b'{"event":"x"}'
    expected = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, "1700000000", body) == f"sha256={expected}"


def test_a_redirect_is_not_followed(w: World, receiver: Receiver) -> None:
    add_webhook(w, "wh1", receiver.url)
    receiver.status, receiver.location = 302, receiver.url.replace("/hooks/", "/elsewhere/")
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.clock.set(w.row(cycle.id, "reminder:0")["due_at"])
    w.sweeper().sweep()
    result = dispatcher(w).dispatch()
    assert (result.sent, result.retrying) == (0, 1)
    assert [path for path, _, _ in receiver.requests] == ["/hooks/peerloop"]  # not the second
    assert "redirect to" in w.outbox(channel="webhook")[0]["last_error"]


def test_a_webhook_to_a_private_address_is_refused_by_default(w: World, receiver: Receiver) -> None:
    add_webhook(w, "wh1", receiver.url)  # 127.0.0.1
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.clock.set(w.row(cycle.id, "reminder:0")["due_at"])
    w.sweeper().sweep()
    strict = WebhookSender(webhook_lookup(w.engine), w.clock.now, timeout=5)
    result = OutboxDispatcher(w.engine, {"webhook": strict}, w.clock.now).dispatch()
    assert result.sent == 0 and receiver.requests == []
    (row,) = w.outbox(channel="webhook")
    assert "127.0.0.1 is 127.0.0.1, which is not a public address" in row["last_error"]


def test_only_public_addresses_receive_webhooks() -> None:
    for url in (
        "http://10.0.0.5/hook",
        "http://192.168.1.20/hook",
        "http://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "http://[::1]:8000/hook",
        "http://localhost/hook",
        "http://100.64.0.1/hook",
    ):
        assert refused_address(url) is not None, url
    assert refused_address("https://93.184.216.34/hook") is None
    assert refused_address("http:///hook") == "it names no host"
