"""The README's five-minute tour, run as written against `peerloop serve` on a fresh demo."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).parents[2]


def _tour_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Five-minute tour", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(shutil.which("curl") is None, reason="the tour uses curl")
def test_readme_tour_works_as_written(tmp_path: Path) -> None:
    blocks = _tour_blocks()
    assert len(blocks) == 3, "the tour has a head's part, a review lead's part and the inbox"
    port = _free_port()
    env = {**os.environ, "PEERLOOP_DATA_DIR": str(tmp_path / "var"), "PEERLOOP_PORT": str(port)}
    env.pop("PEERLOOP_DATABASE_URL", None)
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, Path(log.name).read_text()
            time.sleep(0.25)
        printed = Path(log.name).read_text()
        tokens = dict(re.findall(r"^\s+(\w+)\s+.*?(plt_\S+)$", printed, flags=re.M))
        assert {"school_lead", "review_lead"} <= set(tokens), printed
        shell = {**env, "BASE": base, "HEAD": tokens["school_lead"], "LEAD": tokens["review_lead"]}
        outputs = []
        for block in blocks:
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block],
                cwd=tmp_path,
                env=shell,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, (
                f"{block}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
            )
            outputs.append(done.stdout)
        head, lead, inbox = outputs
        assert '"unread":' in inbox and '"email":"immediate"' in inbox
        assert '"id":"cyc-131201"' in head
        assert '"file_name":"reading.txt"' in head
        assert "has no evidence yet" in head and '"allowed":false' in head
        assert '"to_stage":"improvement_workshop"' in lead
        assert '"transition":"complete_peer_review"' in lead
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
