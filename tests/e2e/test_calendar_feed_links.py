"""The calendar feed link over HTTP: a secret URL a calendar app subscribes to without a token,
revoked at once, one person's never showing another's deadlines, and never in the log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
import sqlalchemy as sa
import structlog
from litestar.testing import TestClient

from adapters.clock import FixedClock
from service.app import create_app
from service.bootstrap import build
from service.request_log import redact_path
from service.settings import Settings
from tests.e2e.flows import ok, start
from tests.e2e.world import T0, World, seed_directory

FEED = "/me/calendar-feed"


def make_link(w: World, who: str) -> tuple[str, str]:
    """(the feed's path, its secret) for a new link of `who`."""
    r = w.post(who, FEED)
    body = ok(r, 201)
    assert r.headers["cache-control"] == "no-store"
    assert set(body) == {"url", "created_at"}
    url = str(body["url"])
    path = "/calendar/" + url.split("/calendar/", 1)[1]
    return path, path.removeprefix("/calendar/").removesuffix(".ics")


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def summaries(body: bytes) -> list[str]:
    cal = icalendar.Calendar.from_ical(body)
    return sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT"))


def no_problem_ids(r: Any) -> dict[str, Any]:
    """A problem body without what differs from one request to the next."""
    body = dict(r.json())
    body.pop("instance", None)
    body.pop("request_id", None)
    return body


def test_the_subscribe_url_works_without_a_token(world: World) -> None:
    c = start(world)
    r = world.post("head_own", FEED)
    url = ok(r, 201)["url"]
    assert url.startswith("http://127.0.0.1:8000/calendar/") and url.endswith(".ics")
    path, _ = make_link(world, "head_own")  # a second link replaces the first

    feed = world.get(None, path)
    assert feed.status_code == 200, feed.text
    assert feed.headers.get_list("content-type") == ["text/calendar; charset=utf-8"]
    assert feed.headers["cache-control"] == "private"
    assert feed.content.startswith(b"BEGIN:VCALENDAR")
    assert c in feed.text  # the cycle is named in the event's description
    # In words: the stage's title and the school's name, not their ids.
    assert summaries(feed.content) == ["Self-review due: Host Primary School"]
    # The bearer feed is the same document, titled the same way.
    bearer = ok(world.get("head_own", "/people/me/deadlines.ics"))
    assert summaries(bearer.content) == summaries(feed.content)
    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(feed.content).walk("VEVENT")]
    assert uids and all(u.startswith("deadline-") and u.endswith("@peerloop") for u in uids)

    assert world.get(None, url.removeprefix("http://127.0.0.1:8000")).status_code == 404, (
        "the replaced link stopped working"
    )


def test_the_status_never_shows_the_secret_and_says_when_it_was_last_read(world: World) -> None:
    assert ok(world.get("head_own", FEED)) == {
        "exists": False,
        "created_at": None,
        "last_used_at": None,
    }
    path, secret = make_link(world, "head_own")
    status = world.get("head_own", FEED)
    assert secret not in status.text
    assert ok(status) == {"exists": True, "created_at": iso(T0), "last_used_at": None}

    ok(world.get(None, path))
    assert ok(world.get("head_own", FEED))["last_used_at"] == iso(T0)
    world.clock.advance(timedelta(minutes=5))  # calendar apps poll: not every read writes
    ok(world.get(None, path))
    assert ok(world.get("head_own", FEED))["last_used_at"] == iso(T0)
    later = world.clock.advance(timedelta(minutes=6))
    ok(world.get(None, path))
    assert ok(world.get("head_own", FEED))["last_used_at"] == iso(later)
    assert ok(world.get("staff_own", FEED))["exists"] is False, "one person's link only"


def test_the_secret_is_stored_only_as_its_hash(world: World) -> None:
    _, secret = make_link(world, "head_own")
    with world.container.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM calendar_feed_link")).mappings().all()
    assert [r["secret_hash"] for r in rows] == [hashlib.sha256(secret.encode()).hexdigest()]
    assert secret not in repr(rows)
    assert len(secret) == 43  # secrets.token_urlsafe(32): 256 random bits


def test_revoking_makes_the_url_404_at_once_like_an_unknown_address(world: World) -> None:
    start(world)
    path, _ = make_link(world, "head_own")
    assert ok(world.get(None, path)).status_code == 200
    assert world.call("head_own", "DELETE", FEED).status_code == 204
    gone = world.get(None, path)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    unknown = world.get(None, "/no/such/address")
    assert no_problem_ids(gone) == no_problem_ids(unknown)
    assert ok(world.get("head_own", FEED))["exists"] is False
    assert world.call("head_own", "DELETE", FEED).status_code == 204, "revoking is idempotent"
    again, _ = make_link(world, "head_own")
    assert ok(world.get(None, again)).status_code == 200, "a new link works after a revocation"


