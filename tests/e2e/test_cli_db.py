"""`peerloop db upgrade` on a first run, when the SQLite file's directory does not exist yet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.migrate import head_revision
from service.cli import main


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and no database settings: the defaults apply (`var/`)."""
    monkeypatch.chdir(tmp_path)
    for name in ("PEERLOOP_DATA_DIR", "PEERLOOP_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PEERLOOP_DEMO", "0")
    return tmp_path


def test_upgrade_creates_the_default_data_directory(fresh: Path) -> None:
    assert not (fresh / "var").exists()
    runner = CliRunner()
    first = runner.invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    db = (fresh / "var" / "peerloop.db").resolve()
    assert first.output == f"database sqlite:///{db}: empty -> {head_revision()}\n"
    again = runner.invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert again.output.endswith(f": {head_revision()} -> {head_revision()}\n")
    listed = runner.invoke(main, ["cycles", "list", "--json"], catch_exceptions=False)
    assert listed.exit_code == 0 and json.loads(listed.output) == []


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_upgrade_creates_the_directory_a_database_url_names(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    path = Path("srv/peerloop/data/p.db")
    if where == "absolute":
        path = fresh / "elsewhere" / path
    monkeypatch.setenv("PEERLOOP_DATABASE_URL", f"sqlite:///{path}")
    result = CliRunner().invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (fresh / path).is_file()
    assert result.output.endswith(f": empty -> {head_revision()}\n")
    assert not (fresh / "var").exists(), "only the database's own directory is made"
