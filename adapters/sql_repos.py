"""SQL repositories for history, deadlines, templates, the directory and idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from adapters.tables import (
    CycleRow,
    DeadlineTableRow,
    GrantRow,
    HistoryRow,
    IdempotencyRow,
    NetworkRow,
    PersonRow,
    SchoolRow,
    TemplateRow,
)
from engine.directory import (
    Grant,
    HistoryEntry,
    IdempotencyRecord,
    Network,
    Person,
    School,
    StoredTemplate,
)
from engine.errors import Conflict, NotFound
from engine.ports import DeadlineRow

__all__ = [
    "SqlDeadlineRepository",
    "SqlDirectoryRepository",
    "SqlHistoryRepository",
    "SqlIdempotencyStore",
    "SqlTemplateRepository",
]

HISTORY = HistoryRow.__table__
CYCLE = CycleRow.__table__
DEADLINE = DeadlineTableRow.__table__
TEMPLATE = TemplateRow.__table__
NETWORK = NetworkRow.__table__
SCHOOL = SchoolRow.__table__
PERSON = PersonRow.__table__
GRANT = GrantRow.__table__
IDEMPOTENCY = IdempotencyRow.__table__


_ENTRY_COLUMNS = [c for c in HISTORY.c if c.name != "id"]
"""History's columns but its row id: HistoryEntry's fields, in the same order."""


class SqlHistoryRepository:
    """Reads history; entries are only ever inserted, by the cycle repository."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def for_cycle(self, cycle_id: str) -> list[HistoryEntry]:
        # Stored order (by row id), not by seq: reordered rows must show up as such.
        q = sa.select(HISTORY).where(HISTORY.c.cycle_id == cycle_id).order_by(HISTORY.c.id)
        return [
            HistoryEntry(**{k: v for k, v in r.items() if k != "id"})
            for r in self.conn.execute(q).mappings()
        ]

    def for_school(
        self,
        school_id: str,
        *,
        limit: int = 500,
        after: tuple[datetime, str, int] | None = None,
    ) -> list[HistoryEntry]:
        # One statement over the school's cycles (host_school_id's index, then each cycle's
        # rows by history's cycle_id index), rather than one query per cycle.
        q = (
            sa.select(*_ENTRY_COLUMNS)
            .join(CYCLE, CYCLE.c.id == HISTORY.c.cycle_id)
            .where(CYCLE.c.host_school_id == school_id)
        )
        if after is not None:
            at, cycle_id, seq = after
            q = q.where(
                sa.or_(
                    HISTORY.c.at > at,
                    sa.and_(HISTORY.c.at == at, HISTORY.c.cycle_id > cycle_id),
                    sa.and_(
                        HISTORY.c.at == at, HISTORY.c.cycle_id == cycle_id, HISTORY.c.seq > seq
                    ),
                )
            )
        q = q.order_by(HISTORY.c.at, HISTORY.c.cycle_id, HISTORY.c.seq).limit(limit)
        return [HistoryEntry(*r) for r in self.conn.execute(q)]

    def head(self, cycle_id: str) -> tuple[int, str] | None:
        row = self.conn.execute(
            sa.select(CYCLE.c.history_count, CYCLE.c.history_head).where(CYCLE.c.id == cycle_id)
        ).first()
        return (int(row[0]), str(row[1])) if row else None

    def cycle_ids(self) -> list[str]:
        ids = set(self.conn.execute(sa.select(CYCLE.c.id)).scalars())
        ids |= set(self.conn.execute(sa.select(HISTORY.c.cycle_id).distinct()).scalars())
        return sorted(ids)


def _deadline(r: Any) -> DeadlineRow:
    return DeadlineRow(
        id=r["id"],
        cycle_id=r["cycle_id"],
        stage=r["stage"],
        key=r["key"],
        kind=r["kind"],
        due_at=r["due_at"],
        stage_due_at=r["stage_due_at"],
        roles=tuple(r["roles"] or ()),
        transition=r["transition"],
        action_id=r["action_id"],
        status=r["status"],
        fired_at=r["fired_at"],
        note=r["note"],
    )


class SqlDeadlineRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def pending(
        self,
        *,
        cycle_id: str | None = None,
        due_before: datetime | None = None,
        limit: int | None = 500,
        after: tuple[datetime, int] | None = None,
    ) -> list[DeadlineRow]:
        q = sa.select(DEADLINE).where(DEADLINE.c.status == "pending")
        if cycle_id is not None:
            q = q.where(DEADLINE.c.cycle_id == cycle_id)
        if due_before is not None:
            q = q.where(DEADLINE.c.due_at < due_before)
        if after is not None:
            # `due_at >= x` bounds the range scan of (status, due_at); the OR only breaks ties.
            due_at, row_id = after
            q = q.where(
                DEADLINE.c.due_at >= due_at,
                sa.or_(DEADLINE.c.due_at > due_at, DEADLINE.c.id > row_id),
            )
        q = q.order_by(DEADLINE.c.due_at, DEADLINE.c.id).limit(limit)
        return [_deadline(r) for r in self.conn.execute(q).mappings()]

    def for_cycle(self, cycle_id: str) -> list[DeadlineRow]:
        q = sa.select(DEADLINE).where(DEADLINE.c.cycle_id == cycle_id).order_by(DEADLINE.c.id)
        return [_deadline(r) for r in self.conn.execute(q).mappings()]


