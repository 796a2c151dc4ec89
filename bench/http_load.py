"""`python -m bench.http_load`: moves per second over HTTP, against a bare endpoint.

Two servers run as processes of their own on one SQLite file: `peerloop serve` (the whole
stack: authentication, authorization, the engine, history, deadlines, logging, metrics) and a
bare Litestar app whose endpoint does the same database write by hand (bump the cycle's version
if it is the expected one, append a history row), with no authentication and no engine. This
process is the load: 1, 8 and 32 clients, each moving a cycle of its own back and forth
(pause / reopen) with the If-Match its last answer gave, for a fixed time per level.

Prints requests per second and p50/p99 latency for each, and the ratio of the two rates.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
LEVELS = (1, 8, 32)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(data_dir: Path, cycles: int) -> tuple[str, list[str]]:
    """A school, a partnership lead with a token, and `cycles` SPP cycles; (secret, cycle ids)."""
    from engine.cycle import Actor
    from engine.directory import Grant, Network, Person, School
    from service.auth import issue_token
    from service.bootstrap import build
    from service.settings import Settings

    container = build(Settings(data_dir=data_dir, demo=False))
    try:
        now = datetime.now(UTC)
        with container.uow() as uow:
            uow.directory.add_network(Network("nlc-b", "Bench NLC"))
            uow.directory.add_school(School("sch-b", "199999", "Bench School", "Primary", "nlc-b"))
            uow.directory.add_person(Person("p-pl", "Bench Lead", "pl@bench.example"))
            uow.directory.add_grant(Grant("g-pl", "p-pl", "partnership_lead", "network", "nlc-b"))
            _, secret = issue_token(uow, "p-pl", "bench", now, now + timedelta(days=1))
            uow.commit()
        source = (ROOT / "workflows" / "spp-cycle.yaml").read_bytes()
        container.app.upload_template(source, "spp-cycle.yaml", publish=True)
        lead = Actor("p-pl", frozenset({"partnership_lead"}))
        ids = [
            container.app.start_cycle("spp-cycle", "sch-b", lead, cycle_id=f"cyc-{n:03d}").id
            for n in range(cycles)
        ]
    finally:
        container.close()
    return secret, ids


@dataclass
class Level:
    clients: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


Mover = Callable[[httpx.AsyncClient, str, str], Awaitable[tuple[bool, str]]]


async def _peerloop_move(client: httpx.AsyncClient, cycle: str, tag: str) -> tuple[bool, str]:
    """Pause the cycle, or reopen it: each version moves it once, so odd versions (the cycle
    starts at 1, in self-review) are paused and even ones reopened. Returns (ok, new ETag)."""
    name = "pause" if int(tag.strip('"')) % 2 else "reopen"
    r = await client.post(f"/cycles/{cycle}/transitions/{name}", headers={"If-Match": tag})
    return r.status_code == 200, r.headers.get("etag", tag)


async def _bare_move(client: httpx.AsyncClient, cycle: str, tag: str) -> tuple[bool, str]:
    r = await client.post(f"/bare/{cycle}", headers={"If-Match": tag})
    return r.status_code == 200, r.headers.get("etag", tag)


async def _load(
    base: str, headers: dict[str, str], mover: Mover, cycles: list[str], clients: int, secs: float
) -> Level:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as c:
        tags = {}
        for cycle in cycles[:clients]:
            r = await c.get(f"/cycles/{cycle}") if "Authorization" in headers else None
            tags[cycle] = r.headers["etag"] if r is not None else '"0"'
        stop = time.perf_counter() + secs

        async def worker(cycle: str) -> None:
            nonlocal errors
            tag = tags[cycle]
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                ok, tag = await mover(c, cycle, tag)
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += not ok

        start = time.perf_counter()
        await asyncio.gather(*(worker(cycle) for cycle in cycles[:clients]))
        took = time.perf_counter() - start
    return Level(clients, len(latencies), took, latencies, errors)


def _wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server at {base} exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"the server at {base} did not start")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per level and server")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="peerloop-bench-") as tmp:
        data = Path(tmp)
        secret, cycles = seed(data, max(LEVELS) * 2)
        env = {
            **os.environ,
            "PEERLOOP_DATA_DIR": str(data),
            "PEERLOOP_DEMO": "0",
            "PEERLOOP_JOBS": "0",
            "PEERLOOP_LOG_FORMAT": "json",
        }
        ours, bare = _free_port(), _free_port()
        servers = [
            subprocess.Popen(
                [sys.executable, "-m", "service.cli", "serve", "--port", str(ours)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            subprocess.Popen(
                [sys.executable, "-m", "bench.http_bare", str(data / "peerloop.db"), str(bare)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        ]
        try:
            _wait_up(f"http://127.0.0.1:{ours}", servers[0])
            _wait_up(f"http://127.0.0.1:{bare}", servers[1])
            auth = {"Authorization": f"Bearer {secret}"}
            half = len(cycles) // 2
            print(
                f"{'clients':>7} | {'peerloop rps':>12} {'p50 ms':>7} {'p99 ms':>7} | "
                f"{'bare rps':>9} {'p50 ms':>7} {'p99 ms':>7} | {'ratio':>5} | errors"
            )
            for clients in LEVELS:
                a = asyncio.run(
                    _load(
                        f"http://127.0.0.1:{ours}",
                        auth,
                        _peerloop_move,
                        cycles[:half],
                        clients,
                        args.seconds,
                    )
                )
                b = asyncio.run(
                    _load(
                        f"http://127.0.0.1:{bare}",
                        {},
                        _bare_move,
                        cycles[half:],
                        clients,
                        args.seconds,
                    )
                )
                print(
                    f"{clients:>7} | {a.rate:>12.0f} {a.pct(50):>7.1f} {a.pct(99):>7.1f} | "
                    f"{b.rate:>9.0f} {b.pct(50):>7.1f} {b.pct(99):>7.1f} | "
                    f"{a.rate / b.rate:>5.2f} | {a.errors}/{b.errors}"
                )
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(10)
    print("(p50 and p99 by rank over every request of the level)")


if __name__ == "__main__":
    main()
