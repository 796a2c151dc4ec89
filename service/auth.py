"""Authentication: bearer API tokens (random secrets, stored only as sha256), argon2 passwords."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.access import Principal
from engine.directory import ApiToken
from engine.ports import UnitOfWork

__all__ = [
    "TOKEN_PREFIX",
    "Principal",
    "Unauthenticated",
    "authenticate",
    "check_password",
    "hash_password",
    "hash_secret",
    "issue_token",
]

TOKEN_PREFIX = "plt_"  # noqa: S105 - a public prefix, not a secret
"""Every secret starts so, which lets secret scanners recognise leaked Peerloop tokens."""

_TOUCH_EVERY = timedelta(minutes=10)
"""How stale `last_used_at` may get: writing it on every request would make reads write."""

_hasher = PasswordHasher()
# Verified against when the email is unknown, so that a failed login takes as long either way.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Unauthenticated(Exception):
    """No usable credentials; `detail` says which problem without saying whose token it was."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def hash_secret(secret: str) -> str:
    """The stored form of a token secret. Secrets are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    uow: UnitOfWork, person_id: str, name: str, now: datetime, expires_at: datetime | None
) -> tuple[ApiToken, str]:
    """Create a token for the person; returns it with its secret, which is never stored."""
    uow.directory.get_person(person_id)  # NotFound for an unknown person
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=f"tok_{secrets.token_hex(10)}",
        person_id=person_id,
        name=name,
        token_hash=hash_secret(secret),
        created_at=now,
        expires_at=expires_at,
    )
    uow.credentials.add_token(token)
    return token, secret


def authenticate(
    uow: UnitOfWork, authorization: str | None, now: datetime
) -> tuple[Principal, bool]:
    """The principal for an `Authorization: Bearer <secret>` header value, and whether the
    token's `last_used_at` is due an update (done apart, so that checking a token never writes).

    Raises:
        Unauthenticated: no header, not a bearer token, unknown, revoked or expired.
    """
    if not authorization:
        raise Unauthenticated("this needs a bearer token (Authorization: Bearer <token>)")
    scheme, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthenticated("the Authorization header must be `Bearer <token>`")
    token = uow.credentials.token_by_hash(hash_secret(secret))
    if token is None:
        raise Unauthenticated("the token is not valid")
    if token.revoked_at is not None:
        raise Unauthenticated("the token has been revoked")
    if token.expires_at is not None and now >= token.expires_at:
        raise Unauthenticated("the token has expired")
    person = uow.directory.get_person(token.person_id)
    grants = tuple(uow.directory.grants_for(person.id))
    due = token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY
    return Principal(person, grants, token.id), due


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches; takes as long when there is no stored hash."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