def _template(r: Any) -> StoredTemplate:
    return StoredTemplate(
        template_id=r["template_id"],
        version=r["version"],
        title=r["title"],
        source=r["source"],
        source_format=cast(Literal["yaml", "json"], r["source_format"]),
        status=cast(Literal["draft", "published"], r["status"]),
        created_at=r["created_at"],
        published_at=r["published_at"],
        retired_at=r["retired_at"],
    )


class SqlTemplateRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def _row(self, template_id: str, version: int) -> Any:
        return (
            self.conn.execute(
                sa.select(TEMPLATE).where(
                    TEMPLATE.c.template_id == template_id, TEMPLATE.c.version == version
                )
            )
            .mappings()
            .first()
        )

    def add(self, stored: StoredTemplate) -> None:
        old = self._row(stored.template_id, stored.version)
        if old is not None and old["status"] == "published":
            raise Conflict(
                "template",
                f"{stored.template_id}@{stored.version}",
                f"version {stored.version} of {stored.template_id!r} is published and never "
                f"changes; upload it as version {self._next_version(stored.template_id)}",
            )
        values = {
            "title": stored.title,
            "source": stored.source,
            "source_format": stored.source_format,
            "status": stored.status,
            "created_at": stored.created_at,
            "published_at": stored.published_at,
        }
        if old is None:
            self.conn.execute(
                TEMPLATE.insert().values(
                    template_id=stored.template_id, version=stored.version, **values
                )
            )
        else:
            self.conn.execute(
                TEMPLATE.update()
                .where(
                    TEMPLATE.c.template_id == stored.template_id,
                    TEMPLATE.c.version == stored.version,
                    TEMPLATE.c.status == "draft",
                )
                .values(**values)
            )

    def _next_version(self, template_id: str) -> int:
        top = self.conn.execute(
            sa.select(sa.func.max(TEMPLATE.c.version)).where(TEMPLATE.c.template_id == template_id)
        ).scalar()
        return int(top or 0) + 1

    def get(self, template_id: str, version: int) -> StoredTemplate:
        row = self._row(template_id, version)
        if row is None:
            raise NotFound("template", f"{template_id}@{version}")
        return _template(row)

    def latest(self, template_id: str, *, published: bool = True) -> StoredTemplate:
        q = sa.select(TEMPLATE).where(TEMPLATE.c.template_id == template_id)
        if published:
            q = q.where(TEMPLATE.c.status == "published")
        row = self.conn.execute(q.order_by(TEMPLATE.c.version.desc()).limit(1)).mappings().first()
        if row is None:
            what = "published template" if published else "template"
            raise NotFound(what, template_id)
        return _template(row)

    def list(self) -> list[StoredTemplate]:
        q = sa.select(TEMPLATE).order_by(TEMPLATE.c.template_id, TEMPLATE.c.version)
        return [_template(r) for r in self.conn.execute(q).mappings()]

    def versions(self, template_id: str) -> list[StoredTemplate]:
        q = sa.select(TEMPLATE).where(TEMPLATE.c.template_id == template_id)
        return [_template(r) for r in self.conn.execute(q.order_by(TEMPLATE.c.version)).mappings()]

    def retire(self, template_id: str, version: int, at: datetime) -> StoredTemplate:
        self.conn.execute(
            TEMPLATE.update()
            .where(
                TEMPLATE.c.template_id == template_id,
                TEMPLATE.c.version == version,
                TEMPLATE.c.status == "published",
                TEMPLATE.c.retired_at.is_(None),
            )
            .values(retired_at=at)
        )
        return self.get(template_id, version)

    def remove_draft(self, template_id: str, version: int) -> None:
        gone = self.conn.execute(
            TEMPLATE.delete().where(
                TEMPLATE.c.template_id == template_id,
                TEMPLATE.c.version == version,
                TEMPLATE.c.status == "draft",
            )
        )
        if not gone.rowcount:
            raise NotFound("draft template", f"{template_id}@{version}")

    def publish(self, template_id: str, version: int, at: datetime) -> StoredTemplate:
        current = self.get(template_id, version)
        if current.status == "published":
            return current
        self.conn.execute(
            TEMPLATE.update()
            .where(TEMPLATE.c.template_id == template_id, TEMPLATE.c.version == version)
            .values(status="published", published_at=at)
        )
        return self.get(template_id, version)


class SqlDirectoryRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def _insert(self, table: sa.Table, kind: str, key: str, values: dict[str, Any]) -> None:
        # A savepoint keeps the surrounding unit of work usable after a duplicate.
        try:
            with self.conn.begin_nested():
                self.conn.execute(table.insert().values(**values))
        except IntegrityError as exc:
            raise Conflict(kind, key, f"{kind} {key!r} clashes with one already stored") from exc

    def _one(self, table: sa.Table, kind: str, key: str) -> Any:
        row = self.conn.execute(sa.select(table).where(table.c.id == key)).mappings().first()
        if row is None:
            raise NotFound(kind, key)
        return row

    def add_network(self, network: Network) -> None:
        self._insert(
            NETWORK,
            "network",
            network.id,
            {"id": network.id, "name": network.name, "chair_person_id": network.chair_person_id},
        )

    def get_network(self, network_id: str) -> Network:
        return Network(**self._one(NETWORK, "network", network_id))

    def networks(self) -> list[Network]:
        rows = self.conn.execute(sa.select(NETWORK).order_by(NETWORK.c.name)).mappings()
        return [Network(**r) for r in rows]

    def add_school(self, school: School) -> None:
        self._insert(
            SCHOOL,
            "school",
            school.id,
            {
                "id": school.id,
                "urn": school.urn,
                "name": school.name,
                "phase": school.phase,
                "network_id": school.network_id,
            },
        )

    def get_school(self, school_id: str) -> School:
        return School(**self._one(SCHOOL, "school", school_id))

    def schools(self, network_id: str | None = None) -> list[School]:
        q = sa.select(SCHOOL).order_by(SCHOOL.c.name)
        if network_id is not None:
            q = q.where(SCHOOL.c.network_id == network_id)
        return [School(**r) for r in self.conn.execute(q).mappings()]

    def add_person(self, person: Person) -> None:
        self._insert(
            PERSON,
            "person",
            person.id,
            {
                "id": person.id,
                "name": person.name,
                "email": person.email,
                "school_id": person.school_id,
            },
        )

    def get_person(self, person_id: str) -> Person:
        return Person(**self._one(PERSON, "person", person_id))

    def person_by_email(self, email: str) -> Person | None:
        q = sa.select(PERSON).where(sa.func.lower(PERSON.c.email) == email.strip().lower())
        row = self.conn.execute(q).mappings().first()
        return Person(**row) if row else None

    def people(self, school_id: str | None = None) -> list[Person]:
        q = sa.select(PERSON).order_by(PERSON.c.name)
        if school_id is not None:
            q = q.where(PERSON.c.school_id == school_id)
        return [Person(**r) for r in self.conn.execute(q).mappings()]

    def add_grant(self, grant: Grant) -> None:
        self._insert(
            GRANT,
            "grant",
            grant.id,
            {
                "id": grant.id,
                "person_id": grant.person_id,
                "role": grant.role,
                "scope_kind": grant.scope_kind,
                "scope_id": grant.scope_id,
                "granted_by": grant.granted_by,
                "granted_at": grant.granted_at,
            },
        )

    def grants_for(self, person_id: str) -> list[Grant]:
        q = sa.select(GRANT).where(GRANT.c.person_id == person_id).order_by(GRANT.c.id)
        return [Grant(**r) for r in self.conn.execute(q).mappings()]

    def remove_grant(self, grant_id: str) -> None:
        if self.conn.execute(GRANT.delete().where(GRANT.c.id == grant_id)).rowcount != 1:
            raise NotFound("grant", grant_id)

    def grants_with_roles(self, roles: frozenset[str]) -> list[Grant]:
        if not roles:
            return []
        q = sa.select(GRANT).where(GRANT.c.role.in_(sorted(roles))).order_by(GRANT.c.id)
        return [Grant(**r) for r in self.conn.execute(q).mappings()]


class SqlIdempotencyStore:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> IdempotencyRecord | None:
        row = (
            self.conn.execute(sa.select(IDEMPOTENCY).where(IDEMPOTENCY.c.key == key))
            .mappings()
            .first()
        )
        return IdempotencyRecord(**row) if row else None

    def put(self, record: IdempotencyRecord) -> None:
        """Store the outcome. Raises Conflict if a concurrent request stored the key first."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    IDEMPOTENCY.insert().values(
                        key=record.key,
                        request_digest=record.request_digest,
                        result=record.result,
                        created_at=record.created_at,
                    )
                )
        except IntegrityError as exc:
            raise Conflict("idempotency key", record.key, "the key is already stored") from exc
