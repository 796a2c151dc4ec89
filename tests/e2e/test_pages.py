"""The pages over HTTP (the browser tests click through them; these check the rules): sign in
and out, CSRF, sessions, security headers, and that a page shows only what its viewer may see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from tests.e2e.conftest import PASSWORD
from tests.e2e.flows import move, spp_self_review, start
from tests.e2e.world import PEOPLE, World


def email(who: str) -> str:
    return f"{PEOPLE[who][0]}@school.example"


def csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


@contextmanager
def browser(world: World) -> Iterator[TestClient[Any]]:
    """The app's client as one browser: its cookies, cleared before and after."""
    world.client.cookies.clear()
    try:
        yield world.client
    finally:
        world.client.cookies.clear()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def sign_in(client: TestClient[Any], who: str, password: str = PASSWORD) -> Any:
    form = client.get("/app/sign-in")
    return client.post(
        "/app/sign-in",
        data={"csrf": csrf(form.text), "email": email(who), "password": password, "next": "/app"},
        follow_redirects=False,
    )


def test_signing_in_sets_a_new_httponly_session_and_signing_out_ends_it(site: World) -> None:
    with browser(site) as client:
        assert client.get("/app", follow_redirects=False).headers["location"] == (
            "/app/sign-in?next=/app"
        )
        r = sign_in(client, "head_own")
        assert r.status_code == 303 and r.headers["location"] == "/app"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        first = client.cookies["peerloop_session"]
        page = client.get("/app")
        assert page.status_code == 200 and "My tasks" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "<script>" not in page.text  # no inline script anywhere
        # Signing in again (session fixation): a new session, and the old one stops working.
        sign_in(client, "head_own")
        second = client.cookies["peerloop_session"]
        assert second != first
        assert site.client.get("/people/me", headers=bearer(first)).status_code == 401
        out = client.post("/app/sign-out", data={"csrf": csrf(client.get("/app").text)},
                          follow_redirects=False)  # fmt: skip
        assert out.status_code == 303
        # Signed out on the server, not only forgotten by this browser.
        assert site.client.get("/people/me", headers=bearer(second)).status_code == 401
        assert not client.cookies.get("peerloop_session")
        assert client.get("/app", follow_redirects=False).status_code == 303


def test_a_wrong_password_is_told_beside_the_field_and_nothing_is_set(site: World) -> None:
    with browser(site) as client:
        r = sign_in(client, "head_own", "not it")
        assert r.status_code == 401
        assert "There is a problem" in r.text and 'href="#email"' in r.text
        assert "The email address or password is not right" in r.text
        assert "peerloop_session" not in client.cookies


def test_wrong_passwords_on_the_page_are_slowed_down_and_said_in_words(site: World) -> None:
    from datetime import timedelta

    with browser(site) as client:
        for _ in range(5):
            assert sign_in(client, "head_own", "not it").status_code == 401
        r = sign_in(client, "head_own")  # even the right one waits, unchecked
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
        assert "Too many wrong passwords: try again in 1 second" in r.text
        assert "peerloop_session" not in client.cookies
        site.clock.advance(timedelta(seconds=1))
        assert sign_in(client, "head_own").status_code == 303


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(site: World) -> None:
    c = start(site)
    spp_self_review(site, c)
    with browser(site) as client:
        sign_in(client, "head_own")
        page = client.get(f"/app/cycles/{c}")
        version = re.search(r'name="version" value="(\d+)"', page.text)
        assert version
        for token in ("", "forged"):
            r = client.post(
                f"/app/cycles/{c}/moves/submit_self_review",
                data={"csrf": token, "version": version.group(1), "seen": "0"},
                follow_redirects=False,
            )
            assert r.status_code == 400 and "This form had expired" in r.text
        assert site.get("head_own", f"/cycles/{c}").json()["stage"] == "self_review"
        # Without a token the sign-in form is refused too (login CSRF).
        r = client.post("/app/sign-in", data={"email": email("head_own"), "password": PASSWORD})
        assert r.status_code == 400


def test_a_move_from_the_page_then_a_stale_one_shows_what_changed(site: World) -> None:
    c = start(site)
    spp_self_review(site, c)
    with browser(site) as head:
        sign_in(head, "head_own")
        page = head.get(f"/app/cycles/{c}").text
        assert "Submit the self-review" in page
        form = {
            "csrf": csrf(page),
            "version": re.search(r'name="version" value="(\d+)"', page).group(1),  # type: ignore[union-attr]
            "seen": re.search(r'name="seen" value="(\d+)"', page).group(1),  # type: ignore[union-attr]
        }
        # Meanwhile the partnership lead changes the cycle (withdraws it? no: sets a date).
        move(site, "pl_own", c, "pause")
        r = head.post(f"/app/cycles/{c}/moves/submit_self_review", data=form)
        assert r.status_code == 409
        assert "Someone else changed this cycle while you were looking" in r.text
        assert "Put on hold" in r.text  # what changed, in words


