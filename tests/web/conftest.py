"""Pages in a real browser: Playwright driving Debian's Chromium against `peerloop serve` on a
fresh demo borough, with axe-core on every page reached.

With CI=true a missing browser fails these tests (it is never silently skipped); elsewhere they
are skipped with the reason.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests must run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class Demo:
    base: str
    password: str
    people: dict[str, tuple[str, str, str]]
    """role -> (name, email, API token)"""
    printed: str

    def email(self, role: str) -> str:
        return self.people[role][1]

    def token(self, role: str) -> str:
        return self.people[role][2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("web")
    port = _free_port()
    env = {**os.environ, "PEERLOOP_DATA_DIR": str(tmp / "var"), "PEERLOOP_PORT": str(port)}
    env.pop("PEERLOOP_DATABASE_URL", None)
    log = (tmp / "serve.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve"],
        cwd=tmp,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, Path(log.name).read_text()
            time.sleep(0.25)
        printed = Path(log.name).read_text()
        password = re.search(r"with the password (\S+)", printed)
        assert password, printed
        people = {
            role: (name.strip(), email, token)
            for role, name, email, token in re.findall(
                r"^\s+(\w+)\s+(.+?)\s+(\S+@\S+)\s+(plt_\S+)$", printed, flags=re.M
            )
        }
        yield Demo(base, password.group(1), people, printed)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (make test installs it)")
    if not CHROMIUM.exists():
        _missing(f"Debian's chromium is not at {CHROMIUM} (make test installs it as root)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="Europe/London"
    )
    p = context.new_page()
    yield p
    context.close()


def assert_accessible(page: Any, context: str) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        v
        for v in results.response.get("violations", [])
        if v.get("impact") in ("serious", "critical")
    ]
    lines = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:5])
        for v in bad
    ]
    assert not bad, f"{context}: " + "; ".join(lines)


def screenshot(page: Any, name: str) -> Path:
    """docs/screenshots/<name>.png: made when missing, or again with PEERLOOP_SCREENSHOTS=1
    (the pages carry the time, so every run would change them otherwise)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    if not path.exists() or os.environ.get("PEERLOOP_SCREENSHOTS") == "1":
        page.screenshot(path=str(path), full_page=True)
    return path
