"""Webhooks: a JSON body POSTed with an HMAC-SHA256 signature header (a `Sender` for the outbox).

The signature covers the timestamp and the body, `sha256=hex(HMAC(secret, f"{ts}." + body))`,
so a receiver can check both who sent it and that it is not an old request replayed. Retries
with backoff are the outbox's job; every attempt is in its delivery log.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.outbox import Message, Outgoing, write_messages
from adapters.tables import WebhookRow

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SqlWebhookOutbox",
    "WebhookSender",
    "active_webhooks",
    "sign",
    "verify",
    "webhook_lookup",
]

SIGNATURE_HEADER = "X-Peerloop-Signature"
TIMESTAMP_HEADER = "X-Peerloop-Timestamp"
DELIVERY_HEADER = "X-Peerloop-Delivery"
WEBHOOK = WebhookRow.__table__

Lookup = Callable[[str], tuple[str, str] | None]
"""Webhook id -> (url, secret), or None when it is gone or switched off."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: datetime | None = None,
    tolerance_seconds: int = 300,
) -> bool:
    """What a receiver does: check the signature (in constant time) and, given `now`, its age."""
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        return False
    if now is not None:
        try:
            age = abs(now.timestamp() - int(timestamp))
        except ValueError:
            return False
        return age <= tolerance_seconds
    return True


class WebhookDeliveryError(RuntimeError):
    """The target answered with an error status, or the webhook is gone."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook answer that redirects is an error, not a second request: a redirect could
    send the signed body, from inside the network, wherever the target chose."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str):  # type: ignore[no-untyped-def]
        raise urllib.error.HTTPError(
            req.full_url, code, f"redirect to {newurl} refused", headers, fp
        )


def refused_address(url: str) -> str | None:
    """Why `url` may not receive webhooks (None: it may): its host must resolve only to
    public addresses, so that a webhook cannot reach the database, the metadata service or
    anything else on the server's own network."""
    host = urllib.parse.urlsplit(url).hostname
    if not host:
        return "it names no host"
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError) as exc:
        return f"{host} does not resolve ({exc})"
    for address in sorted(found):
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            return f"{host} is {ip}, which is not a public address"
    return None


class WebhookSender:
    """POSTs each message's body to its webhook.

    Args:
        lookup: finds a webhook's URL and secret by id, at send time (so a changed secret or a
            switched-off webhook takes effect for messages already waiting).
        now: the clock, for the signed timestamp.
        timeout: seconds to wait for the target.
        allow_private: also send to hosts on private, loopback and link-local addresses (a
            receiver inside the partnership's own network; the tests' local receiver).
    """

    def __init__(
        self,
        lookup: Lookup,
        now: Callable[[], datetime],
        *,
        timeout: float = 5.0,
        allow_private: bool = False,
    ) -> None:
        self.lookup = lookup
        self.now = now
        self.timeout = timeout
        self.allow_private = allow_private
        self._open = urllib.request.build_opener(_NoRedirects()).open

    def __call__(self, batch: Sequence[Outgoing]) -> list[Exception | None]:
        return [self._send(item) for item in batch]

    def _send(self, item: Outgoing) -> Exception | None:
        target = self.lookup(item.recipient)
        if target is None:
            return WebhookDeliveryError(f"webhook {item.recipient!r} is gone or switched off")
        url, secret = target
        if not url.startswith(("http://", "https://")):
            return WebhookDeliveryError(f"webhook {item.recipient!r} has no http(s) URL")
        why = None if self.allow_private else refused_address(url)
        if why is not None:
            return WebhookDeliveryError(f"webhook {item.recipient!r} refused: {why}")
        body = json.dumps(item.body, sort_keys=True, separators=(",", ":")).encode()
        ts = str(int(self.now().timestamp()))
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Peerloop-Webhook/1",
                SIGNATURE_HEADER: sign(secret, ts, body),
                TIMESTAMP_HEADER: ts,
                DELIVERY_HEADER: str(item.id),
            },
        )
        try:
            with self._open(request, timeout=self.timeout) as response:
                response.read()
                if not 200 <= response.status < 300:
                    return WebhookDeliveryError(f"HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            exc.close()
            return WebhookDeliveryError(f"HTTP {exc.code} {exc.reason}")
        except (urllib.error.URLError, OSError) as exc:
            return exc
        return None


def webhook_lookup(engine: Engine) -> Lookup:
    """A lookup over the webhook table."""

    def lookup(webhook_id: str) -> tuple[str, str] | None:
        with engine.connect() as conn:
            row = conn.execute(
                sa.select(WEBHOOK.c.url, WEBHOOK.c.secret).where(
                    WEBHOOK.c.id == webhook_id, WEBHOOK.c.active.is_(True)
                )
            ).first()
        return (str(row[0]), str(row[1])) if row else None

    return lookup


def active_webhooks(conn: sa.Connection) -> list[tuple[str, str | None]]:
    """(id, network id or None for every network) of each active webhook."""
    q = sa.select(WEBHOOK.c.id, WEBHOOK.c.network_id).where(WEBHOOK.c.active.is_(True))
    return [(str(r[0]), r[1]) for r in conn.execute(q).all()]


def event_body(event: str, at: datetime, data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document a webhook receives."""
    return {"event": event, "at": at.isoformat(), "data": dict(data)}


class SqlWebhookOutbox:
    """The `WebhookOutbox` port on a unit of work's connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def send(
        self,
        event: str,
        at: datetime,
        data: Mapping[str, Any],
        network_id: str | None,
        dedupe_key: str,
    ) -> int:
        doc = event_body(event, at, data)
        messages = [
            Message("webhook", hook, event, doc, f"webhook:{hook}:{dedupe_key}")
            for hook, network in active_webhooks(self.conn)
            if network is None or network == network_id
        ]
        return write_messages(self.conn, messages, at)