def test_a_blocked_move_shows_every_reason(site: World) -> None:
    c = start(site)
    with browser(site) as head:
        sign_in(head, "head_own")
        page = head.get(f"/app/cycles/{c}").text
        form = {
            "csrf": csrf(page),
            "version": re.search(r'name="version" value="(\d+)"', page).group(1),  # type: ignore[union-attr]
            "seen": "0",
        }
        r = head.post(f"/app/cycles/{c}/moves/submit_self_review", data=form)
        assert r.status_code == 409 and "The move could not be made yet" in r.text
        assert r.text.count("has no evidence yet") >= 8


def test_a_submit_refused_from_the_self_review_shows_each_reason_beside_its_question(
    site: World,
) -> None:
    from tests.e2e.flows import SPP_QUESTIONS, evidence

    c = start(site)
    evidence(site, "head_own", c, SPP_QUESTIONS[0])
    with browser(site) as head:
        sign_in(head, "head_own")
        page = head.get(f"/app/cycles/{c}/self-review").text
        assert "Submit the self-review" in page and "Withdraw" not in page
        form = {
            "csrf": csrf(page),
            "version": re.search(r'name="version" value="(\d+)"', page).group(1),  # type: ignore[union-attr]
            "seen": "0",
        }
        r = head.post(f"/app/cycles/{c}/self-review/moves/submit_self_review", data=form)
        assert r.status_code == 409
        assert "The self-review cannot be submitted yet" in r.text
        # Each question with what it lacks, once, linked; the focus last.
        summary = r.text.split('class="error-summary"')[1].split("</div>")[0]
        assert summary.count("<li>") == 9
        lacks = "pupils with SEND?: no self-judgement yet, no evidence yet"
        assert lacks in summary
        # ... and said again beside it, briefly.
        item = r.text.split('id="q-impact-disadvantaged"')[1].split("</li>")[0]
        assert "No self-judgement yet" in item and "No evidence yet" in item
        first = r.text.split('id="q-impact-outcomes"')[1].split("</li>")[0]
        assert "No evidence yet" not in first and "No self-judgement yet" in first
        assert 'href="#q-forward-vision"' in r.text and 'href="#focus"' in r.text
        assert site.get("head_own", f"/cycles/{c}").json()["stage"] == "self_review"


def test_another_schools_cycle_page_is_not_found(site: World) -> None:
    c = start(site)
    with browser(site) as other:
        sign_in(other, "head_other_net")
        r = other.get(f"/app/cycles/{c}")
        assert r.status_code == 404 and "Page not found" in r.text
        assert c not in other.get("/app").text


