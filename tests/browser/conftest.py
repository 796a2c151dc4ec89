"""Browser tests: Playwright's sync API driving Debian's Chromium against `peerloop serve`.

Fixtures:
- `demo_service`: `python -m service.cli serve` on a fresh demo database in a temp
  data dir, on a free port; a `DemoService` with `base_url`, `people` (role -> name, email,
  token, password), `tokens`, `password` and the raw `printed` text.
- `browser`: headless Chromium from /usr/bin/chromium (never a downloaded one).
  It and the service start once for all of tests/browser (package scope) and stop when its
  last test is done.
- `page` (1280x900) and `phone_page` (375x812, touch): a fresh context each (en-GB,
  Europe/London), whose `base_url` is the service's, so `page.goto("/reference")` works.
- `new_page`: more pages in one test (two people at once): `new_page(width=..., height=...)`.

Every test under tests/browser is marked `browser`. A page's uncaught JavaScript error fails
its test; a failing test's report shows the browser console and what the service logged
during it. Without Playwright or Chromium the tests are skipped, and fail when CI=true.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import httpx
import pytest

from tests.browser.helpers import CHROMIUM, IN_CI, DemoService, parse_demo_output

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

HERE = Path(__file__).resolve().parent
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
CONTEXT = {"locale": "en-GB", "timezone_id": "Europe/London"}
# As the machine's own probe starts Chromium: without the background-networking flags it keeps
# trying to reach Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_SECONDS = 90
# Started once for all of tests/browser and stopped when it is done (not at the end of the whole
# run): Playwright's sync API allows one running instance per thread, so another suite's own
# Playwright (tests/web) can start after this one has stopped.
SCOPE: Literal["package"] = "package"

_running: list[DemoService] = []
_LOG_FROM = pytest.StashKey[int]()
_CONSOLE = pytest.StashKey[list[str]]()


def _here(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _here(item):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not (report.failed and _here(item)):
        return
    console = item.stash.get(_CONSOLE, [])
    if console:
        report.sections.append(("browser console", "\n".join(console[-60:])))
    if _running:
        service = _running[0]
        logged = service.log(item.stash.get(_LOG_FROM, 0))
        tail = "\n".join(logged.splitlines()[-80:])
        if tail or service.died():
            state = f"exited with {service.process.returncode}" if service.died() else "running"
            report.sections.append((f"peerloop serve ({state}), during this test", tail))


def _unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"browser tests are mandatory when CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


# --- the service ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope=SCOPE)
def demo_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoService]:
    """`peerloop serve` with the demo loaded, as the README tour starts it."""
    tmp = tmp_path_factory.mktemp("browser-service")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLOOP_")}
    env |= {
        "PEERLOOP_DATA_DIR": str(tmp / "var"),
        "PEERLOOP_HOST": "127.0.0.1",
        "PEERLOOP_PORT": str(port),
        "PEERLOOP_DEMO": "1",
    }
    log_path = tmp / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve"],
            cwd=tmp,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"peerloop serve exited with {process.returncode} before /health answered:"
                    f"\n{log_path.read_text(errors='replace')}",
                    pytrace=False,
                )
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"peerloop serve: no /health in {START_SECONDS} s:\n"
                    f"{log_path.read_text(errors='replace')}",
                    pytrace=False,
                )
            time.sleep(0.2)
        printed = log_path.read_text(errors="replace")
        people, password = parse_demo_output(printed)
        service = DemoService(base, printed, people, password, log_path, process)
        _running.append(service)
        yield service
    finally:
        if _running:
            _running.clear()
        died = process.poll() is not None
        if not died:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    if died:
        pytest.fail(
            f"peerloop serve died during the browser tests (exit {process.returncode}):\n"
            + log_path.read_text(errors="replace")[-8000:],
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _watch_the_service(request: pytest.FixtureRequest) -> Iterator[None]:
    """Note where the service log stood, and fail the test if the service died during it."""
    if _running:
        request.node.stash[_LOG_FROM] = _running[0].log_size()
    yield
    for service in _running:
        if service.died():
            pytest.fail(
                f"peerloop serve died (exit {service.process.returncode}):\n"
                + service.log()[-8000:],
                pytrace=False,
            )


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope=SCOPE)
def playwright() -> Iterator[Playwright]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (`make test` installs the test extra)")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(
            f"Debian's Chromium is not at {CHROMIUM}: `make test` installs it as root, or "
            "`apt-get install --no-install-recommends chromium`"
        )
    try:
        manager = sync_playwright().start()
    except Exception as exc:
        if "asyncio loop" not in str(exc):
            raise
        pytest.fail(
            "Playwright's sync API cannot start: another Playwright is still running in this "
            "process (one per thread), or the test runs inside an asyncio loop. Use the "
            "`browser`/`page` fixtures of tests/browser/conftest.py rather than a second "
            f"sync_playwright(). ({exc})",
            pytrace=False,
        )
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope=SCOPE)
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield launched
    finally:
        launched.close()


NewPage = Callable[..., "Page"]


@pytest.fixture
def new_page(
    browser: Browser, demo_service: DemoService, request: pytest.FixtureRequest
) -> Iterator[NewPage]:
    """`new_page(width=1280, height=900, **context_options)`: a page in a fresh context."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []
    console: list[str] = request.node.stash.setdefault(_CONSOLE, [])

    def make(width: int = 1280, height: int = 900, **options: Any) -> Page:
        context = browser.new_context(
            **{
                **CONTEXT,
                "viewport": {"width": width, "height": height},
                "base_url": demo_service.base_url,
                **options,
            }
        )
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(20_000)
        n = len(contexts) + 1
        context.on(
            "weberror",
            lambda e: errors.append(f"[page {n}] {e.page.url if e.page else ''}: {e.error}"),
        )
        context.on(
            "console",
            lambda m: console.append(f"[page {n}] {m.type}: {m.text} ({m.location.get('url')})"),
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    if errors:
        pytest.fail("uncaught JavaScript error(s) in the page:\n" + "\n".join(errors), False)


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """A desktop page, 1280x900, en-GB, Europe/London; relative URLs go to the service."""
    return new_page(**DESKTOP)


@pytest.fixture
def phone_page(new_page: NewPage) -> Page:
    """A phone-sized page, 375x812, with touch and the page's meta viewport honoured."""
    return new_page(**PHONE, is_mobile=True, has_touch=True)
