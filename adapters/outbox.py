"""The transactional outbox: messages written in the caller's transaction, sent and retried later.

A message is written in the same transaction as the change that caused it, so it exists if and
only if the change was committed. The dispatcher sends pending messages through one sender per
channel, in three steps: lease a batch (short transaction), send outside any transaction, then
record each outcome with a line in the delivery log. A failed send is retried with exponential
backoff; a dispatcher that dies while sending leaves its lease to expire, and the message is
sent again (delivery is at least once: SMTP and HTTP cannot be made part of our transaction).
Every attempt has its line in the delivery log: one whose lease ran out without an outcome gets
its line when the message is leased again. A resent message keeps its identity
(`Outgoing.message_id`), so that a receiver can recognise the repeat.

Statuses: `pending` (waiting or between retries), `held` (waiting for the daily digest),
`sending` (leased), `sent`, `digested` (folded into a digest), `dead` (gave up).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from adapters.tables import DeliveryLogRow, OutboxRow

__all__ = [
    "Backoff",
    "DispatchResult",
    "Message",
    "OutboxDispatcher",
    "Outgoing",
    "Sender",
    "fold_digests",
    "outbox_counts",
    "write_messages",
]

OUTBOX = OutboxRow.__table__
LOG = DeliveryLogRow.__table__


@dataclass(frozen=True, slots=True)
class Message:
    """A notification to write to the outbox.

    Attributes:
        channel: `email` or `webhook`.
        recipient: an email address, or a webhook id.
        subject: a one-line summary (the email subject).
        body: the template name and its context (email), or the JSON document (webhook).
        dedupe_key: unique per message; writing the same key twice writes it once.
        hold: keep it for the recipient's daily digest instead of sending it now.
    """

    channel: str
    recipient: str
    subject: str
    body: Mapping[str, Any]
    dedupe_key: str
    hold: bool = False


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A leased outbox row, as handed to a sender."""

    id: int
    channel: str
    recipient: str
    subject: str
    body: Mapping[str, Any]
    attempts: int
    created_at: datetime | None = None

    def message_id(self, domain: str) -> str:
        """The same for every attempt at this message: from the row id and when the row was
        written (so that a database started afresh, whose ids begin again at 1, makes new
        ones), at the sender's domain, as in `<outbox.7.20261005080000@school.example>`."""
        written = ""
        if self.created_at is not None:
            at = self.created_at.astimezone(UTC) if self.created_at.tzinfo else self.created_at
            written = f".{at:%Y%m%d%H%M%S}"
        return f"<outbox.{self.id}{written}@{domain}>"


class Sender(Protocol):
    """Sends a batch of one channel's messages; returns None (sent) or the error, per message."""

    def __call__(self, batch: Sequence[Outgoing]) -> list[Exception | None]: ...


