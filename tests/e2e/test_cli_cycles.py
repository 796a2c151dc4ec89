"""`peerloop cycles start` through click's runner, on a SQLite file set up by the CLI itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from service.cli import main

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "docs" / "gias-sample.csv"
SPP = ROOT / "workflows" / "spp-cycle.yaml"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PEERLOOP_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PEERLOOP_DEMO", "0")
    monkeypatch.delenv("PEERLOOP_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        # Exceptions are not caught: a refusal must be a clean error, never a traceback.
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


@pytest.fixture
def people(run) -> dict[str, str]:
    """Two networks, the sample schools in the north one, the SPP template, and people."""
    ok(run("networks", "add", "--id", "nlc-north", "--name", "North NLC"))
    ok(run("networks", "add", "--id", "nlc-south", "--name", "South NLC"))
    ok(run("schools", "import", str(SAMPLE), "--network", "nlc-north"))
    ok(run("templates", "publish", str(SPP)))

    def add(name: str, email: str, *grants: str) -> str:
        args = ["people", "add", "--name", name, "--email", email]
        for g in grants:
            args += ["--grant", g]
        return ok(run(*args))

    return {
        "admin": add("Ada Admin", "ada@council.gov.uk", "admin"),
        "north": add("Pat North", "pat@north.org", "partnership_lead@network:nlc-north"),
        "south": add("Sam South", "sam@south.org", "partnership_lead@network:nlc-south"),
        "head": add("Hal Head", "hal@elmstead.sch.uk", "school_lead@school:sch-131301"),
    }


def listed(run) -> list[dict[str, Any]]:
    return json.loads(ok(run("cycles", "list", "--json")))


def test_the_networks_partnership_lead_starts_a_cycle_by_urn(run, people) -> None:
    result = run(
        "cycles", "start", "--template", "spp-cycle", "--school", "131301", "--as", "pat@north.org"
    )
    out = ok(result)
    lines = out.splitlines()
    assert lines[0].startswith("started cyc_")
    cycle_id = lines[0].removeprefix("started ")
    assert "school:     Elmstead Primary School (sch-131301, URN 131301)" in out
    assert "template:   Schools Partnership Programme cycle (spp-cycle version 1)" in out
    assert "stage:      Self-review" in out
    assert "started by: Pat North (pat@north.org)" in out
    assert result.stderr == ""  # no other active cycle: no warning

    [row] = listed(run)
    assert row["id"] == cycle_id
    assert row["host_school_id"] == "sch-131301"
    assert row["stage"] == "self_review"
    shown = json.loads(ok(run("cycles", "show", cycle_id, "--json")))
    assert [(h["kind"], h["actor"]) for h in shown["history"]][:1] == [
        ("started", people["north"])
    ], "the history names the person, not the operator"


def test_an_admin_starts_one_by_school_id_and_is_warned_of_the_active_one(run, people) -> None:
    first = json.loads(
        ok(
            run(
                "cycles",
                "start",
                "--template",
                "spp-cycle",
                "--school",
                "sch-131301",
                "--as",
                people["admin"],
                "--json",
            )
        )
    )
    assert first["warnings"] == []
    assert first["started_by"] == people["admin"]
    assert (first["school"], first["template"], first["stage_title"]) == (
        "Elmstead Primary School",
        "Schools Partnership Programme cycle",
        "Self-review",
    )
    again = run(
        "cycles",
        "start",
        "--template",
        "spp-cycle",
        "--school",
        "131301",
        "--version",
        "1",
        "--as",
        "ada@council.gov.uk",
    )
    assert again.exit_code == 0, again.output
    assert again.stderr.startswith("warning: Elmstead Primary School already has an active")
    assert first["id"] in again.stderr and "check that a second one is meant" in again.stderr
    assert "warning" not in again.stdout
    assert len(listed(run)) == 2


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        (
            "sam@south.org",
            "Sam South (sam@south.org) may not start a cycle for Elmstead Primary School: "
            "only an admin or the Partnership lead of the school's network may start it",
        ),
        (
            "hal@elmstead.sch.uk",
            "Hal Head (hal@elmstead.sch.uk) may not start a cycle for Elmstead Primary School: "
            "only an admin or the Partnership lead of the school's network may start it",
        ),
        ("nobody@nowhere.org", "no person has the email address or id 'nobody@nowhere.org'"),
    ],
)
def test_someone_who_may_not_start_it_is_refused(run, people, who: str, reason: str) -> None:
    result = run("cycles", "start", "--template", "spp-cycle", "--school", "131301", "--as", who)
    assert result.exit_code == 1
    assert result.output == f"Error: {reason}\n"
    assert listed(run) == []


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--template", "nope", "--school", "131301"], "no template 'nope'"),
        (["--template", "spp-cycle", "--school", "999999"], "no school has the id or URN '999999'"),
        (["--template", "spp-cycle", "--school", "sch-x"], "no school has the id or URN 'sch-x'"),
        (
            ["--template", "spp-cycle", "--school", "131301", "--version", "7"],
            "no template 'spp-cycle@7'",
        ),
    ],
)
def test_unknown_things_are_named(run, people, args: list[str], reason: str) -> None:
    result = run("cycles", "start", *args, "--as", "ada@council.gov.uk")
    assert result.exit_code == 1
    assert result.output == f"Error: {reason}\n"
    assert listed(run) == []


def test_a_draft_is_not_started(run, people, tmp_path: Path) -> None:
    draft = tmp_path / "spp-v2.yaml"
    draft.write_text(SPP.read_text().replace("version: 1", "version: 2", 1))
    assert ok(run("templates", "publish", str(draft), "--draft")) == "spp-cycle version 2: draft"
    result = run(
        "cycles",
        "start",
        "--template",
        "spp-cycle",
        "--school",
        "131301",
        "--version",
        "2",
        "--as",
        "ada@council.gov.uk",
    )
    assert result.exit_code == 1
    assert "version 2 of 'spp-cycle' is a draft; publish it first" in result.output
    # Without --version the newest *published* version is taken.
    started = run(
        "cycles",
        "start",
        "--template",
        "spp-cycle",
        "--school",
        "131301",
        "--as",
        "ada@council.gov.uk",
    )
    assert "(spp-cycle version 1)" in ok(started)


def test_bad_usage_is_a_usage_error(run, people) -> None:
    missing = run("cycles", "start", "--template", "spp-cycle", "--school", "131301")
    assert missing.exit_code == 2 and "Missing option '--as'" in missing.output
    zero = run(
        "cycles",
        "start",
        "--template",
        "spp-cycle",
        "--school",
        "131301",
        "--version",
        "0",
        "--as",
        "ada@council.gov.uk",
    )
    assert zero.exit_code == 2 and "--version" in zero.output
    assert listed(run) == []


def test_a_persons_deadline_feed_by_email(run, people) -> None:
    ok(
        run(
            "cycles",
            "start",
            "--template",
            "spp-cycle",
            "--school",
            "131301",
            "--as",
            "pat@north.org",
        )
    )
    feed = ok(run("deadlines", "feed", "hal@elmstead.sch.uk"))
    assert feed.startswith("BEGIN:VCALENDAR") and "Elmstead Primary School" in feed
    missing = run("deadlines", "feed", "nobody")
    assert (missing.exit_code, missing.output) == (
        1,
        "Error: no person has the email address or id 'nobody'\n",
    )


def test_help_says_who_may_start_a_cycle(run) -> None:
    result = run("cycles", "start", "--help")
    assert result.exit_code == 0
    assert "partnership lead" in result.output and "--school SCHOOL" in result.output
