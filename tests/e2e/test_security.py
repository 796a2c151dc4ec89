"""Attacks on Peerloop and what each gets: one test per attack, named as the attack, its
docstring the expected answer. Run over HTTP through the app unless a test says otherwise.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import structlog

from adapters.notify_email import MailTemplates, SmtpSender
from adapters.outbox import Message, OutboxDispatcher, write_messages
from service.auth import TooManyAttempts, Unauthenticated
from service.cli import http_server
from service.jobs import MAIL_TEMPLATES
from service.web.pages import SECURITY_HEADERS
from tests.e2e.flows import assign, ok, spp_to, start
from tests.e2e.world import World
from tests.integration.test_outbox_email import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[2]
JSON = {"content-type": "application/json"}
DEEP = b"[" * 10_000 + b"]" * 10_000  # 20 KB
LOGIN = {"email": "p-head-h@school.example", "password": "correct horse battery"}


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["detail"]
    return body


# -- bodies that cost the server more than they cost the attacker --------------------------------


def test_a_json_body_nested_10000_deep_sent_to_sign_in(world: World) -> None:
    """400 problem+json saying the body nests too deep, answered at once and not logged as an
    error (it used to be a RecursionError: a 500 with a traceback, half a second each)."""
    with structlog.testing.capture_logs() as logs:
        began = time.perf_counter()
        r = world.client.post("/auth/login", content=DEEP, headers=JSON)
        took = time.perf_counter() - began
    assert "nested more than 64 levels" in problem(r, 400)["detail"]
    assert took < 0.2
    assert not [e for e in logs if e["log_level"] == "error"]


@pytest.mark.parametrize(
    ("who", "method", "path"),
    [
        ("head_own", "PUT", "/cycles/{c}/focus"),
        ("pl_own", "POST", "/cycles"),
        ("admin", "POST", "/templates/validation"),
    ],
    ids=["a record", "a new cycle", "a template"],
)
def test_a_json_body_nested_10000_deep_sent_to_any_endpoint(
    world: World, who: str, method: str, path: str
) -> None:
    """400 problem+json, whichever endpoint reads it (templates included)."""
    c = start(world)
    r = world.call(who, method, path.format(c=c), content=DEEP, headers=JSON)
    assert "nested more than 64 levels" in problem(r, 400)["detail"]


def test_a_json_body_with_the_same_key_twice(world: World) -> None:
    """400 problem+json naming the key: a body is never read as "the last one wins"."""
    body = b'{"email": "p-staff-h@school.example", "email": "p-head-h@school.example",'
    body += b' "password": "x"}'
    r = world.client.post("/auth/login", content=body, headers=JSON)
    assert "'email' twice" in problem(r, 400)["detail"]
    c = start(world)
    nested = b'{"lines": ["a"], "lines": ["b"]}'
    r = world.put("head_own", f"/cycles/{c}/focus", content=nested, headers=JSON)
    assert "'lines' twice" in problem(r, 400)["detail"]


def test_a_json_body_sent_without_a_content_type(world: World) -> None:
    """415 problem+json: a body without a media type is not guessed to be JSON."""
    r = world.client.post("/auth/login", content=b'{"email": "a@b.example", "password": "x"}')
    assert "no Content-Type" in problem(r, 415)["detail"]
    c = start(world)
    r = world.put("head_own", f"/cycles/{c}/focus", content=b'{"lines": ["Reading"]}')
    problem(r, 415)


# -- secrets in logs ----------------------------------------------------------------------------

# A process of its own, so that the logging set-up under test is the one `peerloop serve` makes.
_FAILING_SIGN_IN = r"""
import sys
from pathlib import Path

from service.logging import configure_logging
from service.usecases.base import UseCases
from tests.e2e.world import open_world


def broken(self, email, password, *args, **kwargs):
    raise RuntimeError("the sign-in store failed")


configure_logging(sys.argv[2])
UseCases.login = broken
for w in open_world(Path(sys.argv[1])):
    print(w.tokens["head_own"])
    body = {"email": "p-head-h@school.example", "password": "correct horse battery"}
    r = w.client.post("/auth/login", json=body, headers=w.auth("head_own"))
    assert r.status_code == 500, r.text
