"""The CLI's directory and token commands go through the use cases: as the operator by default,
as a named person with `--as` (whose grants then apply)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from service.bootstrap import build
from service.cli import main
from service.cli_data import OPERATOR, person_principal
from service.settings import Settings
from service.usecases.inbox import Inbox
from service.usecases.messages import ListNotifications, ListPeople

SAMPLE = Path(__file__).parents[2] / "docs" / "gias-sample.csv"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PEERLOOP_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PEERLOOP_DEMO", "0")
    monkeypatch.delenv("PEERLOOP_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def emails(tmp_path: Path) -> set[str]:
    c = build(Settings(data_dir=tmp_path / "var", demo=False))
    try:
        return {p.email for p in c.usecases.handle(ListPeople(), OPERATOR)}
    finally:
        c.close()


def grant_notices(tmp_path: Path, person: str) -> list[str]:
    c = build(Settings(data_dir=tmp_path / "var", demo=False))
    try:
        inbox: Inbox = c.usecases.handle(ListNotifications(), person_principal(c, person))
    finally:
        c.close()
    return [n.text for n in inbox.notifications if n.kind == "grant"]


def test_networks_add_and_list(run) -> None:
    assert ok(run("networks", "add", "--id", "nlc-north", "--name", "North NLC")) == "nlc-north"
    made = ok(run("networks", "add", "--name", "  East NLC "))
    assert made.startswith("nlc_")
    rows = json.loads(ok(run("networks", "list", "--json")))
    assert {(n["id"], n["name"]) for n in rows} == {("nlc-north", "North NLC"), (made, "East NLC")}
    dup = run("networks", "add", "--id", "nlc-north", "--name", "Again")
    assert dup.exit_code == 1 and "nlc-north" in dup.output
    chair = run("networks", "add", "--name", "X", "--chair", "p_nobody")
    assert chair.output == "Error: no person 'p_nobody'\n" and chair.exit_code == 1


def test_the_first_admin_is_added_by_the_operator_then_acts_by_name(run, tmp_path) -> None:
    ok(run("schools", "import", str(SAMPLE)))
    ok(run("templates", "publish", str(Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml")))
    admin = ok(
        run(
            "people",
            "add",
            "--name",
            "Ada Admin",
            "--email",
            "Ada@Council.gov.uk",
            "--grant",
            "admin",
        )
    )
    assert admin.startswith("p_")
    head = ok(
        run(
            "people",
            "add",
            "--name",
            "Hal Head",
            "--email",
            "hal@elmstead.sch.uk",
            "--school",
            "sch-131301",
            "--grant",
            "school_lead@school:sch-131301",
            "--as",
            "ada@council.gov.uk",
        )
    )
    assert emails(tmp_path) == {"ada@council.gov.uk", "hal@elmstead.sch.uk"}

    # Each grant is announced as given by whoever gave it: the operator, or the person named.
    assert grant_notices(tmp_path, admin) == [
        "The Peerloop operator gave you the role admin everywhere."
    ]
    assert grant_notices(tmp_path, head) == [
        "Ada Admin gave you the role school lead at Elmstead Primary School."
    ]

    refused = run("people", "add", "--name", "Eve", "--email", "eve@x.org", "--as", head)
    assert refused.exit_code == 1
    assert refused.output == "Error: only an admin may do this\n"
    dup = run("people", "add", "--name", "Ada Again", "--email", "ADA@council.gov.uk")
    assert dup.exit_code == 1
    assert dup.output == "Error: someone already has that email address\n"
    assert emails(tmp_path) == {"ada@council.gov.uk", "hal@elmstead.sch.uk"}


def test_a_grant_in_an_unknown_scope_adds_nobody(run, tmp_path) -> None:
    ok(run("schools", "import", str(SAMPLE)))
    for grant, reason in [
        ("network_lead@network:nlc-nowhere", "no network 'nlc-nowhere'"),
        ("school_lead@school:sch-000000", "no school 'sch-000000'"),
        ("reviewer@cycle:cyc-nope", "no cycle 'cyc-nope'"),
    ]:
        bad = run("people", "add", "--name", "Bo", "--email", "bo@x.org", "--grant", grant)
        assert (bad.exit_code, bad.output) == (1, f"Error: {reason}\n")
    assert emails(tmp_path) == set()


def test_tokens_through_the_use_cases(run) -> None:
    ok(run("schools", "import", str(SAMPLE)))
    ada = ok(run("people", "add", "--name", "Ada", "--email", "ada@x.org", "--grant", "admin"))
    bo = ok(run("people", "add", "--name", "Bo", "--email", "bo@x.org"))
    made = json.loads(ok(run("tokens", "create", ada, "--json", "--expires-in", "3")))
    assert made["person_id"] == ada and made["secret"].startswith("plt_")
    refused = run("tokens", "create", ada, "--as", "bo@x.org")
    assert (refused.exit_code, refused.output) == (1, "Error: only an admin may do this\n")
    hidden = run("tokens", "revoke", made["id"], "--as", bo)
    assert (hidden.exit_code, hidden.output) == (1, f"Error: no token {made['id']!r}\n")
    assert ok(run("tokens", "revoke", made["id"], "--as", "ada@x.org")) == f"revoked {made['id']}"
    unknown = run("tokens", "create", "p_nobody")
    assert (unknown.exit_code, unknown.output) == (1, "Error: no person 'p_nobody'\n")


def test_only_an_admin_imports_schools_or_publishes(run) -> None:
    ok(run("people", "add", "--name", "Bo", "--email", "bo@x.org"))
    schools = run("schools", "import", str(SAMPLE), "--as", "bo@x.org")
    assert schools.exit_code == 1 and "Error: only an admin may do this" in schools.output
    spp = Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml"
    publish = run("templates", "publish", str(spp), "--as", "bo@x.org")
    assert (publish.exit_code, publish.output) == (1, "Error: only an admin may do this\n")
    assert json.loads(ok(run("schools", "list", "--json"))) == []


def test_people_erase_pseudonymises_a_person_and_says_how_much_went(run, tmp_path: Path) -> None:
    ok(run("networks", "add", "--id", "nlc-north", "--name", "North NLC"))
    ok(run("schools", "import", str(SAMPLE), "--network", "nlc-north"))
    ok(run("templates", "publish", str(Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml")))
    head = ok(
        run(
            "people", "add", "--name", "Hal Head", "--email", "hal@elmstead.sch.uk",
            "--school", "sch-131301", "--grant", "school_lead@school:sch-131301",
        )
    )  # fmt: skip
    said = ok(
        run("people", "erase", head, "--asked-by", "Hal, by letter", "--reason", "Request 12/2026")
    )
    assert said.splitlines()[0] == f"erased {head}, as asked by Hal, by letter:"
    assert "grants             1" in said and "notifications      1" in said
    [left] = emails(tmp_path)  # the only person, now without their address
    assert left.endswith("@erased.invalid") and "hal" not in left
    again = run("people", "erase", head, "--asked-by", "Hal", "--reason", "again")
    assert again.exit_code == 1 and "erased already" in again.output
