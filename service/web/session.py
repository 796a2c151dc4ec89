"""Signed-in sessions for the pages: a short-lived token in an HttpOnly cookie, and CSRF.

A session is an API token named "web session" (stored as a hash, revocable, listed with the
person's tokens); the browser holds its secret only in an HttpOnly, SameSite=Lax cookie, so
page scripts never see it. Signing in always makes a new one (no session fixation); signing
out revokes it. Every form carries a CSRF token derived from the session secret with HMAC, so
a page from another site, which cannot read the cookie, cannot forge it. The sign-in form,
before there is a session, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "SESSION_HOURS",
    "csrf_for",
    "new_login_csrf",
    "same",
]

SESSION_COOKIE = "peerloop_session"
LOGIN_CSRF_COOKIE = "peerloop_signin"
SESSION_HOURS = 8
"""A working day: after it, the person signs in again."""


def csrf_for(session_secret: str) -> str:
    """The CSRF token of a session's forms."""
    return hmac.new(session_secret.encode(), b"peerloop-csrf", hashlib.sha256).hexdigest()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison that is False for a missing value."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