def test_unknown_and_malformed_links_are_404(world: World) -> None:
    path, secret = make_link(world, "head_own")
    unknown = no_problem_ids(world.get(None, "/no/such/address"))
    for bad in (
        "/calendar/" + "A" * 43 + ".ics",  # the shape of a secret, but nobody's
        f"/calendar/{secret}",  # without .ics
        f"/calendar/{secret}.ICS",
        f"/calendar/{secret}.ics.ics",
        f"/calendar/{secret[:-1]}.ics",
        "/calendar/.ics",
        "/calendar/x.ics",
    ):
        r = world.get(None, bad)
        assert r.status_code == 404, bad
        assert no_problem_ids(r) == unknown, bad
    # A bearer token is no substitute for the secret, and changes nothing.
    assert world.get("head_own", "/calendar/" + "A" * 43 + ".ics").status_code == 404
    assert world.get(None, path).status_code == 200


def test_another_persons_secret_never_shows_another_persons_deadlines(world: World) -> None:
    own = start(world)  # a cycle at Host Primary School, in the northern network
    other = start(world, school="sch-x", who="pl_other")  # one in the southern network
    head_path, _ = make_link(world, "head_own")
    other_path, _ = make_link(world, "head_other_net")

    head = ok(world.get(None, head_path))
    outsider = ok(world.get(None, other_path))
    assert own in head.text and other not in head.text
    assert other in outsider.text and own not in outsider.text
    assert summaries(outsider.content) == ["Self-review due: Xylem Primary School"]
    assert b"Head Own" in head.content and b"Head Own" not in outsider.content

    # Revoking one person's link leaves the other's working.
    assert world.call("head_other_net", "DELETE", FEED).status_code == 204
    assert world.get(None, other_path).status_code == 404
    assert ok(world.get(None, head_path)).status_code == 200


def test_managing_the_link_needs_a_token(world: World) -> None:
    for method in ("POST", "GET", "DELETE"):
        r = world.call(None, method, FEED)
        assert r.status_code == 401, method
    assert world.table_count("calendar_feed_link") == 0


def test_the_secret_never_appears_in_the_request_log(world: World) -> None:
    start(world)
    with structlog.testing.capture_logs() as logs:
        r = world.post("head_own", FEED)
        path = "/calendar/" + ok(r, 201)["url"].split("/calendar/", 1)[1]
        secret = path.removeprefix("/calendar/").removesuffix(".ics")
        ok(world.get(None, path))
        world.get(None, path + "x")  # a 404 on a near miss
        world.get(None, path.replace("/calendar/", "/CALENDAR/"))  # unrouted spellings too
        world.call("head_own", "DELETE", FEED)
        world.get(None, path)  # revoked: 404
    assert secret not in json.dumps(logs, default=str)
    feed_lines = [e for e in logs if e["event"] == "request" and "calendar/" in e["path"].lower()]
    assert len(feed_lines) == 4
    assert {e["path"] for e in feed_lines} == {"/calendar/***", "/CALENDAR/***"}
    assert [e["status"] for e in feed_lines] == [200, 404, 404, 404]
    assert feed_lines[0]["route"] == "/calendar/{feed}"
    assert redact_path(f"//calendar/{secret}.ics") == "//calendar/***"


def test_the_secret_is_not_logged_when_storage_fails(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, secret = make_link(world, "head_own")
    ws = world.app.state["workspace"]

    def down(**_: Any) -> Any:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(ws, "uow", down)
    with structlog.testing.capture_logs() as logs:
        r = world.get(None, path)
    assert r.status_code == 503
    assert secret not in json.dumps(logs, default=str)


@pytest.fixture
def public_world(tmp_path: Path) -> Iterator[World]:
    """Peerloop behind a proxy: PEERLOOP_PUBLIC_URL names where people reach it."""
    clock = FixedClock(T0)
    settings = Settings(data_dir=tmp_path, demo=False, public_url="https://peerloop.example.org/")
    container = build(settings, clock=clock, migrate=True)
    tokens = seed_directory(container, clock.now())
    app = create_app(container)
    with TestClient(app=app) as client:
        yield World(container, clock, app, client, tokens)


def test_the_url_uses_the_public_url(public_world: World) -> None:
    url = ok(public_world.post("head_own", FEED), 201)["url"]
    assert url.startswith("https://peerloop.example.org/calendar/") and url.endswith(".ics")
    path = url.removeprefix("https://peerloop.example.org")
    assert ok(public_world.get(None, path)).content.startswith(b"BEGIN:VCALENDAR")


def test_the_feed_link_on_postgresql(pg_world: World) -> None:
    c = start(pg_world)
    path, _ = make_link(pg_world, "head_own")
    feed = ok(pg_world.get(None, path))
    assert c in feed.text
    assert summaries(feed.content) == ["Self-review due: Host Primary School"]
    assert pg_world.call("head_own", "DELETE", FEED).status_code == 204
    assert pg_world.get(None, path).status_code == 404
