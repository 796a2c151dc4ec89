"""School calendars per network read from YAML or ICS: term dates and closures.

YAML (one file for the whole partnership; `default` applies to networks without their own):

    timezone: Europe/London
    networks:
      default:
        terms:
          - {name: Autumn term, first: 2026-09-03, last: 2026-12-18}
        closures:
          - {name: Autumn half-term, first: 2026-10-26, last: 2026-10-30}
          - {name: INSET day, day: 2026-11-13}

A file with `terms` and `closures` at the top level is the calendar of one network (or the
default). Half-terms can be closures inside a term, or gaps between half-term "terms".

ICS (as schools publish them): an event is a term when its CATEGORIES say TERM, or its
summary names a term and not a holiday; it is a closure when its CATEGORIES say HOLIDAY,
CLOSURE or INSET, or its summary names a holiday, half-term, INSET or training day, a bank
holiday or the school being closed. Anything else (parents' evenings, trips) is ignored.
All-day events end the day before their DTEND, as RFC 5545 says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import yaml

from engine.calendar import DEFAULT_TIMEZONE, CalendarBook, CalendarSpec

__all__ = [
    "CalendarFileError",
    "CalendarSpec",
    "read_calendar",
    "read_ics",
    "read_yaml",
]

DEFAULT = "default"


class CalendarFileError(ValueError):
    """The calendar file is not one Peerloop can read; the message says where."""


def _day(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarFileError(f"{where}: expected a date such as 2026-09-03, got {value!r}")


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _spec(data: Any, where: str) -> CalendarSpec:
    if not isinstance(data, dict):
        raise CalendarFileError(f"{where}: expected a mapping with terms and closures")
    unknown = set(data) - {"terms", "closures"}
    if unknown:
        raise CalendarFileError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    terms: list[tuple[str, date, date]] = []
    for i, t in enumerate(data.get("terms") or []):
        at = f"{where}.terms[{i}]"
        if not isinstance(t, dict) or "first" not in t or "last" not in t:
            raise CalendarFileError(f"{at}: a term needs first and last days")
        first, last = _day(t["first"], f"{at}.first"), _day(t["last"], f"{at}.last")
        if last < first:
            raise CalendarFileError(f"{at}: ends before it starts")
        terms.append((str(t.get("name") or f"term {i + 1}"), first, last))
    closures: list[tuple[str, date]] = []
    for i, c in enumerate(data.get("closures") or []):
        at = f"{where}.closures[{i}]"
        if isinstance(c, str | date):
            closures.append(("closure", _day(c, at)))
            continue
        if not isinstance(c, dict):
            raise CalendarFileError(f"{at}: expected a date or {{name, day}} or {{first, last}}")
        name = str(c.get("name") or "closure")
        if "day" in c:
            closures.append((name, _day(c["day"], f"{at}.day")))
        elif "first" in c:
            first = _day(c["first"], f"{at}.first")
            last = _day(c.get("last", c["first"]), f"{at}.last")
            closures.extend((name, d) for d in _days(first, last))
        else:
            raise CalendarFileError(f"{at}: a closure needs a day, or first and last days")
    return CalendarSpec(tuple(sorted(terms, key=lambda t: t[1])), tuple(sorted(closures)))


def read_yaml(text: str | bytes) -> CalendarBook:
    """A calendar book from YAML (see the module docstring for the format)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CalendarFileError(f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CalendarFileError("expected a mapping at the top level")
    tz = ZoneInfo(str(data.get("timezone", DEFAULT_TIMEZONE)))
    if "networks" in data:
        nets = data["networks"]
        if not isinstance(nets, dict):
            raise CalendarFileError("networks: expected a mapping of network id to calendar")
        specs: dict[str | None, CalendarSpec] = {
            (None if str(k) == DEFAULT else str(k)): _spec(v, f"networks.{k}")
            for k, v in nets.items()
        }
        return CalendarBook(tz, specs)
    body = {k: v for k, v in data.items() if k in ("terms", "closures")}
    return CalendarBook(tz, {None: _spec(body, "calendar")})


_CLOSED = re.compile(
    r"half[\s-]*term|holiday|inset|training day|closed|closure|bank holiday", re.IGNORECASE
)
_TERM = re.compile(r"\bterm\b", re.IGNORECASE)


def _categories(event: Any) -> set[str]:
    raw = event.get("CATEGORIES")
    if raw is None:
        return set()
    items = raw if isinstance(raw, list) else [raw]
    return {str(c).strip().upper() for item in items for c in item.cats}


def _local_day(value: Any, tz: tzinfo) -> date:
    if isinstance(value, datetime):
        return (value.astimezone(tz) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    raise CalendarFileError(f"expected a date or a date-time, got {value!r}")


def read_ics(data: str | bytes, tz: tzinfo | None = None) -> CalendarSpec:
    """A network's calendar from an ICS file (see the module docstring for what counts)."""
    zone = tz or ZoneInfo(DEFAULT_TIMEZONE)
    try:
        cal = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise CalendarFileError(f"not a valid ICS file: {exc}") from exc
    terms: list[tuple[str, date, date]] = []
    closures: list[tuple[str, date]] = []
    for event in cal.walk("VEVENT"):
        summary = str(event.get("SUMMARY", "")).strip()
        start = event.get("DTSTART")
        if start is None:
            continue
        first = _local_day(start.dt, zone)
        end = event.get("DTEND")
        if end is None:
            last = first
        elif isinstance(end.dt, datetime):
            last = _local_day(end.dt, zone)
        else:
            last = end.dt - timedelta(days=1)  # all-day: DTEND is the day after
        last = max(first, last)
        cats = _categories(event)
        if "TERM" in cats:
            kind = "term"
        elif cats & {"HOLIDAY", "CLOSURE", "INSET", "BANK HOLIDAY"} or _CLOSED.search(summary):
            kind = "closure"
        elif _TERM.search(summary):
            kind = "term"
        else:
            continue
        if kind == "term":
            terms.append((summary or "term", first, last))
        else:
            closures.extend((summary or "closure", d) for d in _days(first, last))
    if not terms:
        raise CalendarFileError("the ICS file has no term dates (events named or marked TERM)")
    return CalendarSpec(tuple(sorted(terms, key=lambda t: t[1])), tuple(sorted(closures)))


def read_calendar(data: bytes, filename: str, tz: tzinfo) -> CalendarSpec:
    """One network's calendar from an uploaded file: ICS (by its name or its first line) or
    YAML with `terms` and `closures` at the top level.

    Raises:
        CalendarFileError: the file is neither, or is a whole partnership's YAML (`networks:`).
    """
    head = data.lstrip()[:15].upper()
    if filename.lower().endswith((".ics", ".ical")) or head.startswith(b"BEGIN:VCALENDAR"):
        return read_ics(data, tz)
    book = read_yaml(data)
    if set(book.specs) != {None}:
        raise CalendarFileError(
            "this file names networks: it holds the whole partnership's calendars, which "
            "`peerloop calendar import` loads; upload one network's terms and closures here"
        )
    spec = book.specs[None]
    if not spec.terms:
        raise CalendarFileError("the file has no terms: give each term's first and last day")
    return spec
