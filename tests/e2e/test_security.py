"""Attacks on Peerloop and what each gets: one test per attack, named as the attack, its
docstring the expected answer. Run over HTTP through the app unless a test says otherwise.
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import subprocess
import sys
import threading
import time
import unicodedata
import zipfile
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
from engine.access import Principal
from service.auth import TooManyAttempts, Unauthenticated
from service.cli import http_server
from service.cli_data import OPERATOR
from service.jobs import MAIL_TEMPLATES
from service.usecases.core import verify_history
from service.usecases.messages import CreateToken, CyclePage, ReportPage
from service.web.pages import SECURITY_HEADERS
from tests.e2e.flows import assign, ok, spp_to, start
from tests.e2e.world import PEOPLE, World, open_world
from tests.integration.test_outbox_email import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[2]
JSON = {"content-type": "application/json"}
DEEP = b"[" * 10_000 + b"]" * 10_000  # 20 KB
LOGIN = {"email": "p-head-h@school.example", "password": "correct horse battery"}


def _principal(w: World, who: str) -> Principal:
    with w.container.uow(readonly=True) as uow:
        person = uow.directory.get_person(PEOPLE[who][0])
        return Principal(person, tuple(uow.directory.grants_for(person.id)))


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


# -- slow clients: the slow-loris denial of service ----------------------------------------------


@pytest.fixture
def slow_edge(world: World) -> Iterator[int]:
    """A real uvicorn on a free local port with short read deadlines (1 s for the headers,
    1 s of a stalled body), so that the test waits seconds, not the defaults' tens."""
    port = free_port()
    server = http_server(world.app, "127.0.0.1", port, header_timeout=1.0, body_idle_timeout=1.0)
    server.config.lifespan = "off"
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes the connection within `seconds` (recv gives b'')."""
    sock.settimeout(seconds)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_connection_that_sends_nothing_is_closed(slow_edge: int) -> None:
    with socket.create_connection(("127.0.0.1", slow_edge)) as sock:
        assert _closed_within(sock, 4)


def test_headers_sent_a_byte_at_a_time_are_cut_off(slow_edge: int) -> None:
    with socket.create_connection(("127.0.0.1", slow_edge)) as sock:
        start = time.monotonic()
        closed = False
        for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.05)
            if time.monotonic() - start > 4:
                break
        assert closed or _closed_within(sock, 2)
        assert time.monotonic() - start < 4  # the deadline is on the headers, not each byte


def test_a_stalled_body_is_cut_off_but_a_steady_one_is_read(slow_edge: int) -> None:
    head = (
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 60\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", slow_edge)) as sock:
        sock.sendall(head + b'{"email": ')
        assert _closed_within(sock, 4)  # then nothing more: stalled
    # The same body in pieces 0.5 s apart, 2 s in all, is read whole and answered.
    body = b'{"email": "nobody@x.example", "password": "not the right one"}'
    head = head.replace(b"Content-Length: 60", b"Content-Length: %d" % len(body))
    with socket.create_connection(("127.0.0.1", slow_edge)) as sock:
        sock.sendall(head)
        for i in range(0, len(body), len(body) // 4 + 1):
            time.sleep(0.5)
            sock.sendall(body[i : i + len(body) // 4 + 1])
        sock.settimeout(5)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:80]


def test_a_healthy_client_keeps_its_connection_for_several_requests(slow_edge: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{slow_edge}", timeout=5) as client:
        for _ in range(3):
            assert client.get("/health").status_code == 200
            time.sleep(0.3)


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


# -- untraced power -----------------------------------------------------------------------------


def _reviewed(w: World) -> tuple[str, str]:
    """A cycle at the improvement workshop (its report has findings), and a file's id."""
    c = start(w)
    spp_to(w, c, "improvement_workshop")
    cycle = ok(w.get("head_own", f"/cycles/{c}"))
    return c, next(e["id"] for e in cycle["evidence"] if e["file_name"])


def _notices(w: World, who: str, kind: str) -> list[dict[str, Any]]:
    inbox = ok(w.get(who, "/me/notifications"))
    return [n for n in inbox["notifications"] if n["kind"] == kind]


