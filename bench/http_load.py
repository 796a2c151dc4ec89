"""The `http` benchmark group: Peerloop's HTTP service under load, against bare endpoints.

Two servers run as processes of their own on one SQLite file: `peerloop serve` (the whole
stack) and `bench.http_bare` (the same framework and server, the database work by hand). A third
process, `python -m bench.http_load generate`, is the load: a closed loop of 1, 8 or 32 clients
on keep-alive connections, each sending its next request when its last answer arrives, for a set
number of requests a round. `python -m bench http` runs the group.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.common import REGISTRY, Case, Comparison, group

__all__ = ["LEVELS", "http", "seed"]

ROOT = Path(__file__).resolve().parents[1]
LEVELS = (1, 8, 32)
ROUND_SECONDS = float(os.environ.get("PEERLOOP_BENCH_HTTP_ROUND", "1.0"))
"""About how long each case runs a round; the request count per round is sized to it."""


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


# --- the load generator: its own process, a minimal HTTP/1.1 keep-alive client ---


class _Connection:
    """One client's keep-alive connection. Hand-rolled rather than httpx so that the client's
    own cost per request (which shares the cores with both servers) stays small."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str]]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if method == "POST":
            lines.append("Content-Length: 0")
        message = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        reused = self.writer is not None
        try:
            head = await self._send(message)
        except (asyncio.IncompleteReadError, ConnectionError):
            # The server closes a connection left idle past its keep-alive timeout (while
            # other cases ran): open a fresh one once, as a browser or httpx would.
            if not reused:
                raise
            await self.close()
            head = await self._send(message)
        assert self.reader is not None
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        answer = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                answer[name.strip().lower()] = value.strip()
        if "content-length" in answer:
            await self.reader.readexactly(int(answer["content-length"]))
        elif answer.get("transfer-encoding") == "chunked":
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readline()
        if answer.get("connection", "").lower() == "close":
            await self.close()
        return int(status_line.split()[1]), answer

    async def _send(self, message: bytes) -> bytes:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(message)
        return await self.reader.readuntil(b"\r\n\r\n")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


class _Generator:
    """Runs the rounds the benchmark process asks for, one JSON line in and one out.

    Keeps each client's connection and each written cycle's ETag from round to round.
    """

    def __init__(self) -> None:
        self.connections: dict[tuple[str, int], _Connection] = {}
        self.tags: dict[tuple[str, str], str] = {}

    def _connection(self, base: str, client: int) -> _Connection:
        key = (base, client)
        if key not in self.connections:
            url = urlsplit(base)
            self.connections[key] = _Connection(url.hostname or "127.0.0.1", url.port or 80)
        return self.connections[key]

    async def _one(self, job: dict[str, Any], conn: _Connection, cycle: str) -> bool:
        headers = dict(job["headers"])
        read_path = job["read"].format(cycle=cycle)
        if job["op"] == "read":
            status, _ = await conn.request("GET", read_path, headers)
            return status == 200
        key = (job["base"], cycle)
        if key not in self.tags:
            _, answer = await conn.request("GET", read_path, headers)
            self.tags[key] = answer["etag"]
        tag = self.tags[key]
        # Peerloop: the cycle starts at version 1 in self-review and each move bumps the
        # version, so odd versions are in self-review (pause) and even ones on hold (reopen).
        name = "pause" if int(tag.strip('"')) % 2 else "reopen"
        status, answer = await conn.request(
            "POST", job["write"].format(cycle=cycle, move=name), {**headers, "If-Match": tag}
        )
        if status == 200:
            self.tags[key] = answer["etag"]
        else:
            del self.tags[key]  # learn the version afresh
        return status == 200

    async def run(self, job: dict[str, Any]) -> dict[str, Any]:
        clients, left = job["clients"], job["requests"]
        latencies: list[float] = []
        errors = 0

        async def client(i: int) -> None:
            nonlocal left, errors
            conn, cycle = self._connection(job["base"], i), job["cycles"][i]
            while left > 0:
                left -= 1
                t0 = time.perf_counter()
                ok = await self._one(job, conn, cycle)
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += not ok

        start = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        return {
            "seconds": time.perf_counter() - start,
            "latencies": [round(x, 3) for x in latencies],
            "errors": errors,
        }