"""


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_a_sign_in_that_fails_with_a_500_while_carrying_a_password_and_a_token(
    tmp_path: Path, fmt: str
) -> None:
    """The failure is logged with its traceback, but neither the password nor the bearer
    secret appears anywhere in the log: no local variables, credentials redacted."""
    run = subprocess.run(
        [sys.executable, "-c", _FAILING_SIGN_IN, str(tmp_path), fmt],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    secret = run.stdout.strip().splitlines()[-1]
    assert secret.startswith("plt_")
    log = run.stderr
    assert "RuntimeError" in log and "the sign-in store failed" in log
    assert "request.error" in log
    assert "correct horse battery" not in log
    assert secret not in log and secret[4:] not in log


# -- guessing passwords -------------------------------------------------------------------------


@pytest.fixture
def quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 is slow on purpose; tests that make hundreds of attempts compare in plain."""

    def check(stored: str | None, password: str) -> bool:
        return stored is not None and password == LOGIN["password"]

    monkeypatch.setattr("service.usecases.base.check_password", check)


def with_password(w: World) -> None:
    ok(w.put("head_own", "/people/p-head-h/password", json={"password": LOGIN["password"]}), 204)


def sign_in(w: World, password: str, email: str = LOGIN["email"]) -> Any:
    return w.client.post("/auth/login", json={"email": email, "password": password})


def test_wrong_passwords_for_one_account_from_one_address(world: World) -> None:
    """Five are answered 401; then each further attempt waits, 429 with `Retry-After`, and
    the wait doubles; even the right password is refused unchecked until the wait is over,
    and works once it is."""
    with_password(world)
    for _ in range(5):
        problem(sign_in(world, "wrong"), 401)
    refused = sign_in(world, LOGIN["password"])
    assert problem(refused, 429)["type"] == "urn:peerloop:problem:too-many-attempts"
    assert refused.headers["retry-after"] == "1"
    world.clock.advance(timedelta(seconds=1))
    problem(sign_in(world, "wrong"), 401)  # the sixth failure: the next wait is twice as long
    again = sign_in(world, "wrong")
    assert problem(again, 429) and again.headers["retry-after"] == "2"
    world.clock.advance(timedelta(seconds=2))
    assert ok(sign_in(world, LOGIN["password"]), 201)["secret"].startswith("plt_")


def test_guessing_from_one_address_for_hours(world: World, quick_passwords: None) -> None:
    """The wait doubles up to 15 minutes and stays there: a handful of guesses an hour, not
    thousands; after 15 quiet minutes the count starts again."""
    ws = world.container.usecases
    waits = []
    for _ in range(30):
        try:
            ws.login(LOGIN["email"], "wrong", client="198.51.100.7")
        except TooManyAttempts as exc:
            waits.append(exc.retry_after_seconds)
            world.clock.advance(timedelta(seconds=exc.retry_after_seconds))
        except Unauthenticated:
            pass
    assert waits[:4] == [1, 2, 4, 8]
    assert max(waits) == 15 * 60 and waits[-1] == 15 * 60
    world.clock.advance(timedelta(minutes=15))
    with pytest.raises(Unauthenticated) as caught:
        ws.login(LOGIN["email"], "wrong", client="198.51.100.7")
    assert not isinstance(caught.value, TooManyAttempts)


def test_guessing_an_account_from_many_addresses_to_lock_its_owner_out(
    world: World, quick_passwords: None
) -> None:
    """Each address gets its own five tries; the account as a whole is slowed after 20
    failures, but only by up to a minute, so its owner, signing in from their own address,
    never waits longer than that."""
    with_password(world)
    ws = world.container.usecases
    waits = []
    for i in range(60):
        try:
            ws.login(LOGIN["email"], "wrong", client=f"203.0.113.{i}")
        except TooManyAttempts as exc:
            waits.append(exc.retry_after_seconds)
            world.clock.advance(timedelta(seconds=exc.retry_after_seconds))
        except Unauthenticated:
            pass
    assert waits and max(waits) == 60
    owner = "192.0.2.1"  # the owner's own address, which has made no failure
    try:
        ws.login(LOGIN["email"], LOGIN["password"], client=owner)
    except TooManyAttempts as exc:
        assert exc.retry_after_seconds <= 60
        world.clock.advance(timedelta(seconds=exc.retry_after_seconds))
        ws.login(LOGIN["email"], LOGIN["password"], client=owner)