@pytest.mark.parametrize(
    ("role", "scope"),
    [("school_lead", "cycle"), ("school_lead", "school"), ("reviewer", "cycle"),
     ("school_staff", "school")],
    ids=["head of the cycle", "head of the school", "reviewer", "school staff"],
)  # fmt: skip
def test_the_admin_granting_itself_a_role_that_opens_a_report(
    world: World, role: str, scope: str
) -> None:
    """403 in words (nobody gives themselves a role that opens confidential content), no grant
    is made, and the admin still cannot read the report (403) nor download evidence (403)."""
    c, file_id = _reviewed(world)
    body = {
        "person_id": "p-admin",
        "role": role,
        "scope_kind": scope,
        "scope_id": c if scope == "cycle" else "sch-h",
    }
    refused = problem(world.post("admin", "/grants", json=body), 403)
    assert "cannot give yourself the role" in refused["detail"]
    assert "break-glass" in refused["detail"]
    grants = ok(world.get("admin", "/people/p-admin/grants"))
    assert [g["role"] for g in grants] == ["admin"]
    problem(world.get("admin", f"/cycles/{c}/report"), 403)
    problem(world.get("admin", f"/cycles/{c}/evidence/{file_id}/file"), 403)


def test_the_admin_making_itself_partnership_lead_then_joining_the_review_team(
    world: World,
) -> None:
    """Being partnership lead opens no report, so that grant is made (201, recorded as the
    admin's own); putting itself on the review team is refused (403), and the report stays
    closed to it."""
    c, _ = _reviewed(world)
    lead = {"person_id": "p-admin", "role": "partnership_lead", "scope_kind": "network"}
    made = ok(world.post("admin", "/grants", json={**lead, "scope_id": "nlc-n"}), 201)
    assert made["granted_by"] == "p-admin"
    r = world.put("admin", f"/cycles/{c}/team/p-admin", json={"role": "reviewer"})
    assert "cannot give yourself the role reviewer" in problem(r, 403)["detail"]
    assert "p-admin" not in {m["person_id"] for m in ok(world.get("admin", f"/cycles/{c}/team"))}
    problem(world.get("admin", f"/cycles/{c}/report"), 403)


def test_the_admin_granting_someone_else_a_role_that_opens_a_report(world: World) -> None:
    """201: the grant keeps who gave it and when; the grantee is told, and so is the head of
    the school whose confidential content it opens."""
    body = {"person_id": "p-head-f", "role": "school_lead", "scope_kind": "school"}
    made = ok(world.post("admin", "/grants", json={**body, "scope_id": "sch-h"}), 201)
    assert made["granted_by"] == "p-admin"
    assert made["granted_at"] == world.clock.now().isoformat().replace("+00:00", "Z")
    assert made in ok(world.get("admin", "/people/p-head-f/grants"))
    [told] = _notices(world, "spare", "grant")
    assert told["subject"] == "You now hold the role school lead at Host Primary School"
    [head] = _notices(world, "head_own", "grant")
    assert "Admin gave Spare the role school lead at Host Primary School" in head["text"]
    assert "evidence files, review report, self-review" in head["text"]


def test_the_admin_granting_someone_a_role_that_opens_a_whole_networks_reports(
    world: World,
) -> None:
    """201, and the head of every school of the network is told who now reads their
    school's confidential content; nobody outside the network is."""
    body = {"person_id": "p-head-x", "role": "reviewer", "scope_kind": "network"}
    ok(world.post("admin", "/grants", json={**body, "scope_id": "nlc-n"}), 201)
    for head in ("head_own", "head_other", "spare", "review_lead"):
        [told] = _notices(world, head, "grant")
        assert told["subject"] == "Head Other Net now holds the role reviewer in Northbank NLC"
        assert "It opens your school's evidence files, review report, self-review" in told["text"]
    assert [n["subject"] for n in _notices(world, "head_other_net", "grant")] == [
        "You now hold the role reviewer in Northbank NLC"
    ]
    assert _notices(world, "chair_own", "grant") == []


