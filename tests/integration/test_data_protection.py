"""Data protection: export everything about one school; erase one piece of evidence for good."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from adapters.files import FileStore, FileTooLarge
from adapters.migrate import SchemaOutOfDate, upgrade
from adapters.unit_of_work import SqlUnitOfWork
from engine import records as R
from engine.cycle import Actor, EvidenceFile
from engine.errors import RoleNotAllowed
from service.bootstrap import build
from service.cli import main
from service.settings import Settings
from service.usecases.core import Peerloop, export_school
from tests.integration.test_storage_contract import HEAD, LEAD, T0, seed


@pytest.fixture
def world(sqlite_engine: Engine, tmp_path: Path) -> tuple[Peerloop, FileStore]:
    upgrade(sqlite_engine)
    app = seed(lambda **kw: SqlUnitOfWork(sqlite_engine, **kw))
    return app, FileStore(tmp_path / "files", max_bytes=1024)


def add_file_evidence(
    app: Peerloop, files: FileStore, cycle_id: str, ev_id: str, data: bytes
) -> str:
    stored = files.put([data[:10], data[10:]])
    meta = EvidenceFile(stored.sha256, stored.size, "text/plain", "notes.txt")
    app.record(
        cycle_id,
        lambda c: HEAD,
        lambda t, c, a, now: R.add_evidence(t, c, a, ev_id, "impact.outcomes", "Notes", now, meta),
    )
    return stored.sha256


def test_file_store_names_files_by_content_and_bounds_size(tmp_path: Path) -> None:
    files = FileStore(tmp_path, max_bytes=8)
    a = files.put([b"abc", b"def"])
    assert a.size == 6 and files.open(a.sha256).read_bytes() == b"abcdef"
    assert files.open(a.sha256).parent.parent == tmp_path  # never under a user's name
    assert files.put([b"abcdef"]) == a  # same content, stored once
    with pytest.raises(FileTooLarge):
        files.put([b"12345", b"67890"])
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [a.sha256[2:]]
    with pytest.raises(ValueError):
        files.open("../../etc/passwd")


def test_erasing_evidence_removes_row_and_file_and_is_recorded(
    world: tuple[Peerloop, FileStore],
) -> None:
    app, files = world
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    sha = add_file_evidence(app, files, cycle.id, "ev1", b"pupil interview notes")
    assert app.cycle(cycle.id).evidence["ev1"].file == EvidenceFile(
        sha, 21, "text/plain", "notes.txt"
    )

    with pytest.raises(RoleNotAllowed):
        app.erase_evidence(cycle.id, "ev1", lambda c: LEAD, "asked by parent")
    orphan = app.erase_evidence(cycle.id, "ev1", lambda c: HEAD, "parent withdrew consent")
    assert orphan == sha
    files.delete(orphan)

    after = app.cycle(cycle.id)
    assert "ev1" not in after.evidence
    assert not files.exists(sha)
    with app.uow(readonly=True) as uow:
        last = uow.history.for_cycle(cycle.id)[-1]
    assert {k: v for k, v in last.detail.items() if k != "digest"} == {
        "record": "evidence",
        "id": "ev1",
        "change": "erased",
    }
    assert last.reason == "parent withdrew consent" and last.actor == HEAD.id


def test_file_shared_by_two_pieces_of_evidence_survives_one_erasure(
    world: tuple[Peerloop, FileStore],
) -> None:
    app, files = world
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    sha = add_file_evidence(app, files, cycle.id, "ev1", b"same bytes, twice")
    add_file_evidence(app, files, cycle.id, "ev2", b"same bytes, twice")
    assert app.erase_evidence(cycle.id, "ev1", lambda c: HEAD, "duplicate") is None
    assert files.exists(sha)


def test_export_holds_the_school_and_only_it(world: tuple[Peerloop, FileStore]) -> None:
    app, files = world
    mine = app.start_cycle("spp-cycle", "s_a", LEAD, cycle_id="mine")
    app.start_cycle("spp-cycle", "s_b", LEAD, cycle_id="theirs")
    add_file_evidence(app, files, mine.id, "ev1", b"evidence text")
    with app.uow(readonly=True) as uow:
        data = export_school(uow, "s_a", T0)
    json.dumps(data)  # JSON-ready all the way down
    assert data["school"]["urn"] == "100001"
    assert [p["person"]["id"] for p in data["people"]] == ["p_head_a"]
    assert [c["cycle"]["id"] for c in data["cycles"]] == ["mine"]
    exported = data["cycles"][0]
    assert exported["cycle"]["evidence"]["ev1"]["file"]["original_name"] == "notes.txt"
    assert [h["kind"] for h in exported["history"]] == ["started", "record"]


def test_export_command_writes_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PEERLOOP_DATABASE_URL", raising=False)
    container = build(Settings.from_env())
    seed(container.uow)
    container.app.start_cycle("spp-cycle", "s_a", Actor("x", frozenset()), cycle_id="c1")
    container.close()
    out = tmp_path / "export.json"
    result = CliRunner().invoke(main, ["export", "school", "s_a", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["cycles"][0]["cycle"]["id"] == "c1"
    missing = CliRunner().invoke(main, ["export", "school", "no-such-school"])
    assert missing.exit_code == 1 and "no school 'no-such-school'" in missing.output


def test_postgres_refuses_to_start_on_an_old_schema(pg_engine: Engine, tmp_path: Path) -> None:
    url = pg_engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path, database_url=url)
    with pytest.raises(SchemaOutOfDate, match="run `peerloop db upgrade`"):
        build(settings)
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"PEERLOOP_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "empty -> 0002" in result.output or "empty ->" in result.output
    build(settings).close()  # now it starts


def test_export_commands_write_an_archive_with_a_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEERLOOP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PEERLOOP_DATABASE_URL", raising=False)
    container = build(Settings.from_env())
    app = seed(container.uow)
    c = app.start_cycle("spp-cycle", "s_a", LEAD, cycle_id="c1")
    add_file_evidence(app, container.files, c.id, "ev1", b"pupil voice notes, year 6")
    container.close()
    out = tmp_path / "school.zip"
    result = CliRunner().invoke(main, ["export", "school", "s_a", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        [f] = manifest["files"]
        assert archive.read(f["path"]) == b"pupil voice notes, year 6"
        assert json.loads(archive.read("data.json"))["school"]["id"] == "s_a"
    person = tmp_path / "person.json"
    result = CliRunner().invoke(main, ["export", "person", "p_head_a", "-o", str(person)])
    assert result.exit_code == 0, result.output
    [cycle] = json.loads(person.read_text())["cycles"]
    assert cycle["evidence"][0]["added_by"] == "p_head_a"