def test_wrong_passwords_for_an_account_that_does_not_exist(world: World) -> None:
    """Slowed exactly like a real one (the answer says nothing of whether the account exists)."""
    for _ in range(5):
        problem(sign_in(world, "wrong", "nobody@school.example"), 401)
    assert sign_in(world, "wrong", "nobody@school.example").status_code == 429


def test_one_address_spraying_one_password_over_many_accounts(
    world: World, quick_passwords: None
) -> None:
    """After 100 failures from the address, whatever the accounts, it waits too (429)."""
    ws = world.container.usecases
    for i in range(100):
        with pytest.raises(Unauthenticated):
            ws.login(f"person{i}@school.example", "Summer2026!", client="198.51.100.99")
    with pytest.raises(TooManyAttempts):
        ws.login("person100@school.example", "Summer2026!", client="198.51.100.99")
    with pytest.raises(Unauthenticated) as other:  # another address is not held up
        ws.login("person100@school.example", "Summer2026!", client="198.51.100.100")
    assert not isinstance(other.value, TooManyAttempts)


# -- mail sent twice ----------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def test_a_replica_killed_while_sending_an_email(world: World, smtp: SmtpServer) -> None:
    """The email is sent again once its lease runs out (delivery is at least once), with the
    same Message-ID, so that the receiver can tell the repeat; the delivery log has a line
    for every attempt, the one whose outcome was lost included. (The outbox adapter, against
    a real SMTP server.)"""
    engine = world.container.engine
    notice = Message(
        "email",
        "p-head-h@school.example",
        "You are on a review team",
        {"template": "notice", "context": {"name": "Head", "text": "Hello", "link": ""}},
        "security:resend",
    )
    with engine.begin() as conn:
        write_messages(conn, [notice], world.clock.now())
    sender = SmtpSender(
        "127.0.0.1", smtp.port, "peerloop@school.example", MailTemplates(MAIL_TEMPLATES)
    )
    replica = OutboxDispatcher(engine, {"email": sender}, world.clock.now)
    leased = replica._lease(world.clock.now(), 10)
    sender(leased)  # sent, and the replica dies before recording it
    world.clock.advance(timedelta(minutes=5))
    assert replica.dispatch().sent == 1
    first, second = smtp.inbox.messages
    assert first["Message-ID"] == second["Message-ID"]
    assert str(first["Message-ID"]).endswith("@school.example>")
    with engine.connect() as conn:
        log = conn.execute(sa.text("SELECT ok, detail FROM delivery_log ORDER BY id")).all()
    assert [(bool(ok_), detail.split(":")[0]) for ok_, detail in log] == [
        (False, "attempt 1"),
        (True, "attempt 2"),
    ]
    assert "lease ran out" in log[0][1]


# -- what answers say about themselves ----------------------------------------------------------

JSON_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [(None, "/health", 200), ("pl_own", "/cycles", 200), ("pl_own", "/cycles/cyc_nope", 404)],
    ids=["open", "authenticated", "a problem"],
)
def test_a_browser_tricked_into_sniffing_framing_or_caching_json(
    world: World, who: str | None, path: str, status: int
) -> None:
    """Every JSON answer forbids sniffing, framing, scripts and referrers; anything asked
    for with credentials is never stored by a cache (`Cache-Control: no-store`)."""
    r = world.get(who, path)
    assert r.status_code == status
    assert {k: r.headers.get(k) for k in JSON_HEADERS} == JSON_HEADERS
    if who is not None:
        assert r.headers["cache-control"] == "no-store"


def test_the_pages_keep_their_own_policy(world: World) -> None:
    """The web pages' own headers (their CSP allows their styles and scripts) are left as
    the pages set them; the JSON defaults never override them."""
    r = world.client.get("/app/sign-in")
    assert r.status_code == 200
    for name, value in SECURITY_HEADERS.items():
        assert r.headers[name] == value


def test_a_scanner_reading_the_server_header(world: World) -> None:
    """`peerloop serve` runs uvicorn without a `server` header: nothing says what Peerloop
    runs on. (A real uvicorn on a free local port.)"""
    port = free_port()
    server = http_server(world.app, "127.0.0.1", port)
    server.config.lifespan = "off"  # the test client runs the app's start and stop
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.02)
        r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert r.status_code == 200
    assert "server" not in r.headers
    assert r.headers["x-content-type-options"] == "nosniff"