async def _generate() -> None:
    generator, loop = _Generator(), asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        result = await generator.run(json.loads(line))
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


# --- the benchmark group ---


@dataclass
class _Load:
    """One side of one comparison: a job for the generator, and what its rounds measured."""

    generator: subprocess.Popen[str]
    job: dict[str, Any]
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def run(self, requests: int) -> float:
        assert self.generator.stdin is not None and self.generator.stdout is not None
        self.generator.stdin.write(json.dumps({**self.job, "requests": requests}) + "\n")
        self.generator.stdin.flush()
        line = self.generator.stdout.readline()
        if not line:
            raise RuntimeError("the load generator exited")
        result = json.loads(line)
        self.rates.append(requests / result["seconds"])
        self.latencies += result["latencies"]
        self.errors += result["errors"]
        return float(result["seconds"])

    def size(self) -> int:
        """Requests for a round of about ROUND_SECONDS, from a short untimed probe that also
        opens the connections and learns the ETags."""
        n = 2 * self.job["clients"]
        while (took := self.run(n)) < 0.3:
            n *= 2
        return max(4 * self.job["clients"], round(n * ROUND_SECONDS / took))

    def case(self, label: str) -> Case:
        requests = self.size()

        def reset() -> None:
            self.rates.clear()
            self.latencies.clear()
            self.errors = 0

        return Case(label, lambda: self.run(requests), calls=requests, loops=1, begin=reset)


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def _span(xs: list[float], digits: int = 0) -> str:
    if not xs:
        return "-"
    return f"{statistics.median(xs):.{digits}f} [{min(xs):.{digits}f}, {max(xs):.{digits}f}]"


def _report_line(what: str, clients: int, ours: _Load, bare: _Load) -> str:
    ratios = [a / b for a, b in zip(ours.rates, bare.rates, strict=False)]
    return (
        f"| {what} | {clients} | {_span(ours.rates)} | {_pct(ours.latencies, 50):.1f} / "
        f"{_pct(ours.latencies, 99):.1f} | {_span(bare.rates)} | {_pct(bare.latencies, 50):.1f}"
        f" / {_pct(bare.latencies, 99):.1f} | {_span(ratios, 2)} | {ours.errors} / {bare.errors} |"
    )


def _label(what: str, clients: int) -> str:
    return f"{what}, {clients} client{'' if clients == 1 else 's'}"


READ = "GET /cycles/{id}"
WRITE = "POST pause/reopen, If-Match"
BARE_READ = "bare GET (one SELECT)"
BARE_WRITE = "bare POST (versioned UPDATE + history INSERT)"

NOTES = (
    "**Peerloop**: `python -m service.cli serve` (uvicorn, one process, no scheduler jobs), on a "
    "SQLite file seeded with one network, school and partnership lead (a bearer token) and 96 "
    "SPP cycles in self-review. Each request goes through the whole stack: authentication, "
    "authorization, the unit of work and repositories, JSON logging, metrics. The read is "
    "`GET /cycles/{id}` (the cycle's view, with its ETag); the write is a pause or reopen "
    "(`POST /cycles/{id}/transitions/pause|reopen`) with the If-Match of the last answer, which "
    "loads the cycle, checks role and requirements, fires, and writes the cycle, hash-chained "
    "history and deadlines in one transaction.",
    "**bare** (`bench/http_bare.py`): the same uvicorn and Litestar, on the same SQLite file, "
    "with no authentication, engine or logging. The read selects the cycle row and returns it as "
    "JSON with its ETag; the write checks If-Match, bumps the version where it is unchanged, "
    "flips the stage and inserts a history row, in one transaction.",
    "The load is a separate process (`python -m bench.http_load generate`): a closed loop of 1, "
    "8 or 32 clients on keep-alive connections, each sending its next request when its last "
    "answer arrives; each client reads or moves a cycle of its own (Peerloop and bare move "
    f"different cycles). A round is a set number of requests, sized to about {ROUND_SECONDS:g} s "
    "by an untimed probe; the servers and the load share the machine's cores.",
    "µs/call is the round's wall time over its requests (the inverse of the request rate, not a "
    "latency), so the ratio is bare requests/s over Peerloop's. Below the table: requests/s per "
    "round, median [min, max]; p50 / p99 latency in ms over every request of the timed rounds; "
    "the rate ratio Peerloop / bare, paired per round; requests that did not answer 200.",
)


