"""The service's jobs (APScheduler waking the sweep): catch-up at start, wake at the next due
time, stop, restart without firing twice, status for /health; and the CLI commands."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.clock import FixedClock
from service.bootstrap import Container, build
from service.cli import main
from service.jobs import Jobs, start_jobs
from service.settings import Settings
from tests.integration.test_deadlines_sweep import LEAD, T0, seed
from tests.integration.test_outbox_email import SmtpServer


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    settings = Settings(data_dir=tmp_path, demo=False, sweep_interval_seconds=3600)
    c = build(settings, clock=FixedClock(T0))
    seed(c.app)
    yield c
    c.close()


def clock(c: Container) -> FixedClock:
    assert isinstance(c.app.clock, FixedClock)
    return c.app.clock


def wait_for_sweeps(jobs: Jobs, n: int, timeout: float = 10.0) -> None:
    """Wait for the scheduler's thread to have swept `n` times (not for any deadline)."""
    give_up = time.monotonic() + timeout
    while jobs.status()["sweeps"] < n or not jobs.wait_idle(0):
        assert time.monotonic() < give_up, f"only {jobs.status()['sweeps']} sweep(s)"
        time.sleep(0.01)


def pending(c: Container, cycle_id: str) -> list[str]:
    with c.uow(readonly=True) as uow:
        return [d.key for d in uow.deadlines.pending(cycle_id=cycle_id)]


def test_what_fell_due_while_stopped_fires_once_at_start(container: Container) -> None:
    c = container
    cycle = c.app.start_cycle("spp-cycle", "s_a", LEAD)
    assert len(pending(c, cycle.id)) == 5
    clock(c).set(datetime(2026, 11, 2, 12, 0, tzinfo=UTC))  # the service was down until now

    jobs = start_jobs(c)
    try:
        wait_for_sweeps(jobs, 1)
        status = jobs.status()
        assert status["running"] is True
        assert status["replica"] == jobs.sweeper.replica_id
        assert status["last_sweep"]["applied"] == 5
        assert status["last_sweep"]["late"] == 5
        assert status["last_error"] is None
        assert status["next_due_at"] is None
        assert pending(c, cycle.id) == []
    finally:
        jobs.stop()
    assert jobs.status()["running"] is False

    again = start_jobs(c)  # a restart: nothing fires twice
    try:
        wait_for_sweeps(again, 1)
        assert again.status()["last_sweep"]["applied"] == 0
    finally:
        again.stop()
    with c.uow(readonly=True) as uow:
        rows = uow.deadlines.for_cycle(cycle.id)
    assert all(r.status in ("fired", "skipped") for r in rows)
    assert all(r.note.startswith("late by ") for r in rows)


def test_the_sweep_wakes_at_the_next_due_time(container: Container) -> None:
    c = container
    cycle = c.app.start_cycle("spp-cycle", "s_a", LEAD)
    with c.uow(readonly=True) as uow:
        first = uow.deadlines.pending(cycle_id=cycle.id)[0]
    jobs = start_jobs(c)
    try:
        wait_for_sweeps(jobs, 1)
        assert jobs.status()["next_due_at"] == first.due_at.isoformat()
        assert jobs.scheduler.get_job("deadlines.wake") is None, "a month away: the interval"

        # 50 ms before it is due, a sweep (as the safety net would) sets a one-off wake-up.
        clock(c).set(first.due_at - timedelta(milliseconds=50))
        assert jobs.sweep() is not None
        wake = jobs.scheduler.get_job("deadlines.wake")
        assert wake is not None
        assert wake.next_run_time - datetime.now(UTC) < timedelta(seconds=1)
        clock(c).set(first.due_at)
        wait_for_sweeps(jobs, 3)  # start, the one above, and the wake-up
        assert jobs.status()["last_sweep"]["applied"] == 1
        assert first.key not in pending(c, cycle.id)
    finally:
        jobs.stop()


def test_poke_sweeps_at_once(container: Container) -> None:
    c = container
    cycle = c.app.start_cycle("spp-cycle", "s_a", LEAD)
    jobs = start_jobs(c)
    try:
        wait_for_sweeps(jobs, 1)
        clock(c).advance(timedelta(days=29))
        jobs.poke()
        wait_for_sweeps(jobs, 2)
        assert jobs.status()["last_sweep"]["applied"] == 1
        assert len(pending(c, cycle.id)) == 4
    finally:
        jobs.stop()


def test_the_jobs_mail_what_the_sweep_wrote(tmp_path: Path) -> None:
    smtp = SmtpServer()
    smtp.start()
    settings = Settings(
        data_dir=tmp_path,
        demo=False,
        sweep_interval_seconds=3600,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        mail_from="peerloop@example.org",
    )
    c = build(settings, clock=FixedClock(T0))
    try:
        seed(c.app)
        cycle = c.app.start_cycle("spp-cycle", "s_a", LEAD)
        with c.uow(readonly=True) as uow:
            first = uow.deadlines.pending(cycle_id=cycle.id)[0]
        clock(c).set(first.due_at)
        jobs = start_jobs(c)
        try:
            wait_for_sweeps(jobs, 1)
            give_up = time.monotonic() + 10
            while len(smtp.inbox.messages) < 2:  # the outbox job, brought forward
                assert time.monotonic() < give_up, jobs.status()
                time.sleep(0.01)
            assert jobs.status()["last_sweep"]["messages"] == 2
        finally:
            jobs.stop()
        subjects = {str(m["Subject"]) for m in smtp.inbox.messages}
        assert subjects == {"Reminder: Self-review for School A is due Mon 19 Oct 09:00"}
    finally:
        c.close()
        smtp.stop()


