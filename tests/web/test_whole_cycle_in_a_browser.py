"""A whole SPP cycle in the browser, start to closed, played by the people of the demo whose
job each step is, by typing and clicking: nothing is done through the API or forced.

Each person has a browser of their own (their own session). axe-core runs on every page and
state reached, and a form is sent with the keyboard (Enter on the focused button).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import Demo, assert_accessible, screenshot

pytestmark = pytest.mark.browser

HOST = "sch-131201"  # Alder Grove Primary School (its head is the demo's school_lead)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@contextmanager
def person(chromium: Any, demo: Demo, email: str) -> Iterator[Any]:
    """A browser of this person's own, signed in."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="Europe/London"
    )
    page = context.new_page()
    page.goto(f"{demo.base}/app/sign-in")
    page.fill("#email", email)
    page.fill("#password", demo.password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base}/app")
    try:
        yield page
    finally:
        context.close()


def press(page: Any, name: str) -> None:
    """Send a form with the keyboard: focus its button, press Enter, wait for the answer."""
    button = page.get_by_role("button", name=name, exact=True)
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def follow(page: Any, name: str) -> None:
    link = page.get_by_role("link", name=name, exact=True)
    link.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def checked(page: Any, context: str) -> None:
    assert_accessible(page, context)


def emails(demo: Demo, *ids: str) -> dict[str, str]:
    admin = {"Authorization": f"Bearer {demo.token('admin')}"}
    with httpx.Client(base_url=demo.base, headers=admin) as api:
        return {pid: api.get(f"/people/{pid}").json()["email"] for pid in ids}


