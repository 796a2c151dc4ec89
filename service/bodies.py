"""Reading request bodies safely: nesting is bounded before anything parses it, and a JSON body
with the same key twice in one object is refused rather than read as "the last one wins".

Every route reads its body through `PeerloopRequest.body()`, so the checks hold for the JSON
API, template uploads and anything added later, and cost nothing for the usual small body.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
from litestar import Request

from service.errors import UnreadableBody

__all__ = ["MAX_NESTING", "PeerloopRequest", "check_document"]

MAX_NESTING = 64
"""The deepest nesting of arrays and objects a body may have. Peerloop's own bodies and
templates nest a handful of levels; parsers recurse once per level, so a body nested
thousands deep would otherwise exhaust the stack."""

# A JSON string, escapes included; an unterminated one runs to the end (so that the scan stays
# linear whatever the input). Brackets inside strings are text, not nesting.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = (ord("["), ord("{"))
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _too_deep(body: bytes, limit: int) -> bool:
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the usual case: too few brackets to nest that deep
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKET):
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen[key] = value
    return seen


def _members(value: Any) -> int:
    """How many key-value pairs the decoded document holds, in all its objects."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += len(item)
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))
    return count


def _duplicate_key(body: bytes) -> str | None:
    """A key written twice in one object, if any.

    Outside strings a colon only separates a key from its value, so the colons of the body
    count its members; a decoded document with fewer has merged a duplicate, which the slower
    standard-library parser then names. A body that is not JSON is left to its reader to refuse.
    """
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    if _STRING.sub(b"", body).count(b":") == _members(decoded):
        return None
    try:
        json.loads(body, object_pairs_hook=_unique)
    except _Duplicate as dup:
        return dup.key
    except ValueError:
        return None
    return None


def check_document(body: bytes, media_type: str) -> None:
    """Refuse a body nested deeper than `MAX_NESTING`, and a JSON body with a duplicate key.

    Raises:
        UnreadableBody: with what is wrong, answered 400.
    """
    if not body or media_type in _FORMS:
        return
    if _too_deep(body, MAX_NESTING):
        raise UnreadableBody(
            f"the body is nested more than {MAX_NESTING} levels deep, which no Peerloop "
            "request needs"
        )
    if media_type == "application/json" or media_type.endswith("+json"):
        key = _duplicate_key(body)
        if key is not None:
            raise UnreadableBody(
                f"the body has the key {key!r} twice in one object: send each key once"
            )


class PeerloopRequest(Request[Any, Any, Any]):
    """Litestar's request, whose body is checked (`check_document`) the first time it is read."""

    async def body(self) -> bytes:
        body = await super().body()
        # Litestar makes several request objects for one request; the body is checked once.
        state = self.scope.setdefault("state", {})
        if not state.get("body_checked"):
            check_document(body, self.content_type[0].lower())
            state["body_checked"] = True
        return body
