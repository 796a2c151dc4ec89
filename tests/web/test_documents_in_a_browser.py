"""Documents in a real browser (Debian's Chromium): the host's head downloads the review report
as a PDF from its page, and the self-review and the action plan print without what is only done
on screen, keeping the chosen focus.

Nothing is moved or recorded on the demo's cycles (other browser tests share the demo server).
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import pypdf
import pytest

from tests.web.conftest import Demo, assert_accessible
from tests.web.test_pages_in_a_browser import sign_in_with_the_keyboard

pytestmark = pytest.mark.browser

REVIEWED = "cyc-138304"  # Northbank Academy, at its peer review
HOST_HEAD = "reviewer"  # the demo's reviewer is Northbank Academy's head, the host here
SELF_REVIEW = "cyc-131201"  # Alder Grove Primary School, its self-review waiting on its head


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)


def test_the_host_head_downloads_the_report_as_a_pdf(page: Any, demo: Demo) -> None:
    sign_in_with_the_keyboard(page, demo, HOST_HEAD)
    page.goto(f"{demo.base}/app/cycles/{REVIEWED}/report")
    assert_accessible(page, "the report with its PDF link")
    with page.expect_download() as downloading:
        page.click("a:has-text('Download as PDF')")
    download = downloading.value
    name = download.suggested_filename
    assert name.startswith("Northbank Academy peer review report ") and name.endswith(".pdf")
    with open(download.path(), "rb") as f:
        pdf = f.read()
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "Peer review report" in text and "Northbank Academy" in text
    assert f"Produced for {demo.people[HOST_HEAD][0]} by Peerloop on" in text
    assert f"cycle {REVIEWED}" in text and "Page 1 of" in text

    page.emulate_media(media="print")
    assert not page.locator("a:has-text('Download as PDF')").is_visible()
    page.emulate_media(media="screen")


def test_the_self_review_and_the_action_plan_print_what_they_hold(page: Any, demo: Demo) -> None:
    sign_in_with_the_keyboard(page, demo, "school_lead")
    page.goto(f"{demo.base}/app/cycles/{SELF_REVIEW}/self-review")
    assert page.locator("a:has-text('Download as PDF')").is_visible()
    page.emulate_media(media="print")
    assert page.locator("h1").is_visible() and page.locator(".task-list").first.is_visible()
    # The chosen focus is kept (it lives in a form); the moves and buttons are not printed.
    assert page.locator("#focus").is_visible()
    assert not page.locator("button:has-text('Save the focus')").is_visible()
    assert not page.locator("h2:has-text('When every question is complete')").is_visible()
    for hidden in (".masthead", ".breadcrumbs", "footer", "a:has-text('Download as PDF')"):
        assert not page.locator(hidden).first.is_visible(), hidden
    page.emulate_media(media="screen")

    headers = {"Authorization": f"Bearer {demo.token('review_lead')}"}
    with httpx.Client(base_url=demo.base, headers=headers, timeout=30) as lead:
        found = lead.get("/cycles", params={"stage": "follow_up", "template": "cqa"}).json()
    cycle_id = found[0]["id"]
    page.context.clear_cookies()
    sign_in_with_the_keyboard(page, demo, "review_lead")
    page.goto(f"{demo.base}/app/cycles/{cycle_id}/actions")
    page.emulate_media(media="print")
    table = page.locator(".plan-table")
    assert table.is_visible()
    # Printed whole: the table is no wider than the page it is printed on.
    assert page.evaluate(
        "document.querySelector('.plan-table').scrollWidth"
        " <= document.querySelector('main').clientWidth"
    )
    for hidden in ("#add-heading", ".findings-aside", "form", "a:has-text('Download as PDF')"):
        assert not page.locator(hidden).first.is_visible(), hidden
    page.emulate_media(media="screen")
