"""Helpers for browser tests: the running demo service, axe-core, keyboard focus, screenshots.

Playwright is imported only inside the functions, so that collecting the tests never fails on a
machine without it (the fixtures in conftest.py then skip, or fail under CI=true).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from playwright.sync_api import Locator, LocatorAssertions, Page, PageAssertions

__all__ = [
    "CHROMIUM",
    "IN_CI",
    "SCREENSHOTS",
    "DemoPerson",
    "DemoService",
    "Focused",
    "assert_accessible",
    "expect",
    "focused",
    "parse_demo_output",
    "screenshot",
    "tab_to",
]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (`make test` installs it as root); never a browser Playwright downloads."""
SCREENSHOTS = ROOT / "docs" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() == "true"
FAILING_IMPACTS = ("serious", "critical")


# --- the demo service --------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPerson:
    """One line of the demo people `peerloop serve` prints; what a line lacks is None."""

    role: str
    name: str
    email: str | None = None
    token: str | None = None
    password: str | None = None


@dataclass
class DemoService:
    """`peerloop serve` on a fresh demo database, as the `demo_service` fixture started it."""

    base_url: str
    printed: str
    """Everything the service printed up to /health answering (the raw text, to parse anew)."""
    people: dict[str, DemoPerson]
    """role -> person, from the printed lines (`school_lead`, `review_lead`, ...)."""
    password: str | None
    """The demo password, when one is printed (for every person), else None."""
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def tokens(self) -> dict[str, str]:
        """role -> API token (`plt_...`)."""
        return {r: p.token for r, p in self.people.items() if p.token}

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else f"/{path}")

    def log(self, since: int = 0) -> str:
        """What the service has written to its log (from byte `since`)."""
        with self.log_path.open("rb") as f:
            f.seek(since)
            return f.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def died(self) -> bool:
        return self.process.poll() is not None


_TOKEN = re.compile(r"\bplt_\S+")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_LINE_PASSWORD = re.compile(r"\bpassword:\s*(\S+)", re.I)
_PASSWORD = re.compile(r"\bpassword(?::|\s+is)?\s+(?!for\b)([^\s,;()]{4,})", re.I)


def parse_demo_output(printed: str) -> tuple[dict[str, DemoPerson], str | None]:
    """The demo people and the demo password from what `peerloop serve` printed.

    People are the indented lines `  ROLE  NAME  [EMAIL]  [TOKEN]  [password: PW]` that carry
    a token or an email. The password is the one the text names for everyone (`... with the
    password PW`, `Demo password: PW`), else the first person's own `password: PW`; each
    person's `password` is their own, else that one.
    """
    people: dict[str, DemoPerson] = {}
    for line in printed.splitlines():
        found = re.match(r"^\s+([a-z][a-z_]*)\s+(.*)$", line)
        if not found:
            continue
        role, rest = found.groups()
        token = _TOKEN.search(rest)
        email = _EMAIL.search(rest)
        if not (token or email):
            continue
        own_password = _LINE_PASSWORD.search(rest)
        cut = min(m.start() for m in (token, email, own_password) if m)
        people[role] = DemoPerson(
            role=role,
            name=re.sub(r"\s+", " ", rest[:cut]).strip(),
            email=email.group(0) if email else None,
            token=token.group(0) if token else None,
            password=own_password.group(1) if own_password else None,
        )
    others = "\n".join(
        ln for ln in printed.splitlines() if not (_TOKEN.search(ln) or _EMAIL.search(ln))
    )
    shared = _PASSWORD.search(others)
    password = shared.group(1).rstrip(".") if shared else None
    if password is None:
        password = next((p.password for p in people.values() if p.password), None)
    if password is not None:
        people = {
            r: p if p.password else DemoPerson(p.role, p.name, p.email, p.token, password)
            for r, p in people.items()
        }
    return people, password


# --- assertions ----------------------------------------------------------------------------------


def expect(
    target: Page | Locator, message: str | None = None
) -> PageAssertions | LocatorAssertions:
    """Playwright's `expect`, imported when used (so modules import without Playwright)."""
    from playwright.sync_api import expect as _expect

    return _expect(target, message)  # type: ignore[call-overload,no-any-return]


def _axe() -> Any:
    global _AXE
    if _AXE is None:
        from axe_playwright_python.sync_playwright import Axe

        _AXE = Axe()
    return _AXE


_AXE: Any = None


def _target(node: dict[str, Any]) -> str:
    # A target is a list of selectors, one per frame or shadow root on the way to the node.
    parts = node.get("target") or ["?"]
    return " >>> ".join(" ".join(p) if isinstance(p, list) else str(p) for p in parts)


