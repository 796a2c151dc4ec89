"""Concurrency over HTTP: two clients move the same cycle version at once; one wins."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from tests.e2e.flows import ok, start
from tests.e2e.world import World, open_world
from tests.integration.conftest import PG_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "sqlite":
        yield from open_world(tmp_path)
    else:
        yield request.getfixturevalue("pg_world")


def _race(w: World, calls: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    """Send the calls at once, each from its own thread."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int, who: str, path: str, kw: dict[str, Any]) -> None:
        barrier.wait()
        out[i] = w.post(who, path, **kw)

    threads = [
        threading.Thread(target=run, args=(i, who, path, kw))
        for i, (who, path, kw) in enumerate(calls)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def _moves(w: World, c: str) -> list[str]:
    history = ok(w.get("pl_own", f"/cycles/{c}/history"))
    return [e["transition"] for e in history if e["kind"] == "transition"]


@pytest.mark.parametrize("rounds", [5])
def test_two_clients_fire_on_the_same_version_one_wins(any_world: World, rounds: int) -> None:
    w = any_world
    for _ in range(rounds):
        c = start(w)
        tag = w.version("pl_own", c)
        kw = {"headers": {"If-Match": tag}}
        a, b = _race(
            w,
            [
                ("pl_own", f"/cycles/{c}/transitions/pause", kw),
                ("pl_own", f"/cycles/{c}/transitions/withdraw", kw),
            ],
        )
        assert sorted([a.status_code, b.status_code]) == [200, 412], (a.text, b.text)
        loser = a if a.status_code == 412 else b
        assert loser.headers["content-type"] == "application/problem+json"
        assert loser.json()["current_version"] == int(tag.strip('"')) + 1
        assert len(_moves(w, c)) == 1


def test_the_same_move_twice_at_once_with_one_idempotency_key_acts_once(any_world: World) -> None:
    w = any_world
    c = start(w)
    kw = {"headers": {"If-Match": w.version("pl_own", c), "Idempotency-Key": "pause-1"}}
    a, b = _race(
        w,
        [
            ("pl_own", f"/cycles/{c}/transitions/pause", kw),
            ("pl_own", f"/cycles/{c}/transitions/pause", kw),
        ],
    )
    # Either the retry saw the first one's stored result (200, replayed), or it raced it to
    # the version check and lost (412): never a second move.
    assert {a.status_code, b.status_code} <= {200, 412} and 200 in {a.status_code, b.status_code}
    assert _moves(w, c) == ["pause"]


def test_a_retry_with_its_idempotency_key_has_no_second_effect(world: World) -> None:
    c = start(world)
    headers = {"If-Match": world.version("pl_own", c), "Idempotency-Key": "k-1"}
    path = f"/cycles/{c}/transitions/pause"
    first = ok(world.post("pl_own", path, headers=headers))
    again = world.post("pl_own", path, headers=headers)
    assert again.status_code == 200 and again.headers["etag"] == f'"{first["version"]}"'
    body = again.json()
    assert body["replayed"] is True and first["replayed"] is False
    assert {k: v for k, v in body.items() if k != "replayed"} == {
        k: v for k, v in first.items() if k != "replayed"
    }
    assert _moves(world, c) == ["pause"]
    # the same key for another request is refused, and changes nothing
    other = world.post(
        "pl_own",
        f"/cycles/{c}/transitions/reopen",
        headers={"If-Match": again.headers["etag"], "Idempotency-Key": "k-1"},
    )
    assert other.status_code == 422
    assert other.json()["type"] == "urn:peerloop:problem:idempotency-key-reused"
    assert _moves(world, c) == ["pause"]
    # keys are per person: someone else's k-1 is theirs
    ok(
        world.post(
            "admin",
            f"/cycles/{c}/transitions/reopen",
            headers={"If-Match": again.headers["etag"], "Idempotency-Key": "k-1"},
            json={"force_reason": "The head asked for it by phone"},
        )
    )
    history = ok(world.get("pl_own", f"/cycles/{c}/history"))
    forced = [e for e in history if e["kind"] == "transition" and e["forced"]]
    assert [(e["transition"], e["reason"]) for e in forced] == [
        ("reopen", "The head asked for it by phone")
    ]


def test_a_database_connection_lost_mid_use_is_a_503_then_recovers(pg_world: World) -> None:
    """A connection the server dropped a moment after its last use (a restart, a failover) is
    answered with a 503 problem, nothing half-written, and the next request gets a new one."""
    who = next(iter(pg_world.tokens))
    assert pg_world.get(who, "/cycles").status_code == 200
    with pg_world.container.engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    lost = pg_world.get(who, "/cycles")
    assert lost.status_code == 503
    assert lost.headers["content-type"].startswith("application/problem+json")
    assert lost.headers["retry-after"] == "1"
    assert lost.json()["type"].endswith("storage-unavailable")
    assert "SELECT" not in lost.text and "psycopg" not in lost.text
    assert pg_world.get(who, "/cycles").status_code == 200


def _short_busy_timeout(w: World, ms: int = 200) -> None:
    """New SQLite connections wait `ms` for the write lock instead of 30 s (tests only)."""
    engine = w.container.engine
    sa.event.listen(
        engine, "connect", lambda dbapi, _rec: dbapi.execute(f"PRAGMA busy_timeout={ms}")
    )
    engine.dispose()


def test_a_move_while_another_process_holds_the_write_lock_is_a_503_then_succeeds(
    world: World,
) -> None:
    """SQLite: a writer that outstays the busy timeout (a backup, a long import) makes a move
    wait, then answer 503 with Retry-After, nothing written; sent again, it goes through."""
    c = start(world)
    tag = world.version("pl_own", c)
    _short_busy_timeout(world)
    holder = sqlite3.connect(world.container.engine.url.database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        busy = world.post("pl_own", f"/cycles/{c}/transitions/pause", headers={"If-Match": tag})
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"] == "1"
        assert busy.json()["type"] == "urn:peerloop:problem:storage-unavailable"
        assert "BEGIN" not in busy.text and "locked" not in busy.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert world.container.engine.pool.checkedout() == 0  # the failed unit of work let go
    assert _moves(world, c) == []
    ok(world.post("pl_own", f"/cycles/{c}/transitions/pause", headers={"If-Match": tag}))
    assert _moves(world, c) == ["pause"]
    assert ok(world.get("pl_own", f"/cycles/{c}"))["stage"] == "on_hold"


def test_a_database_fault_that_a_retry_cannot_cure_is_a_500_that_shows_no_sql(
    world: World,
) -> None:
    """A broken schema is a fault to log and fix, not "unavailable": 500, and the body names no
    table, column or statement (the log has them, without the bound values)."""
    c = start(world)
    with world.container.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE report_share RENAME TO share_moved_away")
    broken = world.get("pl_own", f"/cycles/{c}")
    assert broken.status_code == 500, broken.text
    assert broken.json()["type"] == "urn:peerloop:problem:internal-error"
    assert "report_share" not in broken.text and "SELECT" not in broken.text
