"""People of the demo borough in a real browser (Debian's Chromium), by keyboard and mouse,
with axe-core on every page they reach: zero serious or critical violations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import Demo, assert_accessible, screenshot

pytestmark = pytest.mark.browser

HEADS_CYCLE = "cyc-131201"  # Alder Grove Primary School, in its self-review
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def sign_in_with_the_keyboard(page: Any, demo: Demo, role: str) -> None:
    page.goto(f"{demo.base}/app")
    assert page.url.startswith(f"{demo.base}/app/sign-in")
    for _ in range(12):  # from the top of the page, by Tab alone
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "email":
            break
    else:
        raise AssertionError("Tab never reached the email field")
    page.keyboard.type(demo.email(role))
    page.keyboard.press("Tab")
    page.keyboard.type(demo.password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base}/app")


def test_a_head_signs_in_by_keyboard_and_is_shown_what_waits(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.base}/app/sign-in")
    assert_accessible(page, "sign in")
    screenshot(page, "sign-in")
    # A wrong password is said beside the field, and the summary takes the focus.
    page.fill("#email", demo.email("school_lead"))
    page.fill("#password", "not the password")
    page.click("button:has-text('Sign in')")
    assert page.locator(".error-summary").is_visible()
    assert "The email address or password is not right" in page.inner_text(".error-summary")
    assert_accessible(page, "sign in, refused")

    sign_in_with_the_keyboard(page, demo, "school_lead")
    assert page.inner_text("h1") == "My tasks"
    assert "Cycles waiting on you" in page.content()
    assert "Not yet" in page.inner_text("main")  # the submit is blocked, and says why
    assert_accessible(page, "my tasks")
    screenshot(page, "my-tasks")


def test_a_blocked_submit_shows_its_reasons_and_the_self_review_takes_evidence(
    page: Any, demo: Demo, tmp_path: Path
) -> None:
    sign_in_with_the_keyboard(page, demo, "school_lead")
    page.click(f"a[href='/app/cycles/{HEADS_CYCLE}']")
    assert page.inner_text("h1") == "Alder Grove Primary School"
    assert_accessible(page, "the cycle page")
    screenshot(page, "cycle")
    page.click("button:has-text('Submit the self-review')")
    summary = page.locator(".error-summary")
    assert summary.is_visible() and "has no evidence yet" in summary.inner_text()
    assert_accessible(page, "a blocked move")

    page.click("a:has-text('Do the self-review')")
    assert page.inner_text("h1") == "Self-review"
    assert_accessible(page, "the self-review")
    screenshot(page, "self-review")
    page.locator(".task a").first.click()
    page.fill("#narrative", "Outcomes are strong in reading; writing is improving.")
    page.click("button:has-text('Save the self-judgement')")
    assert "Your self-judgement is saved" in page.inner_text(".banner")
    pack = tmp_path / "Reading data.pdf"
    pack.write_bytes(PDF)
    notes = tmp_path / "Pupil voice.txt"
    notes.write_text("Pupils say they enjoy the class novel.")
    page.set_input_files("#files", [str(pack), str(notes)])
    page.click("button:has-text('Add as evidence')")
    assert "2 files added as evidence" in page.inner_text(".banner")
    assert "Reading data.pdf" in page.inner_text("table")
    assert_accessible(page, "a question with evidence")
    screenshot(page, "question")
    bad = tmp_path / "setup.exe"
    bad.write_bytes(b"MZ\x90\x00")
    page.set_input_files("#files", str(bad))
    page.click("button:has-text('Add as evidence')")
    assert "is not a kind of file Peerloop takes" in page.inner_text(".error-summary")
    assert_accessible(page, "a refused upload")


def test_a_stale_move_shows_what_changed_instead_of_an_error(page: Any, demo: Demo) -> None:
    headers = {"Authorization": f"Bearer {demo.token('partnership_lead')}"}
    with httpx.Client(base_url=demo.base, headers=headers) as api:
        cycles = api.get("/cycles", params={"stage": "support"}).json()
        assert cycles, "the demo has a cycle in school-to-school support"
        target = cycles[0]["id"]
        sign_in_with_the_keyboard(page, demo, "partnership_lead")
        page.goto(f"{demo.base}/app/cycles/{target}")
        # Meanwhile someone else moves it (the same partnership lead, from another window).
        version = api.get(f"/cycles/{target}").headers["etag"]
        moved = api.post(f"/cycles/{target}/transitions/pause", headers={"If-Match": version})
        assert moved.status_code == 200, moved.text
    page.click("a:has-text('Withdraw the cycle')")  # a move that ends the cycle is confirmed
    assert page.inner_text("h1") == "Withdraw the cycle: are you sure?"
    assert "cannot be moved on again" in page.inner_text("main")
    assert_accessible(page, "confirm a move that ends the cycle")
    page.click("button:has-text('Yes, withdraw the cycle')")
    banner = page.locator(".banner")
    assert "Someone else changed this cycle while you were looking" in banner.inner_text()
    assert "Put on hold" in banner.inner_text()
    assert_accessible(page, "a conflict")


def test_someone_who_may_not_see_a_cycle_gets_no_link_and_a_not_found(
    page: Any, demo: Demo
) -> None:
    sign_in_with_the_keyboard(page, demo, "reviewer")
    assert HEADS_CYCLE not in page.content()
    response = page.goto(f"{demo.base}/app/cycles/{HEADS_CYCLE}")
    assert response is not None and response.status == 404
    assert page.inner_text("h1") == "Page not found"
    assert_accessible(page, "not found")
