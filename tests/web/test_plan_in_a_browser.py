"""The action plan and school-to-school support in a real browser (Debian's Chromium), by
keyboard, with axe-core on every page and state reached.

The demo server is shared with the other browser tests, so demo cycles are never moved on here:
actions and their progress are added to the demo's CQA cycle in its follow-up (where its review
lead adds actions and records progress), and support is logged on a cycle of this test's own,
started and taken to school-to-school support by the admin (the demo's one cycle there is put on
hold by another test).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.web.conftest import Demo, assert_accessible, screenshot

pytestmark = pytest.mark.browser

LONDON = ZoneInfo("Europe/London")


def sign_in(page: Any, demo: Demo, role: str) -> None:
    page.goto(f"{demo.base}/app/sign-in")
    page.fill("#email", demo.email(role))
    page.fill("#password", demo.password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base}/app")


def api(demo: Demo, role: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {demo.token(role)}"}
    return httpx.Client(base_url=demo.base, headers=headers, timeout=30)


def press_enter(page: Any) -> None:
    """Send the form of the focused field or button, and wait for the page that answers."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def tab_to(page: Any, element_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def fits_a_phone(page: Any) -> None:
    """At 320 px the page itself does not scroll sideways (a wide table scrolls in its box)."""
    page.set_viewport_size({"width": 320, "height": 800})
    wide = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert wide <= 320, f"the page is {wide} px wide at 320 px"


def test_the_review_lead_adds_an_action_by_keyboard_and_records_its_progress(
    page: Any, demo: Demo
) -> None:
    with api(demo, "review_lead") as lead:
        cycles = lead.get("/cycles", params={"stage": "follow_up", "template": "cqa"}).json()
        assert cycles, "the demo has a CQA cycle in its follow-up, with the review lead on it"
        cycle_id = cycles[0]["id"]
        before = len(lead.get(f"/cycles/{cycle_id}/actions").json())
        findings = lead.get(f"/cycles/{cycle_id}").json()["findings"]
    sign_in(page, demo, "review_lead")
    page.goto(f"{demo.base}/app/cycles/{cycle_id}/actions")
    assert page.inner_text("h1") == "The action plan"
    assert "Where the actions stand" in page.inner_text("main")
    assert_accessible(page, "the action plan")

    # Sent empty: the summary takes the focus and links to the field, the message is beside it.
    page.focus("#title")
    press_enter(page)
    summary = page.locator(".error-summary")
    assert "Enter what the action is" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.inner_text("#title-error").endswith("Enter what the action is")
    assert_accessible(page, "the action plan, an action refused")
    summary.get_by_role("link", name="Enter what the action is").click()
    assert page.evaluate("document.activeElement.id") == "title"

    due = datetime.now(LONDON).date() + timedelta(days=7)
    page.keyboard.type("Moderate writing with a partner school each half term")
    tab_to(page, "owner")
    page.keyboard.press("ArrowDown")  # the first person offered
    assert page.input_value("#owner") != ""
    page.keyboard.press("Tab")
    page.keyboard.type(str(due.day))
    page.keyboard.press("Tab")
    page.keyboard.type(str(due.month))
    page.keyboard.press("Tab")
    page.keyboard.type(str(due.year))
    page.keyboard.press("Tab")
    page.keyboard.type("Judgements agree with the partner school's in 9 of 10 pieces")
    tab_to(page, "finding_id")
    page.keyboard.press("ArrowDown")  # the first finding
    assert page.input_value("#finding_id") == findings[0]["id"]
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Add the action"
    press_enter(page)
    banner = page.locator(".banner-success")
    assert "Action added" in banner.inner_text()
    assert "“Moderate writing with a partner school each half term” is in the plan" in (
        banner.inner_text()
    )
    row = page.locator("tr", has_text="Moderate writing with a partner school")
    assert "Due soon (within 14 days)" in row.inner_text()
    assert findings[0]["text"][:40] in row.inner_text()
    assert "Amber: due soon, no update yet" in row.inner_text()
    assert_accessible(page, "the action plan, an action added")

    # Its progress, by keyboard, from the row's link.
    row.get_by_role("link").focus()
    press_enter(page)
    assert page.inner_text("h1") == "Moderate writing with a partner school each half term"
    assert_accessible(page, "an action")
    page.get_by_role("button", name="Save the progress", exact=True).focus()
    press_enter(page)  # no progress chosen
    assert "Choose how the action is going" in page.inner_text(".error-summary")
    assert_accessible(page, "an action, progress refused")
    page.focus("#status-in_progress")
    page.keyboard.press("Space")
    tab_to(page, "note")
    page.keyboard.type("First moderation done in November")
    page.get_by_role("button", name="Save the progress", exact=True).focus()
    press_enter(page)
    assert "Progress recorded" in page.inner_text(".banner-success")
    row = page.locator("tr", has_text="Moderate writing with a partner school")
    assert "Amber: due soon, in progress" in row.inner_text()
    assert "First moderation done in November" in row.inner_text()
    counts = page.inner_text(".rag-counts")
    assert "Amber" in counts and "Green" in counts and "Red" in counts
    assert_accessible(page, "the action plan with the progress")
    fits_a_phone(page)
    screenshot(page, "action-plan")
    with api(demo, "review_lead") as lead:
        actions = lead.get(f"/cycles/{cycle_id}/actions").json()
    assert len(actions) == before + 1
    (added,) = [a for a in actions if a["title"].startswith("Moderate writing")]
    assert (added["status"], added["finding_id"], added["due"]) == (
        "in_progress",
        findings[0]["id"],
        due.isoformat(),
    )