def test_the_admin_making_a_token_for_a_head_and_recording_a_finding_in_the_heads_name(
    world: World,
) -> None:
    """It works, but nothing about it is hidden: the token names its issuer (also in
    `GET /tokens`), the head is told at once, and the finding's history entry names the head
    as the actor and the admin as the token's maker; the history still verifies."""
    c = start(world)
    spp_to(world, c, "peer_review", fill=False)
    made = ok(world.post("admin", "/tokens", json={"person_id": "p-head-a", "name": "x"}), 201)
    assert made["issued_by"] == "p-admin"
    listed = ok(world.get("review_lead", "/tokens"))
    assert {t["id"]: t["issued_by"] for t in listed}[made["id"]] == "p-admin"
    [told] = _notices(world, "review_lead", "token")
    assert told["subject"] == "An API token was made for you"
    assert "Admin made an API token “x” for you" in told["text"]
    assert "using a token made by Admin" in told["text"]
    as_head = {"Authorization": f"Bearer {made['secret']}"}
    finding = {"kind": "strength", "text": "Written by someone else."}
    ok(world.client.post(f"/cycles/{c}/findings", json=finding, headers=as_head), 201)
    entry = ok(world.get("head_own", f"/cycles/{c}/history"))[-1]
    assert entry["detail"]["record"] == "finding"
    assert entry["actor"] == "p-head-a" and entry["role"] == "review_lead"
    assert entry["detail"]["token_issued_by"] == "p-admin"
    # With the head's own token, nothing is said beside them.
    ok(world.post("review_lead", f"/cycles/{c}/findings", json=finding), 201)
    assert "token_issued_by" not in ok(world.get("head_own", f"/cycles/{c}/history"))[-1]["detail"]
    page = world.container.usecases.handle(CyclePage(c), _principal(world, "head_own"))
    assert page.names["p-admin"] == "Admin"  # the page can name the token's maker
    with world.container.uow(readonly=True) as uow:
        assert verify_history(uow, [c]) == []


def test_a_token_made_by_the_operator_on_the_server(world: World) -> None:
    """`peerloop tokens create` acts as the operator: the token names `system:operator` as
    its issuer and the person is told that the Peerloop operator made it."""
    token, _ = world.container.usecases.handle(CreateToken("p-head-f", "cli", 7), OPERATOR)
    assert token.issued_by == "system:operator"
    [told] = _notices(world, "spare", "token")
    assert told["text"].startswith("The Peerloop operator made an API token “cli” for you")


def test_breaking_the_glass_without_a_reason(world: World) -> None:
    """422 for no reason, an empty one, or a word or two: the reason is what the head is
    told; nothing is opened, recorded or sent."""
    c, _ = _reviewed(world)
    before = len(ok(world.get("admin", f"/cycles/{c}/history")))
    for body in ({}, {"reason": ""}, {"reason": "needed"}, {"reason": "  urgent   now "}):
        problem(world.post("admin", f"/cycles/{c}/break-glass", json=body), 422)
    assert len(ok(world.get("admin", f"/cycles/{c}/history"))) == before
    assert _notices(world, "head_own", "break_glass") == []
    problem(world.get("admin", f"/cycles/{c}/report"), 403)


def test_breaking_the_glass_as_anyone_but_the_admin(world: World) -> None:
    """403 for someone who sees the cycle (the partnership lead), 404 for someone who does
    not: only the admin breaks the glass."""
    c, _ = _reviewed(world)
    body = {"reason": "A parent's complaint about the visit"}
    problem(world.post("pl_own", f"/cycles/{c}/break-glass", json=body), 403)
    problem(world.post("head_other_net", f"/cycles/{c}/break-glass", json=body), 404)


# -- the audit of reads ----------------------------------------------------------------------------


def _reads(world: World, c: str) -> list[tuple[str, str, str]]:
    return [
        (r["person_id"], r["section"], r["grounds"])
        for r in ok(world.get("head_own", f"/cycles/{c}/reads"))
    ]


