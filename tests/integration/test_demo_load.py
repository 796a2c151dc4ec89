"""The demo partnership loads only where it is meant to: into an empty database, whole, once.

`peerloop serve` loads it by default on the embedded SQLite database only; on a database named
by URL only when `PEERLOOP_DEMO=1` asks for it, and even then only into a database with no
people, schools or networks. The load is one transaction under a database-wide lock, so that of
replicas starting together exactly one loads it, and only that one prints its credentials.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from adapters.db import create_db_engine
from adapters.migrate import upgrade
from service.bootstrap import build
from service.cli import main
from service.demo import load_demo
from service.settings import Settings
from tests.integration.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "gias-sample.csv"
START_SECONDS = 180  # three replicas loading on two shared cores


@pytest.fixture
def pg_url(pg_ready: None) -> Iterator[str]:
    """A URL to a PostgreSQL schema of its own, at the newest schema, dropped afterwards."""
    schema = f"peerloop_demo_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def counts(url: str) -> dict[str, int]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() or 0)
                for t in ("network", "school", "person", "cycle", "api_token")
            }
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLOOP_")}
    return env | {"PEERLOOP_DATA_DIR": str(tmp / "var"), "PEERLOOP_DATABASE_URL": url} | extra


def serve_together(tmp: Path, url: str, replicas: int, **env: str) -> list[str]:
    """Start `replicas` processes of `peerloop serve` at once on one database; once every
    one answers /health, stop them and return what each printed."""
    procs = []
    for n in range(replicas):
        port = _free_port()
        log = (tmp / f"serve-{n}.log").open("w+")
        extra = {"PEERLOOP_PORT": str(port), "PEERLOOP_JOBS": "0", **env}
        p = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve"],
            cwd=tmp,
            env=_env(tmp / f"r{n}", url, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append((p, port, log))
    try:
        deadline = time.monotonic() + START_SECONDS
        for p, port, log in procs:
            while True:
                assert p.poll() is None, Path(log.name).read_text()
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, Path(log.name).read_text()
                time.sleep(0.25)
    finally:
        for p, _, _ in procs:
            p.terminate()
        for p, _, log in procs:
            p.wait(timeout=30)
            log.close()
    return [Path(log.name).read_text() for _, _, log in procs]


def test_the_demo_is_asked_for_or_only_on_the_embedded_database() -> None:
    """Unset, `PEERLOOP_DEMO` means the embedded SQLite database only; `1`/`true` asks for
    it whatever the database; `0` never."""
    pg = {"PEERLOOP_DATABASE_URL": "postgresql://db.example/peerloop"}
    assert Settings.from_env({}).loads_demo
    assert not Settings.from_env(pg).loads_demo
    assert Settings.from_env({**pg, "PEERLOOP_DEMO": "true"}).loads_demo
    assert Settings.from_env({**pg, "PEERLOOP_DEMO": "1"}).loads_demo
    assert not Settings.from_env({"PEERLOOP_DEMO": "0"}).loads_demo


def test_serve_asked_for_the_demo_on_a_postgresql_where_schools_were_imported(
    pg_url: str, tmp_path: Path
) -> None:
    """`serve` starts (it used to crash with a KeyError, leaving half a demo), loads nothing
    into the partnership's database and prints no credentials, saying why."""
    runner = CliRunner()
    done = runner.invoke(
        main, ["schools", "import", str(SAMPLE)], env=_env(tmp_path, pg_url, PEERLOOP_DEMO="0")
    )
    assert done.exit_code == 0, done.output
    before = counts(pg_url)
    assert before["school"] > 0 and before["network"] == before["person"] == 0
    [printed] = serve_together(tmp_path, pg_url, 1, PEERLOOP_DEMO="1")
    assert "plt_" not in printed and "password" not in printed
    assert "already holds a partnership: the demo is not loaded" in printed
    assert counts(pg_url) == before


def test_three_replicas_starting_together_on_an_empty_postgresql(
    pg_url: str, tmp_path: Path
) -> None:
    """Exactly one loads the demo, once, and only that one prints demo tokens; the other two
    wait for it, then start on the loaded database and say they did not load it."""
    printed = serve_together(tmp_path, pg_url, 3, PEERLOOP_DEMO="1")
    loaded = [p for p in printed if "Demo loaded:" in p]
    assert len(loaded) == 1, printed
    assert len(re.findall(r"plt_\S+", loaded[0])) == 8
    others = [p for p in printed if p is not loaded[0]]
    assert all("plt_" not in p and "the demo is not loaded" in p for p in others)
    assert counts(pg_url) == {
        "network": 3,
        "school": 15,
        "person": 37,
        "cycle": 15,
        "api_token": 8,
    }


def test_a_demo_load_that_fails_half_way_leaves_nothing(pg_url: str, tmp_path: Path) -> None:
    """The load is one transaction: a failure after the directory and templates were written
    leaves the database as empty as it was, and a later start loads the demo whole."""
    container = build(Settings(data_dir=tmp_path, database_url=pg_url))
    try:

        def fail_after_templates(step: str) -> None:
            if step == "templates":
                raise RuntimeError("the process died")

        with pytest.raises(RuntimeError, match="the process died"):
            container.load_once(lambda app: load_demo(app, app.clock.now(), fail_after_templates))
        assert counts(pg_url) == dict.fromkeys(counts(pg_url), 0)
        with container.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM template_version")).scalar() == 0
        summary = container.load_once(lambda app: load_demo(app, app.clock.now()))
        assert summary is not None and len(summary.cycles) == 15
        assert container.load_once(lambda app: load_demo(app, app.clock.now())) is None
    finally:
        container.close()
