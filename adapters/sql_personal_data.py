"""A person's personal data, wherever the SQL store keeps it: erased in one transaction."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from adapters.tables import (
    ApiTokenRow,
    CalendarFeedLinkRow,
    GrantRow,
    NotificationPreferenceRow,
    NotificationRow,
    OutboxRow,
    PasswordRow,
    PersonErasureRow,
    PersonRow,
)
from engine.directory import Person, PersonErasure

__all__ = ["ERASED_ADDRESS", "SqlPersonalData"]

PERSON = PersonRow.__table__
GRANT = GrantRow.__table__
TOKEN = ApiTokenRow.__table__
PASSWORD = PasswordRow.__table__
NOTIFICATION = NotificationRow.__table__
PREFERENCE = NotificationPreferenceRow.__table__
FEED_LINK = CalendarFeedLinkRow.__table__
OUTBOX = OutboxRow.__table__
ERASURE = PersonErasureRow.__table__

ERASED_ADDRESS = "(erased)"
"""What an email sent to an erased person names as its recipient."""


class SqlPersonalData:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def erase(self, person: Person, placeholder: Person, at: datetime) -> dict[str, int]:
        run = self.conn.execute
        removed: dict[str, int] = {}
        removed["grants"] = run(GRANT.delete().where(GRANT.c.person_id == person.id)).rowcount
        removed["password"] = run(
            PASSWORD.delete().where(PASSWORD.c.person_id == person.id)
        ).rowcount
        live = sa.and_(TOKEN.c.person_id == person.id, TOKEN.c.revoked_at.is_(None))
        removed["tokens"] = run(TOKEN.update().where(live).values(revoked_at=at)).rowcount
        removed["notifications"] = run(
            NOTIFICATION.delete().where(NOTIFICATION.c.person_id == person.id)
        ).rowcount
        run(PREFERENCE.delete().where(PREFERENCE.c.person_id == person.id))
        removed["calendar_link"] = run(
            FEED_LINK.delete().where(FEED_LINK.c.person_id == person.id)
        ).rowcount
        to_them = OUTBOX.c.recipient == person.email
        removed["mail_unsent"] = run(
            OUTBOX.delete().where(to_them, OUTBOX.c.status != "sent")
        ).rowcount
        removed["mail_sent"] = run(
            OUTBOX.update().where(to_them).values(recipient=ERASED_ADDRESS, body={})
        ).rowcount
        # Others were told what they did, by name: the name goes from what others read.
        named = 0
        if person.name.strip():
            for column in (NOTIFICATION.c.subject, NOTIFICATION.c.text):
                named += run(
                    NOTIFICATION.update()
                    .where(column.contains(person.name, autoescape=True))
                    .values({column.key: sa.func.replace(column, person.name, placeholder.name)})
                ).rowcount
        removed["named_in_notices"] = named
        run(
            PERSON.update()
            .where(PERSON.c.id == person.id)
            .values(name=placeholder.name, email=placeholder.email, school_id=placeholder.school_id)
        )
        return removed

    def record(self, erasure: PersonErasure) -> None:
        self.conn.execute(
            ERASURE.insert().values(
                person_id=erasure.person_id,
                asked_by=erasure.asked_by,
                reason=erasure.reason,
                erased_by=erasure.erased_by,
                at=erasure.at,
                removed=dict(erasure.removed),
            )
        )

    def erasures(self) -> list[PersonErasure]:
        q = sa.select(ERASURE).order_by(ERASURE.c.at, ERASURE.c.id)
        return [
            PersonErasure(
                r["person_id"], r["asked_by"], r["reason"], r["erased_by"], r["at"], r["removed"]
            )
            for r in self.conn.execute(q).mappings()
        ]
