"""School calendars from YAML and ICS: school days across a half-term and the clocks changing,
all the way to when the sweep fires (stored in UTC, counted in Europe/London)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from adapters.migrate import upgrade
from adapters.sql_calendars import load_calendars, save_calendar
from adapters.tables import NetworkRow
from engine.calendar import (
    CalendarBook,
    SchoolCalendar,
    TermCalendar,
    WeekdayCalendar,
    add_school_days,
)
from service.calendar_files import CalendarFileError, read_ics, read_yaml
from service.cli import main
from tests.integration.test_deadlines_sweep import LEAD, LONDON, make_world

YAML = """\
timezone: Europe/London
networks:
  default:
    terms:
      - {name: Autumn term, first: 2026-09-03, last: 2026-12-18}
      - {name: Spring term, first: 2027-01-05, last: 2027-03-26}
    closures:
      - {name: Autumn half-term, first: 2026-10-26, last: 2026-10-30}
      - {name: INSET day, day: 2026-11-06}
      - {name: Spring half-term, first: 2027-02-15, last: 2027-02-19}
  n2:
    terms:
      - {name: Autumn 1, first: 2026-09-02, last: 2026-10-16}
      - {name: Autumn 2, first: 2026-11-02, last: 2026-12-18}
"""

ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Riverside Borough Council//Term dates//EN
BEGIN:VEVENT
UID:autumn-2026@riverside.example
DTSTAMP:20260601T000000Z
DTSTART;VALUE=DATE:20260903
DTEND;VALUE=DATE:20261219
SUMMARY:Autumn Term 2026
END:VEVENT
BEGIN:VEVENT
UID:autumn-half-term-2026@riverside.example
DTSTAMP:20260601T000000Z
DTSTART;VALUE=DATE:20261026
DTEND;VALUE=DATE:20261031
SUMMARY:Half Term
END:VEVENT
BEGIN:VEVENT
UID:inset-2026-11-06@riverside.example
DTSTAMP:20260601T000000Z
DTSTART;VALUE=DATE:20261106
SUMMARY:INSET day (school closed to pupils)
END:VEVENT
BEGIN:VEVENT
UID:parents-evening@riverside.example
DTSTAMP:20260601T000000Z
DTSTART;TZID=Europe/London:20261015T170000
DTEND;TZID=Europe/London:20261015T190000
SUMMARY:Parents' evening
END:VEVENT
BEGIN:VEVENT
UID:spring-2027@riverside.example
DTSTAMP:20260601T000000Z
DTSTART;VALUE=DATE:20270105
DTEND;VALUE=DATE:20270327
SUMMARY:Spring 2027
CATEGORIES:TERM
END:VEVENT
BEGIN:VEVENT
UID:spring-half-term-2027@riverside.example
DTSTAMP:20260601T000000Z
DTSTART;VALUE=DATE:20270215
DTEND;VALUE=DATE:20270220
SUMMARY:February break
CATEGORIES:HOLIDAY
END:VEVENT
END:VCALENDAR
"""


def from_yaml() -> SchoolCalendar:
    return read_yaml(YAML).for_network(None)


def from_ics() -> SchoolCalendar:
    return read_ics(ICS).calendar(LONDON)


SOURCES = pytest.mark.parametrize("load", [from_yaml, from_ics], ids=["yaml", "ics"])


@SOURCES
def test_both_files_give_the_same_school_days(load) -> None:
    cal = load()
    assert isinstance(cal, TermCalendar)
    assert cal.tz == LONDON
    assert cal.is_school_day(date(2026, 10, 23))  # the Friday before half-term
    assert not any(cal.is_school_day(date(2026, 10, d)) for d in range(26, 31))
    assert not cal.is_school_day(date(2026, 11, 6)), "INSET day"
    assert not cal.is_school_day(date(2026, 12, 21)), "Christmas holidays"
    assert not cal.is_school_day(date(2027, 2, 17)), "spring half-term"
    assert cal.is_school_day(date(2027, 1, 5))


@SOURCES
def test_one_school_day_across_half_term_and_the_clocks_going_back(load) -> None:
    cal = load()
    friday = datetime(2026, 10, 23, 9, 0, tzinfo=LONDON)  # 08:00 UTC, summer time
    monday = add_school_days(cal, friday, 1)
    assert monday == datetime(2026, 11, 2, 9, 0, tzinfo=LONDON), "same local time of day"
    assert monday.astimezone(UTC) == datetime(2026, 11, 2, 9, 0, tzinfo=UTC), "now GMT"
    assert add_school_days(cal, monday, -1) == friday
    # Ten school days are not fourteen calendar days: half-term and an INSET day are skipped.
    ten = add_school_days(cal, datetime(2026, 10, 19, 9, 0, tzinfo=LONDON), 10)
    assert ten == datetime(2026, 11, 10, 9, 0, tzinfo=LONDON)  # 20-23 Oct, 2-5, 9-10 Nov