def _cycle_at_support(demo: Demo) -> str:
    """A cycle of this test's own in school-to-school support, moved there by the admin."""
    with api(demo, "admin") as admin:
        made = admin.post(
            "/cycles", json={"template_id": "spp-cycle", "host_school_id": "sch-102606"}
        )
        assert made.status_code == 201, made.text
        cycle_id = str(made.json()["id"])
        for move in ("submit_self_review", "start_peer_review", "complete_peer_review"):
            version = admin.get(f"/cycles/{cycle_id}").headers["etag"]
            r = admin.post(
                f"/cycles/{cycle_id}/transitions/{move}",
                headers={"If-Match": version},
                json={"force_reason": "browser test: support logged on a cycle of its own"},
            )
            assert r.status_code == 200, r.text
        version = admin.get(f"/cycles/{cycle_id}").headers["etag"]
        r = admin.post(
            f"/cycles/{cycle_id}/transitions/agree_actions",
            headers={"If-Match": version},
            json={"force_reason": "browser test: support logged on a cycle of its own"},
        )
        assert r.status_code == 200, r.text
    return cycle_id


def test_the_partnership_lead_links_a_school_and_logs_support_by_keyboard(
    page: Any, demo: Demo
) -> None:
    cycle_id = _cycle_at_support(demo)
    pl_name = demo.people["partnership_lead"][0]
    sign_in(page, demo, "partnership_lead")
    page.goto(f"{demo.base}/app/cycles/{cycle_id}/support")
    assert page.inner_text("h1") == "School-to-school support"
    assert "No partner school is linked yet" in page.inner_text("main")
    assert_accessible(page, "support, nothing linked")

    # No school chosen: refused beside the field.
    page.focus("#area")
    page.keyboard.type("Communication and interaction")
    press_enter(page)
    assert "Choose the partner school" in page.inner_text(".error-summary")
    assert page.input_value("#area") == "Communication and interaction"
    assert_accessible(page, "support, a link refused")
    page.focus("#school")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#school").startswith("sch-")
    tab_to(page, "area")
    press_enter(page)
    assert "Support link added" in page.inner_text(".banner-success")
    section = page.locator("section.support-link")
    assert "Communication and interaction" in section.inner_text()

    # Two activities, by keyboard; the newest first, each dated and signed.
    for text in ("Visit to their communication base", "Joint training for teaching assistants"):
        field = page.locator("section.support-link textarea")
        field.focus()
        page.keyboard.type(text)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Log the activity"
        press_enter(page)
        assert "Activity logged" in page.inner_text(".banner-success")
    log = page.locator("section.support-link ol.history li")
    assert log.count() == 2
    assert log.nth(0).inner_text().startswith("Joint training for teaching assistants")
    today = datetime.now(LONDON)
    assert f"{today:%A} {today.day} {today:%B %Y} at" in log.nth(0).inner_text()
    assert f"logged by {pl_name}" in log.nth(1).inner_text()
    assert_accessible(page, "support, two activities logged")

    # An empty activity is refused beside its own field.
    page.locator("section.support-link textarea").focus()
    page.keyboard.press("Tab")
    press_enter(page)
    assert "Enter what was done" in page.inner_text(".error-summary")
    assert page.locator("section.support-link .error-message").is_visible()
    assert_accessible(page, "support, an activity refused")
    page.goto(f"{demo.base}/app/cycles/{cycle_id}/support")
    fits_a_phone(page)
    screenshot(page, "support")
    with api(demo, "partnership_lead") as pl:
        (link,) = pl.get(f"/cycles/{cycle_id}/support").json()
    assert [a["text"] for a in link["activity_log"]] == [
        "Visit to their communication base",
        "Joint training for teaching assistants",
    ]
    assert all(a["at"] and a["by"] for a in link["activity_log"])
