"""Durations in templates: ISO 8601 days, weeks and times, or school days; months refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.durations import Duration, DurationError, parse_duration


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("P14D", timedelta(days=14)),
        ("P6W", timedelta(weeks=6)),
        ("P1W2D", timedelta(days=9)),
        ("PT36H", timedelta(hours=36)),
        ("PT90M", timedelta(minutes=90)),
        ("PT45S", timedelta(seconds=45)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P0D", timedelta(0)),
        ("-P7D", timedelta(days=-7)),
        ("+P1D", timedelta(days=1)),
        ("-PT2H30M", -timedelta(hours=2, minutes=30)),
        ("P3660D", timedelta(days=3660)),
    ],
)
def test_iso_durations_accepted(text: str, delta: timedelta) -> None:
    d = parse_duration(text)
    assert (d.delta, d.school_days, d.text) == (delta, None, text)


def test_surrounding_spaces_are_ignored() -> None:
    assert parse_duration("  P14D\n") == parse_duration("P14D")
    assert parse_duration("  P14D\n").text == "P14D"


@pytest.mark.parametrize("days", [10, 0, -5])
def test_school_days_accepted(days: int) -> None:
    d = parse_duration({"school_days": days})
    assert (d.delta, d.school_days, d.text) == (None, days, f"{days} school days")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("P1M", "'P1M' uses years or months, which have no fixed length; use weeks or days"),
        ("P1Y", "'P1Y' uses years or months"),
        ("P1Y2M", "uses years or months"),
        ("-P2M", "uses years or months"),
        ("P1Y6M3D", "uses years or months"),
        ("14 days", "'14 days' is not an ISO 8601 duration such as 'P14D' or 'PT12H'"),
        ("P", "'P' is not an ISO 8601 duration"),
        ("PT", "'PT' is not an ISO 8601 duration"),
        ("", "'' is not an ISO 8601 duration"),
        ("P1.5D", "is not an ISO 8601 duration"),
        ("p14d", "is not an ISO 8601 duration"),
        ("P14", "is not an ISO 8601 duration"),
        ("PT1D", "is not an ISO 8601 duration"),
        ("P2D1W", "is not an ISO 8601 duration"),
        ("P14D\nP1D", "is not an ISO 8601 duration"),
        ("P3661D", "'P3661D' is longer than 10 years"),
        ("P99999999999999999999D", "is longer than 10 years"),
        (14, "expected an ISO 8601 duration such as 'P14D' or a mapping {school_days: N}"),
        (None, "expected an ISO 8601 duration"),
        (True, "expected an ISO 8601 duration"),
        (["P1D"], "expected an ISO 8601 duration"),
        ({"school_days": True}, "'school_days' must be a whole number"),
        ({"school_days": 1.5}, "'school_days' must be a whole number"),
        ({"school_days": "10"}, "'school_days' must be a whole number"),
        ({"days": 3}, "a duration mapping has exactly one key, 'school_days'"),
        ({"school_days": 3, "weeks": 1}, "exactly one key"),
        ({}, "exactly one key"),
    ],
)
def test_durations_refused_with_a_clear_message(value: object, message: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(value)
    assert message in str(caught.value)


def test_a_duration_is_fixed_or_in_school_days_exactly() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Duration()
    with pytest.raises(ValueError, match="exactly one"):
        Duration(delta=timedelta(days=1), school_days=1)


def test_negated() -> None:
    assert parse_duration("P3D").negated() == Duration(delta=timedelta(days=-3), text="-P3D")
    assert parse_duration({"school_days": 5}).negated().school_days == -5


@pytest.mark.parametrize(
    ("text", "whole_days", "exact"),
    [
        ("P14D", timedelta(days=14), timedelta(0)),
        ("P1DT12H", timedelta(days=1), timedelta(hours=12)),
        # Written in hours, so all of it is elapsed time, even beyond a day.
        ("PT36H", timedelta(0), timedelta(hours=36)),
        ("PT48H", timedelta(0), timedelta(hours=48)),
        ("-P1DT12H", timedelta(days=-1), timedelta(hours=-12)),
        ("-PT12H", timedelta(0), timedelta(hours=-12)),
    ],
)
def test_days_and_times_are_kept_apart(text: str, whole_days: timedelta, exact: timedelta) -> None:
    d = parse_duration(text)
    assert (d.whole_days, d.exact) == (whole_days, exact)
    assert d.whole_days + d.exact == d.delta
    n = d.negated()
    assert (n.whole_days, n.exact) == (-whole_days, -exact)


def test_days_and_hours_written_differently_are_different_durations() -> None:
    # Equal in length, but P1D keeps the clock time across a daylight-saving change and PT24H
    # does not.
    assert parse_duration("P1D").delta == parse_duration("PT24H").delta
    assert parse_duration("P1D") != parse_duration("PT24H")
