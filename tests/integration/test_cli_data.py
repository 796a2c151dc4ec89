"""The directory and cycle commands, through click's runner, on a SQLite database of their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import main

SAMPLE = Path(__file__).parents[2] / "docs" / "gias-sample.csv"
HEADER = "URN,EstablishmentName,PhaseOfEducation (name),LA (name),EstablishmentStatus (name)\n"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PEERLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PEERLOOP_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> object:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_every_command_has_help(run) -> None:
    for group in ("templates", "schools", "people", "cycles", "db", "audit", "export", "demo"):
        result = run(group, "--help")
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_import_the_shipped_sample(run) -> None:
    result = run("schools", "import", str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert "5 school(s) added, 0 already known, 0 row(s) skipped" in result.output
    again = run("schools", "import", str(SAMPLE))
    assert "0 school(s) added, 5 already known" in again.output
    listed = json.loads(run("schools", "list", "--json").output)
    assert {s["urn"] for s in listed} == {"131301", "131302", "138401", "100601", "102701"}
    assert "131399" not in {s["urn"] for s in listed}, "closed establishments are left out"


def test_malformed_rows_are_located_and_nothing_is_imported(run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + "131301,Elmstead Primary School,Primary,Riverside,Open\n"
        + "13130X,Typo Primary,Primary,Riverside,Open\n"
        + "131302,,Primary,Riverside,Open\n"
        + "131301,Elmstead Again,Primary,Riverside,Open\n"
        + "131303,Fine Primary,Primary,Riverside,Open\n"
    )
    result = run("schools", "import", str(bad))
    assert result.exit_code == 1
    assert "line 3: URN '13130X' is not a six-digit number" in result.output
    assert "line 4: EstablishmentName is empty" in result.output
    assert "line 5: URN 131301 is already on line 2" in result.output
    assert "nothing imported" in result.output
    assert json.loads(run("schools", "list", "--json").output) == []

    partial = run("schools", "import", str(bad), "--skip-invalid")
    assert partial.exit_code == 1  # still reports failure: three rows were not imported
    assert "2 school(s) added, 0 already known, 3 row(s) skipped" in partial.output
    urns = {s["urn"] for s in json.loads(run("schools", "list", "--json").output)}
    assert urns == {"131301", "131303"}


def test_missing_columns_and_missing_file(run, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("Name,Phase\nA,Primary\n")
    result = run("schools", "import", str(wrong))
    assert result.exit_code == 1
    assert (
        "line 1: missing column(s): URN, EstablishmentName, PhaseOfEducation (name)"
        in result.output
    )
    missing = run("schools", "import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.output


def test_unknown_network_is_refused(run) -> None:
    result = run("schools", "import", str(SAMPLE), "--network", "nlc-nowhere")
    assert result.exit_code == 1
    assert "no network 'nlc-nowhere'" in result.output


def test_people_add_with_grants(run) -> None:
    run("schools", "import", str(SAMPLE))
    grant = ("--grant", "school_lead@school:sch-131301")
    early = run("people", "add", "--name", "Ada Head", "--email", "ada@e.sch.uk", *grant)
    assert early.exit_code == 1
    assert "no template declares the role 'school_lead': upload the framework's" in early.output
    spp = Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml"
    assert run("templates", "publish", str(spp)).exit_code == 0
    ok = run(
        "people",
        "add",
        "--name",
        "Ada Head",
        "--email",
        "Ada@Elmstead.sch.uk",
        "--school",
        "sch-131301",
        "--grant",
        "school_lead@school:sch-131301",
    )
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip().startswith("p_")
    dup = run("people", "add", "--name", "Ada Again", "--email", "ada@elmstead.sch.uk")
    assert dup.exit_code == 1 and "someone already has that email address" in dup.output
    bad = run("people", "add", "--name", "X", "--email", "x@y.uk", "--grant", "reviewer@town:1")
    assert bad.exit_code == 2 and "ROLE@network|school|cycle:ID" in bad.output


def test_publish_and_cycles_commands(run, tmp_path: Path) -> None:
    spp = Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml"
    assert run("templates", "publish", str(spp)).output.strip() == "spp-cycle version 1: published"
    again = run("templates", "publish", str(spp))
    assert again.exit_code == 1 and "is published and never changes" in again.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(spp.read_text().replace("to: pre_review", "to: pre_reveiw"))
    bad = run("templates", "publish", str(broken))
    assert bad.exit_code == 1
    assert "transitions[0].to: unknown stage 'pre_reveiw'" in bad.output
    assert json.loads(run("cycles", "list", "--json").output) == []
    missing = run("cycles", "show", "cyc-nope")
    assert missing.exit_code == 1 and "no cycle 'cyc-nope'" in missing.output
