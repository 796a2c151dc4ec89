"""Durations in templates: ISO 8601 calendar durations or a number of school days."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from engine.issues import shown

__all__ = ["Duration", "DurationError", "parse_duration"]

# Only fixed-length units: months and years have no fixed length, and school deadlines are
# written in days and weeks in practice, so they are refused with a message rather than guessed.
_ISO = re.compile(
    r"^(?P<sign>[-+])?P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
# Far beyond any school deadline, and it keeps date arithmetic clear of `datetime`'s limits.
_LONGEST = timedelta(days=3660)
_HAS_MONTHS = re.compile(r"^[-+]?P(?:\d+Y|\d+M)")


class DurationError(ValueError):
    """The text is not a duration Peerloop understands."""


@dataclass(frozen=True, slots=True)
class Duration:
    """A signed length of time: either fixed (`delta`) or counted in school days.

    Attributes:
        delta: the fixed length, when the duration is an ISO 8601 duration.
        school_days: the number of school days, when counted through the school calendar.
        text: the duration as the template wrote it, for messages and diagrams.
        nominal_days: of `delta`, the days and weeks as written (`PT36H` has none); None when
            constructed without saying, then the whole days of `delta`.
    """

    delta: timedelta | None = None
    school_days: int | None = None
    text: str = ""
    nominal_days: int | None = None
    whole_days: timedelta = field(init=False, repr=False, compare=False)
    """The days of `delta` kept at the same local time of day when applied (`nominal_days`)."""
    exact: timedelta = field(init=False, repr=False, compare=False)
    """The rest of `delta` (hours, minutes, seconds), applied as elapsed time."""

    def __post_init__(self) -> None:
        if (self.delta is None) == (self.school_days is None):
            raise ValueError("a duration is either fixed or in school days, exactly one")
        # Split once here rather than on every deadline computed from it. Days count towards
        # zero: `-PT12H` is twelve hours before, not a day before and twelve hours after.
        days = timedelta(0)
        if self.delta is not None:
            nominal = self.nominal_days
            if nominal is None:
                whole = abs(self.delta).days
                nominal = whole if self.delta >= timedelta(0) else -whole
                object.__setattr__(self, "nominal_days", nominal)
            days = timedelta(days=nominal)
        object.__setattr__(self, "whole_days", days)
        object.__setattr__(self, "exact", (self.delta - days) if self.delta is not None else days)

    def negated(self) -> Duration:
        if self.delta is not None:
            nominal = None if self.nominal_days is None else -self.nominal_days
            return Duration(delta=-self.delta, text=f"-{self.text}", nominal_days=nominal)
        assert self.school_days is not None
        return Duration(school_days=-self.school_days, text=f"-{self.text}")


def parse_duration(value: object) -> Duration:
    """Read a duration from a template value.

    Accepts an ISO 8601 duration with weeks, days, hours, minutes or seconds (`P14D`, `PT36H`,
    `-P7D` for "before"), or a mapping `{school_days: N}`.

    Raises:
        DurationError: with a message naming what was expected.
    """
    if isinstance(value, dict):
        if set(value) != {"school_days"}:
            raise DurationError("a duration mapping has exactly one key, 'school_days'")
        days = value["school_days"]
        if isinstance(days, bool) or not isinstance(days, int):
            raise DurationError("'school_days' must be a whole number")
        return Duration(school_days=days, text=f"{days} school days")
    if not isinstance(value, str):
        raise DurationError(
            "expected an ISO 8601 duration such as 'P14D' or a mapping {school_days: N}"
        )
    text = value.strip()
    if _HAS_MONTHS.match(text):
        raise DurationError(
            f"{shown(text)} uses years or months, which have no fixed length; use weeks or days"
        )
    match = _ISO.match(text)
    if match is None:
        raise DurationError(f"{shown(text)} is not an ISO 8601 duration such as 'P14D' or 'PT12H'")
    parts = {k: int(v) for k, v in match.groupdict().items() if k != "sign" and v is not None}
    try:
        delta: timedelta | None = timedelta(**parts)
    except OverflowError:  # more days than `timedelta` holds
        delta = None
    if delta is None or delta > _LONGEST:
        raise DurationError(f"{shown(text)} is longer than {_LONGEST.days // 366} years")
    nominal = 7 * parts.get("weeks", 0) + parts.get("days", 0)
    if match.group("sign") == "-":
        delta, nominal = -delta, -nominal
    return Duration(delta=delta, text=text, nominal_days=nominal)