def _insert(conn: sa.Connection) -> Any:
    # ON CONFLICT DO NOTHING on the dedupe key: writing a message twice is harmless.
    if conn.dialect.name == "postgresql":
        return postgresql.insert(OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"])
    if conn.dialect.name == "sqlite":
        return sqlite.insert(OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return OUTBOX.insert()  # pragma: no cover - Peerloop runs on SQLite and PostgreSQL


def write_messages(conn: sa.Connection, messages: Iterable[Message], now: datetime) -> int:
    """Write messages in the caller's transaction (on its connection); returns how many given."""
    rows = [
        {
            "dedupe_key": m.dedupe_key[:200],
            "channel": m.channel,
            "recipient": m.recipient,
            "subject": m.subject[:300],
            "body": dict(m.body),
            "status": "held" if m.hold else "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "sent_at": None,
            "last_error": "",
        }
        for m in messages
    ]
    if rows:
        conn.execute(_insert(conn), rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff: `first` after the first failure, doubling up to `longest`.

    After `max_attempts` failed attempts the message is given up (`dead`), which with the
    defaults is about a day and a half of trying.
    """

    first: timedelta = timedelta(seconds=30)
    longest: timedelta = timedelta(hours=6)
    max_attempts: int = 12

    def after(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1-based)."""
        return min(self.first * (2 ** max(0, attempts - 1)), self.longest)


@dataclass(slots=True)
class DispatchResult:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def leased(self) -> int:
        return self.sent + self.retrying + self.dead


Clock = Callable[[], datetime]


class OutboxDispatcher:
    """Sends due outbox messages through the sender of each channel, and retries failures.

    Args:
        engine: the database.
        senders: one sender per channel (`email`, `webhook`).
        now: the clock.
        backoff: when to retry.
        lease: how long a leased message is left to one dispatcher before another may retry it.
    """

    def __init__(
        self,
        engine: Engine,
        senders: Mapping[str, Sender],
        now: Clock,
        *,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.engine = engine
        self.senders = dict(senders)
        self.now = now
        self.backoff = backoff or Backoff()
        self.lease = lease

    def dispatch(self, limit: int = 100) -> DispatchResult:
        """Send what is due now, one batch; the service calls this on a timer."""
        result = DispatchResult()
        batch = self._lease(self.now(), limit)
        if not batch:
            return result
        outcomes: dict[int, Exception | None] = {}
        by_channel: dict[str, list[Outgoing]] = {}
        for item in batch:
            by_channel.setdefault(item.channel, []).append(item)
        for channel, items in by_channel.items():
            sender = self.senders.get(channel)
            if sender is None:
                errors: list[Exception | None] = [
                    LookupError(f"no sender for channel {channel!r}")
                ] * len(items)
            else:
                try:
                    errors = sender(items)
                except Exception as exc:  # a sender bug must not lose the lease's outcome
                    errors = [exc] * len(items)
            outcomes.update({i.id: e for i, e in zip(items, errors, strict=True)})
        self._record(batch, outcomes, self.now(), result)
        return result

    def dispatch_all(self, limit: int = 100, max_batches: int = 100) -> DispatchResult:
        """Dispatch batches until nothing is due (or `max_batches`)."""
        total = DispatchResult()
        for _ in range(max_batches):
            r = self.dispatch(limit)
            total.sent += r.sent
            total.retrying += r.retrying
            total.dead += r.dead
            total.errors += r.errors
            if r.leased < limit:
                break
        return total

    def _lease(self, now: datetime, limit: int) -> list[Outgoing]:
        due = sa.and_(
            OUTBOX.c.status.in_(("pending", "sending")),
            OUTBOX.c.next_attempt_at <= now,
            # A channel without a sender (no mail server configured) keeps its messages.
            OUTBOX.c.channel.in_(sorted(self.senders)),
        )
        q = (
            sa.select(OUTBOX.c.id, OUTBOX.c.attempts)
            .where(due)
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            found = conn.execute(q.add_columns(OUTBOX.c.status)).all()
            if not found:
                return []
            ids = [r.id for r in found]
            lost = {r.id for r in found if r.status == "sending"}
            # The conditional update is the claim: only rows still due are taken (on SQLite
            # the write lock is held from BEGIN IMMEDIATE; on PostgreSQL the rows are locked),
            # and RETURNING says exactly which.
            rows = conn.execute(
                OUTBOX.update()
                .where(OUTBOX.c.id.in_(ids), due)
                .values(
                    status="sending",
                    attempts=OUTBOX.c.attempts + 1,
                    next_attempt_at=now + self.lease,
                )
                .returning(
                    OUTBOX.c.id,
                    OUTBOX.c.channel,
                    OUTBOX.c.recipient,
                    OUTBOX.c.subject,
                    OUTBOX.c.body,
                    OUTBOX.c.attempts,
                    OUTBOX.c.created_at,
                )
            ).all()
            out = [Outgoing(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]
            if lost:
                conn.execute(LOG.insert(), [_lost_attempt(o, now) for o in out if o.id in lost])
            return sorted(out, key=lambda o: o.id)

    def _record(
        self,
        batch: Sequence[Outgoing],
        outcomes: Mapping[int, Exception | None],
        now: datetime,
        result: DispatchResult,
    ) -> None:
        updates: list[dict[str, Any]] = []
        log: list[dict[str, Any]] = []
        for item in batch:
            error = outcomes.get(item.id)
            base = {"b_id": item.id, "b_attempts": item.attempts}
            if error is None:
                updates.append(
                    {**base, "status": "sent", "sent_at": now, "next_attempt_at": now,
                     "last_error": ""}
                )  # fmt: skip
                log.append(
                    {"outbox_id": item.id, "at": now, "ok": True,
                     "detail": f"attempt {item.attempts}: sent"}
                )  # fmt: skip
                result.sent += 1
                continue
            text = f"{type(error).__name__}: {error}"[:1000]
            if item.attempts >= self.backoff.max_attempts:
                status, retry_at, detail = "dead", now, "giving up"
                result.dead += 1
            else:
                status, retry_at = "pending", now + self.backoff.after(item.attempts)
                detail = f"retry at {retry_at.isoformat(timespec='seconds')}"
                result.retrying += 1
            result.errors.append(text)
            updates.append(
                {**base, "status": status, "sent_at": None, "next_attempt_at": retry_at,
                 "last_error": text}
            )  # fmt: skip
            log.append(
                {"outbox_id": item.id, "at": now, "ok": False,
                 "detail": f"attempt {item.attempts} failed: {text}; {detail}"}
            )  # fmt: skip
        stmt = (
            OUTBOX.update()
            .where(
                OUTBOX.c.id == sa.bindparam("b_id"),
                OUTBOX.c.status == "sending",
                # Still our lease: a message whose lease ran out may have been taken again.
                OUTBOX.c.attempts == sa.bindparam("b_attempts"),
            )
            .values(
                status=sa.bindparam("status"),
                sent_at=sa.bindparam("sent_at"),
                next_attempt_at=sa.bindparam("next_attempt_at"),
                last_error=sa.bindparam("last_error"),
            )
        )
        with self.engine.begin() as conn:
            conn.execute(stmt, updates)
            conn.execute(LOG.insert(), log)


def _lost_attempt(item: Outgoing, now: datetime) -> dict[str, Any]:
    """The delivery-log line of the attempt before this one, leased and never recorded: its
    dispatcher died or stalled, perhaps after sending."""
    detail = (
        f"attempt {item.attempts - 1}: no outcome recorded before its lease ran out (it may "
        "have been sent); sending again"
    )
    return {"outbox_id": item.id, "at": now, "ok": False, "detail": detail}


def fold_digests(
    conn: sa.Connection,
    now: datetime,
    build: Callable[[str, list[Mapping[str, Any]]], Message],
) -> int:
    """Fold each recipient's held messages into one digest message, in the caller's transaction.

    `build(recipient, bodies)` makes the digest. Returns how many digests were written.
    """
    held = conn.execute(
        sa.select(OUTBOX.c.id, OUTBOX.c.recipient, OUTBOX.c.subject, OUTBOX.c.body)
        .where(OUTBOX.c.status == "held", OUTBOX.c.channel == "email")
        .order_by(OUTBOX.c.recipient, OUTBOX.c.id)
    ).all()
    by_recipient: dict[str, list[Any]] = {}
    for r in held:
        by_recipient.setdefault(r.recipient, []).append(r)
    digests = []
    for recipient, rows in by_recipient.items():
        made = build(recipient, [{"subject": r.subject, **r.body} for r in rows])
        # Keyed by the first message folded in, so a second digest on the same day (after
        # more reminders came in) is a new message, and a repeated fold is not.
        digests.append(dataclasses.replace(made, dedupe_key=f"digest:{recipient}:{rows[0].id}"))
    write_messages(conn, digests, now)
    if held:
        conn.execute(
            OUTBOX.update()
            .where(OUTBOX.c.id.in_([r.id for r in held]), OUTBOX.c.status == "held")
            .values(status="digested", sent_at=now)
        )
    return len(digests)


def outbox_counts(conn: sa.Connection) -> dict[str, int]:
    """Messages by status, for /health and the CLI."""
    q = sa.select(OUTBOX.c.status, sa.func.count()).group_by(OUTBOX.c.status)
    return {str(s): int(n) for s, n in conn.execute(q).all()}