def assert_accessible(
    page: Page,
    *,
    context: str,
    include: str | None = None,
    disable: Iterable[str] = (),
    impacts: Sequence[str] = FAILING_IMPACTS,
) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; fail on any violation of a failing impact.

    `context` says where the test is ("sign-in page, wrong password") for the message;
    `include` limits the check to a CSS selector; `disable` turns rules off by id (say why
    beside the call). Returns every violation found, the minor and moderate ones included.
    """
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    results = _axe().run(page, context=include, options=options)
    violations: list[dict[str, Any]] = results.response.get("violations", [])
    bad = [v for v in violations if v.get("impact") in impacts]
    if bad:
        lines = [
            f"{context}: {len(bad)} {'/'.join(impacts)} accessibility violation(s) "
            f"(axe-core {results.response.get('testEngine', {}).get('version', '?')}) "
            f"on {page.url}"
        ]
        for v in bad:
            nodes = v.get("nodes", [])
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  <{v.get('helpUrl', '')}>")
            for node in nodes[:10]:
                summary = " ".join((node.get("failureSummary") or "").split())
                summary = summary if len(summary) <= 240 else summary[:237] + "..."
                lines.append(f"    at {_target(node)}" + (f"  ({summary})" if summary else ""))
            if len(nodes) > 10:
                lines.append(f"    ... and {len(nodes) - 10} more element(s)")
        raise AssertionError("\n".join(lines))
    return violations


# --- keyboard ------------------------------------------------------------------------------------


class Focused(NamedTuple):
    """The element that has the focus, by its accessible role and name."""

    role: str
    name: str
    presses: int = 0
    """How many Tab presses `tab_to` took to get there."""

    def __str__(self) -> str:
        return f'{self.role} "{self.name}"'


def focused(page: Page) -> Focused | None:
    """The focused element's role and accessible name (as Playwright computes them), or None
    when nothing is focused (the focus is on the page itself)."""
    here = page.locator("*:focus")
    if here.count() == 0:
        return None
    snapshot = here.first.aria_snapshot()
    first = snapshot.splitlines()[0] if snapshot else ""
    found = re.match(r'^- ([\w-]+)(?: "((?:[^"\\]|\\.)*)")?', first)
    if not found:  # no role of its own (a plain focusable div, say)
        tag = here.first.evaluate("el => el.tagName.toLowerCase()")
        return Focused(f"<{tag}>", "")
    role, name = found.groups()
    return Focused(role, json.loads(f'"{name}"') if name else "")


def tab_to(
    page: Page,
    name: str | re.Pattern[str],
    *,
    role: str | None = None,
    max_presses: int = 50,
    key: str = "Tab",
) -> Focused:
    """Press Tab until the focused element's accessible name is `name` and return it.

    A string must equal the whole name (whitespace collapsed, case kept); pass `re.compile(...)`
    to match part of it. `role` ("link", "button", "textbox", ...) narrows the match; `key` may
    be "Shift+Tab". Fails after `max_presses`, listing where the focus went on each press.
    """
    went: list[str] = []
    for press in range(1, max_presses + 1):
        page.keyboard.press(key)
        now = focused(page)
        went.append(f"{press}. {now if now else '(nothing focused)'}")
        if now is None or (role is not None and now.role != role):
            continue
        text = " ".join(now.name.split())
        if name.search(text) if isinstance(name, re.Pattern) else text == name:
            return now._replace(presses=press)
    wanted = f"{role or 'element'} named {name.pattern if isinstance(name, re.Pattern) else name!r}"
    raise AssertionError(
        f"{key} never reached the {wanted} in {max_presses} presses on {page.url}; "
        "the focus went:\n" + "\n".join(went)
    )


# --- screenshots ---------------------------------------------------------------------------------


def screenshot(
    page: Page, name: str, *, full_page: bool = True, directory: Path | None = None
) -> Path:
    """Write the page as `docs/screenshots/<name>.png` (the pictures the docs show).

    The file is left untouched when the new picture is byte-for-byte the same, so a run that
    changes nothing leaves the work tree clean. `directory` writes elsewhere (tests of this).
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
        raise ValueError(f"screenshot name {name!r}: use lower-case letters, digits, . _ -")
    folder = directory or SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    png = page.screenshot(full_page=full_page, animations="disabled", caret="hide")
    if not path.exists() or path.read_bytes() != png:
        path.write_bytes(png)
    return path