def test_every_read_of_confidential_content_from_outside_the_school_is_recorded(
    world: World,
) -> None:
    """A reviewer reading the report (team), a head it is shared with (share), an admin by
    break-glass (break_glass) and an evidence file downloaded are each recorded: who, what,
    on what grounds. The host's own staff reading their school's content are not: it is
    theirs. Only the host's head lists the reads (403 to a reviewer, 404 to an outsider)."""
    c, file_id = _reviewed(world)
    before = _reads(world, c)  # the review's own work read the self-review and files
    assert {g for _, _, g in before} <= {"team"}

    ok(world.get("head_own", f"/cycles/{c}/report"))
    ok(world.get("staff_own", f"/cycles/{c}"))
    assert _reads(world, c) == before  # the host's own staff: not recorded

    ok(world.get("reviewer", f"/cycles/{c}/report"))
    assert _reads(world, c)[len(before) :] == [("p-head-b", "report", "team")]
    ok(world.get("reviewer", f"/cycles/{c}/evidence/{file_id}/file"))
    assert _reads(world, c)[-1] == ("p-head-b", "evidence_files", "team")

    share = {"grantee_kind": "school", "grantee_id": "sch-e"}
    ok(world.post("head_own", f"/cycles/{c}/shares", json=share), 201)
    ok(world.get("head_other", f"/cycles/{c}/report"))
    assert _reads(world, c)[-1] == ("p-head-e", "report", "share")

    reason = "Complaint from a parent about the visit: the LA asked us to check the findings"
    ok(world.post("admin", f"/cycles/{c}/break-glass", json={"reason": reason}), 201)
    ok(world.get("admin", f"/cycles/{c}/report"))
    assert _reads(world, c)[-1] == ("p-admin", "report", "break_glass")

    # The list is the host head's, as the report is.
    problem(world.get("reviewer", f"/cycles/{c}/reads"), 403)
    problem(world.get("head_other_net", f"/cycles/{c}/reads"), 404)
    listed = ok(world.get("head_own", f"/cycles/{c}/reads"))
    assert all(r["at"] and r["issued_by"] is None for r in listed)


def test_the_head_sees_who_read_the_report_on_its_page(world: World) -> None:
    c, _ = _reviewed(world)
    ok(world.get("reviewer", f"/cycles/{c}/report"))
    page = world.container.usecases.handle(ReportPage(c), _principal(world, "head_own"))
    mine = [r for r in page.reads if r.person_id == "p-head-b"]
    assert mine and mine[-1].grounds == "team"
    assert page.page.names["p-head-b"]  # named, not shown as an id
    # Someone who does not decide who reads the report is given no list.
    theirs = world.container.usecases.handle(ReportPage(c), _principal(world, "reviewer"))
    assert theirs.reads == []


# -- the erasure of a person ---------------------------------------------------------------------


def test_a_person_is_erased_and_the_history_still_verifies(world: World) -> None:
    """A right-to-erasure request: the review lead's name, email, school, grants, token, inbox
    and calendar link go, and their name from the notices others were told; their id stays
    in the history, which still verifies; the erasure is recorded with who asked and why."""
    c = start(world)
    spp_to(world, c, "improvement_workshop")  # the head was told the review lead moved it
    told = [n["text"] for n in ok(world.get("head_own", "/me/notifications"))["notifications"]]
    assert any("Review Lead (Review lead) made the move" in t for t in told)
    assert ok(world.get("review_lead", "/me/notifications"))["notifications"]

    body = {"asked_by": "Ray Lead, by email", "reason": "Erasure request of 1 December 2026"}
    done = ok(world.post("admin", "/people/p-head-a/erasure", json=body), 201)
    assert done["erased_by"] == "p-admin" and done["asked_by"] == "Ray Lead, by email"
    assert done["removed"]["grants"] == 1 and done["removed"]["tokens"] >= 1
    assert done["removed"]["notifications"] >= 1 and done["removed"]["named_in_notices"] >= 1

    person = ok(world.get("admin", "/people/p-head-a"))
    assert person["name"] == "Erased person" and person["school_id"] is None
    assert person["email"].endswith("@erased.invalid") and "head-a" not in person["email"]
    assert ok(world.get("admin", "/people/p-head-a/grants")) == []
    assert world.get("review_lead", "/people/me").status_code == 401  # their token is revoked
    told = [n["text"] for n in ok(world.get("head_own", "/me/notifications"))["notifications"]]
    assert not any("Review Lead" in t for t in told) and any("Erased person" in t for t in told)
    # The history keeps their id, and its chain still verifies.
    history = ok(world.get("head_own", f"/cycles/{c}/history"))
    assert any(e["actor"] == "p-head-a" for e in history)
    with world.container.uow(readonly=True) as uow:
        assert verify_history(uow, [c]) == []
        [recorded] = uow.personal_data.erasures()
    assert (recorded.person_id, recorded.reason) == ("p-head-a", body["reason"])

    # Once only; never by themselves; only by an admin; who asked and why are required.
    assert (
        "erased already"
        in problem(world.post("admin", "/people/p-head-a/erasure", json=body), 409)["detail"]
    )
    assert (
        "another admin"
        in problem(world.post("admin", "/people/p-admin/erasure", json=body), 409)["detail"]
    )
    problem(world.post("head_own", "/people/p-head-c/erasure", json=body), 403)
    blank = problem(
        world.post("admin", "/people/p-head-c/erasure", json={**body, "asked_by": "   "}), 422
    )
    assert "who asked" in blank["detail"]
    problem(world.post("admin", "/people/nobody/erasure", json=body), 404)
    assert ok(world.get("admin", "/people/p-head-c"))["name"] == "Reviewer2"  # nothing changed


