"""Authentication: bearer API tokens (random secrets, stored only as sha256), argon2 passwords,
and the slowing down of password guessing."""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.access import Principal
from engine.directory import ApiToken
from engine.ports import UnitOfWork

__all__ = [
    "TOKEN_PREFIX",
    "Principal",
    "SignInThrottle",
    "TooManyAttempts",
    "Unauthenticated",
    "authenticate",
    "check_password",
    "hash_password",
    "hash_secret",
    "issue_token",
    "normalise_email",
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


class TooManyAttempts(Unauthenticated):
    """Too many wrong passwords lately: this sign-in was not even checked.

    `retry_after_seconds` says when to try again (at least 1). A subclass of `Unauthenticated`,
    so that a door that only knows that one still refuses the sign-in.
    """

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        wait = f"{retry_after_seconds} second{'s' * (retry_after_seconds != 1)}"
        super().__init__(f"too many failed sign-ins: try again in {wait}")


def normalise_email(email: str) -> str:
    """An email address in the one form it is stored and looked up in: Unicode NFKC (so that
    `é` typed as one character or as `e` and an accent, or fullwidth letters, are the same
    address), without surrounding spaces. Comparisons also ignore case."""
    return unicodedata.normalize("NFKC", email).strip()


@dataclass(frozen=True, slots=True)
class _Limit:
    """`free` failures are let through; each one after waits `first`, doubling up to `longest`."""

    free: int
    first: timedelta
    longest: timedelta

    def wait(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        return min(self.first * 2 ** (failures - self.free), self.longest)


@dataclass(slots=True)
class _Failures:
    count: int
    last: datetime


class SignInThrottle:
    """Slows down password guessing, per account and per client address, in this process.

    Three counts of recent failures, each forgotten after `quiet` without a failure:

    - an account from one address (`pair`): 5 failures, then each attempt waits 1 s, doubling
      up to 15 minutes. This is what stops a guesser;
    - an account from anywhere (`account`): 20 failures, then waits doubling up to 1 minute
      only, so that someone guessing from many addresses cannot keep the real person out;
    - an address, whatever the account (`address`): 100 failures (password spraying), then
      waits doubling up to 15 minutes.

    A refused attempt is not checked and does not count; a success clears its account's count
    from that address. Memory is bounded (`max_entries`, the oldest forgotten first). The
    counts are per process: each replica keeps its own.
    """

    pair = _Limit(5, timedelta(seconds=1), timedelta(minutes=15))
    account = _Limit(20, timedelta(seconds=1), timedelta(minutes=1))
    address = _Limit(100, timedelta(seconds=1), timedelta(minutes=15))

    def __init__(
        self, quiet: timedelta = timedelta(minutes=15), max_entries: int = 100_000
    ) -> None:
        self.quiet = quiet
        self.max_entries = max_entries
        self._seen: OrderedDict[tuple[str, ...], _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def _keys(self, email: str, client: str | None) -> list[tuple[tuple[str, ...], _Limit]]:
        account = normalise_email(email).lower()
        keys = [(("account", account), self.account)]
        if client:  # without an address (a door that does not know it), the account limit
            keys += [(("pair", account, client), self.pair), (("address", client), self.address)]
        return keys

    def check(self, email: str, client: str | None, now: datetime) -> None:
        """Raises TooManyAttempts while any count says to wait."""
        waits = []
        with self._lock:
            for key, limit in self._keys(email, client):
                seen = self._seen.get(key)
                if seen is None:
                    continue
                if now - seen.last >= self.quiet:
                    del self._seen[key]
                    continue
                until = seen.last + limit.wait(seen.count)
                if now < until:
                    waits.append((until - now).total_seconds())
        if waits:
            raise TooManyAttempts(max(1, math.ceil(max(waits))))

    def failed(self, email: str, client: str | None, now: datetime) -> None:
        with self._lock:
            for key, _ in self._keys(email, client):
                seen = self._seen.pop(key, None)
                if seen is None or now - seen.last >= self.quiet:
                    seen = _Failures(0, now)
                self._seen[key] = _Failures(seen.count + 1, now)
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)

    def succeeded(self, email: str, client: str | None) -> None:
        if client:
            with self._lock:
                self._seen.pop(("pair", normalise_email(email).lower(), client), None)


def hash_secret(secret: str) -> str:
    """The stored form of a token secret. Secrets are 256-bit random, so a fast hash is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    uow: UnitOfWork,
    person_id: str,
    name: str,
    now: datetime,
    expires_at: datetime | None,
    *,
    issued_by: str | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for the person; returns it with its secret, which is never stored.

    `issued_by` is who makes it (the person themselves when not given).
    """
    uow.directory.get_person(person_id)  # NotFound for an unknown person
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=f"tok_{secrets.token_hex(10)}",
        person_id=person_id,
        name=name,
        token_hash=hash_secret(secret),
        created_at=now,
        expires_at=expires_at,
        issued_by=issued_by or person_id,
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
    issuer = token.issued_by if token.made_by_someone_else else None
    return Principal(person, grants, token.id, issuer), due


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches; takes as long when there is no stored hash."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
