"""SQL repository for calendar-feed links (Core statements; the secret's hash is the key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.tables import CalendarFeedLinkRow, PersonRow
from engine.errors import NotFound
from engine.ports import FeedLink

__all__ = ["SqlFeedLinkRepository"]

LINK = CalendarFeedLinkRow.__table__
PERSON = PersonRow.__table__

# Looked up on every calendar app's poll: built once.
_Q_BY_HASH = sa.select(LINK).where(LINK.c.secret_hash == sa.bindparam("h"))


def _link(r: Any) -> FeedLink:
    return FeedLink(
        person_id=r["person_id"],
        secret_hash=r["secret_hash"],
        created_at=r["created_at"],
        last_used_at=r["last_used_at"],
    )


class SqlFeedLinkRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def put(self, link: FeedLink) -> None:
        known = sa.select(PERSON.c.id).where(PERSON.c.id == link.person_id)
        if self.conn.execute(known).first() is None:
            raise NotFound("person", link.person_id)
        values = {
            "secret_hash": link.secret_hash,
            "created_at": link.created_at,
            "last_used_at": link.last_used_at,
        }
        # One statement, so that two requests making a link at once cannot both insert.
        if self.conn.dialect.name == "postgresql":
            stmt: Any = postgresql.insert(LINK)
        else:
            stmt = sqlite.insert(LINK)
        stmt = stmt.values(person_id=link.person_id, **values).on_conflict_do_update(
            index_elements=["person_id"], set_=values
        )
        self.conn.execute(stmt)

    def for_person(self, person_id: str) -> FeedLink | None:
        q = sa.select(LINK).where(LINK.c.person_id == person_id)
        row = self.conn.execute(q).mappings().first()
        return _link(row) if row else None

    def by_hash(self, secret_hash: str) -> FeedLink | None:
        row = self.conn.execute(_Q_BY_HASH, {"h": secret_hash}).mappings().first()
        return _link(row) if row else None

    def remove(self, person_id: str) -> bool:
        done = self.conn.execute(LINK.delete().where(LINK.c.person_id == person_id))
        return bool(done.rowcount)

    def touch(self, secret_hash: str, at: datetime) -> None:
        self.conn.execute(
            LINK.update().where(LINK.c.secret_hash == secret_hash).values(last_used_at=at)
        )