# -- the CLI -----------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PEERLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PEERLOOP_DEMO", "0")
    monkeypatch.delenv("PEERLOOP_DATABASE_URL", raising=False)
    monkeypatch.delenv("PEERLOOP_SMTP_HOST", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_deadlines_list_and_sweep_by_hand(cli, tmp_path: Path) -> None:
    # The CLI runs on the real clock: start the cycle eight weeks before today, so that the
    # stage is two weeks overdue whatever today is.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(weeks=8)
    c = build(Settings(data_dir=tmp_path, demo=False), clock=FixedClock(start))
    try:
        seed(c.app)
        cycle = c.app.start_cycle("spp-cycle", "s_a", LEAD)
    finally:
        c.close()

    listed = cli("deadlines", "list", "--json")
    assert listed.exit_code == 0
    rows = json.loads(listed.output)
    assert [r["key"] for r in rows] == ["reminder:0", "reminder:1", "due", "expiry:0", "expiry:1"]
    before = (start + timedelta(weeks=5)).date().isoformat()
    early = json.loads(cli("deadlines", "list", "--json", "--due-before", before).output)
    assert [r["key"] for r in early] == ["reminder:0"]
    first = json.loads(cli("deadlines", "list", "--json", "--limit", "2").output)
    assert [r["key"] for r in first] == ["reminder:0", "reminder:1"]
    table = cli("deadlines", "list", "--cycle", cycle.id)
    assert "reminder:0" in table.output and "self_review" in table.output

    swept = cli("deadlines", "sweep")
    assert swept.exit_code == 0, swept.output
    assert "applied 5: 3 fired, 2 skipped, 0 failed, 0 cancelled (5 late)" in swept.output
    assert "outbox: 0 sent" in swept.output  # no mail server configured: the mail waits
    assert "2 pending" in swept.output
    assert "applied 0" in cli("deadlines", "sweep", "--no-dispatch").output
    assert json.loads(cli("deadlines", "list", "--json").output) == []
    done = json.loads(cli("deadlines", "list", "--json", "--status", "all").output)
    assert {r["status"] for r in done} == {"fired", "skipped"}


def test_a_persons_deadline_feed(cli, tmp_path: Path) -> None:
    c = build(Settings(data_dir=tmp_path, demo=False), clock=FixedClock(T0))
    try:
        seed(c.app)
        c.app.start_cycle("spp-cycle", "s_a", LEAD)
    finally:
        c.close()
    out = tmp_path / "ada.ics"
    assert cli("deadlines", "feed", "p_head_a", "-o", str(out)).exit_code == 0
    text = out.read_text()
    assert text.startswith("BEGIN:VCALENDAR")
    assert "SUMMARY:Self-review due: School A" in text
    assert "DTSTART:20261019T080000Z" in text
    missing = CliRunner().invoke(main, ["deadlines", "feed", "nobody"])
    assert missing.exit_code == 1 and "nobody" in missing.output


AUTO = """
format: 1
id: auto-move
version: 1
title: Termly check-in
description: A stage that moves on by itself when its time is up.
roles:
  - {id: school_lead, title: Host headteacher}
  - {id: partnership_lead, title: Partnership lead}
stages:
  - id: gather
    title: Gathering
    initial: true
    deadline:
      due: P7D
      on_expiry:
        - fire: move_on
  - id: discuss
    title: Discussion
    notify: [school_lead, partnership_lead]
  - id: done
    title: Done
    terminal: true
transitions:
  - id: move_on
    title: Move on to the discussion
    from: gather
    to: discuss
    roles: [partnership_lead]
  - id: finish
    title: Finish
    from: discuss
    to: done
    roles: [partnership_lead]
"""


def test_an_automatic_move_tells_whom_the_template_names_like_a_persons_move(
    container: Container,
) -> None:
    c = container
    c.app.upload_template(AUTO, "auto-move.yaml", publish=True)
    cycle = c.app.start_cycle("auto-move", "s_a", LEAD)
    clock(c).set(T0 + timedelta(days=8))
    jobs = start_jobs(c)
    try:
        wait_for_sweeps(jobs, 1)
    finally:
        jobs.stop()
    assert c.app.cycle(cycle.id).stage == "discuss"
    with c.uow(readonly=True) as uow:
        told = {
            p: [n.subject for n in uow.inbox.for_person(p)] for p in ("p_head_a", "p_pl", "p_chair")
        }
    moved = "School A: move on to the discussion — now at Discussion"
    assert told == {"p_head_a": [moved], "p_pl": [moved], "p_chair": []}
