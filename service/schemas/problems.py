"""RFC 9457 problem bodies, and checking a request body field by field so that a bad request
hears about every field at fault, not only the first one msgspec met."""

from __future__ import annotations

import re

import msgspec
from msgspec import Struct

from service.schemas.fields import _Out, out_of_range

__all__ = [
    "FieldError",
    "Problem",
    "ReasonView",
    "field_errors",
]


class FieldError(_Out, kw_only=True, omit_defaults=True):
    """One thing wrong with the request: where (`body.title`, `query.limit`,
    `transitions[3].to`), what, and the line of an uploaded document where known."""

    location: str
    message: str
    line: int | None = None
    code: str | None = None


class ReasonView(_Out, kw_only=True):
    """Why a move is blocked: `role_not_allowed` or the name of an unmet requirement."""

    code: str
    message: str


class Problem(_Out, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem detail (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None
    reasons: list[ReasonView] | None = None
    cycle_id: str | None = None
    current_version: int | None = None


_AT = re.compile(r" - at `\$(.*)`$")
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def field_errors(struct: type[Struct], data: object, prefix: str = "body") -> list[FieldError]:
    """Every field of `data` (decoded JSON) that does not fit `struct`, each with its location.

    Checks fields one by one (msgspec stops at the first error it meets); errors that only the
    whole struct can find are left to msgspec itself.
    """
    if not isinstance(data, dict):
        return [FieldError(location=prefix, message=f"expected a JSON object, got {_kind(data)}")]
    fields = msgspec.structs.fields(struct)
    known = {f.encode_name: f for f in fields}
    errors = [
        FieldError(location=f"{prefix}.{key}", message="unknown field", code="unknown_field")
        for key in data
        if key not in known
    ]
    for f in fields:
        where = f"{prefix}.{f.encode_name}"
        if f.encode_name not in data:
            if f.required:
                errors.append(FieldError(location=where, message="is required", code="missing"))
            continue
        try:
            value = msgspec.convert(data[f.encode_name], type=f.type, strict=False)
        except msgspec.ValidationError as exc:
            text = str(exc)
            m = _AT.search(text)
            if m:
                where += m.group(1)
                text = text[: m.start()]
            errors.append(FieldError(location=where, message=text, code="invalid"))
            continue
        errors.extend(
            FieldError(location=where + below, message=message, code="out_of_range")
            for below, message in out_of_range(value)
        )
    return errors