# -- exports: a subject access request, a school leaving -----------------------------------------


def _archive(r: Any) -> tuple[dict[str, Any], dict[str, Any], zipfile.ZipFile]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    return json.loads(archive.read("manifest.json")), json.loads(archive.read("data.json")), archive


def test_a_school_takes_everything_held_about_it_files_included(world: World) -> None:
    c, _ = _reviewed(world)
    manifest, data, archive = _archive(world.get("admin", "/schools/sch-h/export"))
    assert (manifest["kind"], manifest["subject"]) == ("school", "sch-h")
    assert [x["cycle"]["id"] for x in data["cycles"]] == [c]
    assert manifest["files"] and all(not f.get("missing") for f in manifest["files"])
    for f in manifest["files"]:  # each file is there, as the manifest says
        body = archive.read(f["path"])
        assert hashlib.sha256(body).hexdigest() == f["sha256"] and len(body) == f["size"]
        assert f["path"].startswith(f"files/{c}/")
    # Another school's export holds nothing of it; only the admin exports a school.
    _, other, _ = _archive(world.get("admin", "/schools/sch-e/export"))
    assert other["cycles"] == []
    problem(world.get("head_own", "/schools/sch-h/export"), 403)


def test_a_person_exports_what_is_held_about_them(world: World) -> None:
    c, _ = _reviewed(world)
    manifest, data, _ = _archive(world.get("review_lead", "/people/p-head-a/export"))
    assert (manifest["kind"], data["person"]["id"]) == ("person", "p-head-a")
    assert data["grants"] and data["notifications"]
    assert all("token_hash" not in t for t in data["tokens"])
    [mine] = [x for x in data["cycles"] if x["cycle_id"] == c]
    assert mine["acted"] and mine["team"][0]["role"] == "review_lead"
    assert any(f["by"] == "p-head-a" for f in mine["findings"])
    # Someone else's is the admin's to take, not anyone's.
    problem(world.get("reviewer", "/people/p-head-a/export"), 403)
    _, theirs, _ = _archive(world.get("admin", "/people/p-head-a/export"))
    assert theirs["person"]["id"] == "p-head-a"


