"""People's inboxes in SQL: notices delivered to the inbox and, by preference, to the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.outbox import Message, write_messages
from adapters.tables import NotificationPreferenceRow, NotificationRow, PersonRow
from engine.notices import EMAIL_PREFERENCES, EmailPreference, Notice, Notification

__all__ = ["SqlInboxRepository", "notice_email"]

N = NotificationRow.__table__
PREF = NotificationPreferenceRow.__table__
PERSON = PersonRow.__table__


def notice_email(
    notice: Notice, name: str, email: str, preference: EmailPreference
) -> Message | None:
    """The email a notice becomes for a person with that preference (None: no email)."""
    if preference == "off":
        return None
    return Message(
        channel="email",
        recipient=email,
        subject=notice.subject,
        body={
            "template": "notice",
            "person_id": notice.person_id,
            "name": name,
            "context": {
                "name": name,
                "text": notice.text,
                "link": notice.link,
                "kind": notice.kind,
                "cycle_id": notice.cycle_id or "",
            },
        },
        dedupe_key=f"notice:{notice.dedupe_key}",
        hold=preference == "daily" and not notice.urgent,
    )


def _insert_new(conn: sa.Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(N).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return sqlite.insert(N).on_conflict_do_nothing(index_elements=["dedupe_key"])


class SqlInboxRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def deliver(self, notices: Sequence[Notice], now: datetime) -> int:
        if not notices:
            return 0
        people = {n.person_id for n in notices}
        found = self.conn.execute(
            sa.select(PERSON.c.id, PERSON.c.name, PERSON.c.email, PREF.c.email.label("pref"))
            .join_from(PERSON, PREF, PREF.c.person_id == PERSON.c.id, isouter=True)
            .where(PERSON.c.id.in_(sorted(people)))
        ).all()
        who = {r.id: r for r in found}
        new = 0
        mail: list[Message] = []
        insert = _insert_new(self.conn)
        for n in notices:
            person = who.get(n.person_id)
            if person is None:
                continue  # removed since the act: nobody to tell
            row = {
                "id": f"ntc_{uuid.uuid4().hex[:20]}",
                "person_id": n.person_id,
                "kind": n.kind[:32],
                "subject": n.subject[:300],
                "text": n.text,
                "cycle_id": n.cycle_id,
                "link": n.link[:500],
                "dedupe_key": n.dedupe_key[:200],
                "created_at": now,
                "read_at": None,
            }
            if self.conn.execute(insert, row).rowcount != 1:
                continue
            new += 1
            message = notice_email(n, person.name, person.email, person.pref or "immediate")
            if message is not None:
                mail.append(message)
        write_messages(self.conn, mail, now)
        return new

    def for_person(
        self, person_id: str, *, unread_only: bool = False, limit: int = 50
    ) -> list[Notification]:
        q = sa.select(N).where(N.c.person_id == person_id)
        if unread_only:
            q = q.where(N.c.read_at.is_(None))
        q = q.order_by(N.c.created_at.desc(), N.c.id.desc()).limit(limit)
        return [
            Notification(
                r.id,
                r.person_id,
                r.kind,
                r.subject,
                r.text,
                r.cycle_id,
                r.link,
                r.created_at,
                r.read_at,
            )
            for r in self.conn.execute(q)
        ]

    def unread_count(self, person_id: str) -> int:
        q = sa.select(sa.func.count()).select_from(N)
        q = q.where(N.c.person_id == person_id, N.c.read_at.is_(None))
        return int(self.conn.execute(q).scalar() or 0)

    def mark_read(self, person_id: str, ids: frozenset[str] | None, at: datetime) -> int:
        u = N.update().where(N.c.person_id == person_id, N.c.read_at.is_(None))
        if ids is not None:
            if not ids:
                return 0
            u = u.where(N.c.id.in_(sorted(ids)))
        return int(self.conn.execute(u.values(read_at=at)).rowcount)

    def preference(self, person_id: str) -> EmailPreference:
        value = self.conn.execute(
            sa.select(PREF.c.email).where(PREF.c.person_id == person_id)
        ).scalar()
        return cast(EmailPreference, value) if value in EMAIL_PREFERENCES else "immediate"

    def set_preference(self, person_id: str, email: EmailPreference, at: datetime) -> None:
        values = {"person_id": person_id, "email": email, "updated_at": at}
        if self.conn.dialect.name == "postgresql":
            stmt: Any = postgresql.insert(PREF).values(**values)
        else:
            stmt = sqlite.insert(PREF).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["person_id"], set_={"email": email, "updated_at": at}
        )
        self.conn.execute(stmt)


def inbox_copies(conn: sa.Connection, messages: Sequence[Message], now: datetime) -> int:
    """Put a copy of each person's email from the deadline sweep (reminders, overdue notices,
    escalations) in their inbox too, in the caller's transaction, so that it is seen where
    nobody reads mail. Returns how many were given (a copy delivered before is skipped)."""
    rows = []
    for m in messages:
        person = m.body.get("person_id") if m.channel == "email" else None
        if not person:
            continue
        context = m.body.get("context", {})
        cycle_id = context.get("cycle_id") or None
        rows.append(
            {
                "id": f"ntc_{uuid.uuid4().hex[:20]}",
                "person_id": person,
                "kind": str(m.body.get("template", "reminder"))[:32],
                "subject": m.subject[:300],
                "text": _sweep_text(m.subject, context),
                "cycle_id": cycle_id,
                "link": f"/app/cycles/{cycle_id}" if cycle_id else "/app",
                "dedupe_key": f"inbox:{m.dedupe_key}"[:200],
                "created_at": now,
                "read_at": None,
            }
        )
    if rows:
        # One statement for the batch, as the outbox writes its messages.
        conn.execute(_insert_new(conn), rows)
    return len(rows)


def _sweep_text(subject: str, context: Any) -> str:
    reasons = context.get("reasons") or []
    if reasons:
        return f"{subject}. What stands in the way: {'; '.join(reasons)}."
    if context.get("action_title"):
        return f"{subject}. Owner: {context.get('action_owner', '')}."
    stage, due = context.get("stage_title", "The stage"), context.get("due_local", "")
    return f"{subject}. {stage} is due {due}."
