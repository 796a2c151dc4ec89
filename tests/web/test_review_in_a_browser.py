"""The review in a real browser: the demo's review lead records a peer judgement and a finding
by keyboard, the host's head reads the report, shares it and withdraws the share, and the report
prints without its navigation and forms; axe-core on every page and state reached.

The demo cycle is left at its stage (other browser tests share the demo server): only records
are added, and the share made here is withdrawn again.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Demo, assert_accessible, screenshot
from tests.web.test_pages_in_a_browser import sign_in_with_the_keyboard

pytestmark = pytest.mark.browser

REVIEWED = "cyc-138304"  # Northbank Academy, at its peer review, led by the demo review lead
HOST_HEAD = "reviewer"  # the demo's reviewer is Northbank Academy's head, the host here
ELSEWHERE = "sch-134111"  # Southmere Primary School: no demo person's school


def tab_to(page: Any, selector: str, presses: int = 80) -> None:
    """Tab forwards until `selector` has the focus, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_review_lead_records_a_judgement_and_a_finding_by_keyboard(
    page: Any, demo: Demo
) -> None:
    sign_in_with_the_keyboard(page, demo, "review_lead")
    page.goto(f"{demo.base}/app/cycles/{REVIEWED}")
    tab_to(page, "a[href$='/review']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base}/app/cycles/{REVIEWED}/review")
    assert page.inner_text("h1") == "The review"
    assert "The school's self-judgement" in page.inner_text("main")
    assert_accessible(page, "the review")

    # The first question not yet judged, by keyboard.
    task = page.locator(".task", has=page.locator(".tag", has_text="Not started")).first
    question = task.locator("a").first.inner_text()
    task.locator("a").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#narrative")
    assert page.inner_text("h1") == question
    assert_accessible(page, "a question at the review")

    # Saved empty: the summary takes the focus and links to the field.
    tab_to(page, "button[type=submit].button:not(.secondary)")
    page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "Write what the team found on this question" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert_accessible(page, "a refused peer judgement")
    page.locator(".error-summary a").first.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "narrative"
    page.keyboard.type("Reading is a strength across the school; pupils talk about books.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(".banner-success")
    assert f"The peer judgement on “{question}” is saved." in page.inner_text(".banner")
    done = page.locator(".task", has=page.locator("a", has_text=question))
    assert done.locator(".tag").inner_text() == "Completed"
    assert_accessible(page, "the review after a judgement")
    screenshot(page, "review")

    # A finding, by keyboard: the first kind (a strength), its words, no question.
    page.locator("#kind").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "text"
    page.keyboard.type("Pupils choose books eagerly from a well-stocked library.")
    tab_to(page, "#add-finding + form button[type=submit]")
    assert page.evaluate("document.activeElement.textContent").strip() == "Add the finding"
    page.keyboard.press("Enter")
    page.wait_for_selector(".banner-success")
    assert "The finding is saved." in page.inner_text(".banner")
    findings = page.inner_text("main").split("Strengths", 1)[1].split("Areas to develop")[0]
    assert "Pupils choose books eagerly from a well-stocked library." in findings

    # Without a kind: told beside the radios, and nothing is saved.
    page.fill("#text", "A finding of no kind")
    page.click("button:has-text('Add the finding')")
    page.locator(".error-summary").wait_for()
    assert "Choose what kind of finding this is" in page.inner_text(".error-summary")
    assert_accessible(page, "a refused finding")

    page.click("a:has-text('See the review report')")
    assert page.inner_text("h1") == "Review report: Northbank Academy"
    main = page.inner_text("main")
    assert "Pupils choose books eagerly" in main and "A finding of no kind" not in main
    assert "Who else can read this report" not in main  # the host's head decides that
    assert_accessible(page, "the report, as the review lead reads it")


def test_the_host_head_reads_the_report_shares_it_and_withdraws_it(page: Any, demo: Demo) -> None:
    sign_in_with_the_keyboard(page, demo, HOST_HEAD)
    page.goto(f"{demo.base}/app/cycles/{REVIEWED}")
    page.click("a:has-text('The review report')")
    assert page.inner_text("h1") == "Review report: Northbank Academy"
    main = page.inner_text("main")
    assert "Nobody else can read it yet." in main
    # Whoever outside the school has read it is listed for the head, with why they could.
    assert "Who outside the school has read it" in main
    # One line per reader and ground, however many pages of the report they opened.
    readers = page.locator("table", has_text="Why they could").locator("tbody tr")
    names = [readers.nth(i).inner_text().split("\t")[0] for i in range(readers.count())]
    assert len(names) == len(set(names))
    assert_accessible(page, "the report with its share dialog and who has read it")
    screenshot(page, "report")

    page.click("button:has-text('Share the report')")
    page.locator(".error-summary").wait_for()
    assert "Choose who to share the report with" in page.inner_text(".error-summary")
    assert_accessible(page, "a share with nobody chosen")

    page.select_option("#grantee", f"school:{ELSEWHERE}")
    page.click("button:has-text('Share the report')")
    banner = page.locator(".banner-success")
    assert "The head of Southmere Primary School can now read this report." in banner.inner_text()
    assert "The head of Southmere Primary School" in page.inner_text("table")
    assert_accessible(page, "the report, shared")

    # Printed: the report alone, without the navigation, the banner and the forms.
    page.emulate_media(media="print")
    assert page.locator("h1").is_visible()
    for hidden in (".masthead", ".breadcrumbs", ".banner", ".share", "footer"):
        assert not page.locator(hidden).first.is_visible(), hidden
    page.emulate_media(media="screen")

    page.click("button:has-text('Withdraw')")
    banner = page.locator(".banner-success")
    assert "can no longer read this report" in banner.inner_text()
    assert "Nobody else can read it yet." in page.inner_text("main")
    assert_accessible(page, "the report, the share withdrawn")
    page.goto(f"{demo.base}/app/cycles/{REVIEWED}")
    history = page.inner_text(".history")
    assert "shared the report with the head of Southmere Primary School" in history
    assert "stopped sharing the report with the head of Southmere Primary School" in history