# -- dates at the ends of the calendar ----------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "who", "method", "path", "body", "field"),
    [
        (
            "pre_review",
            "review_lead",
            "PUT",
            "/cycles/{c}/dates/visit_date",
            {"at": "0001-01-01T00:00:00+00:00"},
            "body.at",
        ),
        (
            "pre_review",
            "review_lead",
            "PUT",
            "/cycles/{c}/dates/visit_date",
            {"at": "9999-12-31T23:59:59+00:00"},
            "body.at",
        ),
        (
            "improvement_workshop",
            "champion",
            "POST",
            "/cycles/{c}/actions",
            {"title": "Reading", "due": "9999-12-31"},
            "body.due",
        ),
        (
            "improvement_workshop",
            "champion",
            "POST",
            "/cycles/{c}/actions",
            {"title": "Reading", "due": "0001-01-01"},
            "body.due",
        ),
        (
            None,
            "pl_own",
            "POST",
            "/cycles",
            {
                "template_id": "spp-cycle",
                "host_school_id": "sch-h",
                "dates": {"visit_date": "9999-12-31T00:00:00Z"},
            },
            "body.dates.visit_date",
        ),
    ],
    ids=["a visit in year 1", "a visit in 9999", "an action due in 9999", "an action due in 1",
         "a new cycle visited in 9999"],
)  # fmt: skip
def test_a_date_at_the_end_of_the_calendar(
    world: World,
    stage: str | None,
    who: str,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    """422 naming the field (dates in requests run from 1900 to 2999), not a 500 from date
    arithmetic overflowing nor a date stored that no deadline can be counted from."""
    c = start(world)
    if stage is not None:
        spp_to(world, c, stage, fill=False)
        if stage == "pre_review":
            assign(world, c, "review_lead", "review_lead")
    r = world.call(who, method, path.format(c=c), json=body)
    errors = problem(r, 422)["errors"]
    assert [e["location"] for e in errors] == [field]
    assert errors[0]["message"] == "must be a date between 1900 and 2999"


# -- one person, two spellings ------------------------------------------------------------------

NFC = unicodedata.normalize("NFC", "zoé.martin@school.example")
NFD = unicodedata.normalize("NFD", NFC)
# the local part's ASCII letters in their fullwidth forms (U+FF41 for `a`...)
FULLWIDTH = "".join(chr(ord(c) + 0xFEE0) if "a" <= c <= "z" else c for c in "zoé.martin")
FULLWIDTH += "@school.example"


@pytest.mark.parametrize("second", [NFD, FULLWIDTH, NFC.upper()], ids=["NFD", "fullwidth", "case"])
def test_a_second_person_added_with_the_same_email_spelt_otherwise(
    world: World, second: str
) -> None:
    """409: `é` as one character or as `e` and an accent, fullwidth letters and capitals are
    the same address, stored in one form (NFKC)."""
    assert NFD != NFC and second.encode() != NFC.encode()
    first = ok(world.post("admin", "/people", json={"name": "Zoé Martin", "email": NFD}), 201)
    assert first["email"] == NFC
    r = world.post("admin", "/people", json={"name": "Zoé Martin (2)", "email": second})
    problem(r, 409)


@pytest.mark.parametrize("typed", [NFD, FULLWIDTH], ids=["NFD", "fullwidth"])
def test_signing_in_with_the_email_spelt_otherwise(world: World, typed: str) -> None:
    """The same person signs in (201), however the address was typed."""
    person = ok(world.post("admin", "/people", json={"name": "Zoé Martin", "email": NFC}), 201)
    password = {"password": LOGIN["password"]}
    ok(world.put("admin", f"/people/{person['id']}/password", json=password), 204)
    r = world.client.post("/auth/login", json={"email": typed, **password})
    assert ok(r, 201)["person_id"] == person["id"]


# -- filling the metrics ------------------------------------------------------------------------


def test_requests_with_made_up_http_methods(world: World) -> None:
    """Answered 405 and counted under the one method label `other`: no new series per
    method, however many an attacker invents."""
    for method in ("FOO", "BREW", "X" * 60):
        assert world.client.request(method, "/health").status_code == 405
    series = [
        line
        for line in world.client.get("/metrics").text.splitlines()
        if line.startswith("peerloop_http_requests_total")
    ]
    methods = {line.split('method="')[1].split('"')[0] for line in series}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert any('method="other"' in line and line.endswith(" 3.0") for line in series)