def test_the_admin_breaking_the_glass_to_read_a_report(world: World) -> None:
    """201: the report and the evidence files open to the admin, for 24 hours; the cycle's
    history says who opened it, until when and why; the host's head is told at once (even
    on the daily digest). After the 24 hours the admin reads no report again (403)."""
    c, file_id = _reviewed(world)
    reason = "Complaint from a parent about the visit: the LA asked us to check the findings"
    opened = ok(world.post("admin", f"/cycles/{c}/break-glass", json={"reason": reason}), 201)
    now = world.clock.now()
    assert opened["person_id"] == "p-admin"
    assert opened["until"] == (now + timedelta(hours=24)).isoformat().replace("+00:00", "Z")
    assert ok(world.get("admin", f"/cycles/{c}/report"))["findings"]
    assert world.get("admin", f"/cycles/{c}/evidence/{file_id}/file").status_code == 200
    entry = ok(world.get("head_own", f"/cycles/{c}/history"))[-1]
    assert (entry["actor"], entry["role"]) == ("p-admin", "admin")
    assert entry["detail"] == {"record": "break_glass", "id": opened["id"], "change": "opened"}
    assert entry["reason"].startswith("opened the review report, self-review and evidence")
    assert entry["reason"].endswith(f"giving the reason: {reason}")
    [told] = _notices(world, "head_own", "break_glass")
    assert told["subject"] == "Admin opened Host Primary School's review report (break-glass)"
    assert reason in told["text"] and "Tuesday 15 September 2026 at 09:00" in told["text"]
    assert _notices(world, "staff_own", "break_glass") == []
    with world.container.uow(readonly=True) as uow:
        assert verify_history(uow, [c]) == []
    world.clock.advance(timedelta(hours=23, minutes=59))
    ok(world.get("admin", f"/cycles/{c}/report"))
    world.clock.advance(timedelta(minutes=1))
    problem(world.get("admin", f"/cycles/{c}/report"), 403)
    problem(world.get("admin", f"/cycles/{c}/evidence/{file_id}/file"), 403)


def test_the_admin_setting_a_heads_password_to_sign_in_as_them(world: World) -> None:
    """It works (an admin sets first passwords), but not unseen: the head is told at once
    that someone else set their password; setting one's own tells nobody."""
    ok(world.put("admin", "/people/p-head-h/password", json={"password": LOGIN["password"]}), 204)
    [told] = _notices(world, "head_own", "password")
    assert told["subject"] == "Your password was set by someone else"
    assert told["text"].startswith("Admin set a new password for you.")
    ok(world.put("spare", "/people/p-head-f/password", json={"password": LOGIN["password"]}), 204)
    assert _notices(world, "spare", "password") == []


# -- probing for what exists --------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_school(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[World, dict[str, str]]]:
    """A world with a cycle at follow-up (every kind of record in it), and its records' ids."""
    for w in open_world(tmp_path_factory.mktemp("probing")):
        c = start(w)
        spp_to(w, c, "follow_up")
        cycle = ok(w.get("head_own", f"/cycles/{c}"))
        share = {"grantee_kind": "school", "grantee_id": "sch-e"}
        ok(w.post("head_own", f"/cycles/{c}/shares", json=share), 201)
        ids = {
            "c": c,
            "ev": cycle["evidence"][0]["id"],
            "act": cycle["actions"][0]["id"],
            "link": ok(w.get("head_own", f"/cycles/{c}/support"))[0]["id"],
            "share": ok(w.get("head_own", f"/cycles/{c}/shares"))[0]["id"],
        }
        yield w, ids


