"""Email through the outbox to a real SMTP server (aiosmtpd) started by the test.

One message per recipient; while the server is down nothing is lost: the outbox retries with
backoff and the delivery log shows every attempt. Time is the fixed clock, moved by hand.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine

from adapters.notify_email import MailTemplates, SmtpSender, digest_message
from adapters.outbox import Backoff, OutboxDispatcher, fold_digests, write_messages
from adapters.tables import DeliveryLogRow
from service.jobs import MAIL_TEMPLATES
from tests.integration.test_deadlines_sweep import LEAD, World, make_world

LOG = DeliveryLogRow.__table__


@pytest.fixture
def w(sqlite_engine: Engine) -> World:
    return make_world(sqlite_engine)


@pytest.fixture(params=["sqlite", "postgres"])
def w_any(request: pytest.FixtureRequest) -> World:
    """On both databases: where the outbox's SQL differs between them (leasing)."""
    return make_world(request.getfixturevalue(f"{request.param.replace('postgres', 'pg')}_engine"))


class Inbox:
    """Collects what the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


def dispatcher(w: World, smtp: SmtpServer, **kw: Any) -> OutboxDispatcher:
    sender = SmtpSender(
        "127.0.0.1", smtp.port, "peerloop@example.org", MailTemplates(MAIL_TEMPLATES)
    )
    return OutboxDispatcher(w.engine, {"email": sender}, w.clock.now, **kw)


def delivery_log(w: World) -> list[dict[str, Any]]:
    with w.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(LOG).order_by(LOG.c.id)).mappings()]


def remind(w: World) -> str:
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.clock.set(w.row(cycle.id, "reminder:0")["due_at"])
    w.sweeper().sweep()
    return cycle.id


def test_a_reminder_is_mailed_once_to_each_recipient(w: World, smtp: SmtpServer) -> None:
    smtp.start()
    remind(w)
    result = dispatcher(w, smtp).dispatch()
    assert (result.sent, result.retrying) == (2, 0)
    inbox = smtp.inbox
    assert sorted(rcpt for _, rcpts in inbox.envelopes for rcpt in rcpts) == [
        "p_head_a@example.org",
        "p_pl@example.org",
    ], "one message per recipient: nobody sees who else was told"
    by_to = {str(m["To"]): m for m in inbox.messages}
    head = by_to["Ada Head <p_head_a@example.org>"]
    assert head["Subject"] == "Reminder: Self-review for School A is due Mon 19 Oct 09:00"
    assert head["From"] == "peerloop@example.org"
    body = head.get_content().replace("\r\n", "\n")
    assert body.startswith("Dear Ada Head,\n")
    assert "Self-review for School A is due on Monday 19 October 2026 at 09:00." in body
    assert "late by" not in body
    assert {m["status"] for m in w.outbox()} == {"sent"}
    assert [(e["ok"], e["detail"]) for e in delivery_log(w)] == [(True, "attempt 1: sent")] * 2
    assert dispatcher(w, smtp).dispatch().leased == 0, "sent once"
    assert len(inbox.messages) == 2


def test_while_the_mail_server_is_down_nothing_is_lost(w_any: World, smtp: SmtpServer) -> None:
    w = w_any
    remind(w)
    out = dispatcher(w, smtp, backoff=Backoff(first=timedelta(seconds=30)))

    first = out.dispatch()
    assert (first.sent, first.retrying) == (0, 2)
    rows = w.outbox()
    assert {(r["status"], r["attempts"]) for r in rows} == {("pending", 1)}
    assert {r["next_attempt_at"] for r in rows} == {w.clock.now() + timedelta(seconds=30)}
    assert "ConnectionRefusedError" in rows[0]["last_error"]
    assert out.dispatch().leased == 0, "not before its retry time"

    w.clock.advance(timedelta(seconds=30))
    assert out.dispatch().retrying == 2
    assert {r["next_attempt_at"] for r in w.outbox()} == {w.clock.now() + timedelta(seconds=60)}

    smtp.start()
    w.clock.advance(timedelta(seconds=60))
    assert out.dispatch().sent == 2
    assert len(smtp.inbox.messages) == 2
    assert {(r["status"], r["attempts"], r["last_error"]) for r in w.outbox()} == {("sent", 3, "")}
    log = delivery_log(w)
    per_message = {}
    for entry in log:
        per_message.setdefault(entry["outbox_id"], []).append(entry)
    for entries in per_message.values():
        assert [e["ok"] for e in entries] == [False, False, True]
        assert entries[0]["detail"].startswith("attempt 1 failed: ConnectionRefusedError")
        assert entries[0]["detail"].endswith("retry at 2026-10-05T08:00:30+00:00")
        assert entries[2]["detail"] == "attempt 3: sent"


def test_a_message_is_given_up_after_its_last_attempt(w: World, smtp: SmtpServer) -> None:
    remind(w)
    out = dispatcher(w, smtp, backoff=Backoff(first=timedelta(seconds=1), max_attempts=2))
    out.dispatch()
    w.clock.advance(timedelta(seconds=1))
    assert out.dispatch().dead == 2
    assert {r["status"] for r in w.outbox()} == {"dead"}
    assert delivery_log(w)[-1]["detail"].endswith("giving up")


def test_a_dispatcher_that_died_while_sending_is_covered_by_its_lease(
    w_any: World, smtp: SmtpServer
) -> None:
    w = w_any
    smtp.start()
    remind(w)
    out = dispatcher(w, smtp, lease=timedelta(minutes=5))
    leased = out._lease(w.clock.now(), 100)  # ...and the process dies before sending
    assert len(leased) == 2
    assert out.dispatch().leased == 0, "leased messages are left alone"
    w.clock.advance(timedelta(minutes=5))
    assert out.dispatch().sent == 2
    assert {r["attempts"] for r in w.outbox()} == {2}


def test_email_waits_in_the_outbox_when_no_mail_server_is_configured(w: World) -> None:
    remind(w)
    out = OutboxDispatcher(w.engine, {}, w.clock.now)
    assert out.dispatch().leased == 0
    assert {(r["status"], r["attempts"]) for r in w.outbox()} == {("pending", 0)}


def test_the_daily_digest_gathers_a_persons_reminders(w: World, smtp: SmtpServer) -> None:
    smtp.start()
    first = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.clock.set(w.row(first.id, "reminder:0")["due_at"])
    w.sweeper(digest=True).sweep()
    assert {r["status"] for r in w.outbox()} == {"held"}
    assert dispatcher(w, smtp).dispatch().leased == 0, "held for the digest"

    with w.engine.begin() as conn:
        n = fold_digests(
            conn, w.clock.now(), lambda who, items: digest_message(who, items, "2026-10-05")
        )
    assert n == 2
    with w.engine.begin() as conn:  # folding again finds nothing held
        assert fold_digests(conn, w.clock.now(), lambda *a: pytest.fail("nothing to fold")) == 0
    assert dispatcher(w, smtp).dispatch().sent == 2
    assert len(smtp.inbox.messages) == 2
    head = next(m for m in smtp.inbox.messages if "p_head_a" in str(m["To"]))
    assert head["Subject"] == "Peerloop: your digest for 2026-10-05 (2 items)"
    body = head.get_content().replace("\r\n", "\n")
    assert body.count("* Reminder: Self-review for School A is due Mon 19 Oct 09:00") == 2
    assert "Due Monday 19 October 2026 at 09:00" in body
    assert sorted({r["status"] for r in w.outbox()}) == ["digested", "sent"]


def test_writing_the_same_message_twice_writes_it_once(w: World) -> None:
    from adapters.outbox import Message

    m = Message("email", "a@example.org", "Hello", {"template": "reminder"}, "same-key")
    with w.engine.begin() as conn:
        write_messages(conn, [m], w.clock.now())
        write_messages(conn, [m], w.clock.now())
    assert len(w.outbox()) == 1