@group(
    "http",
    title="HTTP: Peerloop's service under load against a bare endpoint",
    libraries=("litestar", "uvicorn", "SQLAlchemy"),
    notes=NOTES,
    headline=tuple(_label(what, n) for what in (READ, WRITE) for n in (LEVELS[0], LEVELS[-1])),
)
def http() -> Iterator[list[Comparison]]:
    report = REGISTRY["http"].report
    report.clear()
    tmp = Path(tempfile.mkdtemp(prefix="peerloop-bench-http-"))
    procs: list[subprocess.Popen[Any]] = []
    top = max(LEVELS)
    try:
        secret, cycles = seed(tmp, 3 * top)
        reads, ours_moved, bare_moved = cycles[:top], cycles[top : 2 * top], cycles[2 * top :]
        env = {
            **os.environ,
            "PEERLOOP_DATA_DIR": str(tmp),
            "PEERLOOP_DEMO": "0",
            "PEERLOOP_JOBS": "0",
            "PEERLOOP_LOG_FORMAT": "json",
        }
        ours, bare = f"http://127.0.0.1:{_free_port()}", f"http://127.0.0.1:{_free_port()}"
        quiet = {"env": env, "cwd": ROOT, "stderr": subprocess.DEVNULL}
        serve = [sys.executable, "-m", "service.cli", "serve", "--port", ours.rsplit(":", 1)[1]]
        procs.append(subprocess.Popen(serve, stdout=subprocess.DEVNULL, **quiet))
        bare_cmd = [sys.executable, "-m", "bench.http_bare", str(tmp / "peerloop.db")]
        procs.append(
            subprocess.Popen(
                [*bare_cmd, bare.rsplit(":", 1)[1]], stdout=subprocess.DEVNULL, **quiet
            )
        )
        _wait_up(ours, procs[0])
        _wait_up(bare, procs[1])
        generator = subprocess.Popen(
            [sys.executable, "-m", "bench.http_load", "generate"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        procs.append(generator)

        auth = {"Authorization": f"Bearer {secret}"}
        ours_job = {"base": ours, "headers": auth, "read": "/cycles/{cycle}"}
        ours_job["write"] = "/cycles/{cycle}/transitions/{move}"
        bare_job = {"base": bare, "headers": {}, "read": "/bare/cycles/{cycle}"}
        bare_job["write"] = "/bare/cycles/{cycle}/move"
        loads: list[tuple[str, int, _Load, _Load]] = []
        comparisons = []
        for what, bare_what, op in ((READ, BARE_READ, "read"), (WRITE, BARE_WRITE, "move")):
            for n in LEVELS:
                a = _Load(generator, {**ours_job, "op": op, "clients": n})
                b = _Load(generator, {**bare_job, "op": op, "clients": n})
                a.job["cycles"] = reads if op == "read" else ours_moved
                b.job["cycles"] = reads if op == "read" else bare_moved
                loads.append((what, n, a, b))
                comparisons.append(
                    Comparison(a.case(_label(what, n)), b.case(_label(bare_what, n)))
                )
        yield comparisons

        report += [
            "| request | clients | Peerloop req/s | p50 / p99 ms | bare req/s | p50 / p99 ms "
            "| req/s ratio | non-200 |",
            "|---|--:|--:|--:|--:|--:|--:|--:|",
            *(_report_line(what, n, a, b) for what, n, a, b in loads),
        ]
    finally:
        for proc in reversed(procs):
            if proc.stdin is not None:
                proc.stdin.close()
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_up(base: str, proc: subprocess.Popen[Any]) -> None:
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


if __name__ == "__main__":
    if sys.argv[1:] != ["generate"]:
        sys.exit("usage: python -m bench.http_load generate (the load; run `python -m bench http`)")
    asyncio.run(_generate())
