"""`peerloop templates validate` and `peerloop templates diagram`, through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from adapters.template_files import read_file
from engine.diagram import mermaid
from service.cli import main

WORKFLOWS = Path(__file__).parents[2] / "workflows"
SPP = WORKFLOWS / "spp-cycle.yaml"
SHIPPED = sorted(WORKFLOWS.glob("*.yaml"))


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only line of `text` containing `needle`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of the SPP template with two mistakes: a month-long due and an unknown role."""
    text = SPP.read_text(encoding="utf-8")
    text = replace_once(text, "      due: P6W\n", "      due: P6M\n")
    text = replace_once(
        text,
        "    to: pre_review\n    roles: [school_lead]\n",
        "    to: pre_review\n    roles: [school_leader]\n",
    )
    path = tmp_path / "spp-broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_accepts_every_shipped_template() -> None:
    assert len(SHIPPED) >= 3
    result = run("templates", "validate", *SHIPPED)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(SHIPPED)
    assert f"{SPP}: valid (spp-cycle@1: 9 stages, 10 transitions, 8 questions)" in lines
    assert all(": valid (" in line for line in lines)


def test_validate_lists_every_issue_with_file_and_line(broken: Path) -> None:
    text = broken.read_text(encoding="utf-8")
    result = run("templates", "validate", broken)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{broken}:{line_of(text, 'due: P6M')}: stages[0].deadline.due: "
        "'P6M' uses years or months, which have no fixed length; use weeks or days",
        f"{broken}:{line_of(text, 'roles: [school_leader]')}: transitions[0].roles: "
        "unknown role 'school_leader'",
    ]
    assert f"{broken}: 2 issue(s)" in result.stderr


def test_validate_fails_when_any_file_fails(broken: Path) -> None:
    result = run("templates", "validate", SPP, broken)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{SPP}: valid (")
    assert len(lines) == 3
    assert all(line.startswith(f"{broken}:") for line in lines[1:])


def test_validate_reports_a_yaml_syntax_error_with_its_line(tmp_path: Path) -> None:
    text = SPP.read_text(encoding="utf-8")
    text = replace_once(text, "    roles: [school_lead]\n", "    roles: [school_lead\n")
    path = tmp_path / "syntax.yaml"
    path.write_text(text, encoding="utf-8")
    result = run("templates", "validate", path)
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"{path}:")
    assert ": (document): YAML syntax error at line " in line
    number = int(line.removeprefix(f"{path}:").split(":")[0])
    # The flow list left open is found where YAML gives up: after it, not before.
    opened = text[: text.index("    roles: [school_lead\n")].count("\n") + 1
    assert number > opened


def test_validate_a_json_template(tmp_path: Path) -> None:
    data = yaml.safe_load(SPP.read_text(encoding="utf-8"))
    good = tmp_path / "spp.json"
    good.write_text(json.dumps(data), encoding="utf-8")
    assert run("templates", "validate", good).exit_code == 0
    data["transitions"][1]["to"] = "self_reveiw"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, indent=2), encoding="utf-8")
    result = run("templates", "validate", bad)
    assert result.exit_code == 1
    # FILE:LINE: location: message, for JSON as for YAML.
    line = bad.read_text().splitlines().index('      "to": "self_reveiw",') + 1
    said = f"{bad}:{line}: transitions[1].to: unknown stage 'self_reveiw'"
    assert said in result.stdout.splitlines()


def test_validate_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run("templates", "validate", missing)
    assert result.exit_code == 1
    assert f"{missing}: (file): no such file" in result.stderr


def test_validate_needs_a_file() -> None:
    assert run("templates", "validate").exit_code == 2


def test_diagram_prints_the_mermaid_diagram() -> None:
    result = run("templates", "diagram", SPP)
    assert result.exit_code == 0, result.output
    assert result.stdout == mermaid(read_file(SPP).build())
    assert result.stdout.startswith(
        "---\ntitle: Schools Partnership Programme cycle (v1)\n---\nstateDiagram-v2\n"
    )
    assert "    [*] --> s_self_review\n" in result.stdout
    assert "    s_self_review --> s_pre_review: Submit the self-review\n" in result.stdout
    assert "class " not in result.stdout


def test_diagram_highlights_a_stage() -> None:
    result = run("templates", "diagram", SPP, "--stage", "peer_review")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("    class s_peer_review current\n")


def test_diagram_refuses_an_unknown_stage() -> None:
    result = run("templates", "diagram", SPP, "--stage", "nowhere")
    assert result.exit_code == 2
    assert "the template has no stage 'nowhere'" in result.stderr


def test_diagram_of_an_invalid_template(broken: Path) -> None:
    result = run("templates", "diagram", broken)
    assert result.exit_code == 1
    assert f"{broken} is not a valid template; run `peerloop templates validate" in result.stderr
    assert result.stdout == ""
