"""SQL repositories for access: API tokens, password hashes, report shares and break-glass
openings (Core statements)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from adapters.tables import ApiTokenRow, BreakGlassRow, ContentReadRow, PasswordRow, ReportShareRow
from engine.directory import ApiToken, BreakGlass, ContentRead, ReportShare, ShareGranteeKind
from engine.errors import Conflict, NotFound

__all__ = ["SqlBreakGlassRepository", "SqlCredentialRepository", "SqlShareRepository"]

TOKEN = ApiTokenRow.__table__
PASSWORD = PasswordRow.__table__
SHARE = ReportShareRow.__table__
BREAK_GLASS = BreakGlassRow.__table__
CONTENT_READ = ContentReadRow.__table__

# Looked up on every authenticated request: built once.
_Q_TOKEN_BY_HASH = sa.select(TOKEN).where(TOKEN.c.token_hash == sa.bindparam("h"))


def _token(r: Any) -> ApiToken:
    return ApiToken(**r)


def _share(r: Any) -> ReportShare:
    return ReportShare(
        id=r["id"],
        cycle_id=r["cycle_id"],
        grantee_kind=cast(ShareGranteeKind, r["grantee_kind"]),
        grantee_id=r["grantee_id"],
        shared_by=r["shared_by"],
        shared_at=r["shared_at"],
        revoked_at=r["revoked_at"],
    )


class SqlCredentialRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add_token(self, token: ApiToken) -> None:
        self.conn.execute(
            TOKEN.insert().values(
                id=token.id,
                person_id=token.person_id,
                name=token.name,
                token_hash=token.token_hash,
                created_at=token.created_at,
                expires_at=token.expires_at,
                revoked_at=token.revoked_at,
                last_used_at=token.last_used_at,
                issued_by=token.issued_by,
            )
        )

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self.conn.execute(_Q_TOKEN_BY_HASH, {"h": token_hash}).mappings().first()
        return _token(row) if row else None

    def get_token(self, token_id: str) -> ApiToken:
        row = self.conn.execute(sa.select(TOKEN).where(TOKEN.c.id == token_id)).mappings().first()
        if row is None:
            raise NotFound("token", token_id)
        return _token(row)

    def tokens(self, person_id: str | None = None) -> list[ApiToken]:
        q = sa.select(TOKEN).order_by(TOKEN.c.created_at, TOKEN.c.id)
        if person_id is not None:
            q = q.where(TOKEN.c.person_id == person_id)
        return [_token(r) for r in self.conn.execute(q).mappings()]

    def revoke_token(self, token_id: str, at: datetime) -> ApiToken:
        self.conn.execute(
            TOKEN.update()
            .where(TOKEN.c.id == token_id, TOKEN.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return self.get_token(token_id)

    def touch_token(self, token_id: str, at: datetime) -> None:
        self.conn.execute(TOKEN.update().where(TOKEN.c.id == token_id).values(last_used_at=at))

    def set_password(self, person_id: str, password_hash: str, at: datetime) -> None:
        done = self.conn.execute(
            PASSWORD.update()
            .where(PASSWORD.c.person_id == person_id)
            .values(hash=password_hash, changed_at=at)
        )
        if done.rowcount == 0:
            self.conn.execute(
                PASSWORD.insert().values(person_id=person_id, hash=password_hash, changed_at=at)
            )

    def password_hash(self, person_id: str) -> str | None:
        q = sa.select(PASSWORD.c.hash).where(PASSWORD.c.person_id == person_id)
        value = self.conn.execute(q).scalar()
        return None if value is None else str(value)


class SqlShareRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, share: ReportShare) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    SHARE.insert().values(
                        id=share.id,
                        cycle_id=share.cycle_id,
                        grantee_kind=share.grantee_kind,
                        grantee_id=share.grantee_id,
                        shared_by=share.shared_by,
                        shared_at=share.shared_at,
                        revoked_at=share.revoked_at,
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict("share", share.id, f"share {share.id!r} clashes") from exc

    def get(self, share_id: str) -> ReportShare:
        row = self.conn.execute(sa.select(SHARE).where(SHARE.c.id == share_id)).mappings().first()
        if row is None:
            raise NotFound("share", share_id)
        return _share(row)

    def for_cycle(self, cycle_id: str, *, active: bool = True) -> list[ReportShare]:
        q = sa.select(SHARE).where(SHARE.c.cycle_id == cycle_id)
        if active:
            q = q.where(SHARE.c.revoked_at.is_(None))
        q = q.order_by(SHARE.c.shared_at, SHARE.c.id)
        return [_share(r) for r in self.conn.execute(q).mappings()]

    def for_cycles(self, cycle_ids: Iterable[str]) -> dict[str, list[ReportShare]]:
        wanted = sorted(set(cycle_ids))
        found: dict[str, list[ReportShare]] = {cid: [] for cid in wanted}
        if not wanted:
            return found
        q = (
            sa.select(SHARE)
            .where(SHARE.c.cycle_id.in_(wanted), SHARE.c.revoked_at.is_(None))
            .order_by(SHARE.c.shared_at, SHARE.c.id)
        )
        for r in self.conn.execute(q).mappings():
            found[r["cycle_id"]].append(_share(r))
        return found

    def revoke(self, share_id: str, at: datetime) -> ReportShare:
        self.conn.execute(
            SHARE.update()
            .where(SHARE.c.id == share_id, SHARE.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return self.get(share_id)

    def cycles_shared_with(
        self, person_id: str, school_ids: frozenset[str], network_ids: frozenset[str]
    ) -> set[str]:
        who = [sa.and_(SHARE.c.grantee_kind == "person", SHARE.c.grantee_id == person_id)]
        if school_ids:
            who.append(
                sa.and_(SHARE.c.grantee_kind == "school", SHARE.c.grantee_id.in_(school_ids))
            )
        if network_ids:
            who.append(
                sa.and_(SHARE.c.grantee_kind == "network", SHARE.c.grantee_id.in_(network_ids))
            )
        q = sa.select(SHARE.c.cycle_id).where(SHARE.c.revoked_at.is_(None), sa.or_(*who))
        return set(self.conn.execute(q).scalars())


class SqlBreakGlassRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, opening: BreakGlass) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    BREAK_GLASS.insert().values(
                        id=opening.id,
                        cycle_id=opening.cycle_id,
                        person_id=opening.person_id,
                        reason=opening.reason,
                        opened_at=opening.opened_at,
                        until=opening.until,
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                "break-glass", opening.id, f"break-glass {opening.id!r} clashes"
            ) from exc

    def for_cycle(self, cycle_id: str) -> list[BreakGlass]:
        q = (
            sa.select(BREAK_GLASS)
            .where(BREAK_GLASS.c.cycle_id == cycle_id)
            .order_by(BREAK_GLASS.c.opened_at, BREAK_GLASS.c.id)
        )
        return [BreakGlass(**r) for r in self.conn.execute(q).mappings()]


class SqlReadLog:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, reads: Sequence[ContentRead]) -> None:
        if reads:
            self.conn.execute(
                CONTENT_READ.insert(),
                [
                    {
                        "cycle_id": r.cycle_id,
                        "person_id": r.person_id,
                        "section": r.section,
                        "grounds": r.grounds,
                        "at": r.at,
                        "issued_by": r.issued_by,
                    }
                    for r in reads
                ],
            )

    def for_cycle(self, cycle_id: str) -> list[ContentRead]:
        q = (
            sa.select(CONTENT_READ)
            .where(CONTENT_READ.c.cycle_id == cycle_id)
            .order_by(CONTENT_READ.c.at, CONTENT_READ.c.id)
        )
        return [
            ContentRead(
                r["cycle_id"], r["person_id"], r["section"], r["grounds"], r["at"], r["issued_by"]
            )
            for r in self.conn.execute(q).mappings()
        ]