WRITES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("focus", "PUT", "/cycles/{c}/focus", {"json": {"lines": ["Reading"]}}),
    ("a date", "PUT", "/cycles/{c}/dates/visit_date", {"json": {"at": "2026-10-06T08:30:00Z"}}),
    ("evidence", "POST", "/cycles/{c}/evidence",
     {"files": {"question_id": (None, "impact.outcomes"), "title": (None, "Minutes")}}),
    ("an erasure", "POST", "/cycles/{c}/evidence/{ev}/erasure", {"json": {"reason": "A name"}}),
    ("a judgement", "PUT", "/cycles/{c}/judgements/self/impact.outcomes",
     {"json": {"narrative": "Secure."}}),
    ("a finding", "POST", "/cycles/{c}/findings", {"json": {"kind": "strength", "text": "Calm"}}),
    ("an action", "POST", "/cycles/{c}/actions", {"json": {"title": "Phonics", "owner": "Dep"}}),
    ("a changed action", "PUT", "/cycles/{c}/actions/{act}",
     {"json": {"title": "Phonics", "owner": "Dep"}}),
    ("an action's status", "POST", "/cycles/{c}/actions/{act}/status",
     {"json": {"status": "met"}}),
    ("support", "POST", "/cycles/{c}/support",
     {"json": {"supporting_school_id": "sch-c", "area": "Maths"}}),
    ("a support activity", "POST", "/cycles/{c}/support/{link}/activities",
     {"json": {"text": "Visit"}}),
    ("a sign-off", "POST", "/cycles/{c}/signoffs", {"json": {"role": "school_lead"}}),
    ("a team member", "PUT", "/cycles/{c}/team/p-head-f", {"json": {"role": "reviewer"}}),
    ("a team member removed", "DELETE", "/cycles/{c}/team/p-head-a", {}),
    ("a share", "POST", "/cycles/{c}/shares",
     {"json": {"grantee_kind": "school", "grantee_id": "sch-x"}}),
    ("a share withdrawn", "DELETE", "/cycles/{c}/shares/{share}", {}),
    ("a move", "POST", "/cycles/{c}/transitions/close", {}),
    ("a break-glass", "POST", "/cycles/{c}/break-glass",
     {"json": {"reason": "Checking the findings after a complaint"}}),
]  # fmt: skip


@pytest.mark.parametrize(("family", "method", "path", "kw"), WRITES, ids=[w[0] for w in WRITES])
def test_writing_to_another_schools_cycle_with_a_wrong_if_match(
    other_school: tuple[World, dict[str, str]],
    family: str,
    method: str,
    path: str,
    kw: dict[str, Any],
) -> None:
    """404 problem+json, word for word what a cycle that does not exist answers (its id
    aside): never a 412 with the cycle's current version, whatever If-Match says."""
    w, ids = other_school
    stale = {"If-Match": '"999"'}
    hidden = w.call("head_other_net", method, path.format(**ids), headers=stale, **kw)
    unknown = w.call(
        "head_other_net", method, path.format(**{**ids, "c": "cyc-100999"}), headers=stale, **kw
    )
    body = problem(hidden, 404)
    assert "current_version" not in body and '"999"' not in hidden.text
    assert problem(unknown, 404)["detail"] == "no cycle 'cyc-100999'"
    assert body["detail"] == f"no cycle '{ids['c']}'"
    assert {k: v for k, v in body.items() if k not in ("detail", "instance", "request_id")} == {
        k: v for k, v in unknown.json().items() if k not in ("detail", "instance", "request_id")
    }


@pytest.mark.parametrize("person", ["p-nobody", "p-head-f"], ids=["made up", "real"])
@pytest.mark.parametrize("cycle", ["hidden", "missing"])
def test_putting_someone_on_the_team_of_a_cycle_one_may_not_see(
    other_school: tuple[World, dict[str, str]], person: str, cycle: str
) -> None:
    """404 about the cycle, whoever the person: whether a person exists is not told to
    someone who may not see the cycle (it used to say "no person 'p-nobody'")."""
    w, ids = other_school
    c = ids["c"] if cycle == "hidden" else "cyc-100999"
    r = w.put("head_other_net", f"/cycles/{c}/team/{person}", json={"role": "reviewer"})
    assert problem(r, 404)["detail"] == f"no cycle '{c}'"


def test_probing_for_people_through_a_team_one_sees(
    other_school: tuple[World, dict[str, str]],
) -> None:
    """A reviewer sees the cycle but may not choose its team: someone made up and a real
    person of another network get the same refusal (the record's: 403 for their roles, 409
    when the stage chooses no team), with no word of the person (a made-up one used to be
    404 "no person")."""
    w, ids = other_school
    c = start(w)
    spp_to(w, c, "pre_review")  # the stage where the team is chosen
    for cycle, status in ((c, 403), (ids["c"], 409)):
        answers = []
        for person in ("p-nobody", "p-staff-x"):
            r = w.put("reviewer", f"/cycles/{cycle}/team/{person}", json={"role": "reviewer"})
            body = problem(r, status)
            assert person not in body["detail"]
            answers.append((body["type"], body["detail"]))
        assert answers[0] == answers[1]