@SOURCES
@pytest.mark.parametrize("name", ["sqlite", "postgres"])
def test_a_stage_in_school_days_fires_at_the_right_utc_moment(
    load, name: str, request: pytest.FixtureRequest
) -> None:
    """The workshop is due 15 school days after it starts, counted over half-term."""
    engine: Engine = request.getfixturevalue("pg_engine" if name == "postgres" else "sqlite_engine")
    entered = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)  # Monday 09:00 in London (BST)
    w = make_world(engine, calendar=load(), now=entered)
    cycle = w.app.start_cycle("spp-cycle", "s_a", LEAD)
    w.to_stage(cycle.id, "submit_self_review", "start_peer_review", "complete_peer_review")
    rows = {r["key"]: r for r in w.rows(cycle.id, stage="improvement_workshop")}
    # 13-16 Oct, 19-23 Oct, (half-term), 2-5 Nov, (INSET 6 Nov), 9-10 Nov: the 15th is Tue 10.
    assert rows["due"]["due_at"] == datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    assert rows["reminder:0"]["due_at"] == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert rows["expiry:1"]["due_at"] == datetime(2026, 11, 17, 9, 0, tzinfo=UTC)

    sweeper = w.sweeper()
    w.clock.set(rows["due"]["due_at"] - timedelta(seconds=1))
    assert [r for r in sweeper.sweep().applied if r == rows["due"]["id"]] == []
    w.clock.set(rows["due"]["due_at"])
    assert rows["due"]["id"] in sweeper.sweep().applied
    assert w.row(cycle.id, "due")["late_seconds"] is None


def test_a_weekday_calendar_would_have_counted_through_half_term() -> None:
    monday = datetime(2026, 10, 12, 9, 0, tzinfo=LONDON)
    assert add_school_days(WeekdayCalendar(LONDON), monday, 15).date() == date(2026, 11, 2)
    assert add_school_days(from_yaml(), monday, 15).date() == date(2026, 11, 10)


def test_networks_have_their_own_calendars_and_fall_back_to_the_default() -> None:
    book = read_yaml(YAML)
    north, south = book.for_network("n1"), book.for_network("n2")
    assert north.is_school_day(date(2026, 9, 3))  # n1 has none of its own: the default's
    assert not south.is_school_day(date(2026, 10, 19)), "n2 breaks for two weeks"
    assert south.is_school_day(date(2026, 9, 2))
    empty = CalendarBook(LONDON)
    assert isinstance(empty.for_network("n1"), WeekdayCalendar)


@pytest.mark.parametrize("name", ["sqlite", "postgres"])
def test_calendars_are_stored_per_network(name: str, request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue("pg_engine" if name == "postgres" else "sqlite_engine")
    upgrade(engine)
    book = read_yaml(YAML)
    with engine.begin() as conn:
        conn.execute(NetworkRow.__table__.insert().values(id="n2", name="South"))
        for net, spec in book.specs.items():
            save_calendar(conn, net, spec)
        save_calendar(conn, None, book.specs[None])  # replaces, does not add
    with engine.connect() as conn:
        stored = load_calendars(conn, LONDON)
    assert stored.specs == book.specs
    assert stored.for_network("n2").is_school_day(date(2026, 11, 2))


def test_the_ics_rules_for_what_counts() -> None:
    spec = read_ics(ICS)
    assert [t[0] for t in spec.terms] == ["Autumn Term 2026", "Spring 2027"]
    assert spec.terms[0][1:] == (date(2026, 9, 3), date(2026, 12, 18)), "DTEND is exclusive"
    names = {name for name, _ in spec.closures}
    assert names == {"Half Term", "INSET day (school closed to pupils)", "February break"}
    assert "Parents' evening" not in names
    assert len(spec.closures) == 5 + 1 + 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("terms: [{first: 2026-09-03}]", "calendar.terms[0]: a term needs first and last days"),
        ("terms: [{first: 2026-09-03, last: 2026-09-01}]", "calendar.terms[0]: ends before"),
        ("terms: [{first: soon, last: 2026-09-01}]", "calendar.terms[0].first: expected a date"),
        ("networks: {n1: {holidays: []}}", "networks.n1: unknown key(s) holidays"),
        ("closures: [{name: x}]", "calendar.closures[0]: a closure needs a day"),
        ("- just a list", "expected a mapping at the top level"),
    ],
)
def test_yaml_mistakes_say_where(text: str, message: str) -> None:
    with pytest.raises(CalendarFileError, match=re.escape(message)):
        read_yaml(text)


def test_an_ics_file_without_terms_is_refused() -> None:
    only_holidays = ICS.replace("SUMMARY:Autumn Term 2026", "SUMMARY:Christmas holiday")
    only_holidays = only_holidays.replace("CATEGORIES:TERM", "CATEGORIES:HOLIDAY")
    with pytest.raises(CalendarFileError, match="no term dates"):
        read_ics(only_holidays)


def test_calendar_import_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PEERLOOP_DEMO", "0")
    monkeypatch.delenv("PEERLOOP_DATABASE_URL", raising=False)
    (tmp_path / "terms.yaml").write_text(YAML.replace("  n2:", "  other:").split("  other:")[0])
    (tmp_path / "riverside.ics").write_text(ICS)
    runner = CliRunner()
    done = runner.invoke(main, ["calendar", "import", str(tmp_path / "terms.yaml")])
    assert done.exit_code == 0, done.output
    assert "default: 2 term(s), 11 closure day(s)" in done.output
    done = runner.invoke(main, ["calendar", "import", str(tmp_path / "riverside.ics")])
    assert done.exit_code == 0, done.output
    assert "default: 2 term(s), 11 closure day(s)" in done.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("terms: [{first: 2026-09-03}]")
    failed = runner.invoke(main, ["calendar", "import", str(bad)])
    assert failed.exit_code == 1 and "a term needs first and last days" in failed.output