def test_a_whole_spp_cycle_from_start_to_closed_in_the_browser(
    chromium: Any, demo: Demo, tmp_path: Path
) -> None:
    head, pl, chair = (
        demo.email("school_lead"),
        demo.email("partnership_lead"),
        demo.email("network_lead"),
    )
    lead, reviewer, champion = (
        demo.email("review_lead"),
        demo.email("reviewer"),
        demo.email("improvement_champion"),
    )
    pack = tmp_path / "Data pack.pdf"
    pack.write_bytes(PDF)

    # The partnership lead starts the cycle.
    with person(chromium, demo, pl) as page:
        follow(page, "Start a cycle")
        checked(page, "start a cycle")
        page.check("#template-spp-cycle")
        page.select_option("#school", HOST)
        press(page, "Start the cycle")
        assert "The cycle has started" in page.inner_text(".banner")
        cycle_url = page.url.split("?")[0]
        cycle_id = cycle_url.rsplit("/", 1)[1]
        # The workflow diagram is drawn by Peerloop, the current stage marked, styled under the CSP.
        page.click("summary:has-text('The whole workflow as a diagram')")
        diagram = page.locator("details.diagram svg")
        assert diagram.is_visible() and "You are here" in diagram.inner_html()
        checked(page, "a new cycle, diagram open")

    # The head does the self-review: every question judged with evidence, the focus chosen.
    with person(chromium, demo, head) as page:
        page.goto(cycle_url)
        follow(page, "Do the self-review")
        # Submitting too early says what is missing, beside each question.
        press(page, "Submit the self-review")
        summary = page.locator(".error-summary")
        assert "The self-review cannot be submitted yet" in summary.inner_text()
        assert page.locator(".task-error").count() == 8
        checked(page, "a refused submit, reasons beside the questions")
        screenshot(page, "self-review-refused")
        questions = page.locator(".task a")
        count = questions.count()
        assert count == 8
        hrefs = [questions.nth(i).get_attribute("href") for i in range(count)]
        for i, href in enumerate(hrefs):
            page.goto(f"{demo.base}{href}")
            grades = page.locator("input[name='grade']")
            if grades.count():
                grades.nth(1).check()
            page.fill("#narrative", f"What we know about this, question {i + 1}, and how.")
            press(page, "Save the self-judgement")
            page.set_input_files("#files", str(pack))
            press(page, "Add as evidence")
            assert "1 file added as evidence" in page.inner_text(".banner")
        checked(page, "a completed question")
        page.goto(f"{cycle_url}/self-review")
        assert "You have completed 8 of 8 questions" in page.inner_text("main")
        page.fill("#focus", "Reading in key stage 2\nAttendance of disadvantaged pupils")
        press(page, "Save the focus")
        page.goto(cycle_url)
        press(page, "Submit the self-review")
        assert "Done: Submit the self-review" in page.inner_text(".banner")
        checked(page, "after the submit")

    # The partnership lead forms the team and fixes the visit.
    ids = ["p-head-131202", "p-head-138304", "p-head-100505"]
    with person(chromium, demo, pl) as page:
        page.goto(cycle_url)
        follow(page, "Set the team and dates")
        checked(page, "the team page, empty")
        for pid, role in zip(ids, ("review_lead", "reviewer", "reviewer"), strict=True):
            page.select_option("#person", pid)
            page.check(f"#role-{role}")
            press(page, "Add to the team")
            assert "The team is updated" in page.inner_text(".banner")
        page.fill("#date-visit_date", "2027-03-15")
        press(page, "Set the review visit")
        assert "Now Monday 15 March 2027 at 09:00" in page.inner_text("main")
        checked(page, "the team set")
        screenshot(page, "team")

    # The review lead starts the peer review.
    with person(chromium, demo, lead) as page:
        page.goto(cycle_url)
        press(page, "Start the peer review")
        assert "Done: Start the peer review" in page.inner_text(".banner")

    # The reviewers judge a question and record what they found; the review lead completes it.
    with person(chromium, demo, reviewer) as page:
        page.goto(cycle_url)
        follow(page, "Record the review: judgements and findings")
        page.locator(".task a").first.click()
        grades = page.locator("input[name='grade']")
        if grades.count():
            grades.first.check()
        page.fill("#narrative", "Reading is a strength across the school.")
        press(page, "Save the peer judgement")
        page.check("#kind")
        page.fill("#text", "Pupils talk with enthusiasm about the books they read.")
        press(page, "Add the finding")
        assert "The finding is saved." in page.inner_text(".banner")
        checked(page, "the review with a finding")
    with person(chromium, demo, lead) as page:
        page.goto(f"{cycle_url}/review")
        page.check("#kind-area_to_develop")
        page.fill("#text", "Feedback in writing is not yet acted on by pupils.")
        press(page, "Add the finding")
        page.goto(cycle_url)
        press(page, "Complete the peer review")
        assert "Done: Complete the peer review" in page.inner_text(".banner")

    # The NLC chair sees where the cycle is, but there is no report for them: no link, a 404.
    with person(chromium, demo, chair) as page:
        page.goto(cycle_url)
        assert "Improvement workshop" in page.inner_text("main")
        assert page.locator(f"a[href='/app/cycles/{cycle_id}/report']").count() == 0
        response = page.goto(f"{cycle_url}/report")
        assert response is not None and response.status == 404
        assert "Feedback in writing" not in page.content()
        checked(page, "the report, not found")

    # The head reads the report and shares it with the chair's network.
    with person(chromium, demo, head) as page:
        page.goto(cycle_url)
        follow(page, "The review report")
        assert "Pupils talk with enthusiasm" in page.inner_text("main")
        page.select_option("#grantee", "network:nlc-north")
        press(page, "Share the report")
        assert "can now read this report" in page.inner_text(".banner")
        checked(page, "the report, shared")
    with person(chromium, demo, chair) as page:
        page.goto(cycle_url)
        follow(page, "The review report")
        assert "Feedback in writing is not yet acted on" in page.inner_text("main")

    # The partnership lead names the improvement champion, from a school not on the review.
    with person(chromium, demo, pl) as page:
        page.goto(f"{cycle_url}/team")
        page.select_option("#person", "p-head-133107")
        page.check("#role-improvement_champion")
        press(page, "Add to the team")
        assert "Problems with the team" not in page.inner_text("main")

    # The workshop: the champion writes the action answering the area to develop, and both
    # sign off; the champion agrees the plan.
    with person(chromium, demo, champion) as page:
        page.goto(cycle_url)
        follow(page, "The action plan")
        checked(page, "an empty action plan")
        page.fill("#title", "Whole-school feedback policy, acted on by pupils")
        page.select_option("#owner", index=1)
        page.fill("#due-day", "30")
        page.fill("#due-month", "6")
        page.fill("#due-year", "2027")
        page.fill("#success_criteria", "Seen in book looks in every class")
        answers = page.locator("#finding_id option", has_text="Feedback in writing")
        page.select_option("#finding_id", answers.get_attribute("value"))
        press(page, "Add the action")
        assert "Action added" in page.inner_text(".banner")
        assert "Feedback in writing is not yet acted on" in page.inner_text("table")
        checked(page, "the action plan with an action")
        page.goto(cycle_url)
        press(page, "Sign off as improvement champion")
    with person(chromium, demo, head) as page:
        page.goto(cycle_url)
        press(page, "Sign off as host headteacher")
        assert "Your sign-off as Host headteacher is recorded" in page.inner_text(".banner")
    with person(chromium, demo, champion) as page:
        page.goto(cycle_url)
        press(page, "Agree the action plan")
        assert "Done: Agree the action plan" in page.inner_text(".banner")

    # Support: the head links a partner school strong in the area and logs what happened.
    with person(chromium, demo, head) as page:
        page.goto(cycle_url)
        follow(page, "School-to-school support")
        page.select_option("#school", "sch-131202")
        page.check("#area-choice-1")
        press(page, "Link the school")
        assert "Support link added" in page.inner_text(".banner")
        page.locator("textarea[name='activity']").first.fill(
            "Joint book look with their English lead"
        )
        press(page, "Log the activity")
        assert "Activity logged" in page.inner_text(".banner")
        checked(page, "support with an activity")
    with person(chromium, demo, pl) as page:
        page.goto(cycle_url)
        press(page, "Begin the follow-up")
        assert "Done: Begin the follow-up" in page.inner_text(".banner")

    # Follow-up: the head records the action met; head and partnership lead sign off; closed.
    with person(chromium, demo, head) as page:
        page.goto(f"{cycle_url}/actions")
        page.locator("table a").first.click()
        page.check("#status-met")
        press(page, "Save the progress")
        assert "Green" in page.inner_text("main")
        checked(page, "the action plan, followed up")
        page.goto(cycle_url)
        press(page, "Sign off as host headteacher")
    with person(chromium, demo, pl) as page:
        page.goto(cycle_url)
        press(page, "Sign off as partnership lead")
        press(page, "Close the cycle")
        assert "Done: Close the cycle" in page.inner_text(".banner")
        assert "Closed" in page.inner_text(".summary")
        checked(page, "the closed cycle")
        history = page.inner_text(".history")
        for words in ("started the cycle", "Submit the self-review", "Agree the action plan",
                      "Close the cycle"):  # fmt: skip
            assert words in history, words
        # Readable on a phone: nothing reaches past the screen's edge.
        page.set_viewport_size({"width": 375, "height": 812})
        page.reload()
        past = page.evaluate(
            "[...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > innerWidth + 0.5).length"
        )
        assert past == 0