def test_my_tasks_lists_what_waits_and_the_news(site: World) -> None:
    c = start(site)
    spp_self_review(site, c)
    move(site, "head_own", c, "submit_self_review")
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        page = pl.get("/app").text
        assert "Cycles waiting on you" in page
        assert "You can send back for more evidence." in page
        assert "submit the self-review — now at Pre-review" in page
        assert f"/app/cycles/{c}" in page


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_the_head_does_the_self_review_in_pages_and_submits_it(site: World) -> None:
    from tests.e2e.flows import SPP_QUESTIONS

    c = start(site)
    with browser(site) as head:
        sign_in(head, "head_own")
        page = head.get(f"/app/cycles/{c}/self-review").text
        assert "You have completed 0 of 8 questions" in page and "Not started" in page
        for i, q in enumerate(SPP_QUESTIONS):
            qpage = head.get(f"/app/cycles/{c}/questions/{q}").text
            token = csrf(qpage)
            files = [("files", (f"Data pack {i}.pdf", PDF, "application/pdf"))]
            if i == 0:  # several files at once
                files.append(("files", ("Pupil voice.txt", b"Pupils say...", "text/plain")))
            r = head.post(
                f"/app/cycles/{c}/questions/{q}/evidence",
                data={"csrf": token, "title": ""},
                files=files,
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text
            assert r.headers["location"].endswith(f"?saved={len(files)}")
            r = head.post(
                f"/app/cycles/{c}/questions/{q}/judgement",
                data={"csrf": token, "narrative": f"Our view on {q}: secure."},
                follow_redirects=False,
            )
            assert r.status_code == 303
        page = head.get(f"/app/cycles/{c}/self-review").text
        assert "You have completed 8 of 8 questions" in page
        r = head.post(
            f"/app/cycles/{c}/focus",
            data={"csrf": csrf(page), "focus": "Reading in KS2\n\nAttendance\n"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert site.get("head_own", f"/cycles/{c}").json()["focus"] == [
            "Reading in KS2",
            "Attendance",
        ]
        cycle = head.get(f"/app/cycles/{c}").text
        form = {
            "csrf": csrf(cycle),
            "version": re.search(r'name="version" value="(\d+)"', cycle).group(1),  # type: ignore[union-attr]
            "seen": "0",
        }
        done = head.post(f"/app/cycles/{c}/moves/submit_self_review", data=form)
        assert done.status_code == 200 and "Done: Submit the self-review" in done.text
        assert "Pre-review" in done.text


def test_an_upload_of_the_wrong_kind_or_empty_is_told_beside_the_field(site: World) -> None:
    from tests.e2e.flows import SPP_QUESTIONS

    c = start(site)
    q = SPP_QUESTIONS[0]
    with browser(site) as head:
        sign_in(head, "head_own")
        token = csrf(head.get(f"/app/cycles/{c}/questions/{q}").text)
        for name, content, kind, words in (
            ("run.exe", b"MZ\x90\x00", "application/x-msdownload", "is not a kind of file"),
            ("Report.pdf", b"", "application/pdf", "is empty"),
            ("Report.pdf", b"not a pdf at all", "application/pdf", "does not hold a PDF"),
        ):
            r = head.post(
                f"/app/cycles/{c}/questions/{q}/evidence",
                data={"csrf": token},
                files=[("files", (name, content, kind))],
            )
            assert r.status_code == 400 and "There is a problem" in r.text, r.text
            assert words in r.text and 'href="#files"' in r.text
        none = head.post(f"/app/cycles/{c}/questions/{q}/evidence", data={"csrf": token})
        assert none.status_code == 400 and "Choose one or more files" in none.text
    assert site.get("head_own", f"/cycles/{c}").json()["evidence"] == []


def test_a_send_larger_than_five_files_of_the_limit_is_a_page_in_words(site: World) -> None:
    from tests.e2e.flows import SPP_QUESTIONS

    c = start(site)
    q = SPP_QUESTIONS[0]
    big = b"%PDF-1.4\n" + b"0" * (256 * 1024 - 16)  # each at the world's limit of 256 KB
    with browser(site) as head:
        sign_in(head, "head_own")
        token = csrf(head.get(f"/app/cycles/{c}/questions/{q}").text)
        r = head.post(
            f"/app/cycles/{c}/questions/{q}/evidence",
            data={"csrf": token},
            files=[("files", (f"Scan {i}.pdf", big, "application/pdf")) for i in range(7)],
        )
        assert r.status_code == 413 and "What you sent is too large" in r.text
        assert "each of at most 256 KB" in r.text
    assert site.get("head_own", f"/cycles/{c}").json()["evidence"] == []


def test_an_empty_self_judgement_is_refused_and_what_was_typed_is_kept(site: World) -> None:
    from tests.e2e.flows import SPP_QUESTIONS

    c = start(site)
    q = SPP_QUESTIONS[0]
    with browser(site) as head:
        sign_in(head, "head_own")
        token = csrf(head.get(f"/app/cycles/{c}/questions/{q}").text)
        r = head.post(
            f"/app/cycles/{c}/questions/{q}/judgement", data={"csrf": token, "narrative": "  "}
        )
        assert r.status_code == 400 and 'href="#narrative"' in r.text


def test_my_tasks_over_the_api_is_the_same_use_case_as_the_page(site: World) -> None:
    c = start(site)
    tasks = site.get("head_own", "/me/tasks").json()
    (mine,) = [t for t in tasks["cycles"] if t["cycle_id"] == c]
    submit = next(m for m in mine["moves"] if m["transition"] == "submit_self_review")
    assert submit["allowed"] is False and len(submit["reasons"]) == 17
    assert mine["stage"] == "Self-review" and mine["school"] == "Host Primary School"
    # The other school's head has nothing of it.
    other = site.get("head_other_net", "/me/tasks").json()
    assert all(t["cycle_id"] != c for t in other["cycles"])


def test_the_history_says_when_someone_acted_with_a_token_another_person_made(
    site: World,
) -> None:
    from tests.e2e.flows import ok, spp_to

    c = start(site)
    spp_to(site, c, "peer_review", fill=False)
    made = ok(site.post("admin", "/tokens", json={"person_id": "p-head-a", "name": "x"}), 201)
    finding = {"kind": "strength", "text": "Written with the admin's token."}
    as_lead = {"Authorization": f"Bearer {made['secret']}"}
    ok(site.client.post(f"/cycles/{c}/findings", json=finding, headers=as_lead), 201)
    ok(site.post("review_lead", f"/cycles/{c}/findings", json=finding), 201)
    with browser(site) as head:
        sign_in(head, "head_own")
        history = head.get(f"/app/cycles/{c}").text.split("<h2>History</h2>")[1]
    assert history.count("using a token made by Admin") == 1
